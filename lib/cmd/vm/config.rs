//! vm-config: shows the configuration of VMs, or changes it.

use super::{Vms, connect, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{
    Command, Complete, Effect, JOBS, NO_WAIT, Prints, VM_BACKEND, option, repeated,
};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind};
use crate::output::{Column, col};
use crate::pve::config;
use crate::run::Ctx;

/// vm-config's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-config",
    kind: GuestKind::Vm,
    about: "show or change the configuration of virtual machines",
    description: "Without changes, prints each VM's configuration as one record: memory and CPUs, disks and network devices as lists, tags, description, boot order, the settings whose change waits for the next start (pending), and the configuration's digest. It is read in one request.\n\nWith --set, --delete or --tag, changes each VM and prints one result per VM. Sizes take guestkit's units: memory=4G (a bare number is MiB, as Proxmox means it); a new disk is scsi1=STORAGE:10G, or scsi1=10G on the node's storage for disk images with the most room. Flags may be yes/no or on/off. Every key and value is checked against the Proxmox VE API schema before anything is sent. Only what differs from the VM's configuration is sent; when nothing does, the result says \"changed\":false.\n\nThe change carries the digest of the configuration it was computed from (or --digest, from an earlier read), so a configuration changed by someone else meanwhile is refused (exit 4) rather than overwritten. A stopped VM is changed at once (PUT); a running one, or a change that makes a disk, goes through a task (POST) that is followed. A running VM takes network devices, disks, name, tags and description at once; other changes (memory, CPUs) wait for its next start, and the result lists them in \"pending\". A VM locked by another task (a backup) is retried for up to proxmox.lock_wait seconds, then reported as a conflict.",
    args: &[names_arg("VMs, by name or VMID", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-config web", "web's configuration."),
        (
            "vm-config web | jq -r '.disks[] | [.device, .size_bytes] | @tsv'",
            "Its disks and their sizes.",
        ),
        (
            "vm-config web --set memory=4G --set cores=4 --delete description --tag +ci",
            "Change it: the result lists what waits for a restart.",
        ),
        (
            "vm-config web --set scsi1=local-lvm:20G",
            "Add a 20 GiB disk.",
        ),
        (
            "d=$(vm-config web | jq -r .digest); ...; vm-config web --digest \"$d\" --set onboot=1",
            "Change it only if nobody has since the read.",
        ),
        (
            "vm-list --tag ci | vm-config --set onboot=0 --jobs 5",
            "Change many VMs.",
        ),
        (
            "vm-config web | from json | get nets | select device bridge vlan",
            "Its network devices as a nushell table.",
        ),
    ],
    prints: Prints::VmConfigs,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-config's flags.
    pub struct Args {
        set: Vec<String> = repeated(
            "set",
            None,
            "KEY=VALUE",
            "Set a setting (repeatable)",
            Complete::Nothing,
        ),
        delete: Vec<String> = repeated(
            "delete",
            None,
            "KEY",
            "Remove a setting (repeatable)",
            Complete::Nothing,
        ),
        tag: Vec<String> = repeated(
            "tag",
            None,
            "TAG",
            "Add (+TAG, or TAG) or remove (-TAG) a tag (repeatable)",
            Complete::Nothing,
        ),
        digest: Option<String> = option(
            "digest",
            None,
            "DIGEST",
            "Refuse the change unless the configuration still has this digest (from an earlier read)",
            Complete::Nothing,
        ),
        jobs: Jobs = JOBS,
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

const COLUMNS: &[Column] = &[
    col("VMID", "vmid"),
    col("NAME", "name"),
    col("NODE", "node"),
    col("MEMORY", "memory_bytes"),
    col("CORES", "cores"),
    col("SOCKETS", "sockets"),
    col("ONBOOT", "onboot"),
    col("AGENT", "agent"),
];

/// Without a change, prints each target's configuration record; with --set,
/// --delete or --tag, makes the change on each and prints one result per
/// VM. The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let mut change = config::parse_change(&a.set, &a.delete, &a.tag)?;
    change.digest = a.digest.clone();
    if change.is_empty() {
        if a.digest.is_some() || a.no_wait {
            return Err(crate::error::Error::usage(
                "--digest and --no-wait go with a change: --set, --delete or --tag",
            ));
        }
        let targets = ctx.targets()?;
        let c = connect(ctx)?;
        let vms = Vms::list(&c)?;
        return ctx.each(&vms, targets, a.jobs, COLUMNS, |v| {
            Ok(config::record(v, &config::read(&c, v)?))
        });
    }
    super::act(ctx, "config", a.jobs, false, |c, v| {
        config::change(c, v, &change, a.no_wait)
    })
}
