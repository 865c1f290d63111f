use super::names_arg;
use crate::cli::spec::{Command, JOBS, Prints};
use crate::error::{Error, Result};
use crate::guest::record::Status;
use crate::run::{Ctx, Done};

pub const SPEC: Command = Command {
    name: "ctr-start",
    about: "start containers",
    description: "Starts each named container and prints one result per container. A container that is already running is left alone and reported with \"changed\":false. A container that fails to start does not stop the others; the exit code reports it.",
    args: &[names_arg("Containers to start", Some("stopped"))],
    trailing: None,
    flags: &[JOBS],
    stdin_targets: true,
    examples: &[
        ("ctr-start web db", "Start two containers."),
        (
            "ctr-list --status stopped | ctr-start --jobs 4",
            "Start every stopped container, four at a time.",
        ),
        (
            "ctr-start web db | jq -r 'select(.ok | not) | .name'",
            "Print the names that failed to start.",
        ),
        (
            "ctr-list | from json --objects | where status == stopped | get name | to text | ctr-start",
            "Start stopped containers from nushell.",
        ),
    ],
    prints: Prints::Results,
};

pub fn run(ctx: &Ctx) -> Result<u8> {
    let targets = ctx.targets()?;
    ctx.act("start", targets, |t| {
        let b = ctx.locate(t)?;
        let (name, out) = (&t.name, &ctx.out);
        match b.status(name, out)? {
            Status::Running => {
                return Ok(Done {
                    backend: b.name(),
                    changed: false,
                    status: Some(Status::Running),
                });
            }
            Status::Stopped | Status::Created => {}
            other => {
                return Err(Error::conflict(format!(
                    "cannot start a container that is {}",
                    other.as_str()
                )));
            }
        }
        b.start(name, out)?;
        Ok(Done {
            backend: b.name(),
            changed: true,
            status: Some(b.status(name, out)?),
        })
    })
}
