//! ctr-run: creates a container and runs it, in the foreground or detached.

use super::create::{NewContainer, create, spec};
use super::{CWD, CreateFlags, INTERACTIVE, TTY, USER, name_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Complete, Effect, Prints, Trailing, switch};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::target::Target;
use crate::guest::{BackendKind, GuestKind};
use crate::run::{Ctx, Resolver, engine_failure};

/// ctr-run's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-run",
    kind: GuestKind::Container,
    about: "create a container and run it",
    description: "Creates a container and runs it. Without --detach it runs COMMAND (or the image's /sbin/init) in the foreground with this terminal's stdin, stdout and stderr, and exits with the command's own exit code; with --rm the container is deleted afterwards, whatever happened. Its own failures use the container-engine codes: 125 ctr-run failed, 126 the command could not be run, 127 it was not found. On crun and runc, the root of a --rm container that changed nothing stays mounted for the next such run; oci.spare_roots = false in the configuration turns that off.\n\nWith --detach it starts the container in the background and prints one result record, as ctr-start does; with --rm as well, the container is deleted when it stops.",
    args: &[name_arg("The new container's name", Complete::Nothing)],
    trailing: Some(Trailing {
        name: "COMMAND",
        help: "The command to run instead of /sbin/init",
        bare: false,
    }),
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "ctr-run hello --image busybox --rm -- echo hello from a container",
            "Run one command in a throwaway container.",
        ),
        (
            "ctr-run worker --detach -- sh -c 'while :; do date; sleep 5; done'",
            "Start a background container; read its output with ctr-logs.",
        ),
        (
            "ctr-run probe --rm -- cat /etc/passwd | jq -R 'split(\":\") | {user: .[0], uid: .[2]}'",
            "Turn a file of a fresh container into JSON with jq.",
        ),
        (
            "ctr-run probe --rm -- ls / | lines",
            "A command's output as a nushell list.",
        ),
    ],
    prints: Prints::RawOrResult,
    effect: Effect::Reads,
};

crate::flags! {
    /// ctr-run's flags.
    pub struct Args {
        ..create: CreateFlags,
        rm: bool = switch("rm", None, "Delete the container when it ends"),
        cwd: Option<String> = CWD,
        user: Option<String> = USER,
        tty: bool = TTY,
        interactive: bool = INTERACTIVE,
        detach: bool = switch(
            "detach",
            Some('d'),
            "Start in the background and print a result record",
        ),
    }
}

/// Creates the container and runs its command in the foreground with this
/// process's stdio (deleting it afterwards with --rm): the command's exit
/// code, or the container-engine codes for a failure of ctr-run's own. With
/// --detach, creates and starts it and prints its result record instead.
/// Refused for backend proxmox.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    // The parser has checked that the required name is there.
    let name = &ctx.positionals[0];
    let kind = NewContainer(ctx).resolve(&Target::named(name))?;
    if kind == BackendKind::Proxmox {
        return Err(Error::usage(format!(
            "ctr-run does not run containers on backend proxmox ({name} goes there)"
        ))
        .with_hint(format!(
            "create it with ctr-create {name} --start, then use ctr-exec and ctr-logs"
        )));
    }
    if args.detach && args.tty {
        return Err(Error::usage(
            "-t gives a foreground run a terminal: --detach has none",
        ));
    }
    super::check_tty(args.tty)?;
    if args.detach {
        let (mut spec, image) = spec(ctx, name, &args.create, kind)?;
        // --cwd and --user win over the image's own (pulled images have them).
        spec.cwd = args.cwd.clone().or(spec.cwd.take());
        spec.user = args.user.clone().or(spec.user.take());
        spec.ephemeral = args.rm;
        return ctx.act(
            &NewContainer(ctx),
            "run",
            vec![Target::named(name)],
            Jobs(1),
            |kind| {
                let (_, status) = create(ctx, *kind, &spec, &image, true)?;
                Ok(Done::changed(status))
            },
        );
    }
    foreground(ctx, name, &args).map_err(engine_failure)
}

fn foreground(ctx: &Ctx, name: &str, args: &Args) -> Result<u8> {
    let kind = NewContainer(ctx).resolve(&Target::named(name))?;
    let (mut spec, image) = spec(ctx, name, &args.create, kind)?;
    spec.throwaway = args.rm;
    spec.cwd = args.cwd.clone().or(spec.cwd.take());
    spec.user = args.user.clone().or(spec.user.take());
    spec.terminal = args.tty;
    let (b, _) = create(ctx, kind, &spec, &image, false).map_err(|e| e.prefixed(name))?;
    let result = b
        .run_attached(name, &spec.command, &ctx.out)
        .map_err(|e| e.prefixed(name));
    // Killed: say so when it was the kernel's OOM killer, at its limit.
    if matches!(result, Ok(137)) && b.last_exit(name).and_then(|e| e.oom_killed) == Some(true) {
        let limit = spec
            .memory_bytes
            .map(|b| format!(" (memory limit {})", crate::guest::units::human_size(b)))
            .unwrap_or_default();
        eprintln!("ctr-run: {name}: killed by the OOM killer{limit}");
    }
    if args.rm
        && let Err(e) =
            crate::backend::lock_name(&ctx.cfg, name).and_then(|_lock| b.delete(name, &ctx.out))
    {
        return Err(Error::failed(format!(
            "{name}: could not remove the container: {}",
            e.message
        )));
    }
    // Stopped by a repeated Ctrl-C (backend::escalate): the exit code says
    // so, as a shell's for a command ended by SIGINT.
    if crate::os::signals::interrupts() >= 2 {
        return Err(
            Error::failed(format!("{name}: interrupted; the container was stopped")).with_exit(130),
        );
    }
    Ok(result?.clamp(0, 255) as u8)
}
