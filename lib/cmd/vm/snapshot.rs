//! vm-snapshot: takes a snapshot of a VM.

use super::{act_on_one, vm_arg, word_arg};
use crate::cli::spec::{Command, Complete, Effect, NO_WAIT, Prints, VM_BACKEND, option, switch};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind};
use crate::pve::snapshot;
use crate::run::Ctx;

/// vm-snapshot's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-snapshot",
    kind: GuestKind::Vm,
    about: "take a snapshot of a virtual machine",
    description: "Takes a snapshot called SNAPSHOT of the VM's disks and configuration, and follows the snapshot task. With --ram the running VM's memory is saved too, so that a rollback brings it back running as it was. vm-snapshot-list lists a VM's snapshots, vm-snapshot-rollback goes back to one, vm-snapshot-delete removes one. A name already used is a conflict (exit 4).",
    args: &[
        vm_arg("The VM, by name or VMID"),
        word_arg(
            "SNAPSHOT",
            "The snapshot's name: a letter, then letters, digits, - and _",
        ),
    ],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "vm-snapshot web before-upgrade --description 'before apt full-upgrade'",
            "A snapshot to go back to.",
        ),
        ("vm-snapshot db hot --ram", "With the running VM's memory."),
        (
            "vm-snapshot web nightly-$(date +%F) -q || echo failed",
            "From cron: only errors are printed.",
        ),
        (
            "vm-list --tag prod -o name | xargs -I{} vm-snapshot {} nightly",
            "A snapshot of every prod VM.",
        ),
        (
            "vm-snapshot web before | jq -e .ok",
            "Fail a script unless it was taken.",
        ),
        (
            "vm-snapshot web before | from json | get changed",
            "The same check in nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-snapshot's flags.
    pub struct Args {
        ram: bool = switch("ram", None, "Save the running VM's memory too"),
        description: Option<String> = option(
            "description",
            None,
            "TEXT",
            "A description, shown in the web UI",
            Complete::Nothing,
        ),
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Takes the named snapshot of the VM (with its memory, with --ram), follows
/// the task unless --no-wait, and prints one result record.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let name = ctx.positionals[1].clone();
    snapshot::check_name(&name)?;
    act_on_one(ctx, "snapshot", |c, v| {
        snapshot::create(c, v, &name, a.ram, a.description.as_deref(), a.no_wait)
    })
}
