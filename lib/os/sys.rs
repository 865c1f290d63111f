//! The little that calling libc directly takes, for the system calls std
//! has no wrapper for (mount, umount2, renameat2, statfs, the xattr calls).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A path as C takes it; one with a NUL byte in it is invalid input.
pub fn cstr(p: &Path) -> std::io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
}

/// Waits for, then takes, an exclusive lock on an open file (flock(2)): it
/// is released when the file is closed, the process's death included.
pub fn lock_exclusive(f: &std::fs::File) -> std::io::Result<()> {
    flock_waiting(f, libc::LOCK_EX)
}

/// Whether this process may write in `p` (access(2) with W_OK: the real
/// user's permission, and a read-only mount counts).
pub fn writable(p: &Path) -> bool {
    let Ok(c) = cstr(p) else { return false };
    // SAFETY: access reads the NUL-terminated path it is given.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Whether `path` can be made: the nearest directory above it that exists
/// is writable. `Err` is that directory, when it is not.
pub fn can_make(path: &Path) -> Result<(), &Path> {
    let nearest = path
        .ancestors()
        .skip(1)
        .find(|a| a.is_dir())
        .unwrap_or(Path::new("/"));
    match writable(nearest) {
        true => Ok(()),
        false => Err(nearest),
    }
}

/// A system call's 0-or-−1 result as a Result, with errno as the error.
pub fn check(rc: libc::c_int) -> std::io::Result<()> {
    match rc {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Waits for, then takes, a shared lock on an open file (flock(2)): many
/// hold one at once, none while another holds it exclusively.
pub fn lock_shared(f: &std::fs::File) -> std::io::Result<()> {
    flock_waiting(f, libc::LOCK_SH)
}

/// flock(2) with `op`, waiting, and again when a signal interrupts it.
fn flock_waiting(f: &std::fs::File, op: libc::c_int) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor this File owns.
        match check(unsafe { libc::flock(f.as_raw_fd(), op) }) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Takes an exclusive lock on an open file if no one holds it; false when
/// someone does.
pub fn try_lock_exclusive(f: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this File owns.
    match check(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}
