//! Networks for local containers, the same for lxc, crun and runc: each
//! container gets a network namespace pinned to a file, joined to the
//! network's bridge by the CNI plugins (bridge with host-local addresses,
//! loopback, portmap for published ports); the backends then run the
//! container in that namespace (config.json's network namespace path, LXC's
//! lxc.namespace.share.net). What a container holds is recorded in
//! `<state_dir>/net/containers/NAME/`, so that deleting it, or cleaning up
//! after a create that was killed, undoes exactly that.

pub mod bridge;
pub mod cni;
pub mod host;
pub mod netns;

use crate::config::{Config, DEFAULT_NETWORK};
use crate::error::{Error, Result};
use crate::guest::subnet::Subnet;
use crate::output::Output;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// A network containers can join, as the config defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Its name.
    pub name: String,
    /// Its bridge on the host.
    pub bridge: String,
    /// Its subnet when configured; else chosen when the bridge is made.
    pub subnet: Option<Subnet>,
}

impl Network {
    /// The network of this name: one of the config's `[networks]`, or the
    /// built-in one. An unknown name is "not found", listing the known.
    pub fn named(cfg: &Config, name: &str) -> Result<Network> {
        let table = cfg.networks.get(name);
        if table.is_none() && name != DEFAULT_NETWORK {
            let mut known: Vec<&str> = vec![DEFAULT_NETWORK];
            known.extend(
                cfg.networks
                    .keys()
                    .map(String::as_str)
                    .filter(|k| *k != DEFAULT_NETWORK),
            );
            return Err(Error::not_found(format!(
                "no network {} is defined",
                crate::guest::names::quote(name)
            ))
            .with_hint(format!(
                "the networks are none, {}; define others as [networks.NAME] in the config",
                known.join(", ")
            )));
        }
        let bridge = cfg.bridge_of(name);
        let subnet = table
            .and_then(|t| t.subnet.as_deref())
            .map(|s| Subnet::parse(s).map_err(Error::invalid))
            .transpose()?;
        Ok(Network {
            name: name.to_string(),
            bridge,
            subnet,
        })
    }

    /// The network a new local container joins without --network: the
    /// config's default_network, else the built-in one; `None` for none.
    /// A user who is not root joins none unless one is asked for: making
    /// a network takes root, and every create failing for it would be
    /// worse than a container on loopback.
    pub fn default(cfg: &Config) -> Result<Option<Network>> {
        match cfg.default_network.as_deref() {
            Some("none") => Ok(None),
            None if !crate::config::is_root() => Ok(None),
            name => Network::named(cfg, name.unwrap_or(DEFAULT_NETWORK)).map(Some),
        }
    }
}

/// The transport protocol of a published port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP, the default.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A port of a container published on the host (`--publish`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    /// The host address it is published on; `None`: all of them.
    pub host_ip: Option<Ipv4Addr>,
    /// The port on the host.
    pub host_port: u16,
    /// The port in the container.
    pub port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl Publish {
    /// Parses `[HOSTIP:]HOSTPORT:PORT[/tcp|/udp]`; the error says what is wrong.
    pub fn parse(s: &str) -> std::result::Result<Publish, String> {
        let (ports, protocol) = match s.rsplit_once('/') {
            Some((p, "tcp")) => (p, Protocol::Tcp),
            Some((p, "udp")) => (p, Protocol::Udp),
            Some((_, other)) => {
                return Err(format!("unknown protocol {other:?}: tcp or udp"));
            }
            None => (s, Protocol::Tcp),
        };
        let parts: Vec<&str> = ports.split(':').collect();
        let (ip, host, inner) = match parts[..] {
            [h, p] => (None, h, p),
            [ip, h, p] => (Some(ip), h, p),
            _ => return Err("expected [HOSTIP:]HOSTPORT:PORT[/tcp|/udp], e.g. 8080:80".into()),
        };
        let port = |p: &str| {
            p.parse::<u16>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("port {p:?} is not a number from 1 to 65535"))
        };
        let host_ip = match ip {
            None | Some("") => None,
            Some(a) => Some(
                a.parse::<Ipv4Addr>()
                    .map_err(|_| format!("{a:?} is not an IPv4 address"))?,
            ),
        };
        Ok(Publish {
            host_ip,
            host_port: port(host)?,
            port: port(inner)?,
            protocol,
        })
    }

    /// Whether the two take the same host port.
    fn clashes(&self, other: &Publish) -> bool {
        self.host_port == other.host_port
            && self.protocol == other.protocol
            && match (self.host_ip, other.host_ip) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl std::fmt::Display for Publish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(ip) = self.host_ip {
            write!(f, "{ip}:")?;
        }
        write!(
            f,
            "{}:{}/{}",
            self.host_port,
            self.port,
            self.protocol.as_str()
        )
    }
}

/// What a new container asks of its network (ctr-create's --network,
/// --ip and --publish).
#[derive(Clone, Debug)]
pub struct Join {
    /// The network.
    pub network: Network,
    /// A fixed address (--ip); else the next free one.
    pub ip: Option<Ipv4Addr>,
    /// Its published ports.
    pub publish: Vec<Publish>,
}

/// A container's place on a network, as recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attachment {
    /// The network's name.
    pub network: String,
    /// Its bridge.
    pub bridge: String,
    /// Its subnet.
    pub subnet: String,
    /// The container's address; `None` until the plugins gave it.
    pub address: Option<Ipv4Addr>,
    /// Its published ports.
    pub publish: Vec<Publish>,
    /// The bridge plugin's result, which portmap is given.
    #[serde(default)]
    pub result: Value,
    /// The container's own directory (LXC's, or the bundle): while it
    /// exists, the container does, whatever the config says now.
    #[serde(default)]
    pub home: Option<PathBuf>,
}

/// The files a networked container gets bind-mounted at /etc: the host's
/// resolvers, its own name and address.
pub const ETC_FILES: [&str; 3] = ["resolv.conf", "hosts", "hostname"];

/// The networks of the local containers, kept under the state directory.
pub struct Nets {
    /// `<state_dir>/net`.
    dir: PathBuf,
}

const ATTACHMENT: &str = "attachment.json";
const NETNS: &str = "netns";

impl Nets {
    /// The networks kept under the config's state directory.
    pub fn new(cfg: &Config) -> Nets {
        Nets::at(&cfg.state_dir())
    }

    /// The networks kept under the state directory `state_dir`.
    pub fn at(state_dir: &Path) -> Nets {
        Nets {
            dir: state_dir.join("net"),
        }
    }

    fn container_dir(&self, name: &str) -> PathBuf {
        self.dir.join("containers").join(name)
    }

    fn networks_dir(&self) -> PathBuf {
        self.dir.join("networks")
    }

    fn leases_dir(&self) -> PathBuf {
        self.dir.join("leases")
    }

    /// The file a container's network namespace is pinned to.
    pub fn netns(&self, name: &str) -> PathBuf {
        self.container_dir(name).join(NETNS)
    }

    /// The host files a networked container gets at /etc/FILE (`ETC_FILES`).
    pub fn etc_file(&self, name: &str, file: &str) -> PathBuf {
        self.container_dir(name).join(file)
    }

    /// A container's network, as recorded; `None` when it has none.
    pub fn attachment(&self, name: &str) -> Option<Attachment> {
        let bytes = std::fs::read(self.container_dir(name).join(ATTACHMENT)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The names of the containers that hold something here.
    pub fn attached(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.join("containers"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect()
    }

    /// Joins the new container `name` to its network: the bridge made when
    /// needed, a namespace pinned, an address given, its ports published,
    /// and its /etc files written. On failure nothing of it is left.
    /// `home` is the container's own directory (see `Attachment::home`).
    pub fn attach(&self, name: &str, join: &Join, home: &Path, out: &Output) -> Result<Attachment> {
        if !crate::config::is_root() {
            return Err(Error::denied(format!(
                "joining network {} takes root: it makes a bridge and network interfaces",
                join.network.name
            ))
            .with_hint("run as root, or use --network none"));
        }
        let plugins = cni::plugin_dir()?;
        bridge::tools()?;
        let net = &join.network;
        let in_use = self
            .attached()
            .iter()
            .filter(|n| *n != name)
            .filter_map(|n| self.attachment(n))
            .any(|a| a.bridge == net.bridge);
        let subnet = bridge::ensure(
            &self.networks_dir(),
            &net.name,
            &net.bridge,
            net.subnet,
            in_use,
            out,
        )?;
        if let Some(ip) = join.ip.filter(|ip| !subnet.assignable(*ip)) {
            return Err(Error::conflict(format!(
                "the address {ip} is not one a container can have on network {} ({subnet}, gateway {})",
                net.name,
                subnet.gateway()
            ))
            .with_hint("give an address inside the subnet, or leave --ip out for the next free one"));
        }
        let dir = self.container_dir(name);
        let record = |a: &Attachment| {
            crate::os::file::write_atomically(&dir.join(ATTACHMENT), &Output::json_line(a))
        };
        let mut a = Attachment {
            network: net.name.clone(),
            bridge: net.bridge.clone(),
            subnet: subnet.to_string(),
            address: None,
            publish: join.publish.clone(),
            result: Value::Null,
            home: Some(home.to_path_buf()),
        };
        {
            // The ports are checked and taken in one step across creates.
            let _ports = self.lock("ports")?;
            self.check_ports(name, &join.publish)?;
            if dir.exists() {
                // What a killed create of this name left: cleared under its lock.
                self.detach(name, out)?;
            }
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
            record(&a)?;
        }
        let made = self.plug(name, join, &plugins, &mut a, out).and_then(|()| {
            record(&a)?;
            self.write_etc(name, &a, out)
        });
        if let Err(e) = made {
            out.trace(&format!("joining network {} failed; undoing it", net.name));
            if let Err(d) = self.detach(name, out) {
                out.warn(&format!("could not undo {name}'s network: {}", d.message));
            }
            return Err(e);
        }
        Ok(a)
    }

    /// Before a start: joins the container again when its namespace is
    /// gone (the host rebooted, and /run/netns or the state directory kept
    /// the file), with the address and ports it had. Its record stays
    /// whatever happens, so that a later start can try again.
    pub fn rejoin(&self, name: &str, out: &Output) -> Result<()> {
        let Some(mut a) = self.attachment(name) else {
            return Ok(());
        };
        if netns::is_pinned(&self.netns(name)) {
            return Ok(());
        }
        out.trace(&format!(
            "{name}'s network namespace is gone; joining again"
        ));
        let plugins = cni::plugin_dir()?;
        bridge::tools()?;
        bridge::ensure(
            &self.networks_dir(),
            &a.network,
            &a.bridge,
            Subnet::parse(&a.subnet).ok(),
            true,
            out,
        )?;
        self.unplug(name, &a, &plugins, out)?;
        let join = Join {
            network: Network {
                name: a.network.clone(),
                bridge: a.bridge.clone(),
                subnet: Subnet::parse(&a.subnet).ok(),
            },
            ip: a.address,
            publish: a.publish.clone(),
        };
        let joined = {
            let _ports = self.lock("ports")?;
            self.check_ports(name, &join.publish)
        }
        .and_then(|()| self.plug(name, &join, &plugins, &mut a, out))
        .and_then(|()| {
            crate::os::file::write_atomically(
                &self.container_dir(name).join(ATTACHMENT),
                &Output::json_line(&a),
            )?;
            self.write_etc(name, &a, out)
        });
        if joined.is_err() {
            let _ = self.unplug(name, &a, &plugins, out);
        }
        joined
    }

    /// The CNI calls of `attach`, filling in the attachment's address and result.
    fn plug(
        &self,
        name: &str,
        join: &Join,
        plugins: &Path,
        a: &mut Attachment,
        out: &Output,
    ) -> Result<()> {
        let ns = self.netns(name);
        netns::create(&ns).map_err(|e| Error::io("cannot make a network namespace at", &ns, e))?;
        let call = |ifname, args| cni::Call {
            dir: plugins,
            command: "ADD",
            id: name,
            netns: Some(&ns),
            ifname,
            args,
        };
        let args = join.ip.map(|ip| format!("IgnoreUnknown=1;IP={ip}"));
        let result = call("eth0", args)
            .run(&self.bridge_config(a), out)?
            .map_err(|f| match join.ip {
                Some(ip) if f.message.contains("not available") => Error::conflict(format!(
                    "the address {ip} is taken on network {}",
                    a.network
                ))
                .with_hint("leave --ip out for the next free address"),
                _ if f.message.contains("no IP addresses available") => Error::conflict(format!(
                    "network {} has no free address left in {}",
                    a.network, a.subnet
                ))
                .with_hint("delete containers on it, or give it a larger subnet in the config"),
                _ => Error::failed(format!("the CNI bridge plugin failed: {}", f.message)),
            })?;
        a.address = result["ips"]
            .as_array()
            .and_then(|ips| ips.first())
            .and_then(|ip| ip["address"].as_str())
            .and_then(|s| s.split('/').next()?.parse().ok());
        if a.address.is_none() {
            return Err(Error::failed(
                "the CNI bridge plugin gave no address".to_string(),
            ));
        }
        a.result = result;
        call("lo", None)
            .run(
                &json!({"cniVersion": cni::VERSION, "name": a.bridge, "type": "loopback"}),
                out,
            )?
            .map_err(|f| Error::failed(format!("the CNI loopback plugin failed: {}", f.message)))?;
        if !a.publish.is_empty() {
            call("eth0", None)
                .run(&self.portmap_config(a), out)?
                .map_err(|f| {
                    Error::failed(format!("the CNI portmap plugin failed: {}", f.message))
                })?;
        }
        Ok(())
    }

    fn bridge_config(&self, a: &Attachment) -> Value {
        let subnet = Subnet::parse(&a.subnet).ok();
        json!({
            "cniVersion": cni::VERSION,
            "name": a.bridge,
            "type": "bridge",
            "bridge": a.bridge,
            "isGateway": true,
            // One masquerade rule for the whole subnet is made with the
            // bridge (bridge.rs): none per container.
            "ipMasq": false,
            "hairpinMode": true,
            "ipam": {
                "type": "host-local",
                "dataDir": self.leases_dir(),
                "ranges": [[{
                    "subnet": a.subnet,
                    "gateway": subnet.map(|s| s.gateway().to_string()),
                }]],
                "routes": [{"dst": "0.0.0.0/0"}],
            },
        })
    }

    fn portmap_config(&self, a: &Attachment) -> Value {
        let mappings: Vec<Value> = a
            .publish
            .iter()
            .map(|p| {
                json!({
                    "hostPort": p.host_port,
                    "containerPort": p.port,
                    "protocol": p.protocol.as_str(),
                    "hostIP": p.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                })
            })
            .collect();
        json!({
            "cniVersion": cni::VERSION,
            "name": a.bridge,
            "type": "portmap",
            "capabilities": {"portMappings": true},
            "snat": true,
            "runtimeConfig": {"portMappings": mappings},
            "prevResult": a.result,
        })
    }

    /// Refuses ports another container has published, or that a program on
    /// the host listens on.
    fn check_ports(&self, name: &str, publish: &[Publish]) -> Result<()> {
        for (i, p) in publish.iter().enumerate() {
            if let Some(q) = publish[..i].iter().find(|q| q.clashes(p)) {
                return Err(Error::usage(format!(
                    "--publish {p} and --publish {q} take the same host port"
                )));
            }
        }
        for other in self.attached().into_iter().filter(|n| n != name) {
            let Some(a) = self.attachment(&other) else {
                continue;
            };
            for p in publish {
                if let Some(q) = a.publish.iter().find(|q| q.clashes(p)) {
                    return Err(Error::conflict(format!(
                        "host port {}/{} is already published by container {other} ({q})",
                        p.host_port,
                        p.protocol.as_str()
                    ))
                    .with_hint("publish another host port, or delete that container first"));
                }
            }
        }
        for p in publish {
            let ip = p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
            let taken = match p.protocol {
                Protocol::Tcp => std::net::TcpListener::bind((ip, p.host_port)).err(),
                Protocol::Udp => std::net::UdpSocket::bind((ip, p.host_port)).err(),
            };
            if let Some(e) = taken
                .as_ref()
                .filter(|e| e.kind() == std::io::ErrorKind::AddrNotAvailable)
            {
                return Err(Error::invalid(format!(
                    "cannot publish on {ip}: {}",
                    crate::error::plain_io(e)
                ))
                .with_hint("name one of this host's addresses, or none for all of them"));
            }
            if let Some(e) = taken.filter(|e| e.kind() == std::io::ErrorKind::AddrInUse) {
                return Err(Error::conflict(format!(
                    "host port {}/{} is in use by a program on this host: {}",
                    p.host_port,
                    p.protocol.as_str(),
                    crate::error::plain_io(&e)
                ))
                .with_hint("publish another host port"));
            }
        }
        Ok(())
    }

    /// Writes the container's /etc files: the host's resolvers (those on
    /// loopback cannot be reached from the container), its own name and
    /// address.
    fn write_etc(&self, name: &str, a: &Attachment, out: &Output) -> Result<()> {
        let address = a.address.map(|ip| ip.to_string()).unwrap_or_default();
        let resolv = resolv_conf();
        if !resolv.lines().any(|l| l.starts_with("nameserver")) {
            out.warn(&format!(
                "the host has no name server {name} can reach (those on loopback cannot be): it will resolve no names"
            ));
        }
        let files = [
            ("resolv.conf", resolv),
            (
                "hosts",
                format!(
                    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{address}\t{name}\n"
                ),
            ),
            ("hostname", format!("{name}\n")),
        ];
        for (file, text) in files {
            let p = self.etc_file(name, file);
            std::fs::write(&p, text).map_err(|e| Error::io("cannot write", &p, e))?;
        }
        Ok(())
    }

    /// Undoes what `attach` did for `name`, as far as it got: its ports,
    /// its address, its namespace and its record. Whether there was
    /// anything. Repeating it is harmless.
    pub fn detach(&self, name: &str, out: &Output) -> Result<bool> {
        let dir = self.container_dir(name);
        if !dir.exists() {
            return Ok(false);
        }
        match self.attachment(name) {
            Some(a) => self.unplug(name, &a, &cni::plugin_dir()?, out)?,
            None => {
                // A record never written, or unreadable: the namespace, and
                // the veth in it, go; a lease or port rule could not be named.
                if dir.join(ATTACHMENT).exists() {
                    out.warn(&format!(
                        "{name}'s network record {} cannot be read: its address and ports may stay taken",
                        dir.join(ATTACHMENT).display()
                    ));
                }
                let ns = self.netns(name);
                netns::remove(&ns).map_err(|e| Error::io("cannot remove", &ns, e))?;
            }
        }
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("cannot remove", &dir, e));
            }
            _ => {}
        }
        out.trace(&format!("removed {name}'s network ({})", dir.display()));
        Ok(true)
    }

    /// The CNI DELs of an attachment (portmap, then bridge: ADD's reverse),
    /// and its namespace unpinned; the record stays.
    fn unplug(&self, name: &str, a: &Attachment, plugins: &Path, out: &Output) -> Result<()> {
        let ns = self.netns(name);
        let pinned = netns::is_pinned(&ns);
        let call = cni::Call {
            dir: plugins,
            command: "DEL",
            id: name,
            netns: pinned.then_some(ns.as_path()),
            ifname: "eth0",
            args: None,
        };
        if !a.publish.is_empty() {
            call.run(&self.portmap_config(a), out)?.map_err(|f| {
                Error::failed(format!(
                    "the CNI portmap plugin could not remove {name}'s ports: {}",
                    f.message
                ))
            })?;
        }
        call.run(&self.bridge_config(a), out)?.map_err(|f| {
            Error::failed(format!(
                "the CNI bridge plugin could not remove {name}'s interface: {}",
                f.message
            ))
        })?;
        netns::remove(&ns).map_err(|e| Error::io("cannot remove", &ns, e))
    }

    /// Cleans up after creates and deletes that were killed half-way: the
    /// network of every container `exists` does not know, whose name no
    /// create holds; then the host side of networks no longer defined,
    /// once no container uses them. Errors are warnings: the caller's own
    /// work goes on.
    ///
    /// A container exists while its own directory does (`Attachment::home`),
    /// else while `exists` says so. `held` is the name lock the caller holds:
    /// names that share it are the caller's to clear.
    pub fn sweep(
        &self,
        cfg: &Config,
        exists: &dyn Fn(&str) -> bool,
        held: &crate::backend::NameLock,
        out: &Output,
    ) {
        let gone = |name: &str| match self.attachment(name).and_then(|a| a.home) {
            Some(home) => !home.exists(),
            None => !exists(name),
        };
        for name in self.attached() {
            if !gone(&name) {
                continue;
            }
            let lock = match held.covers(cfg, &name) {
                true => None,
                false => match crate::backend::try_lock_name(cfg, &name) {
                    Ok(Some(l)) => Some(l),
                    // A create or delete of it (or of a name sharing its lock) is running.
                    _ => continue,
                },
            };
            if !gone(&name) {
                continue;
            }
            let _lock = lock;
            match self.detach(&name, out) {
                Ok(true) => out.warn(&format!(
                    "removed the network of {name}, a container that no longer exists"
                )),
                Ok(false) => {}
                Err(e) => out.warn(&format!(
                    "cannot remove the network of {name}, a container that no longer exists: {}",
                    e.message
                )),
            }
        }
        let used: Vec<String> = self
            .attached()
            .iter()
            .filter_map(|n| self.attachment(n))
            .map(|a| a.bridge)
            .collect();
        for (path, r) in bridge::records(&self.networks_dir()) {
            let defined = Network::named(cfg, &r.network).is_ok_and(|n| n.bridge == r.bridge);
            if defined || used.contains(&r.bridge) {
                continue;
            }
            match bridge::remove(&path, &self.networks_dir(), &r, out) {
                Ok(()) => out.warn(&format!(
                    "removed network {} (bridge {}), which the config no longer defines",
                    r.network, r.bridge
                )),
                Err(e) => out.warn(&format!(
                    "cannot remove network {}, which the config no longer defines: {}",
                    r.network, e.message
                )),
            }
        }
    }

    /// What guestkit-doctor says of a network: what it lacks to be joined
    /// here (the CNI plugins, iptables), else its bridge and subnet.
    pub fn inspect(&self, net: &Network) -> Result<String> {
        cni::plugin_dir()?;
        bridge::tools()?;
        bridge::describe(&self.networks_dir(), &net.name, &net.bridge, net.subnet)
    }

    /// Removes the host side of every network made under this state
    /// directory (the tests' clean-up; their containers must be gone).
    pub fn remove_all(&self, out: &Output) -> Result<()> {
        for (path, r) in bridge::records(&self.networks_dir()) {
            bridge::remove(&path, &self.networks_dir(), &r, out)?;
        }
        Ok(())
    }

    fn lock(&self, what: &str) -> Result<std::fs::File> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io("cannot create", &self.dir, e))?;
        crate::backend::lock_file(&self.dir.join(format!("{what}.lock")))
    }
}

/// The host's /etc/resolv.conf for a container: nameservers on loopback
/// (systemd-resolved's stub, dnsmasq) cannot be reached from it, so
/// systemd-resolved's own list of upstream servers is taken then, and any
/// left on loopback are dropped.
fn resolv_conf() -> String {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let host = read("/etc/resolv.conf").unwrap_or_default();
    let on_loopback = |l: &str| {
        l.split_whitespace().nth(1).is_some_and(|a| {
            a.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
        })
    };
    let servers = |t: &str| {
        t.lines()
            .any(|l| l.starts_with("nameserver") && !on_loopback(l))
    };
    let text = match servers(&host) {
        true => host,
        false => read("/run/systemd/resolve/resolv.conf")
            .filter(|t| servers(t))
            .unwrap_or(host),
    };
    text.lines()
        .filter(|l| !(l.starts_with("nameserver") && on_loopback(l)))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs() {
        let p = Publish::parse("8080:80").unwrap();
        assert_eq!(p.to_string(), "8080:80/tcp");
        let p = Publish::parse("127.0.0.1:5353:53/udp").unwrap();
        assert_eq!(p.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(p.to_string(), "127.0.0.1:5353:53/udp");
        assert!(Publish::parse("0:80").unwrap_err().contains("1 to 65535"));
        assert!(
            Publish::parse("70000:80")
                .unwrap_err()
                .contains("1 to 65535")
        );
        assert!(Publish::parse("80").unwrap_err().contains("HOSTPORT:PORT"));
        assert!(Publish::parse("80:80/sctp").unwrap_err().contains("sctp"));
        let all = Publish::parse("8080:80").unwrap();
        let local = Publish::parse("127.0.0.1:8080:81").unwrap();
        let udp = Publish::parse("8080:80/udp").unwrap();
        assert!(all.clashes(&local));
        assert!(!all.clashes(&udp));
    }
}
