#![no_main]
guestkit::tool!(vm::start);
