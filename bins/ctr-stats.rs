#![no_main]
guestkit::tool!(ctr::stats);
