//! The man pages' EXAMPLES (from the tools' specs), run: each in a fresh
//! world of its own (real crun containers; the Proxmox VE simulator for the
//! vm-* tools), with sh, or nu for the nushell ones, its output snapshotted
//! per tool. An example that cannot run here is in NOT_RUN with the reason;
//! the test fails on an example that is in neither, and on a reason left
//! for an example that is gone. The command lines of README.md and docs/
//! that run a tool are run the same way. (tests/examples.rs parses every
//! invocation of a tool in them all; the cookbook runs whole in cookbook.rs.)

use crate::common::{SETTLE, TestEnv, wait_for};
use crate::pve::Pve;
use crate::sim::server::{Agent, Options, Vm};
use crate::{require, snap};
use guestkit::cmd::ALL;
use std::time::Duration;

#[path = "../support/markdown.rs"]
mod markdown;

/// Examples that do not run here, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "ctr-create data --image ./rootfs.tar.zst --mount /srv/data:/data:ro --start",
        "needs a root filesystem tarball and a host directory /srv/data",
    ),
    (
        "ctr-logs --tail 20 --follow worker",
        "follows the log until interrupted",
    ),
    (
        "ctr-stats web --follow --interval 5",
        "samples until interrupted",
    ),
    (
        "ctr-run job --detach -- sh -c 'make test' && ctr-wait job --for exited && ctr-logs job",
        "needs make and a project in the container",
    ),
    (
        "guestkit-setup",
        "asks its questions on a terminal (tests/cli/setup.rs)",
    ),
    (
        "guestkit-setup --non-interactive --pve-url https://pve1:8006 --pve-url https://pve2:8006 --trust-on-first-use --pve-token-file /etc/guestkit/pve-token",
        "needs a cluster named pve1 and pve2 (the simulator's are run in tests/cli/setup.rs)",
    ),
    (
        "vm-exec web -- uptime",
        "the simulator's guest agent runs echo, cat, hostname, ls / and little else; this needs a real guest",
    ),
    (
        "vm-exec web -- sh -c 'systemctl is-active nginx || journalctl -u nginx -n 20'",
        "needs a real guest with systemd and nginx",
    ),
    (
        "echo 'nameserver 10.0.0.1' | vm-exec web -- tee -a /etc/resolv.conf",
        "needs a real guest (the simulator's agent has no tee)",
    ),
    (
        "vm-exec web -- cat /etc/app.json | jq .port",
        "needs a real guest with /etc/app.json",
    ),
    (
        "vm-exec db -- cat /etc/os-release | lines | parse '{key}={value}'",
        "needs a real guest's /etc/os-release",
    ),
    (
        "ssh debian@$(vm-state web | jq -r '.ipv4[0]')",
        "logs in to the guest by SSH",
    ),
    (
        "vm-clone debian-12-cloud web --sshkey ~/.ssh/id_ed25519.pub --ip dhcp --start && vm-wait web --for ip && ssh debian@$(vm-state web | jq -r '.ipv4[0]')",
        "logs in to the guest by SSH",
    ),
    (
        "0 20 * * * vm-list --tag dev --status running | vm-stop -q --jobs 5",
        "a crontab line, not a command",
    ),
    (
        "d=$(vm-config web | jq -r .digest); ...; vm-config web --digest \"$d\" --set onboot=1",
        "elides the reading in between (…)",
    ),
    // README.md and docs/.
    (
        "guestkit-setup --non-interactive --backend runc  --pve-url https://pve1:8006 --trust-on-first-use --pve-token-file /etc/guestkit/pve-token",
        "needs a cluster named pve1 (the simulator's are run in tests/cli/setup.rs)",
    ),
    ("ctr-logs --follow job", "follows the log until interrupted"),
    (
        "./scripts/install && ctr-run hello --image busybox --rm -- echo hello from a container",
        "installs guestkit on the host; its ctr-run is the man page's example, run above",
    ),
    (
        "vm-snapshot web before-upgrade && vm-exec web -- apt-get -y full-upgrade",
        "needs a real guest with apt",
    ),
];

/// The command lines of README.md and docs/*.md that run a tool (the
/// cookbook's page is run as its recipes).
fn doc_examples() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md") && !p.ends_with("cookbook.md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    let mut out = Vec::new();
    for page in pages {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        for line in markdown::markdown_lines(&std::fs::read_to_string(&page).unwrap()) {
            let is_tool = |w: &str| ALL.iter().any(|c| c.name == w);
            // A tool named outside a comment; a list of the tools' names is
            // no command.
            let code = line.split(" #").next().unwrap_or("");
            let names_tool = code
                .split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .any(is_tool);
            if !line.starts_with('#') && names_tool && !line.split_whitespace().all(is_tool) {
                out.push((name.clone(), line));
            }
        }
    }
    out
}

/// Examples whose output is the moment's (memory and CPU use, PIDs and
/// times in a nushell table) or the host's (what the doctor finds): their
/// runs and exit codes are checked, their output only said to be there.
const VARIES: &[&str] = &[
    "ctr-list | from json --objects | where status == running",
    "ctr-state web | jq .memory_bytes",
    "ctr-state web db | from json --objects | select name memory_bytes cpus",
    "ctr-stats",
    "ctr-stats | from json --objects | sort-by cpu_share --reverse | first 5",
    "ctr-exec web -- ps",
    // The status right after a signal other than KILL: before or after the
    // container has ended, as the moment has it.
    "ctr-kill --signal HUP web",
    "ctr-list --status running | jq -c 'select(.name | test(\"^worker-\"))' | ctr-kill --signal TERM",
    "ctr-list -o table",
    "ctr-list | from json --objects | where status == running      # nushell",
    // The host's kernel; what the doctor finds (what is installed where).
    "ctr-run probe --backend runc --rm -- uname -a",
    "guestkit-doctor",
    "guestkit-doctor | jq -c 'select(.level != \"ok\")'",
    "guestkit-doctor | from json --objects | where level != ok | select check hint",
];

/// Whether an example is nushell's: it pipes into nushell's own commands.
fn is_nu(line: &str) -> bool {
    ["| from json", "| lines", "| each ", "| where ", "| get "]
        .iter()
        .any(|p| line.contains(p))
}

/// The names an example makes (ctr-create NAME, ctr-run NAME, vm-create
/// NAME, vm-clone SRC NAME): they must not be there before it.
fn made(line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let nth = match *w {
            "ctr-create" | "ctr-run" | "vm-create" => 1,
            "vm-clone" => 2,
            _ => continue,
        };
        if let Some(n) = words.get(i + nth).filter(|n| !n.starts_with('-')) {
            out.push(n.trim_matches(['\'', '"']).to_string());
        }
    }
    out
}

/// The local containers the examples name, with their commands and
/// whether they run; each is made only when an example mentions it.
const CONTAINERS: &[(&str, bool, &str)] = &[
    ("web", true, "echo serving; sleep 1000"),
    ("db", false, "sleep 1000"),
    ("tmp1", false, "sleep 1000"),
    ("tmp2", false, "sleep 1000"),
    ("build", true, "sleep 1000"),
    ("worker", true, "echo started; sleep 1000"),
    (
        "api",
        true,
        "echo '{\"level\":\"info\",\"msg\":\"up\"}'; echo '{\"level\":\"error\",\"msg\":\"no db\"}'; sleep 1000",
    ),
    ("job-1", false, "true"),
    ("batch-1", true, "sleep 1000"),
    ("worker-1", true, "sleep 1000"),
    ("web-1", true, "sleep 1000"),
    ("ci-1", true, "sleep 1000"),
];

/// A fresh world for one container example: the containers it names (web
/// and db always; web stopped for a plain delete), the files it copies, crun
/// the default backend; and for backend proxmox, the simulator's cluster.
fn container_world(line: &str) -> Pve {
    let mut p = Pve::new(Options::default());
    // A wait for an address needs a network (the test's own bridge).
    let net = match line.contains("--for ip") {
        true => p.env.networked(),
        false => String::new(),
    };
    let env = &p.env;
    env.write_config(&format!(
        "default_backend = \"crun\"\n[proxmox]\nlock_wait = 0.5\n{net}"
    ));
    // web is stopped for a plain delete, and for a wait until it stops.
    let stop_web = (line.starts_with("ctr-delete web") && !line.contains("--force"))
        || line.contains("--for stopped");
    let made = made(line);
    for (name, running, command) in CONTAINERS {
        // job-1 stands for 'job-*'; the word "jobs" is no job.
        let key = name.trim_end_matches('1');
        let named = line.contains(key) || ["web", "db"].contains(name);
        if !named || made.iter().any(|m| m == name) {
            continue;
        }
        let mut args = vec![*name, "--", "sh", "-c", command];
        if *running && !(*name == "web" && stop_web) {
            args.insert(1, "--start");
        }
        env.ok("ctr-create", &args);
    }
    let has = |n: &str| !made.iter().any(|m| m == n) && line.contains(n);
    if (has("web") || line.contains("$c")) && !stop_web {
        let files = "mkdir -p /var/log /etc/app && echo ok > /var/log/app.log && echo '{\"port\": 8080}' > /etc/app.json";
        env.ok("ctr-exec", &["web", "--", "sh", "-c", files]);
    }
    if has("build") {
        env.ok(
            "ctr-exec",
            &[
                "build",
                "--",
                "sh",
                "-c",
                "mkdir /out && echo built > /out/app",
            ],
        );
    }
    if has("web") && line.contains("ctr-logs") {
        wait_for("web's log", SETTLE, || {
            env.stdout("ctr-logs", &["web"]).contains("serving")
        });
    }
    if has("build") && line.contains("ctr-resume") {
        env.ok("ctr-pause", &["build"]);
    }
    if has("api") {
        wait_for("api's log", SETTLE, || {
            env.stdout("ctr-logs", &["api"]).contains("no db")
        });
    }
    for dir in ["site", "conf"] {
        std::fs::create_dir_all(env.path().join(dir)).unwrap();
        std::fs::write(env.path().join(dir).join("index.html"), "hello\n").unwrap();
    }
    std::fs::write(env.path().join("motd"), "welcome\n").unwrap();
    p
}

/// The shell an example runs in: nu for nushell's, else sh; with the
/// simulator's URL, token and pins when it talks to the cluster.
fn shell(p: &Pve, line: &str, cluster: bool) -> std::process::Command {
    let program = if is_nu(line) { "nu" } else { "sh" };
    match cluster {
        true => p.shell(program),
        false => p.env.shell(program),
    }
}

/// Adds a run's transcript to its group's (the tool's, the page's), in order.
fn append(groups: &mut Vec<(String, String)>, key: &str, out: String) {
    match groups.last_mut() {
        Some((k, text)) if k == key => text.push_str(&out),
        _ => groups.push((key.to_string(), out)),
    }
}

/// Runs one example in `cmd`'s shell: its transcript.
fn run_example(env: &TestEnv, mut shell: std::process::Command, line: &str) -> String {
    if is_nu(line) {
        shell.args(["--no-config-file", "-c", line]);
    } else {
        shell.args(["-c", line]);
    }
    let out = env.run_cmd(&mut shell, None);
    let out = match VARIES.contains(&line) {
        false => out,
        true => {
            let (head, rest) = out.split_once("----- stdout -----\n").unwrap();
            // Even whether there is output varies (the doctor's warnings).
            let (_, stderr) = rest.split_once("----- stderr -----\n").unwrap();
            format!("{head}----- stdout -----\n[output that varies]\n----- stderr -----\n{stderr}")
        }
    };
    // The world's own filters (its network's addresses among them).
    let mut out = out;
    for (re, with) in env.filters() {
        out = regex::Regex::new(&re)
            .unwrap()
            .replace_all(&out, with.as_str())
            .into_owned();
    }
    // Each example's world has its own directory; log lines their times.
    let temp = regex::Regex::new(r"/tmp/guestkit-test-[0-9A-Za-z]+").unwrap();
    let stamp = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").unwrap();
    let out = temp.replace_all(&out, "[TEMP]");
    let out = stamp.replace_all(&out, "[TIME]");
    format!("$ {line}\n{out}\n")
}

fn examples(prefix: &str) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for cmd in ALL.iter().filter(|c| c.name.starts_with(prefix)) {
        for (line, _) in cmd.examples {
            if !NOT_RUN.iter().any(|(l, _)| l == line) {
                out.push((cmd.name, *line));
            }
        }
    }
    out
}

#[test]
fn every_reason_not_to_run_names_an_example() {
    let docs = doc_examples();
    for (line, why) in NOT_RUN {
        assert!(
            ALL.iter()
                .any(|c| c.examples.iter().any(|(l, _)| l == line))
                || docs.iter().any(|(_, l)| l == line),
            "NOT_RUN names an example that is gone: {line} ({why})"
        );
    }
}

#[test]
fn the_examples_of_the_readme_and_docs_run() {
    if !crate::common::need("jq", "jq") || !crate::common::need("nu", "npm install -g nushell") {
        return;
    }
    require!("crun");
    let mut by_page: Vec<(String, String)> = Vec::new();
    for (page, line) in doc_examples() {
        if NOT_RUN.iter().any(|(l, _)| *l == line) {
            continue;
        }
        let out = if line.starts_with("vm-") {
            let p = vm_world(&line);
            run_example(&p.env, shell(&p, &line, true), &line)
        } else {
            let p = container_world(&line);
            run_example(&p.env, shell(&p, &line, false), &line)
        };
        append(&mut by_page, &page, out);
    }
    let env = TestEnv::new();
    for (page, text) in by_page {
        let name = format!("examples-{}", page.trim_end_matches(".md"));
        snap!(env, name.as_str(), text.as_str());
    }
}

#[test]
fn the_container_examples_run() {
    if !crate::common::need("jq", "jq") || !crate::common::need("nu", "npm install -g nushell") {
        return;
    }
    require!("crun");
    let mut by_tool: Vec<(String, String)> = Vec::new();
    for (tool, line) in examples("ctr-") {
        let p = container_world(line);
        let out = run_example(&p.env, shell(&p, line, line.contains("proxmox")), line);
        append(&mut by_tool, tool, out);
    }
    let env = TestEnv::new();
    for (tool, text) in by_tool {
        snap!(env, format!("examples-{tool}").as_str(), text.as_str());
    }
}

/// A fresh cluster for one VM example: the VMs the examples name, on three
/// nodes, with tags, templates and a guest agent.
fn vm_world(line: &str) -> Pve {
    let p = Pve::new(Options::default());
    let made = made(line);
    // A plain migration is of a stopped VM; a live one of running ones.
    let all_stopped = line.contains("vm-migrate") && !line.contains("--online");
    let vms: &[(u32, &str, &str, bool, &[&str])] = &[
        (101, "pve1", "web", true, &["web", "prod"]),
        (102, "pve2", "db", true, &["db", "prod"]),
        (103, "pve1", "old-web", false, &[]),
        (104, "pve3", "a", false, &["ci"]),
        (105, "pve2", "b", false, &["ci", "ephemeral"]),
        (106, "pve3", "c", false, &["dev"]),
        (107, "pve1", "app-1", true, &[]),
        (108, "pve2", "ci-3", false, &["ci"]),
    ];
    for (vmid, node, name, running, tags) in vms {
        if made.iter().any(|m| m == name) {
            continue;
        }
        let mut vm = Vm::new(*vmid, node, name);
        vm.running = *running && !all_stopped;
        match *name {
            "db" => {
                let disk = "local-lvm:vm-102-disk-1,size=100G".to_string();
                vm.config.insert("virtio1".into(), disk);
            }
            "web" if line.contains("vm-snapshot-") => {
                vm.snapshots.push(crate::sim::server::Snapshot {
                    name: "before-upgrade".into(),
                    parent: None,
                    snaptime: 1_761_955_200,
                    vmstate: false,
                    description: "before apt full-upgrade".into(),
                    config: vm.config.clone(),
                    running: false,
                })
            }
            _ => {}
        }
        vm.tags = tags.iter().map(|t| t.to_string()).collect();
        vm.config.insert("agent".into(), "1".into());
        vm.agent = Some(Agent::booting(Duration::ZERO, Duration::ZERO));
        p.sim.add_vm(vm);
    }
    for (vmid, name) in [
        (9000, "debian-12-template"),
        (9001, "debian-12-cloud"),
        (9002, "tpl"),
    ] {
        let mut t = Vm::new(vmid, "pve1", name);
        t.template = true;
        t.config.insert("agent".into(), "1".into());
        t.agent = Some(Agent::booting(Duration::ZERO, Duration::ZERO));
        p.sim.add_vm(t);
    }
    let key = p.env.path().join(".ssh/id_ed25519.pub");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk me@laptop\n").unwrap();
    p
}

#[test]
fn the_vm_examples_run() {
    if !crate::common::need("jq", "jq") || !crate::common::need("nu", "npm install -g nushell") {
        return;
    }
    let mut by_tool: Vec<(String, String)> = Vec::new();
    for (tool, line) in examples("vm-") {
        let p = vm_world(line);
        append(
            &mut by_tool,
            tool,
            run_example(&p.env, shell(&p, line, true), line),
        );
    }
    let p = Pve::new(Options::default());
    for (tool, text) in by_tool {
        snap!(p, format!("examples-{tool}").as_str(), text.as_str());
    }
}

#[test]
fn the_doctor_and_setup_examples_run() {
    if !crate::common::need("jq", "jq") || !crate::common::need("nu", "npm install -g nushell") {
        return;
    }
    let mut all = String::new();
    for (_, line) in examples("guestkit-") {
        let env = TestEnv::new();
        if line.contains("guestkit-setup") {
            std::fs::remove_file(env.path().join("config.toml")).unwrap();
        }
        let shell = if is_nu(line) { "nu" } else { "sh" };
        all.push_str(&run_example(&env, env.shell(shell), line));
        drop(env);
    }
    let env = TestEnv::new();
    snap!(env, "examples-guestkit", all.as_str());
}

/// The image tools' examples, on a cache with nothing pulled (pulling
/// needs a registry: tests/cli/registry.rs runs the tools on one).
#[test]
fn the_image_examples_run() {
    if !crate::common::need("jq", "jq") || !crate::common::need("nu", "npm install -g nushell") {
        return;
    }
    let mut all = String::new();
    for (_, line) in examples("image-") {
        let env = TestEnv::with_cache();
        let shell = if is_nu(line) { "nu" } else { "sh" };
        all.push_str(&run_example(&env, env.shell(shell), line));
    }
    let env = TestEnv::new();
    snap!(env, "examples-image", all.as_str());
}
