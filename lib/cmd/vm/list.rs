//! vm-list: lists the cluster's VMs.

use super::connect;
use crate::cli::spec::{
    Command, Complete, Effect, OUTPUT_WITH_NAMES, Prints, VM_BACKEND, option, status_filter, switch,
};
use crate::error::{Error, Result};
use crate::guest::{BackendKind, GuestKind, Status};
use crate::output::{Column, Format, col};
use crate::pve::vm;
use crate::run::Ctx;

/// vm-list's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-list",
    kind: GuestKind::Vm,
    about: "list virtual machines",
    description: "Lists the VMs of the whole Proxmox VE cluster, one JSON object per line when stdout is not a terminal, an aligned table when it is, sorted by VMID. It makes exactly one API request (/cluster/resources), whatever the number of nodes and VMs; containers are left out. The filters apply to that list.\n\nThe cluster's run state refreshes about every 10 seconds on the server, so a VM started a moment ago may still show as stopped here; vm-state asks the VM's node directly.",
    args: &[],
    trailing: None,
    flags: Args::FLAGS,
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
            "vm-list --no-templates | from json --objects | where memory_bytes > (4GB | into int)",
            "VMs with more than 4 GB of memory, in nushell.",
        ),
    ],
    prints: Prints::Vms,
    effect: Effect::Reads,
};

crate::flags! {
    /// vm-list's flags.
    pub struct Args {
        node: Option<String> = option(
            "node",
            Some('n'),
            "NODE",
            "Only VMs on this node",
            Complete::Nothing,
        ),
        status: Option<Status> = status_filter("Only VMs in this status"),
        tag: Option<String> = option(
            "tag",
            Some('t'),
            "TAG",
            "Only VMs with this tag",
            Complete::Nothing,
        ),
        name: Option<String> = option(
            "name",
            None,
            "GLOB",
            "Only VMs whose name matches this pattern (* and ?)",
            Complete::Nothing,
        ),
        templates: bool = switch("templates", None, "Only templates"),
        no_templates: bool = switch("no-templates", None, "Leave templates out"),
        /// Read by the shell (`Common`) as for every tool; vm-list's also
        /// prints names alone.
        output: Option<Format> = OUTPUT_WITH_NAMES,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// The table's columns, each with the record's field it shows.
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

/// Prints the cluster's VMs that pass the filters, listed in one request.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    if a.templates && a.no_templates {
        return Err(Error::usage(
            "--templates and --no-templates exclude each other",
        ));
    }
    let c = connect(ctx)?;
    let mut vms = vm::list(&c)?.vms;
    vms.retain(|v| {
        a.node.as_ref().is_none_or(|n| v.node == *n)
            && a.status.is_none_or(|s| v.status == s)
            && a.tag.as_ref().is_none_or(|t| v.tags.contains(t))
            && a.name.as_deref().is_none_or(|g| {
                v.name
                    .as_deref()
                    .is_some_and(|n| crate::guest::names::glob_match(g, n))
            })
            && (!a.templates || v.template)
            && (!a.no_templates || !v.template)
    });
    ctx.out.trace(&format!("{} VMs listed", vms.len()));
    ctx.out.records(&vms, COLUMNS);
    Ok(0)
}
