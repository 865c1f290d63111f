//! guestkit's Proxmox VE simulator (test support, not product): the
//! official API schema and request validation against it (`schema`), and
//! an HTTPS server that behaves as a cluster of nodes (`server`: transport
//! and the tests' handle on it; `api` and `qemu`: the endpoints; `cluster`:
//! the state and its clock). The tests, the benchmark (examples/pve-sim.rs)
//! and tests/sim.rs use it as a dev-dependency.

mod agent;
mod api;
mod cluster;
mod config;
mod lxc;
mod migrate;
mod qemu;
pub mod schema;
pub mod server;
mod snapshot;
mod typing;
