//! The ctr-* tools on backend proxmox, against the simulator: the cluster's
//! containers listed beside the local ones, made from OS templates, started,
//! stopped, killed and deleted through the API, and every refusal.

use crate::pve::Pve;
use crate::sim::server::{Options, Vm};
use crate::snap;

in_both_typings!(
    cluster_containers_in_the_same_records,
    containers_are_made_from_templates,
    a_container_lives_and_dies_on_the_cluster,
    what_the_cluster_cannot_do_is_refused,
    a_failed_create_leaves_nothing,
    cluster_and_local_listings_together,
    exec_and_logs_run_over_ssh_on_the_node,
    pause_resume_restart_and_wait_on_the_cluster,
    update_and_stats_on_the_cluster,
);

/// A cluster with a running container on pve1 and a stopped one on pve2,
/// beside a VM.
fn cluster() -> Pve {
    let p = Pve::with_vms(1);
    let mut web = Vm::container(200, "pve1", "web");
    web.running = true;
    p.sim.add_vm(web);
    p.sim.add_vm(Vm::container(201, "pve2", "db"));
    p
}

fn cluster_containers_in_the_same_records() {
    let p = cluster();
    p.sim.clear_requests();
    snap!(p, "ctr-list-proxmox", p.run("ctr-list", &["-b", "proxmox"]));
    assert_eq!(p.sim.requests(), ["GET /cluster/resources"]);
    // The VM is not a container, and the containers are not VMs.
    let vms = p.run("vm-list", &["-o", "name"]);
    assert!(vms.contains("vm100") && !vms.contains("web"), "{vms}");
    // A VM's record piped into a ctr-* tool is refused: it says it is one.
    let vm_line = p.run("vm-list", &["-o", "json"]);
    let vm_line = vm_line.lines().find(|l| l.starts_with('{')).unwrap();
    snap!(
        p,
        "ctr-start-vm-record",
        p.run_stdin("ctr-start", &[], &format!("{vm_line}\n"))
    );
    assert_eq!(p.sim.requests_ending("/status/start"), 0);
}

fn containers_are_made_from_templates() {
    let p = cluster();
    snap!(
        p,
        "ctr-create-proxmox",
        p.run(
            "ctr-create",
            &[
                "app",
                "-b",
                "proxmox",
                "--image",
                "debian-12",
                "--memory",
                "256M",
                "--cpus",
                "1.5",
                "--disk",
                "4G",
                "--network",
                "bridge=vmbr0,ip=dhcp",
                "-e",
                "MODE=prod",
                "--node",
                "pve2",
                "--start"
            ]
        )
    );
    // VM 100, containers 200 and 201: the lowest free VMID is 101.
    let ct = p.sim.vm(101).unwrap();
    assert!(ct.lxc && ct.running, "{ct:?}");
    let cfg = &ct.config;
    assert_eq!(cfg["hostname"], "app");
    assert_eq!(cfg["memory"], "256");
    assert_eq!(
        (cfg["cores"].as_str(), cfg["cpulimit"].as_str()),
        ("2", "1.5")
    );
    assert_eq!(
        cfg["rootfs"],
        format!("local-lvm:vm-{}-disk-0,size=4G", ct.vmid)
    );
    assert_eq!(cfg["net0"], "name=eth0,bridge=vmbr0,ip=dhcp");
    assert_eq!(cfg["unprivileged"], "1");
    assert_eq!(cfg["env"], "MODE=prod");
    assert_eq!(ct.node, "pve2");
    // A template by its full volume ID; a short name that fits two, none.
    snap!(
        p,
        "ctr-create-proxmox-volid",
        p.run(
            "ctr-create",
            &[
                "alp",
                "-b",
                "proxmox",
                "--image",
                "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz"
            ]
        )
    );
    snap!(
        p,
        "ctr-create-proxmox-ambiguous-template",
        p.run("ctr-create", &["x", "-b", "proxmox", "--image", "debian"])
    );
    snap!(
        p,
        "ctr-create-proxmox-no-template",
        p.run("ctr-create", &["x", "-b", "proxmox", "--image", "ubuntu"])
    );
    // A name the cluster holds is taken, for every backend.
    snap!(
        p,
        "ctr-create-proxmox-name-taken",
        p.run(
            "ctr-create",
            &["web", "-b", "proxmox", "--image", "debian-12"]
        )
    );
    // Another creator takes the VMID first: the next one is taken.
    p.sim.lose_nextid_races(1);
    let out = p.run(
        "ctr-create",
        &["raced", "-b", "proxmox", "--image", "alpine"],
    );
    assert!(out.starts_with("exit_code: 0"), "{out}");
    let raced: Vec<u32> = p
        .sim
        .vmids()
        .into_iter()
        .filter(|id| p.sim.vm(*id).unwrap().name.as_deref() == Some("raced"))
        .collect();
    assert_eq!(raced.len(), 1);
}

fn a_container_lives_and_dies_on_the_cluster() {
    let p = cluster();
    snap!(p, "ctr-start-proxmox", p.run("ctr-start", &["db", "web"]));
    assert!(p.sim.vm(201).unwrap().running);
    let state = p.run("ctr-state", &["db"]);
    let state = regex::Regex::new(r#""pid":\d+"#)
        .unwrap()
        .replace_all(&state, r#""pid":"[PID]""#)
        .into_owned();
    snap!(p, "ctr-state-proxmox", state);
    snap!(
        p,
        "ctr-stop-proxmox",
        p.run("ctr-stop", &["db", "--timeout", "5"])
    );
    assert!(!p.sim.vm(201).unwrap().running);
    snap!(
        p,
        "ctr-kill-proxmox",
        p.run("ctr-kill", &["web", "-s", "KILL"])
    );
    assert!(!p.sim.vm(200).unwrap().running);
    snap!(p, "ctr-delete-proxmox", p.run("ctr-delete", &["db"]));
    assert!(p.sim.vm(201).is_none());
    // Pipelines work across the cluster.
    p.sim.add_vm(Vm::container(202, "pve3", "c2"));
    let stopped = p.run(
        "ctr-list",
        &["-b", "proxmox", "--status", "stopped", "-o", "json"],
    );
    let stopped: String = stopped
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| format!("{l}\n"))
        .collect();
    snap!(
        p,
        "ctr-start-proxmox-piped",
        p.run_stdin("ctr-start", &["--jobs", "8"], &stopped)
    );
    assert!(p.sim.vm(200).unwrap().running && p.sim.vm(202).unwrap().running);
    // A container locked by another task is retried, then a conflict.
    p.sim.with_vm(202, |v| v.lock = Some("backup".into()));
    snap!(p, "ctr-stop-proxmox-locked", p.run("ctr-stop", &["c2"]));
}

fn what_the_cluster_cannot_do_is_refused() {
    let p = cluster();
    p.sim.clear_requests();
    snap!(
        p,
        "ctr-kill-proxmox-hup",
        p.run("ctr-kill", &["web", "-s", "HUP"])
    );
    snap!(
        p,
        "ctr-create-proxmox-no-image",
        p.run("ctr-create", &["x", "-b", "proxmox"])
    );
    snap!(
        p,
        "ctr-create-proxmox-mount",
        p.run(
            "ctr-create",
            &[
                "x",
                "-b",
                "proxmox",
                "--image",
                "debian-12",
                "--mount",
                "/tmp:/data"
            ]
        )
    );
    snap!(
        p,
        "ctr-run-proxmox",
        p.run(
            "ctr-run",
            &["x", "-b", "proxmox", "--image", "debian-12", "--", "true"]
        )
    );
    snap!(
        p,
        "ctr-exec-proxmox-no-ssh",
        p.run("ctr-exec", &["web", "--", "true"])
    );
    snap!(
        p,
        "ctr-logs-proxmox-since",
        p.run("ctr-logs", &["web", "--since", "1h"])
    );
    snap!(
        p,
        "ctr-cp-proxmox",
        p.run("ctr-cp", &["web:/etc/hostname", "."])
    );
    snap!(
        p,
        "ctr-create-disk-local",
        p.run("ctr-create", &["x", "-b", "lxc", "--disk", "4G"])
    );
    let writes: Vec<String> = p
        .sim
        .requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

fn a_failed_create_leaves_nothing() {
    let p = cluster();
    p.sim
        .fail_next_create("unpacking the template failed: no space left on device");
    snap!(
        p,
        "ctr-create-proxmox-fails",
        p.run(
            "ctr-create",
            &["big", "-b", "proxmox", "--image", "debian-12"]
        )
    );
    assert!(
        p.sim
            .vmids()
            .into_iter()
            .all(|id| p.sim.vm(id).unwrap().name.as_deref() != Some("big")),
        "the failed container was left"
    );
}

fn cluster_and_local_listings_together() {
    crate::require!("lxc");
    let p = cluster();
    p.env.ok("ctr-create", &["gk-local", "-b", "lxc"]);
    snap!(p, "ctr-list-local-and-cluster", p.run("ctr-list", &[]));
    // A name taken locally is taken on the cluster too.
    snap!(
        p,
        "ctr-create-proxmox-name-taken-locally",
        p.run(
            "ctr-create",
            &["gk-local", "-b", "proxmox", "--image", "debian-12"]
        )
    );
    // The cluster does not answer: the local containers are still listed,
    // and the exit code says something failed.
    let down = Pve::new(Options {
        down: vec!["pve1", "pve2", "pve3"],
        ..Options::default()
    });
    down.env.ok("ctr-create", &["gk-local2", "-b", "lxc"]);
    snap!(down, "ctr-list-cluster-down", down.run("ctr-list", &[]));
}

/// A node reachable over SSH: a real sshd on a throwaway port, with a key
/// made for the test, whose `pct` is a stand-in that does what `pct exec`
/// does on a node (attach to the container of a VMID), here to a local LXC
/// container. Stopped, and its files removed, when dropped.
struct SshNode {
    dir: std::path::PathBuf,
    port: u16,
    sshd: std::process::Child,
}

impl SshNode {
    fn start(dir: &std::path::Path, lxcpath: &std::path::Path) -> SshNode {
        use std::os::unix::fs::PermissionsExt;
        let dir = dir.join("node");
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("vmids")).unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        for key in ["id", "host"] {
            let ok = std::process::Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(key))
                .status()
                .unwrap()
                .success();
            assert!(ok, "ssh-keygen failed");
        }
        std::fs::copy(dir.join("id.pub"), dir.join("authorized_keys")).unwrap();
        let pct = format!(
            "#!/bin/sh\n# pct exec VMID -- CMD...: attach to the container of VMID, as on a node.\n\
             [ \"$1\" = exec ] || {{ echo \"pct: only exec here\" >&2; exit 2; }}\n\
             vmid=$2; shift 2; [ \"$1\" = -- ] && shift\n\
             name=$(cat {vmids}/$vmid) || exit 2\n\
             exec lxc-attach -P {lxc} -n \"$name\" --clear-env -v PATH=/usr/sbin:/usr/bin:/sbin:/bin -- \"$@\"\n",
            vmids = dir.join("vmids").display(),
            lxc = lxcpath.display()
        );
        std::fs::write(dir.join("bin/pct"), pct).unwrap();
        std::fs::set_permissions(dir.join("bin/pct"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nAuthorizedKeysFile {d}/authorized_keys\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             UsePAM no\nStrictModes no\nPidFile {d}/sshd.pid\nLogLevel ERROR\n\
             SetEnv PATH={d}/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
            d = dir.display()
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        let sshd = std::process::Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait (with a deadline) until it accepts connections.
        let give_up = std::time::Instant::now() + crate::common::DEADLINE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < give_up,
                "sshd did not listen on port {port} within {:?}",
                crate::common::DEADLINE
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        SshNode { dir, port, sshd }
    }

    /// The `[proxmox]` settings that reach this node.
    fn config(&self) -> String {
        format!(
            "[proxmox]\nlock_wait = 0.5\nssh = \"root@127.0.0.1\"\nssh_options = [\"-p\", \"{}\", \"-i\", \"{}\", \"-o\", \"StrictHostKeyChecking=no\", \"-o\", \"UserKnownHostsFile=/dev/null\", \"-o\", \"LogLevel=ERROR\"]\n",
            self.port,
            self.dir.join("id").display()
        )
    }

    /// Container VMID is the local LXC container `name`.
    fn map(&self, vmid: u32, name: &str) {
        std::fs::write(self.dir.join("vmids").join(vmid.to_string()), name).unwrap();
    }
}

impl Drop for SshNode {
    fn drop(&mut self) {
        let _ = self.sshd.kill();
        let _ = self.sshd.wait();
    }
}

fn exec_and_logs_run_over_ssh_on_the_node() {
    crate::require!("lxc", "sshd");
    let p = cluster();
    let node = SshNode::start(p.env.path(), &p.env.path().join("lxc"));
    p.env.write_config(&node.config());
    // Container 200 (web, running on pve1) is, on the node, this one.
    p.env.ok("ctr-create", &["gk-ssh-web", "-b", "lxc"]);
    p.env.ok("ctr-start", &["gk-ssh-web"]);
    node.map(200, "gk-ssh-web");
    // Exit codes, stdout and stderr pass through unchanged.
    snap!(
        p,
        "ctr-exec-proxmox",
        p.run(
            "ctr-exec",
            &["web", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]
        )
    );
    snap!(
        p,
        "ctr-exec-proxmox-stdin",
        p.run_stdin(
            "ctr-exec",
            &["web", "--", "tr", "a-z", "A-Z"],
            "from stdin\n"
        )
    );
    snap!(
        p,
        "ctr-exec-proxmox-env-cwd",
        p.run(
            "ctr-exec",
            &[
                "web",
                "-e",
                "GREETING=hello there",
                "--cwd",
                "/tmp",
                "--",
                "sh",
                "-c",
                "echo \"$GREETING from $(pwd)\""
            ]
        )
    );
    snap!(
        p,
        "ctr-exec-proxmox-not-found",
        p.run("ctr-exec", &["web", "--", "no-such-command"])
    );
    snap!(
        p,
        "ctr-exec-proxmox-stopped",
        p.run("ctr-exec", &["db", "--", "true"])
    );
    // ctr-logs reads the container's syslog (a busybox one has no journal).
    p.env.ok(
        "ctr-exec",
        &[
            "gk-ssh-web",
            "--",
            "sh",
            "-c",
            "mkdir -p /var/log; printf 'one\\ntwo\\nthree\\n' > /var/log/messages",
        ],
    );
    snap!(
        p,
        "ctr-logs-proxmox",
        p.run("ctr-logs", &["web", "--tail", "2"])
    );
}

fn pause_resume_restart_and_wait_on_the_cluster() {
    let p = cluster();
    snap!(p, "ctr-pause-proxmox", p.run("ctr-pause", &["web"]));
    assert!(p.sim.vm(200).unwrap().paused);
    snap!(p, "ctr-start-paused-proxmox", p.run("ctr-start", &["web"]));
    snap!(p, "ctr-resume-proxmox", p.run("ctr-resume", &["web"]));
    assert!(!p.sim.vm(200).unwrap().paused);
    snap!(
        p,
        "ctr-restart-proxmox",
        p.run("ctr-restart", &["web", "db", "--timeout", "5"])
    );
    assert!(p.sim.vm(200).unwrap().running && p.sim.vm(201).unwrap().running);
    snap!(
        p,
        "ctr-wait-proxmox",
        p.run("ctr-wait", &["web", "db", "--for", "running"])
    );
    // Its addresses come from the node (…/interfaces), DHCP's included.
    snap!(
        p,
        "ctr-wait-ip-proxmox",
        p.run("ctr-wait", &["web", "--for", "ip"])
    );
    // One with no network device gets no address: refused at once. One
    // whose address is set by hand inside has none yet: a timeout.
    let mut bare = Vm::container(202, "pve1", "bare");
    bare.running = true;
    bare.config.remove("net0");
    p.sim.add_vm(bare);
    let mut manual = Vm::container(203, "pve2", "manual");
    manual.running = true;
    manual
        .config
        .insert("net0".into(), "name=eth0,bridge=vmbr0,ip=manual".into());
    p.sim.add_vm(manual);
    snap!(
        p,
        "ctr-wait-ip-no-network-proxmox",
        p.run("ctr-wait", &["bare", "--for", "ip"])
    );
    snap!(
        p,
        "ctr-wait-ip-timeout-proxmox",
        p.run("ctr-wait", &["manual", "--for", "ip", "--timeout", "0"])
    );
}

fn update_and_stats_on_the_cluster() {
    let p = cluster();
    snap!(
        p,
        "ctr-update-proxmox",
        p.run("ctr-update", &["web", "--memory", "1G", "--cpus", "1.5"])
    );
    let cfg = p.sim.vm(200).unwrap().config;
    assert_eq!(
        (
            cfg["memory"].as_str(),
            cfg["cores"].as_str(),
            cfg["cpulimit"].as_str()
        ),
        ("1024", "2", "1.5")
    );
    snap!(
        p,
        "ctr-update-proxmox-same",
        p.run("ctr-update", &["web", "--memory", "1G"])
    );
    snap!(
        p,
        "ctr-update-proxmox-pids",
        p.run("ctr-update", &["web", "--pids", "100"])
    );
    let stats = p.run("ctr-stats", &["-b", "proxmox", "-o", "json"]);
    let stats = regex::Regex::new(r#""time":"[^"]+""#)
        .unwrap()
        .replace_all(&stats, r#""time":"[TIME]""#)
        .into_owned();
    snap!(p, "ctr-stats-proxmox", stats);
}
