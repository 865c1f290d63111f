use super::names_arg;
use crate::cli::spec::{Command, Complete, JOBS, NO_WAIT, Prints, VM_BACKEND, option, switch};
use crate::cmd::vm as tool;
use crate::error::{Error, Result};
use crate::pve::vm;
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "vm-stop",
    about: "stop virtual machines",
    description: "Shuts each VM down gracefully (ACPI or the guest agent) and waits up to --timeout seconds for it to power off. A guest that does not shut down in time is left running and reported as timed out (exit 7), unless --force, which then stops it hard. --hard stops it at once, like pulling the plug, and ends a shutdown that is still waiting for the guest. A VM that is already stopped is reported with \"changed\":false.",
    args: &[names_arg("VMs to stop, by name or VMID", Some("running"))],
    trailing: None,
    flags: &[
        option(
            "timeout",
            Some('t'),
            "SECONDS",
            "How long the guest gets to shut down (default: 60)",
            Complete::Nothing,
        ),
        switch(
            "force",
            Some('f'),
            "Stop the VM hard when the shutdown times out",
        ),
        switch("hard", None, "Stop at once, without asking the guest"),
        JOBS,
        NO_WAIT,
        VM_BACKEND,
    ],
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
};

pub fn run(ctx: &Ctx) -> Result<u8> {
    let timeout = ctx.m.number::<u64>("timeout")?.unwrap_or(60);
    if ctx.m.flag("hard") && ctx.m.flag("force") {
        return Err(Error::usage(
            "--hard already stops at once; --force adds nothing to it",
        ));
    }
    let how = vm::StopHow {
        timeout,
        force: ctx.m.flag("force"),
        hard: ctx.m.flag("hard"),
    };
    let targets = tool::targets(ctx)?;
    let c = tool::connect(ctx)?;
    let no_wait = ctx.m.flag("no-wait");
    tool::act(ctx, &c, "stop", targets, |v| vm::stop(&c, v, &how, no_wait))
}
