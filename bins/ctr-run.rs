#![no_main]
guestkit::tool!(ctr::run);
