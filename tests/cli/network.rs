//! Networks on real lxc, crun and runc: addresses, traffic between the host
//! and containers on the test's own bridge (never beyond this machine),
//! published ports, bad input, and that nothing is left behind.

use crate::common::{SETTLE, TestEnv, output, wait_for};
use crate::{require, snap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A TCP port no one listens on now.
fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` from `host:port` over HTTP/1.0; the body, or the error.
fn http_get(host: &str, port: u16, path: &str) -> Result<String, String> {
    let mut s = TcpStream::connect((host, port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))
}

/// Waits until the web server at `host:port` answers, then its answer.
fn fetch(host: &str, port: u16, path: &str) -> String {
    let mut last = Err(String::new());
    wait_for(&format!("http://{host}:{port}{path}"), SETTLE, || {
        last = http_get(host, port, path);
        last.is_ok()
    });
    last.unwrap()
}

/// A web server on the host that answers every request with `from-host`.
fn host_server() -> u16 {
    let l = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.0 200 OK\r\n\r\nfrom-host\n");
        }
    });
    port
}

fn run(program: &str, args: &[&str]) -> String {
    let out = output(Command::new(program).args(args));
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The container's address, from ctr-list.
fn address(env: &TestEnv, name: &str) -> String {
    let list = env.stdout("ctr-list", &["-o", "json", "--name", name]);
    let v: serde_json::Value = serde_json::from_str(list.trim()).unwrap();
    v["ipv4"][0].as_str().expect("an address").to_string()
}

/// Another host on a link of its own: a network namespace with one end of a
/// veth pair, the host holding the other; removed when dropped.
struct OtherHost {
    ns: String,
    link: String,
    /// This host's address on the link.
    host: String,
}

impl OtherHost {
    fn new() -> OtherHost {
        let n = std::process::id() % 250;
        let o = OtherHost {
            ns: format!("gko{}", std::process::id()),
            link: format!("gko{}", std::process::id()),
            host: format!("10.214.{n}.1"),
        };
        run("ip", &["netns", "add", &o.ns]);
        let peer = format!("{}p", o.link);
        run(
            "ip",
            &[
                "link", "add", &o.link, "type", "veth", "peer", "name", &peer,
            ],
        );
        run("ip", &["link", "set", &peer, "netns", &o.ns]);
        run(
            "ip",
            &["addr", "add", &format!("{}/30", o.host), "dev", &o.link],
        );
        run("ip", &["link", "set", &o.link, "up"]);
        let inside = |args: &[&str]| {
            let mut a = vec!["-n", o.ns.as_str()];
            a.extend(args);
            run("ip", &a);
        };
        inside(&["addr", "add", &format!("10.214.{n}.2/30"), "dev", &peer]);
        inside(&["link", "set", &peer, "up"]);
        inside(&["link", "set", "lo", "up"]);
        inside(&["route", "add", "default", "via", &o.host]);
        o
    }

    /// GET from this host's address on the link; `None` when nothing answers.
    fn fetch(&self, port: u16, path: &str) -> Option<String> {
        let url = format!("http://{}:{port}{path}", self.host);
        let out = output(Command::new("ip").args([
            "netns", "exec", &self.ns, "busybox", "wget", "-q", "-O-", &url,
        ]));
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }
}

impl Drop for OtherHost {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// What of a network a container holds on the host: veths on the bridge,
/// leases, port rules, records. Empty once every container is deleted.
fn held(env: &TestEnv) -> Vec<String> {
    let links = output(Command::new("ip").args(["-o", "link", "show", "master", &env.bridge()]));
    let mut held: Vec<String> = String::from_utf8_lossy(&links.stdout)
        .lines()
        .map(|l| format!("veth: {l}"))
        .collect();
    let leases = env.path().join("state/net/leases").join(env.bridge());
    for e in std::fs::read_dir(leases).into_iter().flatten() {
        let n = e.unwrap().file_name().into_string().unwrap();
        if n != "lock" && !n.starts_with("last_reserved_ip") {
            held.push(format!("lease: {n}"));
        }
    }
    let id = format!("name: \\\"{}\\\"", env.bridge());
    held.extend(
        run("iptables-save", &[])
            .lines()
            .filter(|l| l.contains(&id))
            .map(|l| format!("rule: {l}")),
    );
    let containers = env.path().join("state/net/containers");
    for e in std::fs::read_dir(containers).into_iter().flatten() {
        held.push(format!("record: {:?}", e.unwrap().file_name()));
    }
    held
}

#[test]
fn containers_of_every_backend_share_the_default_network() {
    require!("lxc", "crun", "runc");
    let env = TestEnv::with_network("");
    let doctor = |want: &str| {
        // Its exit code is the worst of all its checks: not this test's.
        let said = output(env.cmd("guestkit-doctor").args(["-o", "json"])).stdout;
        let said = String::from_utf8(said).unwrap();
        let line = said
            .lines()
            .find(|l| l.contains("\"check\":\"network\""))
            .unwrap();
        assert!(line.contains(want), "{line}");
    };
    doctor("(not made yet), subnet 10.77.");
    let names = ["gk-net-lxc", "gk-net-crun", "gk-net-runc"];
    let ports = [free_port(), free_port(), free_port()];
    for ((name, backend), port) in names.iter().zip(["lxc", "crun", "runc"]).zip(ports) {
        let publish = match backend {
            "crun" => format!("127.0.0.1:{port}:80"),
            _ => format!("{port}:80"),
        };
        env.ok(
            "ctr-create",
            &[
                name,
                "-b",
                backend,
                "--start",
                "--publish",
                &publish,
                "--",
                "httpd",
                "-f",
                "-p",
                "80",
                "-h",
                "/etc",
            ],
        );
    }
    snap!(env, "net-list", env.run("ctr-list", &["-o", "json"]));
    // Each has its address from its start: nothing to wait for.
    snap!(
        env,
        "net-wait-ip",
        env.run("ctr-wait", &[names[0], names[1], names[2], "--for", "ip"])
    );
    doctor(&format!(
        "network guestkit: bridge {} (up), subnet {} (chosen when it was made)",
        env.bridge(),
        env.subnet().unwrap()
    ));
    let ips: Vec<String> = names.iter().map(|n| address(&env, n)).collect();
    // Each container fetches the next one's hostname, across backends.
    let mut seen = String::new();
    for i in 0..3 {
        let (from, to) = (names[i], &ips[(i + 1) % 3]);
        let url = format!("http://{to}/hostname");
        seen.push_str(&format!("{from} -> {to}: "));
        seen.push_str(&env.run("ctr-exec", &[from, "--", "wget", "-q", "-O-", &url]));
    }
    snap!(env, "net-container-to-container", seen);
    // The host reaches each published port, on loopback and on an address
    // of its own that is not (the bridge's, the containers' gateway).
    let gateway = ips[0].rsplit_once('.').unwrap().0.to_string() + ".1";
    for (name, port) in names.iter().zip(ports) {
        assert_eq!(fetch("127.0.0.1", port, "/hostname"), format!("{name}\n"));
        if *name != "gk-net-crun" {
            assert_eq!(fetch(&gateway, port, "/hostname"), format!("{name}\n"));
        }
    }
    // Published on 127.0.0.1 only: not on the host's other addresses.
    assert!(http_get(&gateway, ports[1], "/hostname").is_err());
    // From another host: a network namespace joined to this one by a veth
    // pair, as a machine on the LAN would be, fetching from this host's
    // address on that link (PREROUTING's DNAT, not OUTPUT's).
    let other = OtherHost::new();
    for (name, port) in names.iter().zip(ports) {
        let got = other.fetch(port, "/hostname");
        match *name {
            "gk-net-crun" => assert_eq!(got, None, "published on 127.0.0.1 alone"),
            _ => assert_eq!(got.as_deref(), Some(format!("{name}\n").as_str())),
        }
    }
    drop(other);
    // A container reaches a server on the host through its gateway.
    let server = host_server();
    let url = format!("http://{gateway}:{server}/");
    for name in names {
        assert_eq!(
            env.stdout("ctr-exec", &[name, "--", "wget", "-q", "-O-", &url]),
            "from-host\n"
        );
    }
    snap!(
        env,
        "net-etc-files",
        env.run(
            "ctr-exec",
            &["gk-net-runc", "--", "cat", "/etc/hostname", "/etc/hosts"]
        )
    );
    // Outbound NAT, checked by its rules: nothing is sent off this machine.
    let comment = "guestkit network guestkit";
    let nat: Vec<String> = run("iptables", &["-w", "-t", "nat", "-S", "POSTROUTING"])
        .lines()
        .chain(run("iptables", &["-w", "-S", "FORWARD"]).lines())
        .filter(|l| l.contains(comment) && l.contains(&env.bridge()))
        .map(String::from)
        .collect();
    snap!(env, "net-nat-rules", nat.join("\n"));
    // Stopped, a container gets an address again at its next start: a wait
    // for it that starts before, and has looked once (its -v trace says so).
    env.ok("ctr-stop", &["--force", names[1]]);
    let mut wait = env.cmd("ctr-wait");
    wait.args([names[1], "--for", "ip", "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut waiting = wait.spawn().unwrap();
    let trace = waiting.stderr.take().unwrap();
    let (looked, first_look) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(trace).lines().map_while(Result::ok) {
            if line.contains(" exit ") {
                let _ = looked.send(());
            }
        }
    });
    first_look
        .recv_timeout(crate::common::DEADLINE)
        .expect("ctr-wait's first look at the container");
    env.ok("ctr-start", &[names[1]]);
    let out = crate::common::wait_output(waiting, crate::common::DEADLINE, "ctr-wait --for ip");
    reader.join().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"name\":\"gk-net-crun\",\"backend\":\"crun\",\"kind\":\"container\",\"action\":\"wait\",\"ok\":true,\"changed\":true,\"status\":\"running\"}\n"
    );
    env.ok(
        "ctr-delete",
        &["--force", "--yes", names[0], names[1], names[2]],
    );
    assert_eq!(held(&env), Vec::<String>::new());
    // The bridge stays while the network is defined.
    assert!(
        std::path::Path::new("/sys/class/net")
            .join(env.bridge())
            .exists()
    );
}

fn loopback_only(backend: &str) {
    let env = TestEnv::with_network("");
    let n = "gk-net-none";
    env.ok(
        "ctr-create",
        &[
            n,
            "-b",
            backend,
            "--network",
            "none",
            "--start",
            "--",
            "sleep",
            "1000",
        ],
    );
    let dev = env.stdout("ctr-exec", &[n, "--", "cat", "/proc/net/dev"]);
    let links: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(links, ["lo"]);
    assert!(
        env.stdout("ctr-list", &["-o", "json"])
            .contains("\"ipv4\":[]")
    );
    // It will get no address: waiting for one is refused at once.
    snap!(
        env,
        format!("{backend}-net-none-wait-ip"),
        env.run("ctr-wait", &[n, "--for", "ip"])
    );
    // Stopped, it might yet be started on another day: a wait, and a timeout.
    env.ok("ctr-stop", &["--force", n]);
    snap!(
        env,
        format!("{backend}-net-none-wait-ip-stopped"),
        env.run("ctr-wait", &[n, "--for", "ip", "--timeout", "1"])
    );
    env.ok("ctr-delete", &["--force", n]);
    assert_eq!(held(&env), Vec::<String>::new());
}
crate::on_every_backend!(loopback_only);

/// An interface of the host's own with an address (a bridge: this
/// kernel may lack dummy interfaces), removed when dropped.
struct Dummy(String);

impl Dummy {
    fn new(name: &str, address: &str) -> Dummy {
        run("ip", &["link", "add", name, "type", "bridge"]);
        let d = Dummy(name.to_string());
        run("ip", &["addr", "add", address, "dev", name]);
        run("ip", &["link", "set", name, "up"]);
        d
    }
}

impl Drop for Dummy {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).status();
    }
}

#[test]
fn bad_network_input_is_refused_and_leaves_nothing() {
    require!("crun");
    let dummy = format!("gkd{}", &env_suffix());
    let env = TestEnv::with_network(&format!(
        "[networks.clash]\nbridge = \"gkc{}\"\nsubnet = \"10.213.7.0/24\"\n[networks.mine]\nbridge = \"{dummy}\"\n",
        env_suffix()
    ));
    let _d = Dummy::new(&dummy, "10.213.7.1/25");
    let port = free_port();
    let a = "gk-net-a";
    env.ok(
        "ctr-create",
        &[
            a,
            "-b",
            "crun",
            "--publish",
            &format!("{port}:80"),
            "--",
            "true",
        ],
    );
    let ip_a = env
        .path()
        .join("state/net/containers")
        .join(a)
        .join("attachment.json");
    let attached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ip_a).unwrap()).unwrap();
    let taken = attached["address"].as_str().unwrap().to_string();
    let b = "gk-net-b";
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("unknown-network", vec!["--network".into(), "nosuch".into()]),
        ("publish-zero", vec!["--publish".into(), "0:80".into()]),
        (
            "publish-too-big",
            vec!["--publish".into(), "8080:70000".into()],
        ),
        ("publish-one-port", vec!["--publish".into(), "80".into()]),
        (
            "publish-taken",
            vec!["--publish".into(), format!("{port}:81")],
        ),
        ("ip-outside", vec!["--ip".into(), "10.213.9.5".into()]),
        ("ip-bad", vec!["--ip".into(), "192.0.2.300".into()]),
        ("ip-taken", vec!["--ip".into(), taken]),
        (
            "publish-without-network",
            vec![
                "--network".into(),
                "none".into(),
                "--publish".into(),
                "8080:80".into(),
            ],
        ),
        ("subnet-overlaps", vec!["--network".into(), "clash".into()]),
        ("bridge-not-ours", vec!["--network".into(), "mine".into()]),
    ];
    let mut text = String::new();
    for (what, flags) in cases {
        let mut args = vec![b, "-b", "crun"];
        args.extend(flags.iter().map(String::as_str));
        args.extend(["--", "true"]);
        let shown = env
            .run("ctr-create", &args)
            .replace(&port.to_string(), "[PORT]")
            .replace(&dummy, "[DUMMY]");
        text.push_str(&format!("## {what}\n{shown}\n"));
        assert!(
            !env.container_dir("crun", b).exists(),
            "{what}: the bundle was left"
        );
        assert!(
            !env.path().join("state/net/containers").join(b).exists(),
            "{what}: the network record was left"
        );
    }
    snap!(env, "net-bad-input", text);
    // guestkit-doctor says the same of a default network that clashes.
    let doctor = output(env.cmd("guestkit-doctor").env("GUESTKIT_NETWORK", "clash"));
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(doctor.status.code(), Some(8), "{said}");
    assert!(
        said.contains("\"check\":\"network\",\"ok\":false")
            && said.contains("overlaps the host's route 10.213.7.0/25"),
        "{said}"
    );
    env.ok("ctr-delete", &[a]);
    assert_eq!(held(&env), Vec::<String>::new());
    // Two networks on one bridge are a mistake in the config.
    let config = std::fs::read_to_string(env.path().join("config.toml")).unwrap();
    env.write_config(&format!(
        "{config}[networks.twin]\nbridge = \"{}\"\n",
        env.bridge()
    ));
    let out = output(env.cmd("ctr-list").args(["-o", "json"]));
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{said}");
    assert!(
        said.contains("networks guestkit and twin would share the bridge"),
        "{said}"
    );
    env.write_config(&config);
    // The clashing network was never made.
    assert!(
        !std::path::Path::new("/sys/class/net")
            .join(format!("gkc{}", env_suffix()))
            .exists()
    );
}

/// A suffix unique to this test process, for host-wide interface names.
fn env_suffix() -> String {
    format!("{:x}", std::process::id() % 0xfffff)
}

#[test]
fn containers_created_at_once_get_distinct_addresses() {
    require!("crun");
    let env = TestEnv::with_network("");
    let names: Vec<String> = (0..6).map(|i| format!("gk-net-many{i}")).collect();
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            env.cmd("ctr-create")
                .args([n, "-b", "crun", "--start", "--", "sleep", "1000"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let what = "a ctr-create of six at once";
        let out = crate::common::wait_output(c, crate::common::DEADLINE, what);
        assert!(out.status.success(), "{out:?}");
    }
    let mut ips: Vec<String> = names.iter().map(|n| address(&env, n)).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), names.len(), "{ips:?}");
    let mut args = vec!["--force", "--yes"];
    args.extend(names.iter().map(String::as_str));
    env.ok("ctr-delete", &args);
    assert_eq!(held(&env), Vec::<String>::new());
}

#[test]
fn a_network_left_by_a_killed_delete_is_removed_by_the_next_create() {
    require!("crun");
    let env = TestEnv::with_network("");
    for n in ["gk-net-gone", "gk-net-gone2"] {
        env.ok(
            "ctr-create",
            &[
                n,
                "-b",
                "crun",
                "--publish",
                &format!("{}:80", free_port()),
                "--",
                "true",
            ],
        );
    }
    // A delete killed after the bundle went, before the network did.
    std::fs::remove_dir_all(env.container_dir("crun", "gk-net-gone")).unwrap();
    assert_ne!(held(&env), Vec::<String>::new());
    snap!(
        env,
        "net-swept",
        env.run("ctr-create", &["gk-net-next", "-b", "crun", "--", "true"])
    );
    // The delete of that very name, run again, clears it too.
    std::fs::remove_dir_all(env.container_dir("crun", "gk-net-gone2")).unwrap();
    snap!(
        env,
        "net-swept-by-delete",
        env.run("ctr-delete", &["--missing-ok", "gk-net-gone2"])
    );
    env.ok("ctr-delete", &["gk-net-next"]);
    assert_eq!(held(&env), Vec::<String>::new());
}

#[test]
fn a_lost_namespace_is_joined_again_with_the_same_address() {
    require!("runc");
    let env = TestEnv::with_network("");
    let n = "gk-net-reboot";
    env.ok(
        "ctr-create",
        &[n, "-b", "runc", "--start", "--", "sleep", "1000"],
    );
    let before = address(&env, n);
    env.ok("ctr-stop", &["--force", n]);
    // As after a reboot, where /run is not a tmpfs: the file, no namespace.
    let ns = env
        .path()
        .join("state/net/containers")
        .join(n)
        .join("netns");
    run("umount", &[ns.to_str().unwrap()]);
    env.ok("ctr-start", &[n]);
    assert_eq!(address(&env, n), before);
    env.ok("ctr-delete", &["--force", n]);
    assert_eq!(held(&env), Vec::<String>::new());
}

#[test]
fn a_network_no_longer_defined_is_removed_once_unused() {
    require!("crun");
    let extra = format!("gkx{}", env_suffix());
    let env = TestEnv::with_network(&format!("[networks.extra]\nbridge = \"{extra}\"\n"));
    env.ok(
        "ctr-create",
        &[
            "gk-net-extra",
            "-b",
            "crun",
            "--network",
            "extra",
            "--",
            "true",
        ],
    );
    let bridge = std::path::Path::new("/sys/class/net").join(&extra);
    assert!(bridge.exists());
    env.ok("ctr-delete", &["gk-net-extra"]);
    assert!(bridge.exists(), "kept while defined");
    env.write_config(&format!(
        "[networks.guestkit]\nbridge = \"{}\"\n",
        env.bridge()
    ));
    let out = env
        .run("ctr-create", &["gk-net-after", "-b", "crun", "--", "true"])
        .replace(&extra, "[EXTRA]");
    snap!(env, "net-undefined-removed", out);
    assert!(!bridge.exists());
    env.ok("ctr-delete", &["gk-net-after"]);
}
