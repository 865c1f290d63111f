use super::{act, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{Command, Complete, JOBS, Prints, VM_BACKEND, choice, option};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::pve::vm;
use crate::run::Ctx;
use std::time::{Duration, Instant};

pub const SPEC: Command = Command {
    name: "vm-wait",
    kind: GuestKind::Vm,
    about: "wait until virtual machines reach a state",
    description: "Waits until each VM is running or stopped, as its node reports it, polling with backoff; gives up after --timeout seconds with exit 7. A VM already in that state is reported at once with \"changed\":false. Useful after --no-wait, and after HA-managed starts and stops, whose tasks end before the guest changes state.",
    args: &[names_arg("VMs to wait for, by name or VMID", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-wait --for running web", "Wait until web runs."),
        (
            "vm-start --no-wait a b c | vm-wait --for running --jobs 3",
            "Start three VMs, then wait for them all.",
        ),
        (
            "vm-wait --for stopped --timeout 30 db || echo 'db is still up'",
            "Act on a timeout.",
        ),
        (
            "vm-wait --for running web | jq .status",
            "The state reached, with jq.",
        ),
        (
            "vm-list | from json --objects | where tags has ci | get vmid | to text | vm-wait --for stopped",
            "Wait for the ci VMs from nushell.",
        ),
    ],
    prints: Prints::VmResults,
};

crate::flags! {
    pub struct Args {
        wait_for: Option<Status> = choice(
            "for",
            None,
            "STATUS",
            "The state to wait for (required)",
            &[Status::Running.as_str(), Status::Stopped.as_str()],
        ),
        timeout: Option<u64> = option(
            "timeout",
            Some('t'),
            "SECONDS",
            "Give up after this long (default: 300)",
            Complete::Nothing,
        ),
        jobs: Jobs = JOBS,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let Some(want) = args.wait_for else {
        return Err(Error::usage("--for running|stopped is required"));
    };
    let timeout = args.timeout.unwrap_or(300);
    let deadline = Instant::now() + Duration::from_secs(timeout);
    act(ctx, "wait", args.jobs, |c, v| {
        Ok(Done {
            changed: vm::wait_for(c, v, want, deadline)?,
            ..Done::unchanged(want)
        })
    })
}
