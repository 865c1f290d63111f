//! Backend `proxmox` for containers: the LXC containers of a Proxmox VE
//! cluster, through its REST API (lib/pve/ct.rs), with the same client,
//! trust settings and configuration as the vm-* tools. What the API cannot
//! do (ctr-exec, ctr-logs) runs as `pct` on the container's node over SSH.

use super::image::Image;
use super::{Backend, CreateSpec, ExecSpec, Limits, Lister, Listing};
use crate::config::{Config, ProxmoxConfig};
use crate::error::{Error, Result};
use crate::guest::names::shell_words;
use crate::guest::record::{Container, ContainerState, Usage};
use crate::guest::{BackendKind, Status};
use crate::output::Output;
use crate::pve::client::Client;
use crate::pve::ct::{self, Ct};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// The backend: a handle on the run's one connection and listing, which
/// every handle shares (a bulk action makes one per target).
pub struct Proxmox(Arc<Shared>);

/// What every handle of a run shares: the cluster's config, its client and
/// its listing.
pub struct Shared {
    cfg: ProxmoxConfig,
    /// Connected at first use, for the whole run.
    client: OnceLock<Client>,
    /// The cluster's containers, listed once per run (a name is looked up
    /// in it; states are always read fresh), or why they could not be.
    listed: Mutex<Option<Result<Vec<Ct>>>>,
}

impl std::ops::Deref for Proxmox {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Proxmox {
    /// A handle on what the run shares, which the first call makes from the
    /// config's `[proxmox]` section: the connection is made at first use.
    pub fn new(cfg: &Config) -> Proxmox {
        static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();
        let shared = SHARED.get_or_init(|| {
            Arc::new(Shared {
                cfg: cfg.proxmox.clone(),
                client: OnceLock::new(),
                listed: Mutex::new(None),
            })
        });
        Proxmox(shared.clone())
    }

    fn client(&self, out: &Output) -> Result<&Client> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = Client::connect(&self.cfg, out)?;
        Ok(self.client.get_or_init(|| c))
    }

    fn list(&self, out: &Output) -> Result<Vec<Ct>> {
        let mut listed = self.listed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = listed.as_ref() {
            return l.clone();
        }
        let l = self.client(out).and_then(ct::list);
        *listed = Some(l.clone());
        l
    }

    fn forget(&self) {
        *self.listed.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn find(&self, name: &str, out: &Output) -> Result<Ct> {
        let l = self.list(out)?;
        ct::find(&l, name).cloned()
    }

    /// The container, running: what ctr-exec and ctr-logs need.
    fn running(&self, name: &str, out: &Output) -> Result<Ct> {
        let ct = self.find(name, out)?;
        let status = ct::status(self.client(out)?, &ct)?;
        if status != Status::Running {
            return Err(Error::conflict(format!(
                "{name}: the container is {}, not running",
                status.as_str()
            ))
            .with_hint(match status {
                Status::Paused => format!("it is frozen: thaw it with ctr-resume {name}"),
                _ => format!("start it first with ctr-start {name}"),
            }));
        }
        Ok(ct)
    }
}

impl Lister for Proxmox {
    fn kind(&self) -> BackendKind {
        BackendKind::Proxmox
    }

    /// Configured, or not: the cluster's reachability is the listing's to
    /// report.
    fn check(&self) -> Result<()> {
        if self.cfg.url.is_empty() {
            return Err(
                Error::unavailable("backend proxmox: no Proxmox VE API URL is configured")
                    .with_hint(
                        "set GUESTKIT_PVE_URL=https://pve1:8006, or proxmox.url in the config file",
                    ),
            );
        }
        Ok(())
    }

    /// The request goes out on a thread of its own, so that the local
    /// backends' listings run meanwhile.
    fn list_start<'a>(&'a self, out: &'a Output) -> Result<Listing<'a>> {
        let cfg = self.cfg.clone();
        let thread_out = out.clone();
        let handle = std::thread::Builder::new()
            .name("proxmox-list".into())
            .spawn(move || -> Result<Vec<Container>> {
                let c = Client::connect(&cfg, &thread_out)?;
                Ok(ct::list(&c)?.into_iter().map(|ct| ct.record).collect())
            });
        Ok(match handle {
            Ok(h) => Box::new(move || {
                h.join()
                    .unwrap_or_else(|_| Err(Error::failed("the cluster's listing failed")))
            }),
            // No thread to be had: list in turn.
            Err(_) => {
                Box::new(move || Ok(self.list(out)?.into_iter().map(|ct| ct.record).collect()))
            }
        })
    }
}

impl Backend for Proxmox {
    fn names(&self, out: &Output) -> Result<Vec<String>> {
        Ok(self.list(out)?.into_iter().map(|c| c.record.name).collect())
    }

    fn exists(&self, name: &str, out: &Output) -> bool {
        self.list(out)
            .map(|l| l.iter().any(|c| c.record.name == name))
            .unwrap_or(false)
    }

    fn status(&self, name: &str, out: &Output) -> Result<Status> {
        let ct = self.find(name, out)?;
        ct::status(self.client(out)?, &ct)
    }

    fn state(&self, name: &str, out: &Output) -> Result<ContainerState> {
        let ct = self.find(name, out)?;
        ct::state(self.client(out)?, &ct)
    }

    fn create(&self, spec: &CreateSpec, image: &Image, _: &Config, out: &Output) -> Result<()> {
        let Image::Template(template) = image else {
            return Err(Error::usage(format!(
                "backend proxmox makes containers from OS templates, not from {}",
                image.label()
            ))
            .with_hint("give --image STORAGE:vztmpl/FILE, or a short name such as debian-12"));
        };
        if !spec.mounts.is_empty() {
            return Err(Error::usage(
                "--mount: backend proxmox does not bind-mount paths of a node into a container",
            )
            .with_hint("add a mount point on the cluster (pct set VMID -mp0 …)"));
        }
        let net0 = spec.bridge.as_ref().map(|br| {
            let mut n = format!("name=eth0,bridge={br}");
            if let Some(a) = &spec.address {
                n.push(',');
                n.push_str(a);
            }
            n
        });
        let new = ct::New {
            hostname: &spec.name,
            node: spec.node.as_deref(),
            template,
            memory_bytes: spec.memory_bytes,
            cpus: spec.cpus,
            disk_bytes: spec.disk_bytes,
            storage: spec.storage.as_deref(),
            net0,
            env: &spec.env,
            command: &spec.command,
        };
        let made = ct::create(self.client(out)?, &new)?;
        let mut listed = self.listed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Ok(l)) = listed.as_mut() {
            l.push(made);
        }
        Ok(())
    }

    fn start(&self, name: &str, out: &Output) -> Result<()> {
        let ct = self.find(name, out)?;
        ct::start(self.client(out)?, &ct)
    }

    fn stop(&self, name: &str, timeout_s: u64, force: bool, out: &Output) -> Result<()> {
        let ct = self.find(name, out)?;
        ct::stop(self.client(out)?, &ct, timeout_s, force)
    }

    /// The API sends no signals: KILL is a hard stop; any other is refused.
    fn kill(&self, name: &str, signal: i32, out: &Output) -> Result<()> {
        if signal != libc::SIGKILL {
            return Err(Error::usage(format!(
                "backend proxmox cannot send signal {signal} to {name}: its API only stops containers"
            ))
            .with_hint(format!(
                "-s KILL stops it at once; ctr-stop {name} shuts it down; ctr-exec {name} -- kill -s SIG 1 signals its init"
            )));
        }
        let ct = self.find(name, out)?;
        ct::stop(self.client(out)?, &ct, 0, true)
    }

    /// What status/current says: CPU as a share of the container's CPUs,
    /// memory, network and disk bytes.
    fn usage(&self, name: &str, _: Option<u32>, out: &Output) -> Result<Usage> {
        let ct = self.find(name, out)?;
        ct::usage(self.client(out)?, &ct)
    }

    /// Whether its configuration has a network device (`netN`); its
    /// address may then come later, by DHCP.
    fn networked(&self, name: &str, _: Option<u32>, out: &Output) -> Option<bool> {
        let ct = self.find(name, out).ok()?;
        ct::has_network(self.client(out).ok()?, &ct).ok()
    }

    fn limits(&self, name: &str, out: &Output) -> Result<Limits> {
        let ct = self.find(name, out)?;
        ct::limits(self.client(out)?, &ct)
    }

    fn update(&self, name: &str, l: &Limits, out: &Output) -> Result<()> {
        if l.pids.is_some() {
            return Err(Error::usage(
                "--pids: Proxmox VE sets no process limit on a container",
            ));
        }
        let ct = self.find(name, out)?;
        ct::set_limits(self.client(out)?, &ct, l)
    }

    fn pause(&self, name: &str, out: &Output) -> Result<()> {
        let ct = self.find(name, out)?;
        ct::freeze(self.client(out)?, &ct, true)
    }

    fn resume(&self, name: &str, out: &Output) -> Result<()> {
        let ct = self.find(name, out)?;
        ct::freeze(self.client(out)?, &ct, false)
    }

    fn delete(&self, name: &str, out: &Output) -> Result<()> {
        let ct = self.find(name, out)?;
        ct::delete(self.client(out)?, &ct)?;
        self.forget();
        Ok(())
    }

    /// A create the server did not finish is the server's to clean up (and
    /// ct::create removes what a failed create task left).
    fn clear_leftover(&self, _: &str, _: &Output) -> Result<bool> {
        Ok(false)
    }

    fn exec(&self, name: &str, spec: &ExecSpec, out: &Output) -> Result<i32> {
        if spec.user.is_some() {
            return Err(Error::usage(
                "--user: pct exec runs commands as root in a container of backend proxmox",
            )
            .with_hint(format!(
                "run it through su: ctr-exec {name} -- su USER -c 'COMMAND'"
            )));
        }
        let ct = self.running(name, out)?;
        let mut words: Vec<String> = vec![];
        if !spec.env.is_empty() {
            words.push("env".into());
            words.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));
        }
        if let Some(dir) = &spec.cwd {
            words.extend(
                [
                    "/bin/sh",
                    "-c",
                    "cd -- \"$1\" || exit 126; shift; exec \"$@\"",
                    "guestkit-exec",
                    dir,
                ]
                .map(String::from),
            );
        }
        words.extend(spec.command.iter().cloned());
        let remote = format!("pct exec {} -- {}", ct.vmid, shell_words(&words));
        let tty = spec.tty || (std::io::stdin().is_terminal() && std::io::stdout().is_terminal());
        super::ssh::run(&self.cfg, &ct.node, &remote, tty, "ctr-exec", out)
    }

    fn run_attached(&self, name: &str, _: &[String], _: &Output) -> Result<i32> {
        Err(Error::usage(format!(
            "ctr-run does not run {name} in the foreground on backend proxmox"
        ))
        .with_hint("create it with ctr-create --start, then use ctr-exec and ctr-logs"))
    }

    fn log_path(&self, _: &str) -> PathBuf {
        PathBuf::new()
    }

    /// The container's journal when it has one, else its syslog file, read
    /// in the container by `pct exec` on its node.
    fn remote_logs(
        &self,
        name: &str,
        tail: Option<usize>,
        follow: bool,
        out: &Output,
    ) -> Option<Result<i32>> {
        Some((|| {
            let ct = self.running(name, out)?;
            let n = tail.map_or("all".to_string(), |n| n.to_string());
            let (jf, tf) = if follow { (" -f", " -F") } else { ("", "") };
            let lines = tail.map_or("+1".to_string(), |n| n.to_string());
            let script = format!(
                "if command -v journalctl >/dev/null 2>&1; then exec journalctl --no-pager -n {n}{jf}; fi; \
                 for f in /var/log/syslog /var/log/messages; do \
                 if [ -f \"$f\" ]; then exec tail -n {lines}{tf} \"$f\"; fi; done; \
                 echo 'no journal and no /var/log/syslog or /var/log/messages in the container' >&2; exit 1"
            );
            let remote = format!(
                "pct exec {} -- {}",
                ct.vmid,
                shell_words(&["/bin/sh".into(), "-c".into(), script])
            );
            super::ssh::run(&self.cfg, &ct.node, &remote, false, "ctr-logs", out)
        })())
    }
}
