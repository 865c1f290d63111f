use super::{Vms, connect, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Prints, VM_BACKEND};
use crate::error::Result;
use crate::guest::record::{Vm, VmState};
use crate::guest::{BackendKind, GuestKind, Status};
use crate::output::{Column, col};
use crate::pve::client::Client;
use crate::pve::vm;
use crate::run::Ctx;
use serde_json::Value;

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
    let mut config = c
        .get(&format!("{}/config", vm::api_path(&v)), &[])?
        .as_object()
        .cloned()
        .unwrap_or_default();
    config.remove("digest");
    let num = |k: &str| cur.get(k).and_then(Value::as_u64);
    let s = |k: &str| cur.get(k).and_then(Value::as_str).map(String::from);
    let (status, backend_status) = vm::status_of(s("status").as_deref(), s("qmpstatus").as_deref());
    v.status = status;
    v.backend_status = backend_status;
    v.lock = s("lock");
    v.name = vm::own_name(s("name"), v.vmid).or(v.name);
    v.uptime_s = num("uptime").filter(|_| status == Status::Running);
    v.cpus = num("cpus").map(|n| n as u32).or(v.cpus);
    v.memory_bytes = num("maxmem").or(v.memory_bytes);
    if let Some(t) = s("tags") {
        v.tags = vm::split_list(&t);
    }
    Ok(VmState {
        vm: v,
        qmpstatus: s("qmpstatus"),
        pid: num("pid"),
        cpu_usage: cur.get("cpu").and_then(Value::as_f64),
        memory_used_bytes: num("mem"),
        config,
    })
}
