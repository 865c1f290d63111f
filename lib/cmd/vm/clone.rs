use crate::cli::spec::{Arg, Command, Complete, NO_WAIT, Prints, VM_BACKEND, option, switch};
use crate::cmd::vm as tool;
use crate::error::{Error, Result};
use crate::pve::client::{Client, Method};
use crate::pve::task::Upid;
use crate::pve::vm;
use crate::run::Ctx;

pub const SPEC: Command = Command {
    name: "vm-clone",
    about: "clone a virtual machine",
    description: "Clones SOURCE (by name or VMID, typically a template) into a new VM called NAME, and follows the clone task. The VMID is --vmid or the lowest free one, taking the next when another creator wins the race for it. --target puts the clone on another node (a VM that is not a template needs --full for that). A clone of a template is linked unless --full.",
    args: &[
        Arg {
            name: "SOURCE",
            help: "The VM or template to clone, by name or VMID",
            required: true,
            many: false,
            complete: Complete::Vm(None),
        },
        Arg {
            name: "NAME",
            help: "The new VM's name, a DNS name",
            required: true,
            many: false,
            complete: Complete::Nothing,
        },
    ],
    trailing: None,
    flags: &[
        option(
            "vmid",
            None,
            "ID",
            "The new VMID (default: the lowest free one)",
            Complete::Nothing,
        ),
        option(
            "target",
            None,
            "NODE",
            "The node for the clone (default: the source's)",
            Complete::Nothing,
        ),
        switch("full", None, "A full copy rather than a linked clone"),
        option(
            "storage",
            None,
            "STORAGE",
            "The storage for a full clone's disks",
            Complete::Nothing,
        ),
        switch("start", None, "Start the clone once it is made"),
        NO_WAIT,
        VM_BACKEND,
    ],
    stdin_targets: false,
    examples: &[
        (
            "vm-clone debian-12-template web --start",
            "A new VM from a template, started.",
        ),
        (
            "vm-clone 9000 ci-7 --target pve3 --full",
            "A full copy on node pve3.",
        ),
        (
            "for i in 1 2 3; do vm-clone tpl ci-$i; done | jq -r .vmid",
            "Three clones, printing their VMIDs.",
        ),
        (
            "vm-clone tpl web | from json --objects | get vmid",
            "The new VMID in nushell.",
        ),
    ],
    prints: Prints::VmResults,
};

pub fn run(ctx: &Ctx) -> Result<u8> {
    let source = vm::parse_arg(&ctx.m.positionals[0])?;
    let name = ctx.m.positionals[1].clone();
    vm::check_name(&name)?;
    let given = ctx
        .m
        .number::<u64>("vmid")?
        .map(vm::check_vmid)
        .transpose()?;
    if ctx.m.value("storage").is_some() && !ctx.m.flag("full") {
        return Err(Error::usage("--storage applies to full clones: add --full"));
    }
    let c = tool::connect(ctx)?;
    let src = vm::resolve(&vm::list(&c)?, &source).map_err(|e| e.prefixed(&source.label()))?;
    let target = ctx.m.value("target").unwrap_or(&src.node).to_string();
    let no_wait = ctx.m.flag("no-wait");
    let cloned = vm::with_new_vmid(&c, given, &|id| {
        let mut p = vec![("newid", id.to_string()), ("name", name.clone())];
        if target != src.node {
            p.push(("target", target.clone()));
        }
        if ctx.m.flag("full") {
            p.push(("full", "1".into()));
        }
        if let Some(s) = ctx.m.value("storage") {
            p.push(("storage", s.to_string()));
        }
        let op = vm::Op {
            method: Method::Post,
            path: format!("{}/clone", src.path()),
            params: p,
            kind: "qmclone",
            subject: Some(id),
            no_wait: no_wait && !ctx.m.flag("start"),
            deadline: None,
        };
        // The source is what a clone locks (and waits for when locked).
        vm::task(&c, &src, &op, &|| vm::exists(&c, &target, id))
    });
    report(ctx, &c, "clone", &name, &target, cloned, no_wait)
}

/// Prints the result of a create or clone, starting the new VM first when
/// asked. The exit code says whether it all worked.
pub fn report(
    ctx: &Ctx,
    c: &Client,
    action: &'static str,
    label: &str,
    node: &str,
    made: Result<(u32, Option<Upid>)>,
    no_wait: bool,
) -> Result<u8> {
    let result = made.map(|(vmid, upid)| {
        let new = vm::Vm::made(vmid, node, Some(label).filter(|n| *n != "new VM"));
        let done = if ctx.m.flag("start") {
            vm::start(c, &new, no_wait).map_err(|e| {
                let hint = format!(
                    "VM {vmid} was made and stays; start it with vm-start {vmid}, or remove it with vm-delete {vmid}"
                );
                e.with_hint(hint)
            })
        } else {
            Ok(vm::Done {
                changed: true,
                status: (!no_wait).then_some(crate::guest::record::Status::Stopped),
                upid: upid.filter(|_| no_wait).map(|u| u.raw),
            })
        };
        (new, done)
    });
    let (vm, r) = match result {
        Ok((v, d)) => (Some(v), d),
        Err(e) => (None, Err(e)),
    };
    if let Err(e) = &r {
        ctx.out.error(Some(label), e);
    }
    let mut rec = vm::ActionResult::new(action, label.to_string(), vm.as_ref(), &r);
    rec.changed = vm.is_some();
    let mut results = ctx.out.stream(tool::RESULT_COLUMNS);
    results.push(rec);
    results.finish();
    Ok(r.err().map_or(0, |e| e.exit_code()))
}
