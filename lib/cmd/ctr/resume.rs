//! ctr-resume: thaws paused containers.

use super::names_arg;
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, Prints};
use crate::error::Result;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

/// ctr-resume's spec: its flags, help, man page and completions.
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
    effect: Effect::Changes,
};

crate::flags! {
    /// ctr-resume's flags.
    pub struct Args {
        jobs: Jobs = JOBS,
    }
}

/// Thaws each paused target; one already running is unchanged, a stopped one
/// refused. The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    super::pause::freezer(
        ctx,
        args.jobs,
        super::pause::Freezer {
            action: "resume",
            done: "resumed",
            from: Status::Paused,
            to: Status::Running,
            op: |b, name, out| b.resume(name, out),
        },
    )
}
