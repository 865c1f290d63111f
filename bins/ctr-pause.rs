#![no_main]
guestkit::tool!(ctr::pause);
