//! The container tools (ctr-*), and what they share: how a target is found
//! (`Containers`), their arguments, and the flags of the tools that create
//! a container.

pub mod cp;
pub mod create;
pub mod delete;
pub mod exec;
pub mod kill;
pub mod list;
pub mod logs;
pub mod pause;
pub mod restart;
pub mod resume;
pub mod run;
pub mod start;
pub mod state;
pub mod stats;
pub mod stop;
pub mod update;
pub mod wait;

use crate::backend::{self, Backend};
use crate::cli::args::FromValue;
use crate::cli::args::Size;
use crate::cli::spec::{Arg, Complete, Flag, choice, guests_arg, option, repeated};
use crate::error::Result;
use crate::guest::record::GuestId;
use crate::guest::target::Target;
use crate::guest::{GuestKind, Status};
use crate::run::{Choice, Ctx, Resolver};

/// Containers, found in whichever backend holds them (the one the input
/// record or --backend names, else by asking every installed backend).
pub struct Containers<'a>(pub &'a Ctx);

/// A container found: its name and the backend that holds it.
pub struct Found {
    /// Its name.
    pub name: String,
    /// The backend that holds it.
    pub backend: Box<dyn Backend>,
}

impl Resolver for Containers<'_> {
    type Guest = Found;

    fn resolve(&self, t: &Target) -> Result<Found> {
        // A container target always has a name (guest::target).
        let name = t.label();
        let named = t.backend.or(self.0.backend_flag());
        let backend = backend::locate(&self.0.cfg, &name, named, &self.0.out)?;
        Ok(Found { name, backend })
    }

    fn who(&self, t: &Target, found: Option<&Found>) -> GuestId {
        let backend = match found {
            Some(f) => Some(f.backend.kind()),
            None => t.backend.or(self.0.backend_flag()),
        };
        GuestId::container(&t.label(), backend)
    }
}

/// The containers a picker offers: those in `status` (any, for `None`), in
/// the backends --backend allows.
pub fn choices(ctx: &Ctx, status: Option<Status>) -> Result<Vec<Choice>> {
    let (all, _) = list::gather(ctx)?;
    let width = all.iter().map(|c| c.name.len()).max().unwrap_or(0);
    Ok(all
        .into_iter()
        .filter(|c| status.is_none_or(|s| c.status == s))
        .map(|c| Choice {
            label: format!("{:width$}  {} {}", c.name, c.backend, c.status.as_str()),
            target: Target {
                name: Some(c.name),
                backend: Some(c.backend),
                ..Target::default()
            },
        })
        .collect())
}

impl Found {
    /// The status after a stop that succeeded. An ephemeral container (ctr-run
    /// --detach --rm) is deleted by its backend as it stops, so one that is
    /// gone by now is stopped, not missing.
    pub fn status_after_stop(&self, out: &crate::output::Output) -> Result<Status> {
        match self.backend.status(&self.name, out) {
            Err(e) if e.kind == crate::error::Kind::NotFound => Ok(Status::Stopped),
            other => other,
        }
    }
}

impl Containers<'_> {
    /// The one container a tool acts on (ctr-exec, ctr-logs); errors name it.
    pub fn one(&self, name: &str) -> Result<Found> {
        self.0
            .resolve(self, &Target::named(name))
            .map_err(|e| e.prefixed(name))
    }
}

/// `NAME...`, completed with containers in the given status.
pub const fn names_arg(help: &'static str, status: Option<Status>) -> Arg {
    guests_arg(GuestKind::Container, help, status)
}

/// One required container name.
pub const fn name_arg(help: &'static str, complete: Complete) -> Arg {
    Arg {
        name: "NAME",
        help,
        required: true,
        many: false,
        complete,
    }
}

/// -t: a pseudo-terminal for the command (ctr-exec, ctr-run).
pub const TTY: Flag = crate::cli::spec::switch(
    "tty",
    Some('t'),
    "Give the command a pseudo-terminal, with window size changes passed on (stdin must be a terminal)",
);

/// -i: accepted and ignored, since stdin is always passed on (ctr-exec, ctr-run).
pub const INTERACTIVE: Flag = crate::cli::spec::switch(
    "interactive",
    Some('i'),
    "Pass stdin on to the command (always done: for the -it habit)",
);

/// The command's working directory (ctr-exec, ctr-run).
pub const CWD: Flag = option(
    "cwd",
    Some('w'),
    "DIR",
    "Run the command in this directory inside the container",
    Complete::Nothing,
);

/// The user the command runs as (ctr-exec, ctr-run).
pub const USER: Flag = option(
    "user",
    Some('u'),
    "USER",
    "Run as this user: a name from the container's /etc/passwd, or UID[:GID]",
    Complete::Nothing,
);

/// -t needs a terminal to give the command one.
pub fn check_tty(tty: bool) -> Result<()> {
    use std::io::IsTerminal;
    if tty && !std::io::stdin().is_terminal() {
        return Err(crate::error::Error::usage(
            "-t gives the command a terminal, and stdin is not one",
        )
        .with_hint("leave -t out when stdin is a pipe or a file"));
    }
    Ok(())
}

/// A memory limit (ctr-create, ctr-run, ctr-update).
pub const MEMORY: Flag = option(
    "memory",
    Some('m'),
    "SIZE",
    "Memory limit, e.g. 256M or 1G",
    Complete::Nothing,
);

/// A CPU limit (ctr-create, ctr-run, ctr-update).
pub const CPUS: Flag = option(
    "cpus",
    None,
    "N",
    "CPU limit in CPUs, e.g. 0.5 or 2",
    Complete::Nothing,
);

/// An environment variable, KEY=VALUE (ctr-exec, ctr-create, ctr-run).
pub const ENV: Flag = repeated(
    "env",
    Some('e'),
    "KEY=VALUE",
    "Set an environment variable (repeatable)",
    Complete::Nothing,
);

/// --pull's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PullPolicy(pub backend::pull::Policy);

impl FromValue for PullPolicy {
    fn from_value(v: &str, _: &Flag) -> Result<PullPolicy> {
        use backend::pull::Policy;
        Ok(PullPolicy(match v {
            "always" => Policy::Always,
            "never" => Policy::Never,
            // The parser has checked the value against the flag's list.
            _ => Policy::Missing,
        }))
    }
}

crate::flags! {
    /// The flags ctr-create and ctr-run share: what the new container is.
    pub struct CreateFlags {
        image: Option<String> = option(
            "image",
            None,
            "IMAGE",
            "Root filesystem: busybox (built in, the default), a directory, an OCI bundle directory, a tarball (.tar, .tar.gz, .tar.xz, .tar.zst), or an image in a registry (alpine:3.20, REGISTRY/REPO:TAG, …@sha256:…)",
            Complete::Image,
        ),
        pull: Option<PullPolicy> = choice(
            "pull",
            None,
            "WHEN",
            "When to ask the registry for the image: always, missing (default: only when it is not in the cache) or never",
            &["always", "missing", "never"],
        ),
        memory: Option<Size> = MEMORY,
        cpus: Option<f64> = CPUS,
        env: Vec<String> = ENV,
        mount: Vec<String> = repeated(
            "mount",
            None,
            "SRC:DST[:ro]",
            "Bind-mount a host path into the container, read-only with :ro (repeatable)",
            Complete::File,
        ),
        network: Option<String> = option(
            "network",
            None,
            "NETWORK",
            "The network it joins: a name from the config (default: the built-in guestkit, a NAT bridge); none for loopback only; bridge=BR for a veth on a bridge of your own (lxc, proxmox)",
            Complete::Nothing,
        ),
        ip: Option<String> = option(
            "ip",
            None,
            "ADDRESS",
            "A fixed IPv4 address on its network (default: the next free one)",
            Complete::Nothing,
        ),
        publish: Vec<String> = repeated(
            "publish",
            Some('p'),
            "HOSTPORT:PORT",
            "Publish the container's PORT on the host's HOSTPORT, as [HOSTIP:]HOSTPORT:PORT[/tcp|/udp] (repeatable)",
            Complete::Nothing,
        ),
    }
}
