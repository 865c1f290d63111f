//! What guestkit writes down when it starts a container: its init's pid and
//! start time, its cgroup's freezer file, and which of the runtime's records
//! the start made (its directory's inode and modification time). With these, a listing tells running, paused and stopped
//! from the kernel's own files the way the runtimes themselves do (crun's
//! libcrun_get_container_state_string: the pid alive with the same start
//! time and not a zombie, then the freezer), without starting the runtime.
//! Whatever a note cannot answer for sure is the runtime's to answer, and it
//! is asked (docs/design.md, "States").

use crate::backend::cgroup;
use crate::guest::Status;
use crate::os::process::ProcStat;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The note's file in the bundle.
const FILE: &str = "init.json";

/// Which of the runtime's directories for a container: a directory made
/// again has another inode or another modification time (ext4 hands a
/// removed directory's inode to the next one made, so the inode alone is no
/// proof; the runtime writes its files into a new one as it makes it).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    ino: u64,
    mtime: (i64, i64),
}

impl Entry {
    /// The directory at `path`'s.
    pub fn of(path: &Path) -> std::io::Result<Entry> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(path)?;
        Ok(Entry {
            ino: m.ino(),
            mtime: (m.mtime(), m.mtime_nsec()),
        })
    }
}

/// A started container's init, as noted at its start.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Init {
    /// Its pid on the host.
    pub pid: u32,
    /// When it started, in clock ticks after boot (/proc/PID/stat).
    start_ticks: u64,
    /// The runtime's directory for the container that this start made.
    entry: Entry,
    /// The freezer file of the container's cgroup (see `cgroup::freezer`);
    /// none on a host without a freezer.
    freezer: Option<PathBuf>,
}

impl Init {
    /// Notes the init `pid` of the container in `bundle`, whose runtime
    /// directory is `entry` and whose cgroup's freezer file is `freezer`.
    /// Nothing is noted for a pid already gone.
    pub fn note(
        bundle: &Path,
        pid: u32,
        entry: Entry,
        freezer: Option<PathBuf>,
    ) -> crate::error::Result<()> {
        let Some(stat) = ProcStat::of(pid) else {
            return Ok(());
        };
        let init = Init {
            pid,
            start_ticks: stat.start_ticks,
            entry,
            freezer,
        };
        let text = serde_json::to_string(&init).expect("numbers and a path serialize");
        crate::os::file::write_atomically(&bundle.join(FILE), &text)
    }

    /// The note in `bundle`, if it is the one for the runtime directory
    /// `entry`.
    pub fn noted(bundle: &Path, entry: Entry) -> Option<Init> {
        let text = std::fs::read(bundle.join(FILE)).ok()?;
        serde_json::from_slice::<Init>(&text)
            .ok()
            .filter(|i| i.entry == entry)
    }

    /// Drops the note (the container's runtime record goes, or a new start
    /// comes).
    pub fn forget(bundle: &Path) {
        let _ = std::fs::remove_file(bundle.join(FILE));
    }

    /// The container's status now, from the kernel's files; `None` when
    /// only the runtime can tell.
    pub fn status(&self) -> Option<Status> {
        let alive =
            ProcStat::of(self.pid).is_some_and(|s| s.start_ticks == self.start_ticks && !s.ended());
        let Some(freezer) = &self.freezer else {
            // Without a cgroup to look into, an ended init may have been
            // followed by a start behind guestkit's back.
            return alive.then_some(Status::Running);
        };
        if !alive {
            // A frozen cgroup whose init was killed: runc, which looks at
            // the freezer first, says paused, crun stopped. Let it say.
            if cgroup::frozen(freezer) == Some(true) {
                return None;
            }
            // Stopped, unless something runs in its cgroup: the same
            // container run again by the runtime's own command.
            let dir = freezer.parent()?;
            return (!cgroup::populated(dir)).then_some(Status::Stopped);
        }
        match cgroup::frozen(freezer)? {
            true => Some(Status::Paused),
            false => Some(Status::Running),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, Init};
    use crate::guest::Status;

    #[test]
    fn a_note_names_one_process_and_one_runtime_record() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        let entry = Entry::of(dir.path()).unwrap();
        Init::note(dir.path(), me, entry, None).unwrap();
        let init = Init::noted(dir.path(), entry).expect("noted");
        assert_eq!(init.pid, me);
        // This process runs.
        assert_eq!(init.status(), Some(Status::Running));
        // Another runtime directory of the same name is another start.
        let other = Entry {
            mtime: (entry.mtime.0 + 1, entry.mtime.1),
            ..entry
        };
        assert_eq!(Init::noted(dir.path(), other), None);
        // The same pid with another start time is another process; with no
        // cgroup to look into, the runtime is to tell.
        let reused = Init {
            start_ticks: init.start_ticks + 1,
            ..init
        };
        assert_eq!(reused.status(), None);
        // Its cgroup empty (a directory without processes), it is stopped;
        // frozen, the runtime is to tell (runc says paused).
        let cg = tempfile::tempdir().unwrap();
        std::fs::write(cg.path().join("cgroup.procs"), "").unwrap();
        std::fs::write(cg.path().join("freezer.state"), "THAWED\n").unwrap();
        let gone = Init {
            freezer: Some(cg.path().join("freezer.state")),
            ..reused
        };
        assert_eq!(gone.status(), Some(Status::Stopped));
        std::fs::write(cg.path().join("freezer.state"), "FROZEN\n").unwrap();
        assert_eq!(gone.status(), None);
        // Something runs in a cgroup below it: the runtime is to tell.
        std::fs::write(cg.path().join("freezer.state"), "THAWED\n").unwrap();
        std::fs::create_dir(cg.path().join("init.scope")).unwrap();
        std::fs::write(cg.path().join("init.scope/cgroup.procs"), "1\n").unwrap();
        assert_eq!(gone.status(), None);
        Init::forget(dir.path());
        assert_eq!(Init::noted(dir.path(), entry), None);
        // A pid that is gone is noted as nothing.
        Init::note(dir.path(), u32::MAX, entry, None).unwrap();
        assert_eq!(Init::noted(dir.path(), entry), None);
    }
}
