//! vm-resize: grows a disk of a VM.

use super::{act_on_one, vm_arg, word_arg};
use crate::cli::spec::{Command, Effect, NO_WAIT, Prints, VM_BACKEND};
use crate::error::Result;
use crate::guest::{BackendKind, GuestKind};
use crate::pve::disk;
use crate::run::Ctx;

/// vm-resize's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-resize",
    kind: GuestKind::Vm,
    about: "grow a disk of a virtual machine",
    description: "Grows DISK of the VM by SIZE (+10G) or to SIZE (40G), and follows the resize task; a running VM sees the new size at once, its filesystems still to be grown inside the guest. Proxmox VE never shrinks a disk: a SIZE smaller than the disk is refused as invalid input (exit 8) before anything is sent, and one equal to it changes nothing (\"changed\":false). SIZE needs a unit (K, M, G, T). The change carries the configuration's digest, so a disk changed meanwhile is not resized on stale figures.",
    args: &[
        vm_arg("The VM, by name or VMID"),
        word_arg("DISK", "The disk: scsi0, virtio1, sata0, ide0, efidisk0…"),
        word_arg(
            "SIZE",
            "+SIZE to grow by, SIZE to grow to, e.g. +10G or 40G",
        ),
    ],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "vm-resize web scsi0 +10G",
            "Ten more GiB for web's first disk.",
        ),
        (
            "vm-resize db virtio1 200G",
            "Grow db's second disk to 200 GiB.",
        ),
        (
            "vm-config web | jq -r '.disks[] | select(.media == \"disk\") | .device'",
            "web's disks, to choose one.",
        ),
        (
            "vm-resize web scsi0 40G | from json | get changed",
            "Whether it grew, in nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-resize's flags.
    pub struct Args {
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Grows the VM's disk by or to the size given, follows the task unless
/// --no-wait, and prints one result record.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let disk_name = ctx.positionals[1].clone();
    let size = disk::parse_new_size(&ctx.positionals[2])?;
    act_on_one(ctx, "resize", |c, v| {
        disk::resize(c, v, &disk_name, size, a.no_wait)
    })
}
