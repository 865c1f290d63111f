#![no_main]
guestkit::tool!(ctr::wait);
