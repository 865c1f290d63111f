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

/// A system call's 0-or-−1 result as a Result, with errno as the error.
pub fn check(rc: libc::c_int) -> std::io::Result<()> {
    match rc {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
