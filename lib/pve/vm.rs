//! Virtual machines on a Proxmox VE cluster: their records read from the
//! API, how a target (name or VMID) is found on whichever node holds it,
//! and the operations the vm-* tools share.

use super::client::{Client, Fail, Method, is_lock};
use super::lenient::{self, Field, Item, first_malformed};
use super::task::{self, Upid};
use crate::error::{Error, Kind, Result};
use crate::guest::record::{Done, Vm};
use crate::guest::target::Target;
use crate::guest::{BackendKind, Status};
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A `*-list` value: one string split on `,`, `;` or spaces.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([';', ',', ' '])
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

/// Proxmox's run state in guestkit's vocabulary, and its own word when that
/// says more.
pub fn status_of(status: Option<&str>, qmp: Option<&str>) -> (Status, Option<String>) {
    match (status, qmp) {
        (Some("running"), None | Some("running")) => (Status::Running, None),
        (Some("running"), Some(q @ ("paused" | "suspended"))) | (Some(q @ "paused"), _) => {
            (Status::Paused, Some(q.to_string()))
        }
        (Some("running"), Some(q)) => (Status::Running, Some(q.to_string())),
        (Some("stopped"), _) => (Status::Stopped, None),
        (Some(s), _) => (Status::Unknown, Some(s.to_string())),
        (None, _) => (Status::Unknown, None),
    }
}

/// One `/cluster/resources` entry, as the server sends it: read straight
/// into this struct rather than a `Value` (a big cluster's list parses
/// several times faster), every field lenient (see `lenient`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Resource {
    /// `qemu` for a VM, `lxc` for a container.
    #[serde(rename = "type")]
    pub kind: Field<String>,
    /// Its type and VMID: `qemu/100`.
    pub id: Field<String>,
    /// Its VMID.
    pub vmid: Field<u32>,
    /// The node it is on.
    pub node: Field<String>,
    /// `running`, `stopped`, or `unknown` on a node that does not answer.
    pub status: Field<String>,
    /// Its name (a container's hostname); absent on a node that does not
    /// answer.
    pub name: Field<String>,
    /// Seconds since it started.
    pub uptime: Field<u64>,
    /// Whether it is a template.
    pub template: Field<bool>,
    /// The CPUs it has.
    pub maxcpu: Field<f64>,
    /// Its memory, in bytes.
    pub maxmem: Field<u64>,
    /// Its boot disk's size (a container's root disk's), in bytes.
    pub maxdisk: Field<u64>,
    /// Its tags, as one string (`a;b`).
    pub tags: Field<String>,
    /// The lock held on it (`backup`, `migrate`…), if any.
    pub lock: Field<String>,
    /// The resource pool it is in, if any.
    pub pool: Field<String>,
}

impl Resource {
    /// The VM this entry is (`None` for anything but a VM), or what is
    /// wrong with it.
    pub fn vm(self) -> std::result::Result<Option<Vm>, String> {
        let r = self;
        if r.kind.str() != Some("qemu") {
            return Ok(None);
        }
        if let Some(bad) = first_malformed(&[
            ("vmid", r.vmid.malformed()),
            ("node", r.node.malformed()),
            ("status", r.status.malformed()),
            ("name", r.name.malformed()),
            ("uptime", r.uptime.malformed()),
            ("template", r.template.malformed()),
            ("maxcpu", r.maxcpu.malformed()),
            ("maxmem", r.maxmem.malformed()),
            ("maxdisk", r.maxdisk.malformed()),
            ("tags", r.tags.malformed()),
            ("lock", r.lock.malformed()),
            ("pool", r.pool.malformed()),
        ]) {
            return Err(bad);
        }
        let text = |s: Field<String>| s.get().filter(|s| !s.is_empty());
        let vmid = r.vmid.get().ok_or("it has no vmid")?;
        let node = text(r.node).ok_or("it has no node")?;
        let (status, backend_status) = status_of(r.status.str(), None);
        Ok(Some(Vm {
            vmid,
            name: own_name(r.name.get(), vmid),
            node,
            backend: BackendKind::Proxmox,
            kind: crate::guest::GuestKind::Vm,
            status,
            backend_status,
            cpus: r.maxcpu.get().map(|n| n.ceil() as u32),
            memory_bytes: r.maxmem.get(),
            disk_bytes: r.maxdisk.get(),
            uptime_s: r.uptime.get().filter(|_| status == Status::Running),
            tags: r.tags.get().map(|t| split_list(&t)).unwrap_or_default(),
            template: r.template.get() == Some(true),
            lock: text(r.lock),
            pool: text(r.pool),
        }))
    }

    /// How a warning names the entry.
    pub fn label(&self) -> String {
        let noun = if self.kind.str() == Some("lxc") {
            "CT"
        } else {
            "VM"
        };
        let id = match (self.vmid.as_ref(), self.id.as_ref()) {
            (Some(n), _) => format!("{noun} {n}"),
            (None, Some(id)) => crate::guest::names::quote(id),
            (None, None) => "an entry".into(),
        };
        let name = self.name.as_ref().filter(|n| !n.is_empty());
        let node = self.node.as_ref().filter(|n| !n.is_empty());
        match (name, node) {
            (Some(name), Some(node)) => format!("{id} ({name}) on {node}"),
            (Some(name), None) => format!("{id} ({name})"),
            (None, Some(node)) => format!("{id} on {node}"),
            (None, None) => id,
        }
    }
}

/// The API path of a VM: `/nodes/{node}/qemu/{vmid}`.
pub fn api_path(vm: &Vm) -> String {
    format!("/nodes/{}/qemu/{}", vm.node, vm.vmid)
}

/// The VM's own name: Proxmox shows a VM without one as `VM 100`.
pub fn own_name(name: Option<String>, vmid: u32) -> Option<String> {
    name.filter(|n| !n.is_empty() && *n != format!("VM {vmid}"))
}

/// The cluster's VMs, and the entries of its list that could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    /// The VMs, by VMID.
    pub vms: Vec<Vm>,
    /// What could not be read: a target naming one fails with the reason,
    /// not as not found.
    pub skipped: Vec<Skipped>,
}

/// An entry of the cluster's list that could not be read, and why.
#[derive(Debug)]
pub struct Skipped {
    /// Its VMID, when that could be read.
    pub vmid: Option<u32>,
    /// Its name, when that could be read.
    pub name: Option<String>,
    /// What is wrong with it: `its maxmem is "lots", not a whole number`.
    pub why: String,
}

/// Every guest of the cluster, VMs and containers, in one request.
pub fn resources(c: &Client) -> Result<Vec<Item<Resource>>> {
    c.get_as("/cluster/resources", &[("type", "vm".into())])
}

/// Every VM of the cluster, by VMID, in one request. An entry that cannot
/// be read is skipped with a warning naming it, never failing the rest.
pub fn list(c: &Client) -> Result<Listing> {
    let data = resources(c)?;
    let mut l = Listing {
        vms: Vec::with_capacity(data.len()),
        skipped: vec![],
    };
    for item in data {
        match item {
            Item::Record(r) => {
                let label = r.label();
                let (vmid, name) = (r.vmid.copied(), r.name.as_ref().cloned());
                match r.vm() {
                    Ok(Some(vm)) => l.vms.push(vm),
                    Ok(None) => {}
                    Err(why) => {
                        c.out
                            .warn(&format!("skipping {label} in the cluster's list: {why}"));
                        l.skipped.push(Skipped { vmid, name, why });
                    }
                }
            }
            Item::Other(what) => c.out.warn(&format!(
                "skipping an entry of the cluster's list: it is {what}"
            )),
        }
    }
    l.vms.sort_by_key(|v| v.vmid);
    Ok(l)
}

/// A VM on a node that does not answer: the cluster lists it with its
/// VMID, node and status `unknown`, and nothing else, no name.
pub fn unreadable(vm: &Vm) -> bool {
    // An unnamed VM on a live node may show `unknown` too, until its stats
    // exist; it still has its sizes.
    vm.status == Status::Unknown
        && vm.name.is_none()
        && vm.memory_bytes.is_none()
        && vm.cpus.is_none()
}

/// The VM a target means, found in the cluster list: by VMID when it has
/// one (a VMID is unique in a cluster), else by name, which must be unique.
/// A VM on a node that does not answer has no name in the list, so it
/// may be the one named: a lookup counts it as a possible match.
pub fn resolve(l: &Listing, t: &Target) -> Result<Vm> {
    let vms = &l.vms;
    let skipped = l.skipped.iter().find(|s| match t.vmid {
        Some(id) => s.vmid == Some(id),
        None => s.name.is_some() && s.name == t.name,
    });
    if let Some(s) = skipped {
        return Err(Error::failed(format!(
            "{} is in the cluster's list, but its entry cannot be read: {}",
            s.vmid.map_or_else(|| t.label(), |id| format!("VM {id}")),
            s.why
        ))
        .with_hint("the server sent a value guestkit cannot read; please report it, with the server's version (pveversion)"));
    }
    if let Some(id) = t.vmid {
        return vms.iter().find(|v| v.vmid == id).cloned().ok_or_else(|| {
            Error::not_found(format!("no VM with VMID {id} in the cluster"))
                .with_hint("vm-list shows the VMs there are")
        });
    }
    let name = t.name.as_deref().unwrap_or_default();
    let found: Vec<&Vm> = vms
        .iter()
        .filter(|v| v.name.as_deref() == Some(name))
        .collect();
    let mut silent: Vec<&str> = vms
        .iter()
        .filter(|v| unreadable(v))
        .map(|v| v.node.as_str())
        .collect();
    silent.sort_unstable();
    silent.dedup();
    let silent = match silent.as_slice() {
        [] => None,
        [one] => Some(format!("node {one} does not answer")),
        many => Some(format!("nodes {} do not answer", many.join(", "))),
    };
    match (found.as_slice(), silent) {
        ([one], None) => Ok((*one).clone()),
        ([], None) => {
            let mut e = Error::not_found(format!("no VM named {name} in the cluster"));
            if let Some(hint) =
                crate::guest::names::suggest(name, vms.iter().filter_map(|v| v.name.as_deref()))
            {
                e = e.with_hint(hint);
            }
            Err(e)
        }
        ([], Some(silent)) => Err(Error::unavailable(format!(
            "no VM named {name} on the nodes that answer; {silent}, and it may be there"
        ))
        .with_hint("try again when the node is back, or name the VM by its VMID")),
        ([one], Some(silent)) => Err(Error::conflict(format!(
            "{name} is VMID {} on {}, but {silent}, and a VM there may have the same name",
            one.vmid, one.node
        ))
        .with_hint(format!("name the VM by its VMID: {}", one.vmid))),
        (many, silent) => Err(Error::conflict(format!(
            "the name {name} is ambiguous: {}{}",
            many.iter()
                .map(|v| format!("VMID {} on {}", v.vmid, v.node))
                .collect::<Vec<_>>()
                .join(", "),
            silent.map(|s| format!(" ({s})")).unwrap_or_default()
        ))
        .with_hint("name the VM by its VMID instead")),
    }
}

/// Whether the node holds this VM.
pub fn exists(c: &Client, node: &str, vmid: u32) -> Result<bool> {
    match c.get(&format!("/nodes/{node}/qemu/{vmid}/status/current"), &[]) {
        Ok(_) => Ok(true),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// A VM's `status/current`, every field lenient.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Current {
    /// `running` or `stopped`.
    pub status: Field<String>,
    /// QEMU's own state, which says more: `paused`, `suspended`…
    pub qmpstatus: Field<String>,
    /// Its name.
    pub name: Field<String>,
    /// The lock held on it (`backup`, `migrate`…), if any.
    pub lock: Field<String>,
    /// Its tags, as one string (`a;b`).
    pub tags: Field<String>,
    /// Whether it is a template.
    pub template: Field<bool>,
    /// Its QEMU process's PID on the node, while it runs.
    pub pid: Field<u64>,
    /// Seconds since it started.
    pub uptime: Field<u64>,
    /// The CPUs it has.
    pub cpus: Field<f64>,
    /// Its memory, in bytes.
    pub maxmem: Field<u64>,
    /// The memory it uses, in bytes.
    pub mem: Field<u64>,
    /// CPU use, a fraction of its `cpus`.
    pub cpu: Field<f64>,
    /// `{"managed": 1, …}`: kept whole, as its shape varies.
    pub ha: Value,
}

impl Current {
    /// The run state in guestkit's vocabulary: a paused or suspended VM is
    /// paused.
    pub fn status(&self) -> Status {
        status_of(self.status.str(), self.qmpstatus.str()).0
    }

    /// Whether HA manages it: its starts and stops are then `hastart` and
    /// `hastop` tasks, which end before the VM changes state.
    pub fn ha_managed(&self) -> bool {
        lenient::read::<bool>(self.ha.get("managed")).get() == Some(true)
    }

    /// What is wrong with it, field by field, for warnings.
    pub fn malformed(&self) -> Vec<String> {
        [
            ("status", self.status.malformed()),
            ("qmpstatus", self.qmpstatus.malformed()),
            ("name", self.name.malformed()),
            ("lock", self.lock.malformed()),
            ("tags", self.tags.malformed()),
            ("template", self.template.malformed()),
            ("pid", self.pid.malformed()),
            ("uptime", self.uptime.malformed()),
            ("cpus", self.cpus.malformed()),
            ("maxmem", self.maxmem.malformed()),
            ("mem", self.mem.malformed()),
            ("cpu", self.cpu.malformed()),
        ]
        .into_iter()
        .filter_map(|(k, bad)| bad.map(|b| format!("its {k} is {b}")))
        .collect()
    }
}

/// The live state of a VM on its node.
pub fn current(c: &Client, vm: &Vm) -> Result<Current> {
    c.get_as(&format!("{}/status/current", api_path(vm)), &[])
}

/// A write that starts a task on a VM.
pub struct Op<'p> {
    /// The request's method.
    pub method: Method,
    /// The API path: `/nodes/{node}/qemu/{vmid}/status/start`.
    pub path: String,
    /// The request's parameters.
    pub params: Vec<(&'p str, String)>,
    /// The task type it starts (`qmstart`), to find it again after a lost answer.
    pub kind: &'static str,
    /// The VM the outcome is about, when not the one acted on (a clone's new VM).
    pub subject: Option<u32>,
    /// Return the task's UPID once it has begun, rather than follow it.
    pub no_wait: bool,
    /// When to stop following the task (exit 7); `None` for no bound.
    pub deadline: Option<Instant>,
}

/// Sends a write that starts a task (or, answering null, is done at once),
/// retrying while the VM is locked (up to the lock wait), and follows the
/// task unless `no_wait`. When the answer is
/// lost (596, a broken connection) the write is never sent again: the VM's
/// node is asked for its active task of that type, which is followed; with
/// none, `settled` re-reads the state and says whether the write took effect.
pub fn task(
    c: &Client,
    vm: &Vm,
    op: &Op,
    settled: &dyn Fn() -> Result<bool>,
) -> Result<Option<Upid>> {
    let (path, params, no_wait, deadline) = (&op.path, &op.params, op.no_wait, op.deadline);
    // The lock wait counts from the first lock error: a real server itself
    // waits ~10 s on a file lock before it answers with one.
    let mut give_up: Option<Instant> = None;
    let mut pause = Duration::from_millis(200);
    loop {
        let outcome = match c.write(op.method, path, params) {
            // A synchronous write (PUT config) is done when it answers.
            Ok(Value::Null) => Ok(None),
            Ok(data) => {
                let upid = task::upid_of(&data)?;
                if no_wait {
                    return Ok(Some(upid));
                }
                task::wait(c, &upid, &vm.label(), deadline).map(|_| Some(upid))
            }
            Err(Fail {
                error,
                uncertain: true,
                ..
            }) => {
                c.out.trace(&format!(
                    "{}: the outcome is unknown ({}); asking the node",
                    vm.label(),
                    error.message
                ));
                if let Some(upid) = active_task(c, vm, op.kind) {
                    c.out.trace(&format!(
                        "{}: following the {} task found running",
                        vm.label(),
                        op.kind
                    ));
                    if no_wait {
                        return Ok(Some(upid));
                    }
                    return task::wait(c, &upid, &vm.label(), deadline).map(|_| Some(upid));
                }
                return match settled() {
                    Ok(true) => Ok(None),
                    _ => Err(error.with_hint(format!(
                        "the server may still be working on it; check VM {} with vm-state before trying again",
                        op.subject.unwrap_or(vm.vmid)
                    ))),
                };
            }
            Err(f) => Err(f.error),
        };
        match outcome {
            Err(e)
                if is_lock(&e)
                    && Instant::now()
                        < *give_up.get_or_insert_with(|| Instant::now() + c.lock_wait) =>
            {
                // The last try comes at the end of the lock wait, not before.
                let end = give_up.expect("set by the guard");
                let wait = pause.min(end.saturating_duration_since(Instant::now()));
                c.out.trace(&format!(
                    "{}: {}; trying again in {} ms",
                    vm.label(),
                    e.message.trim(),
                    wait.as_millis()
                ));
                std::thread::sleep(wait);
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(mut e) if is_lock(&e) => {
                e.kind = Kind::Conflict;
                e.hint = Some(format!(
                    "another task holds it; waited {} s (proxmox.lock_wait); see the cluster's task list",
                    c.lock_wait.as_secs_f64()
                ));
                return Err(e);
            }
            other => return other,
        }
    }
}

/// The VM's running task of this type on its node, if there is one. Best
/// effort: it only saves a wait or a resend, so a failed look-up is none.
fn active_task(c: &Client, vm: &Vm, kind: &str) -> Option<Upid> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Entry {
        #[serde(rename = "type")]
        kind: Field<String>,
        upid: Field<String>,
    }
    let list: Vec<Item<Entry>> = match c.get_as(
        &format!("/nodes/{}/tasks", vm.node),
        &[("vmid", vm.vmid.to_string()), ("source", "active".into())],
    ) {
        Ok(list) => list,
        Err(e) => {
            c.out.trace(&format!(
                "{}: the node's active tasks could not be read: {}",
                vm.label(),
                e.message
            ));
            return None;
        }
    };
    list.into_iter()
        .filter_map(|t| match t {
            Item::Record(t) => Some(t),
            Item::Other(_) => None,
        })
        .filter(|t| {
            let ty = t.kind.as_ref().map_or("", String::as_str);
            ty == kind || Some(ty) == ha_kind(kind)
        })
        .find_map(|t| t.upid.get().as_deref().and_then(task::parse_upid))
}

/// The task an HA-managed guest gets instead of `kind`.
fn ha_kind(kind: &str) -> Option<&'static str> {
    match kind {
        "qmstart" => Some("hastart"),
        "qmstop" | "qmshutdown" => Some("hastop"),
        _ => None,
    }
}

/// Polls the VM's status until it is `want`, or fails at the deadline.
/// Says whether it had to wait (the VM was not in that state at first).
pub fn wait_for(c: &Client, vm: &Vm, want: Status, deadline: Instant) -> Result<bool> {
    let mut pause = Duration::from_millis(100);
    let _clear = task::ClearProgress(&c.out);
    let mut waited = false;
    loop {
        let s = current(c, vm)?.status();
        if s == want {
            return Ok(waited);
        }
        waited = true;
        if Instant::now() >= deadline {
            return Err(Error::timeout(format!(
                "VM {} is {}, not {}, at the deadline",
                vm.vmid,
                s.as_str(),
                want.as_str()
            )));
        }
        c.out.progress(Some(&format!(
            "{}: {} (waiting for {})",
            vm.label(),
            s.as_str(),
            want.as_str()
        )));
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 3 / 2).min(Duration::from_secs(1));
    }
}

/// Starts a VM (`POST /nodes/{node}/qemu/{vmid}/status/start`), or resumes
/// a paused one (`status/resume`); the task is followed unless `no_wait`,
/// and an HA-managed VM awaited until it runs. A running VM is
/// `changed:false`; a template is refused (exit 4).
pub fn start(c: &Client, vm: &Vm, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if cur.template.copied() == Some(true) || vm.template {
        return Err(
            Error::conflict(format!("VM {} is a template and cannot start", vm.vmid)).with_hint(
                format!(
                    "clone it and start the clone: vm-clone {} NEW --start",
                    vm.label()
                ),
            ),
        );
    }
    let already = Done::unchanged(Status::Running);
    // A paused or suspended VM is started by resuming it.
    let (action, kind) = match cur.status() {
        Status::Running => return Ok(already),
        Status::Paused => ("resume", "qmresume"),
        _ => ("start", "qmstart"),
    };
    if c.dry_run {
        return Ok(Done::changed(Status::Running));
    }
    let op = Op {
        method: Method::Post,
        path: format!("{}/status/{action}", api_path(vm)),
        params: vec![],
        kind,
        subject: None,
        no_wait,
        deadline: None,
    };
    let settled = || Ok(current(c, vm)?.status() == Status::Running);
    match task(c, vm, &op, &settled) {
        // Another task started it while this one waited for the lock.
        Err(e) if e.message.contains("already running") => Ok(already),
        r => finish(c, vm, no_wait, r?, Status::Running, HA_WAIT),
    }
}

/// How a VM is to be stopped.
pub struct StopHow {
    /// Seconds the guest gets to shut down.
    pub timeout: u64,
    /// Stop it hard when the shutdown times out.
    pub force: bool,
    /// Stop at once, without asking the guest.
    pub hard: bool,
}

/// Stops a VM: asks the guest (`POST …/status/shutdown`, with `forceStop`
/// when `force`), or with `hard` stops it at once (`status/stop`, with
/// `overrule-shutdown` to end a shutdown still waiting for the guest). A
/// stopped VM is `changed:false`; a paused one is refused (exit 4) unless
/// `hard` or `force`, which stop it hard. The task is followed for up to
/// the timeout plus 60 s.
pub fn stop(c: &Client, vm: &Vm, how: &StopHow, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if cur.status() == Status::Stopped {
        return Ok(Done::unchanged(Status::Stopped));
    }
    // A paused guest cannot take part in a shutdown: only a hard stop works.
    let paused = cur.status() == Status::Paused;
    if paused && !how.hard && !how.force {
        return Err(
            Error::conflict(format!("VM {} is paused and cannot shut down", vm.vmid)).with_hint(
                format!(
                    "vm-start {} resumes it; vm-stop --hard stops it at once",
                    vm.label()
                ),
            ),
        );
    }
    if c.dry_run {
        return Ok(Done::changed(Status::Stopped));
    }
    let (path, params, kind) = if how.hard || paused {
        // A hard stop ends a shutdown still waiting for the guest rather than
        // waiting for its lock. The parameter is sent only then: HA-managed
        // guests refuse it, and servers before 8.1 do not know it.
        let ha = cur.ha_managed();
        let mut p = vec![];
        if !ha && active_task(c, vm, "qmshutdown").is_some() {
            p.push(("overrule-shutdown", "1".to_string()));
        }
        (format!("{}/status/stop", api_path(vm)), p, "qmstop")
    } else {
        let mut p = vec![("timeout", how.timeout.to_string())];
        if how.force {
            p.push(("forceStop", "1".to_string()));
        }
        (format!("{}/status/shutdown", api_path(vm)), p, "qmshutdown")
    };
    let op = Op {
        method: Method::Post,
        path,
        params,
        kind,
        subject: None,
        no_wait,
        deadline: Some(Instant::now() + Duration::from_secs(how.timeout + 60)),
    };
    let settled = || Ok(current(c, vm)?.status() == Status::Stopped);
    let upid = task(c, vm, &op, &settled)
        .map_err(|e| {
            if e.kind == Kind::Timeout && !how.force && !how.hard {
                e.with_hint(format!(
                    "the guest did not shut down within {} s; --force stops it hard after the timeout, --hard at once",
                    how.timeout
                ))
            } else {
                e
            }
        })?;
    let ha_wait = Duration::from_secs(how.timeout + 60).max(HA_WAIT);
    finish(c, vm, no_wait, upid, Status::Stopped, ha_wait)
}

/// Reboots a running VM (`POST …/status/reboot`), and starts (or resumes)
/// one that is not, as `systemctl restart` does. A lost answer is an
/// error, as a reboot cannot be checked afterwards.
pub fn restart(c: &Client, vm: &Vm, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if cur.status() != Status::Running {
        return start(c, vm, no_wait);
    }
    if c.dry_run {
        return Ok(Done::changed(Status::Running));
    }
    // A reboot's effect cannot be read back, so an uncertain one is an error.
    let op = Op {
        method: Method::Post,
        path: format!("{}/status/reboot", api_path(vm)),
        params: vec![],
        kind: "qmreboot",
        subject: None,
        no_wait,
        deadline: None,
    };
    let upid = task(c, vm, &op, &|| Ok(false))?;
    finish(c, vm, no_wait, upid, Status::Running, HA_WAIT)
}

/// Deletes a VM (`DELETE /nodes/{node}/qemu/{vmid}`, a `qmdestroy` task).
/// A running (or paused) VM is refused (exit 4) unless `force`, which
/// stops it hard first; `purge` also removes it from backup jobs,
/// replication and HA, and destroys the disks of its VMID that its config
/// does not reference.
pub fn delete(c: &Client, vm: &Vm, purge: bool, force: bool, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if cur.status() != Status::Stopped {
        if !force {
            return Err(
                Error::conflict(format!("VM {} is running", vm.vmid)).with_hint(format!(
                    "stop it first (vm-stop {}), or delete with --force",
                    vm.label()
                )),
            );
        }
        if c.dry_run {
            return Ok(Done {
                changed: true,
                ..Done::default()
            });
        }
        let how = StopHow {
            timeout: 0,
            force: true,
            hard: true,
        };
        stop(c, vm, &how, false)?;
    }
    if c.dry_run {
        return Ok(Done {
            changed: true,
            ..Done::default()
        });
    }
    let mut params = vec![];
    if purge {
        params.push(("purge", "1".to_string()));
        params.push(("destroy-unreferenced-disks", "1".to_string()));
    }
    let settled = || match current(c, vm) {
        Err(e) if e.kind == Kind::NotFound => Ok(true),
        _ => Ok(false),
    };
    let op = Op {
        method: Method::Delete,
        path: api_path(vm),
        params,
        kind: "qmdestroy",
        subject: None,
        no_wait,
        deadline: None,
    };
    let upid = task(c, vm, &op, &settled)?;
    Ok(Done {
        changed: true,
        upid: upid.filter(|_| no_wait).map(|u| u.raw),
        ..Done::default()
    })
}

/// The result of a start, stop or restart whose task has ended (or, with
/// `no_wait`, begun). HA-managed guests get `hastart`/`hastop` tasks, which
/// end before the guest changes state: then the state itself is awaited.
fn finish(
    c: &Client,
    vm: &Vm,
    no_wait: bool,
    upid: Option<Upid>,
    want: Status,
    ha_wait: Duration,
) -> Result<Done> {
    if no_wait {
        return Ok(Done {
            changed: true,
            upid: upid.map(|u| u.raw),
            ..Done::default()
        });
    }
    let status = match upid.filter(|u| u.kind.starts_with("ha")) {
        Some(u) => {
            c.out.trace(&format!(
                "{}: {} is done; waiting for the guest to be {}",
                vm.label(),
                u.kind,
                want.as_str()
            ));
            wait_for(c, vm, want, Instant::now() + ha_wait)?;
            want
        }
        None => current(c, vm)?.status(),
    };
    Ok(Done::changed(status))
}

/// How long an HA-managed guest gets to reach the state its task asked for.
const HA_WAIT: Duration = Duration::from_secs(180);

/// A free VMID: the lowest, by /cluster/nextid (which does not reserve it).
pub fn next_vmid(c: &Client) -> Result<u32> {
    let v = c.get("/cluster/nextid", &[])?;
    lenient::read::<u32>(Some(&v))
        .get()
        .ok_or_else(|| Error::failed(format!("unexpected answer from /cluster/nextid: {v}")))
}

/// Runs `create` with the given VMID, or with free ones from
/// /cluster/nextid, taking the next when another creator won the race.
pub fn with_new_vmid<T>(
    c: &Client,
    given: Option<u32>,
    create: &dyn Fn(u32) -> Result<T>,
) -> Result<(u32, T)> {
    if let Some(id) = given {
        // Checked first, so that a VM found after a lost answer is ours.
        c.get("/cluster/nextid", &[("vmid", id.to_string())])
            .map_err(|e| Error::conflict(e.message))?;
        return create(id).map(|t| (id, t));
    }
    let mut tries = 0;
    loop {
        let id = next_vmid(c)?;
        match create(id) {
            // `VM 100 already exists`, `CT 100 already exists on node …`
            Err(e) if e.message.contains(&format!(" {id} already exists")) && tries < 5 => {
                c.out.trace(&format!(
                    "VMID {id} was taken meanwhile ({}); taking the next",
                    e.message.trim()
                ));
                tries += 1;
            }
            other => return other.map(|t| (id, t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vms() -> Vec<Vm> {
        #[derive(Deserialize)]
        struct Envelope {
            data: Vec<Resource>,
        }
        let e: Envelope =
            serde_json::from_str(include_str!("testdata/cluster-resources.json")).unwrap();
        e.data.into_iter().filter_map(|r| r.vm().unwrap()).collect()
    }

    fn listing(vms: Vec<Vm>) -> Listing {
        Listing {
            vms,
            skipped: vec![],
        }
    }

    /// Every number sent as a string, every false flag as "": the same VMs.
    #[test]
    fn perl_typed_resources_read_the_same() {
        fn perl(v: Value) -> Value {
            match v {
                Value::Number(n) => Value::String(n.to_string()),
                Value::Array(a) => Value::Array(a.into_iter().map(perl).collect()),
                Value::Object(o) => Value::Object(
                    o.into_iter()
                        .map(|(k, v)| match (k.as_str(), v) {
                            ("template", Value::Number(n)) if n.as_u64() == Some(0) => {
                                (k, Value::String(String::new()))
                            }
                            (_, v) => (k, perl(v)),
                        })
                        .collect(),
                ),
                v => v,
            }
        }
        let v: Value =
            serde_json::from_str(include_str!("testdata/cluster-resources.json")).unwrap();
        let typed: Vec<Resource> = serde_json::from_value(perl(v["data"].clone())).unwrap();
        let typed: Vec<Vm> = typed.into_iter().filter_map(|r| r.vm().unwrap()).collect();
        assert_eq!(format!("{typed:?}"), format!("{:?}", vms()));
    }

    #[test]
    fn resources_become_vm_records() {
        let v = vms();
        assert!(v.iter().all(|v| v.backend == BackendKind::Proxmox));
        let web = v.iter().find(|v| v.vmid == 100).unwrap();
        assert_eq!(web.name.as_deref(), Some("web"));
        assert_eq!(web.tags, vec!["ci", "prod"]);
        assert_eq!(web.status, Status::Running);
        assert_eq!(web.memory_bytes, Some(2147483648));
    }

    #[test]
    fn names_resolve_uniquely_or_list_the_candidates() {
        let mut v = vms();
        let t = |s: &str| crate::guest::target::parse_arg(crate::guest::GuestKind::Vm, s).unwrap();
        assert_eq!(resolve(&listing(v.clone()), &t("web")).unwrap().vmid, 100);
        assert_eq!(
            resolve(&listing(v.clone()), &t("wbe")).unwrap_err().kind,
            Kind::NotFound
        );
        let mut twin = v[0].clone();
        twin.vmid = 900;
        twin.node = "pve3".into();
        v.push(twin);
        let e = resolve(&listing(v.clone()), &t(v[0].name.clone().unwrap().as_str())).unwrap_err();
        assert_eq!(e.kind, Kind::Conflict);
        assert!(e.message.contains("VMID 900 on pve3"), "{}", e.message);
    }

    /// A guest on a node that does not answer has no name in the list:
    /// it may be the one named.
    #[test]
    fn guests_of_silent_nodes_count_as_possible_matches() {
        let t = |s: &str| crate::guest::target::parse_arg(crate::guest::GuestKind::Vm, s).unwrap();
        let silent: Resource = serde_json::from_str(
            r#"{"id":"qemu/700","type":"qemu","vmid":700,"node":"pve9","status":"unknown"}"#,
        )
        .unwrap();
        let silent = silent.vm().unwrap().unwrap();
        assert!(unreadable(&silent));
        let mut v = vms();
        v.push(silent);
        let l = listing(v);
        assert_eq!(resolve(&l, &t("web")).unwrap_err().kind, Kind::Conflict);
        assert_eq!(
            resolve(&l, &t("nowhere")).unwrap_err().kind,
            Kind::Unavailable
        );
        assert_eq!(resolve(&l, &t("100")).unwrap().vmid, 100);
        assert_eq!(resolve(&l, &t("700")).unwrap().node, "pve9");
    }

    #[test]
    fn an_unreadable_entry_is_named_when_asked_for() {
        let t = |s: &str| crate::guest::target::parse_arg(crate::guest::GuestKind::Vm, s).unwrap();
        let mut l = listing(vms());
        l.skipped.push(Skipped {
            vmid: Some(555),
            name: Some("odd".into()),
            why: "its maxmem is \"lots\", not a whole number".into(),
        });
        for name in ["odd", "555"] {
            let e = resolve(&l, &t(name)).unwrap_err();
            assert_eq!(e.kind, Kind::Failed);
            assert!(
                e.message.starts_with("VM 555 is in the cluster's list"),
                "{}",
                e.message
            );
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::guest::arbitrary::json;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a server sends as /cluster/resources, decoding it
        /// never panics, and what comes out is a VM with its node.
        #[test]
        fn resources_decode_or_fail(v in json()) {
            if let Ok(r) = serde_json::from_value::<Resource>(v)
                && let Ok(Some(vm)) = r.vm()
            {
                prop_assert!(!vm.node.is_empty());
            }
        }

        #[test]
        fn statuses_map_to_the_vocabulary(s in ".{0,12}", q in ".{0,12}") {
            let (status, word) = status_of(Some(&s), Some(&q));
            prop_assert!(Status::ALL.contains(&status));
            if let Some(w) = word {
                prop_assert!(!w.is_empty() || s.is_empty() || q.is_empty());
            }
        }
    }
}
