//! ctr-pause: freezes running containers; and the freezing and thawing that
//! ctr-resume shares.

use super::{Containers, names_arg};
use crate::backend::Backend;
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, Prints};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::output::Output;
use crate::run::Ctx;

/// ctr-pause's spec: its flags, help, man page and completions.
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
    effect: Effect::Changes,
};

crate::flags! {
    /// ctr-pause's flags.
    pub struct Args {
        jobs: Jobs = JOBS,
    }
}

/// Freezes each running target; one already paused is unchanged, a stopped
/// one refused. The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    freezer(
        ctx,
        args.jobs,
        Freezer {
            action: "pause",
            done: "paused",
            from: Status::Running,
            to: Status::Paused,
            op: |b, name, out| b.pause(name, out),
        },
    )
}

/// What ctr-pause or ctr-resume does: the status it acts on, the one it
/// makes, and the backend's operation.
pub struct Freezer {
    /// The action, as results and messages name it ("pause").
    pub action: &'static str,
    /// The action's past participle, for the hint.
    pub done: &'static str,
    /// The status it acts on.
    pub from: Status,
    /// The status it makes.
    pub to: Status,
    /// The backend's operation.
    pub op: fn(&dyn Backend, &str, &Output) -> Result<()>,
}

/// Freezes or thaws each target: one already there is unchanged, one in
/// any other status (stopped) is refused with exit 4.
pub fn freezer(ctx: &Ctx, jobs: Jobs, f: Freezer) -> Result<u8> {
    let targets = ctx.targets()?;
    ctx.act(&Containers(ctx), f.action, targets, jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        match b.status(name, out)? {
            s if s == f.to => return Ok(Done::unchanged(f.to)),
            s if s == f.from => {}
            other => {
                return Err(Error::conflict(format!(
                    "cannot {} a container that is {}",
                    f.action,
                    other.as_str()
                ))
                .with_hint(format!(
                    "only a {} one can be {}; start it with ctr-start {name}",
                    f.from.as_str(),
                    f.done
                ))
                .into());
            }
        }
        if ctx.dry_run() {
            return Ok(Done::changed(f.to));
        }
        (f.op)(b.as_ref(), name, out)?;
        // The runtime can return before the kernel's freezer is done
        // (cgroup v1's FREEZING): its state says running a moment longer.
        // The result waits, a few seconds at most, for the status made.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut now = b.status(name, out)?;
        while now != f.to && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            now = b.status(name, out)?;
        }
        Ok(Done::changed(now))
    })
}
