//! vm-restart: reboots VMs.

use super::{act, names_arg};
use crate::cli::spec::{Command, Effect, Prints};
use crate::error::Result;
use crate::guest::GuestKind;
use crate::pve::vm;
use crate::run::Ctx;

/// vm-restart's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-restart",
    kind: GuestKind::Vm,
    about: "restart virtual machines",
    description: "Reboots each running VM through its guest (ACPI or agent) and follows the reboot task; a stopped VM is started instead (a paused one resumed), as systemctl restart does.",
    args: &[names_arg("VMs to restart, by name or VMID", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-restart web", "Reboot web."),
        (
            "vm-list --tag web | vm-restart --jobs 2",
            "Reboot the web VMs, two at a time.",
        ),
        (
            "vm-restart web db | jq -r 'select(.ok | not) | .name'",
            "Names that failed to restart.",
        ),
        (
            "vm-list | from json --objects | where name =~ '^app' | get vmid | to text | vm-restart",
            "Restart the app VMs from nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

/// The flags of every tool that starts a task on each VM.
pub use super::TaskFlags as Args;

/// Reboots each running target through its guest (starting a stopped one,
/// resuming a paused one) and follows each task unless --no-wait. The exit
/// code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    act(ctx, "restart", args.jobs, false, |c, v| {
        vm::restart(c, v, args.no_wait)
    })
}
