#![no_main]
guestkit::tool!(ctr::kill);
