//! Directories guestkit keeps things in for later, its trash and its spare
//! roots: real directories (not links) of the user's own, mode 0700 when
//! guestkit makes them, so that a state directory pointed at a shared place
//! takes in nothing of another user's and gives away no container's files.

use std::ffi::OsStr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

/// Makes `dir` a directory of this user's only (0700) unless it is one
/// already; fails when it is anything else (a link, someone else's).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    match own_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
                _ => own_dir(dir),
            }
        }
        r => r,
    }
}

/// Ok when `dir` is a directory (not a link to one) of this user's.
pub fn own_dir(dir: &Path) -> std::io::Result<()> {
    let m = std::fs::symlink_metadata(dir)?;
    // SAFETY: geteuid cannot fail.
    if m.is_dir() && m.uid() == unsafe { libc::geteuid() } {
        Ok(())
    } else {
        Err(std::io::Error::other("not a directory of this user's"))
    }
}

/// Whether a name has the form guestkit gives what it puts in such a
/// directory, `<digits>.<digits>.<name>` (`trash::put`, `spare::key`): only
/// those are ever removed there.
pub fn numbered(name: &OsStr) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts = name.to_str().unwrap_or_default().splitn(3, '.');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(pid), Some(n), Some(rest)) if digits(pid) && digits(n) && !rest.is_empty()
    )
}
