//! ctr-start: starts containers.

use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, Prints};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

/// ctr-start's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-start",
    kind: GuestKind::Container,
    about: "start containers",
    description: "Starts each named container and prints one result per container. A container that is already running is left alone and reported with \"changed\":false. A container that fails to start does not stop the others; the exit code reports it.",
    args: &[names_arg("Containers to start", Some(Status::Stopped))],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-start web db", "Start two containers."),
        (
            "ctr-list --status stopped | ctr-start --jobs 4",
            "Start every stopped container, four at a time.",
        ),
        (
            "ctr-start web db | jq -r 'select(.ok | not) | .name'",
            "Print the names that failed to start.",
        ),
        (
            "ctr-list | from json --objects | where status == stopped | get name | to text | ctr-start",
            "Start stopped containers from nushell.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Changes,
};

crate::flags! {
    /// ctr-start's flags.
    pub struct Args {
        jobs: Jobs = JOBS,
    }
}

/// Starts each stopped (or created) target; one already running is
/// unchanged, a paused one refused. The exit code says whether any failed,
/// and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    ctx.act(&Containers(ctx), "start", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        match b.status(name, out)? {
            Status::Running => return Ok(Done::unchanged(Status::Running)),
            Status::Stopped | Status::Created => {}
            Status::Paused => {
                return Err(Error::conflict("cannot start a container that is paused")
                    .with_hint(format!(
                        "it is frozen, not stopped: thaw it with ctr-resume {name}"
                    ))
                    .into());
            }
            other => {
                return Err(Error::conflict(format!(
                    "cannot start a container that is {}",
                    other.as_str()
                ))
                .into());
            }
        }
        if ctx.dry_run() {
            return Ok(Done::changed(Status::Running));
        }
        b.start(name, out)?;
        Ok(Done::changed(b.status(name, out)?))
    })
}
