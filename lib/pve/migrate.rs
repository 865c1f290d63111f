//! Moving a VM to another node (`POST …/migrate`, a `qmigrate` task),
//! followed with its progress; afterwards the VM is read on its new node.

use super::client::{Client, Method};
use super::vm::{self, Op};
use crate::error::{Error, Result};
use crate::guest::Status;
use crate::guest::record::{Done, GuestId, Vm};

pub struct How<'a> {
    pub to: &'a str,
    /// Live, for a running VM.
    pub online: bool,
    /// Copy local disks along (live storage migration).
    pub with_local_disks: bool,
    pub target_storage: Option<&'a str>,
    pub no_wait: bool,
}

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
    let upid = vm::task(c, vm, &op, &settled).map_err(|e| {
        // A failed migration leaves the VM where it was: say so.
        let hint = e.hint.clone().unwrap_or_default();
        e.with_hint(format!("VM {} stays on {}; {hint}", vm.vmid, vm.node))
    })?;
    if how.no_wait {
        return Ok(Done {
            changed: true,
            upid: upid.map(|u| u.raw),
            ..Done::default()
        });
    }
    Ok(Done {
        made: Some(GuestId::vm(&moved)),
        ..Done::changed(vm::current(c, &moved)?.status())
    })
}
