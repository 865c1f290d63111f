#![no_main]
guestkit::tool!(ctr::stop);
