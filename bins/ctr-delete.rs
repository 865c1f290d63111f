#![no_main]
guestkit::tool!(ctr::delete);
