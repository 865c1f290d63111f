//! ctr-wait: waits until containers are running, stopped or exited, or
//! have an address.

use super::{Containers, names_arg};
use crate::cli::args::{FromValue, Jobs};
use crate::cli::spec::{Command, Complete, Effect, Flag, JOBS, Prints, choice, option};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;
use std::time::{Duration, Instant};

/// ctr-wait's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-wait",
    kind: GuestKind::Container,
    about: "wait until containers reach a state",
    description: "Waits until each container is running, or stopped (--for stopped), or has exited (--for exited: its command ended; the same as stopped, for a container that ran), or runs with an IPv4 address (--for ip: ctr-state then shows it; a paused one waits until it is resumed), polling its backend with backoff; gives up after --timeout seconds (default 300) with exit 7. A container already there is reported at once with \"changed\":false. A local container that runs on no network (made with --network none) will get no address: --for ip refuses it at once (exit 4). Useful after ctr-run --detach, in scripts that must not go on before a container's job is done, and before reaching a container by its address.",
    args: &[names_arg("Containers to wait for", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        (
            "ctr-run job --detach -- sh -c 'make test' && ctr-wait job --for exited && ctr-logs job",
            "Run a job in the background, then read its output when it is done.",
        ),
        (
            "ctr-wait --for stopped --timeout 30 web || echo 'web is still up'",
            "Act on a timeout.",
        ),
        (
            "ctr-list --name 'job-*' | ctr-wait --for exited --jobs 8 | jq -r .name",
            "Wait for every job.",
        ),
        (
            "ctr-wait web --for running | from json | get changed",
            "Whether it had to wait, in nushell.",
        ),
        (
            "ctr-start web && ctr-wait web --for ip && ctr-state web | jq -r '.ipv4[0]'",
            "Start web, and print its address once it has one.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Reads,
};

/// What ctr-wait waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WaitFor {
    /// `--for running`: its status is running.
    Running,
    /// Stopped; `exited` says the same of a container that ran.
    Stopped,
    /// `--for ip`: it runs, with an IPv4 address.
    Ip,
}

impl FromValue for WaitFor {
    fn from_value(v: &str, _: &Flag) -> Result<WaitFor> {
        Ok(match v {
            "running" => WaitFor::Running,
            "ip" => WaitFor::Ip,
            // The parser has checked the value against the flag's list.
            _ => WaitFor::Stopped,
        })
    }
}

crate::flags! {
    /// ctr-wait's flags.
    pub struct Args {
        wait_for: Option<WaitFor> = choice(
            "for",
            None,
            "STATE",
            "What to wait for (required)",
            &["running", "stopped", "exited", "ip"],
        ),
        timeout: Option<u64> = option(
            "timeout",
            Some('t'),
            "SECONDS",
            "Give up after this long (default: 300)",
            Complete::Nothing,
        ),
        jobs: Jobs = JOBS,
    }
}

/// Polls each target, with backoff, until it is in the status --for asks
/// for (or runs with an address); one still not there at the deadline
/// (--timeout, shared by all) is a timeout (exit 7). The exit code says
/// whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let Some(want) = args.wait_for else {
        return Err(Error::usage("--for running|stopped|exited|ip is required"));
    };
    let deadline = Instant::now() + Duration::from_secs(args.timeout.unwrap_or(300));
    let targets = ctx.targets()?;
    ctx.act(&Containers(ctx), "wait", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        let mut pause = Duration::from_millis(20);
        let mut waited = false;
        loop {
            // Where it is now, and what it still lacks (None: nothing), as
            // the deadline's error and the progress line say it.
            let (now, lacks) = match want {
                WaitFor::Running | WaitFor::Stopped => {
                    let target = if want == WaitFor::Running {
                        Status::Running
                    } else {
                        Status::Stopped
                    };
                    let now = b.status(name, out)?;
                    let lacks = (now != target)
                        .then(|| (format!(", not {},", target.as_str()), target.as_str()));
                    (now, lacks)
                }
                WaitFor::Ip => {
                    let st = b.state(name, out)?.container;
                    let running = st.status == Status::Running;
                    if running && st.ipv4.is_empty() && b.networked(name, st.pid, out) == Some(false) {
                        return Err(Error::conflict(format!(
                            "{name} runs on no network (loopback only): it will get no address"
                        ))
                        .with_hint("a container's network is chosen when it is made: ctr-create --network NAME (a local one, without --network none), or --network bridge=BR,ip=dhcp on backend proxmox")
                        .into());
                    }
                    let lacks = if !running {
                        Some((", not running with an address,".into(), "an address"))
                    } else if st.ipv4.is_empty() {
                        Some((" with no address".into(), "an address"))
                    } else {
                        None
                    };
                    (st.status, lacks)
                }
            };
            let Some((lacks, wanted)) = lacks else {
                return Ok(Done {
                    changed: waited,
                    ..Done::unchanged(now)
                });
            };
            if Instant::now() >= deadline {
                return Err(Error::timeout(format!(
                    "{name} is {}{lacks} at the deadline",
                    now.as_str(),
                ))
                .into());
            }
            waited = true;
            out.progress(Some(&format!(
                "{name}: {} (waiting for {wanted})",
                now.as_str(),
            )));
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 3 / 2).min(Duration::from_millis(500));
        }
    })
}
