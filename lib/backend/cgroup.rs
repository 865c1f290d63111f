//! A container's resource use and limits, read from its cgroup (v1 or v2)
//! by the pid of its init, for the local backends: a handful of files per
//! container and sample, and no process started.

use crate::guest::record::Usage;
use std::path::{Path, PathBuf};

/// Where a process's cgroups are: /proc/PID/cgroup, read once.
struct Cgroups(String);

/// Which cgroup is a container's own, by a component of its path (LXC's
/// `lxc.payload.NAME`, the OCI runtimes' cgroupsPath): its init may have
/// moved itself into a cgroup below it, as systemd does (init.scope), and
/// the container's figures are its own cgroup's, whose files count the
/// cgroups below (v1's memory so only with memory.use_hierarchy, the
/// default, and always from Linux 5.11). `&|_| false` takes the init's
/// cgroup as it is.
pub type Own<'a> = &'a dyn Fn(&str) -> bool;

/// `path` up to, and with, its first component `own` names; all of it
/// when none is named.
fn own_part<'p>(path: &'p str, own: Own) -> &'p str {
    let mut at = 0;
    for c in path.split('/') {
        at += c.len();
        if !c.is_empty() && own(c) {
            return &path[..at];
        }
        at += 1;
    }
    path
}

impl Cgroups {
    /// The cgroups of `pid`, each cut after the first component of its
    /// path that `own` names.
    fn of(pid: u32, own: Own) -> Option<Cgroups> {
        let text = read(format!("/proc/{pid}/cgroup"))?;
        Some(Cgroups(Cgroups::cut(text, own)))
    }

    fn cut(text: String, own: Own) -> String {
        fn path(line: &str) -> &str {
            line.splitn(3, ':').nth(2).unwrap_or("")
        }
        // Most inits stay where their runtime put them: nothing to cut.
        if text.lines().all(|l| own_part(path(l), own) == path(l)) {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let p = path(line);
            out.push_str(&line[..line.len() - p.len()]);
            out.push_str(own_part(p, own));
            out.push('\n');
        }
        out
    }

    /// Whether `controller` is mounted as v1.
    fn is_v1(&self, controller: &str) -> bool {
        self.0.lines().any(|l| {
            l.split(':')
                .nth(1)
                .is_some_and(|c| c.split(',').any(|c| c == controller))
        })
    }

    /// The directory of a v1 controller, or the v2 directory.
    fn dir(&self, controller: &str) -> Option<PathBuf> {
        let mut v2 = None;
        for line in self.0.lines() {
            let mut f = line.splitn(3, ':');
            let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
            if controllers.split(',').any(|c| c == controller) {
                return Some(PathBuf::from(format!("/sys/fs/cgroup/{controller}{path}")));
            }
            if controllers.is_empty() {
                v2 = Some(PathBuf::from(format!("/sys/fs/cgroup{path}")));
            }
        }
        // Pure v2 only: on a hybrid host the v2 tree holds no controllers.
        v2.filter(|_| pure_v2())
    }
}

/// How the host mounts cgroups, which decides what runs on it: crun
/// refuses a hybrid host whose v2 hierarchy has controllers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// cgroup v2 alone at /sys/fs/cgroup (current distributions).
    Unified,
    /// v1 controllers, and v2 without controllers at /sys/fs/cgroup/unified
    /// (systemd's hybrid mode: Debian 10, older hosts, some containers).
    Hybrid,
    /// v1 alone.
    Legacy,
    /// No cgroup file system mounted.
    None,
}

impl Layout {
    /// The host's, from /proc/self/mountinfo.
    pub fn of_host() -> Layout {
        Layout::parse(&read_all("/proc/self/mountinfo").unwrap_or_default())
    }

    /// The layout a mountinfo table describes.
    pub fn parse(mountinfo: &str) -> Layout {
        let (mut v1, mut v2_root, mut v2_elsewhere) = (false, false, false);
        for line in mountinfo.lines() {
            let mut fields = line.split(' ');
            let Some(at) = fields.nth(4) else { continue };
            // After the optional fields, " - " and the file system type.
            let fstype = line.split(" - ").nth(1).and_then(|t| t.split(' ').next());
            match fstype {
                Some("cgroup") => v1 = true,
                Some("cgroup2") if at == "/sys/fs/cgroup" => v2_root = true,
                Some("cgroup2") => v2_elsewhere = true,
                _ => {}
            }
        }
        match (v2_root, v1, v2_elsewhere) {
            (true, _, _) => Layout::Unified,
            (false, true, true) => Layout::Hybrid,
            (false, true, false) => Layout::Legacy,
            (false, false, true) => Layout::Unified,
            (false, false, false) => Layout::None,
        }
    }

    /// The layout in words, as guestkit-doctor reports it.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Unified => "cgroup v2 (unified)",
            Layout::Hybrid => "hybrid: v1 controllers, and v2 at /sys/fs/cgroup/unified",
            Layout::Legacy => "cgroup v1 (legacy)",
            Layout::None => "no cgroup file system mounted",
        }
    }
}

/// On a hybrid host, the controllers its v2 hierarchy has (crun refuses
/// such a host unless there are none); empty elsewhere.
pub fn hybrid_v2_controllers() -> Vec<String> {
    if Layout::of_host() != Layout::Hybrid {
        return Vec::new();
    }
    read("/sys/fs/cgroup/unified/cgroup.controllers")
        .map(|t| t.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// A kernel table of any size (mountinfo outgrows `read`'s one page).
fn read_all(p: &str) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

fn pure_v2() -> bool {
    static PURE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PURE.get_or_init(|| Path::new("/sys/fs/cgroup/cgroup.controllers").exists())
}

/// The cgroup directory of `pid` for a v1 controller, or its v2 directory.
fn dir(pid: u32, own: Own, controller: &str) -> Option<PathBuf> {
    Cgroups::of(pid, own)?.dir(controller)
}

/// A kernel file's text (see `crate::os::file::read_small`).
fn read(p: impl AsRef<Path>) -> Option<String> {
    crate::os::file::read_small(p.as_ref())
}

fn read_u64(p: PathBuf) -> Option<u64> {
    read(p)?.trim().parse().ok()
}

/// A limit file: v2 writes `max`, v1 a number near 2^63 for none.
fn limit(p: PathBuf) -> Option<u64> {
    read_u64(p).filter(|n| *n < 1 << 60)
}

fn key(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// The memory the container whose init is `pid` uses now, in bytes (its
/// own cgroup: see `Own`).
pub fn memory_bytes(pid: u32, own: Own) -> Option<u64> {
    let d = dir(pid, own, "memory")?;
    read_u64(d.join("memory.usage_in_bytes")).or_else(|| read_u64(d.join("memory.current")))
}

/// The CPU time, in seconds, the container whose init is `pid` has used
/// (its own cgroup: see `Own`).
pub fn cpu_time_s(pid: u32, own: Own) -> Option<f64> {
    cpu_s(&Cgroups::of(pid, own)?)
}

fn cpu_s(cg: &Cgroups) -> Option<f64> {
    if let Some(ns) = cg
        .dir("cpuacct")
        .and_then(|d| read_u64(d.join("cpuacct.usage")))
    {
        return Some(ns as f64 / 1e9);
    }
    let stat = read(cg.dir("cpu")?.join("cpu.stat"))?;
    Some(key(&stat, "usage_usec")? as f64 / 1e6)
}

/// The file that tells whether the cgroup `path` (a container's, as its
/// config.json's cgroupsPath names it) is frozen, as the OCI runtimes read it
/// to tell a paused container (crun's libcrun_cgroup_is_container_paused,
/// which reads the container's own cgroup, not wherever its init moved
/// itself since): v2's cgroup.freeze on a pure v2 host, else v1's
/// freezer.state; `None` where there is no such file (no freezer).
pub fn freezer(path: &Path) -> Option<PathBuf> {
    let path = path.strip_prefix("/").unwrap_or(path);
    let file = match pure_v2() {
        true => Path::new("/sys/fs/cgroup").join(path).join("cgroup.freeze"),
        false => Path::new("/sys/fs/cgroup/freezer")
            .join(path)
            .join("freezer.state"),
    };
    file.is_file().then_some(file)
}

/// Whether a freezer file (see `freezer`) says frozen: v1's FROZEN (not
/// FREEZING, which is on the way), v2's 1. `None` when the cgroup is gone.
pub fn frozen(file: &Path) -> Option<bool> {
    Some(matches!(read(file)?.trim(), "FROZEN" | "1"))
}

/// Whether any process is in the cgroup whose directory is `dir`, or in a
/// cgroup below it (an init may move itself into one): v2 says so in
/// cgroup.events; v1 is asked each directory's cgroup.procs.
pub fn populated(dir: &Path) -> bool {
    if let Some(events) = read(dir.join("cgroup.events")) {
        return key(&events, "populated") == Some(1);
    }
    if read(dir.join("cgroup.procs")).is_some_and(|t| !t.trim().is_empty()) {
        return true;
    }
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_type().is_ok_and(|t| t.is_dir()) && populated(&e.path()))
}

/// Removes the empty cgroups at the top of every hierarchy that `left`
/// names: what a failure left behind (LXC leaves its monitor's when a start
/// fails, one more `-N` each time). A cgroup that holds a process, or one
/// below it, is never removed: the kernel refuses to.
pub fn remove_left(left: &dyn Fn(&str) -> bool) {
    let hierarchies: Vec<PathBuf> = match pure_v2() {
        true => vec![PathBuf::from("/sys/fs/cgroup")],
        false => std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
            // Not the links (cpu,cpuacct) to a hierarchy seen already.
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect(),
    };
    for h in hierarchies {
        for e in std::fs::read_dir(&h).into_iter().flatten().flatten() {
            if e.file_name().to_str().is_some_and(left) {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

/// Everything a sample holds, for the container whose init is `pid` (its
/// own cgroup: see `Own`).
pub fn usage(pid: u32, own: Own) -> Usage {
    let Some(cg) = Cgroups::of(pid, own) else {
        return Usage::default();
    };
    // v1's files or v2's: each asked for by its own name only.
    let mem = cg.dir("memory");
    let v1 = cg.is_v1("memory");
    let file = |v1_name: &str, v2_name: &str| {
        mem.as_ref()
            .map(|d| d.join(if v1 { v1_name } else { v2_name }))
    };
    let memory_bytes = file("memory.usage_in_bytes", "memory.current").and_then(read_u64);
    let memory_limit_bytes = file("memory.limit_in_bytes", "memory.max").and_then(limit);
    let oom_kills = file("memory.oom_control", "memory.events")
        .and_then(read)
        .and_then(|t| key(&t, "oom_kill"));
    let pids = cg.dir("pids");
    let (block_read_bytes, block_write_bytes) = block_io(&cg);
    let (net_rx_bytes, net_tx_bytes) = net(pid);
    Usage {
        cpu_share: None,
        cpu_s: cpu_s(&cg),
        memory_bytes,
        memory_limit_bytes,
        pids: pids.as_ref().and_then(|d| read_u64(d.join("pids.current"))),
        pids_limit: pids.and_then(|d| limit(d.join("pids.max"))),
        net_rx_bytes,
        net_tx_bytes,
        block_read_bytes,
        block_write_bytes,
        oom_kills,
    }
}

/// Bytes read and written: v2's io.stat (rbytes=, wbytes= per device), or
/// v1's blkio.throttle.io_service_bytes_recursive (`MAJ:MIN Read N`), which
/// counts the cgroups below too (an init moved below its container's
/// cgroup); the file without `_recursive` before Linux 4.16.
fn block_io(cg: &Cgroups) -> (Option<u64>, Option<u64>) {
    if let Some(d) = cg.dir("blkio")
        && let Some(t) = read(d.join("blkio.throttle.io_service_bytes_recursive"))
            .or_else(|| read(d.join("blkio.throttle.io_service_bytes")))
    {
        let sum = |op: &str| {
            t.lines()
                .filter_map(|l| {
                    let mut f = l.split_whitespace();
                    let (_, what, n) = (f.next()?, f.next()?, f.next()?);
                    (what == op).then(|| n.parse::<u64>().ok()).flatten()
                })
                .sum::<u64>()
        };
        return (Some(sum("Read")), Some(sum("Write")));
    }
    let Some(t) = cg.dir("io").and_then(|d| read(d.join("io.stat"))) else {
        return (None, None);
    };
    let sum = |k: &str| {
        t.split_whitespace()
            .filter_map(|f| f.strip_prefix(k)?.parse::<u64>().ok())
            .sum::<u64>()
    };
    (Some(sum("rbytes=")), Some(sum("wbytes=")))
}

/// The names of the network interfaces of the process `pid`'s network
/// namespace (loopback included), from /proc/PID/net/dev.
pub fn interfaces(pid: u32) -> Option<Vec<String>> {
    let t = read(format!("/proc/{pid}/net/dev"))?;
    Some(
        t.lines()
            .skip(2)
            .filter_map(|l| Some(l.split_once(':')?.0.trim().to_string()))
            .collect(),
    )
}

/// Bytes received and sent on the container's interfaces but loopback, from
/// /proc/PID/net/dev, which shows the network namespace of PID.
fn net(pid: u32) -> (Option<u64>, Option<u64>) {
    let Some(t) = read(format!("/proc/{pid}/net/dev")) else {
        return (None, None);
    };
    let (mut rx, mut tx) = (0, 0);
    for line in t.lines().skip(2) {
        let Some((iface, rest)) = line.split_once(':') else {
            continue;
        };
        if iface.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if f.len() >= 9 {
            rx += f[0];
            tx += f[8];
        }
    }
    (Some(rx), Some(tx))
}

#[cfg(test)]
mod tests {
    use super::Layout;

    #[test]
    fn layouts_are_read_from_recorded_mount_tables() {
        // This Debian 12 host as booted (systemd's hybrid mode), and the
        // same with /sys/fs/cgroup/unified unmounted (as the tests run).
        let hybrid = include_str!("testdata/mountinfo-hybrid");
        let legacy = include_str!("testdata/mountinfo-legacy");
        assert_eq!(Layout::parse(hybrid), Layout::Hybrid);
        assert_eq!(Layout::parse(legacy), Layout::Legacy);
        // A current distribution's (Debian 13, Fedora): cgroup2 alone.
        let unified = "25 1 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
        assert_eq!(Layout::parse(unified), Layout::Unified);
        assert_eq!(Layout::parse(""), Layout::None);
    }

    #[test]
    fn own_process_has_a_cgroup_reading_or_none() {
        // Whatever the host, reading must not panic; on a cgroup host it gives numbers.
        let pid = std::process::id();
        if let Some(m) = super::memory_bytes(pid, &|_| false) {
            assert!(m > 0);
        }
        let _ = super::cpu_time_s(pid, &|_| false);
        let u = super::usage(pid, &|_| false);
        assert!(u.net_rx_bytes.is_some(), "/proc/self/net/dev is there");
        let names = super::interfaces(pid).unwrap();
        assert!(names.iter().any(|n| n == "lo"), "{names:?}");
    }

    #[test]
    fn a_container_is_sampled_in_its_own_cgroup() {
        // An LXC container's init that moved itself into init.scope, as
        // systemd does: this host's /proc/PID/cgroup (hybrid mode).
        let moved = "9:name=systemd:/lxc.payload.gkx/init.scope\n8:pids:/lxc.payload.gkx/init.scope\n4:memory:/lxc.payload.gkx/init.scope\n0::/\n";
        let own = |c: &str| c == "lxc.payload.gkx";
        assert_eq!(
            super::Cgroups::cut(moved.into(), &own),
            "9:name=systemd:/lxc.payload.gkx\n8:pids:/lxc.payload.gkx\n4:memory:/lxc.payload.gkx\n0::/\n"
        );
        // Not named: as it is.
        assert_eq!(super::Cgroups::cut(moved.into(), &|_| false), moved);
        // A v2 line, the container's cgroup below a slice.
        assert_eq!(
            super::Cgroups::cut(
                "0::/machine.slice/guestkit-crun-7-web/init.scope\n".into(),
                &|c| c.starts_with("guestkit-")
            ),
            "0::/machine.slice/guestkit-crun-7-web\n"
        );
    }

    #[test]
    fn keyed_files_are_read() {
        assert_eq!(
            super::key("usage_usec 12\nuser_usec 3\n", "usage_usec"),
            Some(12)
        );
        assert_eq!(super::key("oom 0\noom_kill 2\n", "oom_kill"), Some(2));
        assert_eq!(
            super::key("oom_kill_disable 0\noom_kill 1\n", "oom_kill"),
            Some(1)
        );
    }
}
