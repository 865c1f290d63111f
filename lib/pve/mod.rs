//! Proxmox VE: the REST API client and the VM operations the vm-* tools use.
//! See docs/proxmox.md for the decisions behind it.

pub mod client;
pub mod config;
pub mod lenient;
pub mod node;
pub mod settings;
pub mod task;
pub mod tls;
pub mod vm;
