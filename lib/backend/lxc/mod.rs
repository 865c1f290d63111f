//! The LXC backend, over the real lxc-* tools. A container is LXC's own
//! directory `<lxcpath>/<name>` (config, rootfs, console.log); guestkit adds
//! only `guestkit.json` beside the config, for what LXC does not record
//! (the image and when it was created).

pub mod parse;

use super::{Backend, CreateSpec, ExecSpec, Limits, Lister, Listing};
use crate::backend::image::Image;
use crate::backend::rootfs::{self, DEFAULT_PATH, resolve_in_root};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::guest::record::{Container, ContainerState};
use crate::guest::{BackendKind, Status};
use crate::os::process::{Tool, capture, interactive, spawn_capture};
use crate::output::Output;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const LXC_LS: Tool = Tool::new("lxc-ls", "lxc");
const LXC_INFO: Tool = Tool::new("lxc-info", "lxc");
const LXC_CREATE: Tool = Tool::new("lxc-create", "lxc");
const LXC_START: Tool = Tool::new("lxc-start", "lxc");
const LXC_STOP: Tool = Tool::new("lxc-stop", "lxc");
const LXC_DESTROY: Tool = Tool::new("lxc-destroy", "lxc");
const LXC_ATTACH: Tool = Tool::new("lxc-attach", "lxc");
const LXC_EXECUTE: Tool = Tool::new("lxc-execute", "lxc");
const LXC_FREEZE: Tool = Tool::new("lxc-freeze", "lxc");
const LXC_CGROUP: Tool = Tool::new("lxc-cgroup", "lxc");
const LXC_UNFREEZE: Tool = Tool::new("lxc-unfreeze", "lxc");

/// LXC's shared defaults: /proc and /sys mounts, device rules, dropped capabilities.
const COMMON_CONF: &str = "/usr/share/lxc/config/common.conf";
/// The script that runs a container's command, inside its rootfs.
const INIT_SCRIPT: &str = ".guestkit-init";
const SIDECAR: &str = "guestkit.json";
/// In a container's directory while guestkit makes it: a directory that
/// still has it, under the name's lock, is what a killed create left.
const CREATING: &str = "guestkit-creating";

/// The LXC backend: the containers under one lxcpath.
pub struct Lxc {
    path: PathBuf,
    /// The containers' networks.
    nets: crate::backend::net::Nets,
}

/// What guestkit remembers about a container it created.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Sidecar {
    image: Option<String>,
    created: Option<String>,
    command: Option<Vec<String>>,
}

impl Lxc {
    /// The backend for the containers under the config's lxcpath (default
    /// /var/lib/lxc).
    pub fn new(cfg: &Config) -> Lxc {
        Lxc {
            path: cfg
                .lxc
                .lxcpath
                .clone()
                .unwrap_or_else(|| PathBuf::from("/var/lib/lxc")),
            nets: crate::backend::net::Nets::new(cfg),
        }
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// `-P <lxcpath> -n <name>` and the rest.
    fn args(&self, name: &str, rest: &[&str]) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec![
            "-P".into(),
            self.path.clone().into(),
            "-n".into(),
            name.into(),
        ];
        a.extend(rest.iter().map(OsString::from));
        a
    }

    fn run(
        &self,
        tool: &Tool,
        args: Vec<OsString>,
        out: &Output,
    ) -> Result<crate::os::process::Outcome> {
        capture(&tool.find()?, args, &|m| out.trace(m))
    }

    /// The last lxc error line of a failed command, as an error.
    fn failure(&self, what: &str, r: &crate::os::process::Outcome) -> Error {
        let msg = r
            .stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(parse::error_message)
            .unwrap_or_else(|| format!("exit code {}", r.code));
        Error::failed(format!("{what} failed: {msg}"))
    }

    fn sidecar(&self, name: &str) -> Sidecar {
        std::fs::read(self.dir(name).join(SIDECAR))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn config_text(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir(name).join("config")).unwrap_or_default()
    }

    fn rootfs_dir(&self, name: &str) -> Option<PathBuf> {
        let cfg = self.config_text(name);
        let p = parse::config_value(&cfg, "lxc.rootfs.path")?;
        let p = p.strip_prefix("dir:").unwrap_or(p);
        Path::new(p)
            .is_absolute()
            .then(|| PathBuf::from(p))
            .filter(|p| p.is_dir())
    }

    /// lxc-freeze or lxc-unfreeze.
    fn freezer(&self, tool: &Tool, name: &str, out: &Output) -> Result<()> {
        let r = self.run(tool, self.args(name, &[]), out)?;
        if !r.ok() {
            return Err(Error::failed(format!(
                "{} failed: {}",
                tool.program,
                r.stderr.lines().last().unwrap_or("").trim()
            )));
        }
        Ok(())
    }

    fn record(&self, name: &str, state: &str, pid: Option<u32>, ipv4: Vec<String>) -> Container {
        let (status, backend_status) = parse::status(state);
        let side = self.sidecar(name);
        let mut c = Container::new(name, BackendKind::Lxc, status);
        c.backend_status = backend_status;
        c.pid = pid;
        c.ipv4 = ipv4;
        c.image = side.image;
        c.created = side.created;
        c
    }

    fn info(&self, name: &str, out: &Output) -> Result<parse::Info> {
        let r = self.run(&LXC_INFO, self.args(name, &["-H"]), out)?;
        if !r.ok() {
            if !self.exists(name, out) {
                return Err(Error::not_found("no such container in backend lxc"));
            }
            return Err(self.failure("lxc-info", &r));
        }
        Ok(parse::info(&r.stdout))
    }

    fn write_config(&self, spec: &CreateSpec, image: &Image, rootfs: &Path) -> Result<String> {
        let dir = self.dir(&spec.name);
        let mut c = String::from("# Written by guestkit's ctr-create.\n");
        let mut line = |k: &str, v: &str| c.push_str(&format!("{k} = {v}\n"));
        if Path::new(COMMON_CONF).exists() {
            line("lxc.include", COMMON_CONF);
        } else {
            line("lxc.mount.auto", "cgroup:mixed proc:mixed sys:mixed");
        }
        line("lxc.rootfs.path", &format!("dir:{}", rootfs.display()));
        line("lxc.uts.name", &spec.name);
        match (&spec.network, &spec.bridge) {
            // The namespace the network was set up in, joined at start:
            // no lxc.net, which would make LXC set up one of its own.
            (Some(_), _) => {
                let ns = self.nets.netns(&spec.name);
                line("lxc.namespace.share.net", &ns.display().to_string());
                for file in crate::backend::net::ETC_FILES {
                    let source = self.nets.etc_file(&spec.name, file);
                    line(
                        "lxc.mount.entry",
                        &format!(
                            "{} etc/{file} none bind,create=file 0 0",
                            fstab_escape(&source.display().to_string())
                        ),
                    );
                }
            }
            (None, None) => line("lxc.net.0.type", "empty"),
            (None, Some(br)) => {
                line("lxc.net.0.type", "veth");
                line("lxc.net.0.link", br);
                line("lxc.net.0.flags", "up");
            }
        }
        line(
            "lxc.console.logfile",
            &dir.join("console.log").display().to_string(),
        );
        if spec.command.is_empty() {
            if *image == Image::Busybox {
                // busybox init halts on SIGUSR2; LXC's default SIGPWR it ignores.
                line("lxc.signal.halt", "SIGUSR2");
            }
        } else {
            line("lxc.init.cmd", &format!("/bin/sh /{INIT_SCRIPT}"));
            line("lxc.signal.halt", "SIGTERM");
        }
        if let Some(d) = &spec.cwd {
            line("lxc.init.cwd", d);
        }
        if let Some(u) = &spec.user {
            let (uid, gid) = rootfs::user_ids(Some(rootfs), u)?;
            line("lxc.init.uid", &uid.to_string());
            line("lxc.init.gid", &gid.to_string());
        }
        for (k, v) in &spec.env {
            line("lxc.environment", &format!("{k}={v}"));
        }
        for m in &spec.mounts {
            let kind = if m.source.is_dir() { "dir" } else { "file" };
            let ro = if m.read_only { ",ro" } else { "" };
            line(
                "lxc.mount.entry",
                &format!(
                    "{} {} none bind,create={kind}{ro} 0 0",
                    fstab_escape(&m.source.display().to_string()),
                    fstab_escape(m.target.trim_start_matches('/'))
                ),
            );
        }
        let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        if let Some(bytes) = spec.memory_bytes {
            if v2 {
                line("lxc.cgroup2.memory.max", &bytes.to_string());
            } else {
                line("lxc.cgroup.memory.limit_in_bytes", &bytes.to_string());
            }
        }
        if let Some(cpus) = spec.cpus {
            let quota = (cpus * 100_000.0).round() as u64;
            if v2 {
                line("lxc.cgroup2.cpu.max", &format!("{quota} 100000"));
            } else {
                line("lxc.cgroup.cpu.cfs_period_us", "100000");
                line("lxc.cgroup.cpu.cfs_quota_us", &quota.to_string());
            }
        }
        if spec.ephemeral {
            line("lxc.ephemeral", "1");
        }
        Ok(c)
    }

    /// Everything after the rootfs directory exists; any error leaves cleanup to the caller.
    fn create_in(
        &self,
        spec: &CreateSpec,
        image: &Image,
        cfg: &Config,
        rootfs: &Path,
        out: &Output,
    ) -> Result<()> {
        image.unpack_into(rootfs, &cfg.cache_dir(), out)?;
        if spec.command.is_empty() {
            if resolve_in_root(rootfs, "/sbin/init").is_none() {
                return Err(
                    Error::invalid(format!("image {} has no /sbin/init", image.label()))
                        .with_hint("give the command the container runs after --"),
                );
            }
        } else {
            if resolve_in_root(rootfs, "/bin/sh").is_none() {
                return Err(Error::invalid(format!(
                    "image {} has no /bin/sh to run the command with",
                    image.label()
                )));
            }
            let script = init_script(&spec.command);
            let p = rootfs.join(INIT_SCRIPT);
            std::fs::write(&p, script).map_err(|e| Error::io("cannot write", &p, e))?;
        }
        let conf_text = self.write_config(spec, image, rootfs)?;
        let dir = self.dir(&spec.name);
        let conf = dir.join("guestkit-create.conf");
        std::fs::write(&conf, conf_text).map_err(|e| Error::io("cannot write", &conf, e))?;
        let r = self.run(
            &LXC_CREATE,
            self.args(
                &spec.name,
                &["-t", "none", "-f", &conf.display().to_string()],
            ),
            out,
        )?;
        let _ = std::fs::remove_file(&conf);
        if !r.ok() {
            return Err(self.failure("lxc-create", &r));
        }
        if let Some(join) = &spec.network {
            self.nets.attach(&spec.name, join, &dir, out)?;
        }
        let side = Sidecar {
            image: Some(image.label()),
            created: Some(crate::guest::units::now_rfc3339()),
            command: (!spec.command.is_empty()).then(|| spec.command.clone()),
        };
        let p = dir.join(SIDECAR);
        std::fs::write(&p, Output::json_line(&side))
            .map_err(|e| Error::io("cannot write", &p, e))?;
        Ok(())
    }

    /// Removes a container's directory, through lxc-destroy when LXC knows
    /// it, and then its network.
    fn remove(&self, name: &str, out: &Output) -> Result<()> {
        let dir = self.dir(name);
        if dir.join("config").exists() {
            let r = self.run(&LXC_DESTROY, self.args(name, &[]), out)?;
            if !r.ok() && dir.join("config").exists() {
                return Err(self.failure("lxc-destroy", &r));
            }
        }
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("cannot remove", &dir, e));
            }
            _ => {}
        }
        // Left by its failed starts (an earlier guestkit did not remove them).
        crate::backend::cgroup::remove_left(&|c| lxc_cgroup("lxc.monitor.", name, c));
        self.nets.detach(name, out).map(|_| ())
    }

    /// The 127 and 126 cases, which lxc itself reports only as a bare exit code.
    fn check_command(&self, name: &str, command: &[String], path: &str) -> Result<()> {
        match self.rootfs_dir(name) {
            Some(root) => rootfs::check_command(&root, command, path),
            None => Ok(()),
        }
    }

    fn user_ids(&self, name: &str, user: &str) -> Result<(u32, u32)> {
        rootfs::user_ids(self.rootfs_dir(name).as_deref(), user)
    }
}

impl Lister for Lxc {
    fn kind(&self) -> BackendKind {
        BackendKind::Lxc
    }

    fn check(&self) -> Result<()> {
        LXC_LS.find().map(|_| ())
    }

    fn list_start<'a>(&'a self, out: &'a Output) -> Result<Listing<'a>> {
        // No container directory, no containers: spare the lxc-ls run.
        if self.names(out)?.is_empty() {
            return Ok(Box::new(|| Ok(Vec::new())));
        }
        let mut args: Vec<OsString> = vec!["-P".into(), self.path.clone().into()];
        args.extend(["-f", "-F", "NAME,STATE,PID,IPV4"].map(OsString::from));
        let running = spawn_capture(&LXC_LS.find()?, args, &|m| out.trace(m))?;
        Ok(Box::new(move || {
            let r = running.finish(&|m| out.trace(m))?;
            if !r.ok() {
                return Err(self.failure("lxc-ls", &r));
            }
            Ok(parse::ls_fancy(&r.stdout)
                .into_iter()
                .map(|row| self.record(&row.name, &row.state, row.pid, row.ipv4))
                .collect())
        }))
    }
}

/// Whether `component` of a cgroup path is the container `name`'s own:
/// LXC's `lxc.payload.NAME`, with `-N` added when that was taken.
fn own_cgroup(name: &str, component: &str) -> bool {
    lxc_cgroup("lxc.payload.", name, component)
}

/// LXC's cgroup `KIND` + NAME, or + NAME-N.
fn lxc_cgroup(kind: &str, name: &str, component: &str) -> bool {
    component
        .strip_prefix(kind)
        .and_then(|c| c.strip_prefix(name))
        .is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix('-')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

impl Backend for Lxc {
    fn inspect(&self, out: &Output) -> Result<String> {
        let program = LXC_START.find()?;
        let r = capture(&program, vec!["--version".into()], &|m| out.trace(m))?;
        let version = r.stdout.trim();
        if !r.ok() || version.is_empty() {
            return Err(self.failure("lxc-start --version", &r));
        }
        Ok(format!("LXC {version} ({})", program.display()))
    }

    fn names(&self, _: &Output) -> Result<Vec<String>> {
        let entries = match std::fs::read_dir(&self.path) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::io(
                    "cannot read the LXC container directory",
                    &self.path,
                    e,
                ));
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("config").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }

    fn exists(&self, name: &str, _: &Output) -> bool {
        // LXC's own definition: a directory under lxcpath holding a config.
        self.dir(name).join("config").is_file()
    }

    fn status(&self, name: &str, out: &Output) -> Result<Status> {
        Ok(parse::status(&self.info(name, out)?.state).0)
    }

    fn state(&self, name: &str, out: &Output) -> Result<ContainerState> {
        let info = self.info(name, out)?;
        let cfg = self.config_text(name);
        let side = self.sidecar(name);
        let num = |k: &str| parse::config_value(&cfg, k).and_then(|v| v.parse::<u64>().ok());
        let memory_limit =
            num("lxc.cgroup2.memory.max").or_else(|| num("lxc.cgroup.memory.limit_in_bytes"));
        let cpus = match (
            num("lxc.cgroup.cpu.cfs_quota_us"),
            num("lxc.cgroup.cpu.cfs_period_us"),
        ) {
            (Some(q), Some(p)) if p > 0 => Some(q as f64 / p as f64),
            _ => parse::config_value(&cfg, "lxc.cgroup2.cpu.max").and_then(|v| {
                let (q, p) = v.split_once(' ')?;
                Some(q.parse::<f64>().ok()? / p.parse::<f64>().ok()?)
            }),
        };
        let running = info.state == "RUNNING" || info.state == "FROZEN";
        let command = side.command.clone().or_else(|| {
            parse::config_value(&cfg, "lxc.init.cmd")
                .filter(|v| !v.ends_with(INIT_SCRIPT))
                .map(|v| v.split_whitespace().map(str::to_string).collect())
        });
        let log = parse::config_value(&cfg, "lxc.console.logfile").map(str::to_string);
        Ok(ContainerState {
            container: self.record(name, &info.state, info.pid, info.ips.clone()),
            hostname: parse::config_value(&cfg, "lxc.uts.name").map(str::to_string),
            command,
            memory_bytes: if running { info.memory_bytes } else { None },
            memory_limit_bytes: memory_limit,
            cpus,
            cpu_time_s: if running {
                info.cpu_ns.map(|n| n as f64 / 1e9)
            } else {
                None
            },
            log_path: log,
            exit: if running {
                Default::default()
            } else {
                self.last_exit(name).unwrap_or_default()
            },
        })
    }

    fn create(&self, spec: &CreateSpec, image: &Image, cfg: &Config, out: &Output) -> Result<()> {
        if let Some(br) = &spec.bridge
            && !Path::new("/sys/class/net").join(br).join("bridge").exists()
        {
            return Err(Error::invalid(format!("there is no bridge {br:?} on this host")).with_hint(format!(
                "create it with 'ip link add {br} type bridge && ip link set {br} up', or use --network none"
            )));
        }
        let dir = self.dir(&spec.name);
        crate::backend::image::claim_dir(&dir)?;
        let rootfs = dir.join("rootfs");
        let marker = dir.join(CREATING);
        let made = std::fs::write(&marker, "")
            .map_err(|e| Error::io("cannot write", &marker, e))
            .and_then(|()| {
                std::fs::create_dir(&rootfs).map_err(|e| Error::io("cannot create", &rootfs, e))
            })
            .and_then(|()| self.create_in(spec, image, cfg, &rootfs, out))
            .and_then(|()| {
                std::fs::remove_file(&marker).map_err(|e| Error::io("cannot remove", &marker, e))
            });
        if made.is_err() {
            out.trace(&format!("create failed; removing {}", dir.display()));
            if let Err(e) = self.remove(&spec.name, out) {
                out.warn(&format!(
                    "could not clean up after the failed create: {}",
                    e.message
                ));
            }
        }
        made
    }

    fn start(&self, name: &str, out: &Output) -> Result<()> {
        // The last run's end is not this one's.
        let _ = std::fs::remove_file(self.dir(name).join("rootfs").join(super::EXIT_FILE));
        // A command that cannot run is the start's failure (127/126 in the
        // error's kind and message), not a container that stops unseen.
        if let Some(command) = self.sidecar(name).command {
            self.check_command(name, &command, DEFAULT_PATH)
                .map_err(Error::without_exit)?;
        }
        self.nets.rejoin(name, out)?;
        let log = self.dir(name).join("lxc-start.log");
        let _ = std::fs::write(&log, "");
        let r = self.run(
            &LXC_START,
            self.args(
                name,
                &["-d", "-l", "ERROR", "-o", &log.display().to_string()],
            ),
            out,
        )?;
        if !r.ok() {
            // LXC leaves its monitor's cgroups when a start fails.
            crate::backend::cgroup::remove_left(&|c| lxc_cgroup("lxc.monitor.", name, c));
            let errors = parse::log_errors(&std::fs::read_to_string(&log).unwrap_or_default());
            let msg = errors
                .first()
                .cloned()
                .unwrap_or_else(|| "the container failed to start".into());
            return Err(
                Error::failed(format!("lxc-start failed: {msg}")).with_hint(format!(
                    "details: {} and lxc-start -F -P {} -n {name}",
                    log.display(),
                    self.path.display()
                )),
            );
        }
        let info = self.info(name, out)?;
        if parse::status(&info.state).0 == Status::Stopped {
            return Err(super::stopped_at_once(name, &self.log_path(name)));
        }
        if let Some(pid) = info.pid {
            super::logclock::start(&self.log_path(name), pid, out);
        }
        Ok(())
    }

    fn stop(&self, name: &str, timeout_s: u64, force: bool, out: &Output) -> Result<()> {
        let t = timeout_s.to_string();
        let rest: &[&str] = if force { &["-k"] } else { &["-t", &t] };
        let r = self.run(&LXC_STOP, self.args(name, rest), out)?;
        if !r.ok() && self.status(name, out)? != Status::Stopped {
            return Err(self.failure("lxc-stop", &r));
        }
        Ok(())
    }

    fn owns_cgroup(&self, name: &str, component: &str) -> bool {
        own_cgroup(name, component)
    }

    fn kill(&self, name: &str, signal: i32, out: &Output) -> Result<()> {
        let info = self.info(name, out)?;
        let Some(pid) = info.pid else {
            return Err(Error::conflict("the container is not running"));
        };
        out.trace(&format!("kill({pid}, {signal})"));
        // SAFETY: kill(2) with a pid LXC reported as the container's init.
        if unsafe { libc::kill(pid as libc::pid_t, signal) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::failed(format!(
                "cannot signal pid {pid}: {}",
                crate::error::plain_io(&e)
            )));
        }
        Ok(())
    }

    fn limits(&self, name: &str, _: &Output) -> Result<Limits> {
        if !self.dir(name).join("config").is_file() {
            return Err(Error::not_found("no such container in backend lxc"));
        }
        let cfg = self.config_text(name);
        let num = |k: &str| parse::config_value(&cfg, k).and_then(|v| v.parse::<u64>().ok());
        let cpus = match (
            num("lxc.cgroup.cpu.cfs_quota_us"),
            num("lxc.cgroup.cpu.cfs_period_us"),
        ) {
            (Some(q), Some(p)) if p > 0 => Some(q as f64 / p as f64),
            _ => parse::config_value(&cfg, "lxc.cgroup2.cpu.max").and_then(|v| {
                let (q, p) = v.split_once(' ')?;
                Some(q.parse::<f64>().ok()? / p.parse::<f64>().ok()?)
            }),
        };
        Ok(Limits {
            memory_bytes: num("lxc.cgroup2.memory.max")
                .or_else(|| num("lxc.cgroup.memory.limit_in_bytes")),
            cpus,
            pids: num("lxc.cgroup2.pids.max").or_else(|| num("lxc.cgroup.pids.max")),
        })
    }

    fn update(&self, name: &str, l: &Limits, out: &Output) -> Result<()> {
        let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        // (config key, cgroup file, value) for each limit given.
        let mut set: Vec<(&str, &str, String)> = vec![];
        if let Some(b) = l.memory_bytes {
            set.push(if v2 {
                ("lxc.cgroup2.memory.max", "memory.max", b.to_string())
            } else {
                (
                    "lxc.cgroup.memory.limit_in_bytes",
                    "memory.limit_in_bytes",
                    b.to_string(),
                )
            });
        }
        if let Some(c) = l.cpus {
            let quota = (c * 100_000.0).round() as u64;
            if v2 {
                set.push(("lxc.cgroup2.cpu.max", "cpu.max", format!("{quota} 100000")));
            } else {
                set.push((
                    "lxc.cgroup.cpu.cfs_period_us",
                    "cpu.cfs_period_us",
                    "100000".into(),
                ));
                set.push((
                    "lxc.cgroup.cpu.cfs_quota_us",
                    "cpu.cfs_quota_us",
                    quota.to_string(),
                ));
            }
        }
        if let Some(p) = l.pids {
            set.push(if v2 {
                ("lxc.cgroup2.pids.max", "pids.max", p.to_string())
            } else {
                ("lxc.cgroup.pids.max", "pids.max", p.to_string())
            });
        }
        let running = self.status(name, out)? != Status::Stopped;
        if running {
            for (_, file, value) in &set {
                let r = self.run(&LXC_CGROUP, self.args(name, &[file, value]), out)?;
                if !r.ok() {
                    return Err(Error::failed(format!(
                        "lxc-cgroup {file} {value} failed: {}",
                        r.stderr.lines().last().unwrap_or("").trim()
                    )));
                }
            }
        }
        // The stored configuration, so that the next start gets them too.
        let path = self.dir(name).join("config");
        let text = self.config_text(name);
        let mut lines: Vec<String> = text
            .lines()
            .filter(|line| {
                let key = line.split('=').next().unwrap_or("").trim();
                !set.iter().any(|(k, _, _)| *k == key)
            })
            .map(String::from)
            .collect();
        for (k, _, v) in &set {
            lines.push(format!("{k} = {v}"));
        }
        std::fs::write(&path, lines.join("\n") + "\n")
            .map_err(|e| Error::io("cannot write", &path, e))
    }

    fn last_exit(&self, name: &str) -> Option<crate::guest::record::Exit> {
        super::read_exit(&self.dir(name).join("rootfs"))
    }

    fn pause(&self, name: &str, out: &Output) -> Result<()> {
        self.freezer(&LXC_FREEZE, name, out)
    }

    fn resume(&self, name: &str, out: &Output) -> Result<()> {
        self.freezer(&LXC_UNFREEZE, name, out)
    }

    fn delete(&self, name: &str, out: &Output) -> Result<()> {
        self.remove(name, out)
    }

    fn clear_leftover(&self, name: &str, out: &Output) -> Result<bool> {
        if !self.dir(name).join(CREATING).exists() {
            return Ok(false);
        }
        self.remove(name, out)?;
        Ok(true)
    }

    fn exec(&self, name: &str, spec: &ExecSpec, out: &Output) -> Result<i32> {
        let path = spec
            .env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map_or(DEFAULT_PATH, |(_, v)| v.as_str());
        self.check_command(name, &spec.command, path)?;
        let mut rest: Vec<String> = vec!["--clear-env".into()];
        for (k, v) in &spec.env {
            rest.push("-v".into());
            rest.push(format!("{k}={v}"));
        }
        if let Some(u) = &spec.user {
            let (uid, gid) = self.user_ids(name, u)?;
            rest.extend(["-u".into(), uid.to_string(), "-g".into(), gid.to_string()]);
        }
        rest.push("--".into());
        if let Some(dir) = &spec.cwd {
            // lxc-attach has no working-directory option; a shell changes to it first.
            rest.extend(
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
        rest.extend(spec.command.iter().cloned());
        let args = self.args(name, &rest.iter().map(String::as_str).collect::<Vec<_>>());
        interactive(&LXC_ATTACH.find()?, args, &|m| out.trace(m))
    }

    fn run_attached(&self, name: &str, command: &[String], out: &Output) -> Result<i32> {
        let side = self.sidecar(name);
        let command: Vec<String> = match (command.is_empty(), side.command) {
            (false, _) => command.to_vec(),
            (true, Some(c)) => c,
            (true, None) => vec!["/sbin/init".into()],
        };
        self.check_command(name, &command, DEFAULT_PATH)?;
        self.nets.rejoin(name, out)?;
        let log = self.dir(name).join("lxc-execute.log");
        let _ = std::fs::write(&log, "");
        let mut rest = vec![
            "-l".to_string(),
            "ERROR".into(),
            "-o".into(),
            log.display().to_string(),
            "--".into(),
        ];
        rest.extend(command);
        let args = self.args(name, &rest.iter().map(String::as_str).collect::<Vec<_>>());
        let seen = std::cell::Cell::new(0);
        let kill = |sig| self.kill(name, sig, out);
        let escalate = || super::escalate(name, &kill, out, &seen);
        let code = crate::os::process::interactive_meanwhile(
            &LXC_EXECUTE.find()?,
            args,
            &|m| out.trace(m),
            &|| {},
            &escalate,
        )?;
        let errors = parse::log_errors(&std::fs::read_to_string(&log).unwrap_or_default());
        if code != 0 && !errors.is_empty() {
            return Err(Error::failed(format!("lxc-execute failed: {}", errors[0])));
        }
        Ok(code)
    }

    fn log_path(&self, name: &str) -> PathBuf {
        let cfg = self.config_text(name);
        parse::config_value(&cfg, "lxc.console.logfile")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.dir(name).join("console.log"))
    }

    fn rootfs(&self, name: &str) -> Option<PathBuf> {
        self.rootfs_dir(name)
    }
}

/// The container's init: runs the command with its output on the console log,
/// and passes signals on to it (see `FORWARD_SIGNALS`).
fn init_script(command: &[String]) -> String {
    let cmd: Vec<String> = command.iter().map(|a| sh_quote(a)).collect();
    format!(
        "# Written by guestkit's ctr-create: the container's command.\n\
         exec >/dev/console 2>&1 </dev/null\n\
         {} &\n\
         child=$!\n\
         {}\n\
         while :; do\n\
         \x20   wait $child 2>/dev/null\n\
         \x20   status=$?\n\
         \x20   kill -0 $child 2>/dev/null || {{ {}; exit $status; }}\n\
         done\n",
        cmd.join(" "),
        super::FORWARD_SIGNALS,
        super::RECORD_EXIT
    )
}

fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// fstab fields escape spaces, tabs and backslashes as octal.
fn fstab_escape(s: &str) -> String {
    s.replace('\\', "\\134")
        .replace(' ', "\\040")
        .replace('\t', "\\011")
        .replace('\n', "\\012")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_owns_the_cgroup_named_for_it_alone() {
        assert!(own_cgroup("web", "lxc.payload.web"));
        // LXC's retry when the name was taken.
        assert!(own_cgroup("web", "lxc.payload.web-2"));
        assert!(own_cgroup("web-2", "lxc.payload.web-2"));
        assert!(!own_cgroup("web", "lxc.payload.web-"));
        assert!(!own_cgroup("web", "lxc.payload.web.x"));
        assert!(!own_cgroup("web", "lxc.payload.webby"));
        assert!(!own_cgroup("web", "lxc.monitor.web"));
        assert!(lxc_cgroup("lxc.monitor.", "web", "lxc.monitor.web-3"));
        assert!(!own_cgroup("web", "init.scope"));
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("echo"), "echo");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(fstab_escape("/a b"), "/a\\040b");
    }
}
