#![no_main]
guestkit::tool!(vm::list);
