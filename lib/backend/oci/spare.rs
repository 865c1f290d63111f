//! Spare roots: the overlay of a throwaway container that changed nothing,
//! left mounted for the next throwaway container of the same image.
//!
//! A `ctr-run --rm` container's root is an overlay of the cached image
//! (`crate::backend::oci::overlay`). Making it is most of that run's own disk work: three
//! directories, the mount (in which the kernel makes and probes its work
//! directories), the runtime's first lookups in a new overlay, and at the end
//! the unmount: 1.3-1.9 ms of a 9-12 ms run on the test machine, back to
//! back, and more in lone runs (docs/benchmarks.md). A run whose container
//! changed nothing leaves a root that is exactly the image again. Its
//! bundle, overlay still mounted, is renamed to `<spares>/<key>` and emptied
//! of its files (`keep`), and the next throwaway container of that image
//! takes it by renaming it to its own bundle's name (`take`): nothing is
//! made, mounted or looked up afresh.
//!
//! A key names the image directory by device, inode and name. While a
//! spare's mount holds that directory its inode cannot be reused, so a spare
//! never serves an image made since in its place. One spare per image is
//! kept; a run removes the spares of other images while its runtime starts
//! (`evict`). A spare found unmounted (after a reboot, or when it was kept in
//! another mount namespace) or written to is removed, not used.
//!
//! Spares live in a directory of the user's own (`crate::backend::oci::owned`).

use crate::backend::oci::overlay::empty_dir;
use crate::backend::oci::owned::{numbered, own_dir, private_dir};
use crate::os::sys::{check, cstr};
use std::io::{Error, ErrorKind, Result};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The key of spares of the image whose cached root is `lower`.
pub fn key(lower: &Path) -> Result<String> {
    let m = std::fs::metadata(lower)?;
    let name = lower.file_name().unwrap_or_default().to_string_lossy();
    Ok(format!("{}.{}.{name}", m.dev(), m.ino()))
}

/// What a bundle's overlay root was like before its container ran: which
/// mount it is, and its upper layer's directory, which is the `/` the
/// container sees: a `chmod` or an ACL there changes that directory and
/// leaves the layer empty.
#[derive(Debug, PartialEq)]
pub struct Stamp {
    /// The overlay's device: the mount this process made or took.
    root_dev: u64,
    upper_ino: u64,
    upper_mode: u32,
    upper_owner: (u32, u32),
    /// Modification and change times to the nanosecond. The change time
    /// also moves when an extended attribute's value does.
    upper_times: [i64; 4],
    /// The names of its extended attributes (ACLs among them).
    upper_xattrs: Vec<u8>,
}

/// The stamp of `bundle`'s overlay root as it is now: taken before its
/// container runs, for `keep` to compare with afterwards.
pub fn stamp(bundle: &Path) -> Result<Stamp> {
    let upper = bundle.join("upper");
    let u = std::fs::symlink_metadata(&upper)?;
    Ok(Stamp {
        root_dev: std::fs::metadata(bundle.join("rootfs"))?.dev(),
        upper_ino: u.ino(),
        upper_mode: u.mode(),
        upper_owner: (u.uid(), u.gid()),
        upper_times: [u.mtime(), u.mtime_nsec(), u.ctime(), u.ctime_nsec()],
        upper_xattrs: xattr_names(&upper)?,
    })
}

/// Makes the new bundle `bundle` the spare of key `key`, if there is one fit
/// to use: true when it did, and `bundle` then holds the mounted root
/// (rootfs/, upper/, work/). The spare is claimed first, renamed to
/// `bundle`, and checked after, so that no other process can unmount or
/// remove it in between; one found unfit is removed, and only if that fails
/// is something left at `bundle` (an error then). An error before the claim
/// (`bundle` exists, say) moves nothing.
pub fn take(spares: &Path, key: &str, bundle: &Path) -> Result<bool> {
    match own_dir(spares) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        r => r?,
    }
    let spare = spares.join(key);
    match rename_noreplace(&spare, bundle) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return match bundle.parent() {
                // The runtime's directory of bundles is not there yet.
                Some(parent) if spare.exists() && !parent.exists() => {
                    std::fs::create_dir_all(parent)?;
                    take(spares, key, bundle)
                }
                // Another run took it first.
                _ => Ok(false),
            };
        }
        Err(e) => return Err(e),
    }
    if fit(bundle) {
        return Ok(true);
    }
    remove(bundle)?;
    Ok(false)
}

/// Whether a taken spare's root is an overlay mounted here whose upper
/// layer is empty and its directory as it was when the spare was kept:
/// exactly the image it was made of. Not so when it was not mounted after a
/// reboot, say, or was changed by the host while it waited.
fn fit(bundle: &Path) -> bool {
    let root = bundle.join("rootfs");
    let mut kept = [0u8; 128];
    let kept = get_xattr(bundle, KEPT, &mut kept);
    on_overlay(&root).unwrap_or(false)
        && crate::backend::oci::overlay::is_mountpoint(&root)
        && kept.is_some_and(|k| upper_id(bundle).is_ok_and(|id| id.as_bytes() == k))
        && empty_dir(&bundle.join("upper"))
}

/// The extended attribute in which a spare keeps `upper_id` as it was kept:
/// trusted.*, which only root can see or set (and only root mounts overlays).
const KEPT: &str = "trusted.guestkit.upper";

/// Inode, mode, owner, group and change time of a bundle's upper directory:
/// anything done to that directory (a chmod, an ACL, an entry made or
/// removed) changes one of them.
fn upper_id(bundle: &Path) -> Result<String> {
    let u = std::fs::symlink_metadata(bundle.join("upper"))?;
    Ok(format!(
        "{}.{:o}.{}.{}.{}.{}",
        u.ino(),
        u.mode(),
        u.uid(),
        u.gid(),
        u.ctime(),
        u.ctime_nsec()
    ))
}

/// Keeps `bundle` as the spare of key `key` if its container changed nothing
/// since `stamp`, which is when the root must still be the same mount with
/// its upper layer untouched and empty, and no process of the host's may be
/// using the mount (it could write there later). Then renames it into
/// `spares`, removes its files (config.json holds the container's
/// environment) and returns true. Fails when the key has a spare already.
pub fn keep(bundle: &Path, stamp: &Stamp, spares: &Path, key: &str) -> Result<bool> {
    let unchanged = self::stamp(bundle).is_ok_and(|s| s == *stamp);
    if !(unchanged && empty_dir(&bundle.join("upper")) && idle(&bundle.join("rootfs"))) {
        return Ok(false);
    }
    private_dir(spares)?;
    set_xattr(bundle, KEPT, upper_id(bundle)?.as_bytes())?;
    let spare = spares.join(key);
    rename_noreplace(bundle, &spare)?;
    // Its files go after the rename: interrupted, this leaves a spare (whose
    // files the next run overwrites), not a bundle at the container's name
    // that ctr-list cannot show. A file gone already went with a run that
    // took the spare meanwhile; a directory here is not ours to lose.
    for e in std::fs::read_dir(&spare).into_iter().flatten().flatten() {
        if !matches!(e.file_name().as_bytes(), b"rootfs" | b"upper" | b"work") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(true)
}

/// Removes the spares of keys other than `keep` (all of them without one).
/// Returns how many went and, as messages, what could not be removed.
pub fn evict(spares: &Path, keep: Option<&str>) -> (usize, Vec<String>) {
    match own_dir(spares) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return (0, Vec::new()),
        Err(e) => return (0, vec![format!("{}: {e}; left alone", spares.display())]),
    }
    let Ok(entries) = std::fs::read_dir(spares) else {
        return (0, Vec::new());
    };
    let (mut removed, mut failed) = (0, Vec::new());
    for e in entries.flatten() {
        let name = e.file_name();
        if keep.is_some_and(|k| name.as_bytes() == k.as_bytes()) || !numbered(&name) {
            continue;
        }
        match remove(&e.path()) {
            Ok(()) => removed += 1,
            Err(err) => failed.push(format!("cannot remove {}: {err}", e.path().display())),
        }
    }
    (removed, failed)
}

/// Unmounts a bundle's root, if mounted, and removes the bundle.
fn remove(bundle: &Path) -> Result<()> {
    crate::backend::oci::overlay::unmount(&bundle.join("rootfs"))?;
    match std::fs::remove_dir_all(bundle) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Whether nothing uses the mount at `root`: no open file, no working
/// directory, no mount on it. umount2's MNT_EXPIRE answers that without
/// unmounting: EBUSY when in use, else EAGAIN, marking the mount "expired"
/// until its next use. Only a second such call with that mark still on
/// unmounts it (then: not idle, and the bundle is removed as usual).
fn idle(root: &Path) -> bool {
    let Ok(p) = cstr(root) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    check(unsafe { libc::umount2(p.as_ptr(), libc::MNT_EXPIRE) })
        .is_err_and(|e| e.raw_os_error() == Some(libc::EAGAIN))
}

/// Whether `p` is on an overlay filesystem.
fn on_overlay(p: &Path) -> Result<bool> {
    let c = cstr(p)?;
    // SAFETY: a zeroed statfs is a valid value for the kernel to fill.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid path and a statfs the call fills.
    check(unsafe { libc::statfs(c.as_ptr(), &mut st) })?;
    // The two types differ from one C library to another.
    #[allow(clippy::unnecessary_cast)]
    Ok(st.f_type as u64 == libc::OVERLAYFS_SUPER_MAGIC as u64)
}

fn set_xattr(p: &Path, name: &str, value: &[u8]) -> Result<()> {
    let (c, n) = (cstr(p)?, std::ffi::CString::new(name)?);
    // SAFETY: valid NUL-terminated path and name, and a value of the length given.
    check(unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })
}

/// The value of an extended attribute, when it is there and fits `buf`.
fn get_xattr<'a>(p: &Path, name: &str, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let (c, n) = (cstr(p).ok()?, std::ffi::CString::new(name).ok()?);
    // SAFETY: valid NUL-terminated path and name, and a buffer of the length given.
    let len =
        unsafe { libc::lgetxattr(c.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    usize::try_from(len).ok().map(|len| &buf[..len])
}

fn xattr_names(p: &Path) -> Result<Vec<u8>> {
    let c = cstr(p)?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: a valid path, and a buffer of the length given.
    let n = unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// rename(2) that fails with AlreadyExists instead of replacing an empty
/// directory at `to`: a container's name is claimed by its bundle directory.
fn rename_noreplace(from: &Path, to: &Path) -> Result<()> {
    let (from, to) = (cstr(from)?, cstr(to)?);
    // SAFETY: two valid NUL-terminated paths that outlive the call.
    check(unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new().prefix(name).tempdir().unwrap()
    }
    /// A bundle as a throwaway run leaves it, but with its root not mounted
    /// (unit tests do not mount; tests/cli/oci.rs does).
    fn bundle(at: &Path) {
        for d in ["rootfs", "upper", "work/work"] {
            std::fs::create_dir_all(at.join(d)).unwrap();
        }
        std::fs::write(at.join("config.json"), "{}").unwrap();
    }

    #[test]
    fn keys_name_the_image_directory() {
        let s = scratch("key");
        let img = s.path().join("busybox-1");
        std::fs::create_dir(&img).unwrap();
        let k = super::key(&img).unwrap();
        assert!(
            k.ends_with(".busybox-1") && crate::backend::oci::owned::numbered(k.as_ref()),
            "{k}"
        );
        // The same name made again is another image.
        std::fs::remove_dir(&img).unwrap();
        std::fs::create_dir(s.path().join("other")).unwrap();
        std::fs::create_dir(&img).unwrap();
        assert_ne!(super::key(&img).unwrap(), k);
        assert!(super::key(&s.path().join("gone")).is_err());
    }

    #[test]
    fn a_stamp_sees_what_leaves_the_upper_layer_empty() {
        use std::os::unix::fs::PermissionsExt;
        let s = scratch("stamp");
        bundle(s.path());
        let before = super::stamp(s.path()).unwrap();
        assert_eq!(super::stamp(s.path()).unwrap(), before);
        let upper = s.path().join("upper");
        std::fs::set_permissions(&upper, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_ne!(super::stamp(s.path()).unwrap(), before, "a chmod of /");
        std::fs::set_permissions(&upper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let before = super::stamp(s.path()).unwrap();
        // Before Linux 6.13, times are coarse: they move once a jiffy.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(upper.join("x"), "").unwrap();
        std::fs::remove_file(upper.join("x")).unwrap();
        assert_ne!(
            super::stamp(s.path()).unwrap(),
            before,
            "a file made and removed"
        );
    }

    #[test]
    fn keep_wants_the_same_mount_unused_and_take_a_mounted_one() {
        let s = scratch("keep");
        let spares = s.path().join("spare");
        let b = s.path().join("a");
        bundle(&b);
        let stamp = super::stamp(&b).unwrap();
        // Not a mount here, so not idle: not kept, and nothing moved.
        assert!(!super::keep(&b, &stamp, &spares, "1.2.img").unwrap());
        assert!(b.join("config.json").exists() && !spares.exists());
        // A spare that is not mounted (as after a reboot): removed, not taken.
        std::fs::create_dir(&spares).unwrap();
        bundle(&spares.join("1.2.img"));
        assert!(!super::take(&spares, "1.2.img", &s.path().join("c")).unwrap());
        assert!(!spares.join("1.2.img").exists() && !s.path().join("c").exists());
        // None of that key: nothing happens.
        assert!(!super::take(&spares, "1.3.img", &s.path().join("c")).unwrap());
    }

    #[test]
    fn evict_removes_other_keys_and_only_ours() {
        let s = scratch("evict");
        let spares = s.path().join("spare");
        std::fs::create_dir(&spares).unwrap();
        for k in ["1.2.img", "1.3.img", "not-ours"] {
            bundle(&spares.join(k));
        }
        assert_eq!(super::evict(&spares, Some("1.3.img")), (1, vec![]));
        assert!(spares.join("1.3.img").exists() && spares.join("not-ours").exists());
        // A spare directory that is a link is not followed.
        let link = s.path().join("link");
        std::os::unix::fs::symlink(&spares, &link).unwrap();
        assert_eq!(super::evict(&link, None).0, 0);
        assert!(super::take(&link, "1.3.img", &s.path().join("d")).is_err());
        assert!(spares.join("1.3.img").exists());
        // Without a key to keep, all of ours go.
        assert_eq!(super::evict(&spares, None), (1, vec![]));
        assert!(spares.join("not-ours").exists());
    }
}
