#![no_main]
guestkit::tool!(vm::resize);
