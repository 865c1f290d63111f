//! ctr-create: creates a stopped container from an image, in the backend
//! --backend or the config's routing picks; and the create request and
//! action that ctr-run shares.

use super::{CreateFlags, name_arg};
use crate::backend::image::Image;
use crate::backend::net::{Join, Network, Publish};
use crate::backend::{self, Backend, CreateSpec, Mount};
use crate::cli::args::Size;
use crate::cli::spec::{Command, Complete, Effect, Prints, Trailing, option, switch};
use crate::error::{Error, Result};
use crate::guest::record::{Done, GuestId};
use crate::guest::target::Target;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::run::{Ctx, Resolver};

/// ctr-create's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-create",
    kind: GuestKind::Container,
    about: "create a container",
    description: "Creates a stopped container from an image: the built-in busybox image (made from the host's static busybox, needing no network), a directory holding a root filesystem, an OCI bundle, a rootfs tarball, or an image in a registry (alpine:3.20 is docker.io/library/alpine:3.20; REGISTRY/REPO:TAG and …@sha256:… name others), pulled into the cache once (--pull) and run with its configuration (entrypoint and command, variables, working directory, user) unless the flags say otherwise; [registries.\"HOST\"] in the config gives a registry's CA file and credentials. Without --backend the config's routing rules pick the backend (lxc, crun, runc or proxmox) by the name, then its default backend (lxc). A name is unique across backends, the cluster's included: one taken in any backend is refused (exit 4).\n\nOn backend proxmox (a Proxmox VE cluster) the image is an OS template, STORAGE:vztmpl/FILE as pveam stores them or a short name such as debian-12 found among the node's templates (an ambiguous or missing one is refused, the candidates listed); the container is unprivileged, its root disk --disk (default 8G) on --storage (default: the node's storage for container directories with the most room), on --node (default: the online node with the most free memory), its network --network bridge=vmbr0[,ip=dhcp|CIDR][,gw=GW]; a COMMAND becomes its entrypoint. The VMID is the lowest free one, the next when another creator takes it first. --mount is refused there.\n\nA local container (lxc, crun, runc) joins a network: --network NAME, else the config's default_network, else (as root) the built-in guestkit, a NAT bridge (guestkit0) on a private /24 chosen clear of the host's routes. It gets an address of its own (--ip for a fixed one), outbound NAT, the host's resolvers in /etc/resolv.conf, its name in /etc/hosts, and the ports --publish names forwarded from the host. --network none leaves it loopback only. An unknown network is refused (exit 3), an address or host port that is taken (exit 4), a network whose subnet overlaps a host route (exit 8, naming both); nothing is left of a refused create. Joining a network takes root.\n\nWithout a COMMAND the container runs the image's /sbin/init; with one, it runs that command, and its output goes to the log that ctr-logs reads. A create that fails part-way leaves nothing behind.",
    args: &[name_arg(
        "The new container's name: letters, digits, '-', '_' and '.', at most 63",
        Complete::Nothing,
    )],
    trailing: Some(Trailing {
        name: "COMMAND",
        help: "The command the container runs instead of /sbin/init",
        bare: false,
    }),
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "ctr-create web",
            "A busybox container running busybox init.",
        ),
        (
            "ctr-create job1 --memory 256M --cpus 0.5 -e MODE=batch -- sh -c 'echo working; sleep 600'",
            "A container with limits that runs one command.",
        ),
        (
            "ctr-create data --image ./rootfs.tar.zst --mount /srv/data:/data:ro --start",
            "From a tarball, with a read-only bind mount, started at once.",
        ),
        (
            "ctr-create app -b proxmox --image debian-12 --memory 1G --disk 16G --network bridge=vmbr0,ip=dhcp --start",
            "A container on the Proxmox VE cluster, started.",
        ),
        (
            "ctr-create web | jq -e .ok >/dev/null && echo created",
            "Check the result with jq in a script.",
        ),
        (
            "ctr-create web | from json | get status",
            "The result in nushell.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Changes,
};

crate::flags! {
    /// ctr-create's flags.
    pub struct Args {
        ..create: CreateFlags,
        start: bool = switch("start", None, "Start the container once it is created"),
        disk: Option<Size> = option(
            "disk",
            None,
            "SIZE",
            "Backend proxmox: the root disk's size (default 8G)",
            Complete::Nothing,
        ),
        storage: Option<String> = option(
            "storage",
            None,
            "STORAGE",
            "Backend proxmox: the storage for the root disk (default: the node's with the most room)",
            Complete::Nothing,
        ),
        node: Option<String> = option(
            "node",
            Some('n'),
            "NODE",
            "Backend proxmox: the node to create it on (default: the online node with the most free memory)",
            Complete::Nothing,
        ),
    }
}

/// The create request from the flags, every value checked, for a container
/// of backend `kind`.
pub fn spec(
    ctx: &Ctx,
    name: &str,
    f: &CreateFlags,
    kind: BackendKind,
) -> Result<(CreateSpec, Image)> {
    crate::guest::names::check_new(name)?;
    let mut spec = CreateSpec {
        name: name.to_string(),
        command: ctx.trailing.clone(),
        ..CreateSpec::default()
    };
    spec.memory_bytes = f.memory.map(|s| s.0);
    if let Some(b) = spec.memory_bytes {
        check_memory(b)?;
    }
    spec.cpus = match f.cpus {
        // The kernel's CFS quota is at least 1 ms per 100 ms period.
        Some(c) if !(0.01..=1024.0).contains(&c) => {
            return Err(Error::usage(format!(
                "invalid value {c} for --cpus: expected a number from 0.01 to 1024"
            )));
        }
        c => c,
    };
    spec.env = f.env.iter().map(|e| env_pair(e)).collect::<Result<_>>()?;
    spec.mounts = f.mount.iter().map(|v| mount(v)).collect::<Result<_>>()?;
    (spec.bridge, spec.address) = network(f.network.as_deref(), kind)?;
    spec.network = join(ctx, f, kind, spec.bridge.is_some())?;
    if let Some(bad) = spec.command.first().filter(|c| c.is_empty()) {
        return Err(Error::usage(format!(
            "invalid command {bad:?}: it is empty"
        )));
    }
    let image = match (kind, f.image.as_deref()) {
        (BackendKind::Proxmox, Some(t)) if t != "busybox" => Image::Template(t.to_string()),
        (BackendKind::Proxmox, _) => {
            return Err(Error::usage(
                "backend proxmox makes containers from OS templates: give --image",
            )
            .with_hint("--image STORAGE:vztmpl/FILE (as pveam stores them), or a short name such as debian-12"));
        }
        (_, i) => Image::parse(i.unwrap_or("busybox"))?,
    };
    let image = match image {
        // A dry run asks no registry: the reference is what it names.
        Image::Reference(r) if !ctx.dry_run() => {
            // A pull may be hundreds of MB: not for a create that the
            // backend or the name refuses anyway (checked again, under the
            // name's lock, when the container is made).
            check(ctx, kind, name)?;
            pulled(ctx, &r, f, &mut spec)?
        }
        other => other,
    };
    Ok((spec, image))
}

/// Pulls an image from its registry (or finds it in the cache, as --pull
/// says), and gives the container what the image's configuration asks for
/// unless the flags say otherwise: its entrypoint and command, variables,
/// working directory and user.
fn pulled(
    ctx: &Ctx,
    r: &crate::registry::reference::Reference,
    f: &CreateFlags,
    spec: &mut CreateSpec,
) -> Result<Image> {
    use crate::backend::pull;
    let access = pull::access(&ctx.cfg, &r.registry)?;
    let policy = f.pull.map_or(pull::Policy::Missing, |p| p.0);
    let p = pull::pull(&ctx.cfg.cache_dir(), r, access, policy, &ctx.out)?;
    let c = &p.config;
    let entrypoint = c.entrypoint.clone().unwrap_or_default();
    let args = match spec.command.is_empty() {
        true => c.cmd.clone().unwrap_or_default(),
        false => std::mem::take(&mut spec.command),
    };
    spec.command = entrypoint.into_iter().chain(args).collect();
    let mut env: Vec<(String, String)> = c
        .env
        .iter()
        .flatten()
        .filter_map(|e| e.split_once('='))
        .filter(|(k, _)| !spec.env.iter().any(|(sk, _)| sk == k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.append(&mut spec.env);
    spec.env = env;
    // ctr-run's --cwd and --user win over these (run.rs).
    spec.cwd = c.working_dir.clone().filter(|d| !d.is_empty());
    spec.user = c.user.clone().filter(|u| !u.is_empty());
    // The container's record names the very image: its reference with the
    // digest of the manifest pulled (a tag moves; image-list counts by it).
    let exact = crate::registry::reference::Reference {
        digest: Some(p.digest.clone()),
        ..r.clone()
    };
    Ok(Image::Pulled(exact.to_string(), p.root))
}

/// The network a new local container joins (--network NAME, else the
/// config's default), with --ip and --publish; `None`: loopback only, or
/// a bridge of the user's own.
fn join(ctx: &Ctx, f: &CreateFlags, kind: BackendKind, own_bridge: bool) -> Result<Option<Join>> {
    // The values first: a mistake in one is the same mistake on any network.
    let ip = match f.ip.as_deref() {
        None => None,
        Some(a) => Some(a.parse::<std::net::Ipv4Addr>().map_err(|_| {
            Error::usage(format!(
                "invalid value {} for --ip: expected an IPv4 address, four numbers from 0 to 255 joined by dots",
                crate::guest::names::quote(a)
            ))
        })?),
    };
    let publish: Vec<Publish> = f
        .publish
        .iter()
        .map(|p| {
            Publish::parse(p).map_err(|why| {
                Error::usage(format!(
                    "invalid value {} for --publish: {why}",
                    crate::guest::names::quote(p)
                ))
            })
        })
        .collect::<Result<_>>()?;
    let asked = ip.is_some() || !publish.is_empty();
    let network = match f.network.as_deref() {
        _ if kind == BackendKind::Proxmox => {
            if asked {
                return Err(Error::usage(
                    "--ip and --publish are for local containers: on backend proxmox give the address in --network bridge=BR,ip=CIDR",
                ));
            }
            return Ok(None);
        }
        _ if own_bridge => None,
        Some("none") => None,
        Some(name) => Some(Network::named(&ctx.cfg, name)?),
        None => Network::default(&ctx.cfg)?,
    };
    let Some(network) = network else {
        if asked {
            let which = if own_bridge { "bridge=…" } else { "none" };
            return Err(Error::usage(format!(
                "--ip and --publish need a network guestkit makes, and --network is {which}"
            ))
            .with_hint("leave --network out for the default network, or name one"));
        }
        return Ok(None);
    };
    Ok(Some(Join {
        network,
        ip,
        publish,
    }))
}

/// `none`, or `bridge=BR`; for backend proxmox also `,ip=dhcp|CIDR` and
/// `,gw=GW`: the bridge, and the rest for the cluster.
fn network(v: Option<&str>, kind: BackendKind) -> Result<(Option<String>, Option<String>)> {
    let Some(v) = v.filter(|v| *v != "none") else {
        return Ok((None, None));
    };
    if kind != BackendKind::Proxmox && !v.contains('=') {
        return Ok((None, None)); // a network's name (`join`)
    }
    let bad = |why: &str| {
        Error::usage(format!(
            "invalid value {} for --network: {why}",
            crate::guest::names::quote(v)
        ))
    };
    let mut parts = v.split(',');
    let bridge = match parts.next().and_then(|p| p.strip_prefix("bridge=")) {
        Some(br) => {
            crate::guest::names::check_interface(br).map_err(|why| bad(&why))?;
            br.to_string()
        }
        None => return Err(bad("expected none, a network's name, or bridge=NAME")),
    };
    let mut rest = vec![];
    for p in parts {
        match p.split_once('=') {
            Some(("ip", a)) if a == "dhcp" || is_cidr4(a) => rest.push(p.to_string()),
            Some(("gw", g)) if g.parse::<std::net::Ipv4Addr>().is_ok() => rest.push(p.to_string()),
            Some(("ip" | "gw", _)) => {
                return Err(bad("ip= takes dhcp or ADDRESS/PREFIX, gw= an IPv4 address"));
            }
            _ => {
                return Err(bad(&format!(
                    "unknown part {p:?}: the parts are ip= and gw="
                )));
            }
        }
    }
    if !rest.is_empty() && kind != BackendKind::Proxmox {
        return Err(bad(
            "ip= and gw= are for backend proxmox; a local container gets its address from a network guestkit makes (--network NAME, --ip)",
        ));
    }
    Ok((Some(bridge), (!rest.is_empty()).then(|| rest.join(","))))
}

/// A new container, to be made in the backend routing picks: --backend,
/// else the config's rules for its name.
pub struct NewContainer<'a>(pub &'a Ctx);

impl NewContainer<'_> {
    fn backend_for(&self, name: &str) -> BackendKind {
        self.0
            .backend_flag()
            .unwrap_or_else(|| self.0.cfg.route(name))
    }
}

impl Resolver for NewContainer<'_> {
    type Guest = BackendKind;

    fn resolve(&self, t: &Target) -> Result<BackendKind> {
        Ok(self.backend_for(&t.label()))
    }

    fn who(&self, t: &Target, _: Option<&BackendKind>) -> GuestId {
        GuestId::container(&t.label(), Some(self.backend_for(&t.label())))
    }
}

/// A memory limit a container can start with.
pub fn check_memory(bytes: u64) -> Result<()> {
    if bytes < backend::MIN_MEMORY {
        return Err(Error::usage(format!(
            "--memory {} is below the {} a container needs to start",
            crate::guest::units::human_size(bytes),
            crate::guest::units::human_size(backend::MIN_MEMORY)
        )));
    }
    Ok(())
}

/// `192.0.2.10/24`.
fn is_cidr4(a: &str) -> bool {
    a.split_once('/').is_some_and(|(ip, prefix)| {
        ip.parse::<std::net::Ipv4Addr>().is_ok() && prefix.parse::<u8>().is_ok_and(|p| p <= 32)
    })
}

/// A --env value, KEY=VALUE, split; refused when the key is empty or holds
/// whitespace, or the value a newline.
pub fn env_pair(e: &str) -> Result<(String, String)> {
    let bad = |why: &str| {
        Error::usage(format!(
            "invalid value {} for --env: {why}",
            crate::guest::names::quote(e)
        ))
    };
    match e.split_once('=') {
        // Each variable is a line of LXC's configuration.
        Some(_) if e.contains('\n') => Err(bad("a value may not hold a newline")),
        Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(bad("expected KEY=VALUE")),
    }
}

/// `SRC:DST`, `SRC:DST:ro` or `SRC:DST:rw`. Anything else is refused:
/// a mistyped option must never quietly give a read-write host mount.
fn mount(v: &str) -> Result<Mount> {
    let bad = |why: &str| {
        Error::usage(format!(
            "invalid value {} for --mount: {why}",
            crate::guest::names::quote(v)
        ))
    };
    let (src, dst, read_only) = match v.split(':').collect::<Vec<_>>().as_slice() {
        [src, dst] => (*src, *dst, false),
        [src, dst, "ro"] => (*src, *dst, true),
        [src, dst, "rw"] => (*src, *dst, false),
        [_, _, other] => {
            return Err(bad(&format!(
                "unknown option {other:?}: the options are ro (read-only) and rw (the default)"
            )));
        }
        _ => return Err(bad("expected SRC:DST[:ro|rw] (a path may not hold ':')")),
    };
    if !dst.starts_with('/') || dst.split('/').any(|p| p == "..") {
        return Err(bad("DST must be an absolute path inside the container"));
    }
    let source = std::fs::canonicalize(src).map_err(|e| {
        Error::invalid(format!(
            "mount source {}: {}",
            crate::guest::names::quote(src),
            crate::error::plain_io(&e)
        ))
    })?;
    Ok(Mount {
        source,
        target: dst.to_string(),
        read_only,
    })
}

/// What a create checks before it makes anything: the backend is
/// installed, and no backend holds the name.
fn check(ctx: &Ctx, kind: BackendKind, name: &str) -> Result<()> {
    backend::by_kind(&ctx.cfg, kind)?.check()?;
    backend::ensure_free(&ctx.cfg, name, &ctx.out)
}

/// Creates (and with `start`, starts) one container in backend `kind`;
/// nothing is left when it fails.
pub fn create(
    ctx: &Ctx,
    kind: BackendKind,
    spec: &CreateSpec,
    image: &Image,
    start: bool,
) -> Result<(Box<dyn Backend>, Status)> {
    let b = backend::by_kind(&ctx.cfg, kind)?;
    b.check()?;
    // Until the new container exists, no other create may take its name.
    let lock = backend::lock_name(&ctx.cfg, &spec.name)?;
    backend::clear_leftovers(&ctx.cfg, &spec.name, &lock, &ctx.out)?;
    backend::ensure_free(&ctx.cfg, &spec.name, &ctx.out)?;
    // Ctrl-C now ends the children (tar, cp, the runtime), whose failure
    // leads to the cleanup below, instead of ending us before it.
    crate::os::signals::defer();
    // After Ctrl-C the children's own failures ("cannot unpack…") are only
    // its consequence: report the interruption instead.
    let interrupted = |e: Error| match crate::os::signals::interrupted() {
        true => Error::failed("interrupted; nothing of the new container was kept").with_exit(130),
        false => e,
    };
    b.create(spec, image, &ctx.cfg, &ctx.out)
        .map_err(interrupted)?;
    let made = if crate::os::signals::interrupted() {
        Err(interrupted(Error::failed("interrupted")))
    } else if start {
        b.start(&spec.name, &ctx.out).map_err(interrupted)
    } else {
        Ok(())
    };
    if let Err(e) = made {
        if let Err(d) = b.delete(&spec.name, &ctx.out) {
            return Err(Error::failed(format!(
                "{}; and the container could not be removed: {}",
                e.message, d.message
            ))
            .with_hint(format!("remove it with ctr-delete --force {}", spec.name)));
        }
        return Err(e);
    }
    if !start {
        return Ok((b, Status::Stopped));
    }
    let status = b.status(&spec.name, &ctx.out).unwrap_or(Status::Unknown);
    Ok((b, status))
}

/// Creates the named container (and starts it, with --start) in the backend
/// routing picks, and prints its result record; a dry run only checks that
/// the backend is installed and the name free.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    // The parser has checked that the required name is there.
    let name = &ctx.positionals[0];
    let kind = NewContainer(ctx).backend_for(name);
    let cluster_only = [
        ("--disk", args.disk.is_some()),
        ("--storage", args.storage.is_some()),
        ("--node", args.node.is_some()),
    ];
    if let Some((flag, _)) = cluster_only.iter().find(|(_, given)| *given)
        && kind != BackendKind::Proxmox
    {
        return Err(Error::usage(format!(
            "{flag} is for backend proxmox; {name} goes to backend {kind}"
        )));
    }
    let (mut spec, image) = spec(ctx, name, &args.create, kind)?;
    spec.disk_bytes = args.disk.map(|s| s.0);
    spec.storage = args.storage.clone();
    spec.node = args.node.clone();
    let target = Target::named(name);
    ctx.act(
        &NewContainer(ctx),
        "create",
        vec![target],
        crate::cli::args::Jobs(1),
        |kind| {
            if ctx.dry_run() {
                check(ctx, *kind, &spec.name)?;
                let status = if args.start {
                    Status::Running
                } else {
                    Status::Stopped
                };
                return Ok(Done::changed(status));
            }
            let (_, status) = create(ctx, *kind, &spec, &image, args.start)?;
            Ok(Done::changed(status))
        },
    )
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        /// --mount and --env values are read or refused, and a mount is
        /// read-only only when it says `:ro`.
        #[test]
        fn mounts_and_env_parse_or_are_refused(v in "(/tmp|/nonexistent|[a-z]{0,4}):(/[a-z.]{0,6}|[a-z]{0,4})(:[a-zA-Z:]{0,8})?|\\PC{0,20}") {
            if let Ok(m) = super::mount(&v) {
                prop_assert_eq!(m.read_only, v.ends_with(":ro"));
                prop_assert!(m.target.starts_with('/'));
            }
            if let Ok((k, val)) = super::env_pair(&v) {
                prop_assert!(!k.is_empty() && !val.contains('\n'));
            }
        }
    }
}
