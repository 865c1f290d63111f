//! When each part of a container's log was written, for `ctr-logs --since`,
//! `--until` and `--timestamps`. The log itself stays the raw bytes the
//! container wrote (its runtime or LXC's monitor writes it, not guestkit);
//! beside it, `LOG.times` holds lines `SIZE UNIX-NANOSECONDS`: by that time
//! the log had that many bytes. A small process, the clock (the binary
//! guestkit-logclock), keeps it: started with the container, it watches the
//! log with inotify and writes a line each time it grows, and ends when the
//! container's init does or the log is deleted.
//!
//! A byte's time is that of the first line whose size is beyond it: when the
//! clock saw it, a few milliseconds at most after it was written.

use crate::output::Output;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The clock's program, installed beside the tools.
pub const PROGRAM: &str = "guestkit-logclock";

/// Where a log's times are kept.
pub fn times_path(log: &Path) -> PathBuf {
    let mut p = log.as_os_str().to_owned();
    p.push(".times");
    PathBuf::from(p)
}

/// Starts the clock of the log of a container whose init is `pid`, in a
/// session of its own so that no terminal's hangup ends it. Without the
/// clock's program the log has no times (ctr-logs says so); the container
/// runs all the same.
pub fn start(log: &Path, pid: u32, out: &Output) {
    let Some(program) = find() else {
        out.trace(&format!("no {PROGRAM}: the log gets no times"));
        return;
    };
    out.trace(&format!(
        "+ {} {} {pid} &",
        program.display(),
        log.display()
    ));
    let mut cmd = std::process::Command::new(&program);
    cmd.arg(log)
        .arg(pid.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe, and touches no memory.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    // The clock is not waited for: it outlives this tool. Its exit is
    // reaped by init, since this process ends first.
    if let Err(e) = cmd.spawn() {
        out.trace(&format!("{PROGRAM} did not start: {e}"));
    }
}

/// The clock's program: beside this tool's binary, else on PATH.
fn find() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.join(PROGRAM)))
        .filter(|p| p.is_file());
    beside.or_else(|| which::which(PROGRAM).ok())
}

/// A log's times, by size: `(size, time)`, sizes growing. Empty when it
/// has none.
pub fn read(log: &Path) -> Vec<(u64, SystemTime)> {
    let text = std::fs::read_to_string(times_path(log)).unwrap_or_default();
    let mut times: Vec<(u64, SystemTime)> = text
        .lines()
        .filter_map(|l| {
            let (size, ns) = l.split_once(' ')?;
            let ns: u64 = ns.trim().parse().ok()?;
            Some((size.parse().ok()?, UNIX_EPOCH + Duration::from_nanos(ns)))
        })
        .collect();
    times.sort_by_key(|&(size, t)| (size, t));
    times
}

/// The time of the byte at `offset`: that of the first size beyond it;
/// `None` past the last (not yet seen by the clock).
pub fn time_of(times: &[(u64, SystemTime)], offset: u64) -> Option<SystemTime> {
    let i = times.partition_point(|&(size, _)| size <= offset);
    times.get(i).map(|&(_, t)| t)
}

/// The clock itself: `guestkit-logclock LOG PID`. Its exit code: 0 when
/// the container's init ended or its log was deleted, 2 for bad arguments,
/// 1 when the log cannot be watched.
pub fn main(args: Vec<std::ffi::OsString>) -> i32 {
    let (Some(log), Some(pid)) = (
        args.get(1).map(PathBuf::from),
        args.get(2)
            .and_then(|p| p.to_str()?.parse::<libc::pid_t>().ok()),
    ) else {
        eprintln!("usage: {PROGRAM} LOG PID");
        return 2;
    };
    match watch(&log, pid) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{PROGRAM}: {}: {e}", log.display());
            1
        }
    }
}

fn watch(log: &Path, pid: libc::pid_t) -> std::io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let mut times = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(times_path(log))?;
    // SAFETY: inotify_init1 returns a new descriptor, owned below.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor just returned to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let path = crate::os::sys::cstr(log)?;
    let mask = libc::IN_MODIFY | libc::IN_DELETE_SELF | libc::IN_MOVE_SELF;
    // SAFETY: a watch on an open inotify descriptor, with a NUL-terminated path.
    if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut last = None;
    let mut note = |times: &mut std::fs::File| -> std::io::Result<bool> {
        let Ok(size) = std::fs::metadata(log).map(|m| m.len()) else {
            return Ok(false);
        };
        if last != Some(size) {
            last = Some(size);
            let ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            writeln!(times, "{size} {ns}")?;
        }
        Ok(true)
    };
    // What was there when the container started.
    note(&mut times)?;
    let mut buf = [0u8; 4096];
    loop {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one pollfd of ours; at most a second, so that the
        // end of the container is seen though its log is quiet.
        let ready = unsafe { libc::poll(&mut p, 1, 1000) };
        if ready > 0 {
            // SAFETY: read into a buffer of ours, of the length given.
            let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            let gone = n > 0 && events(&buf[..n as usize]).any(|m| m & !libc::IN_MODIFY != 0);
            if !note(&mut times)? || gone {
                return Ok(());
            }
        }
        // SAFETY: kill with signal 0 sends nothing: it asks whether the
        // process is there.
        if unsafe { libc::kill(pid, 0) } != 0 {
            note(&mut times)?;
            return Ok(());
        }
    }
}

/// The masks of the inotify events in `buf`.
fn events(buf: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let head = std::mem::size_of::<libc::inotify_event>();
    let mut at = 0;
    std::iter::from_fn(move || {
        if at + head > buf.len() {
            return None;
        }
        // The event's fields, read without assuming the buffer's alignment.
        let field = |o: usize| u32::from_ne_bytes(buf[at + o..at + o + 4].try_into().unwrap());
        let (mask, len) = (field(4), field(12));
        at += head + len as usize;
        Some(mask)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bytes_time_is_the_first_size_beyond_it() {
        let t = |s| UNIX_EPOCH + Duration::from_secs(s);
        let times = [(0, t(10)), (6, t(20)), (12, t(30))];
        assert_eq!(time_of(&times, 0), Some(t(20)));
        assert_eq!(time_of(&times, 5), Some(t(20)));
        assert_eq!(time_of(&times, 6), Some(t(30)));
        assert_eq!(time_of(&times, 12), None);
    }

    #[test]
    fn times_are_read_in_order_and_bad_lines_skipped() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("console.log");
        std::fs::write(times_path(&log), "6 2000000000\nbad\n0 1000000000\n").unwrap();
        let times = read(&log);
        assert_eq!(times.len(), 2);
        assert_eq!(times[0].0, 0);
        assert_eq!(times[1].1, UNIX_EPOCH + Duration::from_secs(2));
    }
}
