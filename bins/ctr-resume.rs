#![no_main]
guestkit::tool!(ctr::resume);
