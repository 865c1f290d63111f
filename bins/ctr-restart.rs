#![no_main]
guestkit::tool!(ctr::restart);
