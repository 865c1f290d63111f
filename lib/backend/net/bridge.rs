//! A network's host side, made once for all its containers and kept while
//! the network is defined: the bridge holding the gateway address, and the
//! rules that masquerade its traffic out and forward it (iptables, which on
//! Debian is iptables-nft). What was made is recorded, so that it can be
//! removed when the network is no longer defined.

use crate::backend::net::host::HostNet;
use crate::error::{Error, Result};
use crate::guest::subnet::Subnet;
use crate::os::process::{Tool, capture};
use crate::output::Output;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const IP: Tool = Tool::new("ip", "iproute2");
const IPTABLES: Tool = Tool::new("iptables", "iptables");

/// Where a subnet is looked for when none is configured: the /24s from
/// here on, clear of Podman's 10.88.0.0/16 and Docker's 172.17.0.0/16.
const FIRST_CANDIDATE: &str = "10.77.0.0/24";
const CANDIDATES: u32 = 256;

/// A network as made on this host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The network's name in the config.
    pub network: String,
    /// Its bridge.
    pub bridge: String,
    /// Its subnet, as chosen or configured when the bridge was made.
    pub subnet: String,
}

impl Record {
    /// Its subnet, parsed.
    pub fn subnet(&self) -> Result<Subnet> {
        Subnet::parse(&self.subnet).map_err(|e| {
            Error::failed(format!(
                "the record of network {} holds a bad subnet: {e}",
                self.network
            ))
        })
    }
}

/// The records of the networks made, one file per network.
pub fn records(dir: &Path) -> Vec<(PathBuf, Record)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| {
            let p = e.ok()?.path();
            if p.extension().is_none_or(|x| x != "json") {
                return None; // a record being written (`write_atomically`)
            }
            Some((p.clone(), read_record(&p)?))
        })
        .collect()
}

/// A host route or address (of `hosts`, the host's now) the subnet
/// overlaps, other than the bridge's own.
fn clash(subnet: &Subnet, bridge: &str, hosts: &[HostNet]) -> Option<HostNet> {
    hosts
        .iter()
        .find(|h| h.interface != bridge && h.subnet.overlaps(subnet))
        .cloned()
}

fn overlap_error(network: &str, subnet: &Subnet, with: &HostNet, configured: bool) -> Error {
    let e = Error::invalid(format!(
        "the subnet {subnet} of network {network} overlaps {with}"
    ));
    match configured {
        true => e.with_hint(format!(
            "set networks.{network}.subnet in the config to a subnet no host route uses"
        )),
        false => e.with_hint(format!(
            "it was chosen when the network was made; set networks.{network}.subnet in the config to a free subnet"
        )),
    }
}

/// The alias guestkit gives the bridges it makes: which state directory's
/// networks they are, so that no bridge of the host's own, or of another
/// state directory, is ever taken over or removed.
fn owner_alias(dir: &Path) -> String {
    format!("guestkit {}", dir.display())
}

/// Whether the host has the bridge, and whether it is ours (`dir`'s).
fn bridge_state(dir: &Path, bridge: &str) -> (bool, bool) {
    let sys = Path::new("/sys/class/net").join(bridge);
    let exists = sys.exists();
    let alias = std::fs::read_to_string(sys.join("ifalias")).unwrap_or_default();
    let alias = alias.trim_end();
    // No alias yet: made by a run killed before it named it, if recorded.
    let unnamed =
        alias.is_empty() && record_path(dir, bridge).exists() && sys.join("bridge").exists();
    (exists, exists && (alias == owner_alias(dir) || unnamed))
}

/// The refusal of a bridge guestkit did not make (`owner_alias`).
fn not_ours(network: &str, bridge: &str) -> Error {
    Error::conflict(format!(
        "the host has a bridge {bridge}, and guestkit did not make it for these networks"
    ))
    .with_hint(format!(
        "give network {network} another bridge in the config (networks.{network}.bridge); a bridge of your own is for --network bridge={bridge} on lxc"
    ))
}

fn record_path(dir: &Path, bridge: &str) -> PathBuf {
    dir.join(format!("{bridge}.json"))
}

fn read_record(path: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The network's subnet, its bridge made first when it is not there (after
/// a reboot, say): under a host-wide lock, so that two creates never pick
/// one subnet for two networks. A subnet that overlaps a host route or
/// address is refused, naming both; so is a bridge guestkit did not make,
/// and a subnet changed in the config while containers (`in_use`) are on
/// the old one.
pub fn ensure(
    dir: &Path,
    network: &str,
    bridge: &str,
    configured: Option<Subnet>,
    in_use: bool,
    out: &Output,
) -> Result<Subnet> {
    let path = record_path(dir, bridge);
    let recorded = read_record(&path);
    if let (true, Some(r)) = ((bridge_state(dir, bridge)) == (true, true), &recorded) {
        let subnet = r.subnet()?;
        if r.network == network && configured.is_none_or(|c| c == subnet) {
            if let Some(h) = clash(&subnet, bridge, &super::host::host_nets()) {
                return Err(overlap_error(network, &subnet, &h, configured.is_some()));
            }
            return Ok(subnet);
        }
    }
    let _lock = host_lock()?;
    let recorded = read_record(&path);
    if let Some(r) = recorded.as_ref().filter(|r| r.network != network) {
        return Err(Error::conflict(format!(
            "the bridge {bridge} of network {network} is network {}'s",
            r.network
        ))
        .with_hint(format!(
            "give network {network} a bridge of its own in the config (networks.{network}.bridge)"
        )));
    }
    let (exists, ours) = bridge_state(dir, bridge);
    if exists && !ours {
        return Err(not_ours(network, bridge));
    }
    let old = recorded.as_ref().and_then(|r| r.subnet().ok());
    // Read once: a pick looks at up to 256 candidates.
    let hosts = super::host::host_nets();
    let subnet = match configured.or(old) {
        Some(s) => s,
        None => {
            let others: Vec<Subnet> = records(dir)
                .into_iter()
                .filter(|(p, _)| *p != path)
                .filter_map(|(_, r)| r.subnet().ok())
                .collect();
            pick(bridge, &others, &hosts)?
        }
    };
    if let (Some(old), Some(r)) = (old.filter(|o| *o != subnet), &recorded) {
        if in_use {
            return Err(Error::conflict(format!(
                "the subnet of network {network} is {subnet} in the config, and containers are on it as {old}"
            ))
            .with_hint("delete those containers first, or put the subnet back"));
        }
        remove_locked(&path, dir, r, out)?;
    }
    if let Some(h) = clash(&subnet, bridge, &hosts) {
        return Err(overlap_error(network, &subnet, &h, configured.is_some()));
    }
    // Recorded before it is made: a bridge made by a run killed before it
    // wrote this would be one no run dares take over or remove.
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let record = Record {
        network: network.to_string(),
        bridge: bridge.to_string(),
        subnet: subnet.to_string(),
    };
    crate::os::file::write_atomically(&path, &Output::json_line(&record))?;
    make(dir, bridge, &subnet, out)?;
    let mut rules_made: Vec<Vec<String>> = Vec::new();
    for rule in rules(network, bridge, &subnet) {
        if let Err(e) = iptables_ensure(&rule, out) {
            for r in rules_made.iter().rev() {
                let _ = iptables_delete(r, out);
            }
            return Err(e);
        }
        rules_made.push(rule);
    }
    if let Err(e) = std::fs::write("/proc/sys/net/ipv4/ip_forward", "1") {
        out.warn(&format!(
            "cannot turn on IPv4 forwarding ({}): containers of network {network} may not reach beyond this host",
            crate::error::plain_io(&e)
        ));
    }
    Ok(subnet)
}

/// What guestkit-doctor says of a network, making nothing: its bridge and
/// subnet, or the subnet it would choose; an error for a subnet that
/// overlaps a host route or address.
pub fn describe(
    dir: &Path,
    network: &str,
    bridge: &str,
    configured: Option<Subnet>,
) -> Result<String> {
    let recorded = read_record(&record_path(dir, bridge))
        .filter(|r| r.network == network)
        .and_then(|r| r.subnet().ok());
    let (up, ours) = bridge_state(dir, bridge);
    if up && !ours {
        return Err(not_ours(network, bridge));
    }
    let hosts = super::host::host_nets();
    let (subnet, how) = match (configured, recorded) {
        (Some(s), _) => (s, "configured"),
        (None, Some(s)) => (s, "chosen when it was made"),
        (None, None) => {
            let others: Vec<Subnet> = records(dir)
                .into_iter()
                .filter_map(|(_, r)| r.subnet().ok())
                .collect();
            (
                pick(bridge, &others, &hosts)?,
                "to be chosen when the first container joins",
            )
        }
    };
    if let Some(h) = clash(&subnet, bridge, &hosts) {
        return Err(overlap_error(network, &subnet, &h, configured.is_some()));
    }
    let state = if up { "up" } else { "not made yet" };
    Ok(format!(
        "network {network}: bridge {bridge} ({state}), subnet {subnet} ({how})"
    ))
}

/// The first candidate subnet that no host route or address, and no other
/// network of guestkit's, overlaps.
fn pick(bridge: &str, others: &[Subnet], hosts: &[HostNet]) -> Result<Subnet> {
    let first = Subnet::parse(FIRST_CANDIDATE).expect("a valid subnet");
    (0..CANDIDATES)
        .filter_map(|n| first.nth_after(n))
        .find(|s| clash(s, bridge, hosts).is_none() && !others.iter().any(|o| o.overlaps(s)))
        .ok_or_else(|| {
            Error::conflict(format!(
                "no free subnet among the {CANDIDATES} /24s from {FIRST_CANDIDATE}: host routes or other networks use them all"
            ))
            .with_hint("set a subnet for the network in the config (networks.NAME.subnet)")
        })
}

/// Makes the bridge, with the gateway's address, when it is not there.
fn make(dir: &Path, bridge: &str, subnet: &Subnet, out: &Output) -> Result<()> {
    let ip = IP.find()?;
    let run = |args: &[&str]| -> Result<crate::os::process::Outcome> {
        capture(&ip, args.iter().map(Into::into).collect(), &|m| {
            out.trace(m)
        })
    };
    let sys = Path::new("/sys/class/net").join(bridge);
    if !sys.exists() {
        let r = run(&["link", "add", "name", bridge, "type", "bridge"])?;
        if !r.ok() && !sys.exists() {
            return Err(Error::failed(format!(
                "cannot make the bridge {bridge}: {}",
                r.stderr.trim()
            )));
        }
    }
    // Named as ours (`owner_alias`): `ip link add` takes no alias. A run
    // killed in between leaves a bridge with none, which its record (made
    // first) lets the next run adopt.
    let r = run(&["link", "set", bridge, "alias", &owner_alias(dir)])?;
    if !r.ok() {
        return Err(Error::failed(format!(
            "cannot name the bridge {bridge} as guestkit's: {}",
            r.stderr.trim()
        )));
    }
    let gateway = format!("{}/{}", subnet.gateway(), subnet.prefix);
    let r = run(&["addr", "replace", &gateway, "dev", bridge])?;
    if !r.ok() {
        return Err(Error::failed(format!(
            "cannot give the bridge {bridge} the address {gateway}: {}",
            r.stderr.trim()
        )));
    }
    let r = run(&["link", "set", bridge, "up"])?;
    if !r.ok() {
        return Err(Error::failed(format!(
            "cannot bring the bridge {bridge} up: {}",
            r.stderr.trim()
        )));
    }
    Ok(())
}

/// The rules of a network: its traffic to elsewhere is masqueraded as the
/// host's; it may be forwarded out, and replies and published ports in
/// (inserted first, so that a FORWARD policy of DROP does not stop them).
fn rules(network: &str, bridge: &str, subnet: &Subnet) -> Vec<Vec<String>> {
    let comment = format!("guestkit network {network}");
    let s = subnet.to_string();
    let rule = |parts: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        v.extend(["-m", "comment", "--comment", &comment].map(String::from));
        v
    };
    vec![
        {
            let mut r = rule(&["nat", "POSTROUTING", "-s", &s, "!", "-o", bridge]);
            r.extend(["-j", "MASQUERADE"].map(String::from));
            r
        },
        {
            let mut r = rule(&["filter", "FORWARD", "-i", bridge]);
            r.extend(["-j", "ACCEPT"].map(String::from));
            r
        },
        {
            let mut r = rule(&[
                "filter",
                "FORWARD",
                "-o",
                bridge,
                "-m",
                "conntrack",
                "--ctstate",
                "RELATED,ESTABLISHED,DNAT",
            ]);
            r.extend(["-j", "ACCEPT"].map(String::from));
            r
        },
    ]
}

/// `iptables -w -t TABLE OP CHAIN [POS] SPEC…`, from a rule as `rules` gives it.
fn iptables(rule: &[String], op: &str, out: &Output) -> Result<crate::os::process::Outcome> {
    let (table, chain, spec) = (&rule[0], &rule[1], &rule[2..]);
    let mut args: Vec<std::ffi::OsString> = vec!["-w".into(), "-t".into(), table.into()];
    args.push(op.into());
    args.push(chain.into());
    if op == "-I" {
        args.push("1".into());
    }
    args.extend(spec.iter().map(Into::into));
    capture(&IPTABLES.find()?, args, &|m| out.trace(m))
}

fn iptables_ensure(rule: &[String], out: &Output) -> Result<()> {
    if iptables(rule, "-C", out)?.ok() {
        return Ok(());
    }
    let op = if rule[1] == "FORWARD" { "-I" } else { "-A" };
    let r = iptables(rule, op, out)?;
    if !r.ok() {
        return Err(Error::failed(format!(
            "iptables could not add a rule to {} {}: {}",
            rule[0],
            rule[1],
            r.stderr.trim()
        )));
    }
    Ok(())
}

fn iptables_delete(rule: &[String], out: &Output) -> Result<()> {
    // Deleted while there is one: a rule added twice by hand goes too.
    while iptables(rule, "-C", out)?.ok() {
        if !iptables(rule, "-D", out)?.ok() {
            break;
        }
    }
    Ok(())
}

/// Removes a network's host side: its rules, its bridge (when guestkit
/// made it for `dir`'s networks) and its record.
pub fn remove(path: &Path, dir: &Path, r: &Record, out: &Output) -> Result<()> {
    let _lock = host_lock()?;
    remove_locked(path, dir, r, out)
}

fn remove_locked(path: &Path, dir: &Path, r: &Record, out: &Output) -> Result<()> {
    if let Ok(subnet) = r.subnet() {
        for rule in rules(&r.network, &r.bridge, &subnet) {
            iptables_delete(&rule, out)?;
        }
    }
    if bridge_state(dir, &r.bridge) == (true, true) {
        let ip = IP.find()?;
        let res = capture(
            &ip,
            vec!["link".into(), "del".into(), r.bridge.clone().into()],
            &|m| out.trace(m),
        )?;
        if !res.ok() && Path::new("/sys/class/net").join(&r.bridge).exists() {
            return Err(Error::failed(format!(
                "cannot remove the bridge {}: {}",
                r.bridge,
                res.stderr.trim()
            )));
        }
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("cannot remove", path, e))
        }
        _ => Ok(()),
    }
}

/// The host-wide lock under which networks are made and removed.
fn host_lock() -> Result<std::fs::File> {
    let dir = ["/run/lock", "/run", "/tmp"]
        .into_iter()
        .map(Path::new)
        .find(|d| d.is_dir())
        .unwrap_or(Path::new("/tmp"));
    crate::backend::lock_file(&dir.join("guestkit-networks.lock"))
}

/// iptables, for guestkit-doctor and the install hint.
pub fn tools() -> Result<()> {
    IP.find()?;
    IPTABLES.find()?;
    Ok(())
}
