//! vm-exec: runs a command in a VM through its QEMU guest agent.

use super::{Vms, connect, vm_arg};
use crate::cli::spec::{Command, Effect, Prints, Trailing, VM_BACKEND};
use crate::error::{Error, Result};
use crate::guest::target::parse_arg;
use crate::guest::{BackendKind, GuestKind};
use crate::pve::agent::{self, NotRun};
use crate::run::{Ctx, Resolver, engine_failure};
use std::io::{IsTerminal, Read, Write};

/// vm-exec's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "vm-exec",
    kind: GuestKind::Vm,
    about: "run a command in a virtual machine through its guest agent",
    description: "Runs COMMAND in the VM through its QEMU guest agent (no network access to the guest is needed), waits for it to end, writes its output to stdout and stderr, and exits with its exit code (128+N when a signal N ended it). stdin, when it is not a terminal, is the command's input (at most 64 KiB, as the API's input-data takes no more). The agent returns the output only when the command ends, and keeps a limited amount of it; when it cut some off, a warning says so. The command is run directly, not by a shell: use sh -c for pipes and redirections.\n\nIts own failures use the container-engine codes: 125 when vm-exec failed (no such VM, the VM not running, no guest agent configured or running in it: the error names the fix), 126 when the command could not be run, 127 when it was not found.",
    args: &[vm_arg("The VM, by name or VMID")],
    trailing: Some(Trailing {
        name: "COMMAND",
        help: "The command and its arguments",
        bare: true,
    }),
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("vm-exec web -- uptime", "How long web's guest has run."),
        (
            "vm-exec web -- sh -c 'systemctl is-active nginx || journalctl -u nginx -n 20'",
            "A shell command line in the guest.",
        ),
        (
            "echo 'nameserver 10.0.0.1' | vm-exec web -- tee -a /etc/resolv.conf",
            "stdin reaches the command.",
        ),
        (
            "vm-exec web -- cat /etc/app.json | jq .port",
            "A value from a JSON file in the guest.",
        ),
        (
            "vm-exec db -- cat /etc/os-release | lines | parse '{key}={value}'",
            "A file in the guest as a nushell table.",
        ),
    ],
    prints: Prints::Raw,
    effect: Effect::Reads,
};

crate::flags! {
    /// vm-exec's flags.
    pub struct Args {
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// The most stdin sent: the schema's maxLength of agent/exec's input-data.
const MAX_INPUT: usize = 64 << 10;

/// Runs the command in the VM through its guest agent, stdin (not a
/// terminal) as its input, and writes its output once it ends: its exit code
/// (128+N for signal N), or the container-engine codes for a failure of
/// vm-exec's own.
pub fn run(ctx: &Ctx, _: Args) -> Result<u8> {
    exec(ctx).map_err(engine_failure)
}

fn exec(ctx: &Ctx) -> Result<u8> {
    let target = parse_arg(GuestKind::Vm, &ctx.positionals[0])?;
    if ctx.trailing.is_empty() {
        return Err(Error::usage("no command given")
            .with_hint(format!("vm-exec {} -- COMMAND...", target.label())));
    }
    let input = read_input()?;
    let c = connect(ctx)?;
    let vms = Vms::list(&c)?;
    let v = vms
        .resolve(&target)
        .map_err(|e| e.prefixed(&target.label()))?;
    let done = match agent::exec(&c, &v, &ctx.trailing, input.as_deref()) {
        Ok(d) => d,
        Err(NotRun::NotFound(m)) => {
            return Err(Error::not_found(format!("{}: {m}", v.label())).with_exit(127));
        }
        Err(NotRun::Denied(m)) => {
            return Err(Error::denied(format!("{}: {m}", v.label())).with_exit(126));
        }
        Err(NotRun::Other(e)) => return Err(e.prefixed(&v.label())),
    };
    // The command's output, as it gave it: no record, no colour.
    let _ = std::io::stdout().write_all(done.out.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(done.err.as_bytes());
    if done.truncated {
        ctx.out.warn(
            "the guest agent cut off some of the command's output (it keeps a limited amount)",
        );
    }
    Ok(match (done.code, done.signal) {
        (Some(code), _) => code.clamp(0, 255) as u8,
        (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
        (None, None) => 0,
    })
}

/// stdin as the command's input, unless it is a terminal.
fn read_input() -> Result<Option<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut buf = Vec::new();
    stdin
        .lock()
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::failed(format!("cannot read stdin: {}", crate::error::plain_io(&e))))?;
    if buf.len() > MAX_INPUT {
        return Err(Error::invalid(format!(
            "stdin holds more than {} KiB: the API takes no more as a command's input",
            MAX_INPUT >> 10
        ))
        .with_hint("copy larger files into the guest another way (scp, a shared disk)"));
    }
    if buf.is_empty() {
        return Ok(None);
    }
    String::from_utf8(buf).map(Some).map_err(|_| {
        Error::invalid("stdin is not UTF-8 text: the API takes only text as a command's input")
    })
}
