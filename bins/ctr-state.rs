#![no_main]
guestkit::tool!(ctr::state);
