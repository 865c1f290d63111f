//! The QEMU guest agent, reached through the API: whether it answers, the
//! guest's addresses, and commands run in the guest. Its errors are the
//! server's (qemu-server's Agent.pm); each is mapped to what the user can
//! do about it.

use super::client::{Client, Method};
use super::lenient::{self, Field, Item};
use super::vm;
use crate::error::{Error, Kind, Result};
use crate::guest::record::Vm;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// An agent error, with its kind and the fix: not configured or not
/// running is the backend unavailable (5), a stopped VM a conflict (4),
/// a command that got no answer a timeout (7).
fn agent_error(vm: &Vm, e: Error) -> Error {
    let m = e.message.to_ascii_lowercase();
    let (label, id) = (vm.label(), vm.vmid);
    if m.contains("no qemu guest agent configured") {
        Error::unavailable(format!("VM {id} has no QEMU guest agent configured")).with_hint(
            format!(
                "enable it (vm-config {label} --set agent=1) and restart the VM; the guest needs the qemu-guest-agent package"
            ),
        )
    } else if m.contains("guest agent is not running") {
        Error::unavailable(format!("the QEMU guest agent of VM {id} is not running"))
        .with_hint("install qemu-guest-agent in the guest and start it (systemctl enable --now qemu-guest-agent); a guest that is still booting starts it soon")
    } else if m.contains("is not running") {
        Error::conflict(format!("VM {id} is not running"))
            .with_hint(format!("start it first: vm-start {label}"))
    } else if e.kind == Kind::Timeout || m.contains("got timeout") {
        Error::timeout(format!(
            "the QEMU guest agent of VM {id} did not answer: {}",
            e.message.trim()
        ))
        .with_hint("the agent may be hung; restarting it in the guest (or the VM) helps")
    } else {
        e
    }
}

/// Whether the error says the agent is not there yet (a booting guest).
pub fn not_yet(e: &Error) -> bool {
    e.kind == Kind::Unavailable && e.message.contains("is not running")
}

fn path(vm: &Vm, cmd: &str) -> String {
    format!("{}/agent/{cmd}", vm::api_path(vm))
}

/// Whether the agent is enabled in the configuration (`agent: 1`,
/// `agent: enabled=1,…`).
pub fn enabled(config_value: Option<&str>) -> bool {
    config_value.is_some_and(|v| {
        let first = v.split(',').next().unwrap_or("");
        first == "1" || first == "enabled=1" || v.split(',').any(|p| p == "enabled=1")
    })
}

/// Whether the agent answers (`POST …/agent/ping`); its errors name the fix.
pub fn ping(c: &Client, vm: &Vm) -> Result<()> {
    c.write(Method::Post, &path(vm, "ping"), &[])
        .map(|_| ())
        .map_err(|f| agent_error(vm, f.error))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Iface {
    name: Field<String>,
    #[serde(rename = "ip-addresses")]
    ips: Vec<Item<Address>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Address {
    #[serde(rename = "ip-address")]
    ip: Field<String>,
    #[serde(rename = "ip-address-type")]
    kind: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Interfaces {
    result: Vec<Item<Iface>>,
}

/// The guest's addresses, IPv4 and IPv6, without loopback and link-local
/// ones: those another machine can reach it at.
pub fn addresses(c: &Client, vm: &Vm) -> Result<(Vec<String>, Vec<String>)> {
    let r: Interfaces = c
        .get_as(&path(vm, "network-get-interfaces"), &[])
        .map_err(|e| agent_error(vm, e))?;
    let (mut v4, mut v6) = (vec![], vec![]);
    for i in r.result {
        let Item::Record(i) = i else { continue };
        if i.name.str() == Some("lo") {
            continue;
        }
        for a in i.ips {
            let Item::Record(a) = a else { continue };
            let Some(ip) = a.ip.get() else { continue };
            match a.kind.str() {
                Some("ipv4") if !ip.starts_with("127.") && !ip.starts_with("169.254.") => {
                    v4.push(ip)
                }
                Some("ipv6") if ip != "::1" && !ip.to_ascii_lowercase().starts_with("fe80:") => {
                    v6.push(ip)
                }
                _ => {}
            }
        }
    }
    Ok((v4, v6))
}

/// How a command run by the agent ended.
#[derive(Debug, Default)]
pub struct Exited {
    /// Its exit code, when the agent reports one.
    pub code: Option<i64>,
    /// The signal that ended it, if one did.
    pub signal: Option<i64>,
    /// What it wrote on stdout.
    pub out: String,
    /// What it wrote on stderr.
    pub err: String,
    /// Whether the agent cut either output short.
    pub truncated: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Status {
    exited: Field<bool>,
    exitcode: Field<i64>,
    signal: Field<i64>,
    #[serde(rename = "out-data")]
    out: Field<String>,
    #[serde(rename = "err-data")]
    err: Field<String>,
    #[serde(rename = "out-truncated")]
    out_truncated: Field<bool>,
    #[serde(rename = "err-truncated")]
    err_truncated: Field<bool>,
}

/// The command could not be started: how the guest said so.
#[derive(Debug)]
pub enum NotRun {
    /// No such program in the guest; the server's message.
    NotFound(String),
    /// The program may not be run (not executable); the server's message.
    Denied(String),
    /// Any other failure, the agent's own included.
    Other(Error),
}

/// Runs a command in the guest (agent `exec`), with `input` as its stdin,
/// and polls `exec-status` until it has exited. The agent gives the output
/// only then, and whole.
pub fn exec(
    c: &Client,
    vm: &Vm,
    command: &[String],
    input: Option<&str>,
) -> std::result::Result<Exited, NotRun> {
    let mut params: Vec<(&str, String)> = command.iter().map(|a| ("command", a.clone())).collect();
    if let Some(i) = input {
        params.push(("input-data", i.to_string()));
    }
    let started = c
        .write(Method::Post, &path(vm, "exec"), &params)
        .map_err(|f| {
            let m = &f.error.message;
            if m.contains("(No such file or directory)") {
                NotRun::NotFound(m.clone())
            } else if m.contains("(Permission denied)") {
                NotRun::Denied(m.clone())
            } else {
                NotRun::Other(agent_error(vm, f.error))
            }
        })?;
    let pid = lenient::read::<u64>(started.get("pid"))
        .get()
        .ok_or_else(|| {
            NotRun::Other(Error::failed(format!(
                "the agent's exec gave no pid: {started}"
            )))
        })?;
    let mut pause = std::time::Duration::from_millis(50);
    loop {
        let s: Status = c
            .get_as(&path(vm, "exec-status"), &[("pid", pid.to_string())])
            .map_err(|e| NotRun::Other(agent_error(vm, e)))?;
        if s.exited.copied() == Some(true) {
            return Ok(Exited {
                code: s.exitcode.copied(),
                signal: s.signal.copied(),
                out: s.out.get().unwrap_or_default(),
                err: s.err.get().unwrap_or_default(),
                truncated: s.out_truncated.copied() == Some(true)
                    || s.err_truncated.copied() == Some(true),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 3 / 2).min(std::time::Duration::from_millis(500));
    }
}

/// Polls the agent until it answers (and, with `ip`, reports an address
/// others can reach), or fails at the deadline (exit 7). A VM without the
/// agent enabled fails at once: waiting would not help. Says whether it
/// had to wait.
pub fn wait(c: &Client, vm: &Vm, ip: bool, deadline: Instant) -> Result<bool> {
    let cfg = super::config::read(c, vm)?;
    if !enabled(cfg.current.get("agent").map(String::as_str)) {
        return Err(agent_error(
            vm,
            Error::failed("No QEMU guest agent configured"),
        ));
    }
    let what = if ip { "an address" } else { "its guest agent" };
    let _clear = super::task::ClearProgress(&c.out);
    let mut pause = Duration::from_millis(100);
    let mut waited = false;
    loop {
        let outcome = if ip {
            addresses(c, vm).map(|(v4, v6)| !v4.is_empty() || !v6.is_empty())
        } else {
            ping(c, vm).map(|_| true)
        };
        // Not yet: a booting guest, whose agent (or the VM) is not up.
        let not_yet = match outcome {
            Ok(true) => return Ok(waited),
            Ok(false) => Error::timeout(format!("VM {} reports no address", vm.vmid)),
            Err(e) if not_yet(&e) || e.kind == Kind::Conflict => e,
            Err(e) => return Err(e),
        };
        waited = true;
        if Instant::now() >= deadline {
            let mut e = not_yet;
            e.message = format!("{}, still at the deadline", e.message.trim_end());
            e.kind = Kind::Timeout;
            return Err(e);
        }
        c.out.progress(Some(&format!(
            "{}: waiting for {what} ({})",
            vm.label(),
            not_yet.message
        )));
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 3 / 2).min(Duration::from_secs(2));
    }
}
