#![no_main]
guestkit::tool!(guestkit::setup);
