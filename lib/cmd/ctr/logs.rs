use super::{Containers, name_arg};
use crate::cli::spec::{Command, Complete, Prints, option, switch};
use crate::error::{Error, Result};
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;
use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

pub const SPEC: Command = Command {
    name: "ctr-logs",
    kind: GuestKind::Container,
    about: "print a container's output log",
    description: "Prints what a container's command wrote to its console: the raw log, not JSON. With --follow it keeps printing new output until the container stops (or until interrupted).\n\nA container on a Proxmox VE cluster (backend proxmox) has no console log the API serves: ctr-logs prints its journal, else its /var/log/syslog or /var/log/messages, read by pct exec on its node over SSH (proxmox.ssh in the config; see guestkit.toml(5)).",
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
            "ctr-logs api | jq -R 'fromjson? | select(.level == \"error\")'",
            "Pick error entries from a JSON-lines log.",
        ),
        (
            "ctr-logs web | lines | last 5",
            "The last five lines, in nushell.",
        ),
    ],
    prints: Prints::Raw,
};

crate::flags! {
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
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    // The parser has checked that the required name is there.
    let name = &ctx.positionals[0];
    crate::guest::names::check(name)?;
    let b = Containers(ctx).one(name)?.backend;
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
    let start = match args.tail {
        Some(n) => tail_start(&text, n),
        None => 0,
    };
    // Raw bytes: a log is not always UTF-8, and a chunk may end mid-character.
    ctx.out.write_bytes(&text[start..]);
    if !args.follow {
        return Ok(0);
    }
    let mut offset = text.len() as u64;
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
                offset += chunk.len() as u64;
                ctx.out.write_bytes(&chunk);
            }
        }
        if !running {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(250));
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
