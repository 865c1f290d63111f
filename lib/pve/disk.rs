//! Growing a VM's disk (`PUT …/resize`, a `resize` task). Proxmox VE grows
//! disks and never shrinks them; a size that would shrink one is refused
//! here, before anything is sent.

use super::client::{Client, Method};
use super::config;
use super::vm::{self, Op};
use crate::error::{Error, Result};
use crate::guest::record::{Done, Vm};
use crate::guest::units::{human_size, parse_size};

/// A size asked for: `+10G` grows by 10 GiB, `40G` grows to 40 GiB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewSize {
    /// `bytes` is added to the disk's size (`+`), rather than being it.
    pub grow_by: bool,
    /// The size, or the growth, in bytes.
    pub bytes: u64,
}

/// `+10G` or `40G`: a unit is required, as a bare number would be bytes to
/// the server and GiB to most people.
pub fn parse_new_size(s: &str) -> Result<NewSize> {
    let (grow_by, n) = match s.strip_prefix('+') {
        Some(n) => (true, n),
        None => (false, s),
    };
    if n.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(Error::usage(format!("size {s}: give a unit, e.g. {s}G")));
    }
    let bytes = parse_size(n)?;
    if bytes == 0 && grow_by {
        return Err(Error::usage(format!("size {s}: grows by nothing")));
    }
    Ok(NewSize { grow_by, bytes })
}

/// The size as the server's pattern takes it (`\+?\d+[KMGT]?`), exact.
fn server_size(bytes: u64) -> String {
    for (unit, shift) in [('T', 40), ('G', 30), ('M', 20), ('K', 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// Grows `disk` (`scsi0`…) of a VM (`PUT /nodes/{node}/qemu/{vmid}/resize`,
/// with the config's digest; a `resize` task, followed unless `no_wait`).
/// A missing disk is not found (exit 3), a CD drive or a smaller size
/// invalid (exit 8), both before anything is sent; the same size is
/// `changed:false`.
pub fn resize(c: &Client, vm: &Vm, disk: &str, size: NewSize, no_wait: bool) -> Result<Done> {
    let cfg = config::read(c, vm)?;
    let Some(value) = cfg.current.get(disk) else {
        let mut disks: Vec<&str> = cfg
            .current
            .keys()
            .map(String::as_str)
            .filter(|k| config::is_disk(k))
            .collect();
        disks.sort_unstable();
        return Err(
            Error::not_found(format!("VM {} has no disk {disk}", vm.vmid))
                .with_hint(format!("its disks: {}", disks.join(", "))),
        );
    };
    if value.contains("media=cdrom") {
        return Err(Error::invalid(format!(
            "{disk} of VM {} is a CD drive",
            vm.vmid
        )));
    }
    let now = value
        .split(',')
        .find_map(|o| o.strip_prefix("size="))
        .and_then(|s| parse_size(s).ok());
    let want = match (size.grow_by, now) {
        (true, Some(n)) => Some(n + size.bytes),
        (true, None) => None,
        (false, _) => Some(size.bytes),
    };
    if let (Some(now), Some(want)) = (now, want) {
        if want < now {
            return Err(Error::invalid(format!(
                "{disk} of VM {} is {}: it can grow, not shrink, to {}",
                vm.vmid,
                human_size(now),
                human_size(want)
            ))
            .with_hint("Proxmox VE does not shrink disks"));
        }
        if want == now {
            return Ok(Done {
                changed: false,
                ..Done::default()
            });
        }
    }
    if c.dry_run {
        return Ok(Done {
            changed: true,
            ..Done::default()
        });
    }
    let mut params = vec![
        ("disk", disk.to_string()),
        (
            "size",
            if size.grow_by {
                format!("+{}", server_size(size.bytes))
            } else {
                server_size(size.bytes)
            },
        ),
    ];
    if let Some(d) = &cfg.digest {
        params.push(("digest", d.clone()));
    }
    let settled = || {
        let after = config::read(c, vm)?;
        let size = after
            .current
            .get(disk)
            .and_then(|v| v.split(',').find_map(|o| o.strip_prefix("size=")))
            .and_then(|s| parse_size(s).ok());
        Ok(matches!((size, want), (Some(s), Some(w)) if s >= w))
    };
    let op = Op {
        method: Method::Put,
        path: format!("{}/resize", vm::api_path(vm)),
        params,
        kind: "resize",
        subject: None,
        no_wait,
        deadline: None,
    };
    let upid = vm::task(c, vm, &op, &settled)?;
    Ok(Done {
        changed: true,
        upid: upid.filter(|_| no_wait).map(|u| u.raw),
        ..Done::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_grow_by_or_to_and_need_a_unit() {
        assert_eq!(
            parse_new_size("+10G").unwrap(),
            NewSize {
                grow_by: true,
                bytes: 10 << 30
            }
        );
        assert!(!parse_new_size("40G").unwrap().grow_by);
        assert!(parse_new_size("40").is_err());
        assert!(parse_new_size("+0G").is_err());
        assert!(parse_new_size("lots").is_err());
        assert_eq!(server_size(10 << 30), "10G");
        assert_eq!(server_size(1536 << 20), "1536M");
        assert_eq!(server_size(1000), "1000");
    }
}
