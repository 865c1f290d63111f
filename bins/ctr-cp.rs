#![no_main]
guestkit::tool!(ctr::cp);
