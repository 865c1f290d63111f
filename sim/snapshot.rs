//! A VM's snapshots: listed, taken, rolled back to and deleted, each write
//! a task that holds the VM's lock (`snapshot`, `rollback`,
//! `snapshot-delete`) until it ends.

use crate::api::{Call, error, ok};
use crate::cluster::*;
use crate::server::Response;
use serde_json::{Value, json};

pub(crate) fn list(vm: &Vm) -> Response {
    let mut out: Vec<Value> = vm
        .snapshots
        .iter()
        .map(|s| {
            let mut e = json!({"name": s.name, "snaptime": s.snaptime, "description": s.description,
                "vmstate": s.vmstate as u8});
            if let Some(p) = &s.parent {
                e["parent"] = json!(p);
            }
            e
        })
        .collect();
    let mut current = json!({"name": "current", "digest": crate::config::digest(vm),
        "running": vm.running as u8, "description": "You are here!"});
    if let Some(p) = &vm.parent {
        current["parent"] = json!(p);
    }
    out.push(current);
    ok(Value::Array(out))
}

/// POST snapshot, DELETE snapshot/{snapname}, POST snapshot/{snapname}/rollback.
pub(crate) fn write(call: &Call, c: &mut Cluster, vm: &Vm, sub: &str) -> Response {
    let (shared, p) = (call.shared, &call.p);
    let name = p["snapname"].clone();
    let exists = vm.snapshots.iter().any(|s| s.name == name);
    let flag = |k: &str| p.get(k).is_some_and(|v| v == "1");
    let (kind, lock, effect) = match (call.req.method.as_str(), sub) {
        ("POST", "/snapshot") => {
            if name == "current" || name == "pending" {
                return error(
                    500,
                    &format!("unable to use snapshot name '{name}' (reserved name)"),
                    shared,
                );
            }
            if exists {
                return error(500, &format!("snapshot name '{name}' already used"), shared);
            }
            let effect = Effect::Snapshot {
                name,
                vmstate: flag("vmstate"),
                description: p.get("description").cloned().unwrap_or_default(),
            };
            ("qmsnapshot", "snapshot", effect)
        }
        (_, "/snapshot/{snapname}/rollback") | (_, "/snapshot/{snapname}") if !exists => {
            return error(500, &format!("snapshot '{name}' does not exist"), shared);
        }
        ("POST", "/snapshot/{snapname}/rollback") => {
            let start = flag("start");
            ("qmrollback", "rollback", Effect::Rollback { name, start })
        }
        ("DELETE", "/snapshot/{snapname}") => (
            "qmdelsnapshot",
            "snapshot-delete",
            Effect::DelSnapshot { name },
        ),
        _ => {
            return error(
                501,
                &format!("Method '{} {}' not implemented", call.req.method, call.path),
                shared,
            );
        }
    };
    let vmid = vm.vmid;
    c.vms.get_mut(&vmid).expect("the VM exists").lock = Some(lock.into());
    let node = vm.node.clone();
    ok(json!(new_task(
        c, &call.opts, &node, kind, vmid, &call.user, effect
    )))
}
