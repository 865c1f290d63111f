//! Virtual machines on a Proxmox VE cluster: their records read from the
//! API, how a target (name or VMID) is found on whichever node holds it,
//! and the operations the vm-* tools share.

use super::client::{Client, Fail, Method, is_lock};
use super::task::{self, Upid};
use crate::error::{Error, Kind, Result};
use crate::guest::record::{Done, Vm};
use crate::guest::target::Target;
use crate::guest::{BackendKind, Status};
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, Instant};

fn u64_of(v: &Value, k: &str) -> Option<u64> {
    match v.get(k)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn str_of(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

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

/// One `/cluster/resources` entry, as the server sends it. Read straight
/// into this struct rather than a `Value`: a big cluster's list parses
/// several times faster. Numbers are f64, as some arrive as floats.
#[derive(Debug, Deserialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub vmid: Option<f64>,
    pub node: Option<String>,
    pub status: Option<String>,
    pub name: Option<String>,
    pub uptime: Option<f64>,
    pub template: Option<f64>,
    pub maxcpu: Option<f64>,
    pub maxmem: Option<f64>,
    pub maxdisk: Option<f64>,
    pub tags: Option<String>,
    pub lock: Option<String>,
    pub pool: Option<String>,
}

impl Resource {
    /// The VM this entry is; `None` for anything but a VM.
    pub fn vm(self) -> Option<Vm> {
        let r = self;
        if r.kind != "qemu" {
            return None;
        }
        let (status, backend_status) = status_of(r.status.as_deref(), None);
        let int = |n: Option<f64>| n.map(|n| n as u64);
        let text = |s: Option<String>| s.filter(|s| !s.is_empty());
        let vmid = int(r.vmid)? as u32;
        Some(Vm {
            vmid,
            name: own_name(r.name, vmid),
            node: text(r.node)?,
            backend: BackendKind::Proxmox,
            status,
            backend_status,
            cpus: int(r.maxcpu).map(|n| n as u32),
            memory_bytes: int(r.maxmem),
            disk_bytes: int(r.maxdisk),
            uptime_s: int(r.uptime).filter(|_| status == Status::Running),
            tags: r.tags.map(|t| split_list(&t)).unwrap_or_default(),
            template: int(r.template) == Some(1),
            lock: text(r.lock),
            pool: text(r.pool),
        })
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

/// Every VM of the cluster, by VMID, in one request.
pub fn list(c: &Client) -> Result<Vec<Vm>> {
    let data: Vec<Resource> = c.get_as("/cluster/resources", &[("type", "vm".into())])?;
    let mut vms: Vec<Vm> = data.into_iter().filter_map(Resource::vm).collect();
    vms.sort_by_key(|v| v.vmid);
    Ok(vms)
}

/// The VM a target means, found in the cluster list: by VMID when it has
/// one (a VMID is unique in a cluster), else by name, which must be unique.
pub fn resolve(vms: &[Vm], t: &Target) -> Result<Vm> {
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
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let mut e = Error::not_found(format!("no VM named {name} in the cluster"));
            if let Some(hint) =
                crate::guest::names::suggest(name, vms.iter().filter_map(|v| v.name.as_deref()))
            {
                e = e.with_hint(hint);
            }
            Err(e)
        }
        many => Err(Error::conflict(format!(
            "the name {name} is ambiguous: {}",
            many.iter()
                .map(|v| format!("VMID {} on {}", v.vmid, v.node))
                .collect::<Vec<_>>()
                .join(", ")
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

/// The live state of a VM on its node.
pub fn current(c: &Client, vm: &Vm) -> Result<Value> {
    c.get(&format!("{}/status/current", api_path(vm)), &[])
}

pub fn current_status(cur: &Value) -> Status {
    status_of(
        cur.get("status").and_then(Value::as_str),
        cur.get("qmpstatus").and_then(Value::as_str),
    )
    .0
}

/// A write that starts a task on a VM.
pub struct Op<'p> {
    pub method: Method,
    pub path: String,
    pub params: Vec<(&'p str, String)>,
    /// The task type it starts (`qmstart`), to find it again after a lost answer.
    pub kind: &'static str,
    /// The VM the outcome is about, when not the one acted on (a clone's new VM).
    pub subject: Option<u32>,
    pub no_wait: bool,
    pub deadline: Option<Instant>,
}

/// Sends a write that starts a task, retrying while the VM is locked (up to
/// the lock wait), and follows the task unless `no_wait`. When the answer is
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
                if let Some(upid) = active_task(c, vm, op.kind)? {
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
                    "another task holds the VM; waited {} s (proxmox.lock_wait); see the cluster's task list",
                    c.lock_wait.as_secs_f64()
                ));
                return Err(e);
            }
            other => return other,
        }
    }
}

/// The VM's running task of this type on its node, if there is one.
fn active_task(c: &Client, vm: &Vm, kind: &str) -> Result<Option<Upid>> {
    let list = c.get(
        &format!("/nodes/{}/tasks", vm.node),
        &[("vmid", vm.vmid.to_string()), ("source", "active".into())],
    )?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            let ty = t.get("type").and_then(Value::as_str).unwrap_or("");
            ty == kind || Some(ty) == ha_kind(kind)
        })
        .filter_map(|t| {
            t.get("upid")
                .and_then(Value::as_str)
                .and_then(task::parse_upid)
        })
        .next())
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
    let _clear = task::ClearProgress(c.out);
    let mut waited = false;
    loop {
        let s = current_status(&current(c, vm)?);
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

pub fn start(c: &Client, vm: &Vm, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if cur.get("template").and_then(Value::as_u64) == Some(1) || vm.template {
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
    let (action, kind) = match current_status(&cur) {
        Status::Running => return Ok(already),
        Status::Paused => ("resume", "qmresume"),
        _ => ("start", "qmstart"),
    };
    let op = Op {
        method: Method::Post,
        path: format!("{}/status/{action}", api_path(vm)),
        params: vec![],
        kind,
        subject: None,
        no_wait,
        deadline: None,
    };
    let settled = || Ok(current_status(&current(c, vm)?) == Status::Running);
    match task(c, vm, &op, &settled) {
        // Another task started it while this one waited for the lock.
        Err(e) if e.message.contains("already running") => Ok(already),
        r => finish(c, vm, no_wait, r?, Status::Running, HA_WAIT),
    }
}

pub struct StopHow {
    /// Seconds the guest gets to shut down.
    pub timeout: u64,
    /// Stop it hard when the shutdown times out.
    pub force: bool,
    /// Stop at once, without asking the guest.
    pub hard: bool,
}

pub fn stop(c: &Client, vm: &Vm, how: &StopHow, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if current_status(&cur) == Status::Stopped {
        return Ok(Done::unchanged(Status::Stopped));
    }
    // A paused guest cannot take part in a shutdown: only a hard stop works.
    let paused = current_status(&cur) == Status::Paused;
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
    let (path, params, kind) = if how.hard || paused {
        // A hard stop ends a shutdown still waiting for the guest rather than
        // waiting for its lock. The parameter is sent only then: HA-managed
        // guests refuse it, and servers before 8.1 do not know it.
        let ha = cur.pointer("/ha/managed").and_then(Value::as_u64) == Some(1);
        let mut p = vec![];
        if !ha && active_task(c, vm, "qmshutdown")?.is_some() {
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
    let settled = || Ok(current_status(&current(c, vm)?) == Status::Stopped);
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

pub fn restart(c: &Client, vm: &Vm, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if current_status(&cur) != Status::Running {
        return start(c, vm, no_wait);
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

pub fn delete(c: &Client, vm: &Vm, purge: bool, force: bool, no_wait: bool) -> Result<Done> {
    let cur = current(c, vm)?;
    if current_status(&cur) != Status::Stopped {
        if !force {
            return Err(
                Error::conflict(format!("VM {} is running", vm.vmid)).with_hint(format!(
                    "stop it first (vm-stop {}), or delete with --force",
                    vm.label()
                )),
            );
        }
        let how = StopHow {
            timeout: 0,
            force: true,
            hard: true,
        };
        stop(c, vm, &how, false)?;
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
        None => current_status(&current(c, vm)?),
    };
    Ok(Done::changed(status))
}

/// How long an HA-managed guest gets to reach the state its task asked for.
const HA_WAIT: Duration = Duration::from_secs(180);

/// A free VMID: the lowest, by /cluster/nextid (which does not reserve it).
pub fn next_vmid(c: &Client) -> Result<u32> {
    let v = c.get("/cluster/nextid", &[])?;
    let n = match &v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    n.map(|n| n as u32)
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
            Err(e) if e.message.contains(&format!("VM {id} already exists")) && tries < 5 => {
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

/// The node new VMs go to: the given one, else the online node with the most
/// free memory.
pub fn pick_node(c: &Client, given: Option<&str>) -> Result<String> {
    if let Some(n) = given.or(c.cfg.node.as_deref()) {
        return Ok(n.to_string());
    }
    let nodes = c.get("/nodes", &[])?;
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n.get("status").and_then(Value::as_str) == Some("online"))
        .max_by_key(|n| {
            u64_of(n, "maxmem")
                .unwrap_or(0)
                .saturating_sub(u64_of(n, "mem").unwrap_or(0))
        })
        .and_then(|n| str_of(n, "node"))
        .ok_or_else(|| Error::unavailable("no node of the cluster is online"))
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
        e.data.into_iter().filter_map(Resource::vm).collect()
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
        assert_eq!(resolve(&v, &t("web")).unwrap().vmid, 100);
        assert_eq!(resolve(&v, &t("wbe")).unwrap_err().kind, Kind::NotFound);
        let mut twin = v[0].clone();
        twin.vmid = 900;
        twin.node = "pve3".into();
        v.push(twin);
        let e = resolve(&v, &t(v[0].name.clone().unwrap().as_str())).unwrap_err();
        assert_eq!(e.kind, Kind::Conflict);
        assert!(e.message.contains("VMID 900 on pve3"), "{}", e.message);
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
                && let Some(vm) = r.vm()
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
