//! The cluster's nodes and their storages: where a new VM and its disks go
//! when the user does not say.

use super::client::Client;
use super::lenient::{Field, Item};
use crate::error::{Error, Result};
use serde::Deserialize;

/// One `/nodes` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Node {
    node: Field<String>,
    status: Field<String>,
    mem: Field<u64>,
    maxmem: Field<u64>,
}

/// The node new VMs go to: the given one, else proxmox.node, else the
/// online node with the most free memory.
pub fn pick(c: &Client, given: Option<&str>) -> Result<String> {
    if let Some(n) = given.or(c.cfg.node.as_deref()) {
        return Ok(n.to_string());
    }
    let nodes: Vec<Item<Node>> = c.get_as("/nodes", &[])?;
    records(nodes)
        .filter(|n| n.status.str() == Some("online"))
        .filter_map(|n| {
            let free = n
                .maxmem
                .get()
                .unwrap_or(0)
                .saturating_sub(n.mem.get().unwrap_or(0));
            Some((free, n.node.get().filter(|s| !s.is_empty())?))
        })
        .max_by_key(|(free, _)| *free)
        .map(|(_, name)| name)
        .ok_or_else(|| Error::unavailable("no node of the cluster is online"))
}

/// The online nodes, by name.
pub fn online(c: &Client) -> Result<Vec<String>> {
    let nodes: Vec<Item<Node>> = c.get_as("/nodes", &[])?;
    let mut names: Vec<String> = records(nodes)
        .filter(|n| n.status.str() == Some("online"))
        .filter_map(|n| n.node.get().filter(|s| !s.is_empty()))
        .collect();
    names.sort();
    Ok(names)
}

/// What /version tells: the pve-manager version (`9.1.5`) and release.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Version {
    /// The pve-manager package's version: `9.1.5`.
    pub version: Field<String>,
    /// The point release, `x.y`: `9.1`.
    pub release: Field<String>,
}

/// Asks the cluster its version (`GET /version`, which any valid
/// credential may read).
pub fn version(c: &Client) -> Result<Version> {
    c.get_as("/version", &[])
}

/// How far a node's clock is ahead of this host's, in seconds (negative:
/// behind), to the second. Needs Sys.Audit on the node.
pub fn clock_skew(c: &Client, node: &str) -> Result<i64> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Time {
        time: Field<i64>,
    }
    let t: Time = c.get_as(&format!("/nodes/{node}/time"), &[])?;
    let theirs = t
        .time
        .get()
        .ok_or_else(|| Error::failed(format!("node {node} did not tell its time")))?;
    let ours = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(theirs.saturating_sub(ours))
}

/// One `/nodes/{node}/storage` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Storage {
    storage: Field<String>,
    content: Field<String>,
    active: Field<bool>,
    enabled: Field<bool>,
    avail: Field<u64>,
}

/// The storage for a new VM's disks: the given one, else proxmox.storage,
/// else the node's enabled and active storage for disk images with the
/// most room (`local-lvm` on a default install, `local-zfs` on ZFS).
pub fn disk_storage(c: &Client, node: &str, given: Option<&str>) -> Result<String> {
    storage_for(c, node, given, "images")
}

/// The same for a container's root filesystem (content `rootdir`).
pub fn rootfs_storage(c: &Client, node: &str, given: Option<&str>) -> Result<String> {
    storage_for(c, node, given, "rootdir")
}

fn storage_for(c: &Client, node: &str, given: Option<&str>, content: &str) -> Result<String> {
    if let Some(s) = given.or(c.cfg.storage.as_deref()) {
        return Ok(s.to_string());
    }
    let list: Vec<Item<Storage>> = c.get_as(
        &format!("/nodes/{node}/storage"),
        &[("content", content.into()), ("enabled", "1".into())],
    )?;
    records(list)
        .filter(|s| {
            // Filtered by the server too; checked again, as an older server
            // may ignore a parameter it does not know.
            let have = s.content.str().unwrap_or("");
            super::vm::split_list(have).iter().any(|c| c == content)
                && s.enabled.copied() != Some(false)
                && s.active.copied() == Some(true)
        })
        .filter_map(|s| Some((s.avail.get().unwrap_or(0), s.storage.get()?)))
        .max_by_key(|(avail, _)| *avail)
        .map(|(_, name)| name)
        .ok_or_else(|| {
            let what = if content == "images" {
                "disk images"
            } else {
                "container root filesystems"
            };
            Error::unavailable(format!("node {node} has no active storage for {what}"))
                .with_hint("name one with --storage, or set proxmox.storage")
        })
}

/// The node's storages that may hold this content, enabled and active.
pub fn storages_with(c: &Client, node: &str, content: &str) -> Result<Vec<String>> {
    let list: Vec<Item<Storage>> = c.get_as(
        &format!("/nodes/{node}/storage"),
        &[("content", content.into()), ("enabled", "1".into())],
    )?;
    Ok(records(list)
        .filter(|s| {
            let have = s.content.str().unwrap_or("");
            super::vm::split_list(have).iter().any(|c| c == content)
                && s.active.copied() != Some(false)
        })
        .filter_map(|s| s.storage.get())
        .collect())
}

/// The records of a list, without the entries that are not (none are,
/// from a sound server; a warning would say nothing the user can act on).
fn records<T>(list: Vec<Item<T>>) -> impl Iterator<Item = T> {
    list.into_iter().filter_map(|i| match i {
        Item::Record(r) => Some(r),
        Item::Other(_) => None,
    })
}
