//! ctr-exec: runs a command in a running container.

use super::{CWD, Containers, ENV, INTERACTIVE, TTY, USER, name_arg};
use crate::backend::ExecSpec;
use crate::cli::spec::{Command, Complete, Effect, Prints, Trailing};
use crate::error::{Error, Result};
use crate::guest::{GuestKind, Status};
use crate::run::{Ctx, engine_failure};

/// ctr-exec's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-exec",
    kind: GuestKind::Container,
    about: "run a command in a running container",
    description: "Runs COMMAND inside a running container with this terminal's stdin, stdout and stderr, and exits with the command's own exit code. The command starts with a clean environment (PATH, container=lxc and the container's own variables) plus --env.\n\nOn backend proxmox the command runs as pct exec VMID -- COMMAND on the container's node, over SSH (proxmox.ssh in the config; see guestkit.toml(5)), as root: --user is refused there.\n\nIts own failures use the container-engine codes: 125 when ctr-exec failed (no such container, not running), 126 when the command could not be run, 127 when it was not found.",
    args: &[name_arg(
        "The container",
        Complete::Guest(GuestKind::Container, Some(Status::Running)),
    )],
    trailing: Some(Trailing {
        name: "COMMAND",
        help: "The command and its arguments",
        bare: true,
    }),
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("ctr-exec web -- ps", "List the container's processes."),
        (
            "ctr-exec web --cwd /tmp --user nobody -- sh -c 'id; pwd'",
            "Run as another user in another directory.",
        ),
        (
            "echo 'print me' | ctr-exec web -- cat",
            "stdin reaches the command.",
        ),
        (
            "ctr-exec web -- cat /etc/app.json | jq .port",
            "Read a value from a JSON file inside the container.",
        ),
        (
            "ctr-exec web -- cat /etc/passwd | lines | split column \":\" user x uid",
            "A file inside the container as a nushell table.",
        ),
    ],
    prints: Prints::Raw,
    effect: Effect::Reads,
};

crate::flags! {
    /// ctr-exec's flags.
    pub struct Args {
        env: Vec<String> = ENV,
        cwd: Option<String> = CWD,
        user: Option<String> = USER,
        tty: bool = TTY,
        interactive: bool = INTERACTIVE,
    }
}

/// Runs the command in the running container with this process's stdio:
/// its exit code, or the container-engine codes (125, 126, 127) for a
/// failure of ctr-exec's own.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    exec(ctx, args).map_err(engine_failure)
}

fn exec(ctx: &Ctx, args: Args) -> Result<u8> {
    // The parser has checked that the required name is there.
    let name = &ctx.positionals[0];
    crate::guest::names::check(name)?;
    if ctx.trailing.is_empty() {
        return Err(
            Error::usage("no command given").with_hint(format!("ctr-exec {name} -- COMMAND..."))
        );
    }
    super::check_tty(args.tty)?;
    let spec = ExecSpec {
        tty: args.tty,
        command: ctx.trailing.clone(),
        env: args
            .env
            .iter()
            .map(|e| super::create::env_pair(e))
            .collect::<Result<_>>()?,
        cwd: args.cwd,
        user: args.user,
    };
    let c = Containers(ctx).one(name)?;
    let status = c
        .backend
        .status(name, &ctx.out)
        .map_err(|e| e.prefixed(name))?;
    if status != Status::Running {
        return Err(Error::conflict(format!(
            "{name}: the container is {}, not running",
            status.as_str()
        ))
        .with_hint(match status {
            Status::Paused => format!("it is frozen: thaw it with ctr-resume {name}"),
            _ => format!("start it first with ctr-start {name}"),
        }));
    }
    let code = c
        .backend
        .exec(name, &spec, &ctx.out)
        .map_err(|e| e.prefixed(name))?;
    Ok(code.clamp(0, 255) as u8)
}
