//! vm-delete: destroys VMs and their disks.

use super::{act, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, NO_WAIT, Prints, VM_BACKEND, switch};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::pve::vm;
use crate::run::Ctx;

/// vm-delete's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-delete",
    kind: GuestKind::Vm,
    about: "delete virtual machines",
    description: "Destroys each VM and its disks, and follows the destroy task. A running VM is refused (exit 4) unless --force, which stops it hard first. --purge also removes the VM from backup jobs, replication and HA, and destroys disks that are not referenced in its config.",
    args: &[names_arg(
        "VMs to delete, by name or VMID",
        Some(Status::Stopped),
    )],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-delete old-web", "Delete a stopped VM."),
        (
            "vm-delete --force --purge 105",
            "Stop VM 105 if it runs, then delete it everywhere.",
        ),
        (
            "vm-list --tag ephemeral --status stopped | vm-delete --jobs 4",
            "Delete stopped ephemeral VMs.",
        ),
        (
            "vm-delete a b | jq -c 'select(.ok | not)'",
            "Show what could not be deleted.",
        ),
        (
            "vm-list | from json --objects | where name =~ '^ci-' | get vmid | to text | vm-delete --force",
            "Delete the ci- VMs from nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Destroys,
};

crate::flags! {
    /// vm-delete's flags.
    pub struct Args {
        purge: bool = switch(
            "purge",
            None,
            "Also remove the VM from backup jobs, replication and HA, and destroy unreferenced disks",
        ),
        force: bool = switch("force", Some('f'), "Stop a running VM hard first"),
        jobs: Jobs = JOBS,
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Destroys each target VM with its disks (stopping a running one hard with
/// --force, refusing it otherwise), after asking on a terminal when there
/// are several, and follows each task unless --no-wait. The exit code says
/// whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    act(ctx, "delete", args.jobs, true, |c, v| {
        vm::delete(c, v, args.purge, args.force, args.no_wait)
    })
}
