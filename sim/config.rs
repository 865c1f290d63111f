//! A VM's configuration: read (`config`, `pending`), changed (`PUT` and
//! `POST config`, as qemu-server's update_vm_api), and disks grown
//! (`resize`).

use crate::api::{Call, error, ok, param_error};
use crate::cluster::*;
use crate::server::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The SHA-1 of the config file, as qemu-server computes it.
pub(crate) fn digest(vm: &Vm) -> String {
    let mut text = String::new();
    for (k, v) in &vm.config {
        text.push_str(&format!("{k}: {v}\n"));
    }
    if !vm.pending.is_empty() {
        text.push_str("\n[PENDING]\n");
        for (k, v) in &vm.pending {
            match v {
                Some(v) => text.push_str(&format!("{k}: {v}\n")),
                None => text.push_str(&format!("delete: {k}\n")),
            }
        }
    }
    for s in &vm.snapshots {
        text.push_str(&format!("\n[{}]\n", s.name));
    }
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A config value as the API types it: numbers as numbers.
fn typed(k: &str, v: &str) -> Value {
    match v.parse::<u64>() {
        Ok(n) if !k.starts_with("name") && k != "tags" && k != "description" => json!(n),
        _ => json!(v),
    }
}

/// GET config: the configuration with its pending changes applied.
pub(crate) fn get(vm: &Vm) -> Response {
    let mut with_pending = vm.clone();
    with_pending.apply_pending();
    let mut cfg = json!({"digest": digest(vm)});
    for (k, v) in &with_pending.config {
        cfg[k] = typed(k, v);
    }
    if vm.template {
        cfg["template"] = json!(1);
    }
    if let Some(l) = &vm.lock {
        cfg["lock"] = json!(l);
    }
    if let Some(p) = &vm.parent {
        cfg["parent"] = json!(p);
    }
    ok(cfg)
}

/// GET pending: every key with its current value, and its pending value or
/// deletion (GuestHelpers::config_with_pending_array), the digest included.
pub(crate) fn pending(vm: &Vm) -> Response {
    let mut out = vec![json!({"key": "digest", "value": digest(vm)})];
    for (k, v) in &vm.config {
        let mut item = json!({"key": k, "value": typed(k, v)});
        match vm.pending.get(k) {
            Some(Some(p)) => item["pending"] = typed(k, p),
            Some(None) => item["delete"] = json!(1),
            None => {}
        }
        out.push(item);
    }
    for (k, v) in &vm.pending {
        if !vm.config.contains_key(k) {
            match v {
                Some(p) => out.push(json!({"key": k, "pending": typed(k, p)})),
                None => out.push(json!({"key": k, "delete": 1})),
            }
        }
    }
    ok(Value::Array(out))
}

/// Settings a running VM takes at once (qemu-server's fast-plug options,
/// and the default hotplug of network devices and disks); every other
/// change waits for its next start.
fn hotplugs(key: &str) -> bool {
    let numbered = |prefix: &str| {
        key.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(
        key,
        "name" | "description" | "tags" | "onboot" | "protection" | "startup" | "hookscript"
    ) || ["net", "scsi", "virtio", "sata"]
        .iter()
        .any(|p| numbered(p))
}

/// Parameters of a config write that are not settings.
const NOT_SETTINGS: &[&str] = &[
    "node",
    "vmid",
    "digest",
    "delete",
    "revert",
    "force",
    "skiplock",
    "background_delay",
];

/// PUT (synchronous) or POST (a `qmconfig` task) config.
pub(crate) fn update(call: &Call, c: &mut Cluster, vm: &Vm) -> Response {
    let (shared, p) = (call.shared, &call.p);
    if let Some(d) = p.get("digest")
        && *d != digest(vm)
    {
        return error(
            500,
            "checksum mismatch (file change by other user?)",
            shared,
        );
    }
    let deletes: Vec<String> = p
        .get("delete")
        .map(|d| {
            d.split([',', ';', ' '])
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let sets: BTreeMap<&String, &String> = p
        .iter()
        .filter(|(k, _)| !NOT_SETTINGS.contains(&k.as_str()))
        .collect();
    if deletes.is_empty() && sets.is_empty() {
        return error(500, "no options specified", shared);
    }
    for k in &deletes {
        if sets.contains_key(k) {
            return param_error(
                "delete",
                &format!("you can't use '-{k}' and -delete {k}' at the same time"),
            );
        }
    }
    if let Some(keys) = p.get("sshkeys") {
        let keys = uri_unescape(keys);
        let bad = keys.lines().filter(|l| !l.trim().is_empty()).any(|l| {
            !["ssh-", "ecdsa-", "sk-"]
                .iter()
                .any(|t| l.trim_start().starts_with(t))
        });
        if bad {
            return error(500, "unable to parse ssh key", shared);
        }
    }
    let mut new = vm.clone();
    for k in &deletes {
        if vm.running && !hotplugs(k) && vm.config.contains_key(k) {
            new.pending.insert(k.clone(), None);
        } else {
            new.config.remove(k);
            new.pending.remove(k);
        }
    }
    for (k, v) in sets {
        let v = match crate::qemu::allocate(&call.opts, &new, k, v) {
            Ok(v) => v,
            Err(e) => return error(500, &e, shared),
        };
        if k == "tags" {
            new.tags = v
                .split([';', ',', ' '])
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
        }
        if k == "name" {
            new.name = Some(v.clone());
        }
        if vm.running && !hotplugs(k) {
            if vm.config.get(k) == Some(&v) {
                new.pending.remove(k);
            } else {
                new.pending.insert(k.clone(), Some(v));
            }
        } else {
            new.config.insert(k.clone(), v);
            new.pending.remove(k);
        }
    }
    let vmid = vm.vmid;
    c.vms.insert(vmid, new);
    if call.req.method == "PUT" {
        return ok(Value::Null);
    }
    let node = vm.node.clone();
    ok(json!(new_task(
        c,
        &call.opts,
        &node,
        "qmconfig",
        vmid,
        &call.user,
        Effect::Done
    )))
}

/// PUT resize: grows a disk, never shrinks it (a `resize` task).
pub(crate) fn resize(call: &Call, c: &mut Cluster, vm: &Vm) -> Response {
    let (shared, p) = (call.shared, &call.p);
    if let Some(d) = p.get("digest")
        && *d != digest(vm)
    {
        return error(
            500,
            "checksum mismatch (file change by other user?)",
            shared,
        );
    }
    let disk = &p["disk"];
    let Some(value) = vm.config.get(disk) else {
        return error(500, &format!("disk '{disk}' does not exist"), shared);
    };
    if value.contains("media=cdrom") {
        return error(500, "you can't resize a cdrom", shared);
    }
    let size = value
        .split(',')
        .find_map(|o| o.strip_prefix("size="))
        .and_then(bytes)
        .unwrap_or(0);
    let asked = &p["size"];
    let Some(n) = bytes(asked.trim_start_matches('+')) else {
        return error(500, "internal error", shared);
    };
    let new_size = if asked.starts_with('+') { size + n } else { n };
    if new_size < size {
        return error(500, "shrinking disks is not supported", shared);
    }
    let mut parts: Vec<String> = value
        .split(',')
        .filter(|o| !o.starts_with("size="))
        .map(String::from)
        .collect();
    parts.push(format!("size={}", human(new_size)));
    let vmid = vm.vmid;
    c.vms
        .get_mut(&vmid)
        .expect("the VM exists")
        .config
        .insert(disk.clone(), parts.join(","));
    let node = vm.node.clone();
    ok(json!(new_task(
        c,
        &call.opts,
        &node,
        "resize",
        vmid,
        &call.user,
        Effect::Done
    )))
}

/// `32G`, `512M`, `1.5G`, `1000` (bytes) → bytes.
pub(crate) fn bytes(s: &str) -> Option<u64> {
    let (num, unit) = match s.char_indices().last()? {
        (i, u @ ('K' | 'M' | 'G' | 'T')) => (&s[..i], u),
        _ => (s, 'B'),
    };
    let n: f64 = num.parse().ok()?;
    let mul = match unit {
        'K' => 1u64 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => 1,
    };
    Some((n * mul as f64) as u64)
}

/// Bytes as qemu-server writes a size: the largest unit that fits whole.
fn human(b: u64) -> String {
    for (unit, shift) in [('T', 40), ('G', 30), ('M', 20), ('K', 10)] {
        if b >= 1 << shift && b.is_multiple_of(1 << shift) {
            return format!("{}{unit}", b >> shift);
        }
    }
    b.to_string()
}

/// Percent-decoding as URI::Escape's uri_unescape: `+` stays a plus.
fn uri_unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
