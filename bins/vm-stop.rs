#![no_main]
guestkit::tool!(vm::stop);
