//! Network namespaces pinned to a file, as `ip netns add` makes them: the
//! namespace outlives its processes, so a container keeps its address from
//! stop to start, and its network can be torn down with no process running.

use std::io;
use std::path::Path;

/// The kernel's magic number of the namespace filesystem (statfs f_type).
const NSFS_MAGIC: i64 = 0x6e73_6673;

/// Makes a new network namespace and pins it to `path` (a new file).
pub fn create(path: &Path) -> io::Result<()> {
    std::fs::File::create(path)?;
    let target = crate::os::sys::cstr(path)?;
    // Unsharing moves only the calling thread into the new namespace: a
    // thread of its own, which ends once the namespace is pinned.
    let pinned = std::thread::spawn(move || -> io::Result<()> {
        // SAFETY: unshare and mount with valid C strings; the thread that
        // changes namespace ends here and runs nothing else.
        unsafe {
            crate::os::sys::check(libc::unshare(libc::CLONE_NEWNET))?;
            let source = c"/proc/thread-self/ns/net";
            crate::os::sys::check(libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                // Ignored for a bind mount; not null, which valgrind flags.
                c"none".as_ptr(),
                libc::MS_BIND,
                std::ptr::null(),
            ))
        }
    })
    .join()
    .unwrap_or_else(|_| {
        Err(io::Error::other(
            "the thread pinning the namespace panicked",
        ))
    });
    if pinned.is_err() {
        let _ = std::fs::remove_file(path);
    }
    pinned
}

/// Whether `path` holds a pinned namespace (after a reboot the file can
/// stay behind, empty, where /run is not a tmpfs).
pub fn is_pinned(path: &Path) -> bool {
    let Ok(c) = crate::os::sys::cstr(path) else {
        return false;
    };
    // SAFETY: statfs fills the zeroed struct given; the path is a C string.
    unsafe {
        let mut s: libc::statfs = std::mem::zeroed();
        libc::statfs(c.as_ptr(), &mut s) == 0 && s.f_type as i64 == NSFS_MAGIC
    }
}

/// Unpins and removes `path`; the namespace ends with its last process.
/// Nothing there is not an error.
pub fn remove(path: &Path) -> io::Result<()> {
    if is_pinned(path) {
        let c = crate::os::sys::cstr(path)?;
        // SAFETY: umount2 with a valid C string.
        let rc = unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        if let Err(e) = crate::os::sys::check(rc)
            && e.raw_os_error() != Some(libc::EINVAL)
        {
            return Err(e);
        }
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
