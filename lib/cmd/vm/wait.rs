//! vm-wait: waits until VMs are running or stopped, or their guest agent
//! answers or reports an address.

use super::{act, names_arg};
use crate::cli::args::FromValue;
use crate::cli::args::Jobs;
use crate::cli::spec::Flag;
use crate::cli::spec::{Command, Complete, Effect, JOBS, Prints, VM_BACKEND, choice, option};
use crate::error::{Error, Result};
use crate::guest::record::Done;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::pve::{agent, vm};
use crate::run::Ctx;
use std::time::{Duration, Instant};

/// vm-wait's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-wait",
    kind: GuestKind::Vm,
    about: "wait until virtual machines reach a state",
    description: "Waits until each VM is running or stopped, as its node reports it, or until its QEMU guest agent answers (--for agent) or reports an address other machines can reach (--for ip: not loopback, not link-local), polling with backoff; gives up after --timeout seconds with exit 7. A VM already there is reported at once with \"changed\":false. Useful after --no-wait, after HA-managed starts and stops, whose tasks end before the guest changes state, and after a start, until the guest is up: vm-state then shows its addresses. Waiting for the agent of a VM that has none enabled in its configuration fails at once (exit 5), naming the fix.",
    args: &[names_arg("VMs to wait for, by name or VMID", None)],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: true,
    examples: &[
        ("vm-wait --for running web", "Wait until web runs."),
        (
            "vm-clone debian-12-cloud web --sshkey ~/.ssh/id_ed25519.pub --ip dhcp --start && vm-wait web --for ip && ssh debian@$(vm-state web | jq -r '.ipv4[0]')",
            "A new machine from a cloud template, and a shell on it.",
        ),
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
    effect: Effect::Reads,
};

crate::flags! {
    /// vm-wait's flags.
    pub struct Args {
        wait_for: Option<WaitFor> = choice(
            "for",
            None,
            "STATE",
            "What to wait for (required)",
            &["running", "stopped", "agent", "ip"],
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

/// What vm-wait waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WaitFor {
    /// A status, as the VM's node reports it (running, stopped).
    Status(Status),
    /// The guest agent answers.
    Agent,
    /// The guest agent reports an address others can reach.
    Ip,
}

impl FromValue for WaitFor {
    fn from_value(v: &str, flag: &Flag) -> Result<WaitFor> {
        Ok(match v {
            "agent" => WaitFor::Agent,
            "ip" => WaitFor::Ip,
            v => WaitFor::Status(Status::from_value(v, flag)?),
        })
    }
}

/// Polls each target VM until it is in the state --for asks for; one still
/// not there at the deadline (--timeout, shared by all) is a timeout
/// (exit 7). The exit code says whether any failed, and how.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let Some(want) = args.wait_for else {
        return Err(Error::usage("--for running|stopped|agent|ip is required"));
    };
    let timeout = args.timeout.unwrap_or(300);
    let deadline = Instant::now() + Duration::from_secs(timeout);
    act(ctx, "wait", args.jobs, false, |c, v| match want {
        WaitFor::Status(s) => Ok(Done {
            changed: vm::wait_for(c, v, s, deadline)?,
            ..Done::unchanged(s)
        }),
        WaitFor::Agent | WaitFor::Ip => Ok(Done {
            changed: agent::wait(c, v, want == WaitFor::Ip, deadline)?,
            ..Done::unchanged(Status::Running)
        }),
    })
}
