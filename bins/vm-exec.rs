#![no_main]
guestkit::tool!(vm::exec);
