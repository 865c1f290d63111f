//! vm-migrate: moves VMs to another node of the cluster.

use super::{act, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{
    Command, Complete, Effect, JOBS, NO_WAIT, Prints, VM_BACKEND, option, switch,
};
use crate::error::{Error, Result};
use crate::guest::{BackendKind, GuestKind};
use crate::pve::migrate::{self, How};
use crate::run::Ctx;

/// vm-migrate's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-migrate",
    kind: GuestKind::Vm,
    about: "move virtual machines to another node",
    description: "Moves each VM to node --to, and follows the migration task (its progress on a terminal); the result names the VM on its new node, where its name keeps resolving. A running VM moves live with --online, and is refused without it (exit 4); its local disks move along with --with-local-disks, onto --target-storage when the target node's storages are named differently. A VM already on the target is left alone (\"changed\":false). A migration that fails leaves the VM on its node, and the error says so, with the end of the task's log.",
    args: &[names_arg("VMs to move, by name or VMID", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-migrate web --to pve2", "Move a stopped VM."),
        (
            "vm-migrate db --to pve3 --online --with-local-disks",
            "Move a running VM and its local disks, live.",
        ),
        (
            "vm-list --node pve1 --status running | vm-migrate --to pve2 --online --with-local-disks",
            "Empty pve1 of running VMs before its maintenance.",
        ),
        (
            "vm-migrate web --to pve2 | jq -r .node",
            "Where web is now.",
        ),
        (
            "vm-list | from json --objects | where node == pve1 | get vmid | to text | vm-migrate --to pve2 --online --with-local-disks",
            "Move pve1's VMs from nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-migrate's flags.
    pub struct Args {
        to: Option<String> = option(
            "to",
            None,
            "NODE",
            "The node to move to (required)",
            Complete::Nothing,
        ),
        online: bool = switch("online", None, "Move a running VM live"),
        with_local_disks: bool = switch(
            "with-local-disks",
            None,
            "Copy local disks along (live storage migration)"
        ),
        target_storage: Option<String> = option(
            "target-storage",
            None,
            "STORAGE",
            "The storage for the disks on the target node",
            Complete::Nothing,
        ),
        jobs: Jobs = JOBS,
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Moves each target VM to the node --to names and follows each task unless
/// --no-wait; one already there is unchanged. The exit code says whether
/// any failed, and how.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let Some(to) = a.to.clone() else {
        return Err(Error::usage("--to NODE is required"));
    };
    let how = How {
        to: &to,
        online: a.online,
        with_local_disks: a.with_local_disks,
        target_storage: a.target_storage.as_deref(),
        no_wait: a.no_wait,
    };
    act(ctx, "migrate", a.jobs, false, |c, v| {
        migrate::migrate(c, v, &how)
    })
}
