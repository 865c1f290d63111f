#![no_main]
guestkit::tool!(vm::state);
