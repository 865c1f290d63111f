//! Configuration: TOML files, environment and flags, in that rising order of
//! precedence: flags > environment > user file > system file > defaults.

use crate::error::{Error, Result};
use crate::guest::{BackendKind, CONTAINER_BACKEND_NAMES, CONTAINER_BACKENDS};
pub mod env;
pub mod secret;

use secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The system configuration file, read first and overlaid by the user's.
pub const SYSTEM_FILE: &str = "/etc/guestkit/config.toml";

/// The files guestkit reads and writes, for man pages.
pub const FILES: &[(&str, &str)] = &[
    (
        "/etc/guestkit/config.toml",
        "The system configuration file.",
    ),
    (
        "~/.config/guestkit/config.toml",
        "The user configuration file, laid over the system one key by key.",
    ),
    (
        "/var/lib/guestkit/oci/RUNTIME/NAME/",
        "An OCI container's bundle: config.json, rootfs, console.log (its output), runtime.log and guestkit.json.",
    ),
    (
        "/var/lib/guestkit/oci/trash/",
        "Bundles of ctr-run --rm runs that wrote nothing (empty directories and small files), already deleted as containers. A later ctr-run in the foreground on crun or runc removes up to four of them while its runtime starts. Safe to remove by hand at any time.",
    ),
    (
        "/var/lib/guestkit/oci/spare/",
        "The root of the last ctr-run --rm run on crun or runc whose container changed nothing, its overlay left mounted for the next such run of the same image to take (one per image; oci.spare_roots = false turns this off). Unmount before removing by hand, umount /var/lib/guestkit/oci/spare/*/rootfs: rm -r would go into the mount.",
    ),
    (
        "/var/lib/guestkit/net/containers/NAME/",
        "A local container's network: attachment.json (its network, address and published ports), netns (its network namespace, pinned), and the resolv.conf, hosts and hostname mounted at its /etc.",
    ),
    (
        "/var/lib/guestkit/net/networks/, /var/lib/guestkit/net/leases/",
        "The networks made on this host (bridge and subnet), and the CNI host-local plugin's address leases, one directory per bridge.",
    ),
    (
        "/run/crun/, /run/runc/",
        "The runtimes' own state, one directory per container.",
    ),
    (
        "/var/lib/lxc/NAME/",
        "An LXC container: LXC's config, rootfs and console.log, and guestkit.json (image and created time).",
    ),
    (
        "/var/cache/guestkit/images/",
        "Built images (the busybox root filesystem); $XDG_CACHE_HOME/guestkit/images without root.",
    ),
];

/// The configuration, as the files and the environment give it (see
/// `Config::load`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The backend for new containers that no routing rule matches.
    pub default_backend: Option<String>,
    /// Routing rules, first match wins.
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
    /// Where built images (the busybox root filesystem) are cached.
    pub cache_dir: Option<PathBuf>,
    /// Where guestkit keeps what it must remember (OCI bundles).
    pub state_dir: Option<PathBuf>,
    /// The `[lxc]` table.
    #[serde(default)]
    pub lxc: LxcConfig,
    /// The `[oci]` table: crun and runc.
    #[serde(default)]
    pub oci: OciConfig,
    /// The `[proxmox]` table: the Proxmox VE connection.
    #[serde(default)]
    pub proxmox: ProxmoxConfig,
    /// The network new local containers join without --network: a name
    /// from `[networks]` (the built-in `guestkit` among them), or `none`.
    pub default_network: Option<String>,
    /// `[networks.NAME]` tables: NAT bridge networks for local containers.
    #[serde(default)]
    pub networks: std::collections::BTreeMap<String, NetworkConfig>,
    /// `[registries."HOST"]` tables: how to reach an image registry.
    #[serde(default)]
    pub registries: std::collections::BTreeMap<String, RegistryConfig>,
    /// `routes` and `default_backend`, read (`check_backends`).
    #[serde(skip)]
    routing: Vec<(String, BackendKind)>,
    #[serde(skip)]
    default: Option<BackendKind>,
    /// The files read, in order (none: built-in defaults).
    #[serde(skip)]
    pub files: Vec<PathBuf>,
}

/// The Proxmox VE connection. Secrets are given inline, from a file or from a
/// command, and are never printed (see `pve::secret`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxmoxConfig {
    /// API URLs of the cluster's nodes, tried in order: `https://pve1:8006`.
    #[serde(default, deserialize_with = "one_or_many")]
    pub url: Vec<String>,
    /// An API token, `USER@REALM!TOKENID=SECRET`.
    pub token: Option<Secret>,
    /// A file holding the token; line breaks at its end are dropped.
    pub token_file: Option<PathBuf>,
    /// A command (run by sh) that prints the token.
    pub token_command: Option<String>,
    /// A user for ticket authentication, `root@pam`, with its password.
    pub user: Option<String>,
    /// The password, inline.
    pub password: Option<Secret>,
    /// A file holding the password; line breaks at its end are dropped.
    pub password_file: Option<PathBuf>,
    /// A command (run by sh) that prints the password.
    pub password_command: Option<String>,
    /// The SHA-256 fingerprint of the server certificate, `AA:BB:…`, pinned.
    pub fingerprint: Option<String>,
    /// A CA certificate file (PEM) to verify the server with, e.g. a copy of
    /// /etc/pve/pve-root-ca.pem.
    pub ca_file: Option<PathBuf>,
    /// Turn certificate verification off (warned about on every run).
    #[serde(default)]
    pub insecure: bool,
    /// The node new VMs go to (default: the online node with the most free memory).
    pub node: Option<String>,
    /// The storage for new disks (default: the node's storage for disk images with the most room).
    pub storage: Option<String>,
    /// Seconds to wait for one API answer (default 30).
    pub timeout: Option<f64>,
    /// Seconds to keep retrying an operation on a locked guest (default 10).
    pub lock_wait: Option<f64>,
    /// Where ctr-exec and ctr-logs reach a container's node: an ssh
    /// destination, `{node}` standing for the node's name (`root@{node}`).
    pub ssh: Option<String>,
    /// Options for that ssh, before the destination (`["-p", "2222"]`).
    #[serde(default)]
    pub ssh_options: Vec<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => split_urls(&s),
        OneOrMany::Many(v) => v,
    })
}

fn split_urls(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect()
}

/// The `[oci]` table: settings for the crun and runc backends.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OciConfig {
    /// The runtimes' --root, with one directory per runtime under it; default
    /// each runtime's own (/run/crun, /run/runc).
    pub runtime_root: Option<PathBuf>,
    /// Whether `ctr-run --rm` keeps the root of a run that changed nothing
    /// mounted for the next (see backend/oci/spare.rs); default true.
    pub spare_roots: Option<bool>,
}

/// A `[networks.NAME]` table: a NAT bridge network local containers join.
/// The built-in network `guestkit` exists without one; its table changes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The host bridge it is made on (at most 15 characters); default
    /// `gk-NAME`, `guestkit0` for the network `guestkit`.
    pub bridge: Option<String>,
    /// Its IPv4 subnet; default: the first /24 from 10.77.0.0 that no host
    /// route or address overlaps, chosen when the bridge is first made.
    pub subnet: Option<String>,
}

/// A `[registries."HOST"]` table: how to reach the image registry at HOST
/// (`HOST:PORT` when it has a port).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// A CA file (PEM) its certificate is verified with; default the public CAs.
    pub ca_file: Option<PathBuf>,
    /// Plain HTTP, with no TLS at all: for a registry on a trusted network.
    #[serde(default)]
    pub insecure: bool,
    /// A user to log in as, with `password` or `password_file`.
    pub username: Option<String>,
    /// The user's password (or token).
    pub password: Option<Secret>,
    /// A file holding the password.
    pub password_file: Option<PathBuf>,
}

/// The built-in network new local containers join unless the config or
/// --network says otherwise.
pub const DEFAULT_NETWORK: &str = "guestkit";

impl Config {
    /// The bridge of network `name`: as configured, else `guestkit0` for
    /// the built-in network and `gk-NAME` (cut to the 15 bytes an
    /// interface name may have) for others.
    pub fn bridge_of(&self, name: &str) -> String {
        match self.networks.get(name).and_then(|t| t.bridge.clone()) {
            Some(b) => b,
            None if name == DEFAULT_NETWORK => "guestkit0".to_string(),
            None => format!("gk-{}", &name[..name.len().min(12)]),
        }
    }
}

/// A routing rule (`[[route]]`): new containers whose name matches
/// `pattern` go to `backend`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A name pattern with `*` and `?`.
    pub pattern: String,
    /// A container backend's name: lxc, crun or runc (checked at load).
    pub backend: String,
}

/// The `[lxc]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LxcConfig {
    /// The LXC container directory (lxc-* -P); default /var/lib/lxc.
    pub lxcpath: Option<PathBuf>,
}

impl Config {
    /// Loads `file` when given (by --config or GUESTKIT_CONFIG), else the system
    /// file overlaid by the user file; then applies the environment. A
    /// mistake is reported with its file, line, column and key, or with
    /// the variable it came from.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let env_file = env::GUESTKIT_CONFIG.get().map(PathBuf::from);
        let files: Vec<(PathBuf, bool)> = match file.map(Path::to_path_buf).or(env_file) {
            Some(f) => vec![(f, true)],
            None => std::iter::once(PathBuf::from(SYSTEM_FILE))
                .chain(user_file())
                .map(|f| (f, false))
                .collect(),
        };
        let mut sources = Sources::default();
        let mut table = toml::Table::new();
        for (path, required) in files {
            let Some(text) = read(&path, required)? else {
                continue;
            };
            // Each file alone first, so that a mistake is found in its text.
            let doc: toml::Table = text.parse().map_err(|e| bad_text(&path, &text, &e))?;
            toml::from_str::<Config>(&text).map_err(|e| bad_text(&path, &text, &e))?;
            merge(&mut table, doc);
            sources.files.push((path, text));
        }
        let mut cfg: Config = table.try_into().map_err(|e: toml::de::Error| {
            Error::invalid(format!("bad configuration: {}", e.message().trim()))
        })?;
        let mut set = |var: &'static env::Var, key: &'static str| {
            let v = var.get();
            if v.is_some() {
                sources.env.push((key, var.name));
            }
            v
        };
        if let Some(b) = set(&env::GUESTKIT_BACKEND, "default_backend") {
            cfg.default_backend = Some(b);
        }
        if let Some(p) = set(&env::GUESTKIT_LXC_PATH, "lxc.lxcpath") {
            cfg.lxc.lxcpath = Some(p.into());
        }
        if let Some(p) = set(&env::GUESTKIT_CACHE_DIR, "cache_dir") {
            cfg.cache_dir = Some(p.into());
        }
        if let Some(p) = set(&env::GUESTKIT_STATE_DIR, "state_dir") {
            cfg.state_dir = Some(p.into());
        }
        if let Some(n) = set(&env::GUESTKIT_NETWORK, "default_network") {
            cfg.default_network = Some(n);
        }
        if let Some(p) = set(&env::GUESTKIT_OCI_ROOT, "oci.runtime_root") {
            cfg.oci.runtime_root = Some(p.into());
        }
        cfg.proxmox.apply_env();
        cfg.check(&sources)?;
        cfg.files = sources.files.iter().map(|(p, _)| p.clone()).collect();
        Ok(cfg)
    }

    /// The settings only their meaning can check: backends that exist and
    /// directories given as absolute paths. Found at load time rather than
    /// at the first create that uses them.
    fn check(&mut self, sources: &Sources) -> Result<()> {
        let bad = |key: &str, why: String| {
            Error::invalid(format!("bad configuration: {}{why}", sources.naming(key)))
        };
        let backend = |key: &str, b: &str| {
            BackendKind::named(b)
                .filter(|k| CONTAINER_BACKENDS.contains(k))
                .ok_or_else(|| {
                    bad(
                        key,
                        format!(
                            "unknown backend {}, expected one of {}",
                            crate::guest::names::quote(b),
                            CONTAINER_BACKEND_NAMES.join(", ")
                        ),
                    )
                })
        };
        self.default = match self.default_backend.as_deref() {
            Some(b) => Some(backend("default_backend", b)?),
            None => None,
        };
        self.routing = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            let kind = backend(&format!("route[{}].backend", i + 1), &r.backend)?;
            self.routing.push((r.pattern.clone(), kind));
        }
        let dirs = [
            ("state_dir", &self.state_dir),
            ("cache_dir", &self.cache_dir),
            ("lxc.lxcpath", &self.lxc.lxcpath),
            ("oci.runtime_root", &self.oci.runtime_root),
        ];
        for (key, dir) in dirs {
            if let Some(d) = dir.as_ref().filter(|d| !d.is_absolute()) {
                let shown = crate::guest::names::quote(&d.to_string_lossy());
                return Err(bad(key, format!("{shown} is not an absolute path")));
            }
        }
        for (name, n) in &self.networks {
            crate::guest::names::check_network(name)
                .map_err(|why| bad(&format!("networks.{name}"), why))?;
            if let Some(b) = &n.bridge {
                crate::guest::names::check_interface(b)
                    .map_err(|why| bad(&format!("networks.{name}.bridge"), why))?;
            }
            if let Some(s) = &n.subnet {
                let subnet = crate::guest::subnet::Subnet::parse(s)
                    .map_err(|why| bad(&format!("networks.{name}.subnet"), why))?;
                if !(8..=30).contains(&subnet.prefix) {
                    return Err(bad(
                        &format!("networks.{name}.subnet"),
                        format!("{subnet} is not a prefix from /8 to /30"),
                    ));
                }
            }
        }
        let mut bridges: Vec<(String, &str)> = std::iter::once(DEFAULT_NETWORK)
            .chain(
                self.networks
                    .keys()
                    .map(String::as_str)
                    .filter(|n| *n != DEFAULT_NETWORK),
            )
            .map(|n| (self.bridge_of(n), n))
            .collect();
        bridges.sort();
        if let Some(w) = bridges.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(bad(
                &format!("networks.{}", w[1].1),
                format!(
                    "networks {} and {} would share the bridge {}: give each a bridge of its own",
                    w[0].1, w[1].1, w[0].0
                ),
            ));
        }
        if let Some(d) = self.default_network.as_deref()
            && d != "none"
            && d != DEFAULT_NETWORK
            && !self.networks.contains_key(d)
        {
            return Err(bad(
                "default_network",
                format!(
                    "no network {} is defined: the networks are none, {DEFAULT_NETWORK}{}",
                    crate::guest::names::quote(d),
                    self.networks
                        .keys()
                        .filter(|k| *k != DEFAULT_NETWORK)
                        .map(|k| format!(", {k}"))
                        .collect::<String>()
                ),
            ));
        }
        // LXC's own directory is made when LXC is installed: a configured
        // one that does not exist is a mistake, not a first run.
        if let Some(p) = self.lxc.lxcpath.as_ref().filter(|p| !p.is_dir()) {
            let shown = crate::guest::names::quote(&p.to_string_lossy());
            return Err(bad("lxc.lxcpath", format!("{shown} does not exist")));
        }
        Ok(())
    }

    /// The backend new containers go to when no routing rule matches.
    pub fn default_backend(&self) -> BackendKind {
        self.default.unwrap_or(BackendKind::Lxc)
    }

    /// The backend a new container of this name goes to, unless one is
    /// named: the first routing rule that matches, else the default, else lxc.
    pub fn route(&self, name: &str) -> BackendKind {
        self.routing
            .iter()
            .find(|(pattern, _)| crate::guest::names::glob_match(pattern, name))
            .map(|(_, b)| *b)
            .unwrap_or_else(|| self.default_backend())
    }

    /// /var/lib/guestkit as root, else $XDG_DATA_HOME/guestkit.
    pub fn state_dir(&self) -> PathBuf {
        dir(
            &self.state_dir,
            "/var/lib/guestkit",
            &env::XDG_DATA_HOME,
            ".local/share",
            "/tmp/guestkit-state",
        )
    }

    /// /var/cache/guestkit as root, else $XDG_CACHE_HOME/guestkit.
    pub fn cache_dir(&self) -> PathBuf {
        dir(
            &self.cache_dir,
            "/var/cache/guestkit",
            &env::XDG_CACHE_HOME,
            ".cache",
            "/tmp/guestkit-cache",
        )
    }
}

impl ProxmoxConfig {
    /// guestkit's own variables, else the ones terraform-provider-proxmox
    /// users already have. A token from the environment replaces a user and
    /// password from the files, so the two never mix.
    fn apply_env(&mut self) {
        if let Some(u) = env::GUESTKIT_PVE_URL.get() {
            self.url = split_urls(&u);
        }
        if let Some(t) = env::GUESTKIT_PVE_TOKEN.get() {
            self.token = Some(Secret::new(t));
            (self.token_file, self.token_command) = (None, None);
        }
        if let Some(u) = env::GUESTKIT_PVE_USER.get() {
            self.user = Some(u);
        }
        if let Some(p) = env::GUESTKIT_PVE_PASSWORD.get() {
            self.password = Some(Secret::new(p));
            (self.password_file, self.password_command) = (None, None);
        }
        if let Some(f) = env::GUESTKIT_PVE_FINGERPRINT.get() {
            self.fingerprint = Some(f);
        }
        if let Some(f) = env::GUESTKIT_PVE_CA.get() {
            self.ca_file = Some(f.into());
        }
        if let Some(v) = env::GUESTKIT_PVE_INSECURE.get() {
            self.insecure = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(n) = env::GUESTKIT_PVE_NODE.get() {
            self.node = Some(n);
        }
    }
}

/// A directory of guestkit's: as configured, else the system one as root,
/// else the XDG one (`$XDG_…/guestkit`, default `~/<home_default>/guestkit`).
fn dir(
    given: &Option<PathBuf>,
    as_root: &str,
    xdg: &env::Var,
    home_default: &str,
    fallback: &str,
) -> PathBuf {
    if let Some(d) = given {
        return d.clone();
    }
    if is_root() {
        return PathBuf::from(as_root);
    }
    match (xdg.get(), env::HOME.get()) {
        (Some(x), _) => PathBuf::from(x).join("guestkit"),
        (None, Some(h)) => PathBuf::from(h).join(home_default).join("guestkit"),
        _ => PathBuf::from(fallback),
    }
}

/// Whether this process runs as root (effective UID 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The directories where installed data (completions, man pages) is
/// looked for, the user's first: $XDG_DATA_HOME (~/.local/share), then
/// $XDG_DATA_DIRS (/usr/local/share:/usr/share), as the XDG base
/// directory specification orders them.
pub fn data_dirs() -> Vec<PathBuf> {
    let home = env::XDG_DATA_HOME.get().map(PathBuf::from).or_else(|| {
        env::HOME
            .get()
            .map(|h| PathBuf::from(h).join(".local/share"))
    });
    let system = env::XDG_DATA_DIRS
        .get()
        .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    home.into_iter()
        .chain(
            system
                .split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
        )
        .collect()
}

/// Where a new configuration goes when no file is named: the file
/// GUESTKIT_CONFIG names, else /etc/guestkit/config.toml as root, else the
/// user's ($XDG_CONFIG_HOME/guestkit/config.toml).
pub fn default_file() -> PathBuf {
    if let Some(f) = env::GUESTKIT_CONFIG.get() {
        return PathBuf::from(f);
    }
    match (is_root(), user_file()) {
        (false, Some(f)) => f,
        _ => PathBuf::from(SYSTEM_FILE),
    }
}

fn user_file() -> Option<PathBuf> {
    let base = env::XDG_CONFIG_HOME
        .get()
        .map(PathBuf::from)
        .or_else(|| env::HOME.get().map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("guestkit/config.toml"))
}

/// A configuration file's text; `None` when an optional one is absent.
fn read(path: &Path, required: bool) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
        Err(e) => Err(Error::io("cannot read configuration", path, e)
            .with_kind(crate::error::Kind::InvalidInput)),
    }
}

/// Where the settings came from: the files read, in order, with their
/// text, and the keys the environment set.
#[derive(Default)]
struct Sources {
    files: Vec<(PathBuf, String)>,
    env: Vec<(&'static str, &'static str)>,
}

impl Sources {
    /// How a message names a setting: `VARIABLE: ` when the environment
    /// set it, else `FILE:LINE:COL: KEY: ` of its value in the last file
    /// that sets it.
    fn naming(&self, key: &str) -> String {
        if let Some((_, var)) = self.env.iter().rev().find(|(k, _)| *k == key) {
            return format!("{var}: ");
        }
        for (path, text) in self.files.iter().rev() {
            if let Some((line, col)) = locate(text, key) {
                return format!("{}:{line}:{col}: {key}: ", path.display());
            }
        }
        format!("{key}: ")
    }
}

/// A file's syntax or type error: `FILE:LINE:COL: KEY: MESSAGE`.
fn bad_text(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let offset = e.span().map_or(0, |s| s.start).min(text.len());
    let (line, col) = line_col(text, offset);
    let key = key_at(text, offset)
        .map(|k| format!("{k}: "))
        .unwrap_or_default();
    Error::invalid(format!(
        "bad configuration: {}:{line}:{col}: {key}{}",
        path.display(),
        e.message().trim()
    ))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// The key of each line of a TOML text, as a path: `default_backend`,
/// `proxmox.timeout`, `route[2].backend`; a table header's own line gives
/// the table's path. With the byte offset of the line and of its value.
fn keys(text: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut arrays: std::collections::HashMap<String, usize> = Default::default();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let indent = line.len() - line.trim_start().len();
        if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let n = arrays.entry(name.trim().to_string()).or_default();
            *n += 1;
            table = format!("{}[{n}]", name.trim());
            out.push((table.clone(), offset, offset + indent));
        } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = name.trim().to_string();
            out.push((table.clone(), offset, offset + indent));
        } else if let Some((k, _)) = t.split_once('=').filter(|_| !t.starts_with('#')) {
            let key = k.trim().trim_matches('"');
            let value = line.find('=').map_or(0, |i| {
                i + 1 + (line[i + 1..].len() - line[i + 1..].trim_start().len())
            });
            let path = match table.as_str() {
                "" => key.to_string(),
                t => format!("{t}.{key}"),
            };
            out.push((path, offset, offset + value));
        }
        offset += line.len();
    }
    out
}

/// The key whose line holds this byte offset.
fn key_at(text: &str, offset: usize) -> Option<String> {
    keys(text)
        .into_iter()
        .take_while(|(_, line, _)| *line <= offset)
        .last()
        .filter(|(_, line, _)| text[*line..offset].lines().count() <= 1)
        .map(|(k, _, _)| k)
}

/// Where a key's value starts, as line and column.
fn locate(text: &str, key: &str) -> Option<(usize, usize)> {
    let (_, _, value) = keys(text).into_iter().rfind(|(k, _, _)| k == key)?;
    Some(line_col(text, value))
}

/// Overlays `top` on `base`, table by table.
fn merge(base: &mut toml::Table, top: toml::Table) {
    for (k, v) in top {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => merge(b, t),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_first_match_then_default() {
        let mut cfg: Config = toml::from_str(
            "default_backend = \"runc\"\n[[route]]\npattern = \"kube-ovn-*\"\nbackend = \"crun\"\n[[route]]\npattern = \"kube-*\"\nbackend = \"lxc\"\n",
        )
        .unwrap();
        cfg.check(&Sources::default()).unwrap();
        assert_eq!(cfg.route("kube-ovn-cni"), BackendKind::Crun);
        assert_eq!(cfg.route("kube-proxy"), BackendKind::Lxc);
        assert_eq!(cfg.route("web"), BackendKind::Runc);
    }

    #[test]
    fn user_file_overrides_system_file_key_by_key() {
        let mut t: toml::Table = "cache_dir = \"/a\"\n[lxc]\nlxcpath = \"/sys-lxc\"\n"
            .parse()
            .unwrap();
        merge(&mut t, "[lxc]\nlxcpath = \"/user-lxc\"\n".parse().unwrap());
        let cfg: Config = t.try_into().unwrap();
        assert_eq!(cfg.cache_dir.unwrap(), PathBuf::from("/a"));
        assert_eq!(cfg.lxc.lxcpath.unwrap(), PathBuf::from("/user-lxc"));
    }

    #[test]
    fn keys_are_found_by_their_lines() {
        let text = "default_backend = \"lxc\"\n[[route]]\npattern = \"a*\"\nbackend = \"crun\"\n[[route]]\n  backend = \"runc\"\n[proxmox]\ntimeout = 3\n";
        assert_eq!(locate(text, "default_backend"), Some((1, 19)));
        assert_eq!(locate(text, "route[1].backend"), Some((4, 11)));
        assert_eq!(locate(text, "route[2].backend"), Some((6, 13)));
        assert_eq!(locate(text, "proxmox.timeout"), Some((8, 11)));
        assert_eq!(locate(text, "nope"), None);
        let at = text.find("3").unwrap();
        assert_eq!(key_at(text, at).as_deref(), Some("proxmox.timeout"));
        assert_eq!(
            key_at(text, text.find("[[route]]").unwrap()).as_deref(),
            Some("route[1]")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("defualt_backend = \"lxc\"").is_err());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::guest::arbitrary::text;
    use proptest::prelude::*;

    /// A line of something like a configuration file: a known key or table
    /// with a value of any kind, or anything at all.
    fn line() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("default_backend"),
            Just("state_dir"),
            Just("cache_dir"),
            Just("timeout"),
            Just("lxcpath"),
            Just("url"),
            Just("backend"),
            Just("pattern"),
        ];
        let value = prop_oneof![
            Just("\"lxc\"".to_string()),
            Just("\"relative\"".to_string()),
            Just("\"/abs\"".to_string()),
            Just("5".to_string()),
            Just("1.5".to_string()),
            Just("true".to_string()),
            Just("[\"a\", 1]".to_string()),
            Just("\"unterminated".to_string()),
            ".{0,10}",
        ];
        prop_oneof![
            (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
            Just("[lxc]".to_string()),
            Just("[proxmox]".to_string()),
            Just("[[route]]".to_string()),
            Just("[oci]".to_string()),
            text(),
        ]
    }

    proptest! {
        #[test]
        fn any_file_is_a_config_or_an_error_that_points_into_it(lines in prop::collection::vec(line(), 0..12)) {
            let text = lines.join("\n");
            let path = Path::new("/etc/guestkit/config.toml");
            let parsed = toml::from_str::<Config>(&text).map_err(|e| bad_text(path, &text, &e));
            match parsed {
                Ok(mut cfg) => {
                    let sources = Sources { files: vec![(path.into(), text.clone())], env: vec![] };
                    if let Err(e) = cfg.check(&sources) {
                        prop_assert_eq!(e.kind, crate::error::Kind::InvalidInput);
                    }
                }
                Err(e) => {
                    prop_assert_eq!(e.kind, crate::error::Kind::InvalidInput);
                    prop_assert!(e.message.contains("/etc/guestkit/config.toml:"), "{}", e.message);
                }
            }
        }

        #[test]
        fn keys_are_found_at_any_offset(t in text(), at in any::<prop::sample::Index>()) {
            let offset = if t.is_empty() { 0 } else { at.index(t.len()) };
            let offset = (0..=offset).rev().find(|i| t.is_char_boundary(*i)).unwrap_or(0);
            let _ = key_at(&t, offset);
            let (line, col) = line_col(&t, offset);
            prop_assert!(line >= 1 && col >= 1);
            for (key, _, _) in keys(&t) {
                prop_assert!(locate(&t, &key).is_some());
            }
        }
    }
}
