//! The records tools print: the public interface, documented in guestkit(7).
//! Field names are snake_case; every container record has the same keys.

use crate::error::Error;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Stopped,
    Paused,
    Created,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Paused => "paused",
            Status::Created => "created",
            Status::Unknown => "unknown",
        }
    }
}

/// One container, as ctr-list prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Container {
    pub name: String,
    pub backend: &'static str,
    pub status: Status,
    /// The backend's own word for the state, when it says more than `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_status: Option<String>,
    pub pid: Option<u32>,
    pub image: Option<String>,
    /// RFC 3339 UTC.
    pub created: Option<String>,
    pub ipv4: Vec<String>,
    pub node: Option<String>,
    pub vmid: Option<u32>,
}

impl Container {
    pub fn new(name: &str, backend: &'static str, status: Status) -> Container {
        Container {
            name: name.to_string(),
            backend,
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
    #[serde(flatten)]
    pub container: Container,
    pub hostname: Option<String>,
    /// The command the container runs; null for the image's /sbin/init.
    pub command: Option<Vec<String>>,
    pub memory_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub cpus: Option<f64>,
    pub cpu_time_s: Option<f64>,
    pub log_path: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ErrorRecord {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The result of an action on one target.
#[derive(Clone, Debug, Serialize)]
pub struct ActionResult {
    pub name: String,
    pub backend: Option<&'static str>,
    pub action: &'static str,
    pub ok: bool,
    pub changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorRecord>,
}

impl ActionResult {
    pub fn ok(
        name: &str,
        backend: &'static str,
        action: &'static str,
        changed: bool,
        status: Option<Status>,
    ) -> Self {
        ActionResult {
            name: name.to_string(),
            backend: Some(backend),
            action,
            ok: true,
            changed,
            status,
            error: None,
        }
    }

    pub fn failed(
        name: &str,
        backend: Option<&'static str>,
        action: &'static str,
        e: &Error,
    ) -> Self {
        ActionResult {
            name: name.to_string(),
            backend,
            action,
            ok: false,
            changed: false,
            status: None,
            error: Some(ErrorRecord {
                kind: e.kind.as_str(),
                message: e.message.clone(),
                hint: e.hint.clone(),
            }),
        }
    }
}

/// (field, JSON type, meaning): the record fields, for man pages.
pub type FieldDoc = (&'static str, &'static str, &'static str);

pub const CONTAINER_FIELDS: &[FieldDoc] = &[
    ("name", "string", "the container's name"),
    (
        "backend",
        "string",
        "the backend that holds it: lxc, crun or runc",
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
        "the image it was created from: busybox, or the directory or tarball path; null for containers guestkit did not create",
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
];

pub const RESULT_FIELDS: &[FieldDoc] = &[
    ("name", "string", "the target's name"),
    (
        "backend",
        "string or null",
        "the backend that holds it; null when it was not found",
    ),
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
];

pub const VM_FIELDS: &[FieldDoc] = &[
    ("vmid", "integer", "the VM's ID, unique in the cluster"),
    ("name", "string or null", "its name; null when it has none"),
    ("node", "string", "the cluster node that holds it"),
    ("backend", "string", "always proxmox"),
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
        "config",
        "object",
        "its configuration as Proxmox keeps it: memory in MiB, devices as property strings (net0, scsi0), tags, description",
    ),
];

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
        "its node; null when it was not found",
    ),
    ("backend", "string", "always proxmox"),
    (
        "action",
        "string",
        "what was done: create, clone, start, stop, restart, delete or wait",
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
        "error",
        "object",
        "present only when ok is false: kind, message (the server's or the task's own), and hint (for a failed task, the last lines of its log)",
    ),
];
