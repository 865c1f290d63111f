//! The cluster's state: its VMs, their tasks and the clock tasks run on.
//! A task's effect on its VM applies when the task ends (`tick`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::server::{Fault, Options};

/// How the cluster's time passes (see the module's comment).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// Moved by clients' waits and by the test: no test sleeps through a task.
    #[default]
    Virtual,
    /// The wall clock: tasks take their duration in real time (the benchmark).
    Wall,
}

#[derive(Clone, Debug)]
pub struct Vm {
    pub vmid: u32,
    pub node: String,
    pub name: Option<String>,
    pub running: bool,
    pub template: bool,
    pub lock: Option<String>,
    pub tags: Vec<String>,
    pub pool: Option<String>,
    pub config: BTreeMap<String, String>,
    pub started: Option<Instant>,
    /// The error a start task ends with, and the log lines before it.
    pub fail_start: Option<(String, Vec<String>)>,
    /// The guest ignores ACPI shutdown requests.
    pub ignores_shutdown: bool,
    /// QEMU is paused (status running, qmpstatus paused).
    pub paused: bool,
    /// Managed by HA: start and stop are hastart/hastop tasks that end
    /// before the guest changes state.
    pub ha_managed: bool,
    /// A start that succeeds with this many warnings.
    pub start_warnings: u32,
    /// Fields its entries in /cluster/resources and status/current carry
    /// as given here instead (a value of the wrong kind, for a test).
    pub garbled: BTreeMap<&'static str, serde_json::Value>,
    /// Changes that wait for the next start: a value, or None to delete.
    pub pending: BTreeMap<String, Option<String>>,
    pub snapshots: Vec<Snapshot>,
    /// The snapshot the current state derives from.
    pub parent: Option<String>,
    /// The QEMU guest agent inside the guest, when it has one.
    pub agent: Option<Agent>,
    /// A migration that fails half-way with this error and log lines,
    /// leaving the VM on its node.
    pub fail_migrate: Option<(String, Vec<String>)>,
    /// A container (pve-container) rather than a VM: its name is its
    /// hostname, its endpoints are /nodes/{node}/lxc/{vmid}.
    pub lxc: bool,
}

#[derive(Clone, Debug)]
pub struct Snapshot {
    pub name: String,
    pub parent: Option<String>,
    pub snaptime: u64,
    pub vmstate: bool,
    pub description: String,
    pub config: BTreeMap<String, String>,
    pub running: bool,
}

/// The guest agent of a VM (the guest's side; `agent=1` in the config is
/// the host's).
#[derive(Clone, Debug, Default)]
pub struct Agent {
    /// How long after the VM starts the agent answers.
    pub up_after: Duration,
    /// How long after the agent is up the first interface has an address.
    pub ip_after: Duration,
    /// Every command to it times out (a hung agent).
    pub hangs: bool,
    pub(crate) next_pid: u32,
    pub(crate) procs: BTreeMap<u32, Proc>,
}

impl Agent {
    /// An agent that answers `up_after` a start, and reports an address
    /// `ip_after` that.
    pub fn booting(up_after: Duration, ip_after: Duration) -> Agent {
        Agent {
            up_after,
            ip_after,
            ..Agent::default()
        }
    }

    /// An agent whose every command times out.
    pub fn hung() -> Agent {
        Agent {
            hangs: true,
            ..Agent::default()
        }
    }
}

/// A command the agent runs (guest-exec).
#[derive(Clone, Debug)]
pub(crate) struct Proc {
    pub(crate) ends: Instant,
    pub(crate) out: String,
    pub(crate) err: String,
    pub(crate) exitcode: Option<i64>,
    pub(crate) signal: Option<i64>,
}

impl Vm {
    pub fn new(vmid: u32, node: &str, name: &str) -> Vm {
        let mut config = BTreeMap::new();
        config.insert("name".into(), name.into());
        config.insert("memory".into(), "2048".into());
        config.insert("cores".into(), "2".into());
        config.insert("sockets".into(), "1".into());
        config.insert(
            "scsi0".into(),
            format!("local-lvm:vm-{vmid}-disk-0,size=32G"),
        );
        config.insert(
            "net0".into(),
            "virtio=BC:24:11:00:00:01,bridge=vmbr0".into(),
        );
        config.insert("ostype".into(), "l26".into());
        Vm {
            vmid,
            node: node.into(),
            name: Some(name.into()),
            running: false,
            template: false,
            lock: None,
            tags: vec![],
            pool: None,
            config,
            started: None,
            fail_start: None,
            ignores_shutdown: false,
            paused: false,
            ha_managed: false,
            start_warnings: 0,
            garbled: BTreeMap::new(),
            pending: BTreeMap::new(),
            snapshots: vec![],
            parent: None,
            agent: None,
            fail_migrate: None,
            lxc: false,
        }
    }

    /// Applies the changes that waited for a start (a stop and start, or a
    /// reboot): qemu-server's vmconfig_apply_pending.
    pub(crate) fn apply_pending(&mut self) {
        for (k, v) in std::mem::take(&mut self.pending) {
            match v {
                Some(v) => {
                    self.config.insert(k, v);
                }
                None => {
                    self.config.remove(&k);
                }
            }
        }
    }

    /// A stopped container made from a Debian template, as `pct create`
    /// leaves one.
    pub fn container(vmid: u32, node: &str, hostname: &str) -> Vm {
        let mut vm = Vm::new(vmid, node, hostname);
        vm.lxc = true;
        vm.config.clear();
        for (k, v) in [
            ("arch", "amd64".to_string()),
            ("cores", "1".into()),
            ("hostname", hostname.into()),
            ("memory", "512".into()),
            ("swap", "512".into()),
            ("ostype", "debian".into()),
            ("rootfs", format!("local-lvm:vm-{vmid}-disk-0,size=8G")),
            (
                "net0",
                "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:01,ip=dhcp,type=veth".into(),
            ),
            ("unprivileged", "1".into()),
        ] {
            vm.config.insert(k.into(), v);
        }
        vm
    }

    pub(crate) fn memory_bytes(&self) -> u64 {
        let mib: u64 = self
            .config
            .get("memory")
            .and_then(|m| {
                m.trim_start_matches("current=")
                    .split(',')
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(512);
        mib * 1024 * 1024
    }

    pub(crate) fn disk_bytes(&self) -> u64 {
        self.config
            .iter()
            .filter(|(k, _)| {
                k.starts_with("scsi")
                    || k.starts_with("virtio")
                    || k.starts_with("sata")
                    || *k == "rootfs"
            })
            .filter_map(|(_, v)| v.split(',').find_map(|p| p.strip_prefix("size=")))
            .filter_map(|s| s.trim_end_matches('G').parse::<u64>().ok())
            .sum::<u64>()
            * 1024
            * 1024
            * 1024
    }

    pub(crate) fn cpus(&self) -> u64 {
        let n = |k: &str| {
            self.config
                .get(k)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1)
        };
        n("cores") * n("sockets")
    }
}

/// A storage, the same on every node.
#[derive(Clone, Debug)]
pub struct Storage {
    pub name: &'static str,
    pub kind: &'static str,
    /// What it may hold: `images,rootdir`.
    pub content: &'static str,
    pub avail_gib: u64,
    pub active: bool,
    pub enabled: bool,
}

impl Storage {
    pub fn new(
        name: &'static str,
        kind: &'static str,
        content: &'static str,
        avail_gib: u64,
    ) -> Storage {
        Storage {
            name,
            kind,
            content,
            avail_gib,
            active: true,
            enabled: true,
        }
    }

    pub(crate) fn holds(&self, content: &str) -> bool {
        self.content.split(',').any(|c| c == content)
    }
}

pub(crate) struct Task {
    pub(crate) upid: String,
    pub(crate) node: String,
    pub(crate) kind: String,
    pub(crate) vmid: u32,
    pub(crate) user: String,
    pub(crate) starttime: u64,
    pub(crate) started: Instant,
    pub(crate) duration: Duration,
    pub(crate) done: bool,
    /// Held by the test (`hold_tasks`): it does not end until released.
    pub(crate) held: bool,
    pub(crate) exitstatus: Option<String>,
    pub(crate) log: Vec<String>,
    pub(crate) effect: Effect,
}

impl Task {
    pub(crate) fn end(&self) -> Instant {
        self.started + self.duration
    }
}

#[derive(Clone)]
pub(crate) enum Effect {
    Start,
    Resume,
    /// Freezes a running guest (a container's suspend).
    Pause,
    /// An HA task: when it ends, the HA manager runs the real one.
    Ha(Box<Effect>, &'static str),
    Stop,
    Shutdown {
        timeout: Duration,
        force: bool,
    },
    Reboot,
    Create,
    Destroy,
    Clone {
        newid: u32,
    },
    /// The task's work was done when it began, and nothing is left to do.
    Done,
    Migrate {
        target: String,
        storage: Option<String>,
    },
    Snapshot {
        name: String,
        vmstate: bool,
        description: String,
    },
    Rollback {
        name: String,
        start: bool,
    },
    DelSnapshot {
        name: String,
    },
    Fail(String),
    /// A create that fails, leaving its guest behind, unlocked: as one
    /// whose own cleanup did not finish would.
    FailCreate(String),
}

pub(crate) struct Ticket {
    pub(crate) user: String,
    pub(crate) csrf: String,
    pub(crate) expires: Instant,
}

#[derive(Default)]
pub(crate) struct Cluster {
    pub(crate) vms: BTreeMap<u32, Vm>,
    pub(crate) tasks: HashMap<String, Task>,
    pub(crate) tickets: HashMap<String, Ticket>,
    pub(crate) pid: u32,
    pub(crate) faults: VecDeque<(String, Fault)>,
    /// The next container create task fails with this, half-way: its
    /// container is left behind (see `Effect::FailCreate`).
    pub(crate) fail_create: Option<String>,
    /// Entries /cluster/resources carries after the guests' (junk, for a test).
    pub(crate) junk: Vec<serde_json::Value>,
    /// Creates that find their VMID taken by a faster creator.
    pub(crate) lost_races: usize,
    pub(crate) task_duration: Duration,
    pub(crate) clock: Clock,
    /// The virtual clock: when it started, and how far it has moved.
    pub(crate) epoch: Option<Instant>,
    pub(crate) elapsed: Duration,
    /// New tasks are held until the test releases them.
    pub(crate) hold: bool,
    /// What the last request about each VM was, for the waits that move
    /// the virtual clock.
    pub(crate) last: HashMap<u32, Seen>,
}

/// The last request about a VM.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// GET status/current.
    State,
    /// A write the VM's lock refused.
    Refused,
    /// A question to its guest agent that found it not ready.
    AgentNotReady,
    Other,
}

impl Cluster {
    pub(crate) fn now(&self) -> Instant {
        match (self.clock, self.epoch) {
            (Clock::Virtual, Some(e)) => e + self.elapsed,
            _ => Instant::now(),
        }
    }

    /// Moves the virtual clock on to `to` (never back), and ends the tasks
    /// whose time has come.
    pub(crate) fn move_to(&mut self, to: Instant) {
        if let (Clock::Virtual, Some(e)) = (self.clock, self.epoch) {
            self.elapsed = self.elapsed.max(to.saturating_duration_since(e));
        }
        tick(self);
    }

    /// A client waits for this task: the clock moves to its end.
    pub(crate) fn wait_for_task(&mut self, upid: &str) {
        if let Some(end) = self
            .tasks
            .get(upid)
            .filter(|t| !t.done && !t.held)
            .map(Task::end)
        {
            self.move_to(end);
        }
    }

    /// A client waits for a guest: the clock moves to the end of its
    /// earliest running task.
    pub(crate) fn wait_for_vm(&mut self, vmid: u32) {
        if let Some(end) = self
            .tasks
            .values()
            .filter(|t| !t.done && !t.held && t.vmid == vmid)
            .map(Task::end)
            .min()
        {
            self.move_to(end);
        }
    }

    /// Notes what a request about a VM was, and says what it was before.
    pub(crate) fn seen(&mut self, vmid: u32, now: Seen) -> Option<Seen> {
        self.last.insert(vmid, now)
    }
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(crate) fn ha(vm: &Vm, kind: &'static str, effect: Effect) -> (&'static str, Effect) {
    if !vm.ha_managed || matches!(effect, Effect::Fail(_)) {
        return (kind, effect);
    }
    let ha_kind = if kind == "qmstart" {
        "hastart"
    } else {
        "hastop"
    };
    (ha_kind, Effect::Ha(Box::new(effect), kind))
}

pub(crate) fn new_task(
    c: &mut Cluster,
    opts: &Options,
    node: &str,
    kind: &str,
    vmid: u32,
    user: &str,
    effect: Effect,
) -> String {
    c.pid += 1;
    let start = now_unix();
    let upid = format!(
        "UPID:{node}:{:08X}:{:08X}:{:08X}:{kind}:{vmid}:{user}:",
        c.pid,
        c.pid * 7,
        start
    );
    let mut duration = opts.task_duration;
    if matches!(effect, Effect::Ha(..)) {
        duration /= 4;
    }
    if let Effect::Shutdown { timeout, .. } = &effect
        && c.vms.get(&vmid).is_some_and(|v| v.ignores_shutdown)
    {
        duration = *timeout;
    }
    let log = match &effect {
        Effect::Fail(_) => c
            .vms
            .get(&vmid)
            .and_then(|v| v.fail_start.as_ref().map(|(_, l)| l.clone()))
            .unwrap_or_default(),
        Effect::Migrate { target, .. } => {
            let mut log = vec![format!(
                "starting migration of VM {vmid} to node '{target}'"
            )];
            if let Some((_, lines)) = c.vms.get(&vmid).and_then(|v| v.fail_migrate.as_ref()) {
                log.extend(lines.iter().cloned());
            }
            log
        }
        _ => vec![],
    };
    c.tasks.insert(
        upid.clone(),
        Task {
            upid: upid.clone(),
            node: node.into(),
            kind: kind.into(),
            vmid,
            user: user.into(),
            starttime: start,
            started: c.now(),
            duration,
            done: false,
            held: c.hold,
            exitstatus: None,
            log,
            effect,
        },
    );
    upid
}

/// Finishes the tasks whose time has come and applies their effects.
pub(crate) fn tick(c: &mut Cluster) {
    let now = c.now();
    let due: Vec<String> = c
        .tasks
        .values()
        .filter(|t| !t.done && !t.held && t.end() <= now)
        .map(|t| t.upid.clone())
        .collect();
    for upid in due {
        let (vmid, effect) = {
            let t = &c.tasks[&upid];
            (t.vmid, t.effect.clone())
        };
        // Ok(warnings) or the task's error.
        let mut outcome: Result<u32, String> = Ok(0);
        match effect {
            Effect::Start => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.running = true;
                    v.started = Some(now);
                    v.apply_pending();
                    outcome = Ok(v.start_warnings);
                }
            }
            Effect::Pause => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.paused = true;
                }
            }
            Effect::Resume => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.paused = false;
                }
            }
            Effect::Ha(inner, kind) => {
                let (node, user) = {
                    let t = &c.tasks[&upid];
                    (t.node.clone(), t.user.clone())
                };
                let opts = Options {
                    task_duration: c.task_duration,
                    ..Options::default()
                };
                if kind == "qmigrate"
                    && let Some(v) = c.vms.get_mut(&vmid)
                {
                    v.lock = Some("migrate".into());
                }
                new_task(c, &opts, &node, kind, vmid, &user, *inner);
            }
            Effect::Stop => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.running = false;
                    v.paused = false;
                }
            }
            Effect::Shutdown { force, .. } => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    if v.ignores_shutdown && !force {
                        outcome = Err("VM quit/powerdown failed - got timeout".into());
                    } else {
                        v.running = false;
                    }
                }
            }
            Effect::Reboot => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.started = Some(now);
                    v.apply_pending();
                }
            }
            Effect::Create => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.lock = None;
                }
            }
            Effect::Destroy => {
                c.vms.remove(&vmid);
            }
            Effect::Clone { newid } => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.lock = None;
                }
                if let Some(v) = c.vms.get_mut(&newid) {
                    v.lock = None;
                }
            }
            Effect::Done => {}
            Effect::Migrate { target, storage } => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.lock = None;
                    match v.fail_migrate.take() {
                        Some((e, _)) => outcome = Err(e),
                        None => {
                            v.node = target;
                            if let Some(st) = storage {
                                for val in v.config.values_mut() {
                                    if let Some((from, rest)) = val.split_once(':')
                                        && rest.starts_with(&format!("vm-{vmid}-disk-"))
                                        && from != st
                                    {
                                        *val = format!("{st}:{rest}");
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Effect::Snapshot {
                name,
                vmstate,
                description,
            } => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.lock = None;
                    v.snapshots.push(Snapshot {
                        name: name.clone(),
                        parent: v.parent.clone(),
                        snaptime: now_unix(),
                        vmstate: vmstate && v.running,
                        description,
                        config: v.config.clone(),
                        running: v.running,
                    });
                    v.parent = Some(name);
                }
            }
            Effect::Rollback { name, start } => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.lock = None;
                    if let Some(snap) = v.snapshots.iter().find(|s| s.name == name).cloned() {
                        v.config = snap.config;
                        v.pending.clear();
                        v.parent = Some(name);
                        // With its RAM state the VM is back as it ran; else
                        // it is stopped, unless asked to start.
                        v.running = (snap.vmstate && snap.running) || start;
                        v.paused = false;
                        v.started = v.running.then_some(now);
                    }
                }
            }
            Effect::DelSnapshot { name } => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.lock = None;
                    let parent = v
                        .snapshots
                        .iter()
                        .find(|s| s.name == name)
                        .and_then(|s| s.parent.clone());
                    v.snapshots.retain(|s| s.name != name);
                    for s in &mut v.snapshots {
                        if s.parent.as_deref() == Some(name.as_str()) {
                            s.parent = parent.clone();
                        }
                    }
                    if v.parent.as_deref() == Some(name.as_str()) {
                        v.parent = parent;
                    }
                }
            }
            Effect::Fail(e) => outcome = Err(e),
            Effect::FailCreate(e) => {
                if let Some(v) = c.vms.get_mut(&vmid) {
                    v.lock = None;
                }
                outcome = Err(e);
            }
        }
        let t = c.tasks.get_mut(&upid).unwrap();
        t.done = true;
        match outcome {
            Ok(0) => {
                t.log.push("TASK OK".into());
                t.exitstatus = Some("OK".into());
            }
            Ok(n) => {
                for i in 1..=n {
                    t.log.push(format!("WARN: a warning ({i})"));
                }
                t.log.push(format!("TASK WARNINGS: {n}"));
                t.exitstatus = Some(format!("WARNINGS: {n}"));
            }
            Err(e) => {
                t.log.push(format!("TASK ERROR: {e}"));
                t.exitstatus = Some(e);
            }
        }
    }
}
