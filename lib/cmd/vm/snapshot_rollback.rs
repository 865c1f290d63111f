//! vm-snapshot-rollback: rolls a VM back to a snapshot.

use super::{act_on_one, vm_arg, word_arg};
use crate::cli::spec::{Command, Effect, NO_WAIT, Prints, VM_BACKEND, switch};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind};
use crate::pve::snapshot;
use crate::run::Ctx;

/// vm-snapshot-rollback's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-snapshot-rollback",
    kind: GuestKind::Vm,
    about: "roll a virtual machine back to a snapshot",
    description: "Brings the VM's disks and configuration back to SNAPSHOT, discarding what changed since, and follows the rollback task. A snapshot taken with --ram brings the VM back running as it was; otherwise the VM is stopped afterwards, unless --start. The result's status is the VM's afterwards. A snapshot that does not exist is not found (exit 3).",
    args: &[
        vm_arg("The VM, by name or VMID"),
        word_arg("SNAPSHOT", "The snapshot to go back to"),
    ],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "vm-snapshot-rollback web before-upgrade --start",
            "Undo an upgrade, and start web again.",
        ),
        (
            "vm-snapshot-list web | jq -r 'select(.current) | .snapshot'",
            "The snapshot web is at.",
        ),
        (
            "vm-snapshot-rollback web before-upgrade | from json | get status",
            "Its status afterwards, in nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-snapshot-rollback's flags.
    pub struct Args {
        start: bool = switch("start", None, "Start the VM after the rollback"),
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Rolls the VM back to the named snapshot (starting it after, with
/// --start), follows the task unless --no-wait, and prints one result
/// record.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let name = ctx.positionals[1].clone();
    snapshot::check_name(&name)?;
    act_on_one(ctx, "rollback", |c, v| {
        snapshot::rollback(c, v, &name, a.start, a.no_wait)
    })
}
