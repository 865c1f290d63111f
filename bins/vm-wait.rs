#![no_main]
guestkit::tool!(vm::wait);
