//! Proxmox VE: the REST API client and the VM operations the vm-* tools use.
//! See docs/proxmox.md for the decisions behind it.

pub mod access;
pub mod agent;
pub mod client;
pub mod cloudinit;
pub mod config;
pub mod ct;
pub mod disk;
pub mod lenient;
pub mod migrate;
pub mod node;
pub mod settings;
pub mod snapshot;
pub mod task;
pub mod tls;
pub mod vm;
