//! Moving a VM to another node (`POST …/migrate`, a `qmigrate` task),
//! followed with its progress; afterwards the VM is read on its new node.

use super::client::{Client, Method};
use super::vm::{self, Op};
use crate::error::{Error, Result};
use crate::guest::Status;
use crate::guest::record::{Done, GuestId, Vm};
use std::time::{Duration, Instant};

/// How a VM is to be moved.
pub struct How<'a> {
    /// The node to move it to.
    pub to: &'a str,
    /// Live, for a running VM.
    pub online: bool,
    /// Copy local disks along (live storage migration).
    pub with_local_disks: bool,
    /// The storage its local disks go to on the target (`targetstorage`);
    /// `None` leaves that to the server.
    pub target_storage: Option<&'a str>,
    /// Return the task's UPID rather than follow it.
    pub no_wait: bool,
}

/// Moves a VM to `how.to` (`POST /nodes/{node}/qemu/{vmid}/migrate`, a
/// `qmigrate` task followed unless `no_wait`; an HA-managed VM is waited
/// for until it is there, up to 180 s). A running VM without `online` is
/// refused (exit 4) before anything is sent; one already there is
/// `changed:false`. The result names the VM on its new node.
pub fn migrate(c: &Client, vm: &Vm, how: &How) -> Result<Done> {
    if vm.node == how.to {
        return Ok(Done {
            changed: false,
            ..Done::unchanged(vm.status)
        });
    }
    let running = vm::current(c, vm)?.status() != Status::Stopped;
    if running && !how.online {
        return Err(
            Error::conflict(format!("VM {} is running", vm.vmid)).with_hint(format!(
                "migrate it live with --online, or stop it first (vm-stop {})",
                vm.label()
            )),
        );
    }
    let mut params = vec![("target", how.to.to_string())];
    if how.online && running {
        params.push(("online", "1".into()));
    }
    if how.with_local_disks {
        params.push(("with-local-disks", "1".into()));
    }
    if let Some(s) = how.target_storage {
        params.push(("targetstorage", s.to_string()));
    }
    let moved = Vm {
        node: how.to.to_string(),
        ..vm.clone()
    };
    if c.dry_run {
        return Ok(Done {
            made: Some(GuestId::vm(&moved)),
            ..Done::changed(vm.status)
        });
    }
    let op = Op {
        method: Method::Post,
        path: format!("{}/migrate", vm::api_path(vm)),
        params,
        kind: "qmigrate",
        subject: None,
        no_wait: how.no_wait,
        deadline: None,
    };
    let settled = || vm::exists(c, how.to, vm.vmid);
    let upid = match vm::task(c, vm, &op, &settled) {
        Ok(u) => u,
        Err(e) => {
            // A migration whose task failed leaves the VM where it was:
            // say so when the VM is still there.
            let stayed = e.hint.as_deref().is_some_and(|h| h.contains("task log"))
                && vm::exists(c, &vm.node, vm.vmid).unwrap_or(false);
            return Err(if stayed {
                let hint = e.hint.clone().unwrap_or_default();
                e.with_hint(format!("VM {} is still on {}; {hint}", vm.vmid, vm.node))
            } else {
                e
            });
        }
    };
    if how.no_wait {
        return Ok(Done {
            changed: true,
            upid: upid.map(|u| u.raw),
            ..Done::default()
        });
    }
    // An HA-managed VM gets a `hamigrate` task, which ends when the request
    // is queued: the VM itself moves later.
    if upid.as_ref().is_some_and(|u| u.kind.starts_with("ha")) {
        wait_until_on(c, vm, how.to)?;
    }
    Ok(Done {
        made: Some(GuestId::vm(&moved)),
        ..Done::changed(vm::current(c, &moved)?.status())
    })
}

/// Polls until the VM is on `node` (how long HA takes to move it).
fn wait_until_on(c: &Client, vm: &Vm, node: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut pause = Duration::from_millis(200);
    let _clear = super::task::ClearProgress(&c.out);
    while !vm::exists(c, node, vm.vmid)? {
        if Instant::now() >= deadline {
            return Err(Error::timeout(format!(
                "HA has not moved VM {} to {node} within 180 s",
                vm.vmid
            ))
            .with_hint("see ha-manager status on a node of the cluster"));
        }
        c.out.progress(Some(&format!(
            "{}: waiting for HA to move it to {node}",
            vm.label()
        )));
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 3 / 2).min(Duration::from_secs(2));
    }
    Ok(())
}
