//! The command line: specs, the parser and help, all from one definition.

pub mod args;
pub mod complete;
pub mod help;
pub mod man;
pub mod parse;
pub mod prompt;
pub mod spec;
