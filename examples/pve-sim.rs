//! Runs the Proxmox VE simulator (sim/) on its own, for the benchmark and
//! for trying the vm-* tools by hand. Prints the environment the tools need
//! as shell `export` lines, then serves until stdin closes.
//!
//!   pve-sim [VMS] [LATENCY_MS] [TASK_MS] [numbers|perl] [CONTAINERS]
//!   (defaults: 1000 VMs, 20 ms, 500 ms, numbers, no containers)
//!
//! With `perl`, it answers as Perl may type its answers: every number a
//! string (sim/typing.rs).

use guestkit_sim::server::{Agent, Clock, Options, Sim, TOKEN, Vm};
use std::io::Read;
use std::time::Duration;

fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (vms, latency, task) = (arg(1, 1000), arg(2, 20), arg(3, 500));
    let sim = Sim::start(Options {
        latency: Duration::from_millis(latency),
        task_duration: Duration::from_millis(task),
        // Tasks take real time here: the benchmark measures how tools overlap them.
        clock: Clock::Wall,
        perl: std::env::args().nth(4).as_deref() == Some("perl"),
        ..Options::default()
    });
    let nodes = ["pve1", "pve2", "pve3"];
    for i in 0..vms as u32 {
        let mut vm = Vm::new(100 + i, nodes[i as usize % 3], &format!("bench-{i}"));
        vm.tags = vec!["bench".into()];
        // A guest agent that answers as soon as the VM runs.
        vm.config.insert("agent".into(), "1".into());
        vm.agent = Some(Agent::booting(Duration::ZERO, Duration::ZERO));
        sim.add_vm(vm);
    }
    // Containers, stopped, ct-0 …, after the VMs' VMIDs.
    for i in 0..arg(5, 0) as u32 {
        sim.add_vm(Vm::container(
            100_000 + i,
            nodes[i as usize % 3],
            &format!("ct-{i}"),
        ));
    }
    println!("export GUESTKIT_PVE_URL='{}'", sim.urls.join(","));
    println!("export GUESTKIT_PVE_TOKEN='{TOKEN}'");
    println!(
        "export GUESTKIT_PVE_FINGERPRINT='{}'",
        sim.fingerprints.join(",")
    );
    println!("export PVE_SIM_FIRST_URL='{}'", sim.urls[0]);
    // Serve until whoever started us closes our stdin.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    eprintln!("pve-sim: {} requests served", sim.requests().len());
}
