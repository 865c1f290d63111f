#![no_main]
guestkit::tool!(image::list);
