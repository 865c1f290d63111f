//! When each part of a container's log was written, for `ctr-logs --since`,
//! `--until` and `--timestamps`. The log itself stays the raw bytes the
//! container wrote (its runtime or LXC's monitor writes it, not guestkit);
//! beside it, `LOG.times` holds lines `SIZE UNIX-NANOSECONDS`: by that time
//! the log had that many bytes. A small process, the clock (the binary
//! guestkit-logclock), keeps it: started with the container, it watches the
//! log with inotify and writes a line each time it grows, and ends when the
//! container's init does (a pidfd says) or the log is deleted or moved. A
//! line `reset` says the log shrank (truncated in place): the lines before
//! it are of the bytes that were dropped.
//!
//! A byte's time is that of the first line whose size is beyond it: when the
//! clock saw it, at most 50 ms after it was written (writes that come
//! together share a line).

use crate::output::Output;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// close_range(2)'s flag to mark the descriptors close-on-exec (Linux 5.11).
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;

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
        // It holds no directory of the caller's busy (an unmount of it).
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe, and touches no memory.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            // Descriptors the caller passed down (3 and up) are not the
            // clock's to keep open: close them at the exec.
            libc::syscall(
                libc::SYS_close_range,
                3,
                libc::c_uint::MAX,
                CLOSE_RANGE_CLOEXEC,
            );
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
    // Only the lines since the log last shrank are about its bytes.
    let current = match text.rfind(&format!("{RESET}\n")) {
        Some(i) => &text[i + RESET.len() + 1..],
        None => &text[..],
    };
    let mut times: Vec<(u64, SystemTime)> = current
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
/// the container's init ended or its log was deleted or moved, 2 for bad
/// arguments, 1 when the log cannot be watched (no inotify instance left,
/// say: the log then has no times, and ctr-logs says so).
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

/// How long the clock lets writes gather before it writes a line: a
/// chatty container costs at most twenty lines a second, and a line's time
/// is late by at most this.
const GATHER: Duration = Duration::from_millis(50);

/// A line of LOG.times that says the log shrank (truncated or rotated in
/// place): the lines before it are of another log.
const RESET: &str = "reset";

fn watch(log: &Path, pid: libc::pid_t) -> std::io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // The log may not be there yet (nothing written): a watch needs it.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut times = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(times_path(log))?;
    // The container's init, as a descriptor that becomes readable when it
    // ends (a pid alone could be another process's by then).
    // SAFETY: pidfd_open with a pid and no flags; the descriptor is owned below.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if pidfd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor just returned to us.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
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
    // The largest size recorded so far, to see a shrink.
    let mut last = read(log).last().map(|&(size, _)| size);
    // A size's time is taken after the size: every byte counted was written
    // by then. At the start, the log's last change is that time.
    let mut note = |times: &mut std::fs::File, start: bool| -> std::io::Result<bool> {
        let Ok(meta) = std::fs::metadata(log) else {
            return Ok(false);
        };
        let size = meta.len();
        let when = match start {
            true => meta.modified().unwrap_or_else(|_| SystemTime::now()),
            false => SystemTime::now(),
        };
        if last != Some(size) {
            let ns = when
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            // One write per line: O_APPEND keeps it whole though another
            // clock of this log (a restart's) writes too.
            let reset = match last {
                Some(l) if size < l => format!("{RESET}\n"),
                _ => String::new(),
            };
            times.write_all(format!("{reset}{size} {ns}\n").as_bytes())?;
            last = Some(size);
        }
        Ok(true)
    };
    note(&mut times, true)?;
    let mut buf = [0u8; 4096];
    loop {
        let mut p = [
            libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on two pollfds of ours, without a timeout: the log
        // changes or the init ends.
        if unsafe { libc::poll(p.as_mut_ptr(), 2, -1) } < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if p[0].revents != 0 {
            std::thread::sleep(GATHER);
            // SAFETY: read into a buffer of ours, of the length given.
            let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            let gone = n > 0 && events(&buf[..n as usize]).any(|m| m & !libc::IN_MODIFY != 0);
            if !note(&mut times, false)? || gone {
                return Ok(());
            }
        }
        if p[1].revents != 0 {
            note(&mut times, false)?;
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

    #[test]
    fn a_shrunk_logs_earlier_times_are_dropped() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("console.log");
        std::fs::write(
            times_path(&log),
            "0 1000000000\n100 2000000000\nreset\n3 3000000000\n",
        )
        .unwrap();
        assert_eq!(read(&log), [(3, UNIX_EPOCH + Duration::from_secs(3))]);
    }
}
