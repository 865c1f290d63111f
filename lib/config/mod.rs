//! Configuration: TOML files, environment and flags, in that rising order of
//! precedence: flags > environment > user file > system file > defaults.

use crate::error::{Error, Result};
use crate::guest::{BackendKind, CONTAINER_BACKEND_NAMES, CONTAINER_BACKENDS};
pub mod env;
pub mod secret;

use secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
    #[serde(default)]
    pub lxc: LxcConfig,
    #[serde(default)]
    pub oci: OciConfig,
    #[serde(default)]
    pub proxmox: ProxmoxConfig,
    /// `routes` and `default_backend`, read (`check_backends`).
    #[serde(skip)]
    routing: Vec<(String, BackendKind)>,
    #[serde(skip)]
    default: Option<BackendKind>,
}

/// The Proxmox VE connection. Secrets are given inline, from a file or from a
/// command, and are never printed (see `pve::secret`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxmoxConfig {
    /// API URLs of the cluster's nodes, tried in order: `https://pve1:8006`.
    #[serde(default, deserialize_with = "one_or_many")]
    pub url: Vec<String>,
    /// An API token, `USER@REALM!TOKENID=SECRET`.
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub token_command: Option<String>,
    /// A user for ticket authentication, `root@pam`, with its password.
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
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
    /// The storage for new disks (default local-lvm).
    pub storage: Option<String>,
    /// Seconds to wait for one API answer (default 30).
    pub timeout: Option<f64>,
    /// Seconds to keep retrying an operation on a locked guest (default 10).
    pub lock_wait: Option<f64>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A name pattern with `*` and `?`.
    pub pattern: String,
    pub backend: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LxcConfig {
    /// The LXC container directory (lxc-* -P); default /var/lib/lxc.
    pub lxcpath: Option<PathBuf>,
}

impl Config {
    /// Loads `file` when given (by --config or GUESTKIT_CONFIG), else the system
    /// file overlaid by the user file; then applies the environment.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let env_file = env::GUESTKIT_CONFIG.get().map(PathBuf::from);
        let mut table = toml::Table::new();
        match file.map(Path::to_path_buf).or(env_file) {
            Some(f) => merge(&mut table, read(&f, true)?),
            None => {
                merge(&mut table, read(Path::new(SYSTEM_FILE), false)?);
                if let Some(user) = user_file() {
                    merge(&mut table, read(&user, false)?);
                }
            }
        }
        let mut cfg: Config = table.try_into().map_err(|e: toml::de::Error| {
            Error::invalid(format!("bad configuration: {}", e.message().trim()))
        })?;
        if let Some(b) = env::GUESTKIT_BACKEND.get() {
            cfg.default_backend = Some(b);
        }
        if let Some(p) = env::GUESTKIT_LXC_PATH.get() {
            cfg.lxc.lxcpath = Some(p.into());
        }
        if let Some(p) = env::GUESTKIT_CACHE_DIR.get() {
            cfg.cache_dir = Some(p.into());
        }
        if let Some(p) = env::GUESTKIT_STATE_DIR.get() {
            cfg.state_dir = Some(p.into());
        }
        if let Some(p) = env::GUESTKIT_OCI_ROOT.get() {
            cfg.oci.runtime_root = Some(p.into());
        }
        cfg.proxmox.apply_env();
        cfg.check_backends()?;
        Ok(cfg)
    }

    /// Reads the backends the file names; an unknown one is bad
    /// configuration, found at load time rather than at the first create
    /// that uses it.
    fn check_backends(&mut self) -> Result<()> {
        let known = &CONTAINER_BACKENDS;
        let check = |what: String, b: &str| {
            BackendKind::named(b)
                .filter(|k| known.contains(k))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "bad configuration: {what}: unknown backend {b:?}, expected one of {}",
                        CONTAINER_BACKEND_NAMES.join(", ")
                    ))
                })
        };
        self.default = match self.default_backend.as_deref() {
            Some(b) => Some(check("default_backend".into(), b)?),
            None => None,
        };
        self.routing = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            let kind = check(format!("route {} ({})", i + 1, r.pattern), &r.backend)?;
            self.routing.push((r.pattern.clone(), kind));
        }
        Ok(())
    }

    /// The backend a new container of this name goes to, unless one is
    /// named: the first routing rule that matches, else the default, else lxc.
    pub fn route(&self, name: &str) -> BackendKind {
        self.routing
            .iter()
            .find(|(pattern, _)| crate::guest::names::glob_match(pattern, name))
            .map(|(_, b)| *b)
            .or(self.default)
            .unwrap_or(BackendKind::Lxc)
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

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn user_file() -> Option<PathBuf> {
    let base = env::XDG_CONFIG_HOME
        .get()
        .map(PathBuf::from)
        .or_else(|| env::HOME.get().map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("guestkit/config.toml"))
}

fn read(path: &Path, required: bool) -> Result<toml::Table> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(toml::Table::new());
        }
        Err(e) => {
            return Err(Error::io("cannot read configuration", path, e)
                .with_kind(crate::error::Kind::InvalidInput));
        }
    };
    text.parse::<toml::Table>().map_err(|e| {
        Error::invalid(format!(
            "bad configuration in {}: {}",
            path.display(),
            e.message().trim()
        ))
    })
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
        cfg.check_backends().unwrap();
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
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("defualt_backend = \"lxc\"").is_err());
    }
}
