#![no_main]
guestkit::tool!(ctr::exec);
