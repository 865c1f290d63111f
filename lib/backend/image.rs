//! Root filesystems for new containers: the embedded `busybox` image (built
//! from the host's static busybox, cached), a directory, or a tarball.

use crate::error::{Error, Result, plain_io};
use crate::os::process::{Tool, capture};
use crate::output::Output;
use std::path::{Path, PathBuf};

/// What a new container's root filesystem is made from (--image).
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    /// The built-in image, made from the host's static busybox and cached.
    Busybox,
    /// A directory holding a root filesystem (canonical path).
    Dir(PathBuf),
    /// An OCI bundle: a directory with config.json and the root filesystem.
    Bundle(PathBuf),
    /// A rootfs tarball (canonical path), and how it is compressed.
    Tarball(PathBuf, Compression),
    /// A Proxmox VE OS template (`local:vztmpl/…`, or a short name the
    /// node's templates are searched for): the server unpacks it.
    Template(String),
    /// An image in a registry, not pulled yet (`crate::backend::pull`).
    Reference(crate::registry::reference::Reference),
    /// An image from a registry, pulled: its reference and its root in the
    /// cache, shared read-only.
    Pulled(String, PathBuf),
}

/// How a tarball is compressed, from its name's ending.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compression {
    /// `.tar`.
    None,
    /// `.tar.gz` or `.tgz`.
    Gzip,
    /// `.tar.xz` or `.txz`.
    Xz,
    /// `.tar.zst` or `.tzst`.
    Zstd,
}

impl Compression {
    /// A tarball's, by how its name ends; `None` for a name that is no
    /// tarball's.
    pub fn of(name: &str) -> Option<Compression> {
        let lower = name.to_ascii_lowercase();
        let ends = |e: &[&str]| e.iter().any(|e| lower.ends_with(e));
        Some(if ends(&[".tar"]) {
            Compression::None
        } else if ends(&[".tar.gz", ".tgz"]) {
            Compression::Gzip
        } else if ends(&[".tar.xz", ".txz"]) {
            Compression::Xz
        } else if ends(&[".tar.zst", ".tzst"]) {
            Compression::Zstd
        } else {
            return None;
        })
    }
}

const BUSYBOX: Tool = Tool::new("busybox", "busybox-static");
const TAR: Tool = Tool::new("tar", "tar");
const CP: Tool = Tool::new("cp", "coreutils");

impl Image {
    /// `busybox`, an existing directory (an OCI bundle when it holds a
    /// config.json), or a file named *.tar, *.tar.gz,
    /// *.tgz, *.tar.xz or *.tar.zst; else an image in a registry
    /// (`alpine:3.20`, `REGISTRY/REPO:TAG`, `…@sha256:…`). A path is told
    /// by its being there, or starting with `/` or `.`, or ending as a
    /// tarball does.
    pub fn parse(s: &str) -> Result<Image> {
        if s == "busybox" {
            return Ok(Image::Busybox);
        }
        let path = Path::new(s);
        let compression = Compression::of(s);
        let looks_like_path = s.starts_with(['/', '.', '~']) || compression.is_some();
        if !looks_like_path && std::fs::symlink_metadata(path).is_err() {
            return crate::registry::reference::Reference::parse(s)
                .map(Image::Reference)
                .map_err(|why| {
                    Error::invalid(format!(
                        "image {}: neither a file here nor an image reference: {why}",
                        crate::guest::names::quote(s)
                    ))
                    .with_hint(
                        "use 'busybox', a directory, a rootfs tarball, or REGISTRY/REPOSITORY:TAG",
                    )
                });
        }
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::invalid(format!(
                "image {}: {}",
                crate::guest::names::quote(s),
                plain_io(&e)
            ))
            .with_hint("use 'busybox', a directory holding a root filesystem, or a rootfs tarball")
        })?;
        let abs =
            std::fs::canonicalize(path).map_err(|e| Error::io("cannot resolve image", path, e))?;
        if meta.is_dir() {
            if abs.join("config.json").is_file() {
                return Ok(Image::Bundle(abs));
            }
            return Ok(Image::Dir(abs));
        }
        let Some(compression) = compression else {
            return Err(Error::invalid(format!(
                "image {} is neither a directory nor a tarball",
                crate::guest::names::quote(s)
            ))
            .with_hint("tarballs must end in .tar, .tar.gz, .tgz, .tar.xz or .tar.zst"));
        };
        Ok(Image::Tarball(abs, compression))
    }

    /// How records show the image.
    pub fn label(&self) -> String {
        match self {
            Image::Busybox => "busybox".into(),
            Image::Dir(p) | Image::Bundle(p) | Image::Tarball(p, _) => p.display().to_string(),
            Image::Template(t) => t.clone(),
            Image::Reference(r) => r.to_string(),
            Image::Pulled(r, _) => r.clone(),
        }
    }

    /// The cached root filesystem of a built-in image, to share read-only.
    pub fn cached(&self, cache: &Path, out: &Output) -> Result<Option<PathBuf>> {
        match self {
            Image::Busybox => busybox_rootfs(cache, out).map(Some),
            Image::Pulled(_, root) => Ok(Some(root.clone())),
            _ => Ok(None),
        }
    }

    /// Fills an empty directory with the image's root filesystem.
    pub fn unpack_into(&self, rootfs: &Path, cache: &Path, out: &Output) -> Result<()> {
        out.progress(Some(&format!("unpacking {}", self.label())));
        let r = self.unpack(rootfs, cache, out);
        out.progress(None);
        r
    }

    fn unpack(&self, rootfs: &Path, cache: &Path, out: &Output) -> Result<()> {
        let trace = |m: &str| out.trace(m);
        let source = match self {
            Image::Busybox => {
                // Our own image holds only directories, files and hard links:
                // copying it in-process is several times faster than cp -a.
                let cached = busybox_rootfs(cache, out)?;
                out.trace(&format!(
                    "copying {} to {}",
                    cached.display(),
                    rootfs.display()
                ));
                return copy_plain_tree(&cached, rootfs);
            }
            Image::Dir(d) | Image::Pulled(_, d) => d.clone(),
            Image::Reference(r) => {
                return Err(Error::failed(format!(
                    "image {r} was not pulled before its use"
                )));
            }
            Image::Bundle(b) => b.join(bundle_root(b)?),
            Image::Template(t) => {
                return Err(Error::usage(format!(
                    "image {t} is a Proxmox VE OS template: it is for backend proxmox"
                )));
            }
            Image::Tarball(file, compression) => {
                let mut args: Vec<std::ffi::OsString> =
                    vec!["-x".into(), "--numeric-owner".into(), "-p".into()];
                args.push(
                    match compression {
                        Compression::None => "--no-auto-compress",
                        Compression::Gzip => "--gzip",
                        Compression::Xz => "--xz",
                        Compression::Zstd => "--zstd",
                    }
                    .into(),
                );
                args.extend(["-f".into(), file.into(), "-C".into(), rootfs.into()]);
                let r = capture(&TAR.find()?, args, &trace)?;
                if !r.ok() {
                    // The first line that names a cause ("xz: File format not
                    // recognized", "../x: Member name contains '..'"): tar's
                    // warnings that it made a name relative come before it,
                    // and its last lines only say that it gave up.
                    let first = r
                        .stderr
                        .lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty() && !l.contains(": Removing leading"))
                        .unwrap_or("failed");
                    return Err(Error::invalid(format!(
                        "cannot unpack image {}: {first}",
                        file.display()
                    )));
                }
                return Ok(());
            }
        };
        copy_tree(&source, rootfs, out)
    }
}

/// The root filesystem's path inside an OCI bundle (config.json's root.path).
fn bundle_root(bundle: &Path) -> Result<PathBuf> {
    let file = bundle.join("config.json");
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io("cannot read", &file, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::invalid(format!(
            "bad OCI bundle {}: config.json: {e}",
            bundle.display()
        ))
    })?;
    let root = v
        .pointer("/root/path")
        .and_then(|p| p.as_str())
        .unwrap_or("rootfs");
    let path = bundle.join(root);
    if !path.is_dir() {
        return Err(Error::invalid(format!(
            "bad OCI bundle {}: no root filesystem at {root}",
            bundle.display()
        )));
    }
    Ok(path)
}

/// Copies a tree of directories, regular files, symlinks and hard links
/// (kept as hard links within the copy), with modes. For guestkit's own image;
/// other images go through `cp -a`, which knows every kind of file.
fn copy_plain_tree(src: &Path, dst: &Path) -> Result<()> {
    use std::collections::HashMap;
    use std::os::unix::fs::MetadataExt;
    let mut linked: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let mut stack = vec![(src.to_path_buf(), dst.to_path_buf())];
    while let Some((from, to)) = stack.pop() {
        let entries = std::fs::read_dir(&from).map_err(|e| Error::io("cannot read", &from, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot read", &from, e))?;
            let (f, t) = (entry.path(), to.join(entry.file_name()));
            let meta =
                std::fs::symlink_metadata(&f).map_err(|e| Error::io("cannot read", &f, e))?;
            let kind = meta.file_type();
            if kind.is_dir() {
                std::fs::create_dir(&t).map_err(|e| Error::io("cannot create", &t, e))?;
                std::fs::set_permissions(&t, meta.permissions())
                    .map_err(|e| Error::io("cannot chmod", &t, e))?;
                stack.push((f, t));
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&f).map_err(|e| Error::io("cannot read", &f, e))?;
                std::os::unix::fs::symlink(target, &t)
                    .map_err(|e| Error::io("cannot create", &t, e))?;
            } else if let Some(first) = linked.get(&(meta.dev(), meta.ino())) {
                std::fs::hard_link(first, &t).map_err(|e| Error::io("cannot link", &t, e))?;
            } else {
                std::fs::copy(&f, &t).map_err(|e| Error::io("cannot copy to", &t, e))?;
                if meta.nlink() > 1 {
                    linked.insert((meta.dev(), meta.ino()), t);
                }
            }
        }
    }
    Ok(())
}

/// Creates a new container's own directory, atomically: of two creates of one
/// name at once, exactly one gets it, and the other's cleanup can never touch it.
pub fn claim_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // A throwaway container's root may still be mounted there: rm -r
            // alone would go into it.
            let root = dir.join("rootfs");
            let remove = match crate::backend::oci::overlay::is_mountpoint(&root) {
                true => format!("umount {} && rm -r {}", root.display(), dir.display()),
                false => format!("rm -r {}", dir.display()),
            };
            Err(Error::conflict(format!("{} already exists", dir.display())).with_hint(format!(
                "if ctr-list does not show it, it is left from a create that was killed: remove it with {remove}"
            )))
        }
        Err(e) => Err(Error::io("cannot create", dir, e)),
    }
}

/// `cp -a SRC/. DST`: keeps owners, modes, links and special files.
pub fn copy_tree(src: &Path, dst: &Path, out: &Output) -> Result<()> {
    let r = capture(
        &CP.find()?,
        vec![
            "-a".into(),
            "--reflink=auto".into(),
            src.join(".").into(),
            dst.into(),
        ],
        &|m| out.trace(m),
    )?;
    if !r.ok() {
        return Err(Error::failed(format!(
            "cannot copy {}: {}",
            src.display(),
            last_line(&r.stderr)
        )));
    }
    Ok(())
}

fn last_line(s: &str) -> &str {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed")
        .trim()
}

/// Bumped when the image's layout changes, so old caches are not reused.
const LAYOUT: u32 = 3;

/// The cached busybox root filesystem, built on first use. The cache key is
/// the busybox binary's size and mtime, so an upgrade makes a new one.
fn busybox_rootfs(cache: &Path, out: &Output) -> Result<PathBuf> {
    let bin = BUSYBOX.find()?;
    let bin = std::fs::canonicalize(&bin).unwrap_or(bin);
    let meta = std::fs::metadata(&bin).map_err(|e| Error::io("cannot read", &bin, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let dir = cache.join(format!("images/busybox-{LAYOUT}-{}-{mtime}", meta.len()));
    if dir.join("bin/busybox").exists() {
        return Ok(dir);
    }
    if !is_static(&bin)? {
        return Err(Error::unavailable(format!(
            "{} is dynamically linked and cannot run in a container",
            bin.display()
        ))
        .with_hint("install the busybox-static package, e.g. 'apt-get install busybox-static'"));
    }
    out.trace(&format!("building the busybox image in {}", dir.display()));
    let parent = dir.parent().expect("images dir");
    std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    // Build beside the final place, then rename: a half-built image is never used.
    let tmp = parent.join(format!(".busybox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let built = build_busybox(&bin, &tmp, out);
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another run built it first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(dir)
}

fn build_busybox(bin: &Path, root: &Path, out: &Output) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fn io<'a>(what: &'static str, p: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
        move |e| Error::io(what, p, e)
    }
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "tmp", "root", "run",
        "var/log", "home",
    ] {
        let p = root.join(d);
        std::fs::create_dir_all(&p).map_err(io("cannot create", &p))?;
    }
    let tmp = root.join("tmp");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777))
        .map_err(io("cannot chmod", &tmp))?;
    let target = root.join("bin/busybox");
    std::fs::copy(bin, &target).map_err(io("cannot copy busybox to", &target))?;
    let list = capture(bin, vec!["--list-full".into()], &|m| out.trace(m))?;
    if !list.ok() {
        return Err(Error::failed(format!(
            "{} --list-full failed: {}",
            bin.display(),
            last_line(&list.stderr)
        )));
    }
    // Applets are hard links to the one binary, not symlinks: a link costs no
    // inode, so copying the image for each new container stays cheap.
    for applet in list
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(".."))
    {
        let link = root.join(applet);
        if link.symlink_metadata().is_err() {
            std::fs::hard_link(&target, &link).map_err(io("cannot link", &link))?;
        }
    }
    let files: &[(&str, &str)] = &[
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        // busybox init: nothing to start; halt and poweroff just end the container.
        ("etc/inittab", "::sysinit:/bin/true\n::shutdown:/bin/true\n"),
        ("etc/hostname", "busybox\n"),
        // Present for the bind mounts of a networked container (net/mod.rs
        // ETC_FILES): a runtime that had to make them would change the root.
        ("etc/hosts", "127.0.0.1\tlocalhost\n"),
        ("etc/resolv.conf", ""),
    ];
    for (path, text) in files {
        let p = root.join(path);
        std::fs::write(&p, text).map_err(io("cannot write", &p))?;
    }
    Ok(())
}

/// Whether an ELF executable has no program interpreter (is statically linked).
fn is_static(bin: &Path) -> Result<bool> {
    let data = std::fs::read(bin).map_err(|e| Error::io("cannot read", bin, e))?;
    let bad = || Error::unavailable(format!("{} is not an ELF executable", bin.display()));
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return Err(bad()); // not 64-bit little-endian ELF
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let u64_at =
        |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().expect("8 bytes")) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if o + 4 > data.len() {
            return Err(bad());
        }
        if u32::from_le_bytes(data[o..o + 4].try_into().expect("4 bytes")) == 3 {
            return Ok(false); // PT_INTERP
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_kinds() {
        assert_eq!(Image::parse("busybox").unwrap(), Image::Busybox);
        assert!(matches!(Image::parse("/").unwrap(), Image::Dir(_)));
        let bundle = tempfile::tempdir().unwrap();
        std::fs::write(bundle.path().join("config.json"), "{}").unwrap();
        assert!(matches!(
            Image::parse(bundle.path().to_str().unwrap()).unwrap(),
            Image::Bundle(_)
        ));
        let e = Image::parse("/no/such/thing").unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::InvalidInput);
        let e = Image::parse("/etc/passwd").unwrap_err();
        assert!(e.message.contains("neither a directory nor a tarball"));
    }

    #[test]
    fn dynamic_binaries_are_told_apart() {
        // The test binary itself is dynamically linked.
        let me = std::env::current_exe().unwrap();
        assert!(!is_static(&me).unwrap());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any image reference is an image or a clear refusal (invalid
        /// input), never a panic: names, paths, tarball-like names.
        #[test]
        fn image_references_parse_or_are_refused(s in "(busybox|/tmp|/nonexistent|\\.|[a-z./-]{0,20}(\\.tar(\\.gz|\\.xz|\\.zst)?)?)|\\PC{0,20}") {
            if let Err(e) = Image::parse(&s) {
                prop_assert!(matches!(e.kind, crate::error::Kind::InvalidInput | crate::error::Kind::NotFound | crate::error::Kind::Denied));
            }
        }
    }
}
