//! guestkit: small Unix-style tools that manage Linux containers and virtual
//! machines, sharing this library.
//!
//! The library is in layers, each importing only from those below it
//! (docs/design.md has the picture; `cargo test --test layers` checks it):
//!
//! - [`cmd`]: the tools, one module each, grouped by the kind of guest.
//! - [`run`]: the shell every tool runs in, and the one action path.
//! - [`cli`]: each tool's flags declared once, parsed, and rendered as
//!   `--help`, man pages and shell completions.
//! - [`backend`] (LXC, crun, runc) and [`pve`] (the Proxmox VE API client).
//! - [`output`] and [`jobs`]: where results go, and `--jobs`.
//! - [`config`]: the file, the environment and secrets.
//! - [`guest`]: the vocabulary (kinds of guest, backends, statuses, records,
//!   names, targets).
//! - [`os`] and [`error`].
//!
//! Read [`run`] first, then one tool (`cmd::ctr::start`), then [`guest`].

#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(missing_docs)]

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
pub mod registry;
pub mod run;
