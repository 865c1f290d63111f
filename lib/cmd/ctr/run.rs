use super::{CREATE_FLAGS, name_arg};
use crate::cli::spec::{Command, Complete, Flag, Prints, Trailing, switch};
use crate::error::{Error, Result};
use crate::run::{Ctx, Done, engine_failure};

pub const SPEC: Command = Command {
    name: "ctr-run",
    about: "create a container and run it",
    description: "Creates a container and runs it. Without --detach it runs COMMAND (or the image's /sbin/init) in the foreground with this terminal's stdin, stdout and stderr, and exits with the command's own exit code; with --rm the container is deleted afterwards, whatever happened. Its own failures use the container-engine codes: 125 ctr-run failed, 126 the command could not be run, 127 it was not found. On crun and runc, the root of a --rm container that changed nothing stays mounted for the next such run; oci.spare_roots = false in the configuration turns that off.\n\nWith --detach it starts the container in the background and prints one result record, as ctr-start does; with --rm as well, the container is deleted when it stops.",
    args: &[name_arg("The new container's name", Complete::Nothing)],
    trailing: Some(Trailing {
        name: "COMMAND",
        help: "The command to run instead of /sbin/init",
    }),
    flags: FLAGS,
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
    prints: Prints::Raw,
};

const FLAGS: &[Flag] = &[
    CREATE_FLAGS[0],
    CREATE_FLAGS[1],
    CREATE_FLAGS[2],
    CREATE_FLAGS[3],
    CREATE_FLAGS[4],
    CREATE_FLAGS[5],
    switch("rm", None, "Delete the container when it ends"),
    switch(
        "detach",
        Some('d'),
        "Start in the background and print a result record",
    ),
];

pub fn run(ctx: &Ctx) -> Result<u8> {
    // The parser has checked that the required name is there.
    let name = &ctx.m.positionals[0];
    if ctx.m.flag("detach") {
        let (mut spec, image) = super::create::spec(ctx, name)?;
        spec.ephemeral = ctx.m.flag("rm");
        let target = super::create::new_target(ctx, name);
        return ctx.act("run", vec![target], |_| {
            let (b, status) = super::create::create(ctx, &spec, &image, true)?;
            Ok(Done {
                backend: b.name(),
                changed: true,
                status: Some(status),
            })
        });
    }
    foreground(ctx, name).map_err(engine_failure)
}

fn foreground(ctx: &Ctx, name: &str) -> Result<u8> {
    let (mut spec, image) = super::create::spec(ctx, name)?;
    spec.throwaway = ctx.m.flag("rm");
    let (b, _) = super::create::create(ctx, &spec, &image, false).map_err(|e| e.prefixed(name))?;
    let result = b
        .run_attached(name, &spec.command, &ctx.out)
        .map_err(|e| e.prefixed(name));
    if ctx.m.flag("rm")
        && let Err(e) = b.delete(name, &ctx.out)
    {
        return Err(Error::failed(format!(
            "{name}: could not remove the container: {}",
            e.message
        )));
    }
    Ok(result?.clamp(0, 255) as u8)
}
