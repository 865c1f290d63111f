#![no_main]
guestkit::tool!(vm::delete);
