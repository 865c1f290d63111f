#![no_main]
guestkit::tool!(vm::config);
