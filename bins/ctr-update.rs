#![no_main]
guestkit::tool!(ctr::update);
