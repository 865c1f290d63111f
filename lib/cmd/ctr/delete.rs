//! ctr-delete: deletes containers with everything guestkit kept for them.

use super::{Containers, names_arg};
use crate::backend;
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Effect, JOBS, Prints, switch};
use crate::error::{Error, Kind, Result};
use crate::guest::record::{Done, GuestId};
use crate::guest::target::Target;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::run::Ctx;

/// ctr-delete's spec: its flags, help, man page and completions.
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
    effect: Effect::Destroys,
};

crate::flags! {
    /// ctr-delete's flags.
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

/// What a target is to ctr-delete.
enum Deletable {
    Container(super::Found),
    /// What a killed create left in this backend: removed when resolved,
    /// under the name's lock.
    Leftover(BackendKind),
    /// Nothing, with --missing-ok.
    Missing,
}

/// Finds containers; one that does not exist may be a killed create's
/// leftover, removed, or with --missing-ok nothing to delete.
struct Deletables<'a> {
    containers: Containers<'a>,
    missing_ok: bool,
}

impl crate::run::Resolver for Deletables<'_> {
    type Guest = Deletable;

    fn resolve(&self, t: &Target) -> Result<Deletable> {
        match self.containers.resolve(t) {
            // A dry run leaves a killed create's leftovers for a real run.
            Err(e) if e.kind == Kind::NotFound && self.containers.0.dry_run() => {
                if self.missing_ok {
                    Ok(Deletable::Missing)
                } else {
                    Err(e)
                }
            }
            Err(e) if e.kind == Kind::NotFound => {
                let ctx = self.containers.0;
                let name = t.label();
                let lock = backend::lock_name(&ctx.cfg, &name)?;
                match backend::clear_leftovers(&ctx.cfg, &name, &lock, &ctx.out)? {
                    Some(kind) => Ok(Deletable::Leftover(kind)),
                    None if self.missing_ok => Ok(Deletable::Missing),
                    None => Err(e),
                }
            }
            other => other.map(Deletable::Container),
        }
    }

    fn who(&self, t: &Target, found: Option<&Deletable>) -> GuestId {
        match found {
            Some(Deletable::Container(c)) => self.containers.who(t, Some(c)),
            Some(Deletable::Leftover(kind)) => GuestId::container(&t.label(), Some(*kind)),
            _ => self.containers.who(t, None),
        }
    }
}

/// Deletes each target (killing a running one first with --force, refusing
/// it otherwise), after asking on a terminal when there are several; a
/// killed create's leftovers of the name are cleared too. The exit code says
/// whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let targets = ctx.targets()?;
    ctx.confirm("delete", &targets)?;
    let r = Deletables {
        containers: Containers(ctx),
        missing_ok: args.missing_ok,
    };
    let deleted = Done {
        changed: true,
        ..Done::default()
    };
    ctx.act(&r, "delete", targets, args.jobs, |found| {
        let c = match found {
            Deletable::Container(c) => c,
            Deletable::Leftover(_) => return Ok(deleted.clone()),
            Deletable::Missing => return Ok(Done::default()),
        };
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        if b.status(name, out)? != Status::Stopped {
            if !args.force {
                return Err(Error::conflict("the container is running")
                    .with_hint("stop it first with ctr-stop, or use --force")
                    .into());
            }
            if ctx.dry_run() {
                return Ok(deleted.clone());
            }
            b.stop(name, 0, true, out)?;
        }
        if !ctx.dry_run() {
            // As a create's: no other create or delete of the name, nor a
            // sweep of networks (backend::net), meets this one half-way.
            let _lock = backend::lock_name(&ctx.cfg, name)?;
            b.delete(name, out)?;
        }
        Ok(deleted.clone())
    })
}
