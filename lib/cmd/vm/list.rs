use crate::cli::spec::{
    Command, Complete, Flag, OUTPUT_WITH_NAMES, Prints, STATUSES, VM_BACKEND, choice, option,
    switch,
};
use crate::cmd::vm as tool;
use crate::error::{Error, Result};
use crate::output::{Column, col};
use crate::pve::vm;
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "vm-list",
    about: "list virtual machines",
    description: "Lists the VMs of the whole Proxmox VE cluster, one JSON object per line when stdout is not a terminal, an aligned table when it is, sorted by VMID. It makes exactly one API request (/cluster/resources), whatever the number of nodes and VMs; containers are left out. The filters apply to that list.\n\nThe cluster's run state refreshes about every 10 seconds on the server, so a VM started a moment ago may still show as stopped here; vm-state asks the VM's node directly.",
    args: &[],
    trailing: None,
    flags: FLAGS,
    stdin_targets: false,
    examples: &[
        ("vm-list", "Show every VM of the cluster in a table."),
        (
            "vm-list --node pve2 --status running -o name",
            "Names of the running VMs on node pve2.",
        ),
        (
            "vm-list | jq -c 'select(.tags | index(\"ci\"))' | vm-stop --timeout 60",
            "Shut down every VM tagged ci.",
        ),
        (
            "vm-list --no-templates | from json --objects | where memory_bytes > 4GB",
            "VMs with more than 4 GB of memory, in nushell.",
        ),
    ],
    prints: Prints::Vms,
};

const FLAGS: &[Flag] = &[
    option(
        "node",
        Some('n'),
        "NODE",
        "Only VMs on this node",
        Complete::Nothing,
    ),
    choice(
        "status",
        Some('s'),
        "STATUS",
        "Only VMs in this status",
        STATUSES,
    ),
    option(
        "tag",
        Some('t'),
        "TAG",
        "Only VMs with this tag",
        Complete::Nothing,
    ),
    option(
        "name",
        None,
        "GLOB",
        "Only VMs whose name matches this pattern (* and ?)",
        Complete::Nothing,
    ),
    switch("templates", None, "Only templates"),
    switch("no-templates", None, "Leave templates out"),
    OUTPUT_WITH_NAMES,
    VM_BACKEND,
];

pub const COLUMNS: &[Column] = &[
    col("VMID", "vmid"),
    col("NAME", "name"),
    col("NODE", "node"),
    col("STATUS", "status"),
    col("CPUS", "cpus"),
    col("MEMORY", "memory_bytes"),
    col("TAGS", "tags"),
    col("LOCK", "lock"),
];

pub fn run(ctx: &Ctx) -> Result<u8> {
    if ctx.m.flag("templates") && ctx.m.flag("no-templates") {
        return Err(Error::usage(
            "--templates and --no-templates exclude each other",
        ));
    }
    let c = tool::connect(ctx)?;
    let mut vms = vm::list(&c)?;
    let m = &ctx.m;
    vms.retain(|v| {
        m.value("node").is_none_or(|n| v.node == n)
            && m.value("status").is_none_or(|s| v.status.as_str() == s)
            && m.value("tag").is_none_or(|t| v.tags.iter().any(|x| x == t))
            && m.value("name").is_none_or(|g| {
                v.name
                    .as_deref()
                    .is_some_and(|n| crate::guest::names::glob_match(g, n))
            })
            && (!m.flag("templates") || v.template)
            && (!m.flag("no-templates") || !v.template)
    });
    ctx.out.trace(&format!("{} VMs listed", vms.len()));
    ctx.out.records(&vms, COLUMNS);
    Ok(0)
}
