//! The command line: specs, the parser and help, all from one definition.

pub mod help;
pub mod parse;
pub mod spec;
