use super::names_arg;
use crate::cli::spec::{Command, Complete, JOBS, Prints, VM_BACKEND, choice, option};
use crate::cmd::vm as tool;
use crate::error::{Error, Result};
use crate::guest::record::Status;
use crate::pve::vm;
use crate::run::Ctx;
use std::time::{Duration, Instant};

pub const SPEC: Command = Command {
    name: "vm-wait",
    about: "wait until virtual machines reach a state",
    description: "Waits until each VM is running or stopped, as its node reports it, polling with backoff; gives up after --timeout seconds with exit 7. A VM already in that state is reported at once with \"changed\":false. Useful after --no-wait, and after HA-managed starts and stops, whose tasks end before the guest changes state.",
    args: &[names_arg("VMs to wait for, by name or VMID", None)],
    trailing: None,
    flags: &[
        choice(
            "for",
            None,
            "STATUS",
            "The state to wait for (required)",
            &["running", "stopped"],
        ),
        option(
            "timeout",
            Some('t'),
            "SECONDS",
            "Give up after this long (default: 300)",
            Complete::Nothing,
        ),
        JOBS,
        VM_BACKEND,
    ],
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

pub fn run(ctx: &Ctx) -> Result<u8> {
    let want = match ctx.m.value("for") {
        Some("running") => Status::Running,
        Some("stopped") => Status::Stopped,
        _ => return Err(Error::usage("--for running|stopped is required")),
    };
    let timeout = ctx.m.number::<u64>("timeout")?.unwrap_or(300);
    let targets = tool::targets(ctx)?;
    let c = tool::connect(ctx)?;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    tool::act(ctx, &c, "wait", targets, |v| {
        Ok(vm::Done {
            changed: vm::wait_for(&c, v, want, deadline)?,
            status: Some(want),
            upid: None,
        })
    })
}
