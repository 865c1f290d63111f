//! guestkit: small Unix-style tools that manage Linux containers and virtual
//! machines, sharing this library. See DESIGN.md and guestkit(7).

pub mod backend;
pub mod cgroup;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod image;
pub mod jobs;
pub mod names;
pub mod output;
pub mod overlay;
pub mod owned;
pub mod process;
pub mod pve;
pub mod record;
pub mod rootfs;
pub mod run;
#[cfg(test)]
mod scratch;
pub mod signals;
pub mod spare;
pub mod sys;
pub mod targets;
pub mod trash;
pub mod units;
