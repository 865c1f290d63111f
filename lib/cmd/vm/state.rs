use super::{Vms, connect, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Prints, VM_BACKEND};
use crate::error::Result;
use crate::guest::record::{Vm, VmState};
use crate::guest::{BackendKind, GuestKind, Status};
use crate::output::{Column, col};
use crate::pve::client::Client;
use crate::pve::config;
use crate::pve::lenient::Field;
use crate::pve::vm;
use crate::run::Ctx;
use serde_json::{Map, Value};

pub const SPEC: Command = Command {
    name: "vm-state",
    kind: GuestKind::Vm,
    about: "show the state of virtual machines",
    description: "Prints one detailed record per VM: the fields of vm-list, read fresh from the VM's node (status/current), with the QEMU state, process and usage, and the VM's configuration. A VM that cannot be read is reported on stderr and the others are still printed; the exit code reports it.",
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
            "vm-list --tag db | vm-state | jq -r '[.name, .qmpstatus, .memory_used_bytes] | @tsv'",
            "Memory use of the db VMs.",
        ),
        (
            "vm-state web | from json --objects | select name status uptime_s",
            "The same in nushell.",
        ),
    ],
    prints: Prints::VmStates,
};

crate::flags! {
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
];

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
    Ok(VmState {
        vm: v,
        qmpstatus: text(&cur.qmpstatus),
        pid: cur.pid.copied(),
        cpu_usage: cur.cpu.copied(),
        memory_used_bytes: cur.mem.copied(),
        config: config::as_written(config),
    })
}
