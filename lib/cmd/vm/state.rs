use super::names_arg;
use crate::cli::spec::{Command, Prints, VM_BACKEND};
use crate::cmd::vm as tool;
use crate::error::Result;
use crate::output::{Column, col};
use crate::pve::vm;
use crate::run::Ctx;
use serde::Serialize;
use serde_json::{Map, Value};

pub const SPEC: Command = Command {
    name: "vm-state",
    about: "show the state of virtual machines",
    description: "Prints one detailed record per VM: the fields of vm-list, read fresh from the VM's node (status/current), with the QEMU state, process and usage, and the VM's configuration. A VM that cannot be read is reported on stderr and the others are still printed; the exit code reports it.",
    args: &[names_arg("VMs to show, by name or VMID", None)],
    trailing: None,
    flags: &[VM_BACKEND],
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

/// One VM in detail.
#[derive(Serialize)]
pub struct VmState {
    #[serde(flatten)]
    pub vm: vm::Vm,
    /// QEMU's own run state: running, paused, prelaunch, suspended, stopped.
    pub qmpstatus: Option<String>,
    pub pid: Option<u64>,
    /// CPU use as a fraction of the VM's CPUs.
    pub cpu_usage: Option<f64>,
    pub memory_used_bytes: Option<u64>,
    /// The VM's configuration as Proxmox keeps it (memory in MiB, devices as
    /// property strings), without its digest.
    pub config: Map<String, Value>,
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

pub fn run(ctx: &Ctx) -> Result<u8> {
    let targets = tool::targets(ctx)?;
    let c = tool::connect(ctx)?;
    let vms = vm::list(&c)?;
    let mut records = ctx.out.stream(COLUMNS);
    let mut codes = Vec::new();
    for t in &targets {
        match vm::resolve(&vms, t).and_then(|v| state(&c, v)) {
            Ok(s) => records.push(s),
            Err(e) => {
                ctx.out.error(Some(&t.label()), &e);
                codes.push(e.exit_code());
            }
        }
    }
    records.finish();
    Ok(crate::error::exit_code_of(codes))
}

fn state(c: &crate::pve::client::Client, mut v: vm::Vm) -> Result<VmState> {
    let cur = vm::current(c, &v)?;
    let mut config = c
        .get(&format!("{}/config", v.path()), &[])?
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
    v.uptime_s = num("uptime").filter(|_| status == crate::guest::record::Status::Running);
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
