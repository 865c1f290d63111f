use super::{Containers, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, JOBS, Prints, switch};
use crate::error::{Error, Kind, Result};
use crate::guest::record::Done;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "ctr-delete",
    kind: GuestKind::Container,
    about: "delete containers",
    description: "Deletes each named container with its root filesystem, logs and everything guestkit kept for it. A running container is refused unless --force is given, which kills it first.",
    args: &[names_arg("Containers to delete", Some(Status::Stopped))],
    trailing: None,
    flags: Args::FLAGS,
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

crate::flags! {
    pub struct Args {
        force: bool = switch("force", Some('f'), "Kill a running container first"),
        missing_ok: bool = switch(
            "missing-ok",
            None,
            "Succeed, unchanged, when the container does not exist",
        ),
        jobs: Jobs = JOBS,
    }
}

/// Finds containers; with --missing-ok, one that does not exist is found
/// as nothing to delete.
struct Deletable<'a> {
    containers: Containers<'a>,
    missing_ok: bool,
}

impl crate::run::Resolver for Deletable<'_> {
    type Guest = Option<super::Found>;

    fn resolve(&self, t: &crate::guest::target::Target) -> Result<Self::Guest> {
        match self.containers.resolve(t) {
            Err(e) if e.kind == Kind::NotFound && self.missing_ok => Ok(None),
            other => other.map(Some),
        }
    }

    fn who(
        &self,
        t: &crate::guest::target::Target,
        found: Option<&Self::Guest>,
    ) -> crate::guest::record::GuestId {
        self.containers.who(t, found.and_then(Option::as_ref))
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    let r = Deletable {
        containers: Containers(ctx),
        missing_ok: args.missing_ok,
    };
    ctx.act(&r, "delete", targets, args.jobs, |found| {
        let Some(c) = found else {
            return Ok(Done::default());
        };
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        if b.status(name, out)? != Status::Stopped {
            if !args.force {
                return Err(Error::conflict("the container is running")
                    .with_hint("stop it first with ctr-stop, or use --force")
                    .into());
            }
            b.stop(name, 0, true, out)?;
        }
        b.delete(name, out)?;
        Ok(Done {
            changed: true,
            ..Done::default()
        })
    })
}
