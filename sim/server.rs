//! An in-process HTTPS server that behaves like a Proxmox VE cluster of
//! several nodes, for the vm-* tests and the benchmark (test support, not
//! product). Each node has its own listener and its own self-signed
//! certificate, made at start-up, so fingerprint pinning is tested for real.
//!
//! Faithfulness: every request is validated against the official schema
//! (schema.rs) and refused with the server's own texts; a request the schema
//! rejects is recorded and fails the test that made it (see `Drop`).
//! Behaviour follows docs/proxmox.md and the API notes: the envelope, error
//! reason phrases and bodies, tickets and CSRF, tasks with UPIDs that take
//! time and hold the guest's lock, 595/596, nextid that does not reserve.
//!
//! Faults a test can inject: latency per request, the next matching request
//! answered with a status (5xx, 596) or a dropped connection (before or after
//! carrying it out), a node that is down, a config lock, a start that fails,
//! a guest that ignores shutdown, expiring tickets, a lost nextid race.
//!
//! Time: tasks take time, and a test should not sleep through it. In the
//! default `Clock::Virtual`, the cluster's clock stands still until a client
//! waits, and then jumps to the moment the client waits for, as if it had
//! waited exactly that long: to a task's end when the client polls the
//! task's status; to the end of a guest's earliest running task when the
//! client asks for the guest's state a second time in a row (`vm-wait`, and
//! the wait after an HA task), or tries a second time in a row a write that
//! the guest's lock refused (the lock-wait retry). So a client that looks
//! once (`vm-stop --hard` deciding whether a shutdown runs) sees the task
//! still running, and one that waits sees it end, with no wall-clock wait
//! in between. A test can hold new tasks (`hold_tasks`) until it lets them
//! go (`release_tasks`), and move the clock itself (`advance`).
//! `Clock::Wall` (the benchmark's) runs tasks on the wall clock instead.

use super::schema::{Refusal, Schema};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const TOKEN: &str = "ops@pve!ci=5ecret-70ken";
pub const USER: &str = "root@pam";
pub const PASSWORD: &str = "pa55word";

#[derive(Clone)]
pub struct Options {
    pub nodes: Vec<&'static str>,
    /// Nodes whose API does not answer (their port refuses connections).
    pub down: Vec<&'static str>,
    pub task_duration: Duration,
    pub latency: Duration,
    /// The delay of every 401, as the real server's 3 s (short in tests).
    pub auth_delay: Duration,
    pub ticket_lifetime: Duration,
    /// Errors only in the reason phrase, as servers before 2025 sent them.
    pub old_errors: bool,
    pub clock: Clock,
}

/// How the cluster's time passes (see the module's comment).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// Moved by clients' waits and by the test: no test sleeps through a task.
    #[default]
    Virtual,
    /// The wall clock: tasks take their duration in real time (the benchmark).
    Wall,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nodes: vec!["pve1", "pve2", "pve3"],
            down: vec![],
            task_duration: Duration::from_millis(150),
            latency: Duration::ZERO,
            auth_delay: Duration::from_millis(20),
            ticket_lifetime: Duration::from_secs(7200),
            old_errors: false,
            clock: Clock::Virtual,
        }
    }
}

/// What the next request whose path contains `path` gets instead of an answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// This status with this message (empty body for 595/596, as pveproxy).
    Status(u16, &'static str),
    /// Close the connection without answering, and do nothing.
    Drop,
    /// Carry the request out, then close the connection without answering.
    DropAfter,
    /// Carry the request out, then answer with this status (596 while the
    /// operation goes on, as pveproxy does).
    StatusAfter(u16, &'static str),
    /// Every ticket expires just before this request is read.
    ExpireTickets,
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
        }
    }

    fn memory_bytes(&self) -> u64 {
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

    fn disk_bytes(&self) -> u64 {
        self.config
            .iter()
            .filter(|(k, _)| {
                k.starts_with("scsi") || k.starts_with("virtio") || k.starts_with("sata")
            })
            .filter_map(|(_, v)| v.split(',').find_map(|p| p.strip_prefix("size=")))
            .filter_map(|s| s.trim_end_matches('G').parse::<u64>().ok())
            .sum::<u64>()
            * 1024
            * 1024
            * 1024
    }

    fn cpus(&self) -> u64 {
        let n = |k: &str| {
            self.config
                .get(k)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1)
        };
        n("cores") * n("sockets")
    }
}

struct Task {
    upid: String,
    node: String,
    kind: String,
    vmid: u32,
    user: String,
    starttime: u64,
    started: Instant,
    duration: Duration,
    done: bool,
    /// Held by the test (`hold_tasks`): it does not end until released.
    held: bool,
    exitstatus: Option<String>,
    log: Vec<String>,
    effect: Effect,
}

impl Task {
    fn end(&self) -> Instant {
        self.started + self.duration
    }
}

#[derive(Clone)]
enum Effect {
    Start,
    Resume,
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
    Fail(String),
}

struct Ticket {
    user: String,
    csrf: String,
    expires: Instant,
}

#[derive(Default)]
struct Cluster {
    vms: BTreeMap<u32, Vm>,
    tasks: HashMap<String, Task>,
    tickets: HashMap<String, Ticket>,
    pid: u32,
    faults: VecDeque<(String, Fault)>,
    /// Creates that find their VMID taken by a faster creator.
    lost_races: usize,
    task_duration: Duration,
    clock: Clock,
    /// The virtual clock: when it started, and how far it has moved.
    epoch: Option<Instant>,
    elapsed: Duration,
    /// New tasks are held until the test releases them.
    hold: bool,
    /// What the last request about each VM was, for the waits that move
    /// the virtual clock.
    last: HashMap<u32, Seen>,
}

/// The last request about a VM.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// GET status/current.
    State,
    /// A write the VM's lock refused.
    Refused,
    Other,
}

impl Cluster {
    fn now(&self) -> Instant {
        match (self.clock, self.epoch) {
            (Clock::Virtual, Some(e)) => e + self.elapsed,
            _ => Instant::now(),
        }
    }

    /// Moves the virtual clock on to `to` (never back), and ends the tasks
    /// whose time has come.
    fn move_to(&mut self, to: Instant) {
        if let (Clock::Virtual, Some(e)) = (self.clock, self.epoch) {
            self.elapsed = self.elapsed.max(to.saturating_duration_since(e));
        }
        tick(self);
    }

    /// A client waits for this task: the clock moves to its end.
    fn wait_for_task(&mut self, upid: &str) {
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
    fn wait_for_vm(&mut self, vmid: u32) {
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
    fn seen(&mut self, vmid: u32, now: Seen) -> Option<Seen> {
        self.last.insert(vmid, now)
    }
}

struct Shared {
    opts: Mutex<Options>,
    cluster: Mutex<Cluster>,
    refused: Mutex<Vec<String>>,
    /// The errors lock refusals answered with, in order.
    refusals: Mutex<Vec<String>>,
    requests: Mutex<Vec<String>>,
    allow_refusals: AtomicBool,
    connections: std::sync::atomic::AtomicUsize,
}

pub struct Sim {
    shared: Arc<Shared>,
    /// `https://127.0.0.1:PORT`, one per node, in node order.
    pub urls: Vec<String>,
    /// Each node's certificate fingerprint, `AA:BB:…`.
    pub fingerprints: Vec<String>,
    /// The PEM of the cluster CA that signed every node's certificate.
    pub ca_pem: String,
    /// The ports of the nodes that are down, held while the cluster lives.
    _down: Vec<std::os::fd::OwnedFd>,
}

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(Schema::official)
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Sim {
    pub fn start(opts: Options) -> Sim {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Proxmox Virtual Environment");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let shared = Arc::new(Shared {
            opts: Mutex::new(opts.clone()),
            cluster: Mutex::new(Cluster {
                pid: 4000,
                clock: opts.clock,
                epoch: Some(Instant::now()),
                ..Default::default()
            }),
            refused: Mutex::new(vec![]),
            refusals: Mutex::new(vec![]),
            requests: Mutex::new(vec![]),
            allow_refusals: AtomicBool::new(false),
            connections: Default::default(),
        });
        let mut urls = vec![];
        let mut fingerprints = vec![];
        let mut down = vec![];
        for node in &opts.nodes {
            let key = rcgen::KeyPair::generate().expect("key");
            let mut params = rcgen::CertificateParams::new(vec![
                node.to_string(),
                "localhost".into(),
                "127.0.0.1".into(),
            ])
            .expect("params");
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, format!("{node}.example"));
            let cert = params.signed_by(&key, &issuer).expect("certificate");
            let der = cert.der().to_vec();
            fingerprints.push(fingerprint(&der));
            if opts.down.contains(node) {
                // A port held but not listened on: connections are refused,
                // and no other listener (another test's) can take it.
                let (socket, addr) = down_port();
                urls.push(format!("https://{addr}"));
                down.push(socket);
                continue;
            }
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("address");
            urls.push(format!("https://{addr}"));
            let config = Arc::new(
                ServerConfig::builder()
                    .with_no_client_auth()
                    .with_single_cert(
                        vec![
                            CertificateDer::from(der),
                            CertificateDer::from(ca.der().to_vec()),
                        ],
                        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
                    )
                    .expect("TLS config"),
            );
            let shared = shared.clone();
            let node = node.to_string();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let (shared, config, node) = (shared.clone(), config.clone(), node.clone());
                    std::thread::spawn(move || serve(stream, config, &shared, &node));
                }
            });
        }
        Sim {
            shared,
            urls,
            fingerprints,
            ca_pem: ca.pem(),
            _down: down,
        }
    }

    pub fn add_vm(&self, vm: Vm) {
        self.shared.cluster.lock().unwrap().vms.insert(vm.vmid, vm);
    }

    /// Changes a VM in place (lock it, make its start fail, …).
    pub fn with_vm<R>(&self, vmid: u32, f: impl FnOnce(&mut Vm) -> R) -> R {
        let mut c = self.shared.cluster.lock().unwrap();
        tick(&mut c);
        f(c.vms.get_mut(&vmid).expect("the VM exists"))
    }

    pub fn vm(&self, vmid: u32) -> Option<Vm> {
        let mut c = self.shared.cluster.lock().unwrap();
        tick(&mut c);
        c.vms.get(&vmid).cloned()
    }

    pub fn vmids(&self) -> Vec<u32> {
        let mut c = self.shared.cluster.lock().unwrap();
        tick(&mut c);
        c.vms.keys().copied().collect()
    }

    pub fn fault(&self, path: &str, f: Fault) {
        self.shared
            .cluster
            .lock()
            .unwrap()
            .faults
            .push_back((path.to_string(), f));
    }

    pub fn lose_nextid_races(&self, n: usize) {
        self.shared.cluster.lock().unwrap().lost_races = n;
    }

    pub fn expire_tickets(&self) {
        for t in self.shared.cluster.lock().unwrap().tickets.values_mut() {
            t.expires = Instant::now();
        }
    }

    pub fn set_latency(&self, d: Duration) {
        self.shared.opts.lock().unwrap().latency = d;
    }

    pub fn set_task_duration(&self, d: Duration) {
        self.shared.opts.lock().unwrap().task_duration = d;
    }

    /// Moves the virtual clock on by `d`, ending the tasks whose time comes.
    pub fn advance(&self, d: Duration) {
        let mut c = self.shared.cluster.lock().unwrap();
        let to = c.now() + d;
        c.move_to(to);
    }

    /// From now on, new tasks run until `release_tasks`, however long a
    /// client waits for them.
    pub fn hold_tasks(&self) {
        self.shared.cluster.lock().unwrap().hold = true;
    }

    /// Lets every held task go: each ends at once, and new tasks are no
    /// longer held.
    pub fn release_tasks(&self) {
        let mut c = self.shared.cluster.lock().unwrap();
        c.hold = false;
        let now = c.now();
        for t in c.tasks.values_mut().filter(|t| t.held) {
            t.held = false;
            t.duration = now.saturating_duration_since(t.started);
        }
        tick(&mut c);
    }

    /// Waits (up to `deadline`) until `n` requests end with `tail`, and
    /// panics saying what it waited for when they do not come.
    pub fn wait_for_requests(&self, tail: &str, n: usize, deadline: Duration) {
        let give_up = Instant::now() + deadline;
        while self.requests_ending(tail) < n {
            assert!(
                Instant::now() < give_up,
                "waited {deadline:?} for {n} requests ending {tail:?}; saw {:?}",
                self.requests()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits (up to `deadline`) until the cluster has refused a write with
    /// an answer containing `text`; panics saying so when none comes.
    pub fn wait_for_refusal(&self, text: &str, deadline: Duration) {
        let give_up = Instant::now() + deadline;
        while !self
            .shared
            .refusals
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.contains(text))
        {
            assert!(
                Instant::now() < give_up,
                "waited {deadline:?} for a refusal saying {text:?}; refused: {:?}",
                self.shared.refusals.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `GET /cluster/resources` and so on, in the order they arrived.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many requests so far end with `tail`: a path, or a whole
    /// `POST /nodes/pve1/qemu`.
    pub fn requests_ending(&self, tail: &str) -> usize {
        let requests = self.shared.requests.lock().unwrap();
        requests.iter().filter(|r| r.ends_with(tail)).count()
    }

    /// TCP connections accepted so far, on every node.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    pub fn clear_requests(&self) {
        self.shared.requests.lock().unwrap().clear();
    }

    /// For tests that send bad requests on purpose.
    pub fn allow_refusals(&self) {
        self.shared.allow_refusals.store(true, Ordering::Relaxed);
    }

    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().unwrap().clone()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let refused = self.refused();
        if !refused.is_empty()
            && !self.shared.allow_refusals.load(Ordering::Relaxed)
            && !std::thread::panicking()
        {
            panic!(
                "the Proxmox VE schema refused requests the tools made:\n{}",
                refused.join("\n")
            );
        }
    }
}

/// A TCP port on 127.0.0.1 bound but not listened on: a connection to it is
/// refused, as to a node that is down, and the port stays taken.
fn down_port() -> (std::os::fd::OwnedFd, std::net::SocketAddr) {
    use std::os::fd::FromRawFd;
    // SAFETY: a new socket, owned at once; bind and getsockname get a
    // sockaddr_in of the size they are told.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let socket = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let p = &mut sa as *mut libc::sockaddr_in as *mut libc::sockaddr;
        assert_eq!(
            libc::bind(fd, p, len),
            0,
            "bind: {}",
            std::io::Error::last_os_error()
        );
        let mut got = len;
        assert_eq!(libc::getsockname(fd, p, &mut got), 0);
        let port = u16::from_be(sa.sin_port);
        (socket, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

struct Response {
    status: u16,
    reason: String,
    body: String,
}

fn serve(tcp: TcpStream, config: Arc<ServerConfig>, shared: &Shared, node: &str) {
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let _ = tcp.set_nodelay(true);
    shared.connections.fetch_add(1, Ordering::Relaxed);
    let stream = StreamOwned::new(conn, tcp);
    let mut reader = BufReader::new(stream);
    loop {
        let req = match read_request(&mut reader) {
            Some(r) => r,
            None => return,
        };
        let latency = shared.opts.lock().unwrap().latency;
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
        let fault = {
            let mut c = shared.cluster.lock().unwrap();
            let i = c
                .faults
                .iter()
                .position(|(p, _)| req.path.contains(p.as_str()));
            i.and_then(|i| c.faults.remove(i)).map(|(_, f)| f)
        };
        let resp = match fault {
            Some(Fault::Drop) => return,
            Some(Fault::DropAfter) => {
                let _ = handle(&req, shared, node);
                return;
            }
            Some(Fault::Status(code, msg)) => error(code, msg, shared),
            Some(Fault::StatusAfter(code, msg)) => {
                let _ = handle(&req, shared, node);
                error(code, msg, shared)
            }
            Some(Fault::ExpireTickets) => {
                for t in shared.cluster.lock().unwrap().tickets.values_mut() {
                    t.expires = Instant::now();
                }
                handle(&req, shared, node)
            }
            None => handle(&req, shared, node),
        };
        if resp.status == 401 {
            std::thread::sleep(shared.opts.lock().unwrap().auth_delay);
        }
        let close = resp.status >= 400;
        let head = format!(
            "HTTP/1.1 {} {}\r\nServer: pve-api-daemon/3.0\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\n{}\r\n",
            resp.status,
            resp.reason,
            resp.body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        let s = reader.get_mut();
        // One write: the head and body leave in the same TLS records.
        if s.write_all(format!("{head}{}", resp.body).as_bytes())
            .is_err()
        {
            return;
        }
        let _ = s.flush();
        if close {
            s.conn.send_close_notify();
            let _ = s.flush();
            return;
        }
    }
}

fn read_request(r: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

/// `a=1&b=x+y;c=%3B` as the server reads it: pairs split on `&` and `;`,
/// `+` is a space.
fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split(['&', ';'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ok(data: Value) -> Response {
    Response {
        status: 200,
        reason: "OK".into(),
        body: json!({ "data": data }).to_string(),
    }
}

/// An error as pve-http-server sends it: the reason phrase is the message's
/// first line; the body carries the message too (not on old servers, and
/// never on 595/596 or a bare 401).
fn error(status: u16, message: &str, shared: &Shared) -> Response {
    let old = shared.opts.lock().unwrap().old_errors;
    let reason = message.lines().next().unwrap_or("").to_string();
    let body = if old || matches!(status, 595 | 596) || message == "No ticket" {
        if message == "No ticket" {
            String::new()
        } else {
            json!({ "data": null }).to_string()
        }
    } else {
        json!({ "data": null, "message": format!("{message}\n") }).to_string()
    };
    Response {
        status,
        reason,
        body,
    }
}

fn handle(req: &Request, shared: &Shared, node_here: &str) -> Response {
    let Some(path) = req.path.strip_prefix("/api2/json") else {
        return error(
            501,
            &format!("Method '{} {}' not implemented", req.method, req.path),
            shared,
        );
    };
    shared
        .requests
        .lock()
        .unwrap()
        .push(format!("{} {path}", req.method));
    let params = if matches!(req.method.as_str(), "GET" | "DELETE") {
        if !req.body.is_empty() {
            return error(
                501,
                &format!("Unexpected content for method '{}'", req.method),
                shared,
            );
        }
        parse_form(&req.query)
    } else {
        parse_form(&String::from_utf8_lossy(&req.body))
    };
    let refuse = |why: String| {
        shared
            .refused
            .lock()
            .unwrap()
            .push(format!("{} {path} {params:?}: {why}", req.method));
    };
    let endpoint = match schema().find(&req.method, path) {
        Ok(e) => e,
        Err(Refusal::NotImplemented(m)) => {
            refuse(m.clone());
            return error(501, &m, shared);
        }
        Err(r) => panic!("unexpected refusal {r:?}"),
    };
    if let Err(Refusal::Parameters(errors)) = endpoint.validate(&params) {
        refuse(format!("{errors:?}"));
        let mut body =
            json!({"data": null, "errors": {}, "message": "Parameter verification failed.\n"});
        for (k, v) in errors {
            body["errors"][k] = json!(format!("{v}\n"));
        }
        return Response {
            status: 400,
            reason: "Parameter verification failed.".into(),
            body: body.to_string(),
        };
    }
    let mut p: BTreeMap<String, String> = endpoint.path_params.iter().cloned().collect();
    p.extend(params.iter().cloned());
    let template = endpoint.path.to_string();

    // Authentication.
    if !(template == "/access/ticket" && req.method == "POST")
        && template != "/version"
        && let Err(r) = authenticate(req, shared)
    {
        return r;
    }
    let user = "ops@pve!ci".to_string();
    let mut c = shared.cluster.lock().unwrap();
    let opts = shared.opts.lock().unwrap().clone();
    c.task_duration = opts.task_duration;
    tick(&mut c);
    // Requests for another node are proxied there: a down node gives 595.
    if let Some(n) = p.get("node") {
        if !opts.nodes.contains(&n.as_str()) {
            return error(
                500,
                &format!(
                    "hostname lookup '{n}' failed - failed to get address info for: {n}: Name or service not known"
                ),
                shared,
            );
        }
        if n != node_here && opts.down.contains(&n.as_str()) {
            return error(595, "Connection refused", shared);
        }
    }
    let vm_path = |vmid: u32, node: &str| {
        format!("Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")
    };
    let num = |k: &str| p.get(k).and_then(|v| v.parse::<u32>().ok());
    let flag = |k: &str| p.get(k).map(|v| v == "1").unwrap_or(false);
    match (req.method.as_str(), template.as_str()) {
        ("POST", "/access/ticket") => {
            let (u, pw) = (p["username"].clone(), p["password"].clone());
            let valid_old = c
                .tickets
                .get(&pw)
                .is_some_and(|t| t.user == u && t.expires > Instant::now());
            if u != USER || (pw != PASSWORD && !valid_old) {
                return error(401, "authentication failure", shared);
            }
            let ticket = format!("PVE:{u}:{:08X}::sig{}", now_unix(), c.pid);
            let csrf = format!("{:08X}:csrf{}", now_unix(), c.pid);
            c.pid += 1;
            c.tickets.insert(
                ticket.clone(),
                Ticket {
                    user: u.clone(),
                    csrf: csrf.clone(),
                    expires: Instant::now() + opts.ticket_lifetime,
                },
            );
            ok(json!({"username": u, "ticket": ticket, "CSRFPreventionToken": csrf, "cap": {}}))
        }
        ("GET", "/version") => ok(json!({"version": "9.1.5", "release": "9.1", "repoid": "0123abcd"})),
        ("GET", "/nodes") => ok(Value::Array(
            opts.nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let online = !opts.down.contains(n);
                    json!({"node": n, "status": if online {"online"} else {"offline"}, "cpu": 0.05, "maxcpu": 16,
                           "mem": (4 + i as u64) << 30, "maxmem": 64u64 << 30, "uptime": 86400, "type": "node", "id": format!("node/{n}")})
                })
                .collect(),
        )),
        ("GET", "/cluster/resources") => {
            let want = p.get("type").cloned();
            let mut out = vec![];
            for vm in c.vms.values() {
                if want.as_deref().is_some_and(|t| t != "vm") {
                    continue;
                }
                let online = !opts.down.contains(&vm.node.as_str());
                let mut r = json!({
                    "id": format!("qemu/{}", vm.vmid), "type": "qemu", "vmid": vm.vmid, "node": vm.node,
                    "status": if !online {"unknown"} else if vm.paused {"paused"} else if vm.running {"running"} else {"stopped"},
                    "uptime": vm.started.filter(|_| vm.running).map_or(0, |s| c.now().saturating_duration_since(s).as_secs()),
                    "template": vm.template as u8, "maxcpu": vm.cpus(), "cpu": if vm.running {0.02} else {0.0},
                    "maxmem": vm.memory_bytes(), "mem": if vm.running {vm.memory_bytes() / 2} else {0},
                    "maxdisk": vm.disk_bytes(), "disk": 0, "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
                });
                // As Proxmox shows a VM without a name.
                r["name"] = json!(vm.name.clone().unwrap_or(format!("VM {}", vm.vmid)));
                if let Some(l) = &vm.lock {
                    r["lock"] = json!(l);
                }
                if !vm.tags.is_empty() {
                    r["tags"] = json!(vm.tags.join(";"));
                }
                if let Some(pool) = &vm.pool {
                    r["pool"] = json!(pool);
                }
                out.push(r);
            }
            ok(Value::Array(out))
        }
        ("GET", "/cluster/nextid") => {
            if let Some(id) = num("vmid") {
                return if c.vms.contains_key(&id) {
                    error(400, &format!("VM {id} already exists"), shared)
                } else {
                    ok(json!(id.to_string()))
                };
            }
            let id = (100..).find(|i| !c.vms.contains_key(i)).unwrap();
            ok(json!(id.to_string()))
        }
        ("GET", "/nodes/{node}/storage") => ok(json!([
            {"storage": "local", "type": "dir", "content": "iso,vztmpl,backup", "active": 1, "enabled": 1, "total": 100u64 << 30, "used": 10u64 << 30, "avail": 90u64 << 30},
            {"storage": "local-lvm", "type": "lvmthin", "content": "images,rootdir", "active": 1, "enabled": 1, "total": 500u64 << 30, "used": 50u64 << 30, "avail": 450u64 << 30},
        ])),
        ("POST", "/nodes/{node}/qemu") => {
            let node = p["node"].clone();
            let vmid = num("vmid").unwrap();
            if c.lost_races > 0 && !c.vms.contains_key(&vmid) {
                c.lost_races -= 1;
                let mut other = Vm::new(vmid, &node, &format!("raced-{vmid}"));
                other.tags = vec!["other-creator".into()];
                c.vms.insert(vmid, other);
            }
            if let Some(v) = c.vms.get(&vmid) {
                let on = v.node.clone();
                return error(500, &format!("unable to create VM {vmid} - VM {vmid} already exists on node '{on}'"), shared);
            }
            let mut vm = Vm::new(vmid, &node, "");
            vm.config.clear();
            vm.name = p.get("name").cloned();
            let mut disk_no = 0;
            for (k, v) in &p {
                if matches!(k.as_str(), "node" | "vmid" | "start" | "storage" | "pool") {
                    continue;
                }
                let mut v = v.clone();
                if (k.starts_with("scsi") || k.starts_with("virtio") || k.starts_with("sata"))
                    && let Some((st, size)) = v.split(',').next().unwrap_or("").split_once(':')
                    && size.chars().all(|ch| ch.is_ascii_digit())
                {
                    if st != "local-lvm" {
                        return error(500, &format!("storage '{st}' does not exist"), shared);
                    }
                    v = format!("{st}:vm-{vmid}-disk-{disk_no},size={size}G");
                    disk_no += 1;
                }
                if k == "tags" {
                    vm.tags = v.split([';', ',', ' ']).filter(|t| !t.is_empty()).map(String::from).collect();
                }
                vm.config.insert(k.clone(), v);
            }
            vm.pool = p.get("pool").cloned();
            vm.lock = Some("create".into());
            c.vms.insert(vmid, vm);
            let upid = new_task(&mut c, &opts, &node, "qmcreate", vmid, &user, Effect::Create);
            ok(json!(upid))
        }
        (m, t) if t.starts_with("/nodes/{node}/qemu/{vmid}") => {
            let node = p["node"].clone();
            let vmid = num("vmid").unwrap();
            let sub = t.trim_start_matches("/nodes/{node}/qemu/{vmid}");
            // A client that asks for a guest's state again, or tries again
            // a write its lock refused, is waiting: the clock moves on.
            let locked = |c: &Cluster| {
                c.vms.get(&vmid).is_some_and(|v| v.lock.is_some())
                    || c.tasks.values().any(|t| !t.done && t.vmid == vmid)
            };
            if m == "GET" && sub == "/status/current" {
                if c.seen(vmid, Seen::State) == Some(Seen::State) {
                    c.wait_for_vm(vmid);
                }
            } else if m != "GET" && locked(&c) && c.last.get(&vmid) == Some(&Seen::Refused) {
                c.wait_for_vm(vmid);
            }
            if m != "GET" || sub != "/status/current" {
                let refused = m != "GET" && locked(&c);
                c.seen(vmid, if refused { Seen::Refused } else { Seen::Other });
            }
            let Some(vm) = c.vms.get(&vmid).filter(|v| v.node == node).cloned() else {
                return error(500, &vm_path(vmid, &node), shared);
            };
            if m == "POST" && sub == "/status/stop" && flag("overrule-shutdown") && vm.ha_managed {
                let body = json!({"data": null, "errors": {"overrule-shutdown": "Not applicable for HA resources.\n"}, "message": "Parameter verification failed.\n"});
                return Response {
                    status: 400,
                    reason: "Parameter verification failed.".into(),
                    body: body.to_string(),
                };
            }
            if m == "POST" && sub == "/status/shutdown" && vm.paused && !flag("forceStop") {
                return error(500, "VM is paused - cannot shutdown", shared);
            }
            if m == "POST" && sub == "/status/stop" && flag("overrule-shutdown") {
                // qm stop --overrule-shutdown: running shutdowns are aborted.
                for t in c.tasks.values_mut() {
                    if !t.done && t.vmid == vmid && t.kind == "qmshutdown" {
                        t.done = true;
                        t.exitstatus = Some("interrupted by signal".into());
                        t.log.push("TASK ERROR: interrupted by signal".into());
                    }
                }
            }
            let busy = c.tasks.values().any(|t| !t.done && t.vmid == vmid);
            if m != "GET" {
                let refusal = match (&vm.lock, busy) {
                    (Some(l), _) => Some(format!("VM is locked ({l})")),
                    (None, true) => Some(format!("can't lock file '/var/lock/qemu-server/lock-{vmid}.conf' - got timeout")),
                    (None, false) => None,
                };
                if let Some(r) = refusal {
                    shared.refusals.lock().unwrap().push(r.clone());
                    return error(500, &r, shared);
                }
            }
            match (m, sub) {
                ("GET", "/config") => {
                    let mut cfg = json!({"digest": format!("{:040x}", vmid)});
                    for (k, v) in &vm.config {
                        cfg[k] = match v.parse::<u64>() {
                            Ok(n) if !k.starts_with("name") && k != "tags" && k != "description" => json!(n),
                            _ => json!(v),
                        };
                    }
                    if vm.template {
                        cfg["template"] = json!(1);
                    }
                    if let Some(l) = &vm.lock {
                        cfg["lock"] = json!(l);
                    }
                    ok(cfg)
                }
                ("GET", "/status/current") => {
                    let mut r = json!({
                        "vmid": vmid, "status": if vm.running {"running"} else {"stopped"},
                        "cpus": vm.cpus(), "maxmem": vm.memory_bytes(), "mem": if vm.running {vm.memory_bytes()/2} else {0},
                        "maxdisk": vm.disk_bytes(), "cpu": if vm.running {0.02} else {0.0},
                        "uptime": vm.started.filter(|_| vm.running).map_or(0, |s| c.now().saturating_duration_since(s).as_secs()),
                        "ha": if vm.ha_managed {json!({"managed": 1, "state": "started"})} else {json!({"managed": 0})},
                        "diskread": 0, "diskwrite": 0, "netin": 0, "netout": 0,
                    });
                    if vm.running {
                        r["qmpstatus"] = json!(if vm.paused { "paused" } else { "running" });
                        r["pid"] = json!(10000 + vmid);
                    } else {
                        r["qmpstatus"] = json!("stopped");
                    }
                    r["name"] = json!(vm.name.clone().unwrap_or(format!("VM {vmid}")));
                    if let Some(l) = &vm.lock {
                        r["lock"] = json!(l);
                    }
                    if !vm.tags.is_empty() {
                        r["tags"] = json!(vm.tags.join(";"));
                    }
                    if vm.template {
                        r["template"] = json!(1);
                    }
                    ok(r)
                }
                ("POST", "/status/start") => {
                    if vm.template {
                        return error(500, "you can't start a vm if it's a template", shared);
                    }
                    let effect = match (&vm.fail_start, vm.running) {
                        (_, true) => Effect::Fail(format!("VM {vmid} already running")),
                        (Some((e, _)), _) => Effect::Fail(e.clone()),
                        _ => Effect::Start,
                    };
                    let (kind, effect) = ha(&vm, "qmstart", effect);
                    ok(json!(new_task(&mut c, &opts, &node, kind, vmid, &user, effect)))
                }
                ("POST", "/status/resume") => {
                    ok(json!(new_task(&mut c, &opts, &node, "qmresume", vmid, &user, Effect::Resume)))
                }
                ("POST", "/status/stop") => {
                    let (kind, effect) = ha(&vm, "qmstop", Effect::Stop);
                    ok(json!(new_task(&mut c, &opts, &node, kind, vmid, &user, effect)))
                }
                ("POST", "/status/shutdown") => {
                    let timeout = Duration::from_secs(num("timeout").unwrap_or(60) as u64);
                    let effect = Effect::Shutdown { timeout, force: flag("forceStop") };
                    let (kind, effect) = ha(&vm, "qmshutdown", effect);
                    ok(json!(new_task(&mut c, &opts, &node, kind, vmid, &user, effect)))
                }
                ("POST", "/status/reboot") => {
                    if !vm.running {
                        return error(500, &format!("VM {vmid} not running"), shared);
                    }
                    ok(json!(new_task(&mut c, &opts, &node, "qmreboot", vmid, &user, Effect::Reboot)))
                }
                ("POST", "/template") => {
                    c.vms.get_mut(&vmid).unwrap().template = true;
                    ok(Value::Null)
                }
                ("DELETE", "") => {
                    if vm.running {
                        return error(500, &format!("VM {vmid} is running - destroy failed"), shared);
                    }
                    ok(json!(new_task(&mut c, &opts, &node, "qmdestroy", vmid, &user, Effect::Destroy)))
                }
                ("POST", "/clone") => {
                    let newid = num("newid").unwrap();
                    if let Some(v) = c.vms.get(&newid) {
                        let on = v.node.clone();
                        return error(500, &format!("unable to create VM {newid} - VM {newid} already exists on node '{on}'"), shared);
                    }
                    let target = p.get("target").cloned().unwrap_or(node.clone());
                    if !vm.template && !flag("full") && target != node {
                        return error(500, "Linked clone feature for a VM on another node is not supported", shared);
                    }
                    let mut new = vm.clone();
                    new.vmid = newid;
                    new.node = target;
                    new.name = p.get("name").cloned().or(Some(format!("Copy-of-VM-{}", vm.name.clone().unwrap_or_default())));
                    new.template = false;
                    new.running = false;
                    new.started = None;
                    new.lock = Some("create".into());
                    new.fail_start = None;
                    if let Some(n) = &new.name {
                        new.config.insert("name".into(), n.clone());
                    }
                    c.vms.insert(newid, new);
                    c.vms.get_mut(&vmid).unwrap().lock = Some("clone".into());
                    ok(json!(new_task(&mut c, &opts, &node, "qmclone", vmid, &user, Effect::Clone { newid })))
                }
                _ => error(501, &format!("Method '{} {path}' not implemented", req.method), shared),
            }
        }
        ("GET", "/nodes/{node}/tasks") => {
            let source = p.get("source").map_or("archive", String::as_str);
            let list: Vec<Value> = c
                .tasks
                .values()
                .filter(|t| t.node == p["node"] && num("vmid").is_none_or(|id| id == t.vmid))
                .filter(|t| match source {
                    "active" => !t.done,
                    "archive" => t.done,
                    _ => true,
                })
                .map(|t| {
                    let mut r = json!({"upid": t.upid, "node": t.node, "type": t.kind, "id": t.vmid.to_string(),
                        "user": t.user, "pid": 1, "pstart": 1, "starttime": t.starttime});
                    if let Some(e) = &t.exitstatus {
                        r["status"] = json!(e);
                    }
                    r
                })
                .collect();
            ok(Value::Array(list))
        }
        ("GET", "/nodes/{node}/tasks/{upid}/status") => {
            // The client waits for this task.
            c.wait_for_task(&p["upid"]);
            match c.tasks.get(&p["upid"]) {
                Some(t) if t.node == p["node"] => {
                    let mut r = json!({"upid": t.upid, "node": t.node, "type": t.kind, "id": t.vmid.to_string(),
                        "user": t.user, "pid": 1, "pstart": 1, "starttime": t.starttime,
                        "status": if t.done {"stopped"} else {"running"}});
                    if let Some(e) = &t.exitstatus {
                        r["exitstatus"] = json!(e);
                    }
                    ok(r)
                }
                _ => error(400, "no such task", shared),
            }
        }
        ("GET", "/nodes/{node}/tasks/{upid}/log") => match c.tasks.get(&p["upid"]) {
            Some(t) if t.node == p["node"] => {
                let start = num("start").unwrap_or(0) as usize;
                let limit = num("limit").unwrap_or(50) as usize;
                let mut lines: Vec<Value> = t
                    .log
                    .iter()
                    .enumerate()
                    .skip(start)
                    .take(limit)
                    .map(|(i, l)| json!({"n": i + 1, "t": l}))
                    .collect();
                // pve-common's dump_logfile: an empty log reads as one line.
                if t.log.is_empty() {
                    lines = vec![json!({"n": 1, "t": "no content"})];
                }
                let mut r = ok(Value::Array(lines));
                r.body = json!({"data": serde_json::from_str::<Value>(&r.body).unwrap()["data"], "total": t.log.len()}).to_string();
                r
            }
            _ => error(400, "no such task", shared),
        },
        _ => error(501, &format!("Method '{} {path}' not implemented", req.method), shared),
    }
}

fn authenticate(req: &Request, shared: &Shared) -> Result<(), Response> {
    if let Some(a) = req.headers.get("authorization") {
        return if a.strip_prefix("PVEAPIToken=") == Some(TOKEN) {
            Ok(())
        } else {
            Err(error(401, "Authentication failed!", shared))
        };
    }
    let ticket = req.headers.get("cookie").and_then(|c| {
        c.split(';')
            .find_map(|kv| kv.trim().strip_prefix("PVEAuthCookie="))
            .map(String::from)
    });
    let Some(ticket) = ticket else {
        return Err(error(401, "No ticket", shared));
    };
    let c = shared.cluster.lock().unwrap();
    match c.tickets.get(&ticket) {
        Some(t) if t.expires > Instant::now() => {
            if req.method != "GET" && req.headers.get("csrfpreventiontoken") != Some(&t.csrf) {
                return Err(error(401, "Permission denied - invalid csrf token", shared));
            }
            Ok(())
        }
        _ => Err(error(401, "Authentication failed!", shared)),
    }
}

/// An HA-managed guest's start or stop: an hastart/hastop task that hands
/// the real one to the HA manager when it ends.
fn ha(vm: &Vm, kind: &'static str, effect: Effect) -> (&'static str, Effect) {
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

fn new_task(
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
fn tick(c: &mut Cluster) {
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
                    outcome = Ok(v.start_warnings);
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
            Effect::Fail(e) => outcome = Err(e),
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
