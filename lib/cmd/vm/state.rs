//! vm-state: prints one detailed record per VM, read from its node.

use super::{Vms, connect, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, Prints, VM_BACKEND};
use crate::error::Result;
use crate::guest::record::{Vm, VmState};
use crate::guest::{BackendKind, GuestKind, Status};
use crate::output::{Column, col};
use crate::pve::client::Client;
use crate::pve::lenient::Field;
use crate::pve::vm;
use crate::pve::{agent, config};
use crate::run::Ctx;
use serde_json::{Map, Value};

/// vm-state's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-state",
    kind: GuestKind::Vm,
    about: "show the state of virtual machines",
    description: "Prints one detailed record per VM: the fields of vm-list, read fresh from the VM's node (status/current), with the QEMU state, process and usage, the VM's configuration, and, when its QEMU guest agent is enabled and the VM runs, the addresses the agent reports (ipv4, ipv6), which other machines can reach it at. A VM that cannot be read is reported on stderr and the others are still printed; the exit code reports it.",
    args: &[names_arg("VMs to show, by name or VMID", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-state web", "Everything about web."),
        (
            "vm-state web | jq .config.net0",
            "Its first network device.",
        ),
        (
            "ssh debian@$(vm-state web | jq -r '.ipv4[0]')",
            "Log in at the address its guest agent reports.",
        ),
        (
            "vm-list --tag db | vm-state | jq -r '[.name, .qmpstatus, .memory_used_bytes] | @tsv'",
            "Memory use of the db VMs.",
        ),
        (
            "vm-state web | from json --objects | select name status uptime_s",
            "The same in nushell.",
        ),
    ],
    prints: Prints::VmStates,
    effect: Effect::Reads,
};

crate::flags! {
    /// vm-state's flags.
    pub struct Args {
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

const COLUMNS: &[Column] = &[
    col("VMID", "vmid"),
    col("NAME", "name"),
    col("NODE", "node"),
    col("STATUS", "status"),
    col("QMP", "qmpstatus"),
    col("PID", "pid"),
    col("UPTIME", "uptime_s"),
    col("LOCK", "lock"),
    col("IPV4", "ipv4"),
];

/// Prints each target's detailed record, read fresh from its node (with the
/// guest agent's addresses when it can answer); a VM that cannot be read is
/// reported on stderr, and the exit code says so.
pub fn run(ctx: &Ctx, _: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    let c = connect(ctx)?;
    let vms = Vms::list(&c)?;
    ctx.each(&vms, targets, Jobs(1), COLUMNS, |v| state(&c, v))
}

fn state(c: &Client, v: &Vm) -> Result<VmState> {
    let mut v = v.clone();
    let cur = vm::current(c, &v)?;
    for why in cur.malformed() {
        c.out.warn(&format!(
            "{}: ignoring a field of its status/current: {why}",
            v.label()
        ));
    }
    let config: Map<String, Value> = c.get_as(&format!("{}/config", vm::api_path(&v)), &[])?;
    let text = |f: &Field<String>| f.as_ref().filter(|s| !s.is_empty()).cloned();
    let (status, backend_status) = vm::status_of(cur.status.str(), cur.qmpstatus.str());
    v.status = status;
    v.backend_status = backend_status;
    v.lock = text(&cur.lock);
    v.name = vm::own_name(text(&cur.name), v.vmid).or(v.name);
    v.uptime_s = cur.uptime.copied().filter(|_| status == Status::Running);
    v.cpus = cur.cpus.copied().map(|n| n.ceil() as u32).or(v.cpus);
    v.memory_bytes = cur.maxmem.copied().or(v.memory_bytes);
    if let Some(t) = text(&cur.tags) {
        v.tags = vm::split_list(&t);
    }
    // The guest agent, asked only when it can answer.
    let enabled = agent::enabled(config.get("agent").and_then(config::text).as_deref());
    let (agent_state, ipv4, ipv6) = if !enabled {
        ("off", vec![], vec![])
    } else if status != Status::Running {
        ("not running", vec![], vec![])
    } else {
        match agent::addresses(c, &v) {
            Ok((v4, v6)) => ("running", v4, v6),
            Err(e) => {
                if !agent::not_yet(&e) {
                    c.out.warn(&format!("{}: {}", v.label(), e.message));
                }
                ("not running", vec![], vec![])
            }
        }
    };
    Ok(VmState {
        vm: v,
        agent: agent_state,
        ipv4,
        ipv6,
        qmpstatus: text(&cur.qmpstatus),
        pid: cur.pid.copied(),
        cpu_usage: cur.cpu.copied(),
        memory_used_bytes: cur.mem.copied(),
        config: config::as_written(config),
    })
}
