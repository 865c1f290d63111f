#![no_main]
guestkit::tool!(ctr::start);
