//! Bundles removed later, by a command that has to wait anyway.
//!
//! After a `ctr-run --rm` whose container wrote nothing and whose root is not
//! kept as a spare (`crate::backend::oci::spare`: its image has one already), removing its bundle
//! is about ten metadata operations (the overlay's work directories the kernel
//! made, the empty mount point and upper layer, three small files): 1-1.5 ms
//! on the test machine's ext4, just when the user waits for ctr-run to exit.
//! Such a bundle is renamed into the trash instead, which is its deletion (the
//! name is free, nothing lists it), and the next foreground `ctr-run` on an
//! OCI backend removes up to `MAX_PER_SWEEP` entries after starting its
//! runtime and before waiting for it. Only a bundle whose root and upper layer
//! are empty goes there (`Oci::discard`), so an entry is empty directories and
//! small files.
//!
//! Bundles go only into, and a sweep removes only from, a trash that is a real
//! directory of the user's own, and a sweep removes only entries named as
//! `put` names them: a state directory pointed at a shared place loses
//! nothing else and gives away no container's config.json.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// At most this many entries go per sweep: more than a run adds, few enough
/// to be done long before the runtime is (each is about 1 ms of disk work).
pub const MAX_PER_SWEEP: usize = 4;

/// Moves `dir` into `trash` (on the same filesystem), named
/// `<pid>.<n>.<dir's name>`. On an error `dir` is where it was.
pub fn put(dir: &Path, trash: &Path) -> std::io::Result<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let entry = trash.join(format!(
        "{}.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        dir.file_name().unwrap_or_default().to_string_lossy()
    ));
    // Not into a trash planted by someone else: a bundle's config.json holds
    // the container's environment.
    crate::backend::oci::owned::private_dir(trash)?;
    // An entry left by an earlier process of the same pid is replaced when it
    // is empty and refuses the rename otherwise: nothing of value is lost.
    std::fs::rename(dir, &entry)?;
    Ok(entry)
}

/// Removes up to `max` of the entries `put` made. Returns how many went and,
/// as messages, what could not be removed, which stays for a later sweep.
pub fn sweep(trash: &Path, max: usize) -> (usize, Vec<String>) {
    match crate::backend::oci::owned::own_dir(trash) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (0, Vec::new()),
        Err(e) => return (0, vec![format!("{}: {e}; left alone", trash.display())]),
    }
    let Ok(entries) = std::fs::read_dir(trash) else {
        return (0, Vec::new());
    };
    let (mut removed, mut failed) = (0, Vec::new());
    // Entries that fail (another sweeper got there first, or they cannot be
    // removed) do not use up the sweep, up to a point.
    for e in entries
        .flatten()
        .filter(|e| crate::backend::oci::owned::numbered(&e.file_name()))
        .take(2 * max)
    {
        if removed == max {
            break;
        }
        let path = e.path();
        let gone = match e.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        match gone {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => failed.push(format!("cannot remove {}: {err}", path.display())),
        }
    }
    (removed, failed)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new().prefix(name).tempdir().unwrap()
    }
    fn count(trash: &Path) -> usize {
        std::fs::read_dir(trash).map(|d| d.count()).unwrap_or(0)
    }

    #[test]
    fn put_then_sweep() {
        let s = scratch("sweep");
        let trash = s.path().join("trash");
        for n in ["a", "b", "c"] {
            let dir = s.path().join(n);
            std::fs::create_dir_all(dir.join("work/work")).unwrap();
            std::fs::write(dir.join("config.json"), "{}").unwrap();
            let entry = super::put(&dir, &trash).unwrap();
            assert!(!dir.exists() && entry.join("config.json").exists());
            assert!(entry.to_str().unwrap().ends_with(&format!(".{n}")));
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&trash).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(super::sweep(&trash, 2), (2, vec![]));
        assert_eq!(count(&trash), 1);
        assert_eq!(super::sweep(&trash, 2), (1, vec![]));
        assert_eq!(super::sweep(&trash, 2), (0, vec![]));
        assert_eq!(super::sweep(&s.path().join("none"), 2), (0, vec![]));
        // Not there: refused, and nothing moved.
        assert!(super::put(&s.path().join("gone"), &trash).is_err());
        assert_eq!(count(&trash), 0);
    }

    #[test]
    fn sweep_takes_only_its_own() {
        let s = scratch("own");
        let trash = s.path().join("trash");
        std::fs::create_dir(&trash).unwrap();
        std::fs::create_dir(trash.join("keep-me")).unwrap();
        std::fs::create_dir(trash.join("1.x.keep")).unwrap();
        std::fs::write(trash.join("12.3.file"), "").unwrap();
        assert_eq!(super::sweep(&trash, 4), (1, vec![]));
        assert!(trash.join("keep-me").exists() && trash.join("1.x.keep").exists());
        // A trash that is a symbolic link is not followed.
        let link = s.path().join("link");
        std::os::unix::fs::symlink(&trash, &link).unwrap();
        std::fs::create_dir(trash.join("7.0.victim")).unwrap();
        let (removed, problems) = super::sweep(&link, 4);
        assert_eq!(removed, 0);
        assert!(problems[0].contains("left alone"), "{problems:?}");
        assert!(trash.join("7.0.victim").exists());
        // Nor is anything put through it.
        let dir = s.path().join("bundle");
        std::fs::create_dir(&dir).unwrap();
        assert!(super::put(&dir, &link).is_err());
        assert!(dir.exists());
    }
}
