//! A VM's snapshots: listed as records, taken (with or without the RAM
//! state), rolled back to and deleted, each write a task that is followed.

use super::client::{Client, Method};
use super::lenient::{Field, Item};
use super::vm::{self, Op};
use crate::error::{Error, Result};
use crate::guest::record::{Done, Snapshot, Vm};
use crate::guest::units::rfc3339;
use crate::guest::{BackendKind, Status};
use serde::Deserialize;

/// A snapshot name as the server takes it (pve-snapshot-name: a letter,
/// then letters, digits, `-` and `_`, at most 40).
pub fn check_name(name: &str) -> Result<()> {
    let ok = name.len() >= 2
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok || name == "current" || name == "pending" {
        return Err(Error::usage(format!(
            "invalid snapshot name {}: a letter, then letters, digits, '-' and '_' (2 to 40; not current or pending)",
            crate::guest::names::quote(name)
        )));
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Entry {
    name: Field<String>,
    parent: Field<String>,
    snaptime: Field<u64>,
    vmstate: Field<bool>,
    description: Field<String>,
}

/// A VM's snapshots (`GET /nodes/{node}/qemu/{vmid}/snapshot`), oldest
/// first, `current` marking the one the VM is at.
pub fn list(c: &Client, vm: &Vm) -> Result<Vec<Snapshot>> {
    let entries: Vec<Item<Entry>> = c.get_as(&format!("{}/snapshot", vm::api_path(vm)), &[])?;
    let entries: Vec<Entry> = entries
        .into_iter()
        .filter_map(|e| match e {
            Item::Record(e) => Some(e),
            Item::Other(_) => None,
        })
        .collect();
    // "current" is the VM as it is: its parent is the snapshot it is at.
    let at = entries
        .iter()
        .find(|e| e.name.str() == Some("current"))
        .and_then(|e| e.parent.as_ref().cloned());
    let out: Vec<Snapshot> = entries
        .into_iter()
        .filter(|e| e.name.str().is_some_and(|n| n != "current"))
        .map(|e| {
            let snapshot = e.name.get().unwrap_or_default();
            Snapshot {
                name: vm.name.clone(),
                vmid: vm.vmid,
                node: vm.node.clone(),
                backend: BackendKind::Proxmox,
                kind: crate::guest::GuestKind::Vm,
                current: at.as_deref() == Some(snapshot.as_str()),
                snapshot,
                parent: e.parent.get().filter(|p| !p.is_empty()),
                time: e.snaptime.get().map(rfc3339),
                vmstate: e.vmstate.get() == Some(true),
                description: e.description.get().filter(|d| !d.trim().is_empty()),
            }
        })
        .collect();
    // Oldest first; snapshots of the same second in the order they were
    // taken on top of each other.
    let depth = |s: &Snapshot| {
        let mut d = 0;
        let mut p = s.parent.clone();
        while let Some(name) = p.take().filter(|_| d < out.len()) {
            d += 1;
            p = out
                .iter()
                .find(|x| x.snapshot == name)
                .and_then(|x| x.parent.clone());
        }
        d
    };
    let mut keyed: Vec<(Option<String>, usize, Snapshot)> = out
        .iter()
        .map(|s| (s.time.clone(), depth(s), s.clone()))
        .collect();
    keyed.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    Ok(keyed.into_iter().map(|(_, _, s)| s).collect())
}

fn write(c: &Client, vm: &Vm, op: Op, settled: &dyn Fn() -> Result<bool>) -> Result<Done> {
    let no_wait = op.no_wait;
    if c.dry_run {
        return Ok(Done::changed(vm::current(c, vm)?.status()));
    }
    let upid = vm::task(c, vm, &op, settled)?;
    if no_wait {
        return Ok(Done {
            changed: true,
            upid: upid.map(|u| u.raw),
            ..Done::default()
        });
    }
    Ok(Done::changed(vm::current(c, vm)?.status()))
}

fn has(c: &Client, vm: &Vm, name: &str) -> Result<bool> {
    Ok(list(c, vm)?.iter().any(|s| s.snapshot == name))
}

/// A dry run's check of what the server checks for a real one.
fn exists(c: &Client, vm: &Vm, name: &str) -> Result<()> {
    match has(c, vm, name)? {
        true => Ok(()),
        false => Err(
            Error::not_found(format!("snapshot '{name}' does not exist"))
                .with_hint(format!("vm-snapshot-list {} lists them", vm.label())),
        ),
    }
}

/// Takes a snapshot (`POST …/snapshot`, a `qmsnapshot` task, followed
/// unless `no_wait`), with `ram` the VM's memory too: refused for a stopped
/// VM (exit 4), which has none. A name already used is a conflict (exit 4).
pub fn create(
    c: &Client,
    vm: &Vm,
    name: &str,
    ram: bool,
    description: Option<&str>,
    no_wait: bool,
) -> Result<Done> {
    let mut params = vec![("snapname", name.to_string())];
    if ram {
        if vm::current(c, vm)?.status() == Status::Stopped {
            return Err(Error::conflict(format!(
                "VM {} is stopped: it has no RAM state to save",
                vm.vmid
            ))
            .with_hint("take the snapshot without --ram"));
        }
        params.push(("vmstate", "1".into()));
    }
    if let Some(d) = description {
        params.push(("description", d.to_string()));
    }
    // The server refuses a name taken; a dry run, which sends nothing, asks.
    if c.dry_run && has(c, vm, name)? {
        return Err(Error::conflict(format!(
            "snapshot name '{name}' already used"
        )));
    }
    let op = Op {
        method: Method::Post,
        path: format!("{}/snapshot", vm::api_path(vm)),
        params,
        kind: "qmsnapshot",
        subject: None,
        no_wait,
        deadline: None,
    };
    write(c, vm, op, &|| has(c, vm, name))
}

/// Rolls a VM back to a snapshot (`POST …/snapshot/{name}/rollback`, a
/// `qmrollback` task): one without RAM leaves it stopped unless `start`.
/// A lost answer is an error, as a rollback cannot be checked afterwards.
pub fn rollback(c: &Client, vm: &Vm, name: &str, start: bool, no_wait: bool) -> Result<Done> {
    if c.dry_run {
        exists(c, vm, name)?;
        // A snapshot with its RAM comes back running, one without stopped.
        let ram = list(c, vm)?.iter().any(|s| s.snapshot == name && s.vmstate);
        let after = if start || ram {
            Status::Running
        } else {
            Status::Stopped
        };
        return Ok(Done::changed(after));
    }
    let mut params = vec![];
    if start {
        params.push(("start", "1".to_string()));
    }
    let op = Op {
        method: Method::Post,
        path: format!("{}/snapshot/{name}/rollback", vm::api_path(vm)),
        params,
        kind: "qmrollback",
        subject: None,
        no_wait,
        deadline: None,
    };
    // A rollback's effect cannot be read back: an uncertain one is an error.
    write(c, vm, op, &|| Ok(false))
}

/// Deletes a snapshot (`DELETE …/snapshot/{name}`, a `qmdelsnapshot`
/// task); `force` removes it from the config even when removing a disk's
/// snapshot fails.
pub fn delete(c: &Client, vm: &Vm, name: &str, force: bool, no_wait: bool) -> Result<Done> {
    let mut params = vec![];
    if force {
        params.push(("force", "1".to_string()));
    }
    let op = Op {
        method: Method::Delete,
        path: format!("{}/snapshot/{name}", vm::api_path(vm)),
        params,
        kind: "qmdelsnapshot",
        subject: None,
        no_wait,
        deadline: None,
    };
    let no_wait = op.no_wait;
    if c.dry_run {
        exists(c, vm, name)?;
        return Ok(Done {
            changed: true,
            ..Done::default()
        });
    }
    let upid = vm::task(c, vm, &op, &|| Ok(!has(c, vm, name)?))?;
    Ok(Done {
        changed: true,
        upid: upid.filter(|_| no_wait).map(|u| u.raw),
        ..Done::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_checked() {
        assert!(check_name("before-upgrade_2").is_ok());
        for bad in [
            "",
            "x",
            "1st",
            "with space",
            "current",
            "a.b",
            &"x".repeat(41),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
