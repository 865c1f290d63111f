//! The records tools print: the public interface, documented in guestkit(7).
//! Field names are snake_case; every container record has the same keys.

use super::{BackendKind, GuestKind, Status};
use crate::error::Error;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// One container, as ctr-list prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Container {
    /// The container's name, by which tools take it as a target.
    pub name: String,
    /// The backend that holds it.
    pub backend: BackendKind,
    /// Always `container`: a record says what it describes, so that one
    /// piped into a tool for the other kind is refused.
    pub kind: GuestKind,
    /// Its state, in the words every backend's map to.
    pub status: Status,
    /// The backend's own word for the state, when it says more than `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_status: Option<String>,
    /// The host PID of its init, while it runs.
    pub pid: Option<u32>,
    /// The image it was created from (busybox, or a directory or tarball
    /// path); `None` for containers guestkit did not create.
    pub image: Option<String>,
    /// RFC 3339 UTC.
    pub created: Option<String>,
    /// Its IPv4 addresses; empty when it has none.
    pub ipv4: Vec<String>,
    /// The cluster node it runs on (Proxmox); `None` for local backends.
    pub node: Option<String>,
    /// Its Proxmox VMID; `None` for local backends.
    pub vmid: Option<u32>,
}

impl Container {
    /// A container of which only these are known; the rest empty.
    pub fn new(name: &str, backend: BackendKind, status: Status) -> Container {
        Container {
            name: name.to_string(),
            backend,
            kind: GuestKind::Container,
            status,
            backend_status: None,
            pid: None,
            image: None,
            created: None,
            ipv4: Vec::new(),
            node: None,
            vmid: None,
        }
    }
}

/// One container in detail, as ctr-state prints it.
#[derive(Clone, Debug, Serialize)]
pub struct ContainerState {
    /// What ctr-list prints of it, flattened into this record.
    #[serde(flatten)]
    pub container: Container,
    /// The hostname set inside it.
    pub hostname: Option<String>,
    /// The command the container runs; null for the image's /sbin/init.
    pub command: Option<Vec<String>>,
    /// Memory in use, in bytes, while it runs.
    pub memory_bytes: Option<u64>,
    /// Its memory limit in bytes; `None` when unlimited.
    pub memory_limit_bytes: Option<u64>,
    /// Its CPU limit in CPUs; `None` when unlimited.
    pub cpus: Option<f64>,
    /// CPU time used since it started, in seconds, while it runs.
    pub cpu_time_s: Option<f64>,
    /// The file holding its console output (what ctr-logs prints).
    pub log_path: Option<String>,
    /// How its command ended, for a stopped container whose end was
    /// recorded: its exit code, or the signal that killed it, and whether
    /// that was the kernel's OOM killer.
    #[serde(flatten)]
    pub exit: Exit,
}

/// How a container's command ended (all null when not known).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Exit {
    /// The exit code its command ended with; `None` when a signal ended it.
    pub exit_code: Option<i32>,
    /// The signal that ended its command (9 for KILL, 15 for TERM).
    pub signal: Option<i32>,
    /// Whether the kernel's OOM killer ended it; `None` when its cgroup's
    /// count could not be read.
    pub oom_killed: Option<bool>,
}

impl Exit {
    /// From the wrapper's record: the shell's `$?` (128+N for signal N) and
    /// the cgroup's count of OOM kills, when it could read it.
    pub fn parse(text: &str) -> Option<Exit> {
        let mut f = text.split_whitespace();
        let status: i32 = f
            .next()?
            .parse()
            .ok()
            .filter(|s: &i32| (0..=255).contains(s))?;
        let ooms: Option<u64> = f.next().and_then(|o| o.parse().ok());
        let signal = (status > 128).then_some(status - 128);
        Some(Exit {
            exit_code: (status <= 128).then_some(status),
            signal,
            oom_killed: ooms.map(|n| n > 0 && signal == Some(libc::SIGKILL)),
        })
    }
}

/// An error as a result record carries it, under `error`.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorRecord {
    /// The kind's name (`Kind::as_str`): `not_found`, `conflict`, …
    pub kind: &'static str,
    /// What went wrong.
    pub message: String,
    /// What to do about it; left out when there is nothing to suggest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ErrorRecord {
    /// The record of `e`.
    pub fn of(e: &Error) -> ErrorRecord {
        ErrorRecord {
            kind: e.kind.as_str(),
            message: e.message.clone(),
            hint: e.hint.clone(),
        }
    }
}

/// A container's resource limits (none: not limited).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// The memory limit, in bytes.
    pub memory_bytes: Option<u64>,
    /// The CPU limit, in CPUs (0.5 is half of one).
    pub cpus: Option<f64>,
    /// The most processes (and threads) it may hold.
    pub pids: Option<u64>,
}

/// A container's resource use and limits at one moment.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Usage {
    /// CPU used over the last interval (or since the container started),
    /// in CPUs: 0.5 is half of one CPU.
    pub cpu_share: Option<f64>,
    /// CPU time used since it started.
    pub cpu_s: Option<f64>,
    /// Memory in use, in bytes.
    pub memory_bytes: Option<u64>,
    /// Its memory limit in bytes; `None` when none.
    pub memory_limit_bytes: Option<u64>,
    /// Processes (and threads) in it.
    pub pids: Option<u64>,
    /// Its limit on them; `None` when none.
    pub pids_limit: Option<u64>,
    /// Bytes received on its interfaces but loopback.
    pub net_rx_bytes: Option<u64>,
    /// Bytes sent on them.
    pub net_tx_bytes: Option<u64>,
    /// Bytes read from block devices.
    pub block_read_bytes: Option<u64>,
    /// Bytes written to them.
    pub block_write_bytes: Option<u64>,
    /// Processes the kernel's OOM killer ended in it.
    pub oom_kills: Option<u64>,
}

/// One sample of a container's use, as ctr-stats prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    /// The container's name.
    pub name: String,
    /// The backend that holds it.
    pub backend: BackendKind,
    /// Always `container` (see `Container::kind`).
    pub kind: GuestKind,
    /// RFC 3339 UTC, when the sample was read.
    pub time: String,
    /// The figures, flattened into the record.
    #[serde(flatten)]
    pub usage: Usage,
}

/// One VM, as vm-list prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Vm {
    /// The VM's ID, unique in the cluster.
    pub vmid: u32,
    /// Its name; `None` when it has none.
    pub name: Option<String>,
    /// The cluster node that holds it.
    pub node: String,
    /// Always `proxmox`.
    pub backend: BackendKind,
    /// Always `vm` (see `Container::kind`).
    pub kind: GuestKind,
    /// Running, stopped, paused, or unknown (its node is down, or the cluster
    /// has no figures yet).
    pub status: Status,
    /// Proxmox's own word, when it says more than `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_status: Option<String>,
    /// Virtual CPUs (cores times sockets).
    pub cpus: Option<u32>,
    /// Its memory size, in bytes.
    pub memory_bytes: Option<u64>,
    /// The size of its disks, in bytes.
    pub disk_bytes: Option<u64>,
    /// Seconds since it started, while it runs.
    pub uptime_s: Option<u64>,
    /// Its tags; empty when it has none.
    pub tags: Vec<String>,
    /// Whether it is a template.
    pub template: bool,
    /// The operation that holds it (backup, clone, migrate, snapshot, …),
    /// when one does.
    pub lock: Option<String>,
    /// Its resource pool.
    pub pool: Option<String>,
}

impl Vm {
    /// A VM just made by a create or clone, before the cluster lists it.
    pub fn made(vmid: u32, node: &str, name: Option<&str>) -> Vm {
        Vm {
            vmid,
            name: name.map(String::from),
            node: node.to_string(),
            backend: BackendKind::Proxmox,
            kind: GuestKind::Vm,
            status: Status::Stopped,
            backend_status: None,
            cpus: None,
            memory_bytes: None,
            disk_bytes: None,
            uptime_s: None,
            tags: vec![],
            template: false,
            lock: None,
            pool: None,
        }
    }

    /// How errors and results name it: its name, else its VMID.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.vmid.to_string())
    }
}

/// One VM in detail, as vm-state prints it.
#[derive(Clone, Debug, Serialize)]
pub struct VmState {
    /// What vm-list prints of it, flattened into this record.
    #[serde(flatten)]
    pub vm: Vm,
    /// QEMU's own run state: running, paused, prelaunch, suspended, stopped.
    pub qmpstatus: Option<String>,
    /// The PID of its QEMU process on its node, while it runs.
    pub pid: Option<u64>,
    /// CPU use as a fraction of the VM's CPUs.
    pub cpu_usage: Option<f64>,
    /// Memory in use, in bytes, while it runs.
    pub memory_used_bytes: Option<u64>,
    /// Its QEMU guest agent: running, not running, or off.
    pub agent: &'static str,
    /// The addresses its guest agent reports, without loopback and
    /// link-local ones; empty when the agent does not answer.
    pub ipv4: Vec<String>,
    /// Its IPv6 addresses, likewise.
    pub ipv6: Vec<String>,
    /// The VM's configuration as Proxmox keeps it (memory in MiB, devices as
    /// property strings), without its digest.
    pub config: serde_json::Map<String, serde_json::Value>,
}

/// A VM's configuration, as vm-config prints it.
#[derive(Clone, Debug, Serialize)]
pub struct VmConfig {
    /// The VM's ID.
    pub vmid: u32,
    /// Its name; `None` when it has none.
    pub name: Option<String>,
    /// The node it is on.
    pub node: String,
    /// Always `proxmox`.
    pub backend: BackendKind,
    /// Always `vm` (see `Container::kind`).
    pub kind: GuestKind,
    /// Its memory in bytes (Proxmox's default, 512 MiB, when not set).
    pub memory_bytes: u64,
    /// The balloon target in bytes; 0 when ballooning is off, `None` when not
    /// set.
    pub balloon_bytes: Option<u64>,
    /// CPU cores per socket (default 1).
    pub cores: u32,
    /// CPU sockets (default 1).
    pub sockets: u32,
    /// The CPU type (host, x86-64-v2-AES, …); `None` when not set.
    pub cpu: Option<String>,
    /// Its disks and CD drives, in device order (scsi2 before scsi10).
    pub disks: Vec<Disk>,
    /// Its network devices, in device order.
    pub nets: Vec<Nic>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its free-text notes.
    pub description: Option<String>,
    /// Whether it starts when its node boots.
    pub onboot: bool,
    /// Whether the QEMU guest agent is enabled in its configuration.
    pub agent: bool,
    /// The guest OS type (l26, win11, …).
    pub ostype: Option<String>,
    /// The boot order, devices first to last; empty when not set.
    pub boot: Vec<String>,
    /// The configuration's SHA-1, to give back with `vm-config --digest` so
    /// that a change made since is refused.
    pub digest: Option<String>,
    /// Changes waiting for the next start: the new value, or null for a
    /// setting to be deleted.
    pub pending: std::collections::BTreeMap<String, Option<String>>,
    /// Every setting in effect as its config file holds it, each value a
    /// string.
    pub config: serde_json::Map<String, serde_json::Value>,
}

/// A snapshot of a VM, as vm-snapshot-list prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// The VM's name.
    pub name: Option<String>,
    /// The VM's ID.
    pub vmid: u32,
    /// The VM's node.
    pub node: String,
    /// Always `proxmox`.
    pub backend: BackendKind,
    /// Always `vm` (see `Container::kind`).
    pub kind: GuestKind,
    /// The snapshot's name.
    pub snapshot: String,
    /// The snapshot it was taken on top of.
    pub parent: Option<String>,
    /// When it was taken, RFC 3339 UTC.
    pub time: Option<String>,
    /// Whether it holds the VM's RAM state (taken with --ram).
    pub vmstate: bool,
    /// Its free-text notes.
    pub description: Option<String>,
    /// The VM's present state derives from it.
    pub current: bool,
}

/// A disk or CD drive of a VM.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Disk {
    /// Its configuration key: `scsi0`, `ide2`, `efidisk0`, …
    pub device: String,
    /// The volume (`local-lvm:vm-100-disk-0`); `None` for an empty drive.
    pub volume: Option<String>,
    /// The storage the volume is on: `volume` before its colon.
    pub storage: Option<String>,
    /// Its size in bytes, when the configuration gives one.
    pub size_bytes: Option<u64>,
    /// `disk` or `cdrom`.
    pub media: String,
    /// The rest of its property string (`cache`, `discard`, …), as strings.
    pub options: std::collections::BTreeMap<String, String>,
}

/// A network device of a VM.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Nic {
    /// Its configuration key: `net0`, `net1`, …
    pub device: String,
    /// The NIC model: `virtio`, `e1000`, …
    pub model: Option<String>,
    /// Its MAC address.
    pub mac: Option<String>,
    /// The bridge it is on: `vmbr0`.
    pub bridge: Option<String>,
    /// Its VLAN tag; `None` when untagged.
    pub vlan: Option<u32>,
    /// Whether Proxmox VE's firewall filters it.
    pub firewall: bool,
    /// The rest of its property string, as strings.
    pub options: std::collections::BTreeMap<String, String>,
}

/// How a check of the host came out (guestkit-doctor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Works.
    Ok,
    /// Works, but something a user would trip over later.
    Warn,
    /// Does not work; the hint says how to fix it.
    Error,
}

/// One check of the host.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked: `config`, `backend.lxc`, `proxmox.api`, …
    pub check: String,
    /// False when the check failed (level error).
    pub ok: bool,
    /// How it came out.
    pub level: Level,
    /// What was found: a version, a path, what is wrong.
    pub message: String,
    /// What to do about it; `None` when nothing is to be done.
    pub hint: Option<String>,
}

impl Check {
    /// A check that passed; `message` says what was found.
    pub fn ok(check: &str, message: impl Into<String>) -> Check {
        Check {
            check: check.to_string(),
            ok: true,
            level: Level::Ok,
            message: message.into(),
            hint: None,
        }
    }

    /// A check that passed with something to know.
    pub fn warn(check: &str, message: impl Into<String>, hint: impl Into<String>) -> Check {
        Check {
            level: Level::Warn,
            hint: Some(hint.into()),
            ..Check::ok(check, message)
        }
    }

    /// A check that failed, as `e` says (its hint, the fix).
    pub fn failed(check: &str, e: &Error) -> Check {
        Check {
            check: check.to_string(),
            ok: false,
            level: Level::Error,
            message: e.message.clone(),
            hint: e.hint.clone(),
        }
    }
}

/// `Check`'s fields (guestkit-doctor).
pub const CHECK_FIELDS: &[FieldDoc] = &[
    (
        "check",
        "string",
        "what was checked: config, config.secrets, backend.lxc, backend.crun, backend.runc, cgroups, dirs.state, dirs.cache, proxmox, proxmox.api, proxmox.clock, man, completions.bash, completions.zsh, completions.fish, completions.nu",
    ),
    ("ok", "boolean", "false when the check failed (level error)"),
    (
        "level",
        "string",
        "ok, warn (works, with something to know) or error",
    ),
    (
        "message",
        "string",
        "what was found: a version, a path, what is wrong",
    ),
    (
        "hint",
        "string or null",
        "what to do about it; null when nothing is to be done",
    ),
];

/// An image pulled from a registry, in the cache (image-list).
#[derive(Clone, Debug, Serialize)]
pub struct Image {
    /// The reference it was pulled by, in full; `None` for an image no
    /// reference leads to any more.
    pub reference: Option<String>,
    /// Its manifest's digest, `sha256:…`.
    pub digest: String,
    /// Its size in the registry: the manifest's config and layers.
    pub size_bytes: Option<u64>,
    /// When it was built, as its configuration says.
    pub created: Option<String>,
    /// How many local containers were made from it.
    pub containers: usize,
}

/// `Image`'s fields (image-list, image-delete, image-prune).
pub const IMAGE_FIELDS: &[FieldDoc] = &[
    (
        "reference",
        "string or null",
        "the reference it was pulled by, in full (docker.io/library/alpine:3.20); null for an image no reference leads to",
    ),
    ("digest", "string", "its manifest's digest, sha256:HEX"),
    (
        "size_bytes",
        "number or null",
        "its size as the registry serves it: the config and the layers, compressed",
    ),
    (
        "created",
        "string or null",
        "when it was built, as its configuration says (RFC 3339)",
    ),
    (
        "containers",
        "number",
        "how many local containers (lxc, crun, runc) were made from it",
    ),
];

/// What guestkit-setup wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Setup {
    /// The configuration file written.
    pub file: String,
    /// Where the file it replaced was kept (--force); `None` when there was
    /// none.
    pub backup: Option<String>,
    /// The backend new containers go to.
    pub default_backend: BackendKind,
    /// The Proxmox VE API URLs written; empty when no cluster was connected.
    pub cluster: Vec<String>,
    /// Where the cluster's secret is kept: `config`, `token_file`,
    /// `token_command`, `password_file` or `password_command`; `None` without
    /// a cluster.
    pub secret: Option<&'static str>,
}

/// `Setup`'s fields (guestkit-setup).
pub const SETUP_FIELDS: &[FieldDoc] = &[
    ("file", "string", "the configuration file written"),
    (
        "backup",
        "string or null",
        "where the file it replaced was kept (--force); null when there was none",
    ),
    (
        "default_backend",
        "string",
        "the backend new containers go to: lxc, crun or runc",
    ),
    (
        "cluster",
        "array of strings",
        "the Proxmox VE API URLs written; empty when no cluster was connected",
    ),
    (
        "secret",
        "string or null",
        "where the cluster's secret is kept: config (in the file, mode 0600), token_file, token_command, password_file or password_command; null without a cluster",
    ),
];

/// What an action did to one guest.
#[derive(Clone, Debug, Default)]
pub struct Done {
    /// Whether anything changed; false when it was already done.
    pub changed: bool,
    /// Its status afterwards, when there is one to tell.
    pub status: Option<Status>,
    /// The task, when the tool does not wait for it (--no-wait).
    pub upid: Option<String>,
    /// Whom the result is about when not the guest as found: the VM a
    /// create or clone made, a migrated VM on its new node.
    pub made: Option<GuestId>,
    /// vm-config: the settings whose change waits for the next start.
    pub pending: Option<Vec<String>>,
}

impl Done {
    /// It changed, and is now `status`.
    pub fn changed(status: Status) -> Done {
        Done {
            changed: true,
            status: Some(status),
            ..Done::default()
        }
    }

    /// It was `status` already: nothing was done.
    pub fn unchanged(status: Status) -> Done {
        Done {
            changed: false,
            status: Some(status),
            ..Done::default()
        }
    }
}

/// Who a result is about: the guest acted on, or the target as given when
/// none was found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GuestId {
    /// Its name, else how it was given (a VMID).
    pub name: String,
    /// Its VMID, for a guest of a backend with VMIDs (a VM, a Proxmox VE
    /// container); `None` otherwise, or when it was not found.
    pub vmid: Option<u32>,
    /// Its cluster node (after vm-migrate, its new one), for a guest of a
    /// cluster; `None` otherwise, or when it was not found.
    pub node: Option<String>,
    /// The backend that holds it; `None` when it was not found.
    pub backend: Option<BackendKind>,
}

impl GuestId {
    /// A container of a backend (none when it was not found).
    pub fn container(name: &str, backend: Option<BackendKind>) -> GuestId {
        GuestId {
            name: name.to_string(),
            backend,
            ..GuestId::default()
        }
    }

    /// A VM: its name, else its VMID.
    pub fn vm(vm: &Vm) -> GuestId {
        GuestId {
            name: vm.label(),
            vmid: Some(vm.vmid),
            node: Some(vm.node.clone()),
            backend: Some(vm.backend),
        }
    }
}

/// The result of an action on one target.
#[derive(Clone, Debug)]
pub struct ActionResult {
    /// The kind of guest the tool acts on: VM results always carry `vmid`
    /// and `node` (null when not found); container results carry them only
    /// for a backend with VMIDs.
    pub kind: GuestKind,
    /// Who the result is about.
    pub guest: GuestId,
    /// What was done: `start`, `stop`, `create`, …
    pub action: &'static str,
    /// Whether the action succeeded.
    pub ok: bool,
    /// Whether anything changed; false when it was already done.
    pub changed: bool,
    /// Its status afterwards; `None` after delete, with --no-wait, and on
    /// failure.
    pub status: Option<Status>,
    /// The task, when the tool did not wait for it (--no-wait).
    pub upid: Option<String>,
    /// vm-config only: the settings whose change waits for the VM's next
    /// start.
    pub pending: Option<Vec<String>>,
    /// Why it failed, when `ok` is false.
    pub error: Option<ErrorRecord>,
    /// A dry run's record: what a real run would print, and would do.
    pub dry_run: bool,
}

impl ActionResult {
    /// A success; `changed` says whether anything was done.
    pub fn ok(kind: GuestKind, guest: GuestId, action: &'static str, changed: bool) -> Self {
        ActionResult {
            kind,
            guest,
            action,
            ok: true,
            changed,
            status: None,
            upid: None,
            pending: None,
            error: None,
            dry_run: false,
        }
    }

    /// A failure, with `e` as its error.
    pub fn failed(kind: GuestKind, guest: GuestId, action: &'static str, e: &Error) -> Self {
        ActionResult {
            error: Some(ErrorRecord::of(e)),
            ok: false,
            ..ActionResult::ok(kind, guest, action, false)
        }
    }
}

impl Serialize for ActionResult {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let g = &self.guest;
        let ids = self.kind == GuestKind::Vm || g.vmid.is_some();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &g.name)?;
        if ids {
            m.serialize_entry("vmid", &g.vmid)?;
            m.serialize_entry("node", &g.node)?;
        }
        m.serialize_entry("backend", &g.backend)?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("action", self.action)?;
        m.serialize_entry("ok", &self.ok)?;
        m.serialize_entry("changed", &self.changed)?;
        if let Some(st) = &self.status {
            m.serialize_entry("status", st)?;
        }
        if let Some(u) = &self.upid {
            m.serialize_entry("upid", u)?;
        }
        if let Some(p) = &self.pending {
            m.serialize_entry("pending", p)?;
        }
        if let Some(e) = &self.error {
            m.serialize_entry("error", e)?;
        }
        if self.dry_run {
            m.serialize_entry("dry_run", &true)?;
            m.serialize_entry("would", &(self.ok && self.changed).then_some(self.action))?;
        }
        m.end()
    }
}

/// (field, JSON type, meaning): the record fields, for man pages.
pub type FieldDoc = (&'static str, &'static str, &'static str);

/// `Container`'s fields (ctr-list).
pub const CONTAINER_FIELDS: &[FieldDoc] = &[
    ("name", "string", "the container's name"),
    (
        "backend",
        "string",
        "the backend that holds it: lxc, crun or runc",
    ),
    (
        "kind",
        "string",
        "always container: what the record describes, so that a record piped into a vm-* tool is refused",
    ),
    (
        "status",
        "string",
        "running, stopped, paused, created or unknown",
    ),
    (
        "backend_status",
        "string",
        "the backend's own word for the state, present only when it says more than status (lxc: frozen, starting, stopping, aborting)",
    ),
    (
        "pid",
        "integer or null",
        "the host PID of the container's init while it runs",
    ),
    (
        "image",
        "string or null",
        "the image it was created from: busybox, the directory or tarball path, or for an image from a registry its reference and the digest pulled, REFERENCE@sha256:HEX; null for containers guestkit did not create",
    ),
    (
        "created",
        "string or null",
        "when guestkit created it, RFC 3339 UTC",
    ),
    (
        "ipv4",
        "array of strings",
        "its IPv4 addresses; empty when it has none",
    ),
    (
        "node",
        "string or null",
        "the cluster node it runs on (Proxmox); null for local backends",
    ),
    (
        "vmid",
        "integer or null",
        "its Proxmox VMID; null for local backends",
    ),
];

/// The fields `ContainerState` adds to `Container`'s (ctr-state).
pub const STATE_FIELDS: &[FieldDoc] = &[
    ("hostname", "string or null", "the container's hostname"),
    (
        "command",
        "array of strings or null",
        "the command it runs; null when it runs the image's /sbin/init",
    ),
    (
        "memory_bytes",
        "integer or null",
        "memory in use, while it runs",
    ),
    (
        "memory_limit_bytes",
        "integer or null",
        "its memory limit; null when unlimited",
    ),
    (
        "cpus",
        "number or null",
        "its CPU limit in CPUs; null when unlimited",
    ),
    (
        "cpu_time_s",
        "number or null",
        "CPU time used since it started, in seconds, while it runs",
    ),
    (
        "log_path",
        "string or null",
        "the file holding its console output (what ctr-logs prints)",
    ),
    (
        "exit_code",
        "integer or null",
        "for a stopped container: the exit code its command ended with; null when a signal ended it, or when not recorded (an image without /bin/sh, a foreground ctr-run on LXC, backend proxmox)",
    ),
    (
        "signal",
        "integer or null",
        "for a stopped container: the signal that ended its command (9 for KILL, 15 for TERM)",
    ),
    (
        "oom_killed",
        "boolean or null",
        "for a stopped container: whether the kernel's OOM killer ended it (at its memory limit); null when the container could not tell (LXC, whose cgroup it does not see)",
    ),
];

/// The dry run's fields of both kinds of results.
const DRY_RUN_FIELD: FieldDoc = (
    "dry_run",
    "boolean",
    "present only with --dry-run, and then true: nothing was changed",
);
const WOULD_FIELD: FieldDoc = (
    "would",
    "string or null",
    "present only with --dry-run: the action a real run would take, or null when it would change nothing or would fail",
);

/// `ActionResult`'s fields for containers (the ctr-* tools' results).
pub const RESULT_FIELDS: &[FieldDoc] = &[
    ("name", "string", "the target's name"),
    (
        "backend",
        "string or null",
        "the backend that holds it; null when it was not found",
    ),
    ("kind", "string", "the kind of guest: container or vm"),
    (
        "action",
        "string",
        "what was done: create, start, stop, delete, kill or run",
    ),
    ("ok", "boolean", "whether the action succeeded"),
    (
        "changed",
        "boolean",
        "whether anything changed; false when it was already done (start on a running container)",
    ),
    (
        "status",
        "string",
        "the status afterwards; absent after delete and on failure",
    ),
    (
        "error",
        "object",
        "present only when ok is false: kind (not_found, conflict, unavailable, denied, timeout, invalid_input, usage or failed, matching the exit codes), message, and hint when there is one",
    ),
    DRY_RUN_FIELD,
    WOULD_FIELD,
];

/// `Vm`'s fields (vm-list).
pub const VM_FIELDS: &[FieldDoc] = &[
    ("vmid", "integer", "the VM's ID, unique in the cluster"),
    ("name", "string or null", "its name; null when it has none"),
    ("node", "string", "the cluster node that holds it"),
    ("backend", "string", "always proxmox"),
    (
        "kind",
        "string",
        "always vm: what the record describes, so that a record piped into a ctr-* tool is refused",
    ),
    (
        "status",
        "string",
        "running, stopped, paused or unknown (its node is down, or the cluster has no figures yet)",
    ),
    (
        "backend_status",
        "string",
        "Proxmox's own word, present only when it says more than status (suspended, prelaunch)",
    ),
    (
        "cpus",
        "integer or null",
        "virtual CPUs (cores times sockets)",
    ),
    ("memory_bytes", "integer or null", "its memory size"),
    ("disk_bytes", "integer or null", "the size of its disks"),
    (
        "uptime_s",
        "integer or null",
        "seconds since it started, while it runs",
    ),
    (
        "tags",
        "array of strings",
        "its tags; empty when it has none",
    ),
    ("template", "boolean", "whether it is a template"),
    (
        "lock",
        "string or null",
        "the operation that holds it (backup, clone, create, migrate, snapshot, ...), when one does",
    ),
    ("pool", "string or null", "its resource pool"),
];

/// The fields `VmState` adds to `Vm`'s (vm-state).
pub const VM_STATE_FIELDS: &[FieldDoc] = &[
    (
        "qmpstatus",
        "string or null",
        "QEMU's own state: running, paused, suspended, prelaunch or stopped",
    ),
    (
        "pid",
        "integer or null",
        "the QEMU process on its node, while it runs",
    ),
    (
        "cpu_usage",
        "number or null",
        "CPU use as a fraction of its CPUs",
    ),
    (
        "memory_used_bytes",
        "integer or null",
        "memory in use, while it runs",
    ),
    (
        "agent",
        "string",
        "its QEMU guest agent: running, not running (enabled, but not answering: not installed, still booting, or the VM is stopped), or off (not enabled in its configuration)",
    ),
    (
        "ipv4",
        "array of strings",
        "its IPv4 addresses as the guest agent reports them, without loopback and link-local ones; empty when the agent does not answer",
    ),
    ("ipv6", "array of strings", "its IPv6 addresses, likewise"),
    (
        "config",
        "object",
        "its configuration as its config file holds it, every value a string however the server typed it: memory in MiB, devices as property strings (net0, scsi0), tags, description",
    ),
];

/// `ActionResult`'s fields for VMs (the vm-* tools' results).
pub const VM_RESULT_FIELDS: &[FieldDoc] = &[
    ("name", "string", "the VM's name, else the target as given"),
    (
        "vmid",
        "integer or null",
        "its VMID; null when it was not found",
    ),
    (
        "node",
        "string or null",
        "its node (after vm-migrate, its new one); null when it was not found",
    ),
    ("backend", "string", "always proxmox"),
    ("kind", "string", "the kind of guest: container or vm"),
    (
        "action",
        "string",
        "what was done: create, clone, start, stop, restart, delete, wait, config, resize, snapshot, rollback, snapshot-delete or migrate",
    ),
    ("ok", "boolean", "whether the action succeeded"),
    (
        "changed",
        "boolean",
        "whether anything changed; false when it was already done (start on a running VM)",
    ),
    (
        "status",
        "string",
        "the status afterwards; absent after delete, with --no-wait, and on failure",
    ),
    (
        "upid",
        "string",
        "with --no-wait: the task's ID, to follow with pvenode task log",
    ),
    (
        "pending",
        "array of strings",
        "vm-config only: the settings whose change waits for the VM's next start (a reboot applies them); empty when none",
    ),
    (
        "error",
        "object",
        "present only when ok is false: kind, message (the server's or the task's own), and hint (for a failed task, the last lines of its log)",
    ),
    DRY_RUN_FIELD,
    WOULD_FIELD,
];

/// `Stats`'s fields (ctr-stats).
pub const STATS_FIELDS: &[FieldDoc] = &[
    ("name", "string", "the container's name"),
    ("backend", "string", "the backend that holds it"),
    ("kind", "string", "always container"),
    ("time", "string", "when the sample was read, RFC 3339 UTC"),
    (
        "cpu_share",
        "number or null",
        "CPU used, in CPUs (0.5 is half of one): over the last interval with --follow, else over the container's life",
    ),
    (
        "cpu_s",
        "number or null",
        "CPU time used since it started, in seconds",
    ),
    ("memory_bytes", "integer or null", "memory in use"),
    (
        "memory_limit_bytes",
        "integer or null",
        "its memory limit; null when none",
    ),
    ("pids", "integer or null", "processes (and threads) in it"),
    (
        "pids_limit",
        "integer or null",
        "its limit on them; null when none",
    ),
    (
        "net_rx_bytes",
        "integer or null",
        "bytes received on its interfaces but loopback",
    ),
    ("net_tx_bytes", "integer or null", "bytes sent on them"),
    (
        "block_read_bytes",
        "integer or null",
        "bytes read from block devices",
    ),
    (
        "block_write_bytes",
        "integer or null",
        "bytes written to them",
    ),
    (
        "oom_kills",
        "integer or null",
        "processes the kernel's OOM killer ended in it",
    ),
];

/// `Snapshot`'s fields (vm-snapshot-list).
pub const SNAPSHOT_FIELDS: &[FieldDoc] = &[
    ("name", "string or null", "the VM's name"),
    ("vmid", "integer", "the VM's VMID"),
    ("node", "string", "the VM's node"),
    ("backend", "string", "always proxmox"),
    (
        "kind",
        "string",
        "always vm: what the record describes, so that a record piped into a ctr-* tool is refused",
    ),
    ("snapshot", "string", "the snapshot's name"),
    (
        "parent",
        "string or null",
        "the snapshot it was taken on top of",
    ),
    ("time", "string or null", "when it was taken, RFC 3339 UTC"),
    (
        "vmstate",
        "boolean",
        "whether it holds the VM's RAM state (taken with --ram)",
    ),
    ("description", "string or null", "its description"),
    (
        "current",
        "boolean",
        "whether the VM's present state derives from it (the one it is at)",
    ),
];

/// `VmConfig`'s fields (vm-config).
pub const VM_CONFIG_FIELDS: &[FieldDoc] = &[
    ("vmid", "integer", "the VM's VMID"),
    ("name", "string or null", "its name"),
    ("node", "string", "the node it is on"),
    ("backend", "string", "always proxmox"),
    (
        "kind",
        "string",
        "always vm: what the record describes, so that a record piped into a ctr-* tool is refused",
    ),
    (
        "memory_bytes",
        "integer",
        "its memory (Proxmox's default, 512 MiB, when not set)",
    ),
    (
        "balloon_bytes",
        "integer or null",
        "the balloon target; 0 when ballooning is off, null when not set",
    ),
    ("cores", "integer", "CPU cores per socket (default 1)"),
    ("sockets", "integer", "CPU sockets (default 1)"),
    (
        "cpu",
        "string or null",
        "the CPU type (host, x86-64-v2-AES, …); null when not set",
    ),
    (
        "disks",
        "array of objects",
        "its disks and CD drives in device order, each with device (scsi0), volume (local-lvm:vm-100-disk-0, null for an empty drive), storage, size_bytes, media (disk or cdrom) and options (the rest, as strings)",
    ),
    (
        "nets",
        "array of objects",
        "its network devices, each with device (net0), model (virtio), mac, bridge, vlan (the tag, or null), firewall (boolean) and options",
    ),
    ("tags", "array of strings", "its tags"),
    ("description", "string or null", "its description"),
    ("onboot", "boolean", "whether it starts when its node boots"),
    (
        "agent",
        "boolean",
        "whether the QEMU guest agent is enabled in its configuration",
    ),
    (
        "ostype",
        "string or null",
        "the guest OS type (l26, win11, …)",
    ),
    (
        "boot",
        "array of strings",
        "the boot order, devices first to last; empty when not set",
    ),
    (
        "digest",
        "string or null",
        "the configuration's SHA-1, to give back with vm-config --digest so that a change made since is refused",
    ),
    (
        "pending",
        "object",
        "changes waiting for the next start: each setting's new value, or null for one to be deleted; empty when none",
    ),
    (
        "config",
        "object",
        "every setting in effect as its config file holds it, every value a string",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The keys a record prints with every optional field filled.
    fn keys(v: impl Serialize) -> Vec<String> {
        match serde_json::to_value(v).unwrap() {
            Value::Object(o) => o.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    fn documented(fields: &[FieldDoc]) -> Vec<String> {
        let mut names: Vec<String> = fields.iter().map(|f| f.0.to_string()).collect();
        names.sort();
        names
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    fn without(all: Vec<String>, base: &[String]) -> Vec<String> {
        all.into_iter().filter(|k| !base.contains(k)).collect()
    }

    fn container() -> Container {
        Container {
            backend_status: Some("frozen".into()),
            ..Container::new("web", BackendKind::Lxc, Status::Paused)
        }
    }

    fn vm() -> Vm {
        Vm {
            backend_status: Some("suspended".into()),
            ..Vm::made(100, "pve1", Some("web"))
        }
    }

    /// guestkit(7) documents each record's fields from the `*_FIELDS`
    /// tables: they must be exactly the fields the records print.
    #[test]
    fn documented_fields_are_the_printed_ones() {
        let c = keys(container());
        assert_eq!(sorted(c.clone()), documented(CONTAINER_FIELDS));
        let state = ContainerState {
            container: container(),
            hostname: None,
            command: None,
            memory_bytes: None,
            memory_limit_bytes: None,
            cpus: None,
            cpu_time_s: None,
            log_path: None,
            exit: Exit::default(),
        };
        assert_eq!(sorted(without(keys(state), &c)), documented(STATE_FIELDS));
        let v = keys(vm());
        assert_eq!(sorted(v.clone()), documented(VM_FIELDS));
        let vstate = VmState {
            vm: vm(),
            qmpstatus: None,
            pid: None,
            cpu_usage: None,
            memory_used_bytes: None,
            agent: "off",
            ipv4: vec![],
            ipv6: vec![],
            config: Default::default(),
        };
        assert_eq!(
            sorted(without(keys(vstate), &v)),
            documented(VM_STATE_FIELDS)
        );
        let e = Error::failed("boom");
        let full = |kind, guest, upid: Option<&str>| ActionResult {
            status: Some(Status::Running),
            upid: upid.map(String::from),
            pending: (kind == GuestKind::Vm).then(Vec::new),
            dry_run: true,
            ..ActionResult::failed(kind, guest, "start", &e)
        };
        let container = GuestId::container("web", None);
        assert_eq!(
            sorted(keys(full(GuestKind::Container, container, None))),
            documented(RESULT_FIELDS)
        );
        let vm = full(GuestKind::Vm, GuestId::vm(&vm()), Some("UPID:pve1:"));
        assert_eq!(sorted(keys(vm)), documented(VM_RESULT_FIELDS));
        let cfg = VmConfig {
            vmid: 100,
            name: None,
            node: "pve1".into(),
            backend: BackendKind::Proxmox,
            kind: GuestKind::Vm,
            memory_bytes: 0,
            balloon_bytes: None,
            cores: 1,
            sockets: 1,
            cpu: None,
            disks: vec![],
            nets: vec![],
            tags: vec![],
            description: None,
            onboot: false,
            agent: false,
            ostype: None,
            boot: vec![],
            digest: None,
            pending: Default::default(),
            config: Default::default(),
        };
        assert_eq!(sorted(keys(cfg)), documented(VM_CONFIG_FIELDS));
        let snap = Snapshot {
            name: None,
            vmid: 100,
            node: "pve1".into(),
            backend: BackendKind::Proxmox,
            kind: GuestKind::Vm,
            snapshot: "s".into(),
            parent: None,
            time: None,
            vmstate: false,
            description: None,
            current: false,
        };
        assert_eq!(sorted(keys(snap)), documented(SNAPSHOT_FIELDS));
        let stats = Stats {
            name: "web".into(),
            backend: BackendKind::Lxc,
            kind: GuestKind::Container,
            time: String::new(),
            usage: Usage::default(),
        };
        assert_eq!(sorted(keys(stats)), documented(STATS_FIELDS));
        let image = Image {
            reference: None,
            digest: String::new(),
            size_bytes: None,
            created: None,
            containers: 0,
        };
        assert_eq!(sorted(keys(image)), documented(IMAGE_FIELDS));
    }

    /// Result records keep their field order: a person reads them.
    #[test]
    fn results_print_in_order() {
        let r = ActionResult::ok(GuestKind::Vm, GuestId::vm(&vm()), "start", true);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"name":"web","vmid":100,"node":"pve1","backend":"proxmox","kind":"vm","action":"start","ok":true,"changed":true}"#
        );
        let r = ActionResult::ok(
            GuestKind::Container,
            GuestId::container("web", Some(BackendKind::Runc)),
            "stop",
            false,
        );
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"name":"web","backend":"runc","kind":"container","action":"stop","ok":true,"changed":false}"#
        );
    }
}
