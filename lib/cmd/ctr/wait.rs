//! ctr-wait: waits until containers are running, stopped or exited.

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
    description: "Waits until each container is running, or stopped (--for stopped), or has exited (--for exited: its command ended; the same as stopped, for a container that ran), polling its backend with backoff; gives up after --timeout seconds (default 300) with exit 7. A container already there is reported at once with \"changed\":false. Useful after ctr-run --detach, in scripts that must not go on before a container's job is done.",
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
}

impl FromValue for WaitFor {
    fn from_value(v: &str, _: &Flag) -> Result<WaitFor> {
        Ok(match v {
            "running" => WaitFor::Running,
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
            &["running", "stopped", "exited"],
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
/// for; one still not there at the deadline (--timeout, shared by all) is a
/// timeout (exit 7). The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let Some(want) = args.wait_for else {
        return Err(Error::usage("--for running|stopped|exited is required"));
    };
    let want = match want {
        WaitFor::Running => Status::Running,
        WaitFor::Stopped => Status::Stopped,
    };
    let deadline = Instant::now() + Duration::from_secs(args.timeout.unwrap_or(300));
    let targets = ctx.targets()?;
    ctx.act(&Containers(ctx), "wait", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        let mut pause = Duration::from_millis(20);
        let mut waited = false;
        loop {
            let now = b.status(name, out)?;
            if now == want {
                return Ok(Done {
                    changed: waited,
                    ..Done::unchanged(now)
                });
            }
            if Instant::now() >= deadline {
                return Err(Error::timeout(format!(
                    "{name} is {}, not {}, at the deadline",
                    now.as_str(),
                    want.as_str()
                ))
                .into());
            }
            waited = true;
            out.progress(Some(&format!(
                "{name}: {} (waiting for {})",
                now.as_str(),
                want.as_str()
            )));
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 3 / 2).min(Duration::from_millis(500));
        }
    })
}
