//! Reading a process's resource use from its cgroup, v1 or v2, for backends
//! whose runtime does not report it (crun, runc).

use std::path::PathBuf;

/// The cgroup directory of `pid` for a v1 controller, or its v2 directory.
fn dir(pid: u32, controller: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let mut v2 = None;
    for line in text.lines() {
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
    v2.filter(|_| std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists())
}

fn read_u64(p: PathBuf) -> Option<u64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

pub fn memory_bytes(pid: u32) -> Option<u64> {
    let d = dir(pid, "memory")?;
    read_u64(d.join("memory.usage_in_bytes")).or_else(|| read_u64(d.join("memory.current")))
}

pub fn cpu_time_s(pid: u32) -> Option<f64> {
    if let Some(ns) = dir(pid, "cpuacct").and_then(|d| read_u64(d.join("cpuacct.usage"))) {
        return Some(ns as f64 / 1e9);
    }
    let stat = std::fs::read_to_string(dir(pid, "cpu")?.join("cpu.stat")).ok()?;
    let usec: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("usage_usec "))?
        .trim()
        .parse()
        .ok()?;
    Some(usec as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_process_has_a_cgroup_reading_or_none() {
        // Whatever the host, reading must not panic; on a cgroup host it gives numbers.
        let pid = std::process::id();
        if let Some(m) = super::memory_bytes(pid) {
            assert!(m > 0);
        }
        let _ = super::cpu_time_s(pid);
    }
}
