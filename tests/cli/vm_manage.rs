//! The VM management tools against the simulator: vm-resize, the snapshot
//! tools, vm-migrate, the guest agent (vm-state's addresses, vm-wait --for
//! agent|ip, vm-exec) and cloud-init (vm-create --import-from, vm-clone
//! with --sshkey and --ip), each with its failure paths.

use crate::pve::Pve;
use crate::sim::server::{Agent, Fault, Options, Vm};
use crate::snap;
use std::time::Duration;

in_both_typings!(
    disks_grow_and_never_shrink,
    snapshots_are_taken_listed_rolled_back_and_deleted,
    vms_migrate_and_keep_resolving,
    a_failed_migration_leaves_the_vm_where_it_was,
    the_guest_agent_gives_addresses_and_runs_commands,
    vms_without_a_running_agent_get_a_clear_error,
    a_cloud_image_becomes_a_reachable_machine,
    more_snapshot_and_migration_paths,
);

/// A VM whose guest runs the QEMU guest agent (enabled in its config),
/// which answers 5 s after a start and has an address 3 s after that.
fn with_agent(p: &Pve, vmid: u32, node: &str, name: &str) {
    let mut vm = Vm::new(vmid, node, name);
    vm.config.insert("agent".into(), "1".into());
    vm.agent = Some(Agent::booting(
        Duration::from_secs(5),
        Duration::from_secs(3),
    ));
    p.sim.add_vm(vm);
}

fn disks_grow_and_never_shrink() {
    let p = Pve::with_vms(1);
    snap!(
        p,
        "vm-resize",
        p.run("vm-resize", &["vm100", "scsi0", "+8G"])
    );
    assert!(p.sim.vm(100).unwrap().config["scsi0"].ends_with("size=40G"));
    snap!(
        p,
        "vm-resize-to",
        p.run("vm-resize", &["vm100", "scsi0", "40G"])
    );
    snap!(
        p,
        "vm-resize-shrink",
        p.run("vm-resize", &["vm100", "scsi0", "20G"])
    );
    snap!(
        p,
        "vm-resize-no-such-disk",
        p.run("vm-resize", &["vm100", "scsi7", "+1G"])
    );
    snap!(
        p,
        "vm-resize-no-unit",
        p.run("vm-resize", &["vm100", "scsi0", "+10"])
    );
    assert!(p.sim.vm(100).unwrap().config["scsi0"].ends_with("size=40G"));
}

fn snapshots_are_taken_listed_rolled_back_and_deleted() {
    let p = Pve::with_vms(1);
    p.sim.with_vm(100, |v| v.running = true);
    snap!(
        p,
        "vm-snapshot",
        p.run(
            "vm-snapshot",
            &[
                "vm100",
                "before",
                "--ram",
                "--description",
                "before the upgrade"
            ]
        )
    );
    p.sim.with_vm(100, |v| {
        v.config.insert("cores".into(), "8".into());
        v.running = false;
    });
    snap!(
        p,
        "vm-snapshot-stopped",
        p.run("vm-snapshot", &["vm100", "after"])
    );
    snap!(
        p,
        "vm-snapshot-ram-stopped",
        p.run("vm-snapshot", &["vm100", "hot", "--ram"])
    );
    snap!(
        p,
        "vm-snapshot-taken",
        p.run("vm-snapshot", &["vm100", "after"])
    );
    snap!(
        p,
        "vm-snapshot-bad-name",
        p.run("vm-snapshot", &["vm100", "1st try"])
    );
    let list = p.run("vm-snapshot-list", &["vm100"]);
    let list = regex::Regex::new(r#""time":"[^"]+""#)
        .unwrap()
        .replace_all(&list, r#""time":"[TIME]""#)
        .into_owned();
    snap!(p, "vm-snapshot-list", list);
    // Back to the snapshot with RAM: the VM runs again, with 2 cores.
    snap!(
        p,
        "vm-snapshot-rollback",
        p.run("vm-snapshot-rollback", &["vm100", "before"])
    );
    let vm = p.sim.vm(100).unwrap();
    assert!(vm.running);
    assert_eq!(vm.config["cores"], "2");
    snap!(
        p,
        "vm-snapshot-rollback-missing",
        p.run("vm-snapshot-rollback", &["vm100", "nope"])
    );
    snap!(
        p,
        "vm-snapshot-delete",
        p.run("vm-snapshot-delete", &["vm100", "before"])
    );
    let names: Vec<String> = p
        .sim
        .vm(100)
        .unwrap()
        .snapshots
        .iter()
        .map(|s| format!("{} on {:?}", s.name, s.parent))
        .collect();
    assert_eq!(names, ["after on None"]);
}

fn vms_migrate_and_keep_resolving() {
    let p = Pve::with_vms(2);
    p.sim.with_vm(101, |v| v.running = true);
    snap!(
        p,
        "vm-migrate",
        p.run("vm-migrate", &["vm100", "--to", "pve3"])
    );
    assert_eq!(p.sim.vm(100).unwrap().node, "pve3");
    // The name resolves on its new node.
    let out = p.run("vm-start", &["vm100"]);
    assert!(out.contains(r#""node":"pve3""#), "{out}");
    snap!(
        p,
        "vm-migrate-running",
        p.run("vm-migrate", &["vm101", "--to", "pve1"])
    );
    snap!(
        p,
        "vm-migrate-online",
        p.run(
            "vm-migrate",
            &[
                "vm101",
                "--to",
                "pve1",
                "--online",
                "--with-local-disks",
                "--target-storage",
                "local-lvm"
            ]
        )
    );
    assert_eq!(p.sim.vm(101).unwrap().node, "pve1");
    snap!(
        p,
        "vm-migrate-already-there",
        p.run("vm-migrate", &["vm101", "--to", "pve1"])
    );
    snap!(p, "vm-migrate-no-target", p.run("vm-migrate", &["vm101"]));
}

fn a_failed_migration_leaves_the_vm_where_it_was() {
    let p = Pve::with_vms(1);
    p.sim.with_vm(100, |v| {
        v.fail_migrate = Some((
            "migration aborted".into(),
            vec![
                "copying local disk images".into(),
                "ERROR: storage migration for 'local-lvm:vm-100-disk-0' to storage 'local-lvm' failed - no space left on device".into(),
            ],
        ))
    });
    snap!(
        p,
        "vm-migrate-fails",
        p.run("vm-migrate", &["vm100", "--to", "pve2"])
    );
    let vm = p.sim.vm(100).unwrap();
    assert_eq!((vm.node.as_str(), vm.lock.as_deref()), ("pve1", None));
}

fn the_guest_agent_gives_addresses_and_runs_commands() {
    let p = Pve::with_vms(0);
    with_agent(&p, 100, "pve1", "web");
    p.run("vm-start", &["web"]);
    // Just started: the agent does not answer yet.
    let state = p.run("vm-state", &["web"]);
    assert!(
        state.contains(r#""agent":"not running","ipv4":[],"ipv6":[]"#),
        "{state}"
    );
    snap!(
        p,
        "vm-wait-agent",
        p.run("vm-wait", &["web", "--for", "agent"])
    );
    snap!(p, "vm-wait-ip", p.run("vm-wait", &["web", "--for", "ip"]));
    let state = p.run("vm-state", &["web"]);
    assert!(
        state.contains(r#""agent":"running","ipv4":["10.0.0.102"],"ipv6":[]"#),
        "{state}"
    );
    snap!(
        p,
        "vm-exec",
        p.run("vm-exec", &["web", "--", "echo", "hello", "world"])
    );
    snap!(
        p,
        "vm-exec-stdin",
        p.run_stdin("vm-exec", &["web", "--", "cat"], "from stdin\n")
    );
    snap!(
        p,
        "vm-exec-fails",
        p.run("vm-exec", &["web", "--", "ls", "/nope"])
    );
    snap!(
        p,
        "vm-exec-exit-code",
        p.run("vm-exec", &["web", "--", "sh", "-c", "exit 3"])
    );
    snap!(
        p,
        "vm-exec-signal",
        p.run("vm-exec", &["web", "--", "kill-self"])
    );
    snap!(
        p,
        "vm-exec-slow",
        p.run("vm-exec", &["web", "--", "sleep", "30"])
    );
    snap!(
        p,
        "vm-exec-not-found",
        p.run("vm-exec", &["web", "--", "no-such-program"])
    );
    snap!(
        p,
        "vm-exec-not-executable",
        p.run("vm-exec", &["web", "--", "/etc/hostname"])
    );
    snap!(p, "vm-exec-no-command", p.run("vm-exec", &["web"]));
}

fn vms_without_a_running_agent_get_a_clear_error() {
    let p = Pve::with_vms(1);
    p.sim.with_vm(100, |v| v.running = true);
    snap!(
        p,
        "vm-exec-no-agent-configured",
        p.run("vm-exec", &["vm100", "--", "true"])
    );
    snap!(
        p,
        "vm-wait-agent-not-configured",
        p.run("vm-wait", &["vm100", "--for", "agent"])
    );
    // Enabled, but the guest has none.
    p.sim
        .with_vm(100, |v| v.config.insert("agent".into(), "1".into()));
    snap!(
        p,
        "vm-exec-agent-not-running",
        p.run("vm-exec", &["vm100", "--", "true"])
    );
    snap!(
        p,
        "vm-wait-agent-timeout",
        p.run("vm-wait", &["vm100", "--for", "agent", "--timeout", "0"])
    );
    // A hung agent: its commands time out.
    p.sim.with_vm(100, |v| v.agent = Some(Agent::hung()));
    snap!(
        p,
        "vm-exec-agent-hangs",
        p.run("vm-exec", &["vm100", "--", "true"])
    );
    let state = p.run("vm-state", &["vm100"]);
    assert!(state.contains(r#""agent":"not running""#), "{state}");
    assert!(state.contains("did not answer"), "{state}");
    // A stopped VM.
    p.sim.with_vm(100, |v| v.running = false);
    snap!(
        p,
        "vm-exec-stopped",
        p.run("vm-exec", &["vm100", "--", "true"])
    );
}

fn a_cloud_image_becomes_a_reachable_machine() {
    let p = Pve::new(Options::default());
    let key = p.env.path().join("id_ed25519.pub");
    std::fs::write(&key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk me@laptop\n").unwrap();
    let key = key.to_str().unwrap();
    // A template from a cloud image, with the agent enabled.
    snap!(
        p,
        "vm-create-import",
        p.run(
            "vm-create",
            &[
                "debian-12-cloud",
                "--node",
                "pve1",
                "--import-from",
                "local:import/debian-12-genericcloud-amd64.qcow2",
                "--set",
                "agent=1",
                "--ciuser",
                "debian"
            ]
        )
    );
    let t = p.sim.vm(100).unwrap();
    assert_eq!(t.config["scsi0"], "local-lvm:vm-100-disk-0,size=2G");
    assert_eq!(t.config["ide0"], "local-lvm:vm-100-cloudinit,media=cdrom");
    assert_eq!(t.config["ciuser"], "debian");
    p.sim.with_vm(100, |v| {
        v.template = true;
        v.agent = Some(Agent::booting(
            Duration::from_secs(20),
            Duration::from_secs(4),
        ));
    });
    snap!(
        p,
        "vm-clone-cloud-init",
        p.run(
            "vm-clone",
            &[
                "debian-12-cloud",
                "web",
                "--sshkey",
                key,
                "--ip",
                "192.0.2.10/24,gw=192.0.2.1",
                "--nameserver",
                "192.0.2.53",
                "--start"
            ]
        )
    );
    let web = p.sim.vm(101).unwrap();
    assert_eq!(
        web.config["sshkeys"],
        "ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIGk%20me%40laptop"
    );
    assert_eq!(web.config["ipconfig0"], "ip=192.0.2.10/24,gw=192.0.2.1");
    assert_eq!(web.config["nameserver"], "192.0.2.53");
    snap!(
        p,
        "vm-wait-ip-clone",
        p.run("vm-wait", &["web", "--for", "ip"])
    );
    let state = p.run("vm-state", &["web"]);
    assert!(state.contains(r#""ipv4":["192.0.2.10"]"#), "{state}");
    // Bad cloud-init input is refused before anything is sent.
    std::fs::write(
        p.env.path().join("id"),
        "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    let private = p.env.path().join("id");
    snap!(
        p,
        "vm-clone-private-key",
        p.run(
            "vm-clone",
            &[
                "debian-12-cloud",
                "web2",
                "--sshkey",
                private.to_str().unwrap()
            ]
        )
    );
    snap!(
        p,
        "vm-clone-bad-ip",
        p.run(
            "vm-clone",
            &["debian-12-cloud", "web2", "--ip", "192.0.2.10"]
        )
    );
    snap!(
        p,
        "vm-create-import-missing",
        p.run(
            "vm-create",
            &[
                "x",
                "--node",
                "pve1",
                "--import-from",
                "local:import/nope.qcow2"
            ]
        )
    );
    assert_eq!(p.sim.vmids(), [100, 101]);
}

fn more_snapshot_and_migration_paths() {
    let p = Pve::with_vms(2);
    snap!(
        p,
        "vm-snapshot-delete-missing",
        p.run("vm-snapshot-delete", &["vm100", "nope"])
    );
    snap!(
        p,
        "vm-snapshot-list-unknown",
        p.run("vm-snapshot-list", &["vm100", "nosuch"])
    );
    // The answer to the migrate request is lost: the task found running
    // on the node is followed, and nothing is sent twice.
    p.sim.set_task_duration(Duration::from_millis(1500));
    p.sim.fault("/migrate", Fault::DropAfter);
    snap!(
        p,
        "vm-migrate-answer-lost",
        p.run("vm-migrate", &["vm100", "--to", "pve2"])
    );
    assert_eq!(p.sim.vm(100).unwrap().node, "pve2");
    assert_eq!(
        p.sim.requests_ending("POST /nodes/pve1/qemu/100/migrate"),
        1
    );
    // An HA-managed VM: its hamigrate task ends before it moves.
    p.sim.with_vm(101, |v| v.ha_managed = true);
    snap!(
        p,
        "vm-migrate-ha",
        p.run("vm-migrate", &["vm101", "--to", "pve3"])
    );
    assert_eq!(p.sim.vm(101).unwrap().node, "pve3");
}
