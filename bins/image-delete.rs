#![no_main]
guestkit::tool!(image::delete);
