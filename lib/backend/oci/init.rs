//! What guestkit writes down when it starts a container: its init's pid and
//! start time, its cgroup's freezer file, and which of the runtime's records
//! the start made. With these, a listing tells running, paused and stopped
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

/// A started container's init, as noted at its start.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Init {
    /// Its pid on the host.
    pub pid: u32,
    /// When it started, in clock ticks after boot (/proc/PID/stat).
    start_ticks: u64,
    /// The inode of the runtime's directory for the container that this
    /// start made: another start (by anyone) makes another.
    entry: u64,
    /// Its cgroup's freezer file (see `cgroup::freezer`); none on a host
    /// without a freezer.
    freezer: Option<PathBuf>,
}

impl Init {
    /// Notes the init `pid` of the container in `bundle`, whose runtime
    /// directory has inode `entry`. Nothing is noted for a pid already gone.
    pub fn note(bundle: &Path, pid: u32, entry: u64) -> crate::error::Result<()> {
        let Some(stat) = ProcStat::of(pid) else {
            return Ok(());
        };
        let init = Init {
            pid,
            start_ticks: stat.start_ticks,
            entry,
            // A root cgroup has no freezer file: nothing to note.
            freezer: cgroup::freezer(pid).filter(|f| f.is_file()),
        };
        let text = serde_json::to_string(&init).expect("numbers and a path serialize");
        crate::backend::net::write_atomically(&bundle.join(FILE), &text)
    }

    /// The note in `bundle`, if it is the one for the runtime directory
    /// with inode `entry`.
    pub fn noted(bundle: &Path, entry: u64) -> Option<Init> {
        let text = crate::os::sys::read_small(&bundle.join(FILE))?;
        serde_json::from_str::<Init>(&text)
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
    use super::Init;
    use crate::guest::Status;

    #[test]
    fn a_note_names_one_process_and_one_runtime_record() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        Init::note(dir.path(), me, 7).unwrap();
        let init = Init::noted(dir.path(), 7).expect("noted");
        assert_eq!(init.pid, me);
        // This process runs, and its cgroup (if any) is not frozen.
        assert_eq!(init.status(), Some(Status::Running));
        // Another runtime record of the same name is another start.
        assert_eq!(Init::noted(dir.path(), 8), None);
        // The same pid with another start time is another process; what
        // runs in its cgroup (this process) is then the runtime's to tell.
        let reused = Init {
            start_ticks: init.start_ticks + 1,
            ..init
        };
        assert_eq!(reused.status(), None);
        // In a cgroup without a process, it is stopped.
        let gone = Init {
            freezer: Some(dir.path().join("freezer.state")),
            ..reused
        };
        assert_eq!(gone.status(), Some(Status::Stopped));
        Init::forget(dir.path());
        assert_eq!(Init::noted(dir.path(), 7), None);
        // A pid that is gone is noted as nothing.
        Init::note(dir.path(), u32::MAX, 7).unwrap();
        assert_eq!(Init::noted(dir.path(), 7), None);
    }
}
