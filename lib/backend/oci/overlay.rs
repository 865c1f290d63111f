//! Overlay mounts: a container root made of a shared read-only image and a
//! small writable layer, so a throwaway container needs no copy of its image.

use crate::os::sys::{check, cstr};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Mounts `lower` (read-only) under `upper` (writes) at `target`, volatile
/// where the kernel knows that (5.10 on): the writes of a throwaway container
/// are never synced to disk, and above all unmounting it does not sync the
/// whole filesystem that holds `upper`, which cost 0.5 ms on an idle host
/// and grows with whatever else is waiting to be written.
pub fn mount(lower: &Path, upper: &Path, work: &Path, target: &Path) -> std::io::Result<()> {
    for p in [lower, upper, work] {
        // The option string cannot carry these characters unescaped.
        if p.as_os_str()
            .as_bytes()
            .iter()
            .any(|b| matches!(b, b',' | b':' | b'\\'))
        {
            return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
        }
    }
    let opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    );
    match mount_with(&format!("{opts},volatile"), target) {
        // An older kernel refuses the option it does not know. A newer one
        // refusing the mount for another reason may have left its volatile
        // marker in `work`, which a plain mount refuses: start `work` afresh.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            if std::fs::read_dir(work)?.next().is_some() {
                std::fs::remove_dir_all(work)?;
                std::fs::create_dir(work)?;
            }
            mount_with(&opts, target)
        }
        r => r,
    }
}

fn mount_with(opts: &str, target: &Path) -> std::io::Result<()> {
    let (src, tgt, fs) = (
        CString::new("overlay")?,
        cstr(target)?,
        CString::new("overlay")?,
    );
    let data = CString::new(opts)?;
    // SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
    check(unsafe {
        libc::mount(
            src.as_ptr(),
            tgt.as_ptr(),
            fs.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    })
}

/// Unmounts whatever is mounted at `target`; nothing mounted is fine. A mount
/// still in use (a process with its cwd there) is detached instead, and lives
/// on until its last user goes: then this returns true.
pub fn unmount(target: &Path) -> std::io::Result<bool> {
    if !is_mountpoint(target) {
        return Ok(false);
    }
    let tgt = cstr(target)?;
    // SAFETY: a valid NUL-terminated path.
    let umount = |flags| check(unsafe { libc::umount2(tgt.as_ptr(), flags) });
    match umount(0) {
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => umount(libc::MNT_DETACH).map(|()| true),
        r => r.map(|()| false),
    }
}

/// Whether a directory is a mount point (its device differs from its parent's).
pub fn is_mountpoint(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(p), p.parent().map(std::fs::metadata)) {
        (Ok(a), Some(Ok(b))) => a.dev() != b.dev(),
        _ => false,
    }
}

/// Whether `dir` is a directory with nothing in it (an overlay's upper layer
/// that took no write, a mount point with nothing mounted).
pub fn empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none())
}
