//! The Proxmox VE simulator (test support): schema validation and the
//! HTTPS server built on it. Included by tests and the benchmark with #[path].

pub mod schema;
pub mod server;
