use super::names_arg;
use crate::cli::spec::{Command, JOBS, NO_WAIT, Prints, VM_BACKEND, switch};
use crate::cmd::vm as tool;
use crate::error::Result;
use crate::pve::vm;
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "vm-delete",
    about: "delete virtual machines",
    description: "Destroys each VM and its disks, and follows the destroy task. A running VM is refused (exit 4) unless --force, which stops it hard first. --purge also removes the VM from backup jobs, replication and HA, and destroys disks that are not referenced in its config.",
    args: &[names_arg("VMs to delete, by name or VMID", Some("stopped"))],
    trailing: None,
    flags: &[
        switch(
            "purge",
            None,
            "Also remove the VM from backup jobs, replication and HA, and destroy unreferenced disks",
        ),
        switch("force", Some('f'), "Stop a running VM hard first"),
        JOBS,
        NO_WAIT,
        VM_BACKEND,
    ],
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
};

pub fn run(ctx: &Ctx) -> Result<u8> {
    let targets = tool::targets(ctx)?;
    let c = tool::connect(ctx)?;
    let (purge, force, no_wait) = (
        ctx.m.flag("purge"),
        ctx.m.flag("force"),
        ctx.m.flag("no-wait"),
    );
    tool::act(ctx, &c, "delete", targets, |v| {
        vm::delete(&c, v, purge, force, no_wait)
    })
}
