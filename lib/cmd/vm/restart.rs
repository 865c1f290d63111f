use super::names_arg;
use crate::cli::spec::{Command, JOBS, NO_WAIT, Prints, VM_BACKEND};
use crate::cmd::vm as tool;
use crate::error::Result;
use crate::pve::vm;
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "vm-restart",
    about: "restart virtual machines",
    description: "Reboots each running VM through its guest (ACPI or agent) and follows the reboot task; a stopped VM is started instead (a paused one resumed), as systemctl restart does.",
    args: &[names_arg("VMs to restart, by name or VMID", None)],
    trailing: None,
    flags: &[JOBS, NO_WAIT, VM_BACKEND],
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
};

pub fn run(ctx: &Ctx) -> Result<u8> {
    let targets = tool::targets(ctx)?;
    let c = tool::connect(ctx)?;
    let no_wait = ctx.m.flag("no-wait");
    tool::act(ctx, &c, "restart", targets, |v| vm::restart(&c, v, no_wait))
}
