//! guestkit: small Unix-style tools that manage Linux containers and virtual
//! machines, sharing this library. See DESIGN.md and guestkit(7).

pub mod backend;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod image;
pub mod jobs;
pub mod names;
pub mod output;
pub mod process;
pub mod record;
pub mod run;
pub mod targets;
pub mod units;
