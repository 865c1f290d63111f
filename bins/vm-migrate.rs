#![no_main]
guestkit::tool!(vm::migrate);
