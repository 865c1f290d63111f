use super::names_arg;
use crate::cli::spec::{Command, JOBS, Prints};
use crate::error::{Result, exit_code_for};
use crate::output::{Column, col};
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "ctr-state",
    about: "show containers in detail",
    description: "Prints one detailed record per named container: the fields ctr-list prints, plus the hostname, the command it runs, memory use and limit, CPU limit and time, and where its log is.",
    args: &[names_arg("Containers to show", None)],
    trailing: None,
    flags: &[JOBS],
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

pub fn run(ctx: &Ctx) -> Result<u8> {
    let targets = ctx.targets()?;
    let mut kinds = Vec::new();
    let mut records = ctx.out.stream(COLUMNS);
    crate::jobs::run_ordered(
        targets,
        ctx.jobs()?,
        |t| ctx.locate(t)?.state(&t.name, &ctx.out),
        |t, r| match r {
            Ok(s) => records.push(s),
            Err(e) => {
                ctx.out.error(Some(&t.name), &e);
                kinds.push(e.kind);
            }
        },
    );
    records.finish();
    Ok(exit_code_for(&kinds))
}
