//! Spare roots: the overlay of a throwaway container that changed nothing,
//! left mounted for the next throwaway container of the same image.
//!
//! A `ctr-run --rm` container's root is an overlay of the cached image
//! (`crate::overlay`). Making it is most of that run's own disk work: three
//! directories, the mount (in which the kernel makes and probes its work
//! directories), the runtime's first lookups in a new overlay, and at the end
//! the unmount: 1.3-1.9 ms of a 9-12 ms run on the test machine, back to
//! back, and more in lone runs (docs/benchmarks.md). A run
//! whose container changed nothing leaves a root that is exactly the image
//! again. Its bundle, overlay still mounted and emptied of its files, is
//! renamed to `<spares>/<key>` (`keep`), and the next throwaway container of
//! that image takes it by renaming it to its own bundle's name (`take`):
//! nothing is made, mounted or looked up afresh.
//!
//! A key names the image directory by device, inode and name. While a
//! spare's mount holds that directory its inode cannot be reused, so a spare
//! never serves an image made since in its place. One spare per image is
//! kept; a run removes the spares of other images while its runtime starts
//! (`evict`). A spare found unmounted (after a reboot, or when it was kept in
//! another mount namespace) or written to is removed, not used.
//!
//! Spares live in a directory of the user's own (`crate::owned`).

use crate::owned::{numbered, own_dir, private_dir};
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
    root_dev: u64,
    /// Inode, mode, owner, group, and times to the nanosecond.
    upper: [i64; 8],
    /// The names of its extended attributes (ACLs among them).
    xattrs: Vec<u8>,
}

pub fn stamp(bundle: &Path) -> Result<Stamp> {
    let upper = bundle.join("upper");
    let u = std::fs::symlink_metadata(&upper)?;
    Ok(Stamp {
        root_dev: std::fs::metadata(bundle.join("rootfs"))?.dev(),
        upper: [
            u.ino() as i64,
            u.mode().into(),
            u.uid().into(),
            u.gid().into(),
            u.mtime(),
            u.mtime_nsec(),
            u.ctime(),
            u.ctime_nsec(),
        ],
        xattrs: xattr_names(&upper)?,
    })
}

/// Makes the new bundle `bundle` the spare of key `key`, if there is one fit
/// to use: true when it did, and `bundle` then holds the mounted root
/// (rootfs/, upper/, work/) and nothing else. A spare that is not fit is
/// removed where it is. An error (`bundle` exists, say) moves nothing.
pub fn take(spares: &Path, key: &str, bundle: &Path) -> Result<bool> {
    match own_dir(spares) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        r => r?,
    }
    let spare = spares.join(key);
    match fit(&spare) {
        Ok(true) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Ok(false) => {
            remove(&spare)?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    match rename_noreplace(&spare, bundle) {
        // The runtime's directory of bundles may not be there yet.
        Err(e) if e.kind() == ErrorKind::NotFound => match bundle.parent() {
            Some(parent) if !parent.exists() => {
                std::fs::create_dir_all(parent)?;
                take(spares, key, bundle)
            }
            // Another run took it first.
            _ => Ok(false),
        },
        r => r.map(|()| true),
    }
}

/// Whether a spare's root is an overlay mounted here whose upper layer is
/// empty: exactly the image it was made of.
fn fit(spare: &Path) -> Result<bool> {
    let root = spare.join("rootfs");
    Ok(on_overlay(&root)? && crate::overlay::is_mountpoint(&root) && empty(&spare.join("upper")))
}

/// Keeps `bundle` as the spare of key `key` if its container changed nothing
/// since `stamp`, which is when the root must still be the same mount with
/// its upper layer untouched and empty, and no process of the host's may be
/// using the mount (it could write there later). Then removes the bundle's
/// files, renames it into `spares` and returns true. Fails when the key has a
/// spare already: `bundle` may then have lost its files, nothing else.
pub fn keep(bundle: &Path, stamp: &Stamp, spares: &Path, key: &str) -> Result<bool> {
    let unchanged = self::stamp(bundle).is_ok_and(|s| s == *stamp);
    if !(unchanged && empty(&bundle.join("upper")) && idle(&bundle.join("rootfs"))) {
        return Ok(false);
    }
    private_dir(spares)?;
    for e in std::fs::read_dir(bundle)? {
        let e = e?;
        if !matches!(e.file_name().as_bytes(), b"rootfs" | b"upper" | b"work") {
            // A directory here is not ours to lose: remove_file refuses it.
            std::fs::remove_file(e.path())?;
        }
    }
    rename_noreplace(bundle, &spares.join(key))?;
    Ok(true)
}

/// Removes the spares of keys other than `keep` (all of them without one).
/// Returns how many went and, as messages, what could not be removed.
pub fn evict(spares: &Path, keep: Option<&str>) -> (usize, Vec<String>) {
    if own_dir(spares).is_err() {
        return (0, Vec::new());
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
    crate::overlay::unmount(&bundle.join("rootfs"))?;
    match std::fs::remove_dir_all(bundle) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none())
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
    let rc = unsafe { libc::umount2(p.as_ptr(), libc::MNT_EXPIRE) };
    rc != 0 && Error::last_os_error().raw_os_error() == Some(libc::EAGAIN)
}

/// Whether `p` is on an overlay filesystem.
fn on_overlay(p: &Path) -> Result<bool> {
    let c = cstr(p)?;
    // SAFETY: a zeroed statfs is a valid value for the kernel to fill.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid path and a statfs the call fills.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return Err(Error::last_os_error());
    }
    // The two types differ from one C library to another.
    #[allow(clippy::unnecessary_cast)]
    Ok(st.f_type as u64 == libc::OVERLAYFS_SUPER_MAGIC as u64)
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
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last_os_error())
    }
}

fn cstr(p: &Path) -> Result<std::ffi::CString> {
    std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::from(ErrorKind::InvalidInput))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn scratch(name: &str) -> crate::scratch::Scratch {
        crate::scratch::scratch(&format!("spare-{name}"))
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
        let img = s.0.join("busybox-1");
        std::fs::create_dir(&img).unwrap();
        let k = super::key(&img).unwrap();
        assert!(
            k.ends_with(".busybox-1") && crate::owned::numbered(k.as_ref()),
            "{k}"
        );
        // The same name made again is another image.
        std::fs::remove_dir(&img).unwrap();
        std::fs::create_dir(s.0.join("other")).unwrap();
        std::fs::create_dir(&img).unwrap();
        assert_ne!(super::key(&img).unwrap(), k);
        assert!(super::key(&s.0.join("gone")).is_err());
    }

    #[test]
    fn a_stamp_sees_what_leaves_the_upper_layer_empty() {
        use std::os::unix::fs::PermissionsExt;
        let s = scratch("stamp");
        bundle(&s.0);
        let before = super::stamp(&s.0).unwrap();
        assert_eq!(super::stamp(&s.0).unwrap(), before);
        let upper = s.0.join("upper");
        std::fs::set_permissions(&upper, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_ne!(super::stamp(&s.0).unwrap(), before, "a chmod of /");
        std::fs::set_permissions(&upper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let before = super::stamp(&s.0).unwrap();
        // Before Linux 6.13, times are coarse: they move once a jiffy.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(upper.join("x"), "").unwrap();
        std::fs::remove_file(upper.join("x")).unwrap();
        assert_ne!(
            super::stamp(&s.0).unwrap(),
            before,
            "a file made and removed"
        );
    }

    #[test]
    fn keep_wants_the_same_mount_unused_and_take_a_mounted_one() {
        let s = scratch("keep");
        let spares = s.0.join("spare");
        let b = s.0.join("a");
        bundle(&b);
        let stamp = super::stamp(&b).unwrap();
        // Not a mount here, so not idle: not kept, and nothing moved.
        assert!(!super::keep(&b, &stamp, &spares, "1.2.img").unwrap());
        assert!(b.join("config.json").exists() && !spares.exists());
        // A spare that is not mounted (as after a reboot): removed, not taken.
        std::fs::create_dir(&spares).unwrap();
        bundle(&spares.join("1.2.img"));
        assert!(!super::take(&spares, "1.2.img", &s.0.join("c")).unwrap());
        assert!(!spares.join("1.2.img").exists() && !s.0.join("c").exists());
        // None of that key: nothing happens.
        assert!(!super::take(&spares, "1.3.img", &s.0.join("c")).unwrap());
    }

    #[test]
    fn evict_removes_other_keys_and_only_ours() {
        let s = scratch("evict");
        let spares = s.0.join("spare");
        std::fs::create_dir(&spares).unwrap();
        for k in ["1.2.img", "1.3.img", "not-ours"] {
            bundle(&spares.join(k));
        }
        assert_eq!(super::evict(&spares, Some("1.3.img")), (1, vec![]));
        assert!(spares.join("1.3.img").exists() && spares.join("not-ours").exists());
        // A spare directory that is a link is not followed.
        let link = s.0.join("link");
        std::os::unix::fs::symlink(&spares, &link).unwrap();
        assert_eq!(super::evict(&link, None).0, 0);
        assert!(super::take(&link, "1.3.img", &s.0.join("d")).is_err());
        assert!(spares.join("1.3.img").exists());
        // Without a key to keep, all of ours go.
        assert_eq!(super::evict(&spares, None), (1, vec![]));
        assert!(spares.join("not-ours").exists());
    }
}
