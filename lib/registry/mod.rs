//! Container image registries: references, and the client of their
//! protocol. It knows no command and no backend; backend/pull.rs keeps what
//! it fetches.

pub mod client;
pub mod reference;
