//! ctr-update: changes the memory, CPU and process limits of containers.

use super::{Containers, names_arg};
use crate::backend::Limits;
use crate::cli::args::{Jobs, Size};
use crate::cli::spec::{Command, Complete, Effect, JOBS, Prints, option};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::units::human_size;
use crate::guest::{GuestKind, Status};
use crate::run::Ctx;

/// ctr-update's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-update",
    kind: GuestKind::Container,
    about: "change the limits of containers",
    description: "Changes each container's memory, CPU and process limits: a running container's live cgroup (lxc-cgroup, the runtime's update, Proxmox VE's config) and its stored configuration both, so that the change survives a restart; a stopped container's configuration. Only what differs is changed; when nothing does, the result says \"changed\":false. A limit below what a running container uses now is refused (exit 4), naming its use, rather than set to have the kernel kill it. Proxmox VE sets no process limit: --pids is refused there.",
    args: &[names_arg("Containers to change", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("ctr-update web --memory 1G --cpus 2", "More room for web."),
        (
            "ctr-list --name 'job-*' | ctr-update --pids 256 --jobs 4",
            "At most 256 processes in each job.",
        ),
        (
            "ctr-update web --memory 512M | jq .changed",
            "Whether anything changed.",
        ),
        (
            "ctr-update web --cpus 0.5 | from json | get status",
            "Its status afterwards, in nushell.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Changes,
};

crate::flags! {
    /// ctr-update's flags.
    pub struct Args {
        memory: Option<Size> = super::MEMORY,
        cpus: Option<f64> = super::CPUS,
        pids: Option<u64> = option(
            "pids",
            None,
            "N",
            "Most processes (and threads) it may have",
            Complete::Nothing,
        ),
        jobs: Jobs = JOBS,
    }
}

/// Sets the limits given on each target, stored and, on a running one, live;
/// only those that differ are changed, and one below what a running
/// container uses now is refused. The exit code says whether any failed,
/// and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let want = Limits {
        memory_bytes: args.memory.map(|s| s.0),
        cpus: args.cpus,
        pids: args.pids,
    };
    if want == Limits::default() {
        return Err(Error::usage(
            "nothing to change: give --memory, --cpus or --pids",
        ));
    }
    if let Some(b) = want.memory_bytes {
        super::create::check_memory(b)?;
    }
    if let Some(c) = want.cpus.filter(|c| !(0.01..=1024.0).contains(c)) {
        return Err(Error::usage(format!(
            "invalid value {c} for --cpus: expected a number from 0.01 to 1024"
        )));
    }
    if want.pids == Some(0) {
        return Err(Error::usage("--pids must be at least 1"));
    }
    let targets = ctx.targets()?;
    ctx.act(&Containers(ctx), "update", targets, args.jobs, |c| {
        let (b, name, out) = (&c.backend, &c.name, &ctx.out);
        let now = b.limits(name, out)?;
        // Only what differs: CPUs as the kernel keeps them, to 1/100000.
        let change = Limits {
            memory_bytes: want.memory_bytes.filter(|m| now.memory_bytes != Some(*m)),
            cpus: want
                .cpus
                .filter(|c| now.cpus.is_none_or(|n| (n - c).abs() > 1e-5)),
            pids: want.pids.filter(|p| now.pids != Some(*p)),
        };
        let status = b.status(name, out)?;
        if change == Limits::default() {
            return Ok(Done::unchanged(status));
        }
        if status != Status::Stopped {
            let pid = b.state(name, out)?.container.pid;
            let used = b.usage(name, pid, out)?;
            if let (Some(limit), Some(uses)) = (change.memory_bytes, used.memory_bytes)
                && uses > limit
            {
                return Err(Error::conflict(format!(
                    "{name} uses {} of memory now: a limit of {} would have the kernel reclaim or kill",
                    human_size(uses),
                    human_size(limit)
                ))
                .with_hint(format!("give at least {}, or stop it first", human_size(uses)))
                .into());
            }
            if let (Some(limit), Some(runs)) = (change.pids, used.pids)
                && runs > limit
            {
                return Err(Error::conflict(format!(
                    "{name} runs {runs} processes now: a limit of {limit} is below that"
                ))
                .into());
            }
        }
        if !ctx.dry_run() {
            b.update(name, &change, out)?;
        }
        Ok(Done::changed(status))
    })
}
