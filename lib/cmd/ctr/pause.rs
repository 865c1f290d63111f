use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, JOBS, Prints};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "ctr-pause",
    kind: GuestKind::Container,
    about: "freeze running containers",
    description: "Freezes every process of each running container (the cgroup freezer: lxc-freeze, the runtime's pause, Proxmox VE's suspend), and prints one result per container; ctr-resume thaws them. A paused container keeps its memory and takes no CPU. One already paused is reported with \"changed\":false; a stopped one cannot be paused (exit 4).",
    args: &[names_arg("Containers to freeze", Some(Status::Running))],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-pause build", "Freeze build."),
        (
            "ctr-list --status running --name 'batch-*' | ctr-pause",
            "Freeze every batch container.",
        ),
        (
            "ctr-pause build | jq .status",
            "Its status afterwards, with jq.",
        ),
        (
            "ctr-pause build | from json | get status",
            "The same in nushell.",
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
    ctx.act(&Containers(ctx), "pause", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        match b.status(name, out)? {
            Status::Paused => return Ok(Done::unchanged(Status::Paused)),
            Status::Running => {}
            other => {
                return Err(Error::conflict(format!(
                    "cannot pause a container that is {}",
                    other.as_str()
                ))
                .with_hint(format!(
                    "only a running one can be paused; start it with ctr-start {name}"
                ))
                .into());
            }
        }
        b.pause(name, out)?;
        Ok(Done::changed(b.status(name, out)?))
    })
}
