#![no_main]
guestkit::tool!(vm::create);
