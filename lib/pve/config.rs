//! A VM's configuration: as the server keeps it (a flat map of keys to
//! values, devices as property strings), read as a record, and changed.
//!
//! It is read from `GET …/pending`, which gives in one request the values
//! in effect, the changes waiting for the next start, and the digest, so a
//! read is one request after name resolution. A change is checked against
//! the schema (settings.rs) before anything is sent, compared with what is
//! there (nothing differs: nothing is sent, `changed:false`), and sent
//! with the digest it was computed from, so that a configuration changed
//! by someone else meanwhile is refused (exit 4) rather than overwritten:
//! `PUT config` (synchronous) for a stopped VM, `POST config` (a task) when
//! the VM runs (hotplug) or a disk is allocated, as the API asks.

use super::client::{Client, Method};
use super::lenient::{Field, Item};
use super::vm::{self, Op};
use crate::error::{Error, Result};
use crate::guest::record::{Disk, Done, Nic, Vm, VmConfig};
use crate::guest::units::parse_size;
use crate::guest::{BackendKind, Status};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The configuration as written in the VM's config file: every value a
/// string, however the server typed it (`2048` and `"2048"` alike, a
/// boolean as 1 or 0), so that records do not change with the server's
/// typing; without the digest, which is not configuration.
pub fn as_written(config: Map<String, Value>) -> Map<String, Value> {
    config
        .into_iter()
        .filter(|(k, _)| k != "digest")
        .filter_map(|(k, v)| text(&v).map(|t| (k, Value::String(t))))
        .collect()
}

/// A value as config text; none for null.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// A VM's configuration as `/pending` gives it.
#[derive(Debug, Default)]
pub struct Config {
    /// The config file's SHA-1, which a write sends back to detect a change
    /// made meanwhile.
    pub digest: Option<String>,
    /// The values in effect.
    pub current: BTreeMap<String, String>,
    /// Changes waiting for the next start: a new value, or None to delete.
    pub pending: BTreeMap<String, Option<String>>,
}

impl Config {
    /// What a key will be once the pending changes apply.
    pub fn effective(&self, key: &str) -> Option<&str> {
        match self.pending.get(key) {
            Some(p) => p.as_deref(),
            None => self.current.get(key).map(String::as_str),
        }
    }
}

/// One entry of `/pending`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Entry {
    key: Field<String>,
    value: Value,
    pending: Value,
    delete: Field<u64>,
}

/// Reads a VM's configuration (`GET /nodes/{node}/qemu/{vmid}/pending`).
pub fn read(c: &Client, vm: &Vm) -> Result<Config> {
    let list: Vec<Item<Entry>> = c.get_as(&format!("{}/pending", vm::api_path(vm)), &[])?;
    let mut cfg = Config::default();
    for e in list {
        let Item::Record(e) = e else { continue };
        let Some(key) = e.key.get() else { continue };
        if key == "digest" {
            cfg.digest = text(&e.value);
            continue;
        }
        if let Some(v) = text(&e.value) {
            cfg.current.insert(key.clone(), v);
        }
        if e.delete.copied().unwrap_or(0) > 0 {
            cfg.pending.insert(key, None);
        } else if let Some(p) = text(&e.pending) {
            cfg.pending.insert(key, Some(p));
        }
    }
    Ok(cfg)
}

/// `virtio=BC:…,bridge=vmbr0`: the bare first value (if any) and the rest.
fn props(value: &str) -> (Option<&str>, Vec<(&str, &str)>) {
    let mut bare = None;
    let mut rest = vec![];
    for (i, part) in value.split(',').enumerate() {
        match part.split_once('=') {
            Some(kv) => rest.push(kv),
            None if i == 0 => bare = Some(part),
            None => rest.push((part, "")),
        }
    }
    (bare, rest)
}

/// `32G`, `512M`, `1T` (a size as the server writes it) → bytes.
fn size_bytes(s: &str) -> Option<u64> {
    parse_size(s).ok()
}

/// Whether a config key is a disk's: `ide`, `sata`, `scsi`, `virtio`,
/// `efidisk` or `tpmstate` and a number (`scsi0`).
pub fn is_disk(key: &str) -> bool {
    ["ide", "sata", "scsi", "virtio", "efidisk", "tpmstate"]
        .iter()
        .any(|d| {
            key.strip_prefix(d)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Whether a config key is a network device's: `net` and a number (`net0`),
/// for VMs and containers alike.
pub fn is_net(key: &str) -> bool {
    key.strip_prefix("net")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Devices in their natural order: scsi2 before scsi10.
fn device_order(k: &str) -> (String, u32) {
    let base = k.trim_end_matches(|c: char| c.is_ascii_digit());
    (base.to_string(), k[base.len()..].parse().unwrap_or(0))
}

fn disk(device: &str, value: &str) -> Disk {
    let (volume, rest) = props(value);
    let mut options = BTreeMap::new();
    let (mut size, mut media) = (None, "disk".to_string());
    let mut volume = volume.map(String::from);
    for (k, v) in rest {
        match k {
            "size" => size = size_bytes(v),
            "media" => media = v.to_string(),
            "file" => volume = Some(v.to_string()),
            _ => {
                options.insert(k.to_string(), v.to_string());
            }
        }
    }
    let volume = volume.filter(|v| v != "none");
    Disk {
        device: device.to_string(),
        storage: volume
            .as_deref()
            .and_then(|v| v.split_once(':'))
            .map(|(s, _)| s.to_string()),
        volume,
        size_bytes: size,
        media,
        options,
    }
}

fn nic(device: &str, value: &str) -> Nic {
    let (first, rest) = props(value);
    let mut n = Nic {
        device: device.to_string(),
        model: first.map(String::from),
        ..Nic::default()
    };
    for (k, v) in rest {
        match k {
            "model" => n.model = Some(v.to_string()),
            "macaddr" => n.mac = Some(v.to_string()),
            "bridge" => n.bridge = Some(v.to_string()),
            "tag" => n.vlan = v.parse().ok(),
            "firewall" => n.firewall = v == "1",
            // `virtio=BC:24:…`: the model, and its MAC address.
            m if n.mac.is_none() && n.model.is_none() && v.contains(':') => {
                n.model = Some(m.to_string());
                n.mac = Some(v.to_string());
            }
            _ => {
                n.options.insert(k.to_string(), v.to_string());
            }
        }
    }
    n
}

fn flag(value: Option<&str>) -> bool {
    // `agent: enabled=1,fstrim_cloned_disks=1` or `agent: 1`.
    value.is_some_and(|v| {
        let (bare, rest) = props(v);
        bare.or_else(|| rest.iter().find(|(k, _)| *k == "enabled").map(|(_, v)| *v)) == Some("1")
    })
}

fn mib(value: Option<&str>) -> Option<u64> {
    let v = value?;
    let v = v.split(',').next()?.trim_start_matches("current=");
    v.parse::<u64>().ok().map(|m| m << 20)
}

/// The record vm-config prints: the values in effect, with Proxmox's
/// defaults where a key is not set, and what waits for the next start.
pub fn record(vm: &Vm, cfg: &Config) -> VmConfig {
    let cur = |k: &str| cfg.current.get(k).map(String::as_str);
    let mut disks: Vec<Disk> = cfg
        .current
        .iter()
        .filter(|(k, _)| is_disk(k))
        .map(|(k, v)| disk(k, v))
        .collect();
    disks.sort_by_key(|d| device_order(&d.device));
    let mut nets: Vec<Nic> = cfg
        .current
        .iter()
        .filter(|(k, _)| is_net(k))
        .map(|(k, v)| nic(k, v))
        .collect();
    nets.sort_by_key(|n| device_order(&n.device));
    let boot = cur("boot")
        .and_then(|b| b.split(',').find_map(|p| p.strip_prefix("order=")))
        .map(|o| {
            o.split(';')
                .filter(|d| !d.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let count = |k: &str, default: u32| cur(k).and_then(|v| v.parse().ok()).unwrap_or(default);
    VmConfig {
        vmid: vm.vmid,
        name: vm::own_name(cur("name").map(String::from), vm.vmid).or(vm.name.clone()),
        node: vm.node.clone(),
        backend: BackendKind::Proxmox,
        kind: crate::guest::GuestKind::Vm,
        memory_bytes: mib(cur("memory")).unwrap_or(512 << 20),
        balloon_bytes: mib(cur("balloon")),
        cores: count("cores", 1),
        sockets: count("sockets", 1),
        cpu: cur("cpu").map(|c| {
            c.split(',')
                .next()
                .unwrap_or(c)
                .trim_start_matches("cputype=")
                .to_string()
        }),
        disks,
        nets,
        tags: cur("tags").map(vm::split_list).unwrap_or_default(),
        description: cur("description").map(String::from),
        onboot: flag(cur("onboot")),
        agent: flag(cur("agent")),
        ostype: cur("ostype").map(String::from),
        boot,
        digest: cfg.digest.clone(),
        pending: cfg.pending.clone(),
        config: cfg
            .current
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    }
}

/// A change asked for on the command line, checked but not yet compared
/// with any VM.
#[derive(Debug, Default)]
pub struct Change {
    /// Settings, their values already in the server's units.
    pub set: Vec<(String, String)>,
    /// Settings to remove.
    pub delete: Vec<String>,
    /// `+ci` adds a tag, `-ci` removes one (`ci` adds it too).
    pub tags: Vec<String>,
    /// Refuse the change unless the config still has this digest.
    pub digest: Option<String>,
}

impl Change {
    /// Whether it asks for nothing: no setting, deletion or tag.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty() && self.tags.is_empty()
    }
}

/// Disk keys take a new volume as `STORAGE:SIZE`: SIZE in guestkit's units
/// (`10G`) is written as the server's whole GiB; `SIZE` alone goes on the
/// node's default storage, filled in once the node is known.
const DEFAULT_STORAGE: &str = "\u{0}default";

/// Parses `--set KEY=VALUE` and `--delete KEY`: every key a VM setting
/// (a usage error naming the nearest one otherwise), sizes converted
/// (memory and balloon in MiB, new disks in GiB), flags as 1/0, and each
/// value checked against the schema.
pub fn parse_change(set: &[String], delete: &[String], tags: &[String]) -> Result<Change> {
    let mut ch = Change::default();
    let unknown = |k: &str| {
        let mut e = Error::usage(format!("{k} is not a VM setting"));
        if let Some(h) = crate::guest::names::suggest(
            k,
            super::settings::names()
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        ) {
            e = e.with_hint(h);
        }
        e
    };
    for kv in set {
        let (k, v) = kv
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| Error::usage(format!("--set {kv}: expected KEY=VALUE")))?;
        if !super::settings::known(k) {
            return Err(unknown(k));
        }
        let v =
            in_server_units(k, v).map_err(|why| Error::usage(format!("--set {k}={v}: {why}")))?;
        if !v.starts_with(DEFAULT_STORAGE) {
            super::settings::check(k, &v)
                .map_err(|why| Error::usage(format!("--set {k}: {why}")))?;
        }
        ch.set.retain(|(x, _)| x != k);
        ch.set.push((k.to_string(), v));
    }
    for k in delete {
        if !super::settings::known(k) {
            return Err(unknown(k));
        }
        if ch.set.iter().any(|(x, _)| x == k) {
            return Err(Error::usage(format!("{k} is both set and deleted")));
        }
        if !ch.delete.contains(k) {
            ch.delete.push(k.clone());
        }
    }
    for t in tags {
        let name = t.trim_start_matches(['+', '-']);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-+.".contains(c))
        {
            return Err(Error::usage(format!(
                "--tag {t}: a tag is letters, digits and _ - + . (with + to add it, - to remove it)"
            )));
        }
        ch.tags.push(t.clone());
    }
    if ch.set.iter().any(|(k, _)| k == "tags") && !ch.tags.is_empty() {
        return Err(Error::usage("--set tags=… and --tag together: use one"));
    }
    Ok(ch)
}

/// A value in the server's units: `memory=4G` → `4096` (MiB; a bare number
/// is MiB already, as Proxmox means it), `scsi1=local-lvm:10G` →
/// `local-lvm:10` (GiB), flags as 1/0.
fn in_server_units(key: &str, v: &str) -> std::result::Result<String, String> {
    let to_mib = |s: &str| -> std::result::Result<String, String> {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(s.to_string());
        }
        let b = parse_size(s).map_err(|e| e.message)?;
        Ok(b.div_ceil(1 << 20).to_string())
    };
    match key {
        "memory" => {
            let (pre, rest) = v.split_once(',').map_or((v, ""), |(a, b)| (a, b));
            let n = to_mib(pre.trim_start_matches("current="))?;
            Ok(if rest.is_empty() {
                n
            } else {
                format!("{n},{rest}")
            })
        }
        "balloon" => to_mib(v),
        k if is_disk(k) => {
            let (first, rest) = v.split_once(',').map_or((v, None), |(a, b)| (a, Some(b)));
            let (storage, size) = match first.split_once(':') {
                Some((st, size)) => (st, size),
                None => (DEFAULT_STORAGE, first),
            };
            let sized = size.bytes().next().is_some_and(|b| b.is_ascii_digit())
                && parse_size(size).is_ok()
                && !size.contains('/');
            if !sized {
                // An existing volume, an ISO, `none`: as given.
                return Ok(v.to_string());
            }
            let gib = if size.bytes().all(|b| b.is_ascii_digit()) {
                size.to_string()
            } else {
                parse_size(size)
                    .map_err(|e| e.message)?
                    .div_ceil(1 << 30)
                    .to_string()
            };
            Ok(match rest {
                Some(r) => format!("{storage}:{gib},{r}"),
                None => format!("{storage}:{gib}"),
            })
        }
        k if super::settings::kind(k) == Some("boolean") => Ok(match v {
            "yes" | "on" | "true" => "1".into(),
            "no" | "off" | "false" => "0".into(),
            v => v.to_string(),
        }),
        _ => Ok(v.to_string()),
    }
}

/// Whether a value makes the server allocate storage (a new volume, an
/// import): then the change goes through the asynchronous endpoint.
fn allocates(key: &str, v: &str) -> bool {
    is_disk(key)
        && (v.contains("import-from=")
            || v.split(',')
                .next()
                .and_then(|f| f.split_once(':'))
                .is_some_and(|(_, size)| {
                    !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                }))
}

/// What a change sends, compared with the VM's configuration: only what
/// differs.
fn plan(
    ch: &Change,
    cfg: &Config,
    storage: &dyn Fn() -> Result<String>,
) -> Result<Vec<(String, String)>> {
    let mut params = vec![];
    for (k, v) in &ch.set {
        let v = match v.strip_prefix(DEFAULT_STORAGE) {
            Some(size) => format!("{}{size}", storage()?),
            None => v.clone(),
        };
        if allocates(k, &v) || cfg.effective(k) != Some(v.as_str()) {
            params.push((k.clone(), v));
        }
    }
    let deletes: Vec<&str> = ch
        .delete
        .iter()
        .map(String::as_str)
        .filter(|k| cfg.effective(k).is_some())
        .collect();
    if !ch.tags.is_empty() {
        let now = cfg
            .effective("tags")
            .map(vm::split_list)
            .unwrap_or_default();
        let mut tags = now.clone();
        for t in &ch.tags {
            match t.strip_prefix('-') {
                Some(gone) => tags.retain(|x| x != gone),
                None => {
                    let t = t.trim_start_matches('+').to_string();
                    if !tags.contains(&t) {
                        tags.push(t);
                    }
                }
            }
        }
        if tags != now {
            if tags.is_empty() {
                params.push(("delete".into(), "tags".into()));
            } else {
                params.push(("tags".into(), tags.join(";")));
            }
        }
    }
    if !deletes.is_empty() {
        match params.iter_mut().find(|(k, _)| k == "delete") {
            Some((_, d)) => *d = format!("{},{d}", deletes.join(",")),
            None => params.push(("delete".into(), deletes.join(","))),
        }
    }
    Ok(params)
}

/// Applies a change to a VM: compared with its configuration, sent with
/// the digest when something differs, its task followed (unless
/// `no_wait`); the result says which changes wait for the next start.
pub fn change(c: &Client, vm: &Vm, ch: &Change, no_wait: bool) -> Result<Done> {
    let cfg = read(c, vm)?;
    if let (Some(want), Some(have)) = (&ch.digest, &cfg.digest)
        && want != have
    {
        return Err(checksum_mismatch(vm));
    }
    let storage = || super::node::disk_storage(c, &vm.node, None);
    let mut params = plan(ch, &cfg, &storage)?;
    if params.is_empty() {
        return Ok(Done {
            changed: false,
            pending: Some(cfg.pending.keys().cloned().collect()),
            ..Done::default()
        });
    }
    let running = vm::current(c, vm)?.status() != Status::Stopped;
    if c.dry_run {
        return Ok(Done {
            changed: true,
            ..Done::default()
        });
    }
    let asynchronous = running || params.iter().any(|(k, v)| allocates(k, v));
    if let Some(d) = ch.digest.clone().or(cfg.digest.clone()) {
        params.push(("digest".into(), d));
    }
    let wanted: Vec<(String, String)> = params.clone();
    let settled = || {
        let now = read(c, vm)?;
        Ok(wanted.iter().all(|(k, v)| match k.as_str() {
            "digest" => true,
            "delete" => v.split(',').all(|d| now.effective(d).is_none()),
            k if allocates(k, v) => now.effective(k).is_some(),
            k => now.effective(k) == Some(v.as_str()),
        }))
    };
    let op = Op {
        method: if asynchronous {
            Method::Post
        } else {
            Method::Put
        },
        path: format!("{}/config", vm::api_path(vm)),
        params: params
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect(),
        kind: "qmconfig",
        subject: None,
        no_wait,
        deadline: None,
    };
    let upid = vm::task(c, vm, &op, &settled).map_err(|e| {
        if e.message.contains("checksum mismatch") {
            checksum_mismatch(vm)
        } else {
            e
        }
    })?;
    if no_wait && upid.is_some() {
        return Ok(Done {
            changed: true,
            upid: upid.map(|u| u.raw),
            ..Done::default()
        });
    }
    let after = read(c, vm)?;
    Ok(Done {
        changed: true,
        pending: Some(after.pending.keys().cloned().collect()),
        ..Done::default()
    })
}

fn checksum_mismatch(vm: &Vm) -> Error {
    Error::conflict(format!(
        "the configuration of VM {} changed since it was read",
        vm.vmid
    ))
    .with_hint(format!(
        "read it again (vm-config {}) and make the change on what is there now",
        vm.label()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_alike_however_typed() {
        let numbers = serde_json::json!({"memory": 2048, "onboot": true, "cpulimit": 0.5, "name": "web", "digest": "ab", "x": null});
        let perl = serde_json::json!({"memory": "2048", "onboot": "1", "cpulimit": "0.5", "name": "web", "digest": "ab"});
        let a = as_written(numbers.as_object().unwrap().clone());
        let b = as_written(perl.as_object().unwrap().clone());
        assert_eq!(a, b);
        assert_eq!(a["memory"], "2048");
        assert!(!a.contains_key("digest") && !a.contains_key("x"));
    }

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        Config {
            digest: Some("d".into()),
            current: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pending: BTreeMap::new(),
        }
    }

    #[test]
    fn devices_become_structured_lists() {
        let vm = Vm::made(100, "pve1", Some("web"));
        let c = cfg(&[
            ("memory", "current=4096"),
            ("cores", "2"),
            ("scsi10", "local-lvm:vm-100-disk-1,size=10G"),
            ("scsi2", "local-lvm:vm-100-disk-0,cache=none,size=32G"),
            ("ide2", "none,media=cdrom"),
            (
                "net0",
                "virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20,firewall=1",
            ),
            ("net1", "e1000,bridge=vmbr1"),
            ("agent", "enabled=1,fstrim_cloned_disks=1"),
            ("boot", "order=scsi2;ide2;net0"),
            ("tags", "ci;web"),
        ]);
        let r = record(&vm, &c);
        assert_eq!(r.memory_bytes, 4096 << 20);
        assert_eq!((r.cores, r.sockets), (2, 1));
        let devices: Vec<&str> = r.disks.iter().map(|d| d.device.as_str()).collect();
        assert_eq!(devices, ["ide2", "scsi2", "scsi10"]);
        assert_eq!(r.disks[1].size_bytes, Some(32 << 30));
        assert_eq!(r.disks[1].storage.as_deref(), Some("local-lvm"));
        assert_eq!(r.disks[1].options["cache"], "none");
        assert_eq!(
            (r.disks[0].media.as_str(), r.disks[0].volume.as_deref()),
            ("cdrom", None)
        );
        let n = &r.nets[0];
        assert_eq!(
            (
                n.model.as_deref(),
                n.mac.as_deref(),
                n.bridge.as_deref(),
                n.vlan,
                n.firewall
            ),
            (
                Some("virtio"),
                Some("BC:24:11:00:00:01"),
                Some("vmbr0"),
                Some(20),
                true
            )
        );
        assert_eq!(r.nets[1].model.as_deref(), Some("e1000"));
        assert!(r.agent && !r.onboot);
        assert_eq!(r.boot, ["scsi2", "ide2", "net0"]);
        assert_eq!(r.tags, ["ci", "web"]);
    }

    #[test]
    fn changes_are_in_server_units_and_only_what_differs() {
        let ch = parse_change(
            &[
                "memory=4G".into(),
                "cores=2".into(),
                "onboot=yes".into(),
                "scsi1=local-lvm:10G".into(),
                "scsi2=5G".into(),
            ],
            &["description".into(), "serial0".into()],
            &["+ci".into(), "-old".into()],
        )
        .unwrap();
        let c = cfg(&[
            ("memory", "2048"),
            ("cores", "2"),
            ("description", "x"),
            ("tags", "old;web"),
        ]);
        let p = plan(&ch, &c, &|| Ok("local-zfs".into())).unwrap();
        let get = |k: &str| p.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        assert_eq!(get("memory"), Some("4096"));
        assert_eq!(get("cores"), None, "unchanged");
        assert_eq!(get("onboot"), Some("1"));
        assert_eq!(get("scsi1"), Some("local-lvm:10"));
        assert_eq!(get("scsi2"), Some("local-zfs:5"));
        assert_eq!(get("tags"), Some("web;ci"));
        assert_eq!(get("delete"), Some("description"), "serial0 is not set");
        let none =
            parse_change(&["cores=2".into()], &["serial0".into()], &["+old".into()]).unwrap();
        assert!(plan(&none, &c, &|| unreachable!()).unwrap().is_empty());
    }

    #[test]
    fn bad_changes_are_refused_before_anything_is_sent() {
        let e = parse_change(&["memroy=4G".into()], &[], &[]).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean 'memory'?"));
        assert!(parse_change(&["cores=lots".into()], &[], &[]).is_err());
        assert!(parse_change(&["memory".into()], &[], &[]).is_err());
        assert!(parse_change(&["cores=2".into()], &["cores".into()], &[]).is_err());
        assert!(parse_change(&[], &[], &["Bad Tag".into()]).is_err());
        assert!(parse_change(&["net0=virtio,brige=vmbr0".into()], &[], &[]).is_err());
    }
}
