//! One module per tool, grouped by the kind of guest it acts on: its spec
//! and its `run`. `ALL` lists every tool, so generators (help, man pages,
//! completions) can walk them.

pub mod ctr;
pub mod vm;

use crate::cli::spec::Command;

pub const ALL: &[&Command] = &[
    &ctr::list::SPEC,
    &ctr::create::SPEC,
    &ctr::start::SPEC,
    &ctr::stop::SPEC,
    &ctr::delete::SPEC,
    &ctr::kill::SPEC,
    &ctr::state::SPEC,
    &ctr::exec::SPEC,
    &ctr::run::SPEC,
    &ctr::logs::SPEC,
    &vm::list::SPEC,
    &vm::create::SPEC,
    &vm::clone::SPEC,
    &vm::start::SPEC,
    &vm::stop::SPEC,
    &vm::restart::SPEC,
    &vm::delete::SPEC,
    &vm::state::SPEC,
    &vm::wait::SPEC,
];
