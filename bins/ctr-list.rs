#![no_main]
guestkit::tool!(ctr::list);
