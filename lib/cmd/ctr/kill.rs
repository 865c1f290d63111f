//! ctr-kill: sends a signal to containers.

use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Complete, Effect, JOBS, Prints, option};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::units::Signal;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

/// ctr-kill's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-kill",
    kind: GuestKind::Container,
    about: "send a signal to containers",
    description: "Sends a signal (SIGKILL unless --signal says otherwise) to each named container: to its init, which for a container running a command passes TERM, HUP, USR1, USR2 and WINCH on to the command, and INT and QUIT as TERM (a shell's background job ignores those two). The container must be running. After SIGKILL the tool waits (up to 5 seconds) for the container to stop; after other signals the status printed is the one right after the signal was sent.",
    args: &[names_arg("Containers to signal", Some(Status::Running))],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-kill web", "Kill a container's init with SIGKILL."),
        (
            "ctr-kill --signal HUP web",
            "Ask a container's init to reload.",
        ),
        (
            "ctr-list --status running | jq -c 'select(.name | test(\"^worker-\"))' | ctr-kill --signal TERM",
            "Send SIGTERM to the running worker-* containers.",
        ),
        (
            "ctr-kill --signal HUP web | from json | get ok",
            "Whether the signal was sent, in nushell.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Destroys,
};

crate::flags! {
    /// ctr-kill's flags.
    pub struct Args {
        signal: Option<Signal> = option(
            "signal",
            Some('s'),
            "SIGNAL",
            "The signal, by name (TERM, SIGHUP) or number (default: KILL)",
            Complete::Signal,
        ),
        jobs: Jobs = JOBS,
    }
}

/// Sends the signal to each running (or paused) target's init, after asking
/// on a terminal when there are several; after SIGKILL it waits for the
/// container to stop. The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let Signal(signal) = args.signal.unwrap_or(Signal(libc::SIGKILL));
    let targets = ctx.targets()?;
    ctx.confirm("kill", &targets)?;
    ctx.act(&Containers(ctx), "kill", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        let status = b.status(name, out)?;
        match status {
            Status::Running | Status::Paused => {}
            s => {
                return Err(Error::conflict(format!(
                    "the container is {}, not running",
                    s.as_str()
                ))
                .into());
            }
        }
        if ctx.dry_run() {
            // SIGKILL ends the container; another signal is for its init
            // to take as it will.
            let after = if signal == libc::SIGKILL {
                Status::Stopped
            } else {
                status
            };
            return Ok(Done::changed(after));
        }
        b.kill(name, signal, out)?;
        if signal == libc::SIGKILL {
            // SIGKILL always ends the init, and so the container: report
            // that, not a race.
            wait_stopped(c, out);
            return Ok(Done::changed(c.status_after_stop(out)?));
        }
        Ok(Done::changed(b.status(name, out)?))
    })
}

/// Waits up to 5 s for a killed container to be stopped (or gone).
fn wait_stopped(c: &super::Found, out: &crate::output::Output) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if c.status_after_stop(out)
            .map_or(true, |s| s == Status::Stopped)
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
