use super::names_arg;
use crate::cli::spec::{Command, Complete, Flag, JOBS, Prints, option, switch};
use crate::error::Result;
use crate::guest::record::Status;
use crate::run::{Ctx, Done};

pub const SPEC: Command = Command {
    name: "ctr-stop",
    about: "stop containers",
    description: "Stops each named container: asks its init to shut down, waits up to --timeout seconds, then kills it. With --force it kills at once. A container that is already stopped is reported with \"changed\":false.",
    args: &[names_arg("Containers to stop", Some("running"))],
    trailing: None,
    flags: FLAGS,
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
};

const FLAGS: &[Flag] = &[
    option(
        "timeout",
        Some('t'),
        "SECONDS",
        "How long to wait for a clean shutdown before killing (default: 10)",
        Complete::Nothing,
    ),
    switch(
        "force",
        Some('f'),
        "Kill at once, without asking for a clean shutdown",
    ),
    JOBS,
];

pub fn run(ctx: &Ctx) -> Result<u8> {
    let timeout = ctx.m.number::<u64>("timeout")?.unwrap_or(10);
    let force = ctx.m.flag("force");
    let targets = ctx.targets()?;
    ctx.act("stop", targets, |t| {
        let b = ctx.locate(t)?;
        if b.status(&t.name, &ctx.out)? == Status::Stopped {
            return Ok(Done {
                backend: b.name(),
                changed: false,
                status: Some(Status::Stopped),
            });
        }
        ctx.out
            .progress(Some(&format!("stopping {} (up to {timeout} s)", t.name)));
        let stopped = b.stop(&t.name, timeout, force, &ctx.out);
        ctx.out.progress(None);
        stopped?;
        Ok(Done {
            backend: b.name(),
            changed: true,
            status: Some(b.status(&t.name, &ctx.out)?),
        })
    })
}
