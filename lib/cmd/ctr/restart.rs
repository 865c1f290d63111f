//! ctr-restart: stops containers and starts them again.

use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, Prints};
use crate::error::Result;
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

/// ctr-restart's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-restart",
    kind: GuestKind::Container,
    about: "restart containers",
    description: "Stops each container as ctr-stop does (a clean shutdown, killed after --timeout seconds; at once with --force), then starts it, and prints one result per container. A stopped container is just started, as systemctl restart does; a paused one is stopped and started too.",
    args: &[names_arg("Containers to restart", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-restart web", "Restart web."),
        (
            "ctr-list --status running --name 'web-*' | ctr-restart --jobs 2 --timeout 30",
            "Restart the web containers, two at a time.",
        ),
        ("ctr-restart web | jq .status", "Its status afterwards."),
        (
            "ctr-restart web | from json | get status",
            "The same in nushell.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Changes,
};

crate::flags! {
    /// ctr-restart's flags.
    pub struct Args {
        timeout: Option<u64> = super::stop::TIMEOUT,
        force: bool = super::stop::FORCE,
        jobs: Jobs = JOBS,
    }
}

/// Stops each target that is not stopped (as ctr-stop does), then starts it.
/// The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let timeout = super::stop::timeout(args.timeout, args.force)?;
    let targets = ctx.targets()?;
    ctx.act(&Containers(ctx), "restart", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        let status = b.status(name, out)?;
        if ctx.dry_run() {
            return Ok(Done::changed(Status::Running));
        }
        if status != Status::Stopped {
            out.progress(Some(&format!("stopping {name} (up to {timeout} s)")));
            let stopped = b.stop(name, timeout, args.force, out);
            out.progress(None);
            stopped?;
        }
        b.start(name, out)?;
        Ok(Done::changed(b.status(name, out)?))
    })
}
