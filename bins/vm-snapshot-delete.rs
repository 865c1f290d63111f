#![no_main]
guestkit::tool!(vm::snapshot_delete);
