//! ctr-logs: prints a container's console log, picked by time or from its
//! end, and follows it.

use super::{Containers, name_arg};
use crate::backend::logclock;
use crate::cli::args::When;
use crate::cli::spec::{Command, Complete, Effect, Prints, option, switch};
use crate::error::{Error, Result};
use crate::guest::{BackendKind, GuestKind, Status};
use crate::run::Ctx;
use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, SystemTime};

/// ctr-logs's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-logs",
    kind: GuestKind::Container,
    about: "print a container's output log",
    description: "Prints what a container's command wrote to its console: the raw log, not JSON. With --follow it keeps printing new output until the container stops (or until interrupted).\n\n--since and --until pick the lines written from one time and before another, and --timestamps puts each line's time before it (RFC 3339, UTC, to the millisecond). The times are those guestkit's log clock (guestkit-logclock, started with the container) saw each line reach the log, at most about 50 ms after it was written; they are kept beside the log, in LOG.times. A container started before guestkit kept times has none until it is restarted.\n\nA container on a Proxmox VE cluster (backend proxmox) has no console log the API serves: ctr-logs prints its journal, else its /var/log/syslog or /var/log/messages, read by pct exec on its node over SSH (proxmox.ssh in the config; see guestkit.toml(5)).",
    args: &[name_arg(
        "The container",
        Complete::Guest(GuestKind::Container, None),
    )],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("ctr-logs web", "Print the whole log."),
        (
            "ctr-logs --tail 20 --follow worker",
            "The last 20 lines, then new output as it comes.",
        ),
        (
            "ctr-logs --since 10m --timestamps web",
            "What web wrote in the last ten minutes, each line with its time.",
        ),
        (
            "ctr-logs --since 2026-11-30T08:00:00Z --until 2026-11-30T09:00:00Z api",
            "One hour of a log.",
        ),
        (
            "ctr-logs api | jq -R 'fromjson? | select(.level == \"error\")'",
            "Pick error entries from a JSON-lines log.",
        ),
        (
            "ctr-logs web | lines | last 5",
            "The last five lines, in nushell.",
        ),
    ],
    prints: Prints::Raw,
    effect: Effect::Reads,
};

crate::flags! {
    /// ctr-logs's flags.
    pub struct Args {
        follow: bool = switch(
            "follow",
            Some('f'),
            "Keep printing new output until the container stops",
        ),
        tail: Option<usize> = option(
            "tail",
            Some('n'),
            "N",
            "Print only the last N lines",
            Complete::Nothing,
        ),
        since: Option<When> = option(
            "since",
            None,
            "TIME",
            "Only lines written at or after TIME: 2026-11-30T12:00:00Z (UTC), a date, or a duration ago (10m, 2h, 1d)",
            Complete::Nothing,
        ),
        until: Option<When> = option(
            "until",
            None,
            "TIME",
            "Only lines written before TIME (as for --since)",
            Complete::Nothing,
        ),
        timestamps: bool = switch(
            "timestamps",
            Some('t'),
            "Put each line's time before it",
        ),
    }
}

/// Prints the container's log as raw bytes (the lines asked for, with their
/// times when asked), then with --follow what it gains until the container
/// stops; a cluster container's log is printed by its backend, with that
/// exit code.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    // The parser has checked that the required name is there.
    let name = &ctx.positionals[0];
    crate::guest::names::check(name)?;
    let b = Containers(ctx).one(name)?.backend;
    let timed = args.since.is_some() || args.until.is_some() || args.timestamps;
    if timed && b.kind() == BackendKind::Proxmox {
        return Err(Error::usage(
            "--since, --until and --timestamps read the times guestkit keeps beside a local log; a cluster container's journal keeps its own",
        )
        .with_hint(format!("ctr-exec {name} -- journalctl --since '1 hour ago'")));
    }
    // A container on a cluster node: its log is read there.
    if let Some(code) = b.remote_logs(name, args.tail, args.follow, &ctx.out) {
        return code
            .map(|c| c.clamp(0, 255) as u8)
            .map_err(|e| e.prefixed(name));
    }
    let path = b.log_path(name);
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io("cannot read log", &path, e)),
    };
    let mut text = Vec::new();
    if let Some(f) = file.as_mut() {
        f.read_to_end(&mut text)
            .map_err(|e| Error::io("cannot read log", &path, e))?;
    }
    let lines = Lines {
        path: &path,
        since: args.since.map(|w| w.0),
        until: args.until.map(|w| w.0),
        timestamps: args.timestamps,
    };
    if !timed {
        let start = match args.tail {
            Some(n) => tail_start(&text, n),
            None => 0,
        };
        // Raw bytes: a log is not always UTF-8, and a chunk may end mid-character.
        ctx.out.write_bytes(&text[start..]);
    } else {
        // Following, a last line not yet whole waits for the rest of it.
        let whole = match args.follow {
            true => text.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1),
            false => text.len(),
        };
        let picked = lines
            .pick(&text[..whole], 0)
            .map_err(|e| e.prefixed(name))?;
        if let Some(n) = lines.unseen(text.len() as u64) {
            ctx.out.warn(&format!(
                "{name}: the log clock has not recorded the log's last {n} bytes: their time is the log's last change (is guestkit-logclock still running? restart the container)"
            ));
        }
        let from = args.tail.map_or(0, |n| picked.len().saturating_sub(n));
        for line in &picked[from..] {
            ctx.out.write_bytes(line);
        }
    }
    if !args.follow {
        return Ok(0);
    }
    let mut offset = text.len() as u64;
    // Timed, a line is printed once it is whole (or the container stopped).
    let mut partial: Vec<u8> = match timed {
        true => text[text.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1)..].to_vec(),
        false => Vec::new(),
    };
    loop {
        let running = b
            .status(name, &ctx.out)
            .map(|s| s != Status::Stopped)
            .unwrap_or(false);
        if file.is_none() {
            file = std::fs::File::open(&path).ok();
        }
        if let Some(f) = file.as_mut() {
            let mut chunk = Vec::new();
            if f.seek(SeekFrom::Start(offset)).is_ok()
                && f.read_to_end(&mut chunk).is_ok()
                && !chunk.is_empty()
            {
                if timed {
                    let start = offset - partial.len() as u64;
                    partial.extend_from_slice(&chunk);
                    let whole = match partial.iter().rposition(|&c| c == b'\n') {
                        Some(i) if running => i + 1,
                        _ if running => 0,
                        _ => partial.len(),
                    };
                    for line in lines.pick(&partial[..whole], start)? {
                        ctx.out.write_bytes(&line);
                    }
                    partial.drain(..whole);
                } else {
                    ctx.out.write_bytes(&chunk);
                }
                offset += chunk.len() as u64;
            }
        }
        if !running {
            if timed && !partial.is_empty() {
                let start = offset - partial.len() as u64;
                for line in lines.pick(&partial, start)? {
                    ctx.out.write_bytes(&line);
                }
            }
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Picking a log's lines by their times, and putting the times before them.
struct Lines<'a> {
    path: &'a std::path::Path,
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    timestamps: bool,
}

impl Lines<'_> {
    /// How many bytes at the end of a log of `size` bytes the clock has not
    /// recorded though it should have by now (the log last changed over
    /// two seconds ago): a clock that died.
    fn unseen(&self, size: u64) -> Option<u64> {
        let last = logclock::read(self.path).last().map(|&(s, _)| s)?;
        let changed = std::fs::metadata(self.path)
            .and_then(|m| m.modified())
            .ok()?;
        let quiet = SystemTime::now().duration_since(changed).ok()? > Duration::from_secs(2);
        (size > last && quiet).then(|| size - last)
    }

    /// The lines of `text` (which begins at byte `start` of the log) that
    /// were written in the time asked for, each with its time before it
    /// when asked.
    fn pick(&self, text: &[u8], start: u64) -> Result<Vec<Vec<u8>>> {
        if text.is_empty() {
            return Ok(vec![]);
        }
        let times = logclock::read(self.path);
        if times.is_empty() {
            return Err(Error::conflict(
                "its log has no times: it started before guestkit kept them, or without guestkit-logclock",
            )
            .with_hint("restart it (ctr-restart) so that its clock runs; or leave out --since, --until and --timestamps"));
        }
        // Bytes the clock has not seen yet: the log's own time.
        let latest = std::fs::metadata(self.path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        let mut picked = vec![];
        let mut at = start;
        for line in text.split_inclusive(|&c| c == b'\n') {
            let t = logclock::time_of(&times, at).unwrap_or(latest);
            at += line.len() as u64;
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                continue;
            }
            let mut out = Vec::with_capacity(line.len() + 25);
            if self.timestamps {
                out.extend_from_slice(crate::guest::units::rfc3339_millis(t).as_bytes());
                out.push(b' ');
            }
            out.extend_from_slice(line);
            picked.push(out);
        }
        Ok(picked)
    }
}

/// The byte offset where the last `n` lines begin.
fn tail_start(text: &[u8], n: usize) -> usize {
    if n == 0 {
        return text.len();
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut seen = 0;
    for (i, &c) in body.iter().enumerate().rev() {
        if c == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn tail_lines() {
        let t = b"a\nb\nc\n";
        assert_eq!(&t[super::tail_start(t, 2)..], b"b\nc\n");
        assert_eq!(&t[super::tail_start(t, 5)..], t);
        assert_eq!(&t[super::tail_start(t, 0)..], b"");
        assert_eq!(&b"a\nb"[super::tail_start(b"a\nb", 1)..], b"b");
    }
}
