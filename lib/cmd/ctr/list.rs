//! ctr-list: lists the containers of every installed backend, or of one.

use crate::backend;
use crate::cli::spec::{
    Command, Complete, Effect, OUTPUT_WITH_NAMES, Prints, option, status_filter,
};
use crate::error::{Kind, Result};
use crate::guest::record::Container;
use crate::guest::{GuestKind, Status};
use crate::output::{Column, Format, col};
use crate::run::Ctx;

/// ctr-list's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-list",
    kind: GuestKind::Container,
    about: "list containers",
    description: "Lists the containers of every installed backend (or of the one named with --backend), one JSON object per line when stdout is not a terminal, an aligned table when it is. Each backend is asked once, for all its containers; backends are asked at the same time.\n\nA backend whose tools are not installed is skipped, unless it is named with --backend, which then fails with exit code 5.",
    args: &[],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("ctr-list", "Show every container in a table."),
        (
            "ctr-list --status running -o name",
            "Print the names of running containers.",
        ),
        (
            "ctr-list | jq -r 'select(.status == \"stopped\") | .name'",
            "Pick stopped containers with jq.",
        ),
        (
            "ctr-list | from json --objects | where status == running",
            "The same records in nushell.",
        ),
        (
            "ctr-list --status stopped | ctr-start",
            "Start every stopped container.",
        ),
        (
            "ctr-list --name 'web-*' -o name",
            "The web containers, by name.",
        ),
    ],
    prints: Prints::Containers,
    effect: Effect::Reads,
};

crate::flags! {
    /// ctr-list's flags.
    pub struct Args {
        status: Option<Status> = status_filter("Only containers in this status"),
        name: Option<String> = option(
            "name",
            None,
            "GLOB",
            "Only containers whose name matches this pattern (* and ?)",
            Complete::Nothing,
        ),
        /// Read by the shell (`Common`) as for every tool; ctr-list's also
        /// prints names alone.
        output: Option<Format> = OUTPUT_WITH_NAMES,
    }
}

/// The table's columns, each with the record's field it shows.
pub const COLUMNS: &[Column] = &[
    col("NAME", "name"),
    col("BACKEND", "backend"),
    col("STATUS", "status"),
    col("PID", "pid"),
    col("IPV4", "ipv4"),
    col("IMAGE", "image"),
    col("CREATED", "created"),
];

/// Every container of the backends asked for, sorted by name, and the kind
/// of the worst error of a backend that did not answer (reported here).
pub fn gather(ctx: &Ctx) -> Result<(Vec<Container>, Option<Kind>)> {
    let backends = backend::listers(&ctx.cfg, ctx.backend_flag())?;
    // Every backend's list command is started before any is waited for: the
    // list takes as long as the slowest backend, not the sum. (No threads:
    // three thread starts cost 0.8 ms of a 9 ms list of 50 containers.)
    let started: Vec<_> = backends.iter().map(|b| b.list_start(&ctx.out)).collect();
    let mut all = Vec::new();
    let mut failed = None;
    for (b, listing) in backends.iter().zip(started) {
        match listing.and_then(|finish| finish()) {
            Ok(list) => all.extend(list),
            Err(e) => {
                ctx.out.error(Some(b.kind().as_str()), &e);
                failed = Some(e.kind);
            }
        }
    }
    all.sort_by(|a, b| (&a.name, a.backend.as_str()).cmp(&(&b.name, b.backend.as_str())));
    Ok((all, failed))
}

/// Prints the containers that pass --status and --name, sorted by name; the
/// exit code is that of the worst error of a backend that did not answer,
/// else 0.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let (mut all, failed) = gather(ctx)?;
    if let Some(s) = args.status {
        all.retain(|c| c.status == s);
    }
    if let Some(g) = &args.name {
        all.retain(|c| crate::guest::names::glob_match(g, &c.name));
    }
    ctx.out.trace(&format!("{} containers listed", all.len()));
    ctx.out.records(&all, COLUMNS);
    Ok(failed.map_or(0, |k| k.exit_code()))
}
