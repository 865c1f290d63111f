//! Bundles removed later, by a command that has to wait anyway.
//!
//! After a `ctr-run --rm` whose container wrote nothing, removing its bundle
//! is about ten metadata operations (the overlay's work directories the kernel
//! made, the empty mount point and upper layer, three small files): 1-1.5 ms
//! on the test machine's ext4, just when the user waits for ctr-run to exit.
//! Instead such a bundle is renamed into the trash, which is its deletion (the
//! name is free, nothing lists it), and the next foreground `ctr-run` removes
//! what the trash holds while it waits for its own runtime, on the core the
//! runtime is not using. A bundle with writes in it is removed at once, so an
//! entry is always a few empty directories and small files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// How many entries one sweep removes at most: more than a run adds, few
/// enough to be done long before a runtime is (each is ~1 ms of disk work).
pub const SWEEP: usize = 4;

/// Moves `dir` into `trash` (on the same filesystem) under a name no other
/// process uses. On an error `dir` is where it was, for the caller to remove.
pub fn put(dir: &Path, trash: &Path) -> std::io::Result<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    match std::fs::create_dir(trash) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let entry = trash.join(format!(
        "{}.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        dir.file_name().unwrap_or_default().to_string_lossy()
    ));
    // A leftover of a process with the same pid would be replaced if empty,
    // and is refused otherwise: either way nothing of value is lost.
    std::fs::rename(dir, &entry)?;
    Ok(entry)
}

/// Removes up to `max` entries; returns how many went. Failures are left for
/// the next sweep: another sweeper may be removing the same entry.
pub fn sweep(trash: &Path, max: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(trash) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .take(max)
        .filter(|e| std::fs::remove_dir_all(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    #[test]
    fn put_then_sweep() {
        let base = std::env::temp_dir().join(format!("gk-trash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let trash = base.join("trash");
        for n in ["a", "b", "c"] {
            let dir = base.join(n);
            std::fs::create_dir_all(dir.join("work/work")).unwrap();
            std::fs::write(dir.join("config.json"), "{}").unwrap();
            let entry = super::put(&dir, &trash).unwrap();
            assert!(!dir.exists() && entry.join("config.json").exists());
        }
        assert_eq!(super::sweep(&trash, 2), 2);
        assert_eq!(std::fs::read_dir(&trash).unwrap().count(), 1);
        assert_eq!(super::sweep(&trash, 2), 1);
        assert_eq!(super::sweep(&trash, 2), 0);
        assert_eq!(super::sweep(&base.join("none"), 2), 0);
        // Not there: refused, and nothing made.
        assert!(super::put(&base.join("gone"), &trash).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
