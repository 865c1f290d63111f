//! Looking inside a container's root filesystem from the host: finding a
//! command as the container would, and its users. Backends use it to give
//! "not found" (127) and "not executable" (126) clear messages before running.

use crate::error::{Error, Kind, Result};
use std::path::{Path, PathBuf};

/// The PATH a container's command is looked up in, and runs with, when its
/// environment sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Fails with exit 127 when `command` is not found in the root's PATH, and
/// with 126 when it is not an executable file.
pub fn check_command(root: &Path, command: &[String], path: &str) -> Result<()> {
    let Some(cmd) = command.first() else {
        return Ok(());
    };
    let found = if cmd.starts_with('/') {
        resolve_in_root(root, cmd)
    } else if cmd.contains('/') {
        return Ok(()); // relative to a working directory we don't know
    } else {
        path.split(':')
            .find_map(|d| resolve_in_root(root, &format!("{d}/{cmd}")).filter(|p| executable(p)))
    };
    match found {
        None => Err(Error::not_found(format!("command not found: {cmd}")).with_exit(127)),
        Some(p) if !executable(&p) => Err(Error::new(
            Kind::Denied,
            format!("cannot run {cmd}: not an executable file"),
        )
        .with_exit(126)),
        Some(_) => Ok(()),
    }
}

/// A user as `name`, `uid`, `name:group` or `uid:gid`, in numbers, from the
/// root's /etc/passwd and /etc/group.
pub fn user_ids(root: Option<&Path>, user: &str) -> Result<(u32, u32)> {
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let read = |f: &str| {
        root.and_then(|r| std::fs::read_to_string(r.join(f)).ok())
            .unwrap_or_default()
    };
    let passwd = read("etc/passwd");
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && (f[0] == u || f[2] == u));
    let uid = match (u.parse::<u32>(), &entry) {
        (Ok(n), _) => n,
        (_, Some(f)) => f[2].parse().map_err(|_| {
            Error::invalid(format!(
                "user {u:?} has a bad uid {:?} in the container's /etc/passwd",
                f[2]
            ))
        })?,
        _ => {
            return Err(Error::not_found(format!(
                "no user {u:?} in the container's /etc/passwd"
            )));
        }
    };
    let gid = match g {
        None => entry.and_then(|f| f[3].parse().ok()).unwrap_or(uid),
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => read("etc/group")
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| {
                    Error::not_found(format!("no group {g:?} in the container's /etc/group"))
                })?,
        },
    };
    Ok((uid, gid))
}

/// A path inside `root`, following symlinks as the container would see them;
/// `Some` only when it exists.
pub fn resolve_in_root(root: &Path, path: &str) -> Option<PathBuf> {
    let mut current = path.to_string();
    for _ in 0..40 {
        let mut resolved = root.to_path_buf();
        let mut parts: Vec<&str> = current
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        parts.reverse();
        let mut redirected = None;
        let mut walked: Vec<String> = Vec::new();
        while let Some(p) = parts.pop() {
            if p == ".." {
                walked.pop();
                resolved = root.join(walked.join("/"));
                continue;
            }
            let next = resolved.join(p);
            match std::fs::symlink_metadata(&next) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(&next).ok()?;
                    let target = target.to_str()?.to_string();
                    let base = if target.starts_with('/') {
                        String::new()
                    } else {
                        format!("/{}", walked.join("/"))
                    };
                    let rest: Vec<&str> = parts.iter().rev().copied().collect();
                    redirected = Some(format!("{base}/{target}/{}", rest.join("/")));
                    break;
                }
                Ok(_) => {
                    walked.push(p.to_string());
                    resolved = next;
                }
                Err(_) => return None,
            }
        }
        match redirected {
            Some(r) => current = r,
            None => return std::fs::metadata(&resolved).is_ok().then_some(resolved),
        }
    }
    None
}

/// Whether `p` (a symlink followed) is a regular file with an execute bit set.
pub fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_absolute_symlinks_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("bin")).unwrap();
        std::fs::create_dir_all(r.join("usr")).unwrap();
        std::fs::write(r.join("bin/busybox"), "x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            r.join("bin/busybox"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::os::unix::fs::symlink("/bin/busybox", r.join("bin/sh")).unwrap();
        std::os::unix::fs::symlink("../bin", r.join("usr/bin")).unwrap();
        assert!(resolve_in_root(r, "/bin/sh").is_some());
        assert!(resolve_in_root(r, "/usr/bin/sh").is_some());
        assert!(resolve_in_root(r, "/bin/nope").is_none());
        assert!(executable(&resolve_in_root(r, "/usr/bin/sh").unwrap()));
        std::os::unix::fs::symlink("/loop", r.join("loop")).unwrap();
        assert!(resolve_in_root(r, "/loop").is_none());
    }
}
