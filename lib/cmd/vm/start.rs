//! vm-start: starts VMs, wherever they are in the cluster.

use super::{act, names_arg};
use crate::cli::spec::{Command, Effect, Prints};
use crate::error::Result;
use crate::guest::{GuestKind, Status};
use crate::pve::vm;
use crate::run::Ctx;

/// vm-start's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-start",
    kind: GuestKind::Vm,
    about: "start virtual machines",
    description: "Starts each VM, wherever it is in the cluster, and follows the start task to its end, then prints one result per VM. A VM that is already running is left alone and reported with \"changed\":false; a paused or suspended one is resumed. A template cannot start. For a VM managed by HA, whose start task ends before the guest runs, vm-start waits until it runs. A VM locked by another task is retried for up to proxmox.lock_wait seconds (default 10), then reported as a conflict.\n\nWhen the answer to the start request is lost (a dropped connection, 596), the request is not sent again: vm-start reads the VM's state and reports what it finds.",
    args: &[names_arg(
        "VMs to start, by name or VMID",
        Some(Status::Stopped),
    )],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-start web 101", "Start two VMs, by name and by VMID."),
        (
            "vm-list --status stopped --tag ci | vm-start --jobs 10",
            "Start every stopped ci VM, ten at a time.",
        ),
        (
            "vm-start web | jq -r 'select(.ok | not) | .error.message'",
            "Print why a start failed.",
        ),
        (
            "vm-list | from json --objects | where node == pve2 | each { to json -r } | to text | vm-start",
            "Start the VMs of node pve2 from nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

/// The flags of every tool that starts a task on each VM.
pub use super::TaskFlags as Args;

/// Starts (or resumes) each target VM and follows each task unless
/// --no-wait; one already running is unchanged. The exit code says whether
/// any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    act(ctx, "start", args.jobs, false, |c, v| {
        vm::start(c, v, args.no_wait)
    })
}
