//! The tools about guestkit itself rather than a guest: guestkit-setup
//! and guestkit-doctor.

pub mod doctor;
pub mod setup;

use crate::error::Result;
use crate::guest::Status;
use crate::run::{Choice, Ctx};

/// These tools act on no guest: their picker has nothing to offer.
pub fn choices(_: &Ctx, _: Option<Status>) -> Result<Vec<Choice>> {
    Ok(Vec::new())
}
