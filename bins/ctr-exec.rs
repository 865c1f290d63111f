#![no_main]
guestkit::tool!(ctr_exec);
