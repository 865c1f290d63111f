use crate::cli::spec::{
    Arg, Command, Complete, Flag, NO_WAIT, Prints, VM_BACKEND, option, repeated, switch,
};
use crate::cmd::vm as tool;
use crate::error::{Error, Result};
use crate::pve::client::Method;
use crate::pve::vm;
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "vm-create",
    about: "create a virtual machine",
    description: "Creates a VM on a node of the cluster and follows the create task, then prints one result. The VMID is --vmid, or the lowest free one from /cluster/nextid; nextid does not reserve it, so when another creator takes it first, vm-create takes the next one. The node is --node, else proxmox.node (GUESTKIT_PVE_NODE), else the online node with the most free memory.\n\nUnset sizes are Proxmox's own defaults (512 MiB of memory, one core). A disk is made only with --disk, on --storage (default proxmox.storage, else local-lvm), rounded up to whole GiB. The network is one virtio NIC on vmbr0 unless --net says otherwise (--net none for no network). Any other qemu setting passes through with --set KEY=VALUE, checked by the server.\n\nWith --start the VM is started after it is created, in a task of its own that is followed too; if the start fails, the VM stays, and the error says so.",
    args: &[Arg {
        name: "NAME",
        help: "The VM's name, a DNS name (optional)",
        required: false,
        many: false,
        complete: Complete::Nothing,
    }],
    trailing: None,
    flags: FLAGS,
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
        ("vm-create web | jq .vmid", "The new VMID, with jq."),
        (
            "vm-create web | from json --objects | get vmid",
            "The same in nushell.",
        ),
    ],
    prints: Prints::VmResults,
};

const FLAGS: &[Flag] = &[
    option(
        "vmid",
        None,
        "ID",
        "The VMID (default: the lowest free one)",
        Complete::Nothing,
    ),
    option(
        "node",
        Some('n'),
        "NODE",
        "The node to create it on",
        Complete::Nothing,
    ),
    option(
        "memory",
        Some('m'),
        "SIZE",
        "Memory, e.g. 2G or 512M",
        Complete::Nothing,
    ),
    option(
        "cores",
        None,
        "N",
        "CPU cores per socket",
        Complete::Nothing,
    ),
    option("sockets", None, "N", "CPU sockets", Complete::Nothing),
    option(
        "disk",
        None,
        "SIZE",
        "A first disk (scsi0) of this size, e.g. 32G",
        Complete::Nothing,
    ),
    option(
        "storage",
        None,
        "STORAGE",
        "The storage for the disk (default: local-lvm)",
        Complete::Nothing,
    ),
    repeated(
        "net",
        None,
        "SPEC",
        "A network device: bridge=BR[,model=virtio][,tag=VLAN][,firewall=1], or none (repeatable; default bridge=vmbr0)",
        Complete::Nothing,
    ),
    option(
        "iso",
        None,
        "VOLUME",
        "An installer ISO as a CD, e.g. local:iso/debian-12.iso",
        Complete::Nothing,
    ),
    option(
        "ostype",
        None,
        "TYPE",
        "The guest OS type, e.g. l26 (Linux) or win11",
        Complete::Nothing,
    ),
    option(
        "tags",
        None,
        "TAGS",
        "Tags, comma-separated",
        Complete::Nothing,
    ),
    option(
        "pool",
        None,
        "POOL",
        "The resource pool to add it to",
        Complete::Nothing,
    ),
    option(
        "description",
        None,
        "TEXT",
        "A description, shown in the web UI",
        Complete::Nothing,
    ),
    repeated(
        "set",
        None,
        "KEY=VALUE",
        "Any other qemu setting (repeatable)",
        Complete::Nothing,
    ),
    switch("start", None, "Start the VM once it is created"),
    NO_WAIT,
    VM_BACKEND,
];

pub fn run(ctx: &Ctx) -> Result<u8> {
    let name = ctx.m.positionals.first().cloned();
    if let Some(n) = &name {
        vm::check_name(n)?;
    }
    let given = ctx
        .m
        .number::<u64>("vmid")?
        .map(vm::check_vmid)
        .transpose()?;
    let params = params(ctx)?;
    let c = tool::connect(ctx)?;
    let node = vm::pick_node(&c, ctx.m.value("node"))?;
    let no_wait = ctx.m.flag("no-wait");
    let label = name.clone().unwrap_or_else(|| "new VM".into());
    let created = vm::with_new_vmid(&c, given, &|id| {
        let mut p = vec![("vmid", id.to_string())];
        p.extend(params.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let op = vm::Op {
            method: Method::Post,
            path: format!("/nodes/{node}/qemu"),
            params: p,
            kind: "qmcreate",
            subject: Some(id),
            no_wait: no_wait && !ctx.m.flag("start"),
            deadline: None,
        };
        let new = vm::Vm::made(id, &node, name.as_deref());
        vm::task(&c, &new, &op, &|| vm::exists(&c, &node, id))
    });
    super::clone::report(ctx, &c, "create", &label, &node, created, no_wait)
}

/// The create request's parameters, from the flags.
fn params(ctx: &Ctx) -> Result<Vec<(String, String)>> {
    let m = &ctx.m;
    let mut p: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| p.push((k.to_string(), v));
    if let Some(n) = m.positionals.first() {
        put("name", n.clone());
    }
    if let Some(s) = m.value("memory") {
        let mib = crate::guest::units::parse_size(s)?.div_ceil(1024 * 1024);
        if mib < 16 {
            return Err(Error::usage(format!(
                "--memory {s} is less than the 16 MiB a VM needs"
            )));
        }
        put("memory", mib.to_string());
    }
    for k in ["cores", "sockets"] {
        if let Some(n) = m.number::<u32>(k)? {
            put(k, n.to_string());
        }
    }
    if let Some(s) = m.value("disk") {
        let gib = crate::guest::units::parse_size(s)?.div_ceil(1 << 30);
        let storage = m
            .value("storage")
            .map(String::from)
            .or(ctx.cfg.proxmox.storage.clone())
            .unwrap_or_else(|| "local-lvm".into());
        put("scsihw", "virtio-scsi-single".into());
        put("scsi0", format!("{storage}:{gib}"));
    } else if m.value("storage").is_some() {
        return Err(Error::usage(
            "--storage is the disk's storage: give --disk SIZE too",
        ));
    }
    let nets = m.values("net");
    if nets.is_empty() {
        put("net0", "virtio,bridge=vmbr0".into());
    } else if !(nets.len() == 1 && nets[0] == "none") {
        for (i, n) in nets.iter().enumerate() {
            put(&format!("net{i}"), net_spec(n)?);
        }
    }
    if let Some(iso) = m.value("iso") {
        put("ide2", format!("{iso},media=cdrom"));
    }
    for k in ["ostype", "pool", "description"] {
        if let Some(v) = m.value(k) {
            put(k, v.to_string());
        }
    }
    if let Some(t) = m.value("tags") {
        put("tags", vm::split_list(t).join(";"));
    }
    for kv in m.values("set") {
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
