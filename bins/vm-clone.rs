#![no_main]
guestkit::tool!(vm::clone);
