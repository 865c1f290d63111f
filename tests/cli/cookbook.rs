//! The cookbook's recipes (docs/cookbook/), each run as a user would run it,
//! with the shells it claims (sh is dash; bash; nu), against real backends
//! and the Proxmox VE simulator, its output snapshotted: the outputs shown in
//! docs/cookbook.md are these snapshots (tests/generated.rs keeps the page
//! current). shellcheck checks every shell recipe.

use crate::common::{SETTLE, TestEnv, need, wait_for, which};
use crate::pve::Pve;
use crate::sim::server::{Options, Snapshot, Vm};
use crate::{on_every_backend, require, snap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn recipe(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/cookbook")
        .join(name)
}

/// Runs a recipe with `shell` in `cmd`'s environment: its snapshot text.
fn run(env: &TestEnv, mut cmd: Command, file: &str, args: &[&str]) -> String {
    cmd.arg(recipe(file)).args(args);
    env.run_cmd(&mut cmd, None)
}

fn names(env: &TestEnv, status: &str) -> String {
    env.stdout("ctr-list", &["-o", "name", "--status", status])
}

#[test]
fn start_matching() {
    if !need("jq", "jq") {
        return;
    }
    require!("crun");
    let env = TestEnv::new();
    for n in ["web-1", "web-2", "db"] {
        env.ok("ctr-create", &["-b", "crun", n, "--", "sleep", "1000"]);
    }
    env.ok(
        "ctr-create",
        &["-b", "crun", "web-3", "--start", "--", "sleep", "1000"],
    );
    for shell in ["sh", "bash"] {
        let out = run(&env, env.shell(shell), "start-matching.sh", &["web-*"]);
        snap!(env, "cookbook-start-matching", out);
        assert_eq!(names(&env, "stopped"), "db\n");
        env.ok("ctr-stop", &["web-1", "web-2", "--force"]);
    }
}

#[test]
fn before_and_after_a_reboot() {
    if !need("jq", "jq") {
        return;
    }
    require!("crun");
    let env = TestEnv::new();
    for n in ["app", "cache"] {
        env.ok(
            "ctr-create",
            &["-b", "crun", n, "--start", "--", "sleep", "1000"],
        );
    }
    env.ok("ctr-create", &["-b", "crun", "idle", "--", "sleep", "1000"]);
    let list = env.path().join("running-before-reboot");
    for shell in ["sh", "bash"] {
        let mut cmd = env.shell(shell);
        cmd.env("GUESTKIT_REBOOT_LIST", &list);
        let before = run(&env, cmd, "before-reboot.sh", &[]);
        assert_eq!(names(&env, "running"), "");
        let mut cmd = env.shell(shell);
        cmd.env("GUESTKIT_REBOOT_LIST", &list);
        let after = run(&env, cmd, "after-reboot.sh", &[]);
        snap!(env, "cookbook-reboot", format!("{before}{after}"));
        assert_eq!(
            names(&env, "running"),
            "app\ncache\n",
            "the same set, and no other"
        );
        assert!(!list.exists());
    }
}

#[test]
fn restart_dead() {
    if !need("jq", "jq") {
        return;
    }
    require!("crun");
    let env = TestEnv::new();
    // Dies with exit code 3 a moment after its first start, and runs at the
    // next.
    let flaky = "if [ -e /ran ]; then exec sleep 1000; fi; touch /ran; sleep 0.5; exit 3";
    env.ok(
        "ctr-create",
        &[
            "-b",
            "crun",
            "svc-flaky",
            "--start",
            "--",
            "sh",
            "-c",
            flaky,
        ],
    );
    env.ok(
        "ctr-create",
        &["-b", "crun", "svc-up", "--start", "--", "sleep", "1000"],
    );
    env.ok(
        "ctr-create",
        &[
            "-b",
            "crun",
            "svc-stopped",
            "--start",
            "--",
            "sleep",
            "1000",
        ],
    );
    env.ok("ctr-stop", &["svc-stopped", "--timeout", "1"]);
    wait_for("svc-flaky to die with exit code 3", SETTLE, || {
        env.stdout("ctr-state", &["svc-flaky"])
            .contains(r#""exit_code":3"#)
    });
    let out = run(&env, env.shell("bash"), "restart-dead.sh", &["svc-*"]);
    snap!(env, "cookbook-restart-dead", out);
    assert_eq!(names(&env, "running"), "svc-flaky\nsvc-up\n");
}

#[test]
fn ci_cleanup() {
    if !need("jq", "jq") {
        return;
    }
    require!("crun");
    let env = TestEnv::new();
    env.ok(
        "ctr-create",
        &["-b", "crun", "ci-1", "--start", "--", "sleep", "1000"],
    );
    env.ok("ctr-create", &["-b", "crun", "ci-2", "--", "sleep", "1000"]);
    env.ok("ctr-create", &["-b", "crun", "keep", "--", "sleep", "1000"]);
    // Made now, so younger than a day: nothing goes.
    let young = run(&env, env.shell("sh"), "ci-cleanup.sh", &[]);
    assert_eq!(
        young,
        "exit_code: 0\n----- stdout -----\n----- stderr -----\n"
    );
    // A day from now, they are old.
    let mut cmd = env.shell("sh");
    cmd.env("CUTOFF", "9999-01-01T00:00:00Z");
    let out = run(&env, cmd, "ci-cleanup.sh", &[]);
    snap!(env, "cookbook-ci-cleanup", out);
    assert_eq!(env.stdout("ctr-list", &["-o", "name"]), "keep\n");
}

on_every_backend!(backend_tour);

fn backend_tour(backend: &str) {
    if !need("jq", "jq") {
        return;
    }
    require!(backend);
    let env = TestEnv::new();
    let out = run(&env, env.shell("sh"), "backend-tour.sh", &[backend]);
    snap!(
        env,
        format!("cookbook-backend-tour-{backend}").as_str(),
        out
    );
}

#[test]
fn nightly_snapshots() {
    if !need("jq", "jq") {
        return;
    }
    let p = Pve::with_vms(3);
    p.sim.with_vm(100, |v| v.tags = vec!["backup".into()]);
    p.sim.with_vm(102, |v| {
        v.tags = vec!["backup".into(), "web".into()];
        // A nightly snapshot of 2020, long due to go, and one kept by hand.
        for (name, snaptime) in [
            ("nightly-20200101", 1_577_840_400),
            ("by-hand", 1_577_840_500),
        ] {
            v.snapshots.push(Snapshot {
                name: name.into(),
                parent: None,
                snaptime,
                vmstate: false,
                description: String::new(),
                config: v.config.clone(),
                running: false,
            });
        }
    });
    let out = run(&p.env, p.shell("sh"), "nightly-snapshots.sh", &[]);
    assert_eq!(
        out, "exit_code: 0\n----- stdout -----\n----- stderr -----\n",
        "cron would mail: {out}"
    );
    let today = crate::common::output(Command::new("date").args(["-u", "+%Y%m%d"]));
    let today = String::from_utf8(today.stdout).unwrap();
    let mut list = p.shell("vm-snapshot-list");
    list.args(["vm100", "vm101", "vm102", "-o", "table"]);
    let snapshots = p
        .env
        .run_cmd(&mut list, None)
        .replace(today.trim(), "[TODAY]");
    snap!(p, "cookbook-nightly-snapshots", snapshots);
}

#[test]
fn vm_tour() {
    if !need("jq", "jq") {
        return;
    }
    let p = Pve::new(Options::default());
    let mut t = Vm::new(100, "pve2", "debian-12-template");
    t.template = true;
    p.sim.add_vm(t);
    let out = run(&p.env, p.shell("sh"), "vm-tour.sh", &["debian-12-template"]);
    snap!(p, "cookbook-vm-tour", out);
    assert_eq!(p.sim.vmids(), vec![100]);
}

#[test]
fn pve_container_tour() {
    if !need("jq", "jq") {
        return;
    }
    let p = Pve::new(Options::default());
    let out = run(&p.env, p.shell("sh"), "pve-container-tour.sh", &[]);
    snap!(p, "cookbook-pve-container-tour", out);
    assert!(p.sim.vmids().is_empty());
}

/// Local containers of two backends, and a cluster's VMs and containers.
fn fleet() -> Pve {
    let p = Pve::with_vms(3);
    p.sim.with_vm(101, |v| v.running = true);
    p.sim.add_vm(Vm::container(200, "pve1", "ct200"));
    p.env.ok(
        "ctr-create",
        &["-b", "crun", "oci-up", "--start", "--", "sleep", "1000"],
    );
    p.env.ok(
        "ctr-create",
        &["-b", "crun", "oci-down", "--", "sleep", "1000"],
    );
    p.env.ok(
        "ctr-create",
        &["-b", "lxc", "lx-up", "--start", "--", "sleep", "1000"],
    );
    p
}

#[test]
fn guests_by_status_in_sh_and_nu() {
    if !need("jq", "jq") {
        return;
    }
    require!("lxc", "crun");
    if which("nu").is_none() {
        assert!(
            std::env::var_os("GUESTKIT_REQUIRE_ALL").is_none(),
            "nu is required here"
        );
        return;
    }
    let p = fleet();
    let out = run(&p.env, p.shell("sh"), "guests-by-status.sh", &[]);
    snap!(p, "cookbook-guests-by-status-sh", out);
    let mut nu = p.shell("nu");
    nu.arg("--no-config-file");
    let out = run(&p.env, nu, "guests-by-status.nu", &[]);
    snap!(p, "cookbook-guests-by-status-nu", out);
    assert_eq!(
        p.env.stdout(
            "ctr-list",
            &["-o", "name", "--status", "running", "-b", "lxc"]
        ),
        ""
    );
}

#[test]
fn cluster_memory_in_sh_and_nu() {
    if !need("jq", "jq") {
        return;
    }
    let p = Pve::with_vms(4);
    p.sim.with_vm(101, |v| v.running = true);
    p.sim.with_vm(102, |v| {
        v.config.insert("memory".into(), "8192".into());
    });
    let out = run(&p.env, p.shell("sh"), "cluster-memory.sh", &[]);
    snap!(p, "cookbook-cluster-memory-sh", out);
    if which("nu").is_none() {
        assert!(
            std::env::var_os("GUESTKIT_REQUIRE_ALL").is_none(),
            "nu is required here"
        );
        return;
    }
    let mut nu = p.shell("nu");
    nu.arg("--no-config-file");
    let out = run(&p.env, nu, "cluster-memory.nu", &[]);
    snap!(p, "cookbook-cluster-memory-nu", out);
}

#[test]
fn shellcheck_passes_on_every_shell_recipe() {
    let Some(shellcheck) = which("shellcheck") else {
        assert!(
            std::env::var_os("GUESTKIT_REQUIRE_ALL").is_none(),
            "shellcheck is required here (scripts/deps --test installs it)"
        );
        eprintln!("skipped: shellcheck is not installed");
        return;
    };
    let dir = recipe("");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 10, "{scripts:?}");
    let out = crate::common::output(Command::new(shellcheck).args(&scripts));
    assert!(
        out.status.success(),
        "shellcheck:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
