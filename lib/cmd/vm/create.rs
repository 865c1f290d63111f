//! vm-create: creates a VM on a node of the cluster.

use super::cloudinit::CloudInit;
use super::{Making, NewVm, connect};
use crate::cli::args::{Jobs, Size};
use crate::cli::spec::{
    Arg, Command, Complete, Effect, NO_WAIT, Prints, VM_BACKEND, option, repeated, switch,
};
use crate::error::{Error, Result};
use crate::guest::names::{check_vm, check_vmid};
use crate::guest::target::Target;
use crate::guest::{BackendKind, GuestKind};
use crate::pve::{node, vm};
use crate::run::Ctx;

/// vm-create's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-create",
    kind: GuestKind::Vm,
    about: "create a virtual machine",
    description: "Creates a VM on a node of the cluster and follows the create task, then prints one result. The VMID is --vmid, or the lowest free one from /cluster/nextid; nextid does not reserve it, so when another creator takes it first, vm-create takes the next one. The node is --node, else proxmox.node (GUESTKIT_PVE_NODE), else the online node with the most free memory.\n\nUnset sizes are Proxmox's own defaults (512 MiB of memory, one core). A disk is made only with --disk, on --storage (default proxmox.storage, else the node's active storage for disk images with the most room: local-lvm on a default install, local-zfs on ZFS), rounded up to whole GiB. The network is one virtio NIC on vmbr0 unless --net says otherwise (--net none for no network). Any other qemu setting passes through with --set KEY=VALUE, checked by the server.\n\nThe cloud-init flags (--ciuser, --sshkey, --ip, --nameserver), and --import-from, add a cloud-init drive (ide0) on that storage; --import-from makes the first disk from a cloud image (STORAGE:VOLUME, such as one uploaded to a storage's import content), which keeps the image's size (grow it with vm-resize), and boots from it.\n\nWith --start the VM is started after it is created, in a task of its own that is followed too; if the start fails, the VM stays, and the error says so.",
    args: &[Arg {
        name: "NAME",
        help: "The VM's name, a DNS name (optional)",
        required: false,
        many: false,
        complete: Complete::Nothing,
    }],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "vm-create web --memory 2G --cores 2 --disk 32G --iso local:iso/debian-12.iso --start",
            "A VM that boots the Debian installer.",
        ),
        (
            "vm-create ci-1 --node pve2 --tags ci,linux --net bridge=vmbr1,tag=20",
            "On pve2, on VLAN 20, tagged.",
        ),
        (
            "vm-create db --set agent=1 --set onboot=1",
            "Any other qemu setting.",
        ),
        (
            "vm-create web --import-from local:import/debian-12-genericcloud-amd64.qcow2 --memory 2G --sshkey ~/.ssh/id_ed25519.pub --ip dhcp --start",
            "A VM from a cloud image, reachable by SSH once it has booted.",
        ),
        ("vm-create web | jq .vmid", "The new VMID, with jq."),
        (
            "vm-create web | from json --objects | get vmid",
            "The same in nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Changes,
};

crate::flags! {
    /// vm-create's flags.
    pub struct Args {
        ..ci: CloudInit,
        vmid: Option<u64> = option(
            "vmid",
            None,
            "ID",
            "The VMID (default: the lowest free one)",
            Complete::Nothing,
        ),
        node: Option<String> = option(
            "node",
            Some('n'),
            "NODE",
            "The node to create it on",
            Complete::Nothing,
        ),
        memory: Option<Size> = option(
            "memory",
            Some('m'),
            "SIZE",
            "Memory, e.g. 2G or 512M",
            Complete::Nothing,
        ),
        cores: Option<u32> = option(
            "cores",
            None,
            "N",
            "CPU cores per socket",
            Complete::Nothing,
        ),
        sockets: Option<u32> = option("sockets", None, "N", "CPU sockets", Complete::Nothing),
        disk: Option<Size> = option(
            "disk",
            None,
            "SIZE",
            "A first disk (scsi0) of this size, e.g. 32G",
            Complete::Nothing,
        ),
        storage: Option<String> = option(
            "storage",
            None,
            "STORAGE",
            "The storage for the disk (default: the node's, see above)",
            Complete::Nothing,
        ),
        net: Vec<String> = repeated(
            "net",
            None,
            "SPEC",
            "A network device: bridge=BR[,model=virtio][,tag=VLAN][,firewall=1], or none (repeatable; default bridge=vmbr0)",
            Complete::Nothing,
        ),
        iso: Option<String> = option(
            "iso",
            None,
            "VOLUME",
            "An installer ISO as a CD, e.g. local:iso/debian-12.iso",
            Complete::Nothing,
        ),
        ostype: Option<String> = option(
            "ostype",
            None,
            "TYPE",
            "The guest OS type, e.g. l26 (Linux) or win11",
            Complete::Nothing,
        ),
        tags: Option<String> = option(
            "tags",
            None,
            "TAGS",
            "Tags, comma-separated",
            Complete::Nothing,
        ),
        pool: Option<String> = option(
            "pool",
            None,
            "POOL",
            "The resource pool to add it to",
            Complete::Nothing,
        ),
        description: Option<String> = option(
            "description",
            None,
            "TEXT",
            "A description, shown in the web UI",
            Complete::Nothing,
        ),
        import_from: Option<String> = option(
            "import-from",
            None,
            "VOLUME",
            "Make the first disk from this image, e.g. local:import/debian-12-genericcloud-amd64.qcow2",
            Complete::Nothing,
        ),
        set: Vec<String> = repeated(
            "set",
            None,
            "KEY=VALUE",
            "Any other qemu setting (repeatable)",
            Complete::Nothing,
        ),
        start: bool = switch("start", None, "Start the VM once it is created"),
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Creates the VM from the flags on the node picked (its disk on the storage
/// picked), follows the task, starts it with --start, and prints one result
/// record about it.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let name = ctx.positionals.first().cloned();
    if let Some(n) = &name {
        check_vm(n)?;
    }
    let given = a.vmid.map(check_vmid).transpose()?;
    let mut params = params(ctx, &a)?;
    let c = connect(ctx)?;
    let node = node::pick(&c, a.node.as_deref())?;
    let needs_storage = a.disk.is_some() || a.import_from.is_some() || !a.ci.is_empty();
    let storage = if needs_storage {
        Some(node::disk_storage(&c, &node, a.storage.as_deref())?)
    } else {
        None
    };
    if let (Some(Size(bytes)), Some(st)) = (a.disk, &storage) {
        params.push(("scsi0".into(), format!("{st}:{}", bytes.div_ceil(1 << 30))));
    }
    if let (Some(image), Some(st)) = (&a.import_from, &storage) {
        params.push(("scsi0".into(), format!("{st}:0,import-from={image}")));
        params.push(("boot".into(), "order=scsi0".into()));
    }
    // cloud-init reads its settings from a drive of its own.
    if let (false, Some(st)) = (a.ci.is_empty() && a.import_from.is_none(), &storage) {
        params.push(("ide0".into(), format!("{st}:cloudinit")));
    }
    let label = name.clone().unwrap_or_else(|| "new VM".into());
    let making = Making {
        name: name.as_deref(),
        node: &node,
        vmid: given,
        locks: None,
        path: format!("/nodes/{node}/qemu"),
        kind: "qmcreate",
        start: a.start,
        no_wait: a.no_wait,
        configure: vec![],
    };
    let new = NewVm(label.clone());
    ctx.act(&new, "create", vec![Target::named(&label)], Jobs(1), |_| {
        making.make(&c, |id| {
            let mut p = vec![("vmid", id.to_string())];
            p.extend(params.iter().map(|(k, v)| (k.as_str(), v.clone())));
            p
        })
    })
}

/// The create request's parameters, from the flags.
fn params(ctx: &Ctx, a: &Args) -> Result<Vec<(String, String)>> {
    let mut p: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| p.push((k.to_string(), v));
    if let Some(n) = ctx.positionals.first() {
        put("name", n.clone());
    }
    if let Some(Size(bytes)) = a.memory {
        let mib = bytes.div_ceil(1024 * 1024);
        if mib < 16 {
            return Err(Error::usage(format!(
                "--memory {} is less than the 16 MiB a VM needs",
                crate::guest::units::human_size(bytes)
            )));
        }
        put("memory", mib.to_string());
    }
    for (k, n) in [("cores", a.cores), ("sockets", a.sockets)] {
        if let Some(n) = n {
            put(k, n.to_string());
        }
    }
    // The disk itself (scsi0) is added once the node is known: its
    // default storage is the node's.
    if a.disk.is_some() && a.import_from.is_some() {
        return Err(Error::usage("--disk and --import-from both make the first disk: give one")
            .with_hint("an imported disk keeps the image's size; grow it afterwards with vm-resize NAME scsi0 SIZE"));
    }
    if let Some(image) = &a.import_from
        && !image.contains(':')
    {
        return Err(Error::usage(format!(
            "--import-from {image}: expected STORAGE:VOLUME, e.g. local:import/debian-12-genericcloud-amd64.qcow2"
        )));
    }
    if a.disk.is_some() || a.import_from.is_some() {
        put("scsihw", "virtio-scsi-single".into());
    } else if a.storage.is_some() && a.ci.is_empty() {
        return Err(Error::usage(
            "--storage is the disk's storage: give --disk SIZE too",
        ));
    }
    for (k, v) in a.ci.settings()? {
        put(&k, v);
    }
    if a.net.is_empty() {
        put("net0", "virtio,bridge=vmbr0".into());
    } else if !(a.net.len() == 1 && a.net[0] == "none") {
        for (i, n) in a.net.iter().enumerate() {
            put(&format!("net{i}"), net_spec(n)?);
        }
    }
    if let Some(iso) = &a.iso {
        put("ide2", format!("{iso},media=cdrom"));
    }
    for (k, v) in [
        ("ostype", &a.ostype),
        ("pool", &a.pool),
        ("description", &a.description),
    ] {
        if let Some(v) = v {
            put(k, v.clone());
        }
    }
    if let Some(t) = &a.tags {
        put("tags", vm::split_list(t).join(";"));
    }
    for kv in &a.set {
        let (k, v) = kv
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| Error::usage(format!("--set {kv}: expected KEY=VALUE")))?;
        if matches!(k, "vmid" | "node") {
            return Err(Error::usage(format!("--set {k}: use --{k}")));
        }
        put(k, v.to_string());
    }
    Ok(p)
}

/// `bridge=vmbr0,model=virtio,tag=20` → `virtio,bridge=vmbr0,tag=20`.
fn net_spec(s: &str) -> Result<String> {
    let mut model = "virtio".to_string();
    let mut rest = Vec::new();
    for part in s.split(',') {
        match part.split_once('=') {
            Some(("model", m)) => model = m.to_string(),
            Some((_, _)) => rest.push(part.to_string()),
            None => {
                return Err(Error::usage(format!(
                    "--net {s}: expected bridge=BR[,model=virtio][,tag=VLAN]"
                )));
            }
        }
    }
    if !rest.iter().any(|p| p.starts_with("bridge=")) {
        return Err(Error::usage(format!(
            "--net {s}: name the bridge, e.g. bridge=vmbr0"
        )));
    }
    Ok(std::iter::once(model)
        .chain(rest)
        .collect::<Vec<_>>()
        .join(","))
}

#[cfg(test)]
mod tests {
    #[test]
    fn nets_put_the_model_first() {
        assert_eq!(
            super::net_spec("bridge=vmbr0,tag=20").unwrap(),
            "virtio,bridge=vmbr0,tag=20"
        );
        assert_eq!(
            super::net_spec("model=e1000,bridge=vmbr1").unwrap(),
            "e1000,bridge=vmbr1"
        );
        assert!(super::net_spec("vmbr0").is_err());
        assert!(super::net_spec("tag=20").is_err());
    }
}
