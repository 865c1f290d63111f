//! vm-snapshot-delete: deletes a snapshot of a VM.

use super::{act_on_one, vm_arg, word_arg};
use crate::cli::spec::{Command, Effect, NO_WAIT, Prints, VM_BACKEND, switch};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind};
use crate::pve::snapshot;
use crate::run::Ctx;

/// vm-snapshot-delete's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-snapshot-delete",
    kind: GuestKind::Vm,
    about: "delete a snapshot of a virtual machine",
    description: "Deletes SNAPSHOT of the VM (its disk snapshots and its saved state), and follows the task; the snapshots taken on top of it keep theirs. With --force the snapshot leaves the configuration even when removing a disk snapshot fails. A snapshot that does not exist is not found (exit 3).",
    args: &[
        vm_arg("The VM, by name or VMID"),
        word_arg("SNAPSHOT", "The snapshot to delete"),
    ],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("vm-snapshot-delete web before-upgrade", "Done with it."),
        (
            "vm-snapshot-list web | jq -r 'select(.time < \"2026-01-01\") | .snapshot' | xargs -n1 vm-snapshot-delete web",
            "Delete web's snapshots from before 2026.",
        ),
        (
            "vm-snapshot-list web | from json --objects | where not current | each { |s| vm-snapshot-delete web $s.snapshot }",
            "Every snapshot web is not at, from nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-snapshot-delete's flags.
    pub struct Args {
        force: bool = switch(
            "force",
            None,
            "Remove it from the configuration even if a disk snapshot cannot be removed"
        ),
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Deletes the VM's named snapshot, follows the task unless --no-wait, and
/// prints one result record.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let name = ctx.positionals[1].clone();
    snapshot::check_name(&name)?;
    act_on_one(ctx, "snapshot-delete", |c, v| {
        snapshot::delete(c, v, &name, a.force, a.no_wait)
    })
}
