//! The VM tools (vm-*), and what they share: connecting to the cluster,
//! how a target is found in one listing of it (`Vms`), and their arguments.

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
use crate::error::Result;
use crate::guest::record::{Done, GuestId, Vm};
use crate::guest::target::Target;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::pve::client::Client;
use crate::pve::task::Upid;
use crate::pve::vm;
use crate::run::{Ctx, Failed, Resolver};

pub fn connect(ctx: &Ctx) -> Result<Client<'_>> {
    Client::connect(&ctx.cfg.proxmox, &ctx.out)
}

/// The cluster's VMs, listed in one request; targets are found among them.
pub struct Vms(pub Vec<Vm>);

impl Vms {
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

/// What a create or clone did: the VM made, started when asked, whom the
/// result is then about; a start that fails leaves the VM, and says so.
pub fn made(
    c: &Client,
    name: Option<&str>,
    node: &str,
    made: Result<(u32, Option<Upid>)>,
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
    Arg {
        name: "NAME",
        help,
        required: false,
        many: true,
        complete: Complete::Guest(GuestKind::Vm, status),
    }
}
