//! What every vm-* tool shares: connecting, reading targets, and acting on
//! each with one result line per target, as the ctr-* tools do.

pub mod clone;
pub mod create;
pub mod delete;
pub mod list;
pub mod restart;
pub mod start;
pub mod state;
pub mod stop;
pub mod wait;

use crate::cli::spec::{Arg, Complete};
use crate::error::{Error, Result};
use crate::output::{Column, col};
use crate::pve::client::Client;
use crate::pve::vm::{self, ActionResult, Done, Target, Vm};
use crate::run::Ctx;
use std::io::IsTerminal;

pub fn connect(ctx: &Ctx) -> Result<Client<'_>> {
    if let Some(b) = ctx.backend_flag()
        && b != vm::BACKEND
    {
        return Err(Error::usage(format!(
            "the vm-* tools act on Proxmox VE VMs: backend {b} has none"
        )));
    }
    Client::connect(&ctx.cfg.proxmox, &ctx.out)
}

/// The VMs named as arguments, else one per stdin line.
pub fn targets(ctx: &Ctx) -> Result<Vec<Target>> {
    if !ctx.m.positionals.is_empty() {
        return ctx.m.positionals.iter().map(|a| vm::parse_arg(a)).collect();
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Error::usage("no VM named").with_hint(format!(
            "give names or VMIDs as arguments, or pipe them in: vm-list | {}",
            ctx.cmd.name
        )));
    }
    crate::guest::target::from_lines_with(
        stdin.lock(),
        &ctx.out,
        vm::parse_line,
        "each line must be a JSON object with a \"vmid\" or \"name\" (as vm-list prints), or a bare name or VMID",
    )
}

/// Resolves every target through one cluster listing, then runs `f` on
/// each, `--jobs` at a time, printing results in input order.
pub fn act<F>(ctx: &Ctx, c: &Client, action: &'static str, targets: Vec<Target>, f: F) -> Result<u8>
where
    F: Fn(&Vm) -> Result<Done> + Sync,
{
    let jobs = ctx.jobs()?;
    let vms = vm::list(c)?;
    crate::output::keep_going_when_stdout_closes();
    let mut results = ctx.out.stream(RESULT_COLUMNS);
    let mut codes = Vec::new();
    let work = |t: &Target| -> (Option<Vm>, Result<Done>) {
        match vm::resolve(&vms, t) {
            Ok(v) => {
                let r = f(&v);
                (Some(v), r)
            }
            Err(e) => (None, Err(e)),
        }
    };
    crate::jobs::run_ordered(targets, jobs, work, |t, (v, r)| {
        if let Err(e) = &r {
            let label = v.as_ref().map_or_else(|| t.label(), |v| v.label());
            ctx.out.error(Some(&label), e);
            codes.push(e.exit_code());
        }
        results.push(ActionResult::new(action, t.label(), v.as_ref(), &r));
    });
    results.finish();
    Ok(crate::error::exit_code_of(codes))
}

pub const RESULT_COLUMNS: &[Column] = &[
    col("VMID", "vmid"),
    col("NAME", "name"),
    col("NODE", "node"),
    col("ACTION", "action"),
    col("OK", "ok"),
    col("CHANGED", "changed"),
    col("STATUS", "status"),
    col("ERROR", "error"),
];

/// `NAME...` of VMs (names or VMIDs), completed with VMs in the given status.
pub const fn names_arg(help: &'static str, status: Option<&'static str>) -> Arg {
    Arg {
        name: "NAME",
        help,
        required: false,
        many: true,
        complete: Complete::Vm(status),
    }
}
