//! What a token may do: its privileges, against what the vm-* tools need.

use super::client::Client;
use crate::error::Result;
use std::collections::BTreeSet;

/// The privileges the tools use, and what each makes possible.
pub const NEEDED: &[(&str, &str)] = &[
    (
        "VM.Audit",
        "list and read VMs: vm-list, vm-state, vm-config",
    ),
    ("VM.PowerMgmt", "start, stop and restart VMs"),
    ("VM.Allocate", "create and delete VMs"),
    ("VM.Clone", "clone VMs"),
    ("VM.Config.Options", "change VM settings with vm-config"),
    ("VM.Config.Disk", "resize disks with vm-resize"),
    ("VM.Snapshot", "take and delete snapshots"),
    ("VM.Migrate", "migrate VMs"),
    ("Datastore.AllocateSpace", "make disks for new VMs"),
    ("Sys.Audit", "read the nodes, their storages and clocks"),
];

/// The privileges the client's credentials have on / or on /vms (where
/// the vm-* tools act), as /access/permissions tells.
pub fn privileges(c: &Client) -> Result<BTreeSet<String>> {
    let v = c.get("/access/permissions", &[])?;
    let mut have = BTreeSet::new();
    for path in ["/", "/vms"] {
        if let Some(privs) = v.get(path).and_then(|p| p.as_object()) {
            have.extend(privs.keys().cloned());
        }
    }
    Ok(have)
}

/// The needed privileges the credentials lack, with what each is for.
pub fn missing(have: &BTreeSet<String>) -> Vec<(&'static str, &'static str)> {
    NEEDED
        .iter()
        .filter(|(p, _)| !have.contains(*p))
        .copied()
        .collect()
}
