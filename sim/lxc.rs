//! The containers' endpoints (pve-container): create, and everything under
//! /nodes/{node}/lxc/{vmid} the proxmox container backend uses. Tasks,
//! locks and the clock are the VMs' (cluster.rs); the texts are
//! pve-container's own.

use crate::api::{Call, error, ok};
use crate::cluster::*;
use crate::server::Response;
use serde_json::json;
use std::time::Duration;

fn missing(vmid: u32, node: &str) -> String {
    format!("Configuration file 'nodes/{node}/lxc/{vmid}.conf' does not exist")
}

/// POST /nodes/{node}/lxc
pub(crate) fn create(call: &Call, c: &mut Cluster) -> Response {
    let (shared, p, opts) = (call.shared, &call.p, &call.opts);
    let node = p["node"].clone();
    let vmid: u32 = p["vmid"].parse().unwrap_or(0);
    if c.lost_races > 0 && !c.vms.contains_key(&vmid) {
        c.lost_races -= 1;
        c.vms
            .insert(vmid, Vm::container(vmid, &node, &format!("raced-{vmid}")));
    }
    if let Some(v) = c.vms.get(&vmid) {
        let on = v.node.clone();
        return error(
            500,
            &format!("unable to create CT {vmid} - CT {vmid} already exists on node '{on}'"),
            shared,
        );
    }
    let template = &p["ostemplate"];
    if !opts.templates.contains(&template.as_str()) {
        return error(
            500,
            &format!("unable to create CT {vmid} - volume '{template}' does not exist"),
            shared,
        );
    }
    let hostname = p
        .get("hostname")
        .cloned()
        .unwrap_or_else(|| format!("CT{vmid}"));
    let mut ct = Vm::container(vmid, &node, &hostname);
    ct.name = p.get("hostname").cloned();
    for (k, v) in p {
        if matches!(
            k.as_str(),
            "node"
                | "vmid"
                | "ostemplate"
                | "start"
                | "storage"
                | "pool"
                | "password"
                | "ssh-public-keys"
        ) {
            continue;
        }
        let v = if k == "rootfs" {
            // STORAGE:SIZE (GiB) is a new volume on that storage.
            match v.split(',').next().and_then(|f| f.split_once(':')) {
                Some((st, size)) if size.bytes().all(|b| b.is_ascii_digit()) => {
                    match opts.storages.iter().find(|s| s.name == st) {
                        Some(s) if s.holds("rootdir") => {
                            format!("{st}:vm-{vmid}-disk-0,size={size}G")
                        }
                        Some(_) => {
                            return error(
                                500,
                                &format!(
                                    "unable to create CT {vmid} - storage '{st}' does not support container directories"
                                ),
                                shared,
                            );
                        }
                        None => {
                            return error(
                                500,
                                &format!(
                                    "unable to create CT {vmid} - storage '{st}' does not exist"
                                ),
                                shared,
                            );
                        }
                    }
                }
                _ => v.clone(),
            }
        } else {
            v.clone()
        };
        ct.config.insert(k.clone(), v);
    }
    ct.lock = Some("create".into());
    c.vms.insert(vmid, ct);
    let effect = match c.fail_create.take() {
        Some(why) => Effect::FailCreate(format!("unable to create CT {vmid} - {why}")),
        None => Effect::Create,
    };
    ok(json!(new_task(
        c, opts, &node, "vzcreate", vmid, &call.user, effect
    )))
}

/// Everything under /nodes/{node}/lxc/{vmid}.
pub(crate) fn guest(call: &Call, c: &mut Cluster) -> Response {
    let (req, shared, p, opts, user) = (call.req, call.shared, &call.p, &call.opts, &call.user);
    let m = req.method.as_str();
    let node = p["node"].clone();
    let vmid: u32 = p["vmid"].parse().unwrap_or(0);
    let sub = call.template.trim_start_matches("/nodes/{node}/lxc/{vmid}");
    let flag = |k: &str| p.get(k).is_some_and(|v| v == "1");
    // The same waits as the VMs' (qemu.rs): a second state read in a row,
    // or a second try of a write the lock refused, moves the clock on.
    let locked = |c: &Cluster| {
        c.vms.get(&vmid).is_some_and(|v| v.lock.is_some())
            || c.tasks.values().any(|t| !t.done && t.vmid == vmid)
    };
    if m == "GET" && sub == "/status/current" {
        if c.seen(vmid, Seen::State) == Some(Seen::State) {
            c.wait_for_vm(vmid);
        }
    } else {
        if m != "GET" && locked(c) && c.last.get(&vmid) == Some(&Seen::Refused) {
            c.wait_for_vm(vmid);
        }
        let refused = m != "GET" && locked(c);
        c.seen(vmid, if refused { Seen::Refused } else { Seen::Other });
    }
    let Some(ct) = c
        .vms
        .get(&vmid)
        .filter(|v| v.node == node && v.lxc)
        .cloned()
    else {
        return error(500, &missing(vmid, &node), shared);
    };
    if m != "GET" {
        let busy = c.tasks.values().any(|t| !t.done && t.vmid == vmid);
        let refusal = match (&ct.lock, busy) {
            (Some(l), _) => Some(format!("CT is locked ({l})")),
            (None, true) => Some(format!(
                "can't lock file '/run/lock/lxc/pve-config-{vmid}.lock' - got timeout"
            )),
            (None, false) => None,
        };
        if let Some(r) = refusal {
            shared.refusals.lock().unwrap().push(r.clone());
            return error(500, &r, shared);
        }
    }
    let task = |c: &mut Cluster, kind: &str, effect: Effect| {
        ok(json!(new_task(c, opts, &node, kind, vmid, user, effect)))
    };
    match (m, sub) {
        ("GET", "/status/current") => {
            let mut r = json!({
                "vmid": vmid, "status": if ct.paused {"paused"} else if ct.running {"running"} else {"stopped"}, "type": "lxc",
                "cpus": ct.cpus(), "maxmem": ct.memory_bytes(), "mem": if ct.running {ct.memory_bytes() / 4} else {0},
                "maxswap": 512u64 << 20, "swap": 0, "maxdisk": ct.disk_bytes(), "disk": 0,
                "cpu": if ct.running {0.01} else {0.0},
                "uptime": ct.started.filter(|_| ct.running).map_or(0, |s| c.now().saturating_duration_since(s).as_secs()),
                "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0, "ha": {"managed": 0},
            });
            r["name"] = json!(ct.name.clone().unwrap_or(format!("CT{vmid}")));
            if ct.running {
                r["pid"] = json!(20000 + vmid);
            }
            if let Some(l) = &ct.lock {
                r["lock"] = json!(l);
            }
            for (k, v) in &ct.garbled {
                r[*k] = v.clone();
            }
            ok(r)
        }
        ("GET", "/config") => {
            let mut cfg = json!({"digest": crate::config::digest(&ct)});
            for (k, v) in &ct.config {
                cfg[k] = match v.parse::<u64>() {
                    Ok(n) if k != "hostname" => json!(n),
                    _ => json!(v),
                };
            }
            if let Some(l) = &ct.lock {
                cfg["lock"] = json!(l);
            }
            ok(cfg)
        }
        ("GET", "/interfaces") => ok(json!(interfaces(&ct, vmid))),
        ("PUT", "/config") => {
            let ct = c.vms.get_mut(&vmid).expect("found above");
            for (k, v) in p {
                if !matches!(k.as_str(), "node" | "vmid" | "digest" | "delete") {
                    ct.config.insert(k.clone(), v.clone());
                }
            }
            ok(serde_json::Value::Null)
        }
        ("POST", "/status/start") => {
            if ct.running {
                return error(500, &format!("CT {vmid} already running"), shared);
            }
            task(c, "vzstart", Effect::Start)
        }
        ("POST", "/status/suspend") => {
            if !ct.running {
                return error(500, &format!("CT {vmid} not running"), shared);
            }
            task(c, "vzsuspend", Effect::Pause)
        }
        ("POST", "/status/resume") => task(c, "vzresume", Effect::Resume),
        ("POST", "/status/stop") => {
            if !ct.running {
                return error(500, &format!("CT {vmid} not running"), shared);
            }
            task(c, "vzstop", Effect::Stop)
        }
        ("POST", "/status/shutdown") => {
            if !ct.running {
                return error(500, &format!("CT {vmid} not running"), shared);
            }
            let timeout =
                Duration::from_secs(p.get("timeout").and_then(|t| t.parse().ok()).unwrap_or(60));
            let effect = Effect::Shutdown {
                timeout,
                force: flag("forceStop"),
            };
            task(c, "vzshutdown", effect)
        }
        ("DELETE", "") => {
            if ct.running && !flag("force") {
                return error(
                    500,
                    &format!("unable to destroy CT {vmid} - container is running"),
                    shared,
                );
            }
            task(c, "vzdestroy", Effect::Destroy)
        }
        _ => error(
            501,
            &format!("Method '{} {}' not implemented", req.method, call.path),
            shared,
        ),
    }
}

/// What …/interfaces lists: loopback, then an interface per `netN` of the
/// configuration, named by its `name=`, with the address the container's
/// DHCP (or its static `ip=`) gave it while it runs. The fields are the
/// schema's: the MAC under both names, and `ip-addresses` beside `inet`.
fn interfaces(ct: &Vm, vmid: u32) -> Vec<serde_json::Value> {
    let iface = |name: &str, mac: &str, inet: Option<String>| {
        let mut i =
            json!({"name": name, "hwaddr": mac, "hardware-address": mac, "ip-addresses": []});
        if let Some(inet) = inet {
            let (ip, prefix) = inet.split_once('/').unwrap_or((&inet, "32"));
            i["ip-addresses"] = json!([{"ip-address": ip, "ip-address-type": "inet", "prefix": prefix.parse::<u32>().unwrap_or(32)}]);
            i["inet"] = json!(inet);
        }
        i
    };
    let mut list = vec![iface("lo", "00:00:00:00:00:00", Some("127.0.0.1/8".into()))];
    let nets = ct.config.iter().filter(|(k, _)| {
        k.strip_prefix("net")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    for (n, (_, v)) in nets.enumerate() {
        let opt = |key: &str| v.split(',').find_map(|o| o.strip_prefix(key));
        let name = opt("name=").unwrap_or("eth0");
        let mac = opt("hwaddr=").unwrap_or("BC:24:11:00:01:01").to_lowercase();
        let inet = match opt("ip=") {
            _ if !ct.running => None,
            Some("dhcp") | None => Some(format!(
                "10.{}.{}.{}/24",
                1 + n,
                vmid / 250 % 250,
                vmid % 250 + 2
            )),
            Some("manual") => None,
            Some(ip) => Some(ip.to_string()),
        };
        list.push(iface(name, &mac, inet));
    }
    list
}
