//! The vocabulary every layer shares: the kinds of guest, the backends that
//! hold them, the statuses they report, the records tools print, guest
//! names, the targets tools are given, and how sizes, times and signals are
//! written. Each list is spelt once, here; the parser, help, man pages and
//! completions are made from these lists.

#[cfg(test)]
pub mod arbitrary;
pub mod names;
pub mod record;
pub mod subnet;
pub mod target;
pub mod units;

use crate::error::{Error, Result};
use serde::{Serialize, Serializer};

/// The kinds of guest the tools act on: the ctr-* tools' and the vm-* tools'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestKind {
    /// A Linux container, which the ctr-* tools act on.
    Container,
    /// A Proxmox VE virtual machine, which the vm-* tools act on.
    Vm,
}

impl GuestKind {
    /// How records name it: `container`, `vm`.
    pub const fn as_str(self) -> &'static str {
        match self {
            GuestKind::Container => "container",
            GuestKind::Vm => "vm",
        }
    }

    /// How messages name one: "container", "VM".
    pub const fn noun(self) -> &'static str {
        match self {
            GuestKind::Container => "container",
            GuestKind::Vm => "VM",
        }
    }

    /// The tool that lists them, which hints point to.
    pub const fn list_tool(self) -> &'static str {
        match self {
            GuestKind::Container => "ctr-list",
            GuestKind::Vm => "vm-list",
        }
    }

    /// The backends that hold guests of this kind.
    pub const fn backends(self) -> &'static [BackendKind] {
        match self {
            GuestKind::Container => &CONTAINER_BACKENDS,
            GuestKind::Vm => &VM_BACKENDS,
        }
    }

    /// Whether a target may be a number, a VMID.
    pub const fn has_vmids(self) -> bool {
        matches!(self, GuestKind::Vm)
    }
}

/// A backend: where guests live and what guestkit talks to for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendKind {
    /// LXC, through its lxc-* tools.
    Lxc,
    /// crun, an OCI runtime.
    Crun,
    /// runc, an OCI runtime.
    Runc,
    /// A Proxmox VE cluster, through its API: its containers and its VMs.
    Proxmox,
}

/// The container backends, in the order they are asked and listed.
pub const CONTAINER_BACKENDS: [BackendKind; 4] = [
    BackendKind::Lxc,
    BackendKind::Crun,
    BackendKind::Runc,
    BackendKind::Proxmox,
];
/// The backends with virtual machines.
pub const VM_BACKENDS: [BackendKind; 1] = [BackendKind::Proxmox];
/// Their names, for the parser, help, man pages and completions.
pub const CONTAINER_BACKEND_NAMES: [&str; 4] = backend_names(CONTAINER_BACKENDS);
/// The VM backends' names, likewise.
pub const VM_BACKEND_NAMES: [&str; 1] = backend_names(VM_BACKENDS);

const fn backend_names<const N: usize>(kinds: [BackendKind; N]) -> [&'static str; N] {
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = kinds[i].as_str();
        i += 1;
    }
    names
}

impl BackendKind {
    /// Every backend, in the order `CONTAINER_BACKENDS` lists them.
    pub const ALL: [BackendKind; 4] = [
        BackendKind::Lxc,
        BackendKind::Crun,
        BackendKind::Runc,
        BackendKind::Proxmox,
    ];

    /// Its name, as records, flags and the configuration spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            BackendKind::Lxc => "lxc",
            BackendKind::Crun => "crun",
            BackendKind::Runc => "runc",
            BackendKind::Proxmox => "proxmox",
        }
    }

    /// The backend of this name, if there is one.
    pub fn named(name: &str) -> Option<BackendKind> {
        BackendKind::ALL.into_iter().find(|b| b.as_str() == name)
    }

    /// One of `among` by name; a usage error listing them, with the nearest
    /// suggested, when it is not one of them.
    pub fn parse(name: &str, among: &[BackendKind]) -> Result<BackendKind> {
        if let Some(b) = among.iter().find(|b| b.as_str() == name) {
            return Ok(*b);
        }
        let spelt: Vec<&str> = among.iter().map(|b| b.as_str()).collect();
        let mut e = Error::usage(format!(
            "unknown backend {}: expected one of {}",
            names::quote(name),
            spelt.join(", ")
        ));
        if let Some(hint) = names::suggest(name, spelt.iter().copied()) {
            e = e.with_hint(hint);
        }
        Err(e)
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GuestKind {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for BackendKind {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where a guest is in its life, in words every backend's states map to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its processes run.
    Running,
    /// Not running.
    Stopped,
    /// Frozen (a container), or paused or suspended (a VM).
    Paused,
    /// Made by an OCI runtime, not started yet.
    Created,
    /// A state that maps to none of these, or none known (a VM whose node is
    /// down).
    Unknown,
}

/// Every status's name, for the parser, help, man pages and completions.
pub const STATUS_NAMES: [&str; 5] = {
    let all = Status::ALL;
    let mut names = [""; 5];
    let mut i = 0;
    while i < all.len() {
        names[i] = all[i].as_str();
        i += 1;
    }
    names
};

impl Status {
    /// Every status, in the order help and man pages list them.
    pub const ALL: [Status; 5] = [
        Status::Running,
        Status::Stopped,
        Status::Paused,
        Status::Created,
        Status::Unknown,
    ];

    /// Its name, as records and `--status` spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Paused => "paused",
            Status::Created => "created",
            Status::Unknown => "unknown",
        }
    }

    /// The status of this name, if there is one.
    pub fn named(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backend_has_one_name_and_a_kind_of_guest() {
        for b in BackendKind::ALL {
            assert_eq!(BackendKind::named(b.as_str()), Some(b));
            let kinds = [GuestKind::Container, GuestKind::Vm];
            let holds = kinds.iter().filter(|k| k.backends().contains(&b)).count();
            // Proxmox VE holds both; a local backend, containers.
            assert_eq!(holds, if b == BackendKind::Proxmox { 2 } else { 1 }, "{b}");
        }
    }

    #[test]
    fn statuses_are_named_once() {
        for s in Status::ALL {
            assert_eq!(Status::named(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(STATUS_NAMES.len(), Status::ALL.len());
    }
}
