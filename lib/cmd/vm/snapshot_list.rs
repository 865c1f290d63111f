//! vm-snapshot-list: lists the snapshots of VMs.

use super::{Vms, connect, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, Prints, VM_BACKEND};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind};
use crate::output::{Column, col};
use crate::pve::snapshot;
use crate::run::Ctx;

/// vm-snapshot-list's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-snapshot-list",
    kind: GuestKind::Vm,
    about: "list the snapshots of virtual machines",
    description: "Prints one record per snapshot of each VM, oldest first: its name, the snapshot it was taken on top of, when, whether it holds the RAM state, its description, and whether the VM is at it (current). A VM without snapshots prints nothing.",
    args: &[names_arg("VMs, by name or VMID", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-snapshot-list web", "web's snapshots."),
        (
            "vm-list --tag prod | vm-snapshot-list | jq -r '[.name, .snapshot, .time] | @tsv'",
            "Every snapshot of the prod VMs.",
        ),
        (
            "vm-snapshot-list web | from json --objects | where vmstate",
            "Those with RAM state, in nushell.",
        ),
    ],
    prints: Prints::Snapshots,
    effect: Effect::Reads,
};

crate::flags! {
    /// vm-snapshot-list's flags.
    pub struct Args {
        jobs: Jobs = JOBS,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

const COLUMNS: &[Column] = &[
    col("VMID", "vmid"),
    col("NAME", "name"),
    col("SNAPSHOT", "snapshot"),
    col("PARENT", "parent"),
    col("TIME", "time"),
    col("RAM", "vmstate"),
    col("CURRENT", "current"),
    col("DESCRIPTION", "description"),
];

/// Prints one record per snapshot of each target VM; a VM that cannot be
/// read is reported on stderr, and the exit code says so.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    let c = connect(ctx)?;
    let vms = Vms::list(&c)?;
    ctx.each_many(&vms, targets, a.jobs, COLUMNS, |v| snapshot::list(&c, v))
}
