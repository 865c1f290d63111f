//! The QEMU guest agent, as the API reaches it: ping, the guest's network
//! interfaces, and commands run in the guest (exec, exec-status). A guest's
//! agent answers a while after the VM starts (`Agent::up_after`), and its
//! first interface has an address a while after that (`ip_after`); a
//! client that asks again after being told "not yet" is waiting, and the
//! virtual clock moves on to the next of those moments.

use crate::api::{Call, error, ok};
use crate::cluster::*;
use crate::server::Response;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub(crate) fn handle(call: &Call, c: &mut Cluster, vmid: u32, sub: &str) -> Response {
    let shared = call.shared;
    let vm = c.vms[&vmid].clone();
    let cmd = sub.trim_start_matches("/agent/");
    if !vm.config.contains_key("agent") {
        return error(500, "No QEMU guest agent configured", shared);
    }
    if !vm.running {
        return error(500, &format!("VM {vmid} is not running"), shared);
    }
    let started = vm.started.unwrap_or_else(|| c.now());
    let enabled = matches!(
        vm.config["agent"].split(',').next(),
        Some("1" | "enabled=1")
    );
    let agent = vm.agent.clone().filter(|_| enabled);
    let up = agent.as_ref().map(|a| started + a.up_after);
    let ip_at = agent.as_ref().and_then(|a| up.map(|u| u + a.ip_after));
    let next = [up, ip_at]
        .into_iter()
        .flatten()
        .filter(|t| *t > c.now())
        .min();
    let polled = c.seen(vmid, Seen::AgentNotReady) == Some(Seen::AgentNotReady);
    if polled && let Some(t) = next {
        // Asked again: the client waits, to the next thing that happens.
        c.move_to(t);
    }
    let now = c.now();
    let Some(agent) = agent.filter(|_| up.is_some_and(|u| now >= u)) else {
        return error(500, "QEMU guest agent is not running", shared);
    };
    if agent.hangs {
        c.seen(vmid, Seen::Other);
        return error(
            500,
            &format!("VM {vmid} qmp command 'guest-{cmd}' failed - got timeout"),
            shared,
        );
    }
    let has_ip = ip_at.is_some_and(|t| now >= t);
    if cmd != "network-get-interfaces" || has_ip {
        c.seen(vmid, Seen::Other);
    }
    match cmd {
        "ping" => ok(json!({"result": {}})),
        "network-get-interfaces" => ok(json!({"result": interfaces(&vm, has_ip)})),
        "exec" => exec(call, c, vmid, now),
        "exec-status" => exec_status(call, c, vmid),
        _ => error(
            501,
            &format!("Method '{} {}' not implemented", call.req.method, call.path),
            shared,
        ),
    }
}

/// lo, and eth0 with its address once it has one: the cloud-init
/// `ipconfig0` address, else one from DHCP.
fn interfaces(vm: &Vm, has_ip: bool) -> Value {
    let mut eth0 = json!({"name": "eth0", "hardware-address": "bc:24:11:00:00:01",
        "ip-addresses": [{"ip-address-type": "ipv6", "ip-address": "fe80::be24:11ff:fe00:1", "prefix": 64}]});
    if has_ip {
        let static_ip = vm
            .config
            .get("ipconfig0")
            .and_then(|c| c.split(',').find_map(|o| o.strip_prefix("ip=")))
            .filter(|ip| *ip != "dhcp");
        let (ip, prefix) = match static_ip.and_then(|ip| ip.split_once('/')) {
            Some((ip, p)) => (ip.to_string(), p.parse::<u8>().unwrap_or(24)),
            None => (
                format!("10.0.{}.{}", vm.vmid / 250 % 250, vm.vmid % 250 + 2),
                24,
            ),
        };
        eth0["ip-addresses"]
            .as_array_mut()
            .expect("an array")
            .insert(
                0,
                json!({"ip-address-type": "ipv4", "ip-address": ip, "prefix": prefix}),
            );
    }
    json!([
        {"name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [
            {"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
            {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128}]},
        eth0
    ])
}

/// guest-exec of a few commands the tests use, as a Linux guest runs them:
/// `echo`, `cat` (its input), `true`, `false`, `sh -c 'exit N'`,
/// `sleep N`, `ls PATH` (a missing one fails), `kill-self` (killed by
/// signal 9); a program that does not exist or is not executable cannot
/// be started.
fn exec(call: &Call, c: &mut Cluster, vmid: u32, now: Instant) -> Response {
    let shared = call.shared;
    let command: Vec<&str> = call
        .params
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.as_str())
        .collect();
    let input = call.p.get("input-data").cloned().unwrap_or_default();
    let Some((&path, args)) = command.split_first() else {
        return error(500, "command or input-data (or both) required", shared);
    };
    let fails = |why: &str| {
        error(
            500,
            &format!("Agent error: Failed to execute child process \u{201c}{path}\u{201d} ({why})"),
            shared,
        )
    };
    let mut p = Proc {
        ends: now,
        out: String::new(),
        err: String::new(),
        exitcode: Some(0),
        signal: None,
    };
    match (path, args) {
        ("echo", a) => p.out = format!("{}\n", a.join(" ")),
        ("cat", []) => p.out = input,
        ("true", []) => {}
        ("false", []) => p.exitcode = Some(1),
        ("hostname", []) => p.out = format!("{}\n", c.vms[&vmid].name.clone().unwrap_or_default()),
        ("sh", ["-c", script]) if script.starts_with("exit ") => {
            p.exitcode = script[5..].trim().parse().ok();
        }
        ("sleep", [n]) => p.ends = now + Duration::from_secs(n.parse().unwrap_or(1)),
        ("ls", [dir]) if *dir == "/" => p.out = "bin\netc\nhome\nroot\ntmp\nusr\nvar\n".into(),
        ("ls", [dir]) => {
            p.err = format!("ls: cannot access '{dir}': No such file or directory\n");
            p.exitcode = Some(2);
        }
        ("kill-self", []) => {
            p.exitcode = None;
            p.signal = Some(9);
        }
        (p, _) if p.starts_with("/etc/") => return fails("Permission denied"),
        _ => return fails("No such file or directory"),
    }
    let agent = c
        .vms
        .get_mut(&vmid)
        .and_then(|v| v.agent.as_mut())
        .expect("checked");
    agent.next_pid += 1;
    let pid = 1000 + agent.next_pid;
    agent.procs.insert(pid, p);
    ok(json!({"pid": pid}))
}

/// exec-status: `exited: 0` while it runs (a client that asks is waiting:
/// the clock moves to its end); once it has exited, its output and exit
/// code, and the agent forgets it.
fn exec_status(call: &Call, c: &mut Cluster, vmid: u32) -> Response {
    let pid: u32 = call.p["pid"].parse().unwrap_or(0);
    let ends = c.vms[&vmid]
        .agent
        .as_ref()
        .and_then(|a| a.procs.get(&pid))
        .map(|p| p.ends);
    let Some(ends) = ends else {
        return error(500, "Agent error: Invalid parameter 'pid'", call.shared);
    };
    if c.now() < ends {
        let answer = ok(json!({"exited": 0}));
        c.move_to(ends);
        return answer;
    }
    let agent = c
        .vms
        .get_mut(&vmid)
        .and_then(|v| v.agent.as_mut())
        .expect("checked");
    let p = agent.procs.remove(&pid).expect("found above");
    let mut r = json!({"exited": 1});
    if let Some(code) = p.exitcode {
        r["exitcode"] = json!(code);
    }
    if let Some(sig) = p.signal {
        r["signal"] = json!(sig);
    }
    if !p.out.is_empty() {
        r["out-data"] = json!(p.out);
    }
    if !p.err.is_empty() {
        r["err-data"] = json!(p.err);
    }
    ok(r)
}
