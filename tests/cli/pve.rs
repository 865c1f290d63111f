//! The Proxmox VE side of the CLI tests: a test environment whose tools
//! talk to the simulator, and the macro that runs each vm test against
//! both of the simulator's typings.

use crate::common::TestEnv;
use crate::sim::server::{Options, Sim, TOKEN, Vm};
use std::process::Command;

/// A test environment whose tools talk to `sim` with the token, pinning
/// every node's certificate.
pub struct Pve {
    pub env: TestEnv,
    pub sim: Sim,
    pub vars: Vec<(&'static str, String)>,
}

impl Pve {
    pub fn new(opts: Options) -> Pve {
        let sim = Sim::start(Options {
            perl: PERL.get(),
            ..opts
        });
        let env = TestEnv::new();
        env.write_config("[proxmox]\nlock_wait = 0.5\n");
        let vars = vec![
            ("GUESTKIT_PVE_URL", sim.urls.join(",")),
            ("GUESTKIT_PVE_TOKEN", TOKEN.to_string()),
            ("GUESTKIT_PVE_FINGERPRINT", sim.fingerprints.join(",")),
        ];
        Pve { env, sim, vars }
    }

    pub fn with_vms(n: u32) -> Pve {
        let p = Pve::new(Options::default());
        for i in 0..n {
            let node = ["pve1", "pve2", "pve3"][i as usize % 3];
            p.sim
                .add_vm(Vm::new(100 + i, node, &format!("vm{}", 100 + i)));
        }
        p
    }

    pub fn cmd(&self, tool: &str) -> Command {
        let mut c = self.env.cmd(tool);
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    /// Any program (a shell) with the tools first on PATH and this cluster's
    /// URL, token and pins.
    pub fn shell(&self, program: &str) -> Command {
        let mut c = self.env.shell(program);
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, tool: &str, args: &[&str]) -> String {
        self.env.run_cmd(self.cmd(tool).args(args), None)
    }

    pub fn run_stdin(&self, tool: &str, args: &[&str], input: &str) -> String {
        self.env.run_cmd(self.cmd(tool).args(args), Some(input))
    }

    pub fn set(&mut self, k: &'static str, v: &str) {
        self.vars.retain(|(x, _)| *x != k);
        self.vars.push((k, v.to_string()));
    }

    pub fn unset(&mut self, k: &'static str) {
        self.vars.retain(|(x, _)| *x != k);
    }

    /// The environment's filters, after this cluster's own: its nodes'
    /// fingerprints and addresses, task ids, uptimes and timings.
    pub fn filters(&self) -> Vec<(String, String)> {
        let mut f = Vec::new();
        for (i, fp) in self.sim.fingerprints.iter().enumerate() {
            f.push((regex::escape(fp), format!("[FINGERPRINT {}]", i + 1)));
        }
        for (i, u) in self.sim.urls.iter().enumerate() {
            let host = u.trim_start_matches("https://");
            f.push((regex::escape(host), format!("[NODE {} API]", i + 1)));
        }
        f.extend(self.env.filters());
        for (re, with) in [
            (r"UPID:[^\s\x22]*:", "[UPID]"),
            (r#""uptime_s":\d+"#, r#""uptime_s":"[N]""#),
            (r"\[\d+\.\d ms\]", "[MS]"),
            (r"in \d+\.\d ms", "in [MS]"),
            (r"after \d+\.\d (ms|s)", "after [TIME]"),
        ] {
            f.push((re.to_string(), with.to_string()));
        }
        f
    }
}

std::thread_local! {
    /// Whether the simulator of this test types its answers as Perl does.
    pub static PERL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Each test runs twice: against a simulator that answers with numbers
/// (`vm::numbers::*`), and against one that answers as Perl may type them,
/// every number a string and `template: ""` (`vm::perl::*`). Both runs must
/// print the same: they share their snapshots. A test function left out of
/// the list is dead code, which the build refuses.
macro_rules! in_both_typings {
    ($($name:ident),* $(,)?) => {
        mod numbers {
            $(
                #[test]
                fn $name() {
                    super::$name()
                }
            )*
        }

        mod perl {
            $(
                #[test]
                fn $name() {
                    crate::pve::PERL.set(true);
                    super::$name()
                }
            )*
        }
    };
}
