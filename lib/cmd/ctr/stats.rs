//! ctr-stats: samples what running containers use: CPU, memory, processes,
//! network and block I/O.

use crate::backend::{self, Backend};
use crate::cli::spec::{Arg, Command, Complete, Effect, Prints, option, switch};
use crate::error::{Error, Result};
use crate::guest::record::{Container, Stats};
use crate::guest::{GuestKind, Status};
use crate::output::{Column, col};
use crate::run::Ctx;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// ctr-stats's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-stats",
    kind: GuestKind::Container,
    about: "show what running containers use",
    description: "Prints one record per running container (the named ones, else all of them): CPU as a share of one CPU and in seconds, memory used and its limit, processes and their limit, network bytes received and sent, block bytes read and written, and OOM kills, as the kernel counts them in the container's cgroup (v1 or v2; a handful of files per container, no process started). The share is over the container's life for one sample; with --follow it is over each --interval, and a sample of every container is printed each interval until interrupted.\n\nOn backend proxmox the figures are the API's status/current: CPU share, memory, network and disk bytes.",
    args: &[Arg {
        name: "NAME",
        help: "Containers to show (default: every running one)",
        required: false,
        many: true,
        complete: Complete::Guest(GuestKind::Container, Some(Status::Running)),
    }],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("ctr-stats", "What every running container uses, now."),
        (
            "ctr-stats web --follow --interval 5",
            "web's use every 5 seconds.",
        ),
        (
            "ctr-stats | jq -r 'select(.memory_bytes > 512*1024*1024) | .name'",
            "The containers using more than 512 MiB.",
        ),
        (
            "ctr-stats | from json --objects | sort-by cpu_share --reverse | first 5",
            "The five busiest, in nushell.",
        ),
    ],
    prints: Prints::Stats,
    effect: Effect::Reads,
};

crate::flags! {
    /// ctr-stats's flags.
    pub struct Args {
        follow: bool = switch(
            "follow",
            Some('f'),
            "Print a sample every --interval until interrupted"
        ),
        interval: Option<f64> = option(
            "interval",
            None,
            "SECONDS",
            "Between samples with --follow (default: 2)",
            Complete::Nothing,
        ),
    }
}

const COLUMNS: &[Column] = &[
    col("NAME", "name"),
    col("BACKEND", "backend"),
    col("CPU", "cpu_share"),
    col("MEMORY", "memory_bytes"),
    col("LIMIT", "memory_limit_bytes"),
    col("PIDS", "pids"),
    col("NET RX", "net_rx_bytes"),
    col("NET TX", "net_tx_bytes"),
    col("READ", "block_read_bytes"),
    col("WRITE", "block_write_bytes"),
];

/// Prints one sample of what each running container uses (the named ones, or
/// all), and with --follow another every --interval until interrupted; the
/// exit code is the worst error's, of a backend or a container not found.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let interval = match args.interval {
        Some(s) if !(0.1..=86_400.0).contains(&s) => {
            return Err(Error::usage(format!(
                "--interval {s}: expected 0.1 to 86400 seconds"
            )));
        }
        Some(_) if !args.follow => {
            return Err(Error::usage("--interval goes with --follow"));
        }
        s => Duration::from_secs_f64(s.unwrap_or(2.0)),
    };
    let backends = backend::installed(&ctx.cfg, ctx.backend_flag())?;
    let (running, mut code) = running(ctx, &backends)?;
    // The CPU time of each container at the last sample, for the share.
    let mut last: HashMap<String, (f64, Instant)> = HashMap::new();
    loop {
        // A sample is printed whole, in one write: it is one moment's.
        let mut records = Vec::with_capacity(running.len());
        for (b, c) in &running {
            let now = Instant::now();
            let mut usage = match b.usage(&c.name, c.pid, &ctx.out) {
                Ok(u) => u,
                Err(e) => {
                    ctx.out.error(Some(&c.name), &e);
                    code = code.max(e.exit_code());
                    continue;
                }
            };
            if let Some(cpu) = usage.cpu_s {
                usage.cpu_share = match last.insert(c.name.clone(), (cpu, now)) {
                    Some((before, then)) => {
                        let secs = now.duration_since(then).as_secs_f64();
                        (secs > 0.0).then(|| (cpu - before).max(0.0) / secs)
                    }
                    None => c.pid.and_then(lifetime_s).map(|life| cpu / life.max(0.001)),
                };
            }
            records.push(Stats {
                name: c.name.clone(),
                backend: c.backend,
                kind: GuestKind::Container,
                time: crate::guest::units::now_rfc3339(),
                usage,
            });
        }
        ctx.out.records(&records, COLUMNS);
        if !args.follow {
            return Ok(code);
        }
        std::thread::sleep(interval);
    }
}

/// The running containers to sample: the named ones (each must run), or
/// every one; and the exit code of what was not found.
#[allow(clippy::type_complexity)]
fn running<'b>(
    ctx: &Ctx,
    backends: &'b [Box<dyn Backend>],
) -> Result<(Vec<(&'b dyn Backend, Container)>, u8)> {
    let mut all = vec![];
    let mut code = 0;
    for b in backends {
        match b.list_start(&ctx.out).and_then(|finish| finish()) {
            Ok(list) => all.extend(list.into_iter().map(|c| (b.as_ref(), c))),
            Err(e) => {
                ctx.out.error(Some(b.kind().as_str()), &e);
                code = e.exit_code();
            }
        }
    }
    all.retain(|(_, c)| c.status == Status::Running);
    all.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    if ctx.positionals.is_empty() {
        return Ok((all, code));
    }
    let mut picked = vec![];
    for name in &ctx.positionals {
        crate::guest::names::check(name)?;
        match all.iter().find(|(_, c)| &c.name == name) {
            Some(found) => picked.push((found.0, found.1.clone())),
            None => {
                let e = Error::not_found(format!("{name}: no running container of this name"))
                    .with_hint("ctr-list --status running lists those there are");
                ctx.out.error(None, &e);
                code = code.max(e.exit_code());
            }
        }
    }
    Ok((picked, code))
}

/// How long the process `pid` has run, from /proc/PID/stat's start time.
fn lifetime_s(pid: u32) -> Option<f64> {
    let start_ticks = crate::os::process::ProcStat::of(pid)?.start_ticks as f64;
    // The first sample alone asks: the uptime is read once for all.
    static UPTIME: std::sync::OnceLock<Option<f64>> = std::sync::OnceLock::new();
    let uptime = (*UPTIME.get_or_init(|| {
        std::fs::read_to_string("/proc/uptime")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }))?;
    // SAFETY: sysconf with a valid name.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (hz > 0.0).then(|| uptime - start_ticks / hz)
}
