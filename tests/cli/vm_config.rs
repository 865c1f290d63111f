//! vm-config against the simulator: reading a configuration in one
//! request, changing it (synchronously on a stopped VM, through a task on
//! a running one, pending until a restart), and every refusal: bad keys and
//! values before anything is sent, a digest that no longer matches, a lock.

use crate::pve::Pve;
use crate::sim::server::{Fault, Vm};
use crate::snap;

in_both_typings!(
    config_is_read_in_one_request,
    a_stopped_vm_is_changed_at_once,
    a_running_vm_takes_some_changes_at_its_next_start,
    bad_changes_are_refused_before_anything_is_sent,
    a_config_changed_meanwhile_is_not_overwritten,
    a_locked_vm_is_retried_then_a_conflict,
);

fn web() -> Pve {
    let p = Pve::with_vms(0);
    let mut vm = Vm::new(100, "pve1", "web");
    for (k, v) in [
        ("agent", "enabled=1"),
        // As qemu-server 8.0.8 and later may write it: a property string.
        ("memory", "current=2048"),
        ("boot", "order=scsi0;ide2;net0"),
        ("ide2", "local:iso/debian-12.iso,media=cdrom,size=631M"),
        ("description", "the web server"),
        ("tags", "prod"),
    ] {
        vm.config.insert(k.into(), v.into());
    }
    vm.tags = vec!["prod".into()];
    p.sim.add_vm(vm);
    p.sim.add_vm(Vm::new(101, "pve2", "db"));
    p
}

fn config_is_read_in_one_request() {
    let p = web();
    p.sim.clear_requests();
    snap!(p, "vm-config", p.run("vm-config", &["web", "db"]));
    assert_eq!(
        p.sim.requests(),
        [
            "GET /cluster/resources",
            "GET /nodes/pve1/qemu/100/pending",
            "GET /nodes/pve2/qemu/101/pending"
        ]
    );
}

fn a_stopped_vm_is_changed_at_once() {
    let p = web();
    let change = [
        "web",
        "--set",
        "memory=4G",
        "--set",
        "cores=4",
        "--set",
        "onboot=yes",
        "--delete",
        "description",
        "--tag",
        "+ci",
        "--tag",
        "-prod",
    ];
    snap!(p, "vm-config-set", p.run("vm-config", &change));
    let vm = p.sim.vm(100).unwrap();
    assert_eq!(vm.config["memory"], "4096");
    assert_eq!(vm.config["cores"], "4");
    assert_eq!(vm.config["onboot"], "1");
    assert_eq!(vm.config["tags"], "ci");
    assert!(!vm.config.contains_key("description"));
    assert_eq!(p.sim.requests_ending("PUT /nodes/pve1/qemu/100/config"), 1);
    // The same change again differs in nothing: nothing is sent.
    p.sim.clear_requests();
    snap!(p, "vm-config-unchanged", p.run("vm-config", &change));
    assert!(
        !p.sim.requests().iter().any(|r| r.ends_with("/config")),
        "{:?}",
        p.sim.requests()
    );
    // A new disk on the node's storage goes through a task (it allocates).
    snap!(
        p,
        "vm-config-add-disk",
        p.run("vm-config", &["web", "--set", "scsi1=10G"])
    );
    assert_eq!(
        p.sim.vm(100).unwrap().config["scsi1"],
        "local-lvm:vm-100-disk-1,size=10G"
    );
    assert_eq!(p.sim.requests_ending("POST /nodes/pve1/qemu/100/config"), 1);
}

fn a_running_vm_takes_some_changes_at_its_next_start() {
    let p = web();
    p.sim.with_vm(100, |v| v.running = true);
    snap!(
        p,
        "vm-config-running",
        p.run(
            "vm-config",
            &[
                "web",
                "--set",
                "memory=8G",
                "--set",
                "net1=virtio,bridge=vmbr1,tag=20",
                "--tag",
                "ci"
            ]
        )
    );
    let vm = p.sim.vm(100).unwrap();
    assert_eq!(
        vm.config["memory"], "current=2048",
        "memory waits for a restart"
    );
    assert_eq!(vm.config["net1"], "virtio,bridge=vmbr1,tag=20");
    // The read shows what waits.
    let out = p.run("vm-config", &["web", "-o", "json"]);
    assert!(out.contains(r#""pending":{"memory":"8192"}"#), "{out}");
    assert!(out.contains(r#""memory_bytes":2147483648"#), "{out}");
    // A restart applies it.
    p.run("vm-restart", &["web"]);
    let vm = p.sim.vm(100).unwrap();
    assert_eq!(vm.config["memory"], "8192");
    assert!(vm.pending.is_empty());
}

fn bad_changes_are_refused_before_anything_is_sent() {
    let p = web();
    p.sim.clear_requests();
    snap!(
        p,
        "vm-config-unknown-key",
        p.run("vm-config", &["web", "--set", "memroy=4G"])
    );
    snap!(
        p,
        "vm-config-bad-value",
        p.run(
            "vm-config",
            &["web", "--set", "net0=virtio,bridge=vmbr0,tag=5000"]
        )
    );
    snap!(
        p,
        "vm-config-bad-size",
        p.run("vm-config", &["web", "--set", "memory=lots"])
    );
    snap!(
        p,
        "vm-config-digest-without-change",
        p.run("vm-config", &["web", "--digest", "abc"])
    );
    assert!(p.sim.requests().is_empty(), "{:?}", p.sim.requests());
}

fn a_config_changed_meanwhile_is_not_overwritten() {
    let p = web();
    // A digest from an earlier read, and a change made since.
    let read = p.run("vm-config", &["web", "-o", "json"]);
    let digest = read.split(r#""digest":""#).nth(1).unwrap()[..40].to_string();
    p.sim
        .with_vm(100, |v| v.config.insert("cores".into(), "8".into()));
    snap!(
        p,
        "vm-config-stale-digest",
        p.run(
            "vm-config",
            &["web", "--digest", &digest, "--set", "cores=2"]
        )
    );
    assert_eq!(p.sim.vm(100).unwrap().config["cores"], "8");
    // A change made between vm-config's own read and its write.
    p.sim.fault("/qemu/100/config", Fault::ChangeConfig(100));
    snap!(
        p,
        "vm-config-changed-meanwhile",
        p.run("vm-config", &["web", "--set", "cores=2"])
    );
    assert_eq!(p.sim.vm(100).unwrap().config["cores"], "8");
}

fn a_locked_vm_is_retried_then_a_conflict() {
    let p = web();
    p.sim.with_vm(100, |v| v.lock = Some("backup".into()));
    snap!(
        p,
        "vm-config-locked",
        p.run("vm-config", &["web", "--set", "cores=4"])
    );
    assert_eq!(p.sim.vm(100).unwrap().config["cores"], "2");
}
