//! Containers on a Proxmox VE cluster (pve-container, `/nodes/{node}/lxc`):
//! their records from the cluster's list, and the operations the proxmox
//! container backend is made of. Like the VMs', every write that starts a
//! task is followed, retried while the container is locked, and never sent
//! twice after a lost answer.

use super::client::{Client, Method};
use super::lenient::{Field, Item};
use super::node;
use super::vm::{self, Op, Resource};
use crate::error::{Error, Kind, Result};
use crate::guest::record::{Container, ContainerState, Limits, Usage, Vm};
use crate::guest::{BackendKind, Status};
use serde::Deserialize;

/// A container of the cluster: where it is, and its record.
#[derive(Clone, Debug)]
pub struct Ct {
    /// Its VMID, unique in the cluster.
    pub vmid: u32,
    /// The node it is on.
    pub node: String,
    /// Its record, as ctr-list prints it.
    pub record: Container,
}

impl Ct {
    /// The container as the VM helpers take a guest (tasks and locks are
    /// the same for both kinds).
    fn guest(&self) -> Vm {
        Vm::made(self.vmid, &self.node, Some(&self.record.name))
    }

    fn path(&self) -> String {
        format!("/nodes/{}/lxc/{}", self.node, self.vmid)
    }
}

/// The name of a container without a hostname, as Proxmox shows it.
fn unnamed(vmid: u32) -> String {
    format!("CT{vmid}")
}

/// The container an entry of `/cluster/resources` is; `None` for anything
/// but a container; what is wrong with it otherwise.
fn of_resource(r: Resource) -> std::result::Result<Option<Ct>, String> {
    if r.kind.str() != Some("lxc") {
        return Ok(None);
    }
    if let Some(bad) = super::lenient::first_malformed(&[
        ("vmid", r.vmid.malformed()),
        ("node", r.node.malformed()),
        ("status", r.status.malformed()),
        ("name", r.name.malformed()),
        ("template", r.template.malformed()),
        ("lock", r.lock.malformed()),
    ]) {
        return Err(bad);
    }
    let vmid = r.vmid.get().ok_or("it has no vmid")?;
    let node = r
        .node
        .get()
        .filter(|n| !n.is_empty())
        .ok_or("it has no node")?;
    let name = r
        .name
        .get()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| unnamed(vmid));
    let (status, backend_status) = vm::status_of(r.status.str(), None);
    let mut c = Container::new(&name, BackendKind::Proxmox, status);
    c.backend_status = backend_status;
    c.node = Some(node.clone());
    c.vmid = Some(vmid);
    Ok(Some(Ct {
        vmid,
        node,
        record: c,
    }))
}

/// Every container of the cluster, in the one request that lists every
/// guest. An entry that cannot be read is skipped with a warning.
pub fn list(c: &Client) -> Result<Vec<Ct>> {
    let mut out = vec![];
    for item in vm::resources(c)? {
        match item {
            Item::Record(r) => {
                let label = r.label();
                match of_resource(r) {
                    Ok(Some(ct)) => out.push(ct),
                    Ok(None) => {}
                    Err(why) => c
                        .out
                        .warn(&format!("skipping {label} in the cluster's list: {why}")),
                }
            }
            Item::Other(what) => c.out.warn(&format!(
                "skipping an entry of the cluster's list: it is {what}"
            )),
        }
    }
    out.sort_by_key(|ct| ct.vmid);
    Ok(out)
}

/// The container named `name` among `cts`: one, or an error that says why
/// not (none; several of that hostname, which Proxmox allows).
pub fn find<'a>(cts: &'a [Ct], name: &str) -> Result<&'a Ct> {
    let found: Vec<&Ct> = cts.iter().filter(|c| c.record.name == name).collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::not_found("no such container in backend proxmox")),
        many => Err(Error::conflict(format!(
            "{} containers of the cluster are called {name}: {}",
            many.len(),
            many.iter()
                .map(|c| format!("CT {} on {}", c.vmid, c.node))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_hint("rename all but one (hostname in their configuration) to act on them by name")),
    }
}

/// A container's `status/current`, every field lenient.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Current {
    /// `running`, `stopped`, or `paused` when frozen.
    pub status: Field<String>,
    /// Its hostname.
    pub name: Field<String>,
    /// The lock held on it (`backup`, `create`…), if any.
    pub lock: Field<String>,
    /// Its init's PID on the node, while it runs.
    pub pid: Field<u32>,
    /// Seconds since it started.
    pub uptime: Field<u64>,
    /// The CPUs it may use.
    pub cpus: Field<f64>,
    /// Its memory limit, in bytes.
    pub maxmem: Field<u64>,
    /// The memory it uses, in bytes.
    pub mem: Field<u64>,
    /// CPU use, a fraction of its `cpus`.
    pub cpu: Field<f64>,
    /// Bytes received over its network.
    pub netin: Field<u64>,
    /// Bytes sent over its network.
    pub netout: Field<u64>,
    /// Bytes read from its disks.
    pub diskread: Field<u64>,
    /// Bytes written to its disks.
    pub diskwrite: Field<u64>,
}

impl Current {
    /// The run state in guestkit's vocabulary.
    pub fn status(&self) -> Status {
        vm::status_of(self.status.str(), None).0
    }
}

/// Reads `GET /nodes/{node}/lxc/{vmid}/status/current`.
pub fn current(c: &Client, ct: &Ct) -> Result<Current> {
    c.get_as(&format!("{}/status/current", ct.path()), &[])
}

/// Resource use, as status/current gives it (its `cpu` is a fraction of
/// the container's CPUs).
pub fn usage(c: &Client, ct: &Ct) -> Result<Usage> {
    let cur = current(c, ct)?;
    let running = cur.status() == Status::Running;
    Ok(Usage {
        cpu_share: cur
            .cpu
            .copied()
            .filter(|_| running)
            .map(|f| f * cur.cpus.copied().unwrap_or(1.0)),
        memory_bytes: cur.mem.copied().filter(|_| running),
        memory_limit_bytes: cur.maxmem.copied(),
        net_rx_bytes: cur.netin.copied(),
        net_tx_bytes: cur.netout.copied(),
        block_read_bytes: cur.diskread.copied(),
        block_write_bytes: cur.diskwrite.copied(),
        ..Usage::default()
    })
}

/// The container's run state, from its `status/current`.
pub fn status(c: &Client, ct: &Ct) -> Result<Status> {
    current(c, ct).map(|cur| cur.status())
}

/// The detailed record: the live state merged with the configuration.
pub fn state(c: &Client, ct: &Ct) -> Result<ContainerState> {
    let cur = current(c, ct)?;
    let cfg: serde_json::Map<String, serde_json::Value> =
        c.get_as(&format!("{}/config", ct.path()), &[])?;
    let text = |k: &str| cfg.get(k).and_then(super::config::text);
    let mut rec = ct.record.clone();
    let status = cur.status();
    rec.status = status;
    rec.pid = cur.pid.copied().filter(|_| status == Status::Running);
    rec.image = text("ostemplate");
    if status == Status::Running {
        rec.ipv4 = addresses(c, ct).unwrap_or_default();
    }
    Ok(ContainerState {
        container: rec,
        hostname: text("hostname"),
        command: text("entrypoint").map(|e| e.split_whitespace().map(String::from).collect()),
        memory_bytes: cur.mem.copied().filter(|_| status == Status::Running),
        memory_limit_bytes: cur.maxmem.copied(),
        cpus: text("cpulimit")
            .and_then(|l| l.parse::<f64>().ok())
            .filter(|l| *l > 0.0)
            .or(cur.cpus.copied()),
        cpu_time_s: None,
        log_path: None,
        exit: Default::default(),
    })
}

/// Whether the container's configuration has a network device (`netN`).
pub fn has_network(c: &Client, ct: &Ct) -> Result<bool> {
    let cfg: serde_json::Map<String, serde_json::Value> =
        c.get_as(&format!("{}/config", ct.path()), &[])?;
    Ok(cfg.keys().any(|k| super::config::is_net(k)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Interface {
    name: Field<String>,
    inet: Field<String>,
}

/// The container's IPv4 addresses (`…/interfaces`), without loopback.
fn addresses(c: &Client, ct: &Ct) -> Result<Vec<String>> {
    let list: Vec<Item<Interface>> = c.get_as(&format!("{}/interfaces", ct.path()), &[])?;
    Ok(list
        .into_iter()
        .filter_map(|i| match i {
            Item::Record(i) if i.name.str() != Some("lo") => i.inet.get(),
            _ => None,
        })
        .filter_map(|inet| inet.split('/').next().map(String::from))
        .filter(|ip| !ip.is_empty())
        .collect())
}

/// A write that starts a task on the container, followed to its end.
fn write(
    c: &Client,
    ct: &Ct,
    method: Method,
    path: String,
    params: Vec<(&str, String)>,
    kind: &'static str,
    settled: &dyn Fn() -> Result<bool>,
) -> Result<()> {
    let op = Op {
        method,
        path,
        params,
        kind,
        subject: None,
        no_wait: false,
        deadline: None,
    };
    vm::task(c, &ct.guest(), &op, settled).map(|_| ())
}

/// Starts it (`POST …/status/start`, a `vzstart` task, followed); one
/// found already running counts as started.
pub fn start(c: &Client, ct: &Ct) -> Result<()> {
    let settled = || Ok(status(c, ct)? == Status::Running);
    match write(
        c,
        ct,
        Method::Post,
        format!("{}/status/start", ct.path()),
        vec![],
        "vzstart",
        &settled,
    ) {
        // Started by someone else meanwhile: done.
        Err(e) if e.message.contains("already running") => Ok(()),
        r => r,
    }
}

/// As the local backends stop: a clean shutdown that waits `timeout_s`,
/// then stops it hard (`forceStop`); with `force`, a hard stop at once.
pub fn stop(c: &Client, ct: &Ct, timeout_s: u64, force: bool) -> Result<()> {
    let settled = || Ok(status(c, ct)? == Status::Stopped);
    let r = if force {
        write(
            c,
            ct,
            Method::Post,
            format!("{}/status/stop", ct.path()),
            vec![],
            "vzstop",
            &settled,
        )
    } else {
        let p = vec![
            ("timeout", timeout_s.to_string()),
            ("forceStop", "1".into()),
        ];
        write(
            c,
            ct,
            Method::Post,
            format!("{}/status/shutdown", ct.path()),
            p,
            "vzshutdown",
            &settled,
        )
    };
    match r {
        // Stopped by someone else meanwhile: done.
        Err(e) if e.message.contains("not running") => Ok(()),
        r => r,
    }
}

/// The container's limits, from its configuration: memory (MiB), cpulimit,
/// else cores.
pub fn limits(c: &Client, ct: &Ct) -> Result<Limits> {
    let cfg: serde_json::Map<String, serde_json::Value> =
        c.get_as(&format!("{}/config", ct.path()), &[])?;
    let num = |k: &str| {
        cfg.get(k)
            .and_then(super::config::text)
            .and_then(|v| v.parse::<f64>().ok())
    };
    Ok(Limits {
        memory_bytes: num("memory").map(|m| (m as u64) << 20),
        cpus: num("cpulimit").filter(|l| *l > 0.0).or(num("cores")),
        pids: None,
    })
}

/// Sets memory and CPUs in the configuration (`PUT config`): a running
/// container takes them at once.
pub fn set_limits(c: &Client, ct: &Ct, l: &Limits) -> Result<()> {
    let mut params: Vec<(&str, String)> = vec![];
    if let Some(b) = l.memory_bytes {
        params.push(("memory", b.div_ceil(1 << 20).to_string()));
    }
    if let Some(cpus) = l.cpus {
        params.push(("cores", (cpus.ceil() as u32).max(1).to_string()));
        params.push(("cpulimit", cpus.to_string()));
    }
    write(
        c,
        ct,
        Method::Put,
        format!("{}/config", ct.path()),
        params,
        "vzconfig",
        &|| Ok(false),
    )
}

/// Suspends (freezes) or resumes a running container.
pub fn freeze(c: &Client, ct: &Ct, suspend: bool) -> Result<()> {
    let (action, kind, want) = if suspend {
        ("suspend", "vzsuspend", Status::Paused)
    } else {
        ("resume", "vzresume", Status::Running)
    };
    let settled = || Ok(status(c, ct)? == want);
    write(
        c,
        ct,
        Method::Post,
        format!("{}/status/{action}", ct.path()),
        vec![],
        kind,
        &settled,
    )
}

/// Removes the container, its disks, and its place in backup jobs, HA and
/// replication.
pub fn delete(c: &Client, ct: &Ct) -> Result<()> {
    let settled = || match status(c, ct) {
        Err(e) if e.kind == Kind::NotFound => Ok(true),
        _ => Ok(false),
    };
    write(
        c,
        ct,
        Method::Delete,
        ct.path(),
        vec![
            ("purge", "1".into()),
            ("destroy-unreferenced-disks", "1".into()),
        ],
        "vzdestroy",
        &settled,
    )
}

/// What a new container is made of.
pub struct New<'a> {
    /// Its hostname: the name the ctr-* tools know it by.
    pub hostname: &'a str,
    /// The node to make it on; `None` for proxmox.node, else the online
    /// node with the most free memory.
    pub node: Option<&'a str>,
    /// `STORAGE:vztmpl/FILE`, or a short name found among the node's.
    pub template: &'a str,
    /// Its memory, in bytes (sent in MiB, rounded up); `None` for the
    /// server's default.
    pub memory_bytes: Option<u64>,
    /// Its CPUs: cores rounded up, and `cpulimit` for a fraction.
    pub cpus: Option<f64>,
    /// The root disk's size in bytes, rounded up to whole GiB; 8 GiB when
    /// `None`.
    pub disk_bytes: Option<u64>,
    /// The root disk's storage; `None` for proxmox.storage, else the node's
    /// active storage for `rootdir` with the most room.
    pub storage: Option<&'a str>,
    /// `name=eth0,bridge=…[,ip=…][,gw=…]`, or none.
    pub net0: Option<String>,
    /// Environment variables, sent as the `env` setting.
    pub env: &'a [(String, String)],
    /// The command to run as its `entrypoint`; empty for the template's.
    pub command: &'a [String],
}

/// Makes a container: the node picked, the template resolved, a VMID taken
/// (the next when another creator wins the race), the create task
/// followed. A create whose task fails leaves nothing: what the server
/// left of it is removed.
pub fn create(c: &Client, new: &New) -> Result<Ct> {
    let node = node::pick(c, new.node)?;
    let template = template(c, &node, new.template)?;
    let storage = node::rootfs_storage(c, &node, new.storage)?;
    let gib = new.disk_bytes.map_or(8, |b| b.div_ceil(1 << 30).max(1));
    let mut params: Vec<(&str, String)> = vec![
        ("ostemplate", template.clone()),
        ("hostname", new.hostname.to_string()),
        ("rootfs", format!("{storage}:{gib}")),
        ("unprivileged", "1".into()),
    ];
    if let Some(b) = new.memory_bytes {
        params.push(("memory", b.div_ceil(1 << 20).max(16).to_string()));
    }
    if let Some(cpus) = new.cpus {
        params.push(("cores", (cpus.ceil() as u32).max(1).to_string()));
        if cpus.fract() != 0.0 {
            params.push(("cpulimit", cpus.to_string()));
        }
    }
    if let Some(n) = &new.net0 {
        params.push(("net0", n.clone()));
    }
    if !new.env.is_empty() {
        let env: Vec<String> = new.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        params.push(("env", env.join("\0")));
    }
    if !new.command.is_empty() {
        params.push(("entrypoint", crate::guest::names::shell_words(new.command)));
    }
    let (vmid, _) = vm::with_new_vmid(c, None, &|id| {
        let ct = Ct {
            vmid: id,
            node: node.clone(),
            record: Container::new(new.hostname, BackendKind::Proxmox, Status::Stopped),
        };
        let mut p = params.clone();
        p.push(("vmid", id.to_string()));
        let exists = || match status(c, &ct) {
            Ok(_) => Ok(true),
            Err(e) if e.kind == Kind::NotFound => Ok(false),
            Err(e) => Err(e),
        };
        let made = write(
            c,
            &ct,
            Method::Post,
            format!("/nodes/{node}/lxc"),
            p,
            "vzcreate",
            &exists,
        );
        if let Err(e) = made {
            // A failed create task may leave the container behind (locked
            // `create`, or half unpacked): remove it, so nothing is left.
            if e.message.contains(&format!(" {id} already exists")) {
                return Err(e);
            }
            if exists().unwrap_or(false) {
                let _ = delete(c, &ct);
            }
            return Err(e);
        }
        Ok(())
    })?;
    let mut record = Container::new(new.hostname, BackendKind::Proxmox, Status::Stopped);
    record.node = Some(node.clone());
    record.vmid = Some(vmid);
    record.image = Some(template);
    Ok(Ct { vmid, node, record })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Volume {
    volid: Field<String>,
}

/// An OS template: `STORAGE:vztmpl/FILE` as given, or a short name
/// (`debian-12`) matched against the templates on the node's storages:
/// exactly one must start with it.
pub fn template(c: &Client, node: &str, given: &str) -> Result<String> {
    if given.contains(":vztmpl/") {
        return Ok(given.to_string());
    }
    let mut all = vec![];
    for storage in node::storages_with(c, node, "vztmpl")? {
        let list: Vec<Item<Volume>> = c.get_as(
            &format!("/nodes/{node}/storage/{storage}/content"),
            &[("content", "vztmpl".into())],
        )?;
        all.extend(list.into_iter().filter_map(|v| match v {
            Item::Record(v) => v.volid.get(),
            Item::Other(_) => None,
        }));
    }
    let file = |volid: &str| volid.rsplit('/').next().unwrap_or(volid).to_string();
    let matching: Vec<&String> = all.iter().filter(|v| file(v).starts_with(given)).collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let mut e =
                Error::not_found(format!("no OS template on node {node} starts with {given}"));
            e = e.with_hint(if all.is_empty() {
                "download one with pveam (pveam update; pveam available; pveam download local debian-12-standard_…)".to_string()
            } else {
                format!(
                    "the node has: {}",
                    all.iter().map(|v| file(v)).collect::<Vec<_>>().join(", ")
                )
            });
            Err(e)
        }
        many => Err(Error::conflict(format!(
            "{given} could be any of {} templates: {}",
            many.len(),
            many.iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_hint("give more of the name, or STORAGE:vztmpl/FILE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_come_from_the_cluster_list() {
        let r: Resource = serde_json::from_str(
            r#"{"id":"lxc/200","type":"lxc","vmid":"200","node":"pve1","status":"running","name":"web","template":""}"#,
        )
        .unwrap();
        let ct = of_resource(r).unwrap().unwrap();
        assert_eq!((ct.vmid, ct.node.as_str()), (200, "pve1"));
        assert_eq!(ct.record.name, "web");
        assert_eq!(ct.record.status, Status::Running);
        assert_eq!(ct.record.vmid, Some(200));
        let unnamed: Resource =
            serde_json::from_str(r#"{"type":"lxc","vmid":201,"node":"pve2","status":"unknown"}"#)
                .unwrap();
        assert_eq!(of_resource(unnamed).unwrap().unwrap().record.name, "CT201");
        let vm: Resource =
            serde_json::from_str(r#"{"type":"qemu","vmid":100,"node":"pve1"}"#).unwrap();
        assert!(of_resource(vm).unwrap().is_none());
    }

    #[test]
    fn names_shared_on_the_cluster_are_ambiguous() {
        let ct = |vmid, name: &str| Ct {
            vmid,
            node: "pve1".into(),
            record: Container::new(name, BackendKind::Proxmox, Status::Stopped),
        };
        let cts = vec![ct(200, "a"), ct(201, "b"), ct(202, "b")];
        assert_eq!(find(&cts, "a").unwrap().vmid, 200);
        assert_eq!(find(&cts, "b").unwrap_err().kind, Kind::Conflict);
        assert_eq!(find(&cts, "c").unwrap_err().kind, Kind::NotFound);
    }
}
