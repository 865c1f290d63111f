//! Spare roots: the overlay of a throwaway container that wrote nothing, left
//! mounted for the next throwaway container of the same image.
//!
//! A `ctr-run --rm` container's root is an overlay of the cached image
//! (`crate::overlay`). Making it is most of that run's own disk work: three
//! directories, the mount (in which the kernel makes and probes its work
//! directories), then the runtime's first lookups in a new overlay, and at
//! the end the unmount; 1-1.5 ms on the test machine (docs/benchmarks.md).
//! A run whose container wrote nothing (its upper layer is empty) leaves a
//! root that is exactly the image again. Its bundle, overlay still mounted
//! and emptied of its files, is renamed to `<spares>/<key>` (`keep`), and the
//! next throwaway container of that image takes it by renaming it to its own
//! bundle's name (`take`): nothing is made, mounted or looked up afresh.
//!
//! A key names the image directory by device, inode and name. While a
//! spare's mount holds that directory, its inode cannot be reused: a spare
//! never matches an image made since in its place. One spare per image is
//! kept; a run of one image removes spares of others while its runtime
//! starts (`evict`). A spare found unmounted (after a reboot, or when it was
//! made in another mount namespace) or written to is removed, not used.
//!
//! Spares live in a directory of the user's own (`trash::private_dir`), and
//! only names of the form `<digits>.<digits>.<name>` are ever removed there.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The key of spares of the image whose cached root is `lower`.
pub fn key(lower: &Path) -> std::io::Result<String> {
    let m = std::fs::metadata(lower)?;
    let name = lower.file_name().unwrap_or_default().to_string_lossy();
    Ok(format!("{}.{}.{name}", m.dev(), m.ino()))
}

/// Makes `bundle` the spare of key `key`, if there is one and it is fit to
/// use: `bundle` then holds the mounted root (rootfs/, upper/, work/) and
/// nothing else. False when there is none; an error (the name `bundle` is
/// taken, say) leaves everything where it was.
pub fn take(spares: &Path, key: &str, bundle: &Path) -> std::io::Result<bool> {
    if let Err(e) = crate::trash::own_dir(spares) {
        return match e.kind() {
            std::io::ErrorKind::NotFound => Ok(false),
            _ => Err(e),
        };
    }
    match rename_noreplace(&spares.join(key), bundle) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        r => r?,
    }
    if fit(bundle) {
        return Ok(true);
    }
    remove(bundle)?;
    Ok(false)
}

/// Whether `bundle`'s root is an overlay mounted here whose upper layer is
/// empty: exactly the image it was made of.
pub fn fit(bundle: &Path) -> bool {
    let empty = |d: &Path| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_none());
    crate::overlay::is_mountpoint(&bundle.join("rootfs")) && empty(&bundle.join("upper"))
}

/// Keeps `bundle`, which must be `fit`, as the spare of key `key`: removes
/// its files and renames it into `spares`. Fails when that key has a spare
/// already; `bundle` may then have lost its files, nothing else.
pub fn keep(bundle: &Path, spares: &Path, key: &str) -> std::io::Result<()> {
    crate::trash::private_dir(spares)?;
    for e in std::fs::read_dir(bundle)? {
        let e = e?;
        if !matches!(e.file_name().as_bytes(), b"rootfs" | b"upper" | b"work") {
            // A directory here is not ours to lose: remove_file refuses it.
            std::fs::remove_file(e.path())?;
        }
    }
    rename_noreplace(bundle, &spares.join(key))
}

/// Removes the spares of keys other than `key`. Returns how many went and,
/// as messages, what could not be removed.
pub fn evict(spares: &Path, key: &str) -> (usize, Vec<String>) {
    if crate::trash::own_dir(spares).is_err() {
        return (0, Vec::new());
    }
    let Ok(entries) = std::fs::read_dir(spares) else {
        return (0, Vec::new());
    };
    let (mut removed, mut failed) = (0, Vec::new());
    for e in entries.flatten() {
        let name = e.file_name();
        if name.as_bytes() == key.as_bytes() || !crate::trash::ours(&name) {
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
fn remove(bundle: &Path) -> std::io::Result<()> {
    crate::overlay::unmount(&bundle.join("rootfs"))?;
    match std::fs::remove_dir_all(bundle) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// rename(2) that fails with AlreadyExists instead of replacing an empty
/// directory at `to`: a container's name is claimed by its bundle directory.
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
    };
    let (from, to) = (c(from)?, c(to)?);
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
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn scratch(name: &str) -> crate::scratch::Scratch {
        crate::scratch::scratch(&format!("spare-{name}"))
    }
    /// A bundle as a throwaway run leaves it, but with its root not mounted.
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
            k.ends_with(".busybox-1") && crate::trash::ours(k.as_ref()),
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
    fn keep_and_take_by_key() {
        let s = scratch("keep");
        let spares = s.0.join("spare");
        let b = s.0.join("a");
        bundle(&b);
        super::keep(&b, &spares, "1.2.img").unwrap();
        assert!(!b.exists());
        let kept = spares.join("1.2.img");
        assert!(kept.join("rootfs").is_dir() && !kept.join("config.json").exists());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&spares).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // One per key.
        let b2 = s.0.join("b");
        bundle(&b2);
        let e = super::keep(&b2, &spares, "1.2.img").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        assert!(b2.join("rootfs").is_dir());
        // Another key has none; a name that is taken is not replaced.
        assert!(!super::take(&spares, "1.3.img", &s.0.join("c")).unwrap());
        std::fs::create_dir(s.0.join("taken")).unwrap();
        let e = super::take(&spares, "1.2.img", &s.0.join("taken")).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        assert!(kept.exists());
        // Its root is not mounted (as after a reboot): taken, found unfit, removed.
        assert!(!super::take(&spares, "1.2.img", &s.0.join("c")).unwrap());
        assert!(!kept.exists() && !s.0.join("c").exists());
    }

    #[test]
    fn evict_removes_other_keys_and_only_ours() {
        let s = scratch("evict");
        let spares = s.0.join("spare");
        for k in ["1.2.img", "1.3.img"] {
            let b = s.0.join(k);
            bundle(&b);
            super::keep(&b, &spares, k).unwrap();
        }
        std::fs::create_dir(spares.join("not-ours")).unwrap();
        assert_eq!(super::evict(&spares, "1.3.img"), (1, vec![]));
        assert!(spares.join("1.3.img").exists() && spares.join("not-ours").exists());
        // A spare directory that is a link is not followed.
        let link = s.0.join("link");
        std::os::unix::fs::symlink(&spares, &link).unwrap();
        assert_eq!(super::evict(&link, "x").0, 0);
        assert!(!super::take(&link, "1.3.img", &s.0.join("d")).unwrap_or(false));
        assert!(spares.join("1.3.img").exists());
    }

    #[test]
    fn keep_refuses_a_bundle_with_a_directory_of_its_own() {
        let s = scratch("dir");
        let b = s.0.join("a");
        bundle(&b);
        std::fs::create_dir(b.join("extra")).unwrap();
        assert!(super::keep(&b, &s.0.join("spare"), "1.2.img").is_err());
        assert!(b.join("extra").is_dir());
    }
}
