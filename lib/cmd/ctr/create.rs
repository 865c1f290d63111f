use super::{CreateFlags, name_arg};
use crate::backend::image::Image;
use crate::backend::{self, Backend, CreateSpec, Mount};
use crate::cli::spec::{Command, Complete, Prints, Trailing, switch};
use crate::error::{Error, Result};
use crate::guest::record::{Done, GuestId};
use crate::guest::target::Target;
use crate::guest::{BackendKind, GuestKind, Status};
use crate::run::{Ctx, Resolver};

pub const SPEC: Command = Command {
    name: "ctr-create",
    kind: GuestKind::Container,
    about: "create a container",
    description: "Creates a stopped container from an image: the built-in busybox image (made from the host's static busybox, needing no network), a directory holding a root filesystem, an OCI bundle, or a rootfs tarball. Without --backend the config's routing rules pick the backend (lxc, crun or runc) by the name, then its default backend (lxc). A name is unique across backends: one taken in any backend is refused (exit 4).\n\nWithout a COMMAND the container runs the image's /sbin/init; with one, it runs that command, and its output goes to the log that ctr-logs reads. A create that fails part-way leaves nothing behind.",
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
            "ctr-create web | jq -e .ok >/dev/null && echo created",
            "Check the result with jq in a script.",
        ),
        (
            "ctr-create web | from json | get status",
            "The result in nushell.",
        ),
    ],
    prints: Prints::Results,
};

crate::flags! {
    pub struct Args {
        ..create: CreateFlags,
        start: bool = switch("start", None, "Start the container once it is created"),
    }
}

/// The create request from the flags, every value checked.
pub fn spec(ctx: &Ctx, name: &str, f: &CreateFlags) -> Result<(CreateSpec, Image)> {
    crate::guest::names::check_new(name)?;
    let mut spec = CreateSpec {
        name: name.to_string(),
        command: ctx.trailing.clone(),
        ..CreateSpec::default()
    };
    spec.memory_bytes = f.memory.map(|s| s.0);
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
    spec.bridge = match f.network.as_deref() {
        None | Some("none") => None,
        Some(v) => match v.strip_prefix("bridge=") {
            Some(br) if !br.is_empty() && !br.contains(['/', ' ']) => Some(br.to_string()),
            _ => {
                return Err(Error::usage(format!(
                    "invalid value {} for --network: expected none or bridge=NAME",
                    crate::guest::names::quote(v)
                )));
            }
        },
    };
    if let Some(bad) = spec.command.first().filter(|c| c.is_empty()) {
        return Err(Error::usage(format!(
            "invalid command {bad:?}: it is empty"
        )));
    }
    let image = Image::parse(f.image.as_deref().unwrap_or("busybox"))?;
    Ok((spec, image))
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
    backend::ensure_free(&ctx.cfg, &spec.name)?;
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

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    // The parser has checked that the required name is there.
    let name = &ctx.positionals[0];
    let (spec, image) = spec(ctx, name, &args.create)?;
    let target = Target::named(name);
    ctx.act(
        &NewContainer(ctx),
        "create",
        vec![target],
        crate::cli::args::Jobs(1),
        |kind| {
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
