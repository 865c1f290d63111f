//! --dry-run on every tool that changes guests: each prints the records a
//! real run would print, marked, fails where a real run would fail, and
//! changes nothing: the backends' state (and, for Proxmox VE, the requests
//! the simulator saw) is compared before and after.

use crate::common::TestEnv;
use crate::pve::Pve;
use crate::sim::server::{Options, Vm};
use crate::{on_every_backend, require, snap};

/// Every run of `runs`, as its command line and its snapshot text.
fn transcript(run: impl Fn(&str, &[&str]) -> String, runs: &[(&str, &[&str])]) -> String {
    let mut all = String::new();
    for (tool, args) in runs {
        all.push_str(&format!(
            "$ {tool} {}\n{}\n",
            args.join(" "),
            run(tool, args)
        ));
    }
    all
}

/// What the containers are: their records, without what changes by itself
/// as they run (their memory and CPU use).
fn containers(env: &TestEnv) -> Vec<serde_json::Value> {
    let text = env.stdout("ctr-state", &["gk-up", "gk-down"]);
    text.lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let m = v.as_object_mut().unwrap();
            m.remove("memory_bytes");
            m.remove("cpu_time_s");
            v
        })
        .collect()
}

on_every_backend!(containers_are_left_as_they_were);

fn containers_are_left_as_they_were(backend: &str) {
    require!(backend);
    let env = TestEnv::new();
    env.ok(
        "ctr-create",
        &["-b", backend, "gk-up", "--start", "--", "sleep", "1000"],
    );
    env.ok(
        "ctr-create",
        &["-b", backend, "gk-down", "--", "sleep", "1000"],
    );
    let before = containers(&env);
    let runs: &[(&str, &[&str])] = &[
        ("ctr-create", &["-b", backend, "gk-new", "--dry-run"]),
        (
            "ctr-create",
            &["-b", backend, "gk-new", "--start", "--dry-run"],
        ),
        ("ctr-create", &["-b", backend, "gk-up", "--dry-run"]),
        ("ctr-start", &["gk-up", "gk-down", "--dry-run"]),
        ("ctr-stop", &["gk-up", "gk-down", "--dry-run"]),
        ("ctr-stop", &["gk-up", "--force", "--dry-run"]),
        ("ctr-restart", &["gk-up", "gk-down", "--dry-run"]),
        ("ctr-kill", &["gk-up", "gk-down", "--dry-run"]),
        ("ctr-kill", &["gk-up", "--signal", "HUP", "--dry-run"]),
        ("ctr-pause", &["gk-up", "gk-down", "--dry-run"]),
        ("ctr-resume", &["gk-up", "--dry-run"]),
        (
            "ctr-update",
            &["gk-up", "gk-down", "--memory", "300M", "--dry-run"],
        ),
        ("ctr-delete", &["gk-up", "gk-down", "gk-gone", "--dry-run"]),
        (
            "ctr-delete",
            &[
                "gk-up",
                "gk-down",
                "gk-gone",
                "--force",
                "--missing-ok",
                "--dry-run",
            ],
        ),
    ];
    let all = transcript(|t, a| env.run(t, a), runs);
    assert_eq!(containers(&env), before, "a dry run changed something");
    assert_eq!(
        env.stdout("ctr-list", &["-o", "name"]),
        "gk-down\ngk-up\n",
        "a dry run made or removed a container"
    );
    snap!(env, format!("dry-run-{backend}").as_str(), all.as_str());
}

/// The cluster as the tools see it: every VM's record, configuration and
/// snapshots.
fn cluster(p: &Pve) -> String {
    let mut all = String::new();
    for tool in ["vm-list", "vm-config"] {
        let out = crate::common::output(p.cmd(tool).args(["vm100", "vm101", "vm102"]));
        all.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let out = crate::common::output(p.cmd("vm-snapshot-list").arg("vm100"));
    all + &String::from_utf8_lossy(&out.stdout)
}

in_both_typings!(vms_are_left_as_they_were);

fn vms_are_left_as_they_were() {
    let p = Pve::with_vms(3);
    p.sim.with_vm(101, |v| v.running = true);
    p.sim.with_vm(102, |v| v.template = true);
    assert!(
        p.run("vm-snapshot", &["vm100", "before"])
            .starts_with("exit_code: 0"),
        "the test's snapshot was not taken"
    );
    let before = cluster(&p);
    p.sim.clear_requests();
    let runs: &[(&str, &[&str])] = &[
        ("vm-create", &["web", "--node", "pve1", "--dry-run"]),
        ("vm-create", &["web", "--vmid", "100", "--dry-run"]),
        ("vm-clone", &["vm102", "web", "--start", "--dry-run"]),
        ("vm-start", &["vm100", "vm101", "--dry-run"]),
        ("vm-stop", &["vm100", "vm101", "--dry-run"]),
        ("vm-restart", &["vm100", "vm101", "--dry-run"]),
        ("vm-delete", &["vm100", "vm101", "--dry-run"]),
        ("vm-delete", &["vm101", "--force", "--dry-run"]),
        ("vm-config", &["vm100", "--set", "memory=4096", "--dry-run"]),
        ("vm-config", &["vm100", "--set", "memory=2048", "--dry-run"]),
        ("vm-resize", &["vm100", "scsi0", "+8G", "--dry-run"]),
        ("vm-resize", &["vm100", "scsi0", "8G", "--dry-run"]),
        ("vm-snapshot", &["vm100", "after", "--dry-run"]),
        ("vm-snapshot", &["vm100", "before", "--dry-run"]),
        ("vm-snapshot-rollback", &["vm100", "before", "--dry-run"]),
        ("vm-snapshot-rollback", &["vm100", "nope", "--dry-run"]),
        ("vm-snapshot-delete", &["vm100", "before", "--dry-run"]),
        ("vm-migrate", &["vm100", "--to", "pve2", "--dry-run"]),
        ("vm-migrate", &["vm101", "--to", "pve2", "--dry-run"]),
    ];
    let all = transcript(|t, a| p.run(t, a), runs);
    let writes: Vec<String> = p
        .sim
        .requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect();
    assert!(writes.is_empty(), "a dry run sent writes: {writes:?}");
    assert_eq!(cluster(&p), before, "a dry run changed the cluster");
    snap!(p, "dry-run-vms", all.as_str());
}

#[test]
fn a_dry_run_of_a_proxmox_container_sends_no_write() {
    let p = Pve::new(Options::default());
    p.sim.add_vm(Vm::container(200, "pve1", "ct200"));
    p.sim.clear_requests();
    let mut cmd = p.cmd("ctr-start");
    let out = p
        .env
        .run_cmd(cmd.args(["-b", "proxmox", "ct200", "--dry-run"]), None);
    assert!(out.contains(r#""would":"start""#), "{out}");
    assert!(
        p.sim.requests().iter().all(|r| r.starts_with("GET ")),
        "{:?}",
        p.sim.requests()
    );
    assert!(!p.sim.vm(200).unwrap().running);
}
