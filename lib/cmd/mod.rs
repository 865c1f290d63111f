//! One module per tool, grouped by the kind of guest it acts on: its spec
//! and its `run`. `ALL` lists every tool, so generators (help, man pages,
//! completions) can walk them.

pub mod ctr;
pub mod guestkit;
pub mod image;
pub mod vm;

use crate::cli::spec::Command;

/// A tool binary's entry point: `guestkit::tool!(ctr::list);` in a
/// `#![no_main]` file defines the C `main` that runs `cmd::ctr::list`
/// in `run::main`, the shell every tool runs in.
///
/// Why not Rust's `fn main`: std's start-up reads /proc/self/maps to place
/// a guard for the main thread's stack, which here is a tenth of a
/// millisecond of every run (measured in docs/benchmarks.md) for a message
/// on stack overflow, which then is a plain SIGSEGV. The rest of that
/// start-up, which the tools rely on, is done by `run::main`. The arguments
/// are taken from `main`'s own: `std::env::args` without std's start-up
/// works only where glibc hands them to it.
#[macro_export]
macro_rules! tool {
    ($kind:ident :: $cmd:ident) => {
        #[unsafe(no_mangle)]
        extern "C" fn main(
            argc: ::std::ffi::c_int,
            argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            // SAFETY: these are the C runtime's own argc and argv.
            let args = unsafe { $crate::run::c_args(argc, argv) };
            $crate::run::main(
                &$crate::cmd::$kind::$cmd::SPEC,
                $crate::cmd::$kind::$cmd::run,
                $crate::cmd::$kind::choices,
                $crate::cmd::ALL,
                args,
            )
        }
    };
}

/// Every tool, for the generators that walk them all.
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
    &ctr::wait::SPEC,
    &ctr::restart::SPEC,
    &ctr::pause::SPEC,
    &ctr::resume::SPEC,
    &ctr::stats::SPEC,
    &ctr::update::SPEC,
    &ctr::cp::SPEC,
    &vm::list::SPEC,
    &vm::create::SPEC,
    &vm::clone::SPEC,
    &vm::start::SPEC,
    &vm::stop::SPEC,
    &vm::restart::SPEC,
    &vm::delete::SPEC,
    &vm::state::SPEC,
    &vm::wait::SPEC,
    &vm::config::SPEC,
    &vm::resize::SPEC,
    &vm::snapshot::SPEC,
    &vm::snapshot_list::SPEC,
    &vm::snapshot_rollback::SPEC,
    &vm::snapshot_delete::SPEC,
    &vm::migrate::SPEC,
    &vm::exec::SPEC,
    &image::list::SPEC,
    &image::delete::SPEC,
    &image::prune::SPEC,
    &guestkit::setup::SPEC,
    &guestkit::doctor::SPEC,
];
