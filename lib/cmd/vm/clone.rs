//! vm-clone: clones a VM (typically a template) into a new one.

use super::cloudinit::CloudInit;
use super::{Making, NewVm, connect};
use crate::cli::args::Jobs;
use crate::cli::spec::{
    Arg, Command, Complete, Effect, NO_WAIT, Prints, VM_BACKEND, option, switch,
};
use crate::error::{Error, Result};
use crate::guest::names::{check_vm, check_vmid};
use crate::guest::target::{Target, parse_arg};
use crate::guest::{BackendKind, GuestKind};
use crate::pve::vm;
use crate::run::Ctx;

/// vm-clone's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-clone",
    kind: GuestKind::Vm,
    about: "clone a virtual machine",
    description: "Clones SOURCE (by name or VMID, typically a template) into a new VM called NAME, and follows the clone task. The VMID is --vmid or the lowest free one, taking the next when another creator wins the race for it. --target puts the clone on another node (a VM that is not a template needs --full for that). A clone of a template is linked unless --full.\n\nThe cloud-init flags (--ciuser, --sshkey, --ip, --nameserver) are set on the clone once it is made, before --start starts it: a template made from a cloud image (with its cloud-init drive, and the QEMU guest agent enabled and installed) then gives a machine that is reachable by SSH once it has booted, at the address vm-wait --for ip waits for.",
    args: &[
        Arg {
            name: "SOURCE",
            help: "The VM or template to clone, by name or VMID",
            required: true,
            many: false,
            complete: Complete::Guest(GuestKind::Vm, None),
        },
        Arg {
            name: "NAME",
            help: "The new VM's name, a DNS name",
            required: true,
            many: false,
            complete: Complete::Nothing,
        },
    ],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "vm-clone debian-12-template web --start",
            "A new VM from a template, started.",
        ),
        (
            "vm-clone debian-12-cloud web --sshkey ~/.ssh/id_ed25519.pub --ip dhcp --start && vm-wait web --for ip",
            "A machine to log in to, once it has an address.",
        ),
        (
            "vm-clone 9000 ci-7 --target pve3 --full",
            "A full copy on node pve3.",
        ),
        (
            "for i in 1 2 3; do vm-clone tpl ci-$i; done | jq -r .vmid",
            "Three clones, printing their VMIDs.",
        ),
        (
            "vm-clone tpl web | from json --objects | get vmid",
            "The new VMID in nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-clone's flags.
    pub struct Args {
        ..ci: CloudInit,
        vmid: Option<u64> = option(
            "vmid",
            None,
            "ID",
            "The new VMID (default: the lowest free one)",
            Complete::Nothing,
        ),
        target: Option<String> = option(
            "target",
            None,
            "NODE",
            "The node for the clone (default: the source's)",
            Complete::Nothing,
        ),
        full: bool = switch("full", None, "A full copy rather than a linked clone"),
        storage: Option<String> = option(
            "storage",
            None,
            "STORAGE",
            "The storage for a full clone's disks",
            Complete::Nothing,
        ),
        start: bool = switch("start", None, "Start the clone once it is made"),
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Clones the source VM into a new one, sets its cloud-init settings, starts
/// it with --start, and prints one result record about the new VM.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let source = parse_arg(GuestKind::Vm, &ctx.positionals[0])?;
    let name = ctx.positionals[1].clone();
    check_vm(&name)?;
    let given = a.vmid.map(check_vmid).transpose()?;
    let configure = a.ci.settings()?;
    if a.no_wait && !a.ci.is_empty() {
        return Err(Error::usage(
            "--no-wait and the cloud-init flags: the clone must be done before they can be set",
        ));
    }
    if a.storage.is_some() && !a.full {
        return Err(Error::usage("--storage applies to full clones: add --full"));
    }
    let c = connect(ctx)?;
    let src = vm::resolve(&vm::list(&c)?, &source).map_err(|e| e.prefixed(&source.label()))?;
    let target = a.target.clone().unwrap_or_else(|| src.node.clone());
    let making = Making {
        name: Some(&name),
        node: &target,
        vmid: given,
        // The source is what a clone locks (and waits for when locked).
        locks: Some(&src),
        path: format!("{}/clone", vm::api_path(&src)),
        kind: "qmclone",
        start: a.start,
        no_wait: a.no_wait,
        configure,
    };
    let new = NewVm(name.clone());
    ctx.act(&new, "clone", vec![Target::named(&name)], Jobs(1), |_| {
        making.make(&c, |id| {
            let mut p = vec![("newid", id.to_string()), ("name", name.clone())];
            if target != src.node {
                p.push(("target", target.clone()));
            }
            if a.full {
                p.push(("full", "1".into()));
            }
            if let Some(s) = &a.storage {
                p.push(("storage", s.clone()));
            }
            p
        })
    })
}
