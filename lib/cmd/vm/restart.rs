use super::{Vms, connect, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, JOBS, NO_WAIT, Prints, VM_BACKEND};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind};
use crate::pve::vm;
use crate::run::Ctx;

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
};

crate::flags! {
    pub struct Args {
        jobs: Jobs = JOBS,
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    let c = connect(ctx)?;
    let vms = Vms::list(&c)?;
    ctx.act(&vms, "restart", targets, args.jobs, |v| {
        Ok(vm::restart(&c, v, args.no_wait)?)
    })
}
