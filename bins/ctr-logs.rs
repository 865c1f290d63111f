#![no_main]
guestkit::tool!(ctr::logs);
