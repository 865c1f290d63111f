//! The API's answers: the envelope and errors as pve-http-server sends
//! them, authentication, and the endpoints of the cluster, its nodes and
//! tasks; the VMs' own are in qemu.rs.

use crate::cluster::*;
use crate::schema::Refusal;
use crate::server::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Instant;

pub(crate) fn ok(data: Value) -> Response {
    Response {
        status: 200,
        reason: "OK".into(),
        body: String::new(),
        json: Some(json!({ "data": data })),
    }
}

/// An error as pve-http-server sends it: the reason phrase is the message's
/// first line; the body carries the message too (not on old servers, and
/// never on 595/596 or a bare 401).
pub(crate) fn error(status: u16, message: &str, shared: &Shared) -> Response {
    let old = shared.opts.lock().unwrap().old_errors;
    let reason = message.lines().next().unwrap_or("").to_string();
    let body = if old || matches!(status, 595 | 596) || message == "No ticket" {
        if message == "No ticket" {
            String::new()
        } else {
            json!({ "data": null }).to_string()
        }
    } else {
        json!({ "data": null, "message": format!("{message}\n") }).to_string()
    };
    Response {
        status,
        reason,
        body,
        json: None,
    }
}

/// What a request asked, for the endpoints that answer it.
pub(crate) struct Call<'a> {
    pub req: &'a Request,
    pub shared: &'a Shared,
    pub opts: Options,
    /// Path and request parameters, by name.
    pub p: BTreeMap<String, String>,
    /// The request parameters in order (an array parameter repeats).
    pub params: Vec<(String, String)>,
    pub user: String,
    /// The path after /api2/json.
    pub path: &'a str,
    /// The schema's path the request matched (`/nodes/{node}/qemu/{vmid}`).
    pub template: String,
}

/// A 400 for one parameter, as PVE's raise_param_exc.
pub(crate) fn param_error(name: &str, message: &str) -> Response {
    let body = json!({"data": null, "errors": {name: format!("{message}\n")}, "message": "Parameter verification failed.\n"});
    Response {
        status: 400,
        reason: "Parameter verification failed.".into(),
        body: body.to_string(),
        json: None,
    }
}

pub(crate) fn handle(req: &Request, shared: &Shared, node_here: &str) -> Response {
    let mut r = answer(req, shared, node_here);
    if let Some(v) = r.json.take() {
        r.body = if shared.opts.lock().unwrap().perl {
            serde_json::to_string(&crate::typing::Perl(&v)).expect("JSON")
        } else {
            v.to_string()
        };
    }
    r
}

fn answer(req: &Request, shared: &Shared, node_here: &str) -> Response {
    let Some(path) = req.path.strip_prefix("/api2/json") else {
        return error(
            501,
            &format!("Method '{} {}' not implemented", req.method, req.path),
            shared,
        );
    };
    shared
        .requests
        .lock()
        .unwrap()
        .push(format!("{} {path}", req.method));
    let params = if matches!(req.method.as_str(), "GET" | "DELETE") {
        if !req.body.is_empty() {
            return error(
                501,
                &format!("Unexpected content for method '{}'", req.method),
                shared,
            );
        }
        parse_form(&req.query)
    } else {
        parse_form(&String::from_utf8_lossy(&req.body))
    };
    let refuse = |why: String| {
        shared
            .refused
            .lock()
            .unwrap()
            .push(format!("{} {path} {params:?}: {why}", req.method));
    };
    let endpoint = match schema().find(&req.method, path) {
        Ok(e) => e,
        Err(Refusal::NotImplemented(m)) => {
            refuse(m.clone());
            return error(501, &m, shared);
        }
        Err(r) => panic!("unexpected refusal {r:?}"),
    };
    if let Err(Refusal::Parameters(errors)) = endpoint.validate(&params) {
        refuse(format!("{errors:?}"));
        let mut body =
            json!({"data": null, "errors": {}, "message": "Parameter verification failed.\n"});
        for (k, v) in errors {
            body["errors"][k] = json!(format!("{v}\n"));
        }
        return Response {
            status: 400,
            reason: "Parameter verification failed.".into(),
            body: body.to_string(),
            json: None,
        };
    }
    let mut p: BTreeMap<String, String> = endpoint.path_params.iter().cloned().collect();
    p.extend(params.iter().cloned());
    let template = endpoint.path.to_string();

    // Authentication: every call but the login ("user: all" in the
    // schema, /version's included, means any authenticated user).
    if !(template == "/access/ticket" && req.method == "POST")
        && let Err(r) = authenticate(req, shared)
    {
        return r;
    }
    let user = "ops@pve!ci".to_string();
    let mut c = shared.cluster.lock().unwrap();
    let opts = shared.opts.lock().unwrap().clone();
    c.task_duration = opts.task_duration;
    tick(&mut c);
    // Requests for another node are proxied there: a down node gives 595.
    if let Some(n) = p.get("node") {
        if !opts.nodes.contains(&n.as_str()) {
            return error(
                500,
                &format!(
                    "hostname lookup '{n}' failed - failed to get address info for: {n}: Name or service not known"
                ),
                shared,
            );
        }
        if n != node_here && opts.down.contains(&n.as_str()) {
            return error(595, "Connection refused", shared);
        }
    }
    let num = |k: &str| p.get(k).and_then(|v| v.parse::<u32>().ok());
    let call = Call {
        req,
        shared,
        opts: opts.clone(),
        p: p.clone(),
        params: params.clone(),
        user: user.clone(),
        path,
        template: template.clone(),
    };
    match (req.method.as_str(), template.as_str()) {
        ("POST", "/access/ticket") => {
            let (u, pw) = (p["username"].clone(), p["password"].clone());
            let valid_old = c
                .tickets
                .get(&pw)
                .is_some_and(|t| t.user == u && t.expires > Instant::now());
            if u != USER || (pw != PASSWORD && !valid_old) {
                return error(401, "authentication failure", shared);
            }
            let ticket = format!("PVE:{u}:{:08X}::sig{}", now_unix(), c.pid);
            let csrf = format!("{:08X}:csrf{}", now_unix(), c.pid);
            c.pid += 1;
            c.tickets.insert(
                ticket.clone(),
                Ticket {
                    user: u.clone(),
                    csrf: csrf.clone(),
                    expires: Instant::now() + opts.ticket_lifetime,
                },
            );
            ok(json!({"username": u, "ticket": ticket, "CSRFPreventionToken": csrf, "cap": {}}))
        }
        ("GET", "/access/permissions") => {
            let all = crate::server::PRIVILEGES;
            let privs = opts.token_privileges.clone().unwrap_or_else(|| all.to_vec());
            let map: serde_json::Map<String, Value> =
                privs.iter().map(|p| (p.to_string(), json!(1))).collect();
            ok(json!({ "/": map }))
        }
        ("GET", "/nodes/{node}/time") => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
                + opts.clock_skew_s;
            ok(json!({"time": now, "localtime": now + 3600, "timezone": "Europe/Vienna"}))
        }
        ("GET", "/version") => ok(json!({"version": "9.1.5", "release": "9.1", "repoid": "0123abcd"})),
        ("GET", "/nodes") => ok(Value::Array(
            opts.nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let online = !opts.down.contains(n);
                    json!({"node": n, "status": if online {"online"} else {"offline"}, "cpu": 0.05, "maxcpu": 16,
                           "mem": (4 + i as u64) << 30, "maxmem": 64u64 << 30, "uptime": 86400, "type": "node", "id": format!("node/{n}")})
                })
                .collect(),
        )),
        ("GET", "/cluster/resources") => {
            let want = p.get("type").cloned();
            let mut out = vec![];
            for vm in c.vms.values() {
                if want.as_deref().is_some_and(|t| t != "vm") {
                    continue;
                }
                // A guest on a node that is down: what the cluster
                // filesystem knows, and no more (no name, no sizes).
                let kind = if vm.lxc { "lxc" } else { "qemu" };
                if opts.down.contains(&vm.node.as_str()) {
                    out.push(json!({"id": format!("{kind}/{}", vm.vmid), "type": kind, "vmid": vm.vmid,
                        "node": vm.node, "status": "unknown"}));
                    continue;
                }
                let mut r = json!({
                    "id": format!("{kind}/{}", vm.vmid), "type": kind, "vmid": vm.vmid, "node": vm.node,
                    "status": if vm.paused {"paused"} else if vm.running {"running"} else {"stopped"},
                    "uptime": vm.started.filter(|_| vm.running).map_or(0, |s| c.now().saturating_duration_since(s).as_secs()),
                    "template": vm.template as u8, "maxcpu": vm.cpus(), "cpu": if vm.running {0.02} else {0.0},
                    "maxmem": vm.memory_bytes(), "mem": if vm.running {vm.memory_bytes() / 2} else {0},
                    "maxdisk": vm.disk_bytes(), "disk": 0, "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
                });
                // As Proxmox shows a guest without a name.
                let unnamed = if vm.lxc { format!("CT{}", vm.vmid) } else { format!("VM {}", vm.vmid) };
                r["name"] = json!(vm.name.clone().unwrap_or(unnamed));
                if let Some(l) = &vm.lock {
                    r["lock"] = json!(l);
                }
                if !vm.tags.is_empty() {
                    r["tags"] = json!(vm.tags.join(";"));
                }
                if let Some(pool) = &vm.pool {
                    r["pool"] = json!(pool);
                }
                for (k, v) in &vm.garbled {
                    r[*k] = v.clone();
                }
                out.push(r);
            }
            out.extend(c.junk.iter().cloned());
            ok(Value::Array(out))
        }
        ("GET", "/cluster/nextid") => {
            if let Some(id) = num("vmid") {
                return if c.vms.contains_key(&id) {
                    error(400, &format!("VM {id} already exists"), shared)
                } else {
                    ok(json!(id.to_string()))
                };
            }
            let id = (100..).find(|i| !c.vms.contains_key(i)).unwrap();
            ok(json!(id.to_string()))
        }
        ("GET", "/nodes/{node}/storage") => {
            let content = p.get("content");
            let enabled = p.get("enabled").is_some_and(|e| e == "1");
            let list: Vec<Value> = opts
                .storages
                .iter()
                .filter(|st| content.is_none_or(|c| st.holds(c)))
                .filter(|st| !enabled || st.enabled)
                .map(|st| {
                    let (total, avail) = ((st.avail_gib * 10 / 9) << 30, st.avail_gib << 30);
                    json!({"storage": st.name, "type": st.kind, "content": st.content,
                        "active": st.active as u8, "enabled": st.enabled as u8, "shared": 0,
                        "total": total, "avail": avail, "used": total - avail})
                })
                .collect();
            ok(Value::Array(list))
        }
        ("POST", "/nodes/{node}/qemu") => crate::qemu::create(&call, &mut c),
        ("POST", "/nodes/{node}/lxc") => crate::lxc::create(&call, &mut c),
        (_, t) if t.starts_with("/nodes/{node}/lxc/{vmid}") => crate::lxc::guest(&call, &mut c),
        ("GET", "/nodes/{node}/storage/{storage}/content") => {
            let storage = p["storage"].clone();
            let content = p.get("content").cloned();
            let list: Vec<Value> = opts
                .templates
                .iter()
                .filter(|t| t.starts_with(&format!("{storage}:")))
                .filter(|_| content.as_deref().is_none_or(|c| c == "vztmpl"))
                .map(|t| json!({"volid": t, "content": "vztmpl", "format": "tzst", "size": 129_000_000u64, "ctime": 1_720_000_000u64}))
                .collect();
            ok(Value::Array(list))
        }
        (_, t) if t.starts_with("/nodes/{node}/qemu/{vmid}") => crate::qemu::guest(&call, &mut c),
        ("GET", "/nodes/{node}/tasks") => {
            let source = p.get("source").map_or("archive", String::as_str);
            let list: Vec<Value> = c
                .tasks
                .values()
                .filter(|t| t.node == p["node"] && num("vmid").is_none_or(|id| id == t.vmid))
                .filter(|t| match source {
                    "active" => !t.done,
                    "archive" => t.done,
                    _ => true,
                })
                .map(|t| {
                    let mut r = json!({"upid": t.upid, "node": t.node, "type": t.kind, "id": t.vmid.to_string(),
                        "user": t.user, "pid": 1, "pstart": 1, "starttime": t.starttime});
                    if let Some(e) = &t.exitstatus {
                        r["status"] = json!(e);
                    }
                    r
                })
                .collect();
            ok(Value::Array(list))
        }
        ("GET", "/nodes/{node}/tasks/{upid}/status") => {
            // The client waits for this task.
            c.wait_for_task(&p["upid"]);
            match c.tasks.get(&p["upid"]) {
                Some(t) if t.node == p["node"] => {
                    let mut r = json!({"upid": t.upid, "node": t.node, "type": t.kind, "id": t.vmid.to_string(),
                        "user": t.user, "pid": 1, "pstart": 1, "starttime": t.starttime,
                        "status": if t.done {"stopped"} else {"running"}});
                    if let Some(e) = &t.exitstatus {
                        r["exitstatus"] = json!(e);
                    }
                    ok(r)
                }
                _ => error(400, "no such task", shared),
            }
        }
        ("GET", "/nodes/{node}/tasks/{upid}/log") => match c.tasks.get(&p["upid"]) {
            Some(t) if t.node == p["node"] => {
                let start = num("start").unwrap_or(0) as usize;
                let limit = num("limit").unwrap_or(50) as usize;
                let mut lines: Vec<Value> = t
                    .log
                    .iter()
                    .enumerate()
                    .skip(start)
                    .take(limit)
                    .map(|(i, l)| json!({"n": i + 1, "t": l}))
                    .collect();
                // pve-common's dump_logfile: an empty log reads as one line.
                if t.log.is_empty() {
                    lines = vec![json!({"n": 1, "t": "no content"})];
                }
                let mut r = ok(Value::Array(lines));
                if let Some(v) = r.json.as_mut() {
                    v["total"] = json!(t.log.len());
                }
                r
            }
            _ => error(400, "no such task", shared),
        },
        _ => error(501, &format!("Method '{} {path}' not implemented", req.method), shared),
    }
}

pub(crate) fn authenticate(req: &Request, shared: &Shared) -> Result<(), Response> {
    if let Some(a) = req.headers.get("authorization") {
        return if a.strip_prefix("PVEAPIToken=") == Some(TOKEN) {
            Ok(())
        } else {
            Err(error(401, "Authentication failed!", shared))
        };
    }
    let ticket = req.headers.get("cookie").and_then(|c| {
        c.split(';')
            .find_map(|kv| kv.trim().strip_prefix("PVEAuthCookie="))
            .map(String::from)
    });
    let Some(ticket) = ticket else {
        return Err(error(401, "No ticket", shared));
    };
    let c = shared.cluster.lock().unwrap();
    match c.tickets.get(&ticket) {
        Some(t) if t.expires > Instant::now() => {
            if req.method != "GET" && req.headers.get("csrfpreventiontoken") != Some(&t.csrf) {
                return Err(error(401, "Permission denied - invalid csrf token", shared));
            }
            Ok(())
        }
        _ => Err(error(401, "Authentication failed!", shared)),
    }
}
