//! The OCI backends, crun and runc: one implementation, parameterised by the
//! runtime binary. A container is an OCI bundle (config.json + rootfs) kept
//! under guestkit's state directory, run by the runtime's own CLI. A bundle
//! the runtime does not know (never started, or deleted after it ended) is a
//! stopped container.

pub mod init;
pub mod overlay;
pub mod owned;
pub mod parse;
pub mod spare;
pub mod trash;

use super::{Backend, CreateSpec, ExecSpec, Limits, Lister, Listing};
use crate::backend::image::Image;
use crate::backend::rootfs::{self, DEFAULT_PATH};
use crate::config::Config;
use crate::error::{Error, Result, plain_io};
use crate::guest::record::{Container, ContainerState};
use crate::guest::{BackendKind, Status};
use crate::os::process::{Tool, capture, show};
use crate::output::Output;
use oci_spec::runtime::{LinuxCpuBuilder, LinuxMemoryBuilder, MountBuilder, RootBuilder, Spec};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SIDECAR: &str = "guestkit.json";
const LOG: &str = "console.log";
const RUNTIME_LOG: &str = "runtime.log";

/// An OCI backend: crun or runc, and the bundles guestkit keeps for it.
pub struct Oci {
    kind: BackendKind,
    /// Its program's name, as its messages and paths spell it.
    runtime: &'static str,
    tool: Tool,
    /// Where this runtime's bundles live: `<state_dir>/oci/<runtime>`.
    bundles: PathBuf,
    /// Where deleted bundles wait to be removed (see `crate::backend::oci::trash`).
    trash: PathBuf,
    /// Where the roots of throwaway runs wait for the next (see `crate::backend::oci::spare`).
    spares: PathBuf,
    /// Whether to keep and take spare roots (oci.spare_roots).
    use_spares: bool,
    /// The overlay root this process mounted or took: when its bundle is
    /// deleted, it may become a spare.
    own_root: std::sync::Mutex<Option<OwnRoot>>,
    /// The runtime's --root, when configured (else its own default).
    root: Option<PathBuf>,
    /// The containers' networks.
    nets: crate::backend::net::Nets,
}

struct OwnRoot {
    bundle: PathBuf,
    /// Its image's spare key.
    key: String,
    /// What it was like before its container ran.
    stamp: crate::backend::oci::spare::Stamp,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sidecar {
    image: Option<String>,
    created: Option<String>,
    command: Option<Vec<String>>,
}

impl Oci {
    /// The backend of runtime `kind` (crun or runc), its bundles under the
    /// config's state directory.
    pub fn new(cfg: &Config, kind: BackendKind) -> Oci {
        let runtime = kind.as_str();
        Oci {
            kind,
            runtime,
            tool: Tool::new(runtime, runtime),
            bundles: cfg.state_dir().join("oci").join(runtime),
            trash: cfg.state_dir().join("oci").join("trash"),
            spares: cfg.state_dir().join("oci").join("spare"),
            use_spares: cfg.oci.spare_roots.unwrap_or(true),
            own_root: std::sync::Mutex::new(None),
            root: cfg.oci.runtime_root.as_ref().map(|r| r.join(runtime)),
            nets: crate::backend::net::Nets::new(cfg),
        }
    }

    fn bundle(&self, name: &str) -> PathBuf {
        self.bundles.join(name)
    }

    /// The runtime's state directory, where it keeps one directory per container.
    fn root_dir(&self) -> PathBuf {
        self.root
            .clone()
            .unwrap_or_else(|| PathBuf::from("/run").join(self.runtime))
    }

    fn args(&self, rest: &[&str]) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        if let Some(r) = &self.root {
            a.push("--root".into());
            a.push(r.into());
        }
        a.extend(rest.iter().map(OsString::from));
        a
    }

    /// `<runtime> --log … run [extra] --bundle DIR NAME`, with the runtime's own
    /// log (JSON, emptied first) in the bundle, and that log's path.
    fn run_args(&self, name: &str, extra: &[&str]) -> (Vec<OsString>, PathBuf) {
        let dir = self.bundle(name);
        let log = dir.join(RUNTIME_LOG);
        let _ = std::fs::write(&log, "");
        let mut args: Vec<OsString> = vec![
            "--log".into(),
            log.clone().into(),
            "--log-format=json".into(),
        ];
        let bundle = dir.display().to_string();
        let mut rest = vec!["run"];
        rest.extend(extra);
        rest.extend(["--bundle", &bundle, name]);
        args.extend(self.args(&rest));
        (args, log)
    }

    fn run(&self, rest: &[&str], out: &Output) -> Result<crate::os::process::Outcome> {
        capture(&self.tool.find()?, self.args(rest), &|m| out.trace(m))
    }

    fn failure(&self, what: &str, text: &str) -> Error {
        let msg = runtime_message(text);
        let e = Error::failed(format!("{} {what} failed: {msg}", self.runtime));
        if msg.contains("hybrid mode") {
            // crun before 1.9 on a host with cgroup v1 and a v2 mount beside it.
            return e.with_hint("this crun cannot run on a host with cgroups in hybrid mode: use --backend runc or lxc, or a host with pure cgroup v2");
        }
        e
    }

    /// The runtime's view of one container; `None` when it does not know it.
    fn runtime_state(&self, name: &str, out: &Output) -> Result<Option<parse::RuntimeState>> {
        if !self.root_dir().join(name).exists() {
            return Ok(None);
        }
        let r = self.run(&["state", name], out)?;
        if !r.ok() {
            return Ok(None); // it went away between the two looks
        }
        parse::state(&r.stdout).map(Some).map_err(|e| {
            Error::failed(format!(
                "{} state printed something unexpected: {e}",
                self.runtime
            ))
        })
    }

    /// ctr-list's second half: the bundles' records, merged with what the runtime said.
    fn list_finish(
        &self,
        running: crate::os::process::Running,
        out: &Output,
    ) -> Result<Vec<Container>> {
        // While the runtime works, read what guestkit keeps beside each bundle.
        let sidecars = self.sidecars();
        let r = running.finish(&|m| out.trace(m))?;
        if !r.ok() {
            // A runtime that never ran anything has no state dir yet.
            if self.root_dir().exists() {
                return Err(self.failure("list", &r.stderr));
            }
        }
        let known = if r.ok() {
            parse::list(&r.stdout).map_err(|e| {
                Error::failed(format!(
                    "{} list printed something unexpected: {e}",
                    self.runtime
                ))
            })?
        } else {
            Vec::new()
        };
        Ok(self.merge(
            sidecars,
            known
                .into_iter()
                .map(|s| (parse::status(&s.status), Some(s.pid), s.id)),
        ))
    }

    /// What guestkit keeps beside each bundle, by name.
    fn sidecars(&self) -> HashMap<String, Option<Sidecar>> {
        self.bundle_names()
            .into_iter()
            .map(|n| {
                let side = self.sidecar(&n);
                (n, side)
            })
            .collect()
    }

    /// The records of the containers the runtime knows (status, pid, name),
    /// and of the bundles it does not know: stopped containers.
    fn merge(
        &self,
        mut sidecars: HashMap<String, Option<Sidecar>>,
        known: impl Iterator<Item = (Status, Option<u32>, String)>,
    ) -> Vec<Container> {
        let mut records: Vec<Container> = known
            .map(|(status, pid, name)| {
                let side = sidecars.remove(&name).flatten();
                self.record_with(&name, status, pid, side)
            })
            .collect();
        for (name, side) in sidecars {
            records.push(self.record_with(&name, Status::Stopped, None, side));
        }
        records
    }

    /// The listing without a runtime call, when guestkit's notes of the
    /// inits it started tell the state of every container the runtime
    /// knows (see `init`); `None` sends the caller to the runtime. An empty
    /// or missing runtime directory means no container runs.
    fn list_from_notes(&self, out: &Output) -> Option<Vec<Container>> {
        let mut known = vec![];
        let entries = match std::fs::read_dir(self.root_dir()) {
            Ok(entries) => Some(entries),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            // Unreadable: the runtime is to say why.
            Err(_) => return None,
        };
        for e in entries.into_iter().flatten() {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let entry = init::Entry::of(&e.path()).ok()?;
            let noted = init::Init::noted(&self.bundle(&name), entry);
            let Some((status, init)) = noted.and_then(|i| Some((i.status()?, i))) else {
                out.trace(&format!(
                    "{name}: no note of guestkit's tells its state: asking {}",
                    self.runtime
                ));
                return None;
            };
            known.push((status, Some(init.pid), name));
        }
        out.trace(&format!(
            "states from guestkit's notes of the inits it started: {} not run",
            self.runtime
        ));
        Some(self.merge(self.sidecars(), known.into_iter()))
    }

    /// Notes the init of the container `name` that a start just made.
    fn note_init(&self, name: &str, pid: u32) -> Result<()> {
        let dir = self.root_dir().join(name);
        let entry = init::Entry::of(&dir).map_err(|e| Error::io("cannot read", &dir, e))?;
        // The container's own cgroup, as config.json names it (its init
        // may move itself below it).
        let freezer = self
            .config(name)
            .and_then(|c| c.linux().as_ref()?.cgroups_path().clone())
            .and_then(|p| crate::backend::cgroup::freezer(&p));
        init::Init::note(&self.bundle(name), pid, entry, freezer)
    }

    fn sidecar(&self, name: &str) -> Option<Sidecar> {
        let bytes = std::fs::read(self.bundle(name).join(SIDECAR)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn record(&self, name: &str, status: Status, pid: Option<u32>) -> Container {
        self.record_with(name, status, pid, self.sidecar(name))
    }

    fn record_with(
        &self,
        name: &str,
        status: Status,
        pid: Option<u32>,
        side: Option<Sidecar>,
    ) -> Container {
        let mut c = Container::new(name, self.kind, status);
        c.pid = pid.filter(|p| *p > 0 && status != Status::Stopped);
        if status != Status::Stopped {
            c.ipv4 = self
                .nets
                .attachment(name)
                .and_then(|a| a.address)
                .map(|ip| ip.to_string())
                .into_iter()
                .collect();
        }
        if let Some(side) = side {
            c.image = side.image;
            c.created = side.created;
        }
        c
    }

    /// Waits until the container has stopped; false when `limit` passed first.
    fn wait_stopped(&self, name: &str, limit: Duration, out: &Output) -> Result<bool> {
        let start = Instant::now();
        loop {
            match self.runtime_state(name, out)? {
                Some(s) if parse::status(&s.status) != Status::Stopped => {}
                _ => return Ok(true),
            }
            if start.elapsed() >= limit {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, name: &str, signal: i32, out: &Output) -> Result<()> {
        let r = self.run(&["kill", name, &signal.to_string()], out)?;
        if !r.ok() {
            return Err(self.failure("kill", &r.stderr));
        }
        Ok(())
    }

    /// Forgets the runtime's record of an ended container, so it can run again.
    fn forget(&self, name: &str, out: &Output) -> Result<()> {
        init::Init::forget(&self.bundle(name));
        if !self.root_dir().join(name).exists() {
            return Ok(());
        }
        let r = self.run(&["delete", "--force", name], out)?;
        if !r.ok() && self.root_dir().join(name).exists() {
            return Err(self.failure("delete", &r.stderr));
        }
        Ok(())
    }

    fn spec(&self, spec: &CreateSpec, base: Option<Spec>, root: &Path) -> Result<Spec> {
        let bad =
            |e: oci_spec::OciSpecError| Error::failed(format!("cannot build config.json: {e}"));
        // A given bundle's own command is the default; oci-spec's default ("sh") is not.
        let has_base = base.is_some();
        let mut s = base.unwrap_or_default();
        s.set_hostname(Some(spec.name.clone()));
        s.set_root(Some(
            RootBuilder::default()
                .path("rootfs")
                .readonly(false)
                .build()
                .map_err(bad)?,
        ));
        let mut p = s.process().clone().unwrap_or_default();
        p.set_terminal(Some(spec.terminal));
        if let Some(d) = &spec.cwd {
            p.set_cwd(d.into());
        }
        if let Some(u) = &spec.user {
            let (uid, gid) = rootfs::user_ids(Some(root), u)?;
            let mut user = p.user().clone();
            user.set_uid(uid);
            user.set_gid(gid);
            p.set_user(user);
        }
        let args = if !spec.command.is_empty() {
            spec.command.clone()
        } else {
            match p.args().as_ref().filter(|a| has_base && !a.is_empty()) {
                Some(a) => a.clone(),
                None => vec!["/sbin/init".into()],
            }
        };
        // Without a command the image must have its init; a given command is
        // checked when it runs (127/126 then, as for lxc).
        if spec.command.is_empty() {
            rootfs::check_command(root, &args, DEFAULT_PATH).map_err(|e| {
                Error::invalid(format!("the image cannot run {:?}: {}", args[0], e.message))
                    .with_hint("give the command the container runs after --")
            })?;
        }
        p.set_args(Some(with_init(root, &spec.command, args, !spec.throwaway)));
        let mut env: Vec<String> = p
            .env()
            .clone()
            .unwrap_or_else(|| vec![format!("PATH={DEFAULT_PATH}")]);
        for (k, v) in &spec.env {
            env.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k.as_str()));
            env.push(format!("{k}={v}"));
        }
        p.set_env(Some(env));
        s.set_process(Some(p));
        let mounts = s.mounts_mut().get_or_insert_with(Vec::new);
        for m in &spec.mounts {
            let mut options = vec!["rbind".to_string()];
            options.push(if m.read_only { "ro" } else { "rw" }.into());
            mounts.push(
                MountBuilder::default()
                    .destination(&m.target)
                    .typ("bind")
                    .source(&m.source)
                    .options(options)
                    .build()
                    .map_err(bad)?,
            );
        }
        if spec.network.is_some() {
            for file in crate::backend::net::ETC_FILES {
                mounts.push(
                    MountBuilder::default()
                        .destination(format!("/etc/{file}"))
                        .typ("bind")
                        .source(self.nets.etc_file(&spec.name, file))
                        .options(vec!["rbind".to_string(), "rw".to_string()])
                        .build()
                        .map_err(bad)?,
                );
            }
        }
        let linux = s.linux_mut().get_or_insert_with(Default::default);
        if spec.network.is_some() {
            // The runtime joins the namespace the network was set up in.
            use oci_spec::runtime::{LinuxNamespaceBuilder, LinuxNamespaceType};
            let ns = linux.namespaces_mut().get_or_insert_with(Vec::new);
            ns.retain(|n| n.typ() != LinuxNamespaceType::Network);
            ns.push(
                LinuxNamespaceBuilder::default()
                    .typ(LinuxNamespaceType::Network)
                    .path(self.nets.netns(&spec.name))
                    .build()
                    .map_err(bad)?,
            );
        }
        linux.set_cgroups_path(Some(cgroup_path(self.runtime, &spec.name, root)));
        let resources = linux.resources_mut().get_or_insert_with(Default::default);
        if let Some(bytes) = spec.memory_bytes {
            resources.set_memory(Some(
                LinuxMemoryBuilder::default()
                    .limit(bytes as i64)
                    .build()
                    .map_err(bad)?,
            ));
        }
        if let Some(cpus) = spec.cpus {
            let quota = (cpus * 100_000.0).round() as i64;
            resources.set_cpu(Some(
                LinuxCpuBuilder::default()
                    .quota(quota)
                    .period(100_000u64)
                    .build()
                    .map_err(bad)?,
            ));
        }
        Ok(s)
    }

    /// Fills the bundle `dir` made by `create`, whose root is an overlay
    /// already when `overlaid`.
    fn create_in(
        &self,
        spec: &CreateSpec,
        image: &Image,
        cfg: &Config,
        dir: &Path,
        overlaid: bool,
        out: &Output,
    ) -> Result<()> {
        let root = dir.join("rootfs");
        let base = match image {
            Image::Bundle(b) => Some(bundle_spec(b)?),
            _ => None,
        };
        if !overlaid {
            image.unpack_into(&root, &cfg.cache_dir(), out)?;
        }
        let s = self.spec(spec, base, &root)?;
        s.save(dir.join("config.json")).map_err(|e| {
            Error::failed(format!(
                "cannot write {}: {e}",
                dir.join("config.json").display()
            ))
        })?;
        // Before the sidecar: a create killed during it leaves a bundle
        // without one, whose network the next create of any name removes.
        if let Some(join) = &spec.network {
            self.nets.attach(&spec.name, join, dir, out)?;
        }
        let side = Sidecar {
            image: Some(image.label()),
            created: Some(crate::guest::units::now_rfc3339()),
            command: (!spec.command.is_empty()).then(|| spec.command.clone()),
        };
        let p = dir.join(SIDECAR);
        std::fs::write(&p, Output::json_line(&side)).map_err(|e| Error::io("cannot write", &p, e))
    }

    /// Makes the root of the new bundle `dir`: already in place when it is a
    /// `spare` taken, else an empty rootfs/, with `lower` mounted on it when
    /// given. Whether the root is an overlay.
    fn make_root(
        &self,
        dir: &Path,
        spare: bool,
        lower: Option<&Path>,
        out: &Output,
    ) -> Result<bool> {
        if spare {
            return Ok(true);
        }
        std::fs::create_dir(dir.join("rootfs")).map_err(|e| Error::io("cannot create", dir, e))?;
        Ok(lower.is_some_and(|l| self.overlay(l, dir, out)))
    }

    /// For a throwaway container of a built-in image: the cached image as a
    /// read-only lower layer, writes in the bundle. False when that cannot be
    /// done here (no overlayfs, no privilege), and the image is copied instead.
    fn overlay(&self, lower: &Path, dir: &Path, out: &Output) -> bool {
        let (upper, work) = (dir.join("upper"), dir.join("work"));
        if std::fs::create_dir(&upper).is_err() {
            return false;
        }
        if std::fs::create_dir(&work).is_err() {
            let _ = std::fs::remove_dir(&upper);
            return false;
        }
        match crate::backend::oci::overlay::mount(lower, &upper, &work, &dir.join("rootfs")) {
            Ok(()) => {
                out.trace(&format!(
                    "mounted {} over {} at {}/rootfs",
                    upper.display(),
                    lower.display(),
                    dir.display()
                ));
                true
            }
            Err(e) => {
                out.trace(&format!(
                    "overlay mount failed ({}); copying the image",
                    plain_io(&e)
                ));
                let _ = std::fs::remove_dir(&upper);
                let _ = std::fs::remove_dir(&work);
                false
            }
        }
    }

    fn config(&self, name: &str) -> Option<Spec> {
        Spec::load(self.bundle(name).join("config.json")).ok()
    }

    /// Takes the spare root of key `key` as the new bundle `dir`, if there is one.
    fn take_spare(&self, key: &str, dir: &Path, out: &Output) -> bool {
        match crate::backend::oci::spare::take(&self.spares, key, dir) {
            Ok(taken) => {
                if taken {
                    out.trace(&format!(
                        "took the spare root {} as {}/rootfs",
                        self.spares.join(key).display(),
                        dir.display()
                    ));
                }
                taken
            }
            Err(e) => {
                out.trace(&format!(
                    "no spare root taken from {} ({})",
                    self.spares.display(),
                    plain_io(&e)
                ));
                false
            }
        }
    }

    /// Remembers the overlay root of the new bundle `dir`, and what it is
    /// like before its container runs, for `keep_spare`.
    fn remember_root(&self, dir: &Path, key: String, out: &Output) {
        match crate::backend::oci::spare::stamp(dir) {
            Ok(stamp) => {
                if let Ok(mut own) = self.own_root.lock() {
                    *own = Some(OwnRoot {
                        bundle: dir.to_path_buf(),
                        key,
                        stamp,
                    });
                }
            }
            Err(e) => out.trace(&format!(
                "{}/rootfs will not be kept as a spare: {}",
                dir.display(),
                plain_io(&e)
            )),
        }
    }

    /// The spare key of `dir`'s root, when this process made it an overlay.
    fn own_key(&self, dir: &Path) -> Option<String> {
        let own = self.own_root.lock().ok()?;
        own.as_ref()
            .filter(|o| o.bundle == dir)
            .map(|o| o.key.clone())
    }

    /// Keeps the overlay root of a throwaway container this process made, if
    /// the container changed nothing, as a spare for the next (`crate::backend::oci::spare`).
    fn keep_spare(&self, dir: &Path, out: &Output) -> bool {
        let own = self.own_root.lock().ok().and_then(|mut o| o.take());
        let Some(own) = own.filter(|o| o.bundle == dir) else {
            return false;
        };
        let spare = self.spares.join(&own.key);
        match crate::backend::oci::spare::keep(dir, &own.stamp, &self.spares, &own.key) {
            Ok(true) => {
                out.trace(&format!(
                    "kept {}/rootfs mounted, as {}",
                    dir.display(),
                    spare.display()
                ));
                true
            }
            Ok(false) => {
                out.trace(&format!(
                    "{}/rootfs is not kept as a spare: its container changed it, or it is in use",
                    dir.display()
                ));
                false
            }
            Err(e) => {
                out.trace(&format!(
                    "cannot keep {}/rootfs as {} ({})",
                    dir.display(),
                    spare.display(),
                    plain_io(&e)
                ));
                false
            }
        }
    }

    /// Removes a deleted container's bundle. One that holds only what guestkit
    /// and the kernel made (a throwaway run that wrote nothing: empty root and
    /// upper layer, unmounted for good) goes to the trash instead, for a later
    /// run to remove while it waits for its runtime (see `crate::backend::oci::trash`).
    fn discard(&self, dir: &Path, out: &Output) -> Result<()> {
        if self.keep_spare(dir, out) {
            return Ok(());
        }
        let root = dir.join("rootfs");
        let lazily = crate::backend::oci::overlay::unmount(&root)
            .map_err(|e| Error::io("cannot unmount", &root, e))?;
        let empty = crate::backend::oci::overlay::empty_dir;
        if !lazily && empty(&dir.join("upper")) && empty(&root) {
            match crate::backend::oci::trash::put(dir, &self.trash) {
                Ok(entry) => {
                    out.trace(&format!("moved {} to {}", dir.display(), entry.display()));
                    return Ok(());
                }
                Err(e) => out.trace(&format!(
                    "cannot move {} to {} ({}); removing it now",
                    dir.display(),
                    self.trash.display(),
                    plain_io(&e)
                )),
            }
        }
        remove_tree(dir)?;
        out.trace(&format!("removed {}", dir.display()));
        Ok(())
    }
}

/// Removes a bundle directory, unmounting an overlay root first.
fn remove_bundle(dir: &Path) -> Result<()> {
    let root = dir.join("rootfs");
    crate::backend::oci::overlay::unmount(&root)
        .map_err(|e| Error::io("cannot unmount", &root, e))?;
    remove_tree(dir)
}

fn remove_tree(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("cannot remove", dir, e))
        }
        _ => Ok(()),
    }
}

/// A command behind a small shell init that passes signals on to it (see
/// `FORWARD_SIGNALS`). Needs /bin/sh in the image; without it, or for the image's
/// own init, the command runs as it is. `"$@"` carries the arguments, so
/// nothing is re-quoted; stdin is kept (a background job's would be /dev/null).
///
/// With `record`, the wrapper also records how the command ended (see
/// `RECORD_EXIT`); a throwaway run's does not, as writing into its root would
/// keep it from being reused (spare.rs).
fn with_init(root: &Path, command: &[String], args: Vec<String>, record: bool) -> Vec<String> {
    if command.is_empty() || rootfs::resolve_in_root(root, "/bin/sh").is_none() {
        return args;
    }
    let script = format!(
        "exec 3<&0; \"$@\" <&3 3<&- & child=$!; {}; \
         while :; do wait $child 2>/dev/null; status=$?; kill -0 $child 2>/dev/null || {{ {}exit $status; }}; done",
        super::FORWARD_SIGNALS,
        if record {
            format!("{}; ", super::RECORD_EXIT)
        } else {
            String::new()
        }
    );
    let mut a: Vec<String> = vec![
        "/bin/sh".into(),
        "-c".into(),
        script,
        "guestkit-init".into(),
    ];
    a.extend(args);
    a
}

/// The container's cgroup, named so that no other container has it: the
/// runtimes' default is the container's name alone, which two containers of
/// one name share (one of crun and one of runc, or of two state
/// directories), each then writing into and removing the other's cgroup.
/// The bundle directory's inode tells them apart while it exists, and the
/// path is one level (nothing is left behind when the runtime removes it).
/// Whether `component` of a cgroup path is the container `name`'s own: the
/// last component of the cgroupsPath `cgroup_path` gives it,
/// `guestkit-RUNTIME-INODE-NAME`.
fn own_cgroup(runtime: &str, name: &str, component: &str) -> bool {
    component
        .strip_prefix("guestkit-")
        .and_then(|c| c.strip_prefix(runtime)?.strip_prefix('-'))
        .and_then(|c| c.strip_suffix(name)?.strip_suffix('-'))
        .is_some_and(|ino| !ino.is_empty() && ino.bytes().all(|b| b.is_ascii_digit()))
}

fn cgroup_path(runtime: &str, name: &str, root: &Path) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let bundle = root.parent().unwrap_or(root);
    let id = std::fs::metadata(bundle).map_or(0, |m| m.ino());
    PathBuf::from(format!("/guestkit-{runtime}-{id}-{name}"))
}

/// A bundle's config.json, read with serde_json itself: its errors say
/// where in the file ("line 1 column 2"), oci-spec's only "serde failed".
fn bundle_spec(bundle: &Path) -> Result<Spec> {
    let file = bundle.join("config.json");
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io("cannot read", &file, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::invalid(format!(
            "bad OCI bundle {}: config.json: {e}",
            bundle.display()
        ))
    })
}

/// The message of a runtime's error output: the last line, without runc's
/// `time=… level=error msg="…"` wrapping or crun's program prefix.
fn runtime_message(text: &str) -> String {
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output");
    if let Some(i) = line.find("msg=\"") {
        let msg = &line[i + 5..];
        return msg
            .rsplit_once('"')
            .map_or(msg, |(m, _)| m)
            .replace("\\\"", "\"");
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
        && let Some(m) = v.get("msg").and_then(|m| m.as_str())
    {
        return m.to_string();
    }
    line.trim_start_matches("crun: ").to_string()
}

impl Lister for Oci {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    fn check(&self) -> Result<()> {
        self.tool.find().map(|_| ())
    }

    fn list_start<'a>(&'a self, out: &'a Output) -> Result<Listing<'a>> {
        if let Some(records) = self.list_from_notes(out) {
            return Ok(Box::new(move || Ok(records)));
        }
        let running = crate::os::process::spawn_capture(
            &self.tool.find()?,
            self.args(&["list", "--format", "json"]),
            &|m| out.trace(m),
        )?;
        Ok(Box::new(move || self.list_finish(running, out)))
    }
}

impl Backend for Oci {
    fn inspect(&self, out: &Output) -> Result<String> {
        let program = self.tool.find()?;
        let r = crate::os::process::capture(&program, vec!["--version".into()], &|m| out.trace(m))?;
        let version = parse::version(&r.stdout)
            .filter(|_| r.ok())
            .ok_or_else(|| {
                Error::failed(format!(
                    "{} --version gave no version: {}",
                    self.runtime,
                    r.stderr.trim()
                ))
            })?;
        // crun refuses a hybrid host whose v2 hierarchy has controllers
        // (its libcrun_cgroup_enter; "cgroups in hybrid mode not supported").
        let v2 = crate::backend::cgroup::hybrid_v2_controllers();
        if self.kind == BackendKind::Crun && !v2.is_empty() {
            return Err(Error::unavailable(format!(
                "crun {version} cannot run containers on this host: its cgroups are in hybrid mode with controllers in the v2 hierarchy ({})",
                v2.join(", ")
            ))
            .with_hint("use backend runc or lxc here (default_backend in the config, or --backend); or boot the host with systemd.unified_cgroup_hierarchy=1 for pure cgroup v2"));
        }
        Ok(format!(
            "{} {version} ({})",
            self.runtime,
            program.display()
        ))
    }

    fn names(&self, _: &Output) -> Result<Vec<String>> {
        let mut names = self.bundle_names();
        if let Ok(entries) = std::fs::read_dir(self.root_dir()) {
            names.extend(entries.filter_map(|e| e.ok()?.file_name().into_string().ok()));
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn exists(&self, name: &str, _: &Output) -> bool {
        self.bundle(name).join(SIDECAR).is_file() || self.root_dir().join(name).is_dir()
    }

    fn status(&self, name: &str, out: &Output) -> Result<Status> {
        match self.runtime_state(name, out)? {
            Some(s) => Ok(parse::status(&s.status)),
            None if self.exists(name, out) => Ok(Status::Stopped),
            None => Err(Error::not_found(format!(
                "no such container in backend {}",
                self.runtime
            ))),
        }
    }

    fn state(&self, name: &str, out: &Output) -> Result<ContainerState> {
        let rs = self.runtime_state(name, out)?;
        if rs.is_none() && !self.exists(name, out) {
            return Err(Error::not_found(format!(
                "no such container in backend {}",
                self.runtime
            )));
        }
        let status = rs
            .as_ref()
            .map_or(Status::Stopped, |s| parse::status(&s.status));
        let config = self.config(name);
        let process = config.as_ref().and_then(|c| c.process().clone());
        let resources = config
            .as_ref()
            .and_then(|c| c.linux().clone())
            .and_then(|l| l.resources().clone());
        let cpus = resources
            .as_ref()
            .and_then(|r| r.cpu().clone())
            .and_then(|c| {
                let (q, p) = (c.quota()?, c.period()?);
                (q > 0 && p > 0).then(|| q as f64 / p as f64)
            });
        let log = self.bundle(name).join(LOG);
        let pid = rs
            .as_ref()
            .map(|s| s.pid)
            .filter(|p| *p > 0 && status != Status::Stopped);
        Ok(ContainerState {
            container: self.record(name, status, pid),
            hostname: config.as_ref().and_then(|c| c.hostname().clone()),
            command: self
                .sidecar(name)
                .and_then(|s| s.command)
                .or_else(|| process.and_then(|p| p.args().clone())),
            memory_bytes: pid.and_then(|p| {
                crate::backend::cgroup::memory_bytes(p, &|c| self.owns_cgroup(name, c))
            }),
            memory_limit_bytes: resources
                .as_ref()
                .and_then(|r| *r.memory())
                .and_then(|m| m.limit())
                .map(|l| l as u64),
            cpus,
            cpu_time_s: pid.and_then(|p| {
                crate::backend::cgroup::cpu_time_s(p, &|c| self.owns_cgroup(name, c))
            }),
            log_path: log.exists().then(|| log.display().to_string()),
            exit: if status == Status::Stopped {
                self.last_exit(name).unwrap_or_default()
            } else {
                Default::default()
            },
        })
    }

    fn create(&self, spec: &CreateSpec, image: &Image, cfg: &Config, out: &Output) -> Result<()> {
        if spec.bridge.is_some() {
            return Err(Error::usage(format!("--network bridge=… is not supported by {}", self.runtime))
                .with_hint("join a network guestkit makes (--network NAME, the default), or use --backend lxc for a veth on a bridge of your own"));
        }
        if spec.ephemeral {
            // OCI runtimes have no remove-on-exit, and guestkit runs no daemon to do it.
            return Err(Error::usage(format!(
                "ctr-run --detach --rm is not supported by {}",
                self.runtime
            ))
            .with_hint("run in the foreground with --rm, or delete it later with ctr-delete"));
        }
        let dir = self.bundle(&spec.name);
        // A throwaway container of a built-in image gets an overlay root: a
        // spare one if there is one (`crate::backend::oci::spare`), else one mounted here.
        let lower = match spec.throwaway {
            true => image.cached(&cfg.cache_dir(), out).ok().flatten(),
            false => None,
        };
        let key = lower
            .as_deref()
            .filter(|_| self.use_spares)
            .and_then(|l| crate::backend::oci::spare::key(l).ok());
        let spare = key
            .as_deref()
            .is_some_and(|k| self.take_spare(k, &dir, out));
        if !spare {
            crate::backend::image::claim_dir(&dir)?;
        }
        let made = self
            .make_root(&dir, spare, lower.as_deref(), out)
            .and_then(|overlaid| {
                self.create_in(spec, image, cfg, &dir, overlaid, out)?;
                Ok(overlaid)
            });
        if let (Ok(true), Some(key)) = (&made, key) {
            self.remember_root(&dir, key, out);
        }
        if made.is_err() {
            out.trace(&format!("create failed; removing {}", dir.display()));
            if let Err(e) = remove_bundle(&dir) {
                out.warn(&format!(
                    "could not clean up {}: {}",
                    dir.display(),
                    e.message
                ));
            }
            if let Err(e) = self.nets.detach(&spec.name, out) {
                out.warn(&format!(
                    "could not remove the network of {}: {}",
                    spec.name, e.message
                ));
            }
        }
        made.map(|_| ())
    }

    fn start(&self, name: &str, out: &Output) -> Result<()> {
        let dir = self.bundle(name);
        // The last run's end is not this one's.
        let _ = std::fs::remove_file(dir.join("rootfs").join(super::EXIT_FILE));
        // Checked first: the runtime's record of a container made by another
        // tool (podman, say) is not ours to delete.
        if !dir.join("config.json").is_file() {
            return Err(Error::conflict(format!(
                "{name} has no bundle in {}; it was not created by guestkit",
                self.bundles.display()
            )));
        }
        // A command that cannot run is the start's failure (127/126 in the
        // error's kind and message), not a container that stops unseen.
        if let Some(command) = self.sidecar(name).and_then(|s| s.command) {
            rootfs::check_command(&dir.join("rootfs"), &command, &self.path_of(name))
                .map_err(Error::without_exit)?;
        }
        self.forget(name, out)?;
        self.nets.rejoin(name, out)?;
        let open = |f: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(f))
                .map_err(|e| Error::io("cannot open", &dir.join(f), e))
        };
        let log = open(LOG)?;
        let (args, runtime_log) = self.run_args(name, &["--detach"]);
        let program = self.tool.find()?;
        out.trace(&format!(
            "+ {} >>{}",
            show(&program.display().to_string(), &args),
            dir.join(LOG).display()
        ));
        // The container keeps the runtime's stdout and stderr: its log file.
        let status = std::process::Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(
                log.try_clone()
                    .map_err(|e| Error::io("cannot open", &dir.join(LOG), e))?,
            )
            .stderr(log)
            .status()
            .map_err(|e| crate::os::process::cannot_run(&program, e))?;
        if !status.success() {
            let text = std::fs::read_to_string(&runtime_log).unwrap_or_default();
            let _ = self.forget(name, out);
            return Err(self
                .failure("run", &text)
                .with_hint(format!("details: {}", runtime_log.display())));
        }
        match self.runtime_state(name, out)? {
            Some(s) if parse::status(&s.status) != Status::Stopped => {
                if s.pid > 0 {
                    super::logclock::start(&dir.join(LOG), s.pid, out);
                    // Without the note, listings ask the runtime: slower, as right.
                    if let Err(e) = self.note_init(name, s.pid) {
                        out.trace(&e.to_string());
                    }
                }
                Ok(())
            }
            _ => Err(super::stopped_at_once(name, &dir.join(LOG))),
        }
    }

    fn stop(&self, name: &str, timeout_s: u64, force: bool, out: &Output) -> Result<()> {
        if !force {
            self.signal(name, libc::SIGTERM, out)?;
            if self.wait_stopped(name, Duration::from_secs(timeout_s), out)? {
                return Ok(());
            }
            out.trace("timed out waiting; sending SIGKILL");
        }
        // A container that ended in the meantime cannot be signalled; that is fine.
        if let Err(e) = self.signal(name, libc::SIGKILL, out)
            && self.status(name, out)? != Status::Stopped
        {
            return Err(e);
        }
        if !self.wait_stopped(name, Duration::from_secs(10), out)? {
            return Err(Error::timeout(
                "the container did not stop 10 seconds after SIGKILL",
            ));
        }
        Ok(())
    }

    fn kill(&self, name: &str, signal: i32, out: &Output) -> Result<()> {
        self.signal(name, signal, out)
    }

    fn owns_cgroup(&self, name: &str, component: &str) -> bool {
        own_cgroup(self.runtime, name, component)
    }

    /// Its address comes from guestkit's network alone: without one joined,
    /// none comes.
    fn networked(&self, name: &str, _: Option<u32>, _: &Output) -> Option<bool> {
        Some(self.nets.attachment(name).is_some())
    }

    fn limits(&self, name: &str, _: &Output) -> Result<Limits> {
        let spec = self.config(name).ok_or_else(|| {
            Error::not_found(format!("no such container in backend {}", self.runtime))
        })?;
        let r = spec.linux().as_ref().and_then(|l| l.resources().clone());
        let cpus = r.as_ref().and_then(|r| r.cpu().clone()).and_then(|c| {
            let (q, p) = (c.quota()?, c.period()?);
            (q > 0 && p > 0).then(|| q as f64 / p as f64)
        });
        Ok(Limits {
            memory_bytes: r
                .as_ref()
                .and_then(|r| *r.memory())
                .and_then(|m| m.limit())
                .filter(|l| *l > 0)
                .map(|l| l as u64),
            cpus,
            pids: r
                .as_ref()
                .and_then(|r| *r.pids())
                .map(|p| p.limit())
                .filter(|l| *l > 0)
                .map(|l| l as u64),
        })
    }

    fn update(&self, name: &str, l: &Limits, out: &Output) -> Result<()> {
        let quota = l.cpus.map(|c| (c * 100_000.0).round() as i64);
        if self.status(name, out)? != Status::Stopped {
            let mut args: Vec<String> = vec!["update".into()];
            if let Some(b) = l.memory_bytes {
                args.extend(["--memory".into(), b.to_string()]);
            }
            if let Some(q) = quota {
                args.extend([
                    "--cpu-period".into(),
                    "100000".into(),
                    "--cpu-quota".into(),
                    q.to_string(),
                ]);
            }
            if let Some(p) = l.pids {
                args.extend(["--pids-limit".into(), p.to_string()]);
            }
            args.push(name.into());
            let r = self.run(&args.iter().map(String::as_str).collect::<Vec<_>>(), out)?;
            if !r.ok() {
                return Err(self.failure("update", &r.stderr));
            }
        }
        // The bundle's config.json, so that the next start gets them too.
        let path = self.bundle(name).join("config.json");
        let mut spec = Spec::load(&path)
            .map_err(|e| Error::failed(format!("cannot read {}: {e}", path.display())))?;
        let bad =
            |e: oci_spec::OciSpecError| Error::failed(format!("cannot update config.json: {e}"));
        let mut linux = spec.linux().clone().unwrap_or_default();
        let mut res = linux.resources().clone().unwrap_or_default();
        if let Some(b) = l.memory_bytes {
            let mut m = res.memory().unwrap_or_default();
            m.set_limit(Some(b as i64));
            res.set_memory(Some(m));
        }
        if let Some(q) = quota {
            res.set_cpu(Some(
                LinuxCpuBuilder::default()
                    .quota(q)
                    .period(100_000u64)
                    .build()
                    .map_err(bad)?,
            ));
        }
        if let Some(p) = l.pids {
            res.set_pids(Some(
                oci_spec::runtime::LinuxPidsBuilder::default()
                    .limit(p as i64)
                    .build()
                    .map_err(bad)?,
            ));
        }
        linux.set_resources(Some(res));
        spec.set_linux(Some(linux));
        spec.save(&path)
            .map_err(|e| Error::failed(format!("cannot write {}: {e}", path.display())))
    }

    fn last_exit(&self, name: &str) -> Option<crate::guest::record::Exit> {
        // The root while it is mounted; the overlay's upper layer when not.
        let dir = self.bundle(name);
        super::read_exit(&dir.join("rootfs")).or_else(|| super::read_exit(&dir.join("upper")))
    }

    fn pause(&self, name: &str, out: &Output) -> Result<()> {
        let r = self.run(&["pause", name], out)?;
        if !r.ok() {
            return Err(self.failure("pause", &r.stderr));
        }
        Ok(())
    }

    fn resume(&self, name: &str, out: &Output) -> Result<()> {
        let r = self.run(&["resume", name], out)?;
        if !r.ok() {
            return Err(self.failure("resume", &r.stderr));
        }
        Ok(())
    }

    fn delete(&self, name: &str, out: &Output) -> Result<()> {
        self.forget(name, out)?;
        self.discard(&self.bundle(name), out)?;
        self.nets.detach(name, out).map(|_| ())
    }

    fn clear_leftover(&self, name: &str, out: &Output) -> Result<bool> {
        // Every directory here is guestkit's; a bundle is a container once
        // its guestkit.json is written, the last step of a create.
        let dir = self.bundle(name);
        if !dir.is_dir() || dir.join(SIDECAR).exists() {
            return Ok(false);
        }
        out.trace(&format!("removing the unfinished bundle {}", dir.display()));
        remove_bundle(&dir)?;
        self.nets.detach(name, out)?;
        Ok(true)
    }

    fn exec(&self, name: &str, spec: &ExecSpec, out: &Output) -> Result<i32> {
        let root = self.bundle(name).join("rootfs");
        let env = self
            .config(name)
            .and_then(|c| c.process().clone())
            .and_then(|p| p.env().clone())
            .unwrap_or_default();
        let path = spec
            .env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .or_else(|| {
                env.iter()
                    .find_map(|e| e.strip_prefix("PATH=").map(str::to_string))
            })
            .unwrap_or_else(|| DEFAULT_PATH.into());
        if root.is_dir() {
            rootfs::check_command(&root, &spec.command, &path)?;
        }
        let mut rest: Vec<String> = vec!["exec".into()];
        // The container's own environment, then --env: crun's exec replaces the
        // environment with the --env values instead of adding them.
        let own = env.iter().filter(|e| {
            !spec
                .env
                .iter()
                .any(|(k, _)| e.split_once('=').map(|(ek, _)| ek) == Some(k.as_str()))
        });
        for e in own {
            rest.push(format!("--env={e}"));
        }
        for (k, v) in &spec.env {
            rest.push(format!("--env={k}={v}"));
        }
        if let Some(d) = &spec.cwd {
            rest.push(format!("--cwd={d}"));
        }
        if let Some(u) = &spec.user {
            let (uid, gid) = rootfs::user_ids(root.is_dir().then_some(root.as_path()), u)?;
            rest.push(format!("--user={uid}:{gid}"));
        }
        if spec.tty {
            // The runtime makes the pseudo-terminal, proxies it, and passes
            // window size changes on; it restores the terminal when it ends.
            rest.push("--tty".into());
        }
        rest.push(name.into());
        rest.extend(spec.command.iter().cloned());
        let args = self.args(&rest.iter().map(String::as_str).collect::<Vec<_>>());
        crate::os::process::interactive(&self.tool.find()?, args, &|m| out.trace(m))
    }

    fn run_attached(&self, name: &str, command: &[String], out: &Output) -> Result<i32> {
        // The command is in the bundle's config.json, written at create.
        let dir = self.bundle(name);
        rootfs::check_command(&dir.join("rootfs"), command, &self.path_of(name))?;
        self.forget(name, out)?;
        self.nets.rejoin(name, out)?;
        let (args, runtime_log) = self.run_args(name, &[]);
        let program = self.tool.find()?;
        // With the caller's stdio; TERM and HUP sent to guestkit reach the runtime.
        // The runtime takes milliseconds to start: time to empty the trash,
        // and to remove spare roots of other images than this run's (all of
        // them when spares are turned off).
        let key = self.own_key(&dir);
        let sweep = || {
            let (n, mut failed) = crate::backend::oci::trash::sweep(
                &self.trash,
                crate::backend::oci::trash::MAX_PER_SWEEP,
            );
            if n > 0 {
                out.trace(&format!("removed {n} from {}", self.trash.display()));
            }
            if key.is_some() || !self.use_spares {
                let (n, f) = crate::backend::oci::spare::evict(&self.spares, key.as_deref());
                if n > 0 {
                    out.trace(&format!("removed {n} from {}", self.spares.display()));
                }
                failed.extend(f);
            }
            for f in failed {
                out.trace(&f);
            }
        };
        let seen = std::cell::Cell::new(0);
        let kill = |sig| self.signal(name, sig, out);
        let escalate = || super::escalate(name, &kill, out, &seen);
        let code = crate::os::process::interactive_meanwhile(
            &program,
            args,
            &|m| out.trace(m),
            &sweep,
            &escalate,
        )?;
        let log = std::fs::read_to_string(&runtime_log).unwrap_or_default();
        let _ = self.forget(name, out);
        // The command's own failure is its exit code; the runtime's is an error in its log.
        if code != 0 && log.lines().any(|l| l.contains("\"level\":\"error\"")) {
            return Err(self.failure("run", &log));
        }
        Ok(code)
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.bundle(name).join(LOG)
    }

    fn rootfs(&self, name: &str) -> Option<PathBuf> {
        Some(self.bundle(name).join("rootfs")).filter(|p| p.is_dir())
    }
}

impl Oci {
    /// The container's PATH, as its config.json sets it.
    fn path_of(&self, name: &str) -> String {
        self.config(name)
            .and_then(|c| c.process().clone())
            .and_then(|p| p.env().clone())
            .and_then(|env| {
                env.iter()
                    .find_map(|e| e.strip_prefix("PATH=").map(str::to_string))
            })
            .unwrap_or_else(|| DEFAULT_PATH.into())
    }

    fn bundle_names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.bundles) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(SIDECAR).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_container_owns_the_cgroup_named_for_it_alone() {
        let own = super::own_cgroup;
        assert!(own("crun", "web", "guestkit-crun-123-web"));
        assert!(own("crun", "web-1", "guestkit-crun-123-web-1"));
        assert!(own("crun", "app2", "guestkit-crun-9-app2"));
        // Another container's, whose name ends in this one's.
        assert!(!own("crun", "web", "guestkit-crun-123-a-web"));
        assert!(!own("crun", "web", "guestkit-crun-123-1-web"));
        // Another runtime's; no inode; a cgroup below.
        assert!(!own("crun", "web", "guestkit-runc-123-web"));
        assert!(!own("crun", "web", "guestkit-crun--web"));
        assert!(!own("crun", "web", "init.scope"));
        let path = super::cgroup_path("runc", "db", std::path::Path::new("/x/b/rootfs"));
        let last = path.file_name().unwrap().to_str().unwrap();
        assert!(own("runc", "db", last), "{last}");
    }

    #[test]
    fn runtime_messages() {
        assert_eq!(
            super::runtime_message(
                "time=\"2026-11-25T20:27:42Z\" level=error msg=\"container does not exist\"\n"
            ),
            "container does not exist"
        );
        assert_eq!(
            super::runtime_message("crun: cgroups in hybrid mode not supported"),
            "cgroups in hybrid mode not supported"
        );
        assert_eq!(
            super::runtime_message("{\"msg\":\"boom\",\"level\":\"error\"}"),
            "boom"
        );
    }
}
