use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, JOBS, Prints};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "ctr-resume",
    kind: GuestKind::Container,
    about: "thaw paused containers",
    description: "Thaws each paused container (frozen by ctr-pause, or by lxc-freeze or the runtime), so that its processes run on where they stopped, and prints one result per container. One already running is reported with \"changed\":false; a stopped one cannot be resumed (exit 4): start it with ctr-start.",
    args: &[names_arg("Containers to thaw", Some(Status::Paused))],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-resume build", "Thaw build."),
        (
            "ctr-list --status paused | ctr-resume --jobs 4",
            "Thaw every paused container.",
        ),
        (
            "ctr-resume build | jq -e .ok",
            "Fail a script unless it worked.",
        ),
        (
            "ctr-list | from json --objects | where status == paused | get name | to text | ctr-resume",
            "Thaw paused containers from nushell.",
        ),
    ],
    prints: Prints::Results,
};

crate::flags! {
    pub struct Args {
        jobs: Jobs = JOBS,
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    ctx.act(&Containers(ctx), "resume", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        match b.status(name, out)? {
            Status::Running => return Ok(Done::unchanged(Status::Running)),
            Status::Paused => {}
            other => {
                return Err(Error::conflict(format!(
                    "cannot resume a container that is {}",
                    other.as_str()
                ))
                .with_hint(format!(
                    "only a paused one can be resumed; start it with ctr-start {name}"
                ))
                .into());
            }
        }
        b.resume(name, out)?;
        Ok(Done::changed(b.status(name, out)?))
    })
}
