//! Migration of a VM to another node.

use crate::api::{Call, error, ok};
use crate::cluster::*;
use crate::server::Response;
use serde_json::json;

/// POST migrate: a `qmigrate` task that moves the VM to the target when
/// it ends (or fails half-way, leaving it where it was).
pub(crate) fn migrate(call: &Call, c: &mut Cluster, vm: &Vm) -> Response {
    let (shared, p, opts) = (call.shared, &call.p, &call.opts);
    let target = p["target"].clone();
    let flag = |k: &str| p.get(k).is_some_and(|v| v == "1");
    if target == vm.node {
        return crate::api::param_error("target", "target is local node.");
    }
    if opts.down.contains(&target.as_str()) {
        return error(
            500,
            &format!("target node '{target}' is not online"),
            shared,
        );
    }
    if vm.running && !flag("online") {
        return error(500, "can't migrate running VM without --online", shared);
    }
    let local_disks = vm.config.iter().any(|(k, v)| {
        ["scsi", "virtio", "sata"].iter().any(|d| k.starts_with(d)) && !v.contains("media=cdrom")
    });
    if vm.running && local_disks && !flag("with-local-disks") {
        return error(
            500,
            "can't live migrate attached local disks without with-local-disks option",
            shared,
        );
    }
    let storage = p.get("targetstorage").cloned();
    if let Some(st) = &storage
        && !opts
            .storages
            .iter()
            .any(|s| s.name == st && s.holds("images"))
    {
        return error(500, &format!("storage '{st}' does not exist"), shared);
    }
    let vmid = vm.vmid;
    let node = vm.node.clone();
    let effect = Effect::Migrate { target, storage };
    if vm.ha_managed {
        // The HA manager migrates it: `hamigrate` ends when the request is
        // queued, and the real migration follows.
        let effect = Effect::Ha(Box::new(effect), "qmigrate");
        return ok(json!(new_task(
            c,
            opts,
            &node,
            "hamigrate",
            vmid,
            &call.user,
            effect
        )));
    }
    c.vms.get_mut(&vmid).expect("the VM exists").lock = Some("migrate".into());
    ok(json!(new_task(
        c, opts, &node, "qmigrate", vmid, &call.user, effect
    )))
}
