//! ctr-cp: copies files and directories between the host (or a tar stream)
//! and a container, running or stopped, never reaching outside its root.

use super::{Containers, Found};
use crate::cli::spec::{Arg, Command, Complete, Effect, Prints, switch};
use crate::error::{Error, Result};
use crate::guest::GuestKind;
use crate::guest::record::Done;
use crate::guest::target::Target;
use crate::os::tree::{self, Located, Sink, TarWriter, TreeWriter};
use crate::run::Ctx;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// ctr-cp's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "ctr-cp",
    kind: GuestKind::Container,
    about: "copy files into or out of a container",
    description: "Copies a file or a directory (with everything in it) between the host and a container: one side is NAME:PATH, a path in the container NAME, running or stopped; the other a path on the host, or - for a tar stream on stdin or stdout. Modes, owners (as numbers) and times are kept, except that a container's setuid and setgid bits are dropped on the host; symlinks inside what is copied are copied as symlinks. Prints one result record, except when it writes a tar stream to stdout.\n\nAs cp -r does: a directory copied to an existing directory goes into it under its own name, and to a new path becomes that path (whose parent must exist); a SRC ending in \"/.\" copies a directory's contents. A SRC that is a symlink is copied as one, unless it ends in \"/\" or with --follow-link. A tar stream read from stdin is unpacked into DST, an existing directory; one written to stdout holds SRC under its own name.\n\nA container is not trusted: its paths are resolved as it sees them (an absolute symlink leads to its own root), never outside its root. A path that climbs above the root with .., or a write through a symlink inside what is copied, is refused (exit 8), and nothing is read or written outside. A running container's own mounts (--mount, /proc) are reached through its root as it sees it. Devices, sockets, FIFOs and the kernel's own files (/proc, /sys, cgroups) are left out, each said on stderr. Containers on a Proxmox VE cluster are not reached (the API has no file transfer).",
    args: &[
        Arg {
            name: "SRC",
            help: "What to copy: NAME:PATH, a host path, or - (a tar stream on stdin)",
            required: true,
            many: false,
            complete: Complete::ContainerPath,
        },
        Arg {
            name: "DST",
            help: "Where to: NAME:PATH, a host path, or - (a tar stream on stdout)",
            required: true,
            many: false,
            complete: Complete::ContainerPath,
        },
    ],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "ctr-cp ./site web:/srv",
            "Copy the directory site into /srv in web.",
        ),
        (
            "ctr-cp web:/etc/passwd passwd.web",
            "Copy a file out of a container.",
        ),
        (
            "ctr-cp build:/out/. ./artifacts",
            "Copy a directory's contents out.",
        ),
        (
            "ctr-cp web:/var/log - | gzip > web-logs.tar.gz",
            "Stream a directory out as tar.",
        ),
        (
            "tar -C ./conf -c . | ctr-cp - web:/etc/app",
            "Unpack a tar stream into a container.",
        ),
        (
            "for c in $(ctr-list --status running -o name); do ctr-cp motd \"$c:/etc/motd\"; done | jq -r 'select(.ok | not) | .name'",
            "Copy a file into every running container; name those it failed in.",
        ),
        (
            "ctr-cp ./site web:/srv | from json | get ok",
            "Whether it worked, in nushell.",
        ),
    ],
    prints: Prints::Results,
    effect: Effect::Reads,
};

crate::flags! {
    /// ctr-cp's flags.
    pub struct Args {
        follow_link: bool = switch(
            "follow-link",
            Some('L'),
            "When SRC is a symlink, copy what it points at (in the container, as it sees it)",
        ),
    }
}

/// One side of a copy, as given.
#[derive(Debug, PartialEq)]
enum Side {
    /// `-`: a tar stream (stdin as SRC, stdout as DST).
    Stream,
    Host(String),
    Inside {
        name: String,
        path: String,
    },
}

impl Side {
    fn parse(s: &str) -> Result<Side> {
        if s == "-" {
            return Ok(Side::Stream);
        }
        // A path that starts with / or . is the host's, colon or not.
        if s.starts_with('/') || s.starts_with('.') {
            return Ok(Side::Host(s.to_string()));
        }
        match s.split_once(':') {
            Some((name, path)) => {
                crate::guest::names::check(name)?;
                Ok(Side::Inside {
                    name: name.to_string(),
                    path: path.to_string(),
                })
            }
            None => Ok(Side::Host(s.to_string())),
        }
    }

    /// The path, as messages name it: the name of the container they are
    /// about comes first already.
    fn shown(&self) -> String {
        match self {
            Side::Stream => "-".into(),
            Side::Host(p) => p.clone(),
            Side::Inside { path, .. } if path.is_empty() => "/".into(),
            Side::Inside { path, .. } => path.clone(),
        }
    }

    /// Where the path is, for messages about one that is not there.
    fn place(&self) -> &'static str {
        match self {
            Side::Host(_) => " on the host",
            _ => "",
        }
    }
}

/// Copies SRC to DST, one of them in a container, and prints one result
/// record; with DST `-` it writes the tar stream to stdout instead.
pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    // The parser has checked that both are there.
    let (src, dst) = (
        Side::parse(&ctx.positionals[0])?,
        Side::parse(&ctx.positionals[1])?,
    );
    let name = match (&src, &dst) {
        (Side::Inside { name: a, .. }, Side::Inside { name: b, .. }) => {
            return Err(
                Error::usage("both sides are in containers").with_hint(format!(
                    "copy through a pipe: ctr-cp {a}:PATH - | ctr-cp - {b}:DIR"
                )),
            );
        }
        (Side::Inside { name, .. }, _) | (_, Side::Inside { name, .. }) => name.clone(),
        _ => {
            return Err(Error::usage("neither side is in a container")
                .with_hint("name one as NAME:PATH, as in ctr-cp ./file web:/tmp"));
        }
    };
    if dst == Side::Stream {
        // stdout is the tar stream: no record goes there.
        let c = Containers(ctx).one(&name)?;
        return copy(ctx, &c, &src, &dst, args.follow_link)
            .map(|()| 0)
            .map_err(|e| e.prefixed(&name));
    }
    ctx.act(
        &Containers(ctx),
        "cp",
        vec![Target::named(&name)],
        crate::cli::args::Jobs(1),
        |c| {
            copy(ctx, c, &src, &dst, args.follow_link)?;
            Ok(Done {
                changed: true,
                ..Done::default()
            })
        },
    )
}

/// The container's root as seen from here: a running one's as its
/// processes see it (with its mounts), a stopped one's directory. Only a
/// container with a root on this host has one (a cluster's pids are its
/// nodes', not this host's).
fn root(ctx: &Ctx, c: &Found) -> Result<(PathBuf, Option<std::fs::File>)> {
    let dir = c.backend.rootfs(&c.name).ok_or_else(|| {
        Error::usage(format!(
            "ctr-cp reaches only containers with a root on this host, not those of backend {}",
            c.backend.kind().as_str()
        ))
        .with_hint(format!(
            "copy through a tar stream: ctr-exec {} -- tar -C DIR -c . > out.tar",
            c.name
        ))
    })?;
    let pid = || c.backend.state(&c.name, &ctx.out).map(|s| s.container.pid);
    let Some(first) = pid()? else {
        return Ok((dir, None));
    };
    // /proc/PID opened, then the container asked again: the directory held
    // is that process's even if the pid is reused later, so the copy can
    // never land in another process's root (the host's, say).
    let proc_dir = std::fs::File::open(format!("/proc/{first}"))
        .map_err(|e| Error::failed(format!("cannot open /proc/{first}: {e}")))?;
    if pid()? != Some(first) {
        return Err(
            Error::conflict("the container restarted while ctr-cp looked at it")
                .with_hint("run ctr-cp again"),
        );
    }
    use std::os::fd::AsRawFd;
    let root = PathBuf::from(format!("/proc/self/fd/{}/root", proc_dir.as_raw_fd()));
    Ok((root, Some(proc_dir)))
}

fn copy(ctx: &Ctx, c: &Found, src: &Side, dst: &Side, follow_link: bool) -> Result<()> {
    let skipped = |m: &str| ctx.out.warn(m);
    // The /proc/PID directory, held open for as long as the copy runs.
    let (root, _held) = root(ctx, c)?;
    let find = |side: &Side, follow: bool| -> Result<Located> {
        match side {
            Side::Inside { path, .. } => tree::locate(&root, path, true, follow),
            Side::Host(p) => tree::locate(Path::new("/"), p, false, follow),
            Side::Stream => unreachable!("a stream is not looked up"),
        }
    };
    let src_path = match src {
        Side::Inside { path, .. } | Side::Host(path) => path.as_str(),
        Side::Stream => "",
    };
    // SRC/. : the directory's contents; SRC/ : follow a final symlink.
    let contents = src_path == "." || src_path.ends_with("/.");
    let follow = follow_link || src_path.ends_with('/') || contents;
    let shown = src.shown();
    let (from, is_dir) = match src {
        Side::Stream => (None, true),
        _ => {
            let at = find(src, follow)?;
            match at.stat()? {
                None => {
                    return Err(Error::not_found(format!(
                        "{shown}: no such file or directory{}",
                        src.place()
                    )));
                }
                Some(st) => {
                    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
                    if contents && !is_dir {
                        return Err(Error::not_found(format!(
                            "{shown}: not a directory{}",
                            src.place()
                        )));
                    }
                    (Some(at), is_dir)
                }
            }
        }
    };
    // Its name as given (not where a followed symlink led); none for the
    // root, `..` or SRC/. , whose contents are copied.
    let given = src_path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let name: Option<OsString> = (from.is_some() && !contents && !matches!(given, "" | "." | ".."))
        .then(|| OsString::from(given));
    if *dst == Side::Stream {
        let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        return run_copy(
            from,
            name.into_iter().collect(),
            TarWriter::new(out),
            &skipped,
        );
    }
    let dshown = dst.shown();
    // Onto the host, a container's setuid and setgid bits are dropped.
    let writer = |base, shown: &str| match dst {
        Side::Host(_) => TreeWriter::new(base, shown).without_setid(),
        _ => TreeWriter::new(base, shown),
    };
    let to = find(dst, true)?;
    let st = to.stat()?;
    if st.is_some_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR) {
        // Into it: under SRC's name, or (a stream, SRC/.) as it is.
        let base = to.open_dir().map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP | libc::ENOTDIR) => Error::invalid(format!(
                "{dshown}: changed into a symlink while copied: not followed"
            )),
            _ => Error::failed(format!("{dshown}: {}", crate::error::plain_io(&e))),
        })?;
        let top = name.into_iter().collect();
        return run_copy(from, top, writer(base, &dshown), &skipped);
    }
    if *src == Side::Stream {
        return Err(
            Error::not_found(format!("{dshown}: no such directory{}", dst.place()))
                .with_hint("a tar stream is unpacked into a directory that exists"),
        );
    }
    if st.is_some() && is_dir {
        return Err(Error::conflict(format!(
            "{dshown}: not a directory, and {shown} is one"
        )));
    }
    if st.is_some() && dshown.ends_with('/') {
        return Err(Error::conflict(format!("{dshown}: not a directory")));
    }
    if st.is_none() && dshown.ends_with('/') {
        return Err(Error::not_found(format!(
            "{dshown}: no such directory{}",
            dst.place()
        )));
    }
    // A new (or replaced) entry of DST's name, in DST's directory.
    let top = vec![OsString::from_vec(to.name.as_bytes().to_vec())];
    let parent = dshown.rsplit_once('/').map(|(p, _)| p).unwrap_or(".");
    run_copy(from, top, writer(to.dir, parent), &skipped)
}

/// Copies from the entry found (all of a directory), else from the tar
/// stream on stdin.
fn run_copy(
    from: Option<Located>,
    top: Vec<OsString>,
    mut sink: impl Sink,
    skipped: &dyn Fn(&str),
) -> Result<()> {
    match from {
        None => tree::read_tar(std::io::stdin().lock(), &mut sink, skipped),
        Some(at) => tree::walk(&at, top, &mut sink, skipped),
    }
}

#[cfg(test)]
mod tests {
    use super::Side;

    #[test]
    fn sides() {
        let inside = |n: &str, p: &str| Side::Inside {
            name: n.into(),
            path: p.into(),
        };
        assert_eq!(Side::parse("web:/etc").unwrap(), inside("web", "/etc"));
        assert_eq!(Side::parse("web:").unwrap(), inside("web", ""));
        assert_eq!(Side::parse("-").unwrap(), Side::Stream);
        assert_eq!(Side::parse("./a:b").unwrap(), Side::Host("./a:b".into()));
        assert_eq!(Side::parse("/x:y").unwrap(), Side::Host("/x:y".into()));
        assert_eq!(Side::parse("file").unwrap(), Side::Host("file".into()));
        assert!(Side::parse("bad name:/x").is_err());
    }
}
