//! The operating system, as the backends use it: running programs, signals,
//! and the few system calls std has no wrapper for.

pub mod file;
pub mod process;
pub mod signals;
pub mod sys;
pub mod tls;
pub mod tree;
