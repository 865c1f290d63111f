use super::names_arg;
use crate::cli::spec::{Command, Complete, Flag, JOBS, Prints, option};
use crate::error::{Error, Result};
use crate::guest::record::Status;
use crate::run::{Ctx, Done};

pub const SPEC: Command = Command {
    name: "ctr-kill",
    about: "send a signal to containers",
    description: "Sends a signal (SIGKILL unless --signal says otherwise) to each named container: to its init, which for a container running a command passes TERM, HUP, USR1, USR2 and WINCH on to the command, and INT and QUIT as TERM (a shell's background job ignores those two). The container must be running. After SIGKILL the tool waits (up to 5 seconds) for the container to stop; after other signals the status printed is the one right after the signal was sent.",
    args: &[names_arg("Containers to signal", Some("running"))],
    trailing: None,
    flags: FLAGS,
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
};

const FLAGS: &[Flag] = &[
    option(
        "signal",
        Some('s'),
        "SIGNAL",
        "The signal, by name (TERM, SIGHUP) or number (default: KILL)",
        Complete::Signal,
    ),
    JOBS,
];

pub fn run(ctx: &Ctx) -> Result<u8> {
    let signal = crate::guest::units::parse_signal(ctx.m.value("signal").unwrap_or("KILL"))?;
    let targets = ctx.targets()?;
    ctx.act("kill", targets, |t| {
        let b = ctx.locate(t)?;
        match b.status(&t.name, &ctx.out)? {
            Status::Running | Status::Paused => {}
            s => {
                return Err(Error::conflict(format!(
                    "the container is {}, not running",
                    s.as_str()
                )));
            }
        }
        b.kill(&t.name, signal, &ctx.out)?;
        if signal == libc::SIGKILL {
            // SIGKILL always ends the init, and so the container: report that, not a race.
            wait_stopped(b.as_ref(), &t.name, ctx);
        }
        Ok(Done {
            backend: b.name(),
            changed: true,
            status: Some(b.status(&t.name, &ctx.out)?),
        })
    })
}

fn wait_stopped(b: &dyn crate::backend::Backend, name: &str, ctx: &Ctx) {
    for _ in 0..100 {
        if b.status(name, &ctx.out)
            .map_or(true, |s| s == Status::Stopped)
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
