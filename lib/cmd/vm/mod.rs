//! The VM tools (vm-*), and what they share: connecting to the cluster,
//! how a target is found in one listing of it (`Vms`), and their arguments.

pub mod clone;
pub mod cloudinit;
pub mod config;
pub mod create;
pub mod delete;
pub mod exec;
pub mod list;
pub mod migrate;
pub mod resize;
pub mod restart;
pub mod snapshot;
pub mod snapshot_delete;
pub mod snapshot_list;
pub mod snapshot_rollback;
pub mod start;
pub mod state;
pub mod stop;
pub mod wait;

use crate::cli::args::Jobs;
use crate::cli::spec::{Arg, JOBS, NO_WAIT, VM_BACKEND, guests_arg};
use crate::error::Result;
use crate::guest::record::{Done, GuestId, Vm};
use crate::guest::target::Target;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::pve::client::{Client, Method};
use crate::pve::task::Upid;
use crate::pve::vm;
use crate::run::{Choice, Ctx, Failed, Resolver};

/// The cluster's client; in a dry run, one that sends no write.
pub fn connect(ctx: &Ctx) -> Result<Client> {
    let mut c = Client::connect(&ctx.cfg.proxmox, &ctx.out)?;
    c.dry_run = ctx.dry_run();
    Ok(c)
}

/// The cluster's VMs, listed in one request; targets are found among them.
pub struct Vms(pub vm::Listing);

impl Vms {
    /// Lists the cluster's VMs, in one request.
    pub fn list(c: &Client) -> Result<Vms> {
        vm::list(c).map(Vms)
    }
}

impl Resolver for Vms {
    type Guest = Vm;

    fn resolve(&self, t: &Target) -> Result<Vm> {
        vm::resolve(&self.0, t)
    }

    fn who(&self, t: &Target, found: Option<&Vm>) -> GuestId {
        match found {
            Some(v) => GuestId::vm(v),
            None => unfound(&t.label()),
        }
    }
}

/// The VMs a picker offers: those in `status` (any, for `None`), templates
/// left out: they are never started or stopped, and one is deleted on
/// purpose, by name.
pub fn choices(ctx: &Ctx, status: Option<Status>) -> Result<Vec<Choice>> {
    let c = connect(ctx)?;
    let mut vms = vm::list(&c)?.vms;
    vms.retain(|v| !v.template && status.is_none_or(|s| v.status == s));
    vms.sort_by_key(|v| v.vmid);
    let width = vms.iter().map(|v| v.label().len()).max().unwrap_or(0);
    Ok(vms
        .into_iter()
        .map(|v| Choice {
            label: format!(
                "{:>5} {:width$}  {} {}",
                v.vmid,
                v.name.as_deref().unwrap_or("-"),
                v.node,
                v.status.as_str()
            ),
            target: Target {
                vmid: Some(v.vmid),
                ..Target::default()
            },
        })
        .collect())
}

crate::flags! {
    /// The flags of the tools that start a task on each VM and follow it.
    pub struct TaskFlags {
        jobs: Jobs = JOBS,
        no_wait: bool = NO_WAIT,
        backend: Option<BackendKind> = VM_BACKEND,
    }
}

/// What every VM action tool does: read the targets, ask first when this
/// run `destroys` (on a terminal, see `Ctx::confirm`), connect, list the
/// cluster once, and run `f` on each target's VM, `jobs` at a time.
pub fn act(
    ctx: &Ctx,
    action: &'static str,
    jobs: Jobs,
    destroys: bool,
    f: impl Fn(&Client, &Vm) -> Result<Done> + Sync,
) -> Result<u8> {
    let targets = ctx.targets()?;
    if destroys {
        ctx.confirm(action, &targets)?;
    }
    let c = connect(ctx)?;
    let vms = Vms::list(&c)?;
    ctx.act(&vms, action, targets, jobs, |v| Ok(f(&c, v)?))
}

/// What the tools about one VM do (vm-resize, vm-snapshot…): the VM is
/// the first argument, the rest are the tool's own.
pub fn act_on_one(
    ctx: &Ctx,
    action: &'static str,
    f: impl Fn(&Client, &Vm) -> Result<Done> + Sync,
) -> Result<u8> {
    let target = crate::guest::target::parse_arg(GuestKind::Vm, &ctx.positionals[0])?;
    let c = connect(ctx)?;
    let vms = Vms::list(&c)?;
    ctx.act(&vms, action, vec![target], Jobs(1), |v| Ok(f(&c, v)?))
}

/// The VM argument of the tools about one VM.
pub const fn vm_arg(help: &'static str) -> Arg {
    Arg {
        name: "NAME",
        help,
        required: true,
        many: false,
        complete: crate::cli::spec::Complete::Guest(GuestKind::Vm, None),
    }
}

/// A plain argument after the VM (a disk, a snapshot's name).
pub const fn word_arg(name: &'static str, help: &'static str) -> Arg {
    Arg {
        name,
        help,
        required: true,
        many: false,
        complete: crate::cli::spec::Complete::Nothing,
    }
}

/// A VM not found (or not made): known only by how it was given.
pub fn unfound(label: &str) -> GuestId {
    GuestId {
        name: label.to_string(),
        backend: Some(BackendKind::Proxmox),
        ..GuestId::default()
    }
}

/// A VM to be made (vm-create, vm-clone): until it is, results name it as
/// the user did.
pub struct NewVm(pub String);

impl Resolver for NewVm {
    type Guest = ();

    fn resolve(&self, _: &Target) -> Result<()> {
        Ok(())
    }

    fn who(&self, _: &Target, _: Option<&()>) -> GuestId {
        unfound(&self.0)
    }
}

/// How a create or clone makes its VM.
pub struct Making<'a> {
    /// Its name, when it has one.
    pub name: Option<&'a str>,
    /// The node it will be on.
    pub node: &'a str,
    /// The VMID asked for; else the lowest free one, the next when another
    /// creator takes it first.
    pub vmid: Option<u32>,
    /// The VM whose lock the write takes (the clone's source), else the new one.
    pub locks: Option<&'a Vm>,
    /// The write's path and task type (`/nodes/pve1/qemu`, `qmcreate`).
    pub path: String,
    /// The write's task type (`qmcreate`, `qmclone`).
    pub kind: &'static str,
    /// Start the VM once it is made (--start).
    pub start: bool,
    /// Follow no task to its end (--no-wait): the last one started, the
    /// make's or else the start's, is left running and its UPID reported.
    pub no_wait: bool,
    /// Settings made on the new VM before it starts (a clone's cloud-init).
    pub configure: Vec<(String, String)>,
}

impl Making<'_> {
    /// Makes the VM with the parameters `params(vmid)` gives, follows the
    /// task, and starts the VM when asked: the result is then about it.
    pub fn make<'p>(
        &self,
        c: &Client,
        params: impl Fn(u32) -> Vec<(&'p str, String)>,
    ) -> std::result::Result<Done, Failed> {
        if c.dry_run {
            // The VMID it would get (a given one checked as free); the
            // settings themselves are checked by the server in a real run.
            let (id, ()) = vm::with_new_vmid(c, self.vmid, &|_| Ok(()))?;
            let status = if self.start {
                Status::Running
            } else {
                Status::Stopped
            };
            return Ok(Done {
                made: Some(GuestId::vm(&Vm::made(id, self.node, self.name))),
                ..Done::changed(status)
            });
        }
        let made = vm::with_new_vmid(c, self.vmid, &|id| {
            let op = vm::Op {
                method: Method::Post,
                path: self.path.clone(),
                params: params(id),
                kind: self.kind,
                subject: Some(id),
                no_wait: self.no_wait && !self.start,
                deadline: None,
            };
            let new = Vm::made(id, self.node, self.name);
            let on = self.locks.unwrap_or(&new);
            vm::task(c, on, &op, &|| vm::exists(c, self.node, id))
        });
        let made = made.map_err(Failed::from).and_then(|(vmid, upid)| {
            if !self.configure.is_empty() {
                self.set_up(c, vmid).map_err(|e| Failed {
                    error: e.with_hint(format!(
                        "VM {vmid} was made and stays; set it up with vm-config {vmid}, or remove it with vm-delete {vmid}"
                    )),
                    made: Some(GuestId::vm(&Vm::made(vmid, self.node, self.name))),
                })?;
            }
            Ok((vmid, upid))
        });
        made_and_started(c, self.name, self.node, made, self.start, self.no_wait)
    }

    /// Makes the `configure` settings on the new VM (synchronously).
    fn set_up(&self, c: &Client, vmid: u32) -> Result<()> {
        let new = Vm::made(vmid, self.node, self.name);
        let op = vm::Op {
            method: Method::Put,
            path: format!("{}/config", vm::api_path(&new)),
            params: self
                .configure
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect(),
            kind: "qmconfig",
            subject: None,
            no_wait: false,
            deadline: None,
        };
        vm::task(c, &new, &op, &|| Ok(false)).map(|_| ())
    }
}

/// What a create or clone did: the VM made, started when asked, whom the
/// result is then about; a start that fails leaves the VM, and says so.
fn made_and_started(
    c: &Client,
    name: Option<&str>,
    node: &str,
    made: std::result::Result<(u32, Option<Upid>), Failed>,
    start: bool,
    no_wait: bool,
) -> std::result::Result<Done, Failed> {
    let (vmid, upid) = made?;
    let new = Vm::made(vmid, node, name);
    let id = GuestId::vm(&new);
    if !start {
        return Ok(Done {
            changed: true,
            status: (!no_wait).then_some(Status::Stopped),
            upid: upid.filter(|_| no_wait).map(|u| u.raw),
            made: Some(id),
            pending: None,
        });
    }
    match vm::start(c, &new, no_wait) {
        Ok(d) => Ok(Done {
            changed: true,
            made: Some(id),
            ..d
        }),
        Err(e) => Err(Failed {
            error: e.with_hint(format!(
                "VM {vmid} was made and stays; start it with vm-start {vmid}, or remove it with vm-delete {vmid}"
            )),
            made: Some(id),
        }),
    }
}

/// `NAME...` of VMs (names or VMIDs), completed with VMs in the given status.
pub const fn names_arg(help: &'static str, status: Option<Status>) -> Arg {
    guests_arg(GuestKind::Vm, help, status)
}
