#![no_main]
guestkit::tool!(vm::restart);
