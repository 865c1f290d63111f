//! The VMs' endpoints: create, and everything under /nodes/{node}/qemu/{vmid}.

use crate::api::{Call, error, ok};
use crate::cluster::*;
use crate::server::Response;
use serde_json::{Value, json};
use std::time::Duration;

/// POST /nodes/{node}/qemu
pub(crate) fn create(call: &Call, c: &mut Cluster) -> Response {
    let (shared, p, opts, user) = (call.shared, &call.p, &call.opts, &call.user);
    let num = |k: &str| p.get(k).and_then(|v| v.parse::<u32>().ok());
    let node = p["node"].clone();
    let vmid = num("vmid").unwrap();
    if c.lost_races > 0 && !c.vms.contains_key(&vmid) {
        c.lost_races -= 1;
        let mut other = Vm::new(vmid, &node, &format!("raced-{vmid}"));
        other.tags = vec!["other-creator".into()];
        c.vms.insert(vmid, other);
    }
    if let Some(v) = c.vms.get(&vmid) {
        let on = v.node.clone();
        return error(
            500,
            &format!("unable to create VM {vmid} - VM {vmid} already exists on node '{on}'"),
            shared,
        );
    }
    let mut vm = Vm::new(vmid, &node, "");
    vm.config.clear();
    vm.name = p.get("name").cloned();
    for (k, v) in p {
        if matches!(k.as_str(), "node" | "vmid" | "start" | "storage" | "pool") {
            continue;
        }
        let v = match allocate(opts, &vm, k, v) {
            Ok(v) => v,
            Err(e) => return error(500, &e, shared),
        };
        if k == "tags" {
            vm.tags = v
                .split([';', ',', ' '])
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
        }
        vm.config.insert(k.clone(), v);
    }
    vm.pool = p.get("pool").cloned();
    vm.lock = Some("create".into());
    c.vms.insert(vmid, vm);
    let upid = new_task(c, opts, &node, "qmcreate", vmid, user, Effect::Create);
    ok(json!(upid))
}

/// A disk's value as the server stores it: `STORAGE:SIZE` (GiB) is a new
/// volume on that storage, `vm-<vmid>-disk-<n>`; anything else is kept.
pub(crate) fn allocate(
    opts: &crate::server::Options,
    vm: &Vm,
    key: &str,
    value: &str,
) -> Result<String, String> {
    let is_disk = ["scsi", "virtio", "sata", "ide", "efidisk"]
        .iter()
        .any(|d| {
            key.strip_prefix(d)
                .is_some_and(|n| n.parse::<u32>().is_ok())
        });
    let first = value.split(',').next().unwrap_or("");
    let Some((st, size)) = first.split_once(':') else {
        return Ok(value.to_string());
    };
    if is_disk && size == "cloudinit" {
        // A cloud-init drive: a small volume of its own, seen as a CD.
        return Ok(format!("{st}:vm-{}-cloudinit,media=cdrom", vm.vmid));
    }
    if !is_disk || size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(value.to_string());
    }
    let storage = opts
        .storages
        .iter()
        .find(|s| s.name == st)
        .ok_or_else(|| format!("storage '{st}' does not exist"))?;
    if !storage.holds("images") {
        return Err(format!(
            "storage '{st}' does not support content-type 'images'"
        ));
    }
    let n = (0..)
        .find(|n| {
            let name = format!("{st}:vm-{}-disk-{n}", vm.vmid);
            !vm.config
                .values()
                .any(|v| v.split(',').next() == Some(name.as_str()))
        })
        .unwrap_or(0);
    let rest: Vec<&str> = value.split(',').skip(1).collect();
    let mut out = format!("{st}:vm-{}-disk-{n}", vm.vmid);
    for r in rest.iter().filter(|r| !r.starts_with("import-from=")) {
        out.push(',');
        out.push_str(r);
    }
    let import = rest.iter().find_map(|r| r.strip_prefix("import-from="));
    if let Some(image) = import
        && !opts.images.contains(&image)
    {
        return Err(format!("volume '{image}' does not exist"));
    }
    let gib: u64 = match import {
        // An imported image keeps its own size (a cloud image's 2 GiB).
        Some(_) if size == "0" => 2,
        _ => size.parse().unwrap_or(0),
    };
    out.push_str(&format!(",size={gib}G"));
    Ok(out)
}

/// Everything under /nodes/{node}/qemu/{vmid}.
pub(crate) fn guest(call: &Call, c: &mut Cluster) -> Response {
    let (req, shared, p, opts, user, path, t) = (
        call.req,
        call.shared,
        &call.p,
        &call.opts,
        &call.user,
        call.path,
        call.template.as_str(),
    );
    let m = req.method.as_str();
    let num = |k: &str| p.get(k).and_then(|v| v.parse::<u32>().ok());
    let flag = |k: &str| p.get(k).map(|v| v == "1").unwrap_or(false);
    let vm_path = |vmid: u32, node: &str| {
        format!("Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")
    };
    let node = p["node"].clone();
    let vmid = num("vmid").unwrap();
    let sub = t.trim_start_matches("/nodes/{node}/qemu/{vmid}");
    if sub.starts_with("/agent/") {
        if c.vms.get(&vmid).is_none_or(|v| v.node != node || v.lxc) {
            return error(500, &vm_path(vmid, &node), shared);
        }
        // The agent's commands take no lock, and keep their own count of
        // a client's polls.
        return crate::agent::handle(call, c, vmid, sub);
    }
    // A client that asks for a guest's state again, or tries again
    // a write its lock refused, is waiting: the clock moves on.
    let locked = |c: &Cluster| {
        c.vms.get(&vmid).is_some_and(|v| v.lock.is_some())
            || c.tasks.values().any(|t| !t.done && t.vmid == vmid)
    };
    if m == "GET" && sub == "/status/current" {
        if c.seen(vmid, Seen::State) == Some(Seen::State) {
            c.wait_for_vm(vmid);
        }
    } else if m != "GET" && locked(c) && c.last.get(&vmid) == Some(&Seen::Refused) {
        c.wait_for_vm(vmid);
    }
    if m != "GET" || sub != "/status/current" {
        let refused = m != "GET" && locked(c);
        c.seen(vmid, if refused { Seen::Refused } else { Seen::Other });
    }
    let Some(vm) = c
        .vms
        .get(&vmid)
        .filter(|v| v.node == node && !v.lxc)
        .cloned()
    else {
        return error(500, &vm_path(vmid, &node), shared);
    };
    if m == "POST" && sub == "/status/stop" && flag("overrule-shutdown") && vm.ha_managed {
        let body = json!({"data": null, "errors": {"overrule-shutdown": "Not applicable for HA resources.\n"}, "message": "Parameter verification failed.\n"});
        return Response {
            status: 400,
            reason: "Parameter verification failed.".into(),
            body: body.to_string(),
            json: None,
        };
    }
    if m == "POST" && sub == "/status/shutdown" && vm.paused && !flag("forceStop") {
        return error(500, "VM is paused - cannot shutdown", shared);
    }
    if m == "POST" && sub == "/status/stop" && flag("overrule-shutdown") {
        // qm stop --overrule-shutdown: running shutdowns are aborted.
        for t in c.tasks.values_mut() {
            if !t.done && t.vmid == vmid && t.kind == "qmshutdown" {
                t.done = true;
                t.exitstatus = Some("interrupted by signal".into());
                t.log.push("TASK ERROR: interrupted by signal".into());
            }
        }
    }
    let busy = c.tasks.values().any(|t| !t.done && t.vmid == vmid);
    if m != "GET" {
        let refusal = match (&vm.lock, busy) {
            (Some(l), _) => Some(format!("VM is locked ({l})")),
            (None, true) => Some(format!(
                "can't lock file '/var/lock/qemu-server/lock-{vmid}.conf' - got timeout"
            )),
            (None, false) => None,
        };
        if let Some(r) = refusal {
            shared.refusals.lock().unwrap().push(r.clone());
            return error(500, &r, shared);
        }
    }
    match (m, sub) {
        ("GET", "/config") => crate::config::get(&vm),
        ("PUT" | "POST", "/config") => crate::config::update(call, c, &vm),
        ("GET", "/pending") => crate::config::pending(&vm),
        ("PUT", "/resize") => crate::config::resize(call, c, &vm),
        ("GET", "/snapshot") => crate::snapshot::list(&vm),
        (_, s) if s.starts_with("/snapshot") => crate::snapshot::write(call, c, &vm, s),
        ("POST", "/migrate") => crate::migrate::migrate(call, c, &vm),
        ("GET", "/status/current") => {
            let mut r = json!({
                "vmid": vmid, "status": if vm.running {"running"} else {"stopped"},
                "cpus": vm.cpus(), "maxmem": vm.memory_bytes(), "mem": if vm.running {vm.memory_bytes()/2} else {0},
                "maxdisk": vm.disk_bytes(), "cpu": if vm.running {0.02} else {0.0},
                "uptime": vm.started.filter(|_| vm.running).map_or(0, |s| c.now().saturating_duration_since(s).as_secs()),
                "ha": if vm.ha_managed {json!({"managed": 1, "state": "started"})} else {json!({"managed": 0})},
                "diskread": 0, "diskwrite": 0, "netin": 0, "netout": 0,
            });
            if vm.running {
                r["qmpstatus"] = json!(if vm.paused { "paused" } else { "running" });
                r["pid"] = json!(10000 + vmid);
            } else {
                r["qmpstatus"] = json!("stopped");
            }
            r["name"] = json!(vm.name.clone().unwrap_or(format!("VM {vmid}")));
            if let Some(l) = &vm.lock {
                r["lock"] = json!(l);
            }
            if !vm.tags.is_empty() {
                r["tags"] = json!(vm.tags.join(";"));
            }
            if vm.template {
                r["template"] = json!(1);
            }
            for (k, v) in &vm.garbled {
                r[*k] = v.clone();
            }
            ok(r)
        }
        ("POST", "/status/start") => {
            if vm.template {
                return error(500, "you can't start a vm if it's a template", shared);
            }
            let effect = match (&vm.fail_start, vm.running) {
                (_, true) => Effect::Fail(format!("VM {vmid} already running")),
                (Some((e, _)), _) => Effect::Fail(e.clone()),
                _ => Effect::Start,
            };
            let (kind, effect) = ha(&vm, "qmstart", effect);
            ok(json!(new_task(c, opts, &node, kind, vmid, user, effect)))
        }
        ("POST", "/status/resume") => ok(json!(new_task(
            c,
            opts,
            &node,
            "qmresume",
            vmid,
            user,
            Effect::Resume
        ))),
        ("POST", "/status/stop") => {
            let (kind, effect) = ha(&vm, "qmstop", Effect::Stop);
            ok(json!(new_task(c, opts, &node, kind, vmid, user, effect)))
        }
        ("POST", "/status/shutdown") => {
            let timeout = Duration::from_secs(num("timeout").unwrap_or(60) as u64);
            let effect = Effect::Shutdown {
                timeout,
                force: flag("forceStop"),
            };
            let (kind, effect) = ha(&vm, "qmshutdown", effect);
            ok(json!(new_task(c, opts, &node, kind, vmid, user, effect)))
        }
        ("POST", "/status/reboot") => {
            if !vm.running {
                return error(500, &format!("VM {vmid} not running"), shared);
            }
            ok(json!(new_task(
                c,
                opts,
                &node,
                "qmreboot",
                vmid,
                user,
                Effect::Reboot
            )))
        }
        ("POST", "/template") => {
            c.vms.get_mut(&vmid).unwrap().template = true;
            ok(Value::Null)
        }
        ("DELETE", "") => {
            if vm.running {
                return error(
                    500,
                    &format!("VM {vmid} is running - destroy failed"),
                    shared,
                );
            }
            ok(json!(new_task(
                c,
                opts,
                &node,
                "qmdestroy",
                vmid,
                user,
                Effect::Destroy
            )))
        }
        ("POST", "/clone") => {
            let newid = num("newid").unwrap();
            if let Some(v) = c.vms.get(&newid) {
                let on = v.node.clone();
                return error(
                    500,
                    &format!(
                        "unable to create VM {newid} - VM {newid} already exists on node '{on}'"
                    ),
                    shared,
                );
            }
            let target = p.get("target").cloned().unwrap_or(node.clone());
            if !vm.template && !flag("full") && target != node {
                return error(
                    500,
                    "Linked clone feature for a VM on another node is not supported",
                    shared,
                );
            }
            let mut new = vm.clone();
            new.vmid = newid;
            new.node = target;
            new.name = p.get("name").cloned().or(Some(format!(
                "Copy-of-VM-{}",
                vm.name.clone().unwrap_or_default()
            )));
            new.template = false;
            new.running = false;
            new.started = None;
            new.lock = Some("create".into());
            new.fail_start = None;
            if let Some(n) = &new.name {
                new.config.insert("name".into(), n.clone());
            }
            c.vms.insert(newid, new);
            c.vms.get_mut(&vmid).unwrap().lock = Some("clone".into());
            ok(json!(new_task(
                c,
                opts,
                &node,
                "qmclone",
                vmid,
                user,
                Effect::Clone { newid }
            )))
        }
        _ => error(
            501,
            &format!("Method '{} {path}' not implemented", req.method),
            shared,
        ),
    }
}
