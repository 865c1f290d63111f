#![no_main]
guestkit::tool!(ctr::create);
