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

use crate::api::{error, handle};
pub use crate::cluster::{Agent, Clock, Snapshot, Storage, Vm};
use crate::cluster::{Cluster, tick};
use crate::schema::Schema;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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
    /// Answers typed as Perl's JSON encoder may type them (typing.rs).
    pub perl: bool,
    /// The storages of every node.
    pub storages: Vec<Storage>,
    /// Disk images there are to import (`import-from`).
    pub images: Vec<&'static str>,
    /// The OS templates on the nodes' storages (`local:vztmpl/…`).
    pub templates: Vec<&'static str>,
    /// How far the nodes' wall clocks are ahead of this host's, in seconds
    /// (negative: behind), as /nodes/{node}/time tells.
    pub clock_skew_s: i64,
    /// The privileges the token has on /, as /access/permissions tells;
    /// `None`: every privilege (an administrator's token).
    pub token_privileges: Option<Vec<&'static str>>,
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
            perl: false,
            storages: vec![
                Storage::new("local", "dir", "iso,vztmpl,backup,import", 90),
                Storage::new("local-lvm", "lvmthin", "images,rootdir", 450),
            ],
            images: vec!["local:import/debian-12-genericcloud-amd64.qcow2"],
            templates: vec![
                "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
                "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
            ],
            clock_skew_s: 0,
            token_privileges: None,
        }
    }
}

/// Proxmox VE's privileges (pveum role list), as an administrator's token
/// has them all.
pub const PRIVILEGES: &[&str] = &[
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.Audit",
    "Sys.Audit",
    "Sys.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
];

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
    /// Someone else changes this VM's configuration just before this
    /// request is read (its description), so its digest changes.
    ChangeConfig(u32),
}

pub(crate) struct Shared {
    pub(crate) opts: Mutex<Options>,
    pub(crate) cluster: Mutex<Cluster>,
    pub(crate) refused: Mutex<Vec<String>>,
    /// The errors lock refusals answered with, in order.
    pub(crate) refusals: Mutex<Vec<String>>,
    pub(crate) requests: Mutex<Vec<String>>,
    pub(crate) allow_refusals: AtomicBool,
    pub(crate) connections: std::sync::atomic::AtomicUsize,
}

pub struct Sim {
    pub(crate) shared: Arc<Shared>,
    /// `https://127.0.0.1:PORT`, one per node, in node order.
    pub urls: Vec<String>,
    /// Each node's certificate fingerprint, `AA:BB:…`.
    pub fingerprints: Vec<String>,
    /// The PEM of the cluster CA that signed every node's certificate.
    pub ca_pem: String,
    /// The ports of the nodes that are down, held while the cluster lives.
    pub(crate) _down: Vec<std::os::fd::OwnedFd>,
}

pub(crate) fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(Schema::official)
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

    /// An entry /cluster/resources carries after the VMs', as given: junk,
    /// or a guest the simulator does not otherwise know (a container).
    pub fn add_raw_resource(&self, entry: serde_json::Value) {
        self.shared.cluster.lock().unwrap().junk.push(entry);
    }

    /// The next container create fails half-way with this reason.
    pub fn fail_next_create(&self, why: &str) {
        self.shared.cluster.lock().unwrap().fail_create = Some(why.into());
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
pub(crate) fn down_port() -> (std::os::fd::OwnedFd, std::net::SocketAddr) {
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

pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: Vec<u8>,
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) body: String,
    /// A success's envelope, written into `body` once the answer is final
    /// (after Perl typing, when the simulator types so).
    pub(crate) json: Option<serde_json::Value>,
}

pub(crate) fn serve(tcp: TcpStream, config: Arc<ServerConfig>, shared: &Shared, node: &str) {
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
            Some(Fault::ChangeConfig(vmid)) => {
                if let Some(v) = shared.cluster.lock().unwrap().vms.get_mut(&vmid) {
                    v.config
                        .insert("description".into(), "changed by someone else".into());
                }
                handle(&req, shared, node)
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

pub(crate) fn read_request(r: &mut impl BufRead) -> Option<Request> {
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
pub(crate) fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split(['&', ';'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub(crate) fn decode(s: &str) -> String {
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
