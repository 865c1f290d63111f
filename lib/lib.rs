//! guestkit: small Unix-style tools that manage Linux containers and virtual
//! machines, sharing this library. docs/design.md describes its layers.

pub mod backend;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod guest;
pub mod jobs;
pub mod os;
pub mod output;
pub mod pve;
pub mod run;
