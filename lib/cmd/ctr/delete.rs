use super::names_arg;
use crate::cli::spec::{Command, Flag, JOBS, Prints, switch};
use crate::error::{Error, Kind, Result};
use crate::guest::record::Status;
use crate::run::{Ctx, Done};

pub const SPEC: Command = Command {
    name: "ctr-delete",
    about: "delete containers",
    description: "Deletes each named container with its root filesystem, logs and everything guestkit kept for it. A running container is refused unless --force is given, which kills it first.",
    args: &[names_arg("Containers to delete", Some("stopped"))],
    trailing: None,
    flags: FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-delete web", "Delete a stopped container."),
        (
            "ctr-delete --force --missing-ok tmp1 tmp2",
            "Delete whether running or not, and succeed if already gone.",
        ),
        (
            "ctr-list --status stopped | ctr-delete",
            "Delete every stopped container.",
        ),
        (
            "ctr-delete tmp1 tmp2 | jq -c 'select(.changed)'",
            "Show only the containers that were really deleted.",
        ),
        (
            "ctr-list | from json --objects | where status == stopped | get name | to text | ctr-delete",
            "The same from nushell.",
        ),
    ],
    prints: Prints::Results,
};

const FLAGS: &[Flag] = &[
    switch("force", Some('f'), "Kill a running container first"),
    switch(
        "missing-ok",
        None,
        "Succeed, unchanged, when the container does not exist",
    ),
    JOBS,
];

pub fn run(ctx: &Ctx) -> Result<u8> {
    let (force, missing_ok) = (ctx.m.flag("force"), ctx.m.flag("missing-ok"));
    let targets = ctx.targets()?;
    ctx.act("delete", targets, |t| {
        let b = match ctx.locate(t) {
            Err(e) if e.kind == Kind::NotFound && missing_ok => {
                let named = t.backend.as_deref().or(ctx.backend_flag()).unwrap_or("lxc");
                let backend = crate::backend::NAMES
                    .iter()
                    .find(|n| **n == named)
                    .copied()
                    .unwrap_or("lxc");
                return Ok(Done {
                    backend,
                    changed: false,
                    status: None,
                });
            }
            other => other?,
        };
        if b.status(&t.name, &ctx.out)? != Status::Stopped {
            if !force {
                return Err(Error::conflict("the container is running")
                    .with_hint("stop it first with ctr-stop, or use --force"));
            }
            b.stop(&t.name, 0, true, &ctx.out)?;
        }
        b.delete(&t.name, &ctx.out)?;
        Ok(Done {
            backend: b.name(),
            changed: true,
            status: None,
        })
    })
}
