//! The vm-* tools against the Proxmox VE simulator (sim/): every lifecycle
//! step, pipes, bulk actions, and each failure path, snapshotted whole.

use crate::common::DEADLINE;
use crate::pve::Pve;
use crate::sim::server::{Fault, Options, PASSWORD, Storage, TOKEN, USER, Vm};
use crate::snap;
use serde_json::json;

/// The tool asked the node for its active tasks after a lost answer, then
/// followed one of them (its status was polled).
fn followed_a_found_task(p: &Pve, node: &str) {
    let r = p.sim.requests();
    let i = r
        .iter()
        .position(|x| *x == format!("GET /nodes/{node}/tasks"))
        .unwrap_or_else(|| panic!("no task lookup in {r:?}"));
    assert!(
        r[i..]
            .iter()
            .any(|x| x.contains("/tasks/UPID:") && x.ends_with("/status")),
        "the found task was not followed: {r:?}"
    );
}

in_both_typings!(
    malformed_entries_are_skipped_not_fatal,
    new_disks_go_to_the_nodes_storage,
    a_secret_with_a_line_break_is_invalid_input,
    task_lookups_are_best_effort,
    list_is_one_request_for_the_whole_cluster,
    lifecycle,
    no_wait_returns_the_task_and_wait_follows,
    list_piped_into_stop,
    bulk_start_with_jobs,
    missing_and_ambiguous_vms,
    bad_stdin_lines_refuse_everything,
    locked_vm_is_a_conflict,
    concurrent_operations_meet_the_lock_and_retry,
    task_errors_carry_their_log,
    shutdown_timeout_and_force,
    nextid_race_takes_the_next_id,
    bad_token_is_denied,
    wrong_fingerprint_is_refused_before_any_secret_is_sent,
    ca_file_and_insecure_opt_out,
    node_down_fails_over_to_the_next_url,
    unreachable_cluster,
    tickets_with_csrf_and_renewal_after_expiry,
    lost_answers_are_read_back_not_resent,
    old_servers_errors_come_from_the_reason_phrase,
    usage_errors,
    vm_names_complete_in_fish_and_nushell,
    tasks_show_progress_on_a_terminal,
    unnamed_paused_ha_and_warnings,
    a_596_on_a_write_that_went_through_follows_its_task,
    a_create_whose_answer_is_lost_is_found_not_repeated,
    a_slow_server_times_out,
    secrets_from_a_command_or_a_file,
    stopping_ha_and_paused_vms,
    a_given_vmid_that_is_taken_is_refused_first,
    a_long_task_log_is_read_from_its_end,
);

fn list_is_one_request_for_the_whole_cluster() {
    let p = Pve::with_vms(4);
    p.sim.with_vm(101, |v| {
        v.running = true;
        v.tags = vec!["ci".into(), "web".into()];
    });
    p.sim.with_vm(103, |v| {
        v.template = true;
        v.name = Some("debian-12-template".into());
    });
    p.sim.clear_requests();
    snap!(p, "vm-list", p.run("vm-list", &[]));
    assert_eq!(p.sim.requests(), ["GET /cluster/resources"]);
    snap!(
        p,
        "vm-list-filters",
        p.run("vm-list", &["--tag", "ci", "--status", "running"])
    );
    snap!(
        p,
        "vm-list-templates",
        p.run("vm-list", &["--templates", "-o", "name"])
    );
    snap!(
        p,
        "vm-list-node-glob",
        p.run(
            "vm-list",
            &[
                "--node",
                "pve1",
                "--name",
                "vm1*",
                "--no-templates",
                "-o",
                "table"
            ]
        )
    );
}

fn lifecycle() {
    let p = Pve::with_vms(0);
    snap!(
        p,
        "vm-create",
        p.run(
            "vm-create",
            &[
                "web",
                "--node",
                "pve2",
                "--memory",
                "1G",
                "--cores",
                "2",
                "--disk",
                "8G",
                "--tags",
                "ci,linux",
                "--net",
                "bridge=vmbr0,tag=20",
                "--set",
                "agent=1"
            ]
        )
    );
    let vm = p.sim.vm(100).expect("VM 100 was created");
    assert_eq!(
        vm.config.get("net0").map(String::as_str),
        Some("virtio,bridge=vmbr0,tag=20")
    );
    assert_eq!(vm.config.get("memory").map(String::as_str), Some("1024"));
    assert_eq!(vm.tags, ["ci", "linux"]);
    snap!(p, "vm-start", p.run("vm-start", &["web"]));
    assert!(p.sim.vm(100).unwrap().running);
    snap!(p, "vm-start-again", p.run("vm-start", &["100"]));
    snap!(p, "vm-state", p.run("vm-state", &["web"]));
    snap!(p, "vm-restart", p.run("vm-restart", &["web"]));
    snap!(p, "vm-stop", p.run("vm-stop", &["web", "--timeout", "5"]));
    snap!(
        p,
        "vm-wait-stopped",
        p.run("vm-wait", &["web", "--for", "stopped"])
    );
    p.sim.with_vm(100, |v| v.template = true);
    snap!(
        p,
        "vm-clone",
        p.run("vm-clone", &["web", "web2", "--target", "pve3", "--start"])
    );
    assert_eq!(p.sim.vm(101).unwrap().node, "pve3");
    snap!(p, "vm-delete-running", p.run("vm-delete", &["web2"]));
    snap!(
        p,
        "vm-delete-force",
        p.run("vm-delete", &["web2", "--force", "--purge"])
    );
    assert!(p.sim.vm(101).is_none());
}

fn no_wait_returns_the_task_and_wait_follows() {
    let p = Pve::with_vms(1);
    snap!(
        p,
        "vm-start-no-wait",
        p.run("vm-start", &["vm100", "--no-wait"])
    );
    snap!(
        p,
        "vm-wait-running",
        p.run("vm-wait", &["vm100", "--for", "running", "--timeout", "10"])
    );
}

fn list_piped_into_stop() {
    let p = Pve::with_vms(6);
    for id in [100, 101, 102] {
        p.sim.with_vm(id, |v| {
            v.running = true;
            v.tags = vec!["ci".into()];
        });
    }
    let list =
        String::from_utf8(crate::common::output(p.cmd("vm-list").args(["--tag", "ci"])).stdout)
            .unwrap();
    snap!(
        p,
        "vm-list-into-stop",
        p.run_stdin("vm-stop", &["--jobs", "3"], &list)
    );
    assert!((100..103).all(|id| !p.sim.vm(id).unwrap().running));
}

fn bulk_start_with_jobs() {
    let p = Pve::with_vms(20);
    let names: String = (100..120).map(|i| format!("vm{i}\n")).collect();
    let out = p.run_stdin("vm-start", &["--jobs", "10"], &names);
    snap!(p, "vm-start-bulk", out);
    assert!((100..120).all(|id| p.sim.vm(id).unwrap().running));
    // One agent per process: connections are reused between requests.
    let (requests, connections) = (p.sim.requests().len(), p.sim.connections());
    assert!(
        connections * 3 < requests,
        "{connections} connections for {requests} requests"
    );
}

fn missing_and_ambiguous_vms() {
    let p = Pve::with_vms(2);
    p.sim.add_vm(Vm::new(300, "pve3", "vm100"));
    p.sim.add_vm(Vm::new(301, "pve3", "web"));
    snap!(p, "vm-start-missing", p.run("vm-start", &["wbe", "999"]));
    snap!(
        p,
        "vm-start-ambiguous",
        p.run("vm-start", &["vm100", "101"])
    );
}

fn bad_stdin_lines_refuse_everything() {
    let p = Pve::with_vms(2);
    snap!(
        p,
        "vm-start-bad-stdin",
        p.run_stdin(
            "vm-start",
            &[],
            "vm100\n{\"name\":\"web\",\"backend\":\"lxc\"}\n42\nbad_name\n"
        )
    );
    assert!(!p.sim.vm(100).unwrap().running);
}

fn locked_vm_is_a_conflict() {
    let p = Pve::with_vms(1);
    p.sim.with_vm(100, |v| v.lock = Some("backup".into()));
    snap!(p, "vm-start-locked", p.run("vm-start", &["vm100"]));
}

fn concurrent_operations_meet_the_lock_and_retry() {
    let p = Pve::with_vms(2);
    p.env.write_config("[proxmox]\nlock_wait = 30\n");
    // Tasks long enough that the next tool run surely meets them, even on a
    // busy machine.
    p.sim.set_task_duration(std::time::Duration::from_secs(2));
    // A start task holds the VM's file lock: a second start waits for it,
    // then finds the VM started.
    snap!(
        p,
        "vm-start-busy-no-wait",
        p.run("vm-start", &["vm100", "--no-wait"])
    );
    let out = p.run("vm-start", &["vm100", "-v"]);
    assert!(out.contains("can't lock file"), "{out}");
    assert!(out.contains("\"ok\":true,\"changed\":false"), "{out}");
    // A template being cloned is locked (clone): a second clone waits its turn.
    p.sim.with_vm(101, |v| v.template = true);
    let out = p.run("vm-clone", &["vm101", "a", "--no-wait"]);
    assert!(out.contains("\"ok\":true"), "{out}");
    let out = p.run("vm-clone", &["vm101", "b", "-v"]);
    assert!(out.contains("VM is locked (clone)"), "{out}");
    assert!(out.contains("\"ok\":true"), "{out}");
    // A hard stop ends a shutdown still waiting for its guest, rather than
    // waiting for its lock.
    p.sim.with_vm(100, |v| v.ignores_shutdown = true);
    let out = p.run("vm-stop", &["vm100", "--no-wait", "--timeout", "60"]);
    assert!(out.contains("\"ok\":true"), "{out}");
    let out = p.run("vm-stop", &["vm100", "--hard", "-v"]);
    assert!(!out.contains("can't lock file"), "{out}");
    assert!(out.contains("\"status\":\"stopped\""), "{out}");
}

fn task_errors_carry_their_log() {
    let p = Pve::with_vms(1);
    p.sim.with_vm(100, |v| {
        v.fail_start = Some((
            "start failed: QEMU exited with code 1".into(),
            vec![
                "generating cloud-init ISO".into(),
                "kvm: -drive file=/dev/pve/vm-100-disk-0: Could not open '/dev/pve/vm-100-disk-0': No such file or directory".into(),
            ],
        ))
    });
    snap!(p, "vm-start-task-error", p.run("vm-start", &["vm100"]));
}

fn shutdown_timeout_and_force() {
    let p = Pve::with_vms(1);
    p.sim.with_vm(100, |v| {
        v.running = true;
        v.ignores_shutdown = true;
    });
    snap!(
        p,
        "vm-stop-timeout",
        p.run("vm-stop", &["vm100", "--timeout", "1"])
    );
    assert!(p.sim.vm(100).unwrap().running);
    snap!(
        p,
        "vm-stop-force",
        p.run("vm-stop", &["vm100", "--timeout", "1", "--force"])
    );
    assert!(!p.sim.vm(100).unwrap().running);
}

fn nextid_race_takes_the_next_id() {
    let p = Pve::with_vms(0);
    p.sim.lose_nextid_races(1);
    snap!(
        p,
        "vm-create-race",
        p.run("vm-create", &["web", "--node", "pve1"])
    );
    assert_eq!(p.sim.vm(100).unwrap().tags, ["other-creator"]);
    assert_eq!(p.sim.vm(101).unwrap().name.as_deref(), Some("web"));
}

fn bad_token_is_denied() {
    let mut p = Pve::with_vms(1);
    p.set("GUESTKIT_PVE_TOKEN", "ops@pve!ci=wrong-secret");
    let out = p.run("vm-list", &[]);
    assert!(!out.contains("wrong-secret"), "{out}");
    snap!(p, "vm-list-bad-token", out);
    p.set("GUESTKIT_PVE_TOKEN", "just-a-secret");
    let out = p.run("vm-list", &[]);
    assert!(!out.contains("just-a-secret"), "{out}");
    snap!(p, "vm-list-malformed-token", out);
    p.unset("GUESTKIT_PVE_TOKEN");
    snap!(p, "vm-list-no-credentials", p.run("vm-list", &[]));
}

fn wrong_fingerprint_is_refused_before_any_secret_is_sent() {
    let mut p = Pve::with_vms(1);
    p.set("GUESTKIT_PVE_URL", &p.sim.urls[0].clone());
    p.set("GUESTKIT_PVE_FINGERPRINT", &p.sim.fingerprints[1].clone());
    p.sim.clear_requests();
    snap!(p, "vm-list-wrong-fingerprint", p.run("vm-list", &[]));
    assert!(p.sim.requests().is_empty());
    p.unset("GUESTKIT_PVE_FINGERPRINT");
    snap!(p, "vm-list-untrusted-certificate", p.run("vm-list", &[]));
}

fn ca_file_and_insecure_opt_out() {
    let mut p = Pve::with_vms(1);
    let ca = p.env.path().join("pve-root-ca.pem");
    std::fs::write(&ca, &p.sim.ca_pem).unwrap();
    p.unset("GUESTKIT_PVE_FINGERPRINT");
    p.set(
        "GUESTKIT_PVE_URL",
        &p.sim.urls[0].replace("127.0.0.1", "localhost"),
    );
    p.set("GUESTKIT_PVE_CA", ca.to_str().unwrap());
    snap!(p, "vm-list-ca-file", p.run("vm-list", &["-o", "name"]));
    p.unset("GUESTKIT_PVE_CA");
    p.set("GUESTKIT_PVE_INSECURE", "1");
    snap!(p, "vm-list-insecure", p.run("vm-list", &["-o", "name"]));
}

fn node_down_fails_over_to_the_next_url() {
    let p = Pve::new(Options {
        down: vec!["pve1"],
        ..Options::default()
    });
    p.sim.add_vm(Vm::new(100, "pve2", "web"));
    p.sim.add_vm(Vm::new(101, "pve1", "stuck"));
    // The guests of a node that is down are listed with their VMID and
    // node, and nothing else: no name. So a name may be theirs: a name
    // found nowhere else cannot be said to be missing (exit 5), and one
    // found elsewhere may be ambiguous (exit 4). By VMID, both are found.
    snap!(p, "vm-list-node-down", p.run("vm-list", &["-v"]));
    snap!(
        p,
        "vm-start-on-down-node",
        p.run("vm-start", &["web", "stuck", "100", "101"])
    );
}

fn unreachable_cluster() {
    let p = Pve::new(Options {
        nodes: vec!["pve1", "pve2"],
        down: vec!["pve1", "pve2"],
        ..Options::default()
    });
    snap!(p, "vm-list-unreachable", p.run("vm-list", &[]));
}

fn tickets_with_csrf_and_renewal_after_expiry() {
    let mut p = Pve::with_vms(2);
    p.unset("GUESTKIT_PVE_TOKEN");
    p.set("GUESTKIT_PVE_USER", USER);
    p.set("GUESTKIT_PVE_PASSWORD", PASSWORD);
    snap!(p, "vm-start-ticket", p.run("vm-start", &["vm100"]));
    // The ticket expires in the middle of a run, just before the start
    // request: it is refused, the tool logs in again and goes on.
    p.sim.fault("/status/start", Fault::ExpireTickets);
    p.sim.clear_requests();
    let out = p.run("vm-start", &["vm101", "-v"]);
    assert!(out.contains("\"ok\":true"), "{out}");
    assert!(out.contains("logging in again"), "{out}");
    let logins = p.sim.requests_ending("/access/ticket");
    assert_eq!(logins, 2, "{:?}", p.sim.requests());
    // Neither the password nor a ticket reaches a trace.
    assert!(
        !out.contains(PASSWORD) && !out.contains("PVE:root@pam"),
        "{out}"
    );
    p.set("GUESTKIT_PVE_PASSWORD", "wrong");
    snap!(p, "vm-list-bad-password", p.run("vm-list", &[]));
}

fn lost_answers_are_read_back_not_resent() {
    let p = Pve::with_vms(2);
    // The start is carried out but its answer is lost: vm-start finds the
    // start task on the node and follows it, instead of starting again.
    p.sim
        .set_task_duration(std::time::Duration::from_millis(1500));
    p.sim.fault("/status/start", Fault::DropAfter);
    snap!(p, "vm-start-answer-lost", p.run("vm-start", &["vm100"]));
    followed_a_found_task(&p, "pve1");
    assert_eq!(p.sim.requests_ending("/status/start"), 1);
    assert!(p.sim.vm(100).unwrap().running);
    // A 596 on a GET is retried.
    p.sim.fault(
        "/cluster/resources",
        Fault::Status(596, "Connection timed out"),
    );
    snap!(p, "vm-list-596-retried", p.run("vm-list", &["-o", "name"]));
    // A 596 on a write, where the start did not happen: reported, not resent.
    p.sim
        .fault("/status/start", Fault::Status(596, "Connection timed out"));
    snap!(p, "vm-start-596", p.run("vm-start", &["vm101"]));
}

fn old_servers_errors_come_from_the_reason_phrase() {
    let p = Pve::new(Options {
        old_errors: true,
        ..Options::default()
    });
    p.sim.add_vm(Vm::new(100, "pve1", "web"));
    p.sim.with_vm(100, |v| v.lock = Some("backup".into()));
    snap!(p, "vm-start-locked-old-server", p.run("vm-start", &["web"]));
}

fn usage_errors() {
    let p = Pve::with_vms(1);
    snap!(
        p,
        "vm-stop-hard-force",
        p.run("vm-stop", &["--hard", "--force", "vm100"])
    );
    snap!(p, "vm-create-bad-name", p.run("vm-create", &["bad_name"]));
    snap!(
        p,
        "vm-create-bad-net",
        p.run("vm-create", &["web", "--net", "vmbr0"])
    );
    snap!(p, "vm-start-vmid-range", p.run("vm-start", &["42"]));
    snap!(p, "vm-list-backend", p.run("vm-list", &["-b", "lxc"]));
    snap!(p, "vm-clone-no-name", p.run("vm-clone", &["vm100"]));
    p.sim.allow_refusals();
    snap!(
        p,
        "vm-create-bad-set",
        p.run(
            "vm-create",
            &["web", "--node", "pve1", "--set", "cores=lots"]
        )
    );
}

fn vm_names_complete_in_fish_and_nushell() {
    let p = Pve::with_vms(3);
    p.sim.with_vm(101, |v| v.running = true);
    let shell = |program: &str, args: &[&str]| {
        let mut c = p.env.shell(program);
        for (k, v) in &p.vars {
            c.env(k, v);
        }
        let o = crate::common::output(c.args(args));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let root = env!("CARGO_MANIFEST_DIR");
    if crate::common::which("fish").is_some() || std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some()
    {
        let script = format!(
            "set fish_complete_path {root}/completions/fish $fish_complete_path; complete -C 'vm-stop '; complete -C 'vm-start v'"
        );
        let got = shell("fish", &["--no-config", "-c", &script]);
        let firsts: Vec<&str> = got.lines().map(|l| l.split('\t').next().unwrap()).collect();
        assert_eq!(firsts, ["vm101", "vm100", "vm102"], "{got}");
    }
    if crate::common::which("nu").is_some() || std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
        let script = format!(
            "source {root}/completions/nushell/guestkit.nu
             print (nu-complete guestkit vms running | to json -r)
             print (nu-complete guestkit vms stopped | get value | to json -r)"
        );
        let got = shell("nu", &["--no-config-file", "-c", &script]);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(
            lines,
            [
                r#"[{"value":"vm101","description":"VM 101, pve2, running"}]"#,
                r#"["vm100","vm102"]"#
            ],
            "{got}"
        );
    }
}

fn tasks_show_progress_on_a_terminal() {
    let p = Pve::with_vms(1);
    // The start task runs until the tool has polled it a few times.
    p.sim.hold_tasks();
    // script(1) gives the tool a terminal for stderr; stdout goes to a file.
    let json = p.env.path().join("out.json");
    let mut c = p.env.shell("script");
    for (k, v) in &p.vars {
        c.env(k, v);
    }
    let cmd = format!("vm-start vm100 > {}", json.display());
    let child = c
        .args(["-qec", &cmd, "/dev/null"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    p.sim.wait_for_requests("/status", 3, DEADLINE);
    p.sim.release_tasks();
    let o = crate::common::wait_output(child, DEADLINE, "vm-start under script");
    let tty = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{tty}");
    assert!(tty.contains("vm-start: vm100: qmstart "), "{tty:?}");
    // The progress line is cleared when the task ends, and stdout stays data.
    assert!(tty.ends_with("\r\x1b[2K"), "{tty:?}");
    let out = std::fs::read_to_string(json).unwrap();
    assert!(
        out.starts_with("{\"name\":\"vm100\"") && out.contains("\"ok\":true"),
        "{out}"
    );
}

fn unnamed_paused_ha_and_warnings() {
    let p = Pve::with_vms(0);
    let mut unnamed = Vm::new(100, "pve1", "x");
    unnamed.name = None;
    p.sim.add_vm(unnamed);
    let mut paused = Vm::new(101, "pve2", "paused");
    (paused.running, paused.paused) = (true, true);
    p.sim.add_vm(paused);
    let mut ha = Vm::new(102, "pve3", "ha");
    ha.ha_managed = true;
    p.sim.add_vm(ha);
    let mut warn = Vm::new(103, "pve1", "warn");
    warn.start_warnings = 2;
    p.sim.add_vm(warn);
    // Proxmox shows a VM without a name as "VM 100": vm-list prints a null
    // name, and its lines pipe back in. A paused VM is resumed; an HA start
    // is followed until the guest runs (its hastart task ends before);
    // WARNINGS are success.
    let list = String::from_utf8(crate::common::output(&mut p.cmd("vm-list")).stdout).unwrap();
    assert!(list.starts_with(r#"{"vmid":100,"name":null,"#), "{list}");
    snap!(
        p,
        "vm-start-unnamed-paused-ha-warnings",
        p.run_stdin("vm-start", &[], &list)
    );
    assert!(p.sim.requests_ending("/101/status/resume") > 0);
    for id in 100..104 {
        let vm = p.sim.vm(id).unwrap();
        assert!(vm.running && !vm.paused, "VM {id}: {vm:?}");
    }
}

fn a_596_on_a_write_that_went_through_follows_its_task() {
    let p = Pve::with_vms(1);
    p.sim
        .set_task_duration(std::time::Duration::from_millis(1500));
    p.sim.fault(
        "/status/start",
        Fault::StatusAfter(596, "Connection timed out"),
    );
    snap!(p, "vm-start-596-after", p.run("vm-start", &["vm100"]));
    followed_a_found_task(&p, "pve1");
    assert!(p.sim.vm(100).unwrap().running);
}

fn a_create_whose_answer_is_lost_is_found_not_repeated() {
    let p = Pve::with_vms(0);
    p.sim
        .set_task_duration(std::time::Duration::from_millis(1500));
    p.sim.fault("/nodes/pve1/qemu", Fault::DropAfter);
    snap!(
        p,
        "vm-create-answer-lost",
        p.run("vm-create", &["web", "--node", "pve1"])
    );
    assert_eq!(p.sim.vmids(), [100]);
    followed_a_found_task(&p, "pve1");
    let creates = p.sim.requests_ending("POST /nodes/pve1/qemu");
    assert_eq!(creates, 1);
}

fn a_slow_server_times_out() {
    let p = Pve::with_vms(1);
    p.env.write_config("[proxmox]\ntimeout = 0.3\n");
    p.sim.set_latency(std::time::Duration::from_millis(1500));
    snap!(p, "vm-list-slow-server", p.run("vm-list", &[]));
}

fn secrets_from_a_command_or_a_file() {
    let mut p = Pve::with_vms(1);
    p.unset("GUESTKIT_PVE_TOKEN");
    let token_file = p.env.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    p.env.write_config(&format!(
        "[proxmox]\ntoken_file = \"{}\"\n",
        token_file.display()
    ));
    snap!(p, "vm-list-token-file", p.run("vm-list", &["-o", "name"]));
    p.env.write_config(&format!(
        "[proxmox]\nuser = \"{USER}\"\npassword_command = \"echo {PASSWORD}\"\n"
    ));
    let out = p.run("vm-start", &["vm100", "-v"]);
    assert!(out.contains("\"ok\":true"), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");
    p.env
        .write_config("[proxmox]\ntoken_command = \"echo oops >&2; exit 3\"\n");
    snap!(p, "vm-list-token-command-fails", p.run("vm-list", &[]));
    p.env.write_config("[proxmox]\ntokn = \"x\"\n");
    snap!(p, "vm-list-unknown-key", p.run("vm-list", &[]));
}

fn stopping_ha_and_paused_vms() {
    let p = Pve::with_vms(0);
    let mut ha = Vm::new(100, "pve1", "ha");
    (ha.running, ha.ha_managed) = (true, true);
    p.sim.add_vm(ha);
    let mut paused = Vm::new(101, "pve2", "paused");
    (paused.running, paused.paused) = (true, true);
    p.sim.add_vm(paused);
    // The hastop task ends before the guest stops: vm-stop waits for it.
    snap!(p, "vm-stop-ha", p.run("vm-stop", &["ha"]));
    assert!(!p.sim.vm(100).unwrap().running);
    // A hard stop of an HA guest goes through HA as well (hastop).
    p.sim.with_vm(100, |v| v.running = true);
    snap!(p, "vm-stop-ha-hard", p.run("vm-stop", &["ha", "--hard"]));
    // A paused guest cannot shut down: said clearly; --hard works.
    snap!(p, "vm-stop-paused", p.run("vm-stop", &["paused"]));
    snap!(
        p,
        "vm-stop-paused-hard",
        p.run("vm-stop", &["paused", "--hard"])
    );
    assert!(!p.sim.vm(101).unwrap().running);
}

fn a_given_vmid_that_is_taken_is_refused_first() {
    let p = Pve::with_vms(1);
    snap!(
        p,
        "vm-create-vmid-taken",
        p.run("vm-create", &["web", "--vmid", "100", "--node", "pve2"])
    );
    assert_eq!(p.sim.requests_ending("POST /nodes/pve2/qemu"), 0);
}

fn a_long_task_log_is_read_from_its_end() {
    let p = Pve::with_vms(1);
    let log: Vec<String> = (1..=1800)
        .map(|i| format!("drive-scsi0: transferred {i} MiB"))
        .collect();
    p.sim.with_vm(100, |v| {
        v.fail_start = Some(("start failed: disk lost".into(), log))
    });
    let out = p.run("vm-start", &["vm100"]);
    assert!(
        out.contains("the task log ends: drive-scsi0: transferred 1798 MiB / drive-scsi0: transferred 1799 MiB / drive-scsi0: transferred 1800 MiB;"),
        "{out}"
    );
    let reads = p.sim.requests_ending("/log");
    assert!(reads <= 2, "{reads} log reads");
}

fn malformed_entries_are_skipped_not_fatal() {
    let p = Pve::with_vms(3);
    p.sim.with_vm(101, |v| {
        v.garbled.insert("maxmem", json!("lots"));
    });
    p.sim.add_raw_resource(json!("oops"));
    // A container is not a VM: left out, without a warning.
    p.sim.add_raw_resource(
        json!({"id": "lxc/200", "type": "lxc", "vmid": 200, "node": "pve1",
        "status": "running", "name": "ct1", "uptime": 60, "template": 0, "maxcpu": 1,
        "maxmem": 536870912, "maxdisk": 8589934592u64, "disk": 1048576, "cpu": 0.01}),
    );
    p.sim
        .add_raw_resource(json!({"type": "qemu", "id": "qemu/x", "vmid": "x", "node": "pve9"}));
    // One warning per entry that cannot be read; every other VM is listed,
    snap!(
        p,
        "vm-list-malformed-entries",
        p.run("vm-list", &["-o", "name"])
    );
    // and usable; the skipped one is not found.
    snap!(
        p,
        "vm-start-beside-malformed",
        p.run("vm-start", &["vm100", "vm102", "vm101"])
    );
    // A field of status/current that cannot be read is left out, and said.
    p.sim.with_vm(100, |v| {
        v.garbled.insert("pid", json!({"x": 1}));
    });
    let out = p.run("vm-state", &["vm100"]);
    assert!(out.contains(r#""pid":null"#), "{out}");
    assert!(
        out.contains("vm-state: warning: vm100: ignoring a field of its status/current: its pid is an object, not a whole number"),
        "{out}"
    );
}

fn new_disks_go_to_the_nodes_storage() {
    let p = Pve::new(Options {
        storages: vec![
            Storage::new("local", "dir", "iso,vztmpl,backup", 90),
            Storage::new("small", "zfspool", "images", 40),
            Storage::new("local-zfs", "zfspool", "images,rootdir", 400),
        ],
        ..Options::default()
    });
    // A ZFS install has no local-lvm: the disk goes to the storage for
    // images with the most room.
    snap!(
        p,
        "vm-create-default-storage",
        p.run("vm-create", &["web", "--node", "pve1", "--disk", "10G"])
    );
    assert_eq!(
        p.sim.vm(100).unwrap().config["scsi0"],
        "local-zfs:vm-100-disk-0,size=10G"
    );
    // Without --node, the online node with the most free memory: pve1 has
    // the most, but is down (the cluster says offline), so pve2.
    let p2 = Pve::new(Options {
        down: vec!["pve1"],
        ..Options::default()
    });
    let out = p2.run("vm-create", &["auto", "--disk", "1G"]);
    assert!(out.contains(r#""node":"pve2""#), "{out}");
    p2.sim.with_vm(100, |v| assert_eq!(v.node, "pve2"));
    let p = Pve::new(Options {
        storages: vec![Storage::new("local", "dir", "iso,vztmpl,backup", 90)],
        ..Options::default()
    });
    snap!(
        p,
        "vm-create-no-disk-storage",
        p.run("vm-create", &["web", "--node", "pve1", "--disk", "10G"])
    );
    assert!(p.sim.vmids().is_empty());
}

fn a_secret_with_a_line_break_is_invalid_input() {
    let mut p = Pve::with_vms(1);
    p.set("GUESTKIT_PVE_TOKEN", &format!("{TOKEN}\nX-Injected: 1"));
    snap!(p, "vm-list-token-line-break", p.run("vm-list", &[]));
    p.unset("GUESTKIT_PVE_TOKEN");
    p.env.write_config(&format!(
        "[proxmox]\nuser = \"{USER}\"\npassword_command = \"printf 'pa55\\\\nword'\"\n"
    ));
    snap!(p, "vm-list-password-line-break", p.run("vm-list", &[]));
    assert!(p.sim.requests().is_empty(), "{:?}", p.sim.requests());
}

fn task_lookups_are_best_effort() {
    let p = Pve::with_vms(1);
    p.sim.with_vm(100, |v| v.running = true);
    // A token without Sys.Audit on the node cannot list its tasks: a hard
    // stop, which looks for a shutdown to overrule, goes on without.
    p.sim.fault(
        "/nodes/pve1/tasks",
        Fault::Status(403, "Permission check failed (/nodes/pve1, Sys.Audit)"),
    );
    snap!(
        p,
        "vm-stop-hard-without-task-list",
        p.run("vm-stop", &["vm100", "--hard", "-v"])
    );
    assert!(!p.sim.vm(100).unwrap().running);
}
