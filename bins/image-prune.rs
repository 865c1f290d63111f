#![no_main]
guestkit::tool!(image::prune);
