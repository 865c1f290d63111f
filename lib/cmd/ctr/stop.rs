//! ctr-stop: stops containers; and the stop flags ctr-restart shares.

use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Complete, Effect, Flag, JOBS, Prints, option, switch};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

/// ctr-stop's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-stop",
    kind: GuestKind::Container,
    about: "stop containers",
    description: "Stops each named container: asks its init to shut down, waits up to --timeout seconds, then kills it. With --force it kills at once. A container that is already stopped is reported with \"changed\":false.",
    args: &[names_arg("Containers to stop", Some(Status::Running))],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        (
            "ctr-stop web",
            "Stop one container, waiting up to 10 seconds.",
        ),
        (
            "ctr-list --status running | jq -c 'select(.name | startswith(\"ci-\"))' | ctr-stop --timeout 30",
            "Stop the running ci-* containers.",
        ),
        (
            "ctr-stop --force $(ctr-list -o name)",
            "Kill every container at once.",
        ),
        (
            "ctr-list | from json --objects | where backend == lxc | get name | to text | ctr-stop",
            "Stop every LXC container from nushell.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Destroys,
};

/// How long a stop waits (ctr-stop, ctr-restart).
pub const TIMEOUT: Flag = option(
    "timeout",
    Some('t'),
    "SECONDS",
    "How long to wait for a clean shutdown before killing (default: 10)",
    Complete::Nothing,
);

/// A stop that kills at once (ctr-stop, ctr-restart).
pub const FORCE: Flag = switch(
    "force",
    Some('f'),
    "Kill at once, without asking for a clean shutdown",
);

/// The seconds a stop waits: --timeout, 10 by default; with --force
/// nothing is waited for, so the two together are a usage error.
pub fn timeout(timeout: Option<u64>, force: bool) -> Result<u64> {
    if force && timeout.is_some() {
        return Err(Error::usage(
            "--force stops at once: --timeout has nothing to wait for",
        ));
    }
    Ok(timeout.unwrap_or(10))
}

crate::flags! {
    /// ctr-stop's flags.
    pub struct Args {
        timeout: Option<u64> = TIMEOUT,
        force: bool = FORCE,
        jobs: Jobs = JOBS,
    }
}

/// Stops each target (a clean shutdown, killed after the timeout; with
/// --force killed at once, after asking on a terminal when there are
/// several); one already stopped is unchanged. The exit code says whether
/// any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let timeout = timeout(args.timeout, args.force)?;
    let targets = ctx.targets()?;
    if args.force {
        ctx.confirm("kill", &targets)?;
    }
    ctx.act(&Containers(ctx), "stop", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        if b.status(name, out)? == Status::Stopped {
            return Ok(Done::unchanged(Status::Stopped));
        }
        if ctx.dry_run() {
            return Ok(Done::changed(Status::Stopped));
        }
        out.progress(Some(&format!("stopping {name} (up to {timeout} s)")));
        let stopped = b.stop(name, timeout, args.force, out);
        out.progress(None);
        stopped?;
        Ok(Done::changed(c.status_after_stop(out)?))
    })
}
