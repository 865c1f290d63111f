//! Copying trees of files into and out of a root that is not trusted: a
//! container's. Every path below such a root is walked one component at a
//! time from open directories, each opened with O_NOFOLLOW, so that no
//! symlink in it (nor one swapped in meanwhile) leads outside: a symlink on
//! the way is followed as the container sees it (an absolute one from its
//! root), `..` is refused where it would climb above the root, and the
//! entries of a copied tree are copied as they are, never followed.
//!
//! A copy is a source (a tree walked, or a tar stream read) feeding a sink
//! (a tree written, or a tar stream written); modes, owners and times go
//! with each entry.

use crate::error::{Error, Result};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// How many symlinks a path may pass through, as Linux allows.
const MAX_LINKS: usize = 40;

/// A path below a sink's base, as components: none is empty, `.` or `..`.
pub type Rel = [OsString];

/// An entry's mode bits (permissions, setuid, setgid, sticky), owner and times.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    /// The mode's low 12 bits (`0o7777`), without the file type.
    pub mode: u32,
    /// The owning user, as a number.
    pub uid: u32,
    /// The owning group, as a number.
    pub gid: u32,
    /// (seconds, nanoseconds) since the epoch.
    pub atime: (i64, i64),
    /// The modification time, likewise.
    pub mtime: (i64, i64),
}

impl Meta {
    fn of(st: &libc::stat) -> Meta {
        Meta {
            mode: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
            atime: (st.st_atime, st.st_atime_nsec),
            mtime: (st.st_mtime, st.st_mtime_nsec),
        }
    }
}

/// A regular file's bytes: an open file (copied by the kernel, with
/// copy_file_range) or a stream.
pub enum Data<'a> {
    /// A regular file, opened for reading (from a walked tree).
    File(&'a mut File),
    /// Any reader, such as a tar entry's contents.
    Stream(&'a mut dyn Read),
}

/// Where a copy's entries go, in the order a walk finds them (a directory
/// before what it holds).
pub trait Sink {
    /// A directory; the entries it holds come after it.
    fn dir(&mut self, path: &Rel, meta: &Meta) -> Result<()>;
    /// A regular file of `size` bytes, read from `data`.
    fn file(&mut self, path: &Rel, meta: &Meta, size: u64, data: Data) -> Result<()>;
    /// A symlink to `target`, copied as it is, never followed.
    fn symlink(&mut self, path: &Rel, meta: &Meta, target: &OsStr) -> Result<()>;
    /// A second name for an entry already copied (tar streams have them).
    fn hardlink(&mut self, path: &Rel, to: &Rel) -> Result<()>;
    /// Called once, after the last entry.
    fn finish(&mut self) -> Result<()>;
}

/// An entry found by `locate`: a name in an open directory. The name is
/// `.` for the directory itself (the root, or a path ending in `..`).
pub struct Located {
    /// The directory that holds the entry, opened with O_PATH.
    pub dir: OwnedFd,
    /// The entry's name in `dir`: one component, or `.`.
    pub name: CString,
}

impl Located {
    /// The entry's status, without following it; `None` when it does not exist.
    pub fn stat(&self) -> Result<Option<libc::stat>> {
        match fstatat(self.dir.as_fd(), &self.name) {
            Ok(st) => Ok(Some(st)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(Error::failed(format!("cannot look at it: {}", plain(&e)))),
        }
    }

    /// The directory it is, opened.
    pub fn open_dir(&self) -> std::io::Result<OwnedFd> {
        openat(
            self.dir.as_fd(),
            &self.name,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )
    }
}

/// Finds `path` in the directory tree at `root`. With `contained`, the
/// root is a container's: symlinks are followed as the container would,
/// and `..` may not climb above the root (exit 8). Without, it is the
/// host's own tree, and the path is resolved as any program would (relative
/// to the working directory). A final symlink is followed only with
/// `follow_last`; a missing final entry is found (to be created), a missing
/// directory on the way is not (exit 3).
pub fn locate(root: &Path, path: &str, contained: bool, follow_last: bool) -> Result<Located> {
    let start = if contained || path.starts_with('/') {
        root
    } else {
        Path::new(".")
    };
    let first = open_path(start)
        .map_err(|e| Error::failed(format!("cannot open {}: {}", start.display(), plain(&e))))?;
    let mut stack = vec![first];
    let mut todo: std::collections::VecDeque<OsString> = components(path.as_bytes()).collect();
    let mut links = 0;
    while let Some(part) = todo.pop_front() {
        let top = stack.last().expect("the root stays").as_fd();
        if part == ".." {
            if stack.len() > 1 {
                stack.pop();
            } else if contained {
                return Err(Error::invalid(format!(
                    "{path}: leads out of the container's root (by ..)"
                )));
            } else {
                let up = openat(top, c"..", libc::O_PATH | libc::O_DIRECTORY, 0)
                    .map_err(|e| Error::failed(format!("{path}: {}", plain(&e))))?;
                stack[0] = up;
            }
            continue;
        }
        let name = c_name(&part.into_vec())?;
        let last = todo.is_empty();
        let st = match fstatat(top, &name) {
            Ok(st) => st,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && last => {
                return Ok(Located {
                    dir: stack.pop().expect("the root stays"),
                    name,
                });
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(Error::not_found(format!(
                    "{path}: no directory {:?} on the way",
                    name.to_string_lossy()
                )));
            }
            Err(e) => return Err(Error::failed(format!("{path}: {}", plain(&e)))),
        };
        let kind = st.st_mode & libc::S_IFMT;
        if kind == libc::S_IFLNK && (!last || follow_last) {
            links += 1;
            if links > MAX_LINKS {
                return Err(Error::invalid(format!("{path}: too many symlinks")));
            }
            let target = readlinkat(top, &name)
                .map_err(|e| Error::failed(format!("{path}: {}", plain(&e))))?;
            if target.as_bytes().starts_with(b"/") {
                if contained {
                    stack.truncate(1);
                } else {
                    stack = vec![
                        open_path(Path::new("/"))
                            .map_err(|e| Error::failed(format!("cannot open /: {}", plain(&e))))?,
                    ];
                }
            }
            for c in components(target.as_bytes())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                todo.push_front(c);
            }
            continue;
        }
        if last {
            return Ok(Located {
                dir: stack.pop().expect("the root stays"),
                name,
            });
        }
        if kind != libc::S_IFDIR {
            return Err(Error::not_found(format!(
                "{path}: {:?} on the way is not a directory",
                name.to_string_lossy()
            )));
        }
        let next = openat(
            top,
            &name,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )
        .map_err(|e| swapped(path, &e))?;
        stack.push(next);
    }
    // The path named the root itself (or where `..` led).
    Ok(Located {
        dir: stack.pop().expect("the root stays"),
        name: c".".into(),
    })
}

/// Feeds the entry at `at` (a directory with everything below it) to
/// `sink`, named `top` there (no component: a directory's contents go to
/// the sink's base). Entries that are neither directories, files nor
/// symlinks (devices, sockets, FIFOs) are left out, each told to `skipped`.
/// Ends with the sink's `finish`.
pub fn walk(
    at: &Located,
    top: Vec<OsString>,
    sink: &mut dyn Sink,
    skipped: &dyn Fn(&str),
) -> Result<()> {
    let mut path = top;
    entry(at.dir.as_fd(), &at.name, &mut path, sink, skipped)?;
    sink.finish()
}

fn entry(
    dir: BorrowedFd,
    name: &CStr,
    path: &mut Vec<OsString>,
    sink: &mut dyn Sink,
    skipped: &dyn Fn(&str),
) -> Result<()> {
    let shown = || {
        let p: Vec<_> = path.iter().map(|c| c.to_string_lossy()).collect();
        p.join("/")
    };
    let cannot = |e: std::io::Error| Error::failed(format!("{}: {}", shown(), plain(&e)));
    let st = match fstatat(dir, name) {
        Ok(st) => st,
        // Gone since its directory was read (a running container's churn).
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) && !path.is_empty() => {
            skipped(&format!("{}: gone while copied: left out", shown()));
            return Ok(());
        }
        Err(e) => return Err(cannot(e)),
    };
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => {
            let d = openat(
                dir,
                name,
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                0,
            )
            .map_err(|e| swapped(&shown(), &e))?;
            // /proc, /sys, cgroups, devpts: the kernel's own files, read as
            // the host's root (the host's memory in /proc/kcore), not the
            // container's data.
            if let Some(kind) = kernel_fs(d.as_fd()) {
                skipped(&format!("{}: {kind}: left out", shown()));
                return Ok(());
            }
            if !path.is_empty() {
                sink.dir(path, &Meta::of(&st))?;
            }
            let mut names = read_names(d.as_fd()).map_err(cannot)?;
            names.sort();
            for n in names {
                let c = c_name(n.as_bytes())?;
                path.push(n);
                entry(d.as_fd(), &c, path, sink, skipped)?;
                path.pop();
            }
            Ok(())
        }
        libc::S_IFREG => {
            // Opened as a path first and looked at: only a regular file is
            // then opened for reading (through the descriptor, so it is the
            // same one), never a device or FIFO swapped in since the look.
            let at = openat(dir, name, libc::O_PATH | libc::O_NOFOLLOW, 0)
                .map_err(|e| swapped(&shown(), &e))?;
            let now = fstat(at.as_fd()).map_err(cannot)?;
            if now.st_mode & libc::S_IFMT != libc::S_IFREG {
                return Err(Error::invalid(format!(
                    "{}: changed into something else while copied: not read",
                    shown()
                )));
            }
            let reopened = c_name(format!("/proc/self/fd/{}", at.as_raw_fd()).as_bytes())?;
            // SAFETY: open with a NUL-terminated path; owned below.
            let fd = owned(unsafe {
                libc::open(
                    reopened.as_ptr(),
                    libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC,
                )
            })
            .map_err(cannot)?;
            let mut f = File::from(fd);
            sink.file(
                path,
                &Meta::of(&now),
                now.st_size as u64,
                Data::File(&mut f),
            )
        }
        libc::S_IFLNK => {
            let target = readlinkat(dir, name).map_err(cannot)?;
            sink.symlink(path, &Meta::of(&st), &target)
        }
        _ => {
            skipped(&format!(
                "{}: not a file, directory or symlink: left out",
                shown()
            ));
            Ok(())
        }
    }
}

/// Feeds the entries of a tar stream to `sink`. Absolute names are taken
/// as relative (as tar does); a name with `..` is refused (exit 8), and so
/// is a hard link to one.
pub fn read_tar(input: impl Read, sink: &mut dyn Sink, skipped: &dyn Fn(&str)) -> Result<()> {
    let bad = |e: std::io::Error| Error::invalid(format!("the tar stream: {}", plain(&e)));
    let mut archive = tar::Archive::new(input);
    for e in archive.entries().map_err(bad)? {
        let mut e = e.map_err(bad)?;
        let raw = e.path_bytes().into_owned();
        let path = tar_name(&raw)?;
        let h = e.header();
        let mtime = h.mtime().unwrap_or(0) as i64;
        let meta = Meta {
            mode: h.mode().map_err(bad)? & 0o7777,
            uid: h.uid().map_err(bad)? as u32,
            gid: h.gid().map_err(bad)? as u32,
            atime: (mtime, 0),
            mtime: (mtime, 0),
        };
        use tar::EntryType as T;
        match h.entry_type() {
            _ if path.is_empty() => {}
            T::Directory => sink.dir(&path, &meta)?,
            T::Regular | T::Continuous => {
                let size = e.size();
                sink.file(&path, &meta, size, Data::Stream(&mut e))?
            }
            T::Symlink => {
                let target = e.link_name_bytes().unwrap_or_default().into_owned();
                sink.symlink(&path, &meta, OsStr::from_bytes(&target))?
            }
            // A pax global header (git archive writes one) is no entry.
            T::XGlobalHeader => {}
            T::Link => {
                let to = tar_name(&e.link_name_bytes().unwrap_or_default())?;
                sink.hardlink(&path, &to)?
            }
            _ => skipped(&format!(
                "{}: not a file, directory or link: left out",
                String::from_utf8_lossy(&raw)
            )),
        }
    }
    sink.finish()
}

/// A name in a tar stream as components below the destination.
fn tar_name(raw: &[u8]) -> Result<Vec<OsString>> {
    let parts: Vec<OsString> = components(raw).collect();
    if parts.iter().any(|p| p == "..") {
        return Err(Error::invalid(format!(
            "the tar stream's entry {:?} leads out of the destination (by ..)",
            String::from_utf8_lossy(raw)
        )));
    }
    Ok(parts)
}

/// Writes the entries into the directory `base`, walking every entry's
/// path from there with O_NOFOLLOW: a symlink on the way is refused (exit
/// 8), never written through; an entry already there is replaced (a
/// directory is kept and filled). Directories missing on the way (a tar
/// stream need not list them) are made. Owners are set only by root;
/// directories get their modes and times last, once filled.
pub struct TreeWriter {
    base: OwnedFd,
    /// The directories written, for their metadata at the end.
    dirs: Vec<(Vec<OsString>, Meta)>,
    /// The directory of the last entry, open: most entries share it.
    last: Option<(Vec<OsString>, OwnedFd)>,
    owners: bool,
    /// setuid and setgid bits are dropped (a copy out of a container).
    strip_setid: bool,
    /// What the destination is called in messages.
    shown: String,
}

impl TreeWriter {
    /// A writer into the open directory `base`, called `shown` in messages;
    /// it sets owners when the process runs as root.
    pub fn new(base: OwnedFd, shown: &str) -> TreeWriter {
        TreeWriter {
            base,
            dirs: Vec::new(),
            last: None,
            // SAFETY: geteuid has no failure and touches no memory.
            owners: unsafe { libc::geteuid() } == 0,
            strip_setid: false,
            shown: shown.to_string(),
        }
    }

    /// Drops setuid and setgid bits from what it writes: a container's
    /// program is not to become the host's setuid-root one.
    pub fn without_setid(mut self) -> TreeWriter {
        self.strip_setid = true;
        self
    }

    fn show(&self, path: &Rel) -> String {
        let p: Vec<_> = path.iter().map(|c| c.to_string_lossy()).collect();
        format!("{}/{}", self.shown.trim_end_matches('/'), p.join("/"))
    }

    /// The open directory `dir` (below the base), made when missing.
    fn open(&mut self, dir: &Rel) -> Result<BorrowedFd<'_>> {
        if self.last.as_ref().is_none_or(|(p, _)| p.as_slice() != dir) {
            let mut fd = dup(self.base.as_fd()).map_err(|e| self.failed(dir, &e))?;
            for (i, c) in dir.iter().enumerate() {
                let name = c_name(c.as_bytes())?;
                let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
                fd = match openat(fd.as_fd(), &name, flags, 0) {
                    Ok(next) => next,
                    Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                        mkdirat(fd.as_fd(), &name, 0o755).map_err(|e| self.failed(dir, &e))?;
                        openat(fd.as_fd(), &name, flags, 0).map_err(|e| self.failed(dir, &e))?
                    }
                    Err(e) => return Err(self.refused(&dir[..=i], &e)),
                };
            }
            self.last = Some((dir.to_vec(), fd));
        }
        Ok(self.last.as_ref().expect("just set").1.as_fd())
    }

    /// An entry's directory, open, and its name; what is there now is
    /// removed unless it is a directory and `keep_dir`.
    fn place(&mut self, path: &Rel, keep_dir: bool) -> Result<(OwnedFd, CString, bool)> {
        let (name, dir) = path.split_last().expect("an entry has a name");
        let name = c_name(name.as_bytes())?;
        let fd = dup(self.open(dir)?).map_err(|e| self.failed(path, &e))?;
        let mut is_dir = false;
        if let Ok(st) = fstatat(fd.as_fd(), &name) {
            is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
            if is_dir && !keep_dir {
                return Err(Error::conflict(format!(
                    "{}: a directory is there",
                    self.show(path)
                )));
            }
            if !is_dir {
                unlinkat(fd.as_fd(), &name).map_err(|e| self.failed(path, &e))?;
            }
        }
        Ok((fd, name, is_dir))
    }

    fn failed(&self, path: &Rel, e: &std::io::Error) -> Error {
        Error::failed(format!("{}: {}", self.show(path), plain(e)))
    }

    /// An open on the way that failed: through a symlink, refused.
    fn refused(&self, path: &Rel, e: &std::io::Error) -> Error {
        match e.raw_os_error() {
            Some(libc::ELOOP | libc::ENOTDIR) => Error::invalid(format!(
                "{}: not a directory but a symlink or a file: nothing is written through it",
                self.show(path)
            )),
            _ => self.failed(path, e),
        }
    }

    fn set(&self, fd: BorrowedFd, path: &Rel, meta: &Meta) -> Result<()> {
        let r = fd.as_raw_fd();
        // SAFETY: fchown, fchmod and futimens on an open descriptor, with a
        // times array of two that outlives the call. chown first: it clears
        // the setuid bits that the mode then sets.
        unsafe {
            if self.owners {
                check(libc::fchown(r, meta.uid, meta.gid)).map_err(|e| self.failed(path, &e))?;
            }
            let mode = match self.strip_setid {
                true => meta.mode & !(libc::S_ISUID | libc::S_ISGID),
                false => meta.mode,
            };
            check(libc::fchmod(r, mode)).map_err(|e| self.failed(path, &e))?;
            let times = [timespec(meta.atime), timespec(meta.mtime)];
            check(libc::futimens(r, times.as_ptr())).map_err(|e| self.failed(path, &e))
        }
    }
}

impl Sink for TreeWriter {
    fn dir(&mut self, path: &Rel, meta: &Meta) -> Result<()> {
        let (fd, name, there) = self.place(path, true)?;
        if !there {
            mkdirat(fd.as_fd(), &name, 0o700).map_err(|e| self.failed(path, &e))?;
        }
        self.dirs.push((path.to_vec(), *meta));
        Ok(())
    }

    fn file(&mut self, path: &Rel, meta: &Meta, size: u64, data: Data) -> Result<()> {
        let (fd, name, _) = self.place(path, false)?;
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
        let mut f =
            File::from(openat(fd.as_fd(), &name, flags, 0o600).map_err(|e| self.failed(path, &e))?);
        // The size it had when looked at, and no more: a file the container
        // keeps growing does not fill the host's disk.
        let copied = match data {
            Data::File(src) => std::io::copy(&mut Read::take(src, size), &mut f),
            Data::Stream(src) => std::io::copy(src, &mut f),
        };
        copied.map_err(|e| self.failed(path, &e))?;
        self.set(f.as_fd(), path, meta)
    }

    fn symlink(&mut self, path: &Rel, meta: &Meta, target: &OsStr) -> Result<()> {
        let (fd, name, _) = self.place(path, false)?;
        let to = c_name(target.as_bytes())?;
        // SAFETY: symlinkat, fchownat and utimensat with NUL-terminated
        // strings and a times array that outlive the calls.
        unsafe {
            check(libc::symlinkat(to.as_ptr(), fd.as_raw_fd(), name.as_ptr()))
                .map_err(|e| self.failed(path, &e))?;
            if self.owners {
                check(libc::fchownat(
                    fd.as_raw_fd(),
                    name.as_ptr(),
                    meta.uid,
                    meta.gid,
                    libc::AT_SYMLINK_NOFOLLOW,
                ))
                .map_err(|e| self.failed(path, &e))?;
            }
            let times = [timespec(meta.atime), timespec(meta.mtime)];
            check(libc::utimensat(
                fd.as_raw_fd(),
                name.as_ptr(),
                times.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            ))
            .map_err(|e| self.failed(path, &e))
        }
    }

    fn hardlink(&mut self, path: &Rel, to: &Rel) -> Result<()> {
        let Some((to_name, to_dir)) = to.split_last() else {
            return Err(Error::invalid(format!(
                "{}: a hard link to nothing",
                self.show(path)
            )));
        };
        let to_name = c_name(to_name.as_bytes())?;
        let from = dup(self.open(to_dir)?).map_err(|e| self.failed(to, &e))?;
        let (fd, name, _) = self.place(path, false)?;
        // SAFETY: linkat with NUL-terminated names; without
        // AT_SYMLINK_FOLLOW it links the entry itself, never a symlink's target.
        check(unsafe {
            libc::linkat(
                from.as_raw_fd(),
                to_name.as_ptr(),
                fd.as_raw_fd(),
                name.as_ptr(),
                0,
            )
        })
        .map_err(|e| self.failed(path, &e))
    }

    fn finish(&mut self) -> Result<()> {
        // The deepest first: filling a directory changes its parent's time.
        for (path, meta) in std::mem::take(&mut self.dirs).iter().rev() {
            let (name, dir) = path.split_last().expect("an entry has a name");
            let name = c_name(name.as_bytes())?;
            let parent = dup(self.open(dir)?).map_err(|e| self.failed(path, &e))?;
            let fd = openat(
                parent.as_fd(),
                &name,
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                0,
            )
            .map_err(|e| self.refused(path, &e))?;
            self.set(fd.as_fd(), path, meta)?;
        }
        Ok(())
    }
}

/// Writes the entries as a tar stream (POSIX ustar with GNU long names, as
/// GNU tar reads and writes by default).
pub struct TarWriter<W: Write> {
    tar: tar::Builder<W>,
}

impl<W: Write> TarWriter<W> {
    /// A writer of a tar stream into `w`.
    pub fn new(w: W) -> TarWriter<W> {
        let tar = tar::Builder::new(w);
        TarWriter { tar }
    }

    fn header(kind: tar::EntryType, meta: &Meta, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(meta.mode);
        h.set_uid(meta.uid.into());
        h.set_gid(meta.gid.into());
        h.set_mtime(meta.mtime.0.max(0) as u64);
        h.set_size(size);
        h
    }
}

fn joined(path: &Rel) -> std::path::PathBuf {
    path.iter().collect()
}

fn written(e: std::io::Error) -> Error {
    Error::failed(format!("cannot write the tar stream: {}", plain(&e)))
}

impl<W: Write> Sink for TarWriter<W> {
    fn dir(&mut self, path: &Rel, meta: &Meta) -> Result<()> {
        let mut h = Self::header(tar::EntryType::Directory, meta, 0);
        // A directory's name ends in /, as tar(1) writes it.
        let mut name = joined(path).into_os_string();
        name.push("/");
        self.tar
            .append_data(&mut h, name, std::io::empty())
            .map_err(written)
    }

    fn file(&mut self, path: &Rel, meta: &Meta, size: u64, data: Data) -> Result<()> {
        let mut h = Self::header(tar::EntryType::Regular, meta, size);
        let src: &mut dyn Read = match data {
            Data::File(f) => f,
            Data::Stream(s) => s,
        };
        // Exactly `size` bytes, as the header says, even from a file that
        // shrank or grew meanwhile: its end is padded with zeros, or cut.
        let exact = src.take(size).chain(std::io::repeat(0)).take(size);
        self.tar
            .append_data(&mut h, joined(path), exact)
            .map_err(written)
    }

    fn symlink(&mut self, path: &Rel, meta: &Meta, target: &OsStr) -> Result<()> {
        let mut h = Self::header(tar::EntryType::Symlink, meta, 0);
        self.tar
            .append_link(&mut h, joined(path), target)
            .map_err(written)
    }

    fn hardlink(&mut self, path: &Rel, to: &Rel) -> Result<()> {
        let mut h = Self::header(
            tar::EntryType::Link,
            &Meta {
                mode: 0o644,
                uid: 0,
                gid: 0,
                atime: (0, 0),
                mtime: (0, 0),
            },
            0,
        );
        self.tar
            .append_link(&mut h, joined(path), joined(to))
            .map_err(written)
    }

    fn finish(&mut self) -> Result<()> {
        self.tar.finish().map_err(written)?;
        self.tar.get_mut().flush().map_err(written)
    }
}

/// A name as C takes it; a NUL byte in it (from a tar stream) is invalid input.
fn c_name(name: &[u8]) -> Result<CString> {
    CString::new(name).map_err(|_| {
        Error::invalid(format!(
            "{:?}: a name with a NUL byte in it",
            String::from_utf8_lossy(name)
        ))
    })
}

/// The components of a path, leaving out empty ones and `.`.
fn components(p: &[u8]) -> impl Iterator<Item = OsString> + '_ {
    p.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsString::from_vec(c.to_vec()))
}

/// An open on the way failed with ELOOP or ENOTDIR: what was looked at a
/// moment before as a directory or file is now a symlink (or other).
fn swapped(path: &str, e: &std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ELOOP | libc::ENOTDIR) => Error::invalid(format!(
            "{path}: changed into a symlink while copied: not followed"
        )),
        _ => Error::failed(format!("{path}: {}", plain(e))),
    }
}

fn plain(e: &std::io::Error) -> String {
    crate::error::plain_io(e)
}

fn check(rc: libc::c_int) -> std::io::Result<()> {
    match rc {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

fn timespec((s, ns): (i64, i64)) -> libc::timespec {
    libc::timespec {
        tv_sec: s,
        tv_nsec: ns,
    }
}

fn open_path(p: &Path) -> std::io::Result<OwnedFd> {
    let c = super::sys::cstr(p)?;
    // SAFETY: open with a NUL-terminated path; the descriptor is owned below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    owned(fd)
}

fn openat(dir: BorrowedFd, name: &CStr, flags: libc::c_int, mode: u32) -> std::io::Result<OwnedFd> {
    // SAFETY: openat with an open directory and a NUL-terminated name.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode,
        )
    };
    owned(fd)
}

fn owned(fd: libc::c_int) -> std::io::Result<OwnedFd> {
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor just returned to us, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn dup(fd: BorrowedFd) -> std::io::Result<OwnedFd> {
    fd.try_clone_to_owned()
}

fn fstatat(dir: BorrowedFd, name: &CStr) -> std::io::Result<libc::stat> {
    // SAFETY: fstatat into a zeroed stat of ours, with a NUL-terminated name.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        check(libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        ))?;
        Ok(st)
    }
}

fn fstat(fd: BorrowedFd) -> std::io::Result<libc::stat> {
    // SAFETY: fstat into a zeroed stat of ours.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        check(libc::fstat(fd.as_raw_fd(), &mut st))?;
        Ok(st)
    }
}

/// The kind of kernel filesystem an open directory is on, if it is one.
fn kernel_fs(dir: BorrowedFd) -> Option<&'static str> {
    // SAFETY: fstatfs into a zeroed statfs of ours.
    let magic = unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        if libc::fstatfs(dir.as_raw_fd(), &mut st) != 0 {
            return None;
        }
        st.f_type
    };
    match magic {
        libc::PROC_SUPER_MAGIC => Some("procfs"),
        libc::SYSFS_MAGIC => Some("sysfs"),
        libc::CGROUP_SUPER_MAGIC | libc::CGROUP2_SUPER_MAGIC => Some("a cgroup filesystem"),
        libc::DEVPTS_SUPER_MAGIC => Some("devpts"),
        _ => None,
    }
}

fn readlinkat(dir: BorrowedFd, name: &CStr) -> std::io::Result<OsString> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: readlinkat into a buffer of ours, of the length given.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(OsString::from_vec(buf))
}

fn mkdirat(dir: BorrowedFd, name: &CStr, mode: u32) -> std::io::Result<()> {
    // SAFETY: mkdirat with an open directory and a NUL-terminated name.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })
}

fn unlinkat(dir: BorrowedFd, name: &CStr) -> std::io::Result<()> {
    // SAFETY: unlinkat with an open directory and a NUL-terminated name.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) })
}

/// The names in an open directory, `.` and `..` left out.
fn read_names(dir: BorrowedFd) -> std::io::Result<Vec<OsString>> {
    // The descriptor's own directory, by its /proc name: listing it follows
    // nothing in the tree.
    std::fs::read_dir(format!("/proc/self/fd/{}", dir.as_raw_fd()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A root with /etc/hosts, /abs -> /etc (absolute), /up -> ../../..
    /// (above the root), and /loop -> /loop.
    fn root() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/hosts"), "inside").unwrap();
        symlink("/etc", d.path().join("abs")).unwrap();
        symlink("../../..", d.path().join("up")).unwrap();
        symlink("/loop", d.path().join("loop")).unwrap();
        d
    }

    fn read(l: &Located) -> String {
        let fd = openat(l.dir.as_fd(), &l.name, libc::O_RDONLY, 0).unwrap();
        std::io::read_to_string(File::from(fd)).unwrap()
    }

    #[test]
    fn an_absolute_symlink_leads_to_the_roots_own_path() {
        let d = root();
        let l = locate(d.path(), "/abs/hosts", true, true).unwrap();
        assert_eq!(read(&l), "inside");
        // The same path on the host's own tree is the host's file.
        let host = locate(Path::new("/"), "/etc/hostname", false, true).unwrap();
        assert_eq!(host.name.as_bytes(), b"hostname");
    }

    #[test]
    fn dotdot_never_climbs_above_the_root() {
        let d = root();
        let e = locate(d.path(), "/up/etc/passwd", true, true)
            .err()
            .unwrap();
        assert_eq!(e.kind, crate::error::Kind::InvalidInput, "{}", e.message);
        let e = locate(d.path(), "../etc", true, true).err().unwrap();
        assert_eq!(e.kind, crate::error::Kind::InvalidInput);
        // Within the root, .. is fine.
        let l = locate(d.path(), "/etc/../etc/hosts", true, true).unwrap();
        assert_eq!(read(&l), "inside");
    }

    #[test]
    fn a_final_symlink_is_kept_unless_followed_and_loops_end() {
        let d = root();
        let l = locate(d.path(), "/abs", true, false).unwrap();
        assert_eq!(l.name.as_bytes(), b"abs");
        let e = locate(d.path(), "/loop/x", true, true).err().unwrap();
        assert!(e.message.contains("too many symlinks"), "{}", e.message);
        let missing = locate(d.path(), "/etc/new", true, true).unwrap();
        assert!(missing.stat().unwrap().is_none());
        let e = locate(d.path(), "/no/new", true, true).err().unwrap();
        assert_eq!(e.kind, crate::error::Kind::NotFound);
    }

    /// A tree: `t/a` (mode 0640, a time of its own), `t/b` a hard link to
    /// it, `t/l -> a`, `t/d/` (0751) holding `t/d/f`.
    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("t");
        std::fs::create_dir_all(t.join("d")).unwrap();
        std::fs::write(t.join("a"), "alpha").unwrap();
        std::fs::hard_link(t.join("a"), t.join("b")).unwrap();
        symlink("a", t.join("l")).unwrap();
        std::fs::write(t.join("d/f"), "foxtrot").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(t.join("a"), std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(t.join("d"), std::fs::Permissions::from_mode(0o751)).unwrap();
        let old = epoch_plus(1_600_000_000);
        File::options()
            .write(true)
            .open(t.join("a"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        d
    }

    fn epoch_plus(s: u64) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)
    }

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_tree_goes_through_a_tar_stream_and_back_as_it_was() {
        let src = tree();
        let at = locate(src.path(), "/t", true, false).unwrap();
        let mut tar = TarWriter::new(Vec::new());
        walk(&at, vec!["t".into()], &mut tar, &|m| panic!("{m}")).unwrap();
        let bytes = tar.tar.into_inner().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let base = open_path(dst.path()).unwrap();
        read_tar(&bytes[..], &mut TreeWriter::new(base, "dst"), &|m| {
            panic!("{m}")
        })
        .unwrap();
        let t = dst.path().join("t");
        assert_eq!(std::fs::read_to_string(t.join("a")).unwrap(), "alpha");
        assert_eq!(std::fs::read_to_string(t.join("b")).unwrap(), "alpha");
        assert_eq!(std::fs::read_to_string(t.join("d/f")).unwrap(), "foxtrot");
        assert_eq!(std::fs::read_link(t.join("l")).unwrap(), Path::new("a"));
        assert_eq!((mode(&t.join("a")), mode(&t.join("d"))), (0o640, 0o751));
        let mtime = std::fs::metadata(t.join("a")).unwrap().modified().unwrap();
        assert_eq!(mtime, epoch_plus(1_600_000_000));
    }

    #[test]
    fn a_tar_streams_hard_links_stay_links_and_odd_entries_are_left_out() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        b.append_data(&mut h, "x/a", &b"alpha"[..]).unwrap();
        let mut tw = TarWriter::new(Vec::new());
        tw.hardlink(&["x".into(), "b".into()], &["x".into(), "a".into()])
            .unwrap();
        tw.finish().unwrap();
        let mut fifo = tar::Header::new_gnu();
        fifo.set_entry_type(tar::EntryType::Fifo);
        fifo.set_size(0);
        fifo.set_mode(0o644);
        fifo.set_uid(0);
        fifo.set_gid(0);
        fifo.set_mtime(0);
        b.append_data(&mut fifo, "x/p", std::io::empty()).unwrap();
        let mut bytes = b.into_inner().unwrap();
        // The link, as TarWriter writes one, after the file it names.
        bytes.truncate(bytes.len() - 1024);
        let linked = tw.tar.into_inner().unwrap();
        bytes.extend_from_slice(&linked);
        let dst = tempfile::tempdir().unwrap();
        let base = open_path(dst.path()).unwrap();
        let left = std::cell::RefCell::new(vec![]);
        read_tar(&bytes[..], &mut TreeWriter::new(base, "dst"), &|m| {
            left.borrow_mut().push(m.to_string())
        })
        .unwrap();
        use std::os::unix::fs::MetadataExt;
        let ino = |n: &str| std::fs::metadata(dst.path().join(n)).unwrap().ino();
        assert_eq!(ino("x/a"), ino("x/b"));
        assert!(!dst.path().join("x/p").exists());
        assert_eq!(left.borrow().len(), 1, "{:?}", left.borrow());
    }

    #[test]
    fn a_file_is_not_written_over_a_directory() {
        let dst = tempfile::tempdir().unwrap();
        std::fs::create_dir(dst.path().join("d")).unwrap();
        let mut w = TreeWriter::new(open_path(dst.path()).unwrap(), "dst");
        let meta = Meta {
            mode: 0o644,
            uid: 0,
            gid: 0,
            atime: (0, 0),
            mtime: (0, 0),
        };
        let e = w
            .file(&["d".into()], &meta, 1, Data::Stream(&mut &b"x"[..]))
            .err()
            .unwrap();
        assert_eq!(e.kind, crate::error::Kind::Conflict);
        let e = w.hardlink(&["h".into()], &[]).err().unwrap();
        assert_eq!(e.kind, crate::error::Kind::InvalidInput);
    }

    #[test]
    fn the_hosts_paths_climb_by_dotdot() {
        let d = root();
        let l = locate(
            Path::new("/"),
            &format!("{}/etc/../etc/hosts", d.path().display()),
            false,
            true,
        )
        .unwrap();
        assert_eq!(read(&l), "inside");
        let up = locate(d.path(), "..", false, true);
        assert!(up.is_ok());
    }

    #[test]
    fn a_nul_in_a_name_is_invalid_input() {
        let e = c_name(b"a\0b").err().unwrap();
        assert_eq!(e.kind, crate::error::Kind::InvalidInput);
    }

    #[test]
    fn tar_names_with_dotdot_are_refused() {
        assert_eq!(tar_name(b"./a/b").unwrap(), ["a", "b"]);
        assert_eq!(tar_name(b"/abs/x").unwrap(), ["abs", "x"]);
        assert!(tar_name(b"a/../../x").is_err());
    }
}
