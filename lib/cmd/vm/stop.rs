//! vm-stop: shuts VMs down, or stops them hard.

use super::{act, names_arg};
use crate::cli::args::Jobs;
use crate::cli::spec::{
    Command, Complete, Effect, JOBS, NO_WAIT, Prints, VM_BACKEND, option, switch,
};
use crate::error::{Error, Result};
use crate::guest::{BackendKind, GuestKind, Status};
use crate::pve::vm;
use crate::run::Ctx;

/// vm-stop's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-stop",
    kind: GuestKind::Vm,
    about: "stop virtual machines",
    description: "Shuts each VM down gracefully (ACPI or the guest agent) and waits up to --timeout seconds for it to power off. A guest that does not shut down in time is left running and reported as timed out (exit 7), unless --force, which then stops it hard. --hard stops it at once, like pulling the plug, and ends a shutdown that is still waiting for the guest. A VM that is already stopped is reported with \"changed\":false.",
    args: &[names_arg(
        "VMs to stop, by name or VMID",
        Some(Status::Running),
    )],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-stop web", "Shut web down, waiting up to a minute."),
        (
            "vm-stop --timeout 120 --force db",
            "Give db two minutes, then stop it hard.",
        ),
        (
            "vm-list --node pve2 | jq -c 'select(.tags | index(\"ci\"))' | vm-stop --timeout 60",
            "Shut down the ci VMs of node pve2.",
        ),
        (
            "0 20 * * * vm-list --tag dev --status running | vm-stop -q --jobs 5",
            "A cron job that stops dev VMs every evening.",
        ),
        (
            "vm-list | from json --objects | where status == running | get vmid | to text | vm-stop --hard",
            "Stop every running VM hard, from nushell.",
        ),
    ],
    prints: Prints::VmResults,
    effect: Effect::Destroys,
};

crate::flags! {
    /// vm-stop's flags.
    pub struct Args {
        timeout: Option<u64> = option(
            "timeout",
            Some('t'),
            "SECONDS",
            "How long the guest gets to shut down (default: 60)",
            Complete::Nothing,
        ),
        force: bool = switch(
            "force",
            Some('f'),
            "Stop the VM hard when the shutdown times out",
        ),
        hard: bool = switch("hard", None, "Stop at once, without asking the guest"),
        jobs: Jobs = JOBS,
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// Shuts each target VM down through its guest (stopped hard at once with
/// --hard, or after the timeout with --force; either asks first on a
/// terminal when there are several), and follows each task unless
/// --no-wait. The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    if args.hard && args.force {
        return Err(Error::usage(
            "--hard already stops at once; --force adds nothing to it",
        ));
    }
    let how = vm::StopHow {
        timeout: args.timeout.unwrap_or(60),
        force: args.force,
        hard: args.hard,
    };
    act(ctx, "stop", args.jobs, args.force || args.hard, |c, v| {
        vm::stop(c, v, &how, args.no_wait)
    })
}
