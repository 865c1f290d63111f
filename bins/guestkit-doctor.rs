#![no_main]
guestkit::tool!(guestkit::doctor);
