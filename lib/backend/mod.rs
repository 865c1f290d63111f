//! Container backends: their traits (`Lister`, `Backend`), a registry, and the lookups every tool shares
//! (which backend holds a container, where a new one goes).

pub mod cgroup;
pub mod image;
pub mod logclock;
pub mod lxc;
pub mod net;
pub mod oci;
pub mod proxmox;
pub mod pull;
pub mod rootfs;
pub mod ssh;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::guest::record::{Container, ContainerState, Usage};
use crate::guest::{BackendKind, CONTAINER_BACKENDS, Status};
use crate::output::Output;
use image::Image;
use std::path::PathBuf;

/// What ctr-create asks for.
#[derive(Debug, Default)]
pub struct CreateSpec {
    /// The new container's name, checked.
    pub name: String,
    /// Backend proxmox: the node, the root disk's size and storage, and
    /// the address of its network device (`ip=…[,gw=…]`).
    pub node: Option<String>,
    /// Backend proxmox: the root disk's size (--disk).
    pub disk_bytes: Option<u64>,
    /// Backend proxmox: the root disk's storage (--storage).
    pub storage: Option<String>,
    /// Backend proxmox: `ip=…[,gw=…]` for its network device (from --network).
    pub address: Option<String>,
    /// Its memory limit (--memory), at least `MIN_MEMORY`.
    pub memory_bytes: Option<u64>,
    /// Its CPU limit, in CPUs (--cpus).
    pub cpus: Option<f64>,
    /// Variables its command gets (--env).
    pub env: Vec<(String, String)>,
    /// Host paths bind-mounted into it (--mount).
    pub mounts: Vec<Mount>,
    /// Backend lxc and proxmox: a veth on host bridge `br`, which guestkit
    /// neither makes nor addresses (`--network bridge=BR`).
    pub bridge: Option<String>,
    /// Local backends: the network it joins, with its address and ports;
    /// `None` and no `bridge`: loopback only (`--network none`).
    pub network: Option<net::Join>,
    /// Empty: the image's /sbin/init.
    pub command: Vec<String>,
    /// Remove the container once it stops (ctr-run --rm --detach).
    pub ephemeral: bool,
    /// Deleted as soon as its foreground run ends (ctr-run --rm): a backend
    /// may share the image's files instead of copying them.
    pub throwaway: bool,
    /// Its command's working directory and user (ctr-run --cwd, --user).
    pub cwd: Option<String>,
    /// A name from its /etc/passwd, or `UID[:GID]`.
    pub user: Option<String>,
    /// Its command gets a terminal (ctr-run -t).
    pub terminal: bool,
}

/// A host path bind-mounted into a container (`--mount SRC:DST[:ro]`).
#[derive(Debug, Clone)]
pub struct Mount {
    /// The host path, canonical (absolute, symlinks resolved).
    pub source: PathBuf,
    /// Where it appears in the container: an absolute path, without `..`.
    pub target: String,
    /// Mounted read-only (`:ro`).
    pub read_only: bool,
}

pub use crate::guest::record::Limits;

/// The least memory a container is given: below it, its runtime or init
/// cannot start (runc refuses 1 MiB; lxc fails with "Sync wake failure").
pub const MIN_MEMORY: u64 = 4 << 20;

/// What ctr-exec asks for.
#[derive(Debug, Default)]
pub struct ExecSpec {
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Variables added to its environment (--env).
    pub env: Vec<(String, String)>,
    /// Its working directory in the container (--cwd).
    pub cwd: Option<String>,
    /// The user it runs as (--user): a name from the container's
    /// /etc/passwd, or `UID[:GID]`.
    pub user: Option<String>,
    /// A pseudo-terminal for the command (ctr-exec -t).
    pub tty: bool,
}

/// A backend's list in progress: call it for the containers.
pub type Listing<'a> = Box<dyn FnOnce() -> Result<Vec<Container>> + 'a>;

/// What listing takes of a backend. ctr-list holds its backends as this
/// alone, so that its binary carries none of their other operations (making
/// bundles with oci-spec, and the regex library that brings): nearly three
/// quarters of its start-up relocations, and 0.2 ms of every start
/// (docs/benchmarks.md).
pub trait Lister: Send + Sync {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;
    /// Fails with "unavailable" and an install hint when the backend's tools are missing.
    fn check(&self) -> Result<()>;
    /// Every container, in one call to the backend. The call is started
    /// here and waited for by the returned function, so that ctr-list can
    /// start every backend's call before it waits for any, without threads.
    fn list_start<'a>(&'a self, out: &'a Output) -> Result<Listing<'a>>;
}

/// Everything else a backend does: the tools that create containers or act
/// on them hold this.
pub trait Backend: Lister {
    /// What guestkit-doctor says of it: its tools and their version, or an
    /// error saying why it cannot run containers here, with the fix.
    fn inspect(&self, out: &Output) -> Result<String> {
        self.check()?;
        let _ = out;
        Ok(format!("backend {}", self.kind()))
    }
    /// The names of all containers, as cheaply as the backend allows.
    fn names(&self, out: &Output) -> Result<Vec<String>>;
    /// Whether it holds a container of this name.
    fn exists(&self, name: &str, out: &Output) -> bool;
    /// A container's status.
    fn status(&self, name: &str, out: &Output) -> Result<Status>;
    /// A container's detailed record (ctr-state).
    fn state(&self, name: &str, out: &Output) -> Result<ContainerState>;
    /// Creates a stopped container; on failure nothing of it is left.
    fn create(&self, spec: &CreateSpec, image: &Image, cfg: &Config, out: &Output) -> Result<()>;
    /// Starts a stopped container.
    fn start(&self, name: &str, out: &Output) -> Result<()>;
    /// Stops a container: asks it to shut down, and kills it after
    /// `timeout_s` seconds; with `force`, kills it at once.
    fn stop(&self, name: &str, timeout_s: u64, force: bool, out: &Output) -> Result<()>;
    /// Sends `signal` to a running container's init.
    fn kill(&self, name: &str, signal: i32, out: &Output) -> Result<()>;
    /// A container's resource use; `pid`, its init's while it runs, as the
    /// backend's listing gave it. Local backends read its cgroup.
    fn usage(&self, name: &str, pid: Option<u32>, _out: &Output) -> Result<Usage> {
        let own = |c: &str| self.owns_cgroup(name, c);
        Ok(pid.map(|p| cgroup::usage(p, &own)).unwrap_or_default())
    }
    /// Whether `component` of a cgroup path is the container `name`'s own
    /// cgroup, for an init that moved itself below it (see `cgroup::Own`).
    fn owns_cgroup(&self, _name: &str, _component: &str) -> bool {
        false
    }
    /// Whether a running container, its init `pid` as its state gave it,
    /// has a network interface besides loopback: without one no address
    /// can come. `None` when that cannot be told from here. By default
    /// (LXC, whose own configuration may give an interface DHCP) from
    /// /proc/PID/net/dev, which shows the init's network namespace; the
    /// kernel's fallback tunnel devices, which every namespace gets while
    /// their modules are loaded, are no network.
    fn networked(&self, _name: &str, pid: Option<u32>, _out: &Output) -> Option<bool> {
        const FALLBACK: &[&str] = &[
            "lo", "sit0", "tunl0", "gre0", "gretap0", "erspan0", "ip_vti0", "ip6tnl0", "ip6gre0",
            "ip6_vti0",
        ];
        pid.and_then(cgroup::interfaces)
            .map(|names| names.iter().any(|n| !FALLBACK.contains(&n.as_str())))
    }
    /// Its limits as stored (what its next start gets).
    fn limits(&self, name: &str, out: &Output) -> Result<Limits>;
    /// Sets the limits given (`Some`), in the stored configuration and, when
    /// it runs, live.
    fn update(&self, name: &str, limits: &Limits, out: &Output) -> Result<()>;
    /// How a stopped container's command ended, when its wrapper recorded it.
    fn last_exit(&self, _name: &str) -> Option<crate::guest::record::Exit> {
        None
    }
    /// Freezes every process of a running container (the cgroup freezer).
    fn pause(&self, name: &str, out: &Output) -> Result<()>;
    /// Thaws a paused container.
    fn resume(&self, name: &str, out: &Output) -> Result<()>;
    /// Deletes a stopped container and everything guestkit keeps for it.
    fn delete(&self, name: &str, out: &Output) -> Result<()>;
    /// Removes what a create of this name that was killed (SIGKILL, power
    /// loss) left: a directory no tool lists. Called only under the name's
    /// lock (`lock_name`), when no create of it can be running. Whether
    /// there was something.
    fn clear_leftover(&self, name: &str, out: &Output) -> Result<bool>;
    /// Runs a command in a running container with the caller's stdio; its exit code.
    fn exec(&self, name: &str, spec: &ExecSpec, out: &Output) -> Result<i32>;
    /// Runs a stopped container's command in the foreground; its exit code.
    fn run_attached(&self, name: &str, command: &[String], out: &Output) -> Result<i32>;
    /// The file holding the container's console output.
    fn log_path(&self, name: &str) -> PathBuf;
    /// The directory of a container's root filesystem on this host (what a
    /// stopped one is copied from and to); `None` for a remote container.
    fn rootfs(&self, _name: &str) -> Option<PathBuf> {
        None
    }
    /// A container whose log is not a local file (one on a cluster node)
    /// prints it itself: the exit code. `None`: read `log_path`.
    fn remote_logs(
        &self,
        _name: &str,
        _tail: Option<usize>,
        _follow: bool,
        _out: &Output,
    ) -> Option<Result<i32>> {
        None
    }
}

/// How long a foreground run gets to stop after a second Ctrl-C, before a
/// third (or this timeout) kills it: ctr-stop's default.
pub const STOP_TIMEOUT_S: u32 = 10;

/// What a foreground run (`run_attached`) does as Ctrl-C repeats: the first
/// reaches the container from the terminal as usual; the second stops it
/// (SIGTERM to its init, SIGKILL after STOP_TIMEOUT_S); the third kills it.
/// Called at every signal while the run is waited for; `seen` keeps how
/// many presses it has acted on.
pub fn escalate(
    name: &str,
    kill: &dyn Fn(i32) -> Result<()>,
    out: &Output,
    seen: &std::cell::Cell<u32>,
) {
    use crate::os::signals;
    let n = signals::interrupts();
    if signals::alarmed() && seen.get() < u32::MAX {
        seen.set(u32::MAX);
        out.warn(&format!(
            "{name} did not stop within {STOP_TIMEOUT_S} s; killing it"
        ));
        let _ = kill(libc::SIGKILL);
        return;
    }
    if n <= seen.get() {
        return;
    }
    seen.set(n);
    match n {
        1 => out.warn(&format!(
            "Ctrl-C passed on to {name}; press it again to stop the container"
        )),
        2 => {
            out.warn(&format!(
                "stopping {name} (up to {STOP_TIMEOUT_S} s; Ctrl-C again to kill it)"
            ));
            let _ = kill(libc::SIGTERM);
            signals::alarm_in(STOP_TIMEOUT_S);
        }
        _ => {
            out.warn(&format!("killing {name}"));
            let _ = kill(libc::SIGKILL);
        }
    }
}

/// A start whose container ended before the start was done: a failure,
/// with the last line of its output as the hint.
pub fn stopped_at_once(name: &str, log: &std::path::Path) -> Error {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let last = text.lines().rev().map(str::trim).find(|l| !l.is_empty());
    let hint = match last {
        Some(l) => format!(
            "its output ends: {}; all of it: ctr-logs {name}",
            crate::guest::names::quote(l)
        ),
        None => {
            format!("it printed nothing; its command may have ended at once (ctr-state {name})")
        }
    };
    Error::failed("the container stopped as soon as it started").with_hint(hint)
}

/// Shell that passes the signals a user may send (ctr-stop's TERM, ctr-kill's
/// others) on to `$child`: a command that is itself PID 1 in its namespace would
/// ignore every signal it has no handler for, and every stop would wait out
/// its timeout. A background job of a non-interactive shell ignores INT and
/// QUIT, so those reach the command as TERM. Used by the init wrappers.
pub const FORWARD_SIGNALS: &str = "for s in TERM HUP USR1 USR2 WINCH; do trap \"kill -$s \\$child 2>/dev/null\" $s; done; \
     trap 'kill -TERM $child 2>/dev/null' INT QUIT";

/// Shell run by the init wrappers when the command has ended: records its
/// `$status` and the OOM kills the container's cgroup counted (when the
/// container sees its cgroup), in `/.guestkit-exit`, for ctr-state. Shell
/// builtins only: the image may have nothing but sh.
pub const RECORD_EXIT: &str = "oom=; for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do \
     [ -r \"$f\" ] && while read k v; do [ \"$k\" = oom_kill ] && oom=$v; done < \"$f\"; done; \
     echo \"$status $oom\" > /.guestkit-exit 2>/dev/null";

/// Where the wrappers record how the command ended, in the root.
pub const EXIT_FILE: &str = ".guestkit-exit";

/// How the command in `root` ended, as its wrapper recorded it. The file is
/// the container's: resolved as the container sees it, never followed out.
pub fn read_exit(root: &std::path::Path) -> Option<crate::guest::record::Exit> {
    let path = rootfs::resolve_in_root(root, EXIT_FILE)?;
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut text = String::new();
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?
        .take(64)
        .read_to_string(&mut text)
        .ok()?;
    crate::guest::record::Exit::parse(&text)
}

/// A container backend, whether or not its tools are installed.
pub fn by_kind(cfg: &Config, kind: BackendKind) -> Result<Box<dyn Backend>> {
    by_kind_as(cfg, kind, |b| Box::new(b), |b| Box::new(b), |b| Box::new(b))
}

/// The same, held only for listing (see `Lister`).
fn lister_by_kind(cfg: &Config, kind: BackendKind) -> Result<Box<dyn Lister>> {
    by_kind_as(cfg, kind, |b| Box::new(b), |b| Box::new(b), |b| Box::new(b))
}

/// The backend `kind`, boxed as `T` by `lxc` or `oci`. Generic so that
/// `lister_by_kind` makes only `Lister` vtables: upcasting what `by_kind`
/// makes would link every `Backend` method into ctr-list again.
fn by_kind_as<T: ?Sized>(
    cfg: &Config,
    kind: BackendKind,
    lxc: fn(lxc::Lxc) -> Box<T>,
    oci: fn(oci::Oci) -> Box<T>,
    pve: fn(proxmox::Proxmox) -> Box<T>,
) -> Result<Box<T>> {
    match kind {
        BackendKind::Lxc => Ok(lxc(lxc::Lxc::new(cfg))),
        BackendKind::Crun | BackendKind::Runc => Ok(oci(oci::Oci::new(cfg, kind))),
        BackendKind::Proxmox => Ok(pve(proxmox::Proxmox::new(cfg))),
    }
}

/// The backends to ask: the named one (which must be installed), else every
/// installed one. With none installed, the error says what to install.
pub fn installed(cfg: &Config, named: Option<BackendKind>) -> Result<Vec<Box<dyn Backend>>> {
    installed_as(cfg, named, by_kind)
}

/// `installed`, held only for listing (see `Lister`).
pub fn listers(cfg: &Config, named: Option<BackendKind>) -> Result<Vec<Box<dyn Lister>>> {
    installed_as(cfg, named, lister_by_kind)
}

fn installed_as<T: Lister + ?Sized>(
    cfg: &Config,
    named: Option<BackendKind>,
    by_kind: fn(&Config, BackendKind) -> Result<Box<T>>,
) -> Result<Vec<Box<T>>> {
    if let Some(n) = named {
        let b = by_kind(cfg, n)?;
        b.check()?;
        return Ok(vec![b]);
    }
    let mut found = Vec::new();
    let mut first_error = None;
    for n in CONTAINER_BACKENDS {
        let b = by_kind(cfg, n)?;
        match b.check() {
            Ok(()) => found.push(b),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match (found.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(found),
    }
}

/// The backend that holds an existing container.
pub fn locate(
    cfg: &Config,
    name: &str,
    named: Option<BackendKind>,
    out: &Output,
) -> Result<Box<dyn Backend>> {
    let mut holders = Vec::new();
    let mut all_names = Vec::new();
    let mut unasked = None;
    for b in installed(cfg, named)? {
        if b.exists(name, out) {
            holders.push(b);
        } else {
            match b.names(out) {
                Ok(names) => all_names.extend(names),
                // A cluster that does not answer may hold it.
                Err(e) => unasked = Some((b.kind(), e)),
            }
        }
    }
    match holders.len() {
        1 => Ok(holders.pop().expect("one holder")),
        0 if unasked.is_some() => {
            let (kind, e) = unasked.expect("checked");
            Err(Error::unavailable(format!(
                "no such container in the backends that answered, and backend {kind} could not be asked: {}",
                e.message
            ))
            .with_hint(e.hint.unwrap_or_else(|| "try again when it answers".into())))
        }
        0 => {
            let where_ = match named {
                Some(n) => format!("in backend {n}"),
                None => "in any backend".to_string(),
            };
            let mut e = Error::not_found(format!("no such container {where_}"));
            if let Some(h) =
                crate::guest::names::suggest(name, all_names.iter().map(String::as_str))
            {
                e = e.with_hint(h);
            }
            Err(e)
        }
        _ => {
            let which: Vec<_> = holders.iter().map(|b| b.kind().as_str()).collect();
            Err(Error::conflict(format!(
                "a container of this name exists in {}",
                which.join(" and ")
            ))
            .with_hint("pick one with --backend"))
        }
    }
}

/// The lock under which a container of one name is made: the check that no
/// backend holds the name, and the create that takes it, are one step
/// across backends and processes. Held until dropped.
pub struct NameLock {
    _file: std::fs::File,
    path: PathBuf,
}

impl NameLock {
    /// Whether this lock is also `name`'s (names share lock files).
    pub fn covers(&self, cfg: &Config, name: &str) -> bool {
        name_lock_path(cfg, name) == self.path
    }
}

/// Waits for the lock of `name`. Names share 64 lock files by their hash,
/// so the files stay few; two names that share one only wait for each
/// other's create.
pub fn lock_name(cfg: &Config, name: &str) -> Result<NameLock> {
    let path = name_lock_path(cfg, name);
    let dir = path.parent().expect("in the locks directory");
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let file = lock_file(&path)?;
    Ok(NameLock { _file: file, path })
}

/// Opens (making it when needed) and waits for an exclusive lock on the
/// file `path`; released when the file is dropped.
pub fn lock_file(path: &std::path::Path) -> Result<std::fs::File> {
    locked(path, crate::os::sys::lock_exclusive)
}

/// The same, shared: many hold it at once, none while it is held exclusively.
pub fn lock_file_shared(path: &std::path::Path) -> Result<std::fs::File> {
    locked(path, crate::os::sys::lock_shared)
}

fn locked(
    path: &std::path::Path,
    lock: fn(&std::fs::File) -> std::io::Result<()>,
) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("cannot open", path, e))?;
    lock(&file).map_err(|e| Error::io("cannot lock", path, e))?;
    Ok(file)
}

/// Takes the lock of `name` if no create holds it (see `lock_name`).
pub fn try_lock_name(cfg: &Config, name: &str) -> Result<Option<NameLock>> {
    let path = name_lock_path(cfg, name);
    let file = match std::fs::OpenOptions::new().write(true).open(&path) {
        Ok(f) => f,
        // No create has run under this state directory yet.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return lock_name(cfg, name).map(Some);
        }
        Err(e) => return Err(Error::io("cannot open", &path, e)),
    };
    match crate::os::sys::try_lock_exclusive(&file) {
        Ok(true) => Ok(Some(NameLock { _file: file, path })),
        Ok(false) => Ok(None),
        Err(e) => Err(Error::io("cannot lock", &path, e)),
    }
}

fn name_lock_path(cfg: &Config, name: &str) -> PathBuf {
    // FNV-1a: stable from build to build, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    cfg.state_dir()
        .join("locks")
        .join(format!("name.{}", hash % 64))
}

/// Removes, in every backend, what killed creates of this name left; the
/// backend that had something, if one did. Only under the name's lock.
/// The networks of containers that no longer exist (a delete killed
/// half-way, LXC's ephemeral containers) are removed too.
pub fn clear_leftovers(
    cfg: &Config,
    name: &str,
    lock: &NameLock,
    out: &Output,
) -> Result<Option<BackendKind>> {
    let local: Vec<Box<dyn Backend>> = CONTAINER_BACKENDS
        .into_iter()
        .filter(|k| *k != BackendKind::Proxmox)
        .map(|k| by_kind(cfg, k))
        .collect::<Result<_>>()?;
    let exists = |n: &str| local.iter().any(|b| b.exists(n, out));
    net::Nets::new(cfg).sweep(cfg, &exists, lock, out);
    let mut found = None;
    for kind in CONTAINER_BACKENDS {
        if by_kind(cfg, kind)?.clear_leftover(name, out)? {
            out.warn(&format!(
                "removed what a create of {name} that did not finish left in backend {kind}"
            ));
            found = Some(kind);
        }
    }
    Ok(found)
}

/// Fails with "conflict" when any backend already holds the name. Whether
/// its tools are installed does not matter: its files are what holds it.
pub fn ensure_free(cfg: &Config, name: &str, out: &Output) -> Result<()> {
    for n in CONTAINER_BACKENDS {
        let b = by_kind(cfg, n)?;
        if b.exists(name, out) {
            let hint = match b.check() {
                Ok(()) => "pick another name, or delete it first with ctr-delete".to_string(),
                Err(missing) => format!(
                    "backend {} is not installed here, so ctr-delete cannot reach it: {}, or pick another name",
                    b.kind(),
                    missing.hint.unwrap_or(missing.message)
                ),
            };
            return Err(Error::conflict(format!(
                "a container of this name already exists in backend {}",
                b.kind()
            ))
            .with_hint(hint));
        }
    }
    Ok(())
}
