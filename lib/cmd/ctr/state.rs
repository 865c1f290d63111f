//! ctr-state: prints one detailed record per container.

use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, Prints};
use crate::error::Result;
use crate::guest::GuestKind;
use crate::output::{Column, col};
use crate::run::Ctx;

/// ctr-state's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-state",
    kind: GuestKind::Container,
    about: "show containers in detail",
    description: "Prints one detailed record per named container: the fields ctr-list prints, plus the hostname, the command it runs, memory use and limit, CPU limit and time, and where its log is.",
    args: &[names_arg("Containers to show", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-state web", "Show one container."),
        (
            "ctr-state web | jq .memory_bytes",
            "How much memory it uses, in bytes.",
        ),
        (
            "ctr-state web db | from json --objects | select name memory_bytes cpus",
            "Memory and CPU of two containers, in nushell.",
        ),
    ],
    prints: Prints::ContainerStates,
    effect: Effect::Reads,
};

const COLUMNS: &[Column] = &[
    col("NAME", "name"),
    col("BACKEND", "backend"),
    col("STATUS", "status"),
    col("PID", "pid"),
    col("IPV4", "ipv4"),
    col("MEMORY", "memory_bytes"),
    col("LIMIT", "memory_limit_bytes"),
    col("CPUS", "cpus"),
    col("IMAGE", "image"),
];

crate::flags! {
    /// ctr-state's flags.
    pub struct Args {
        jobs: Jobs = JOBS,
    }
}

/// Prints each target's detailed record; one that cannot be read is
/// reported on stderr, and the exit code says so.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    ctx.each(&Containers(ctx), targets, args.jobs, COLUMNS, |c| {
        c.backend.state(&c.name, &ctx.out)
    })
}
