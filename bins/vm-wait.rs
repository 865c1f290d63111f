#![no_main]
guestkit::tool!(vm_wait);
