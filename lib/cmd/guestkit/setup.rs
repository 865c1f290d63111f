//! guestkit-setup: the configuration wizard. On a terminal it asks, one
//! question at a time, each answer checked before the next; otherwise
//! every answer comes from flags. Nothing is written until every answer is
//! in, so Ctrl-C at any question leaves no file behind.

use crate::backend;
use crate::cli::prompt;
use crate::cli::spec::{Command, Complete, Effect, Prints, option, repeated, switch};
use crate::config::ProxmoxConfig;
use crate::config::secret::Secret;
use crate::error::{Error, Kind, Result};
use crate::guest::record::Setup;
use crate::guest::{BackendKind, CONTAINER_BACKENDS, GuestKind};
use crate::output::{Column, col};
use crate::pve::client::{Client, api_base};
use crate::pve::{access, node, tls};
use crate::run::Ctx;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// guestkit-setup's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "guestkit-setup",
    kind: GuestKind::Container,
    about: "write guestkit's configuration, asking or from flags",
    description: "Writes the configuration file (--config FILE, else GUESTKIT_CONFIG, else /etc/guestkit/config.toml as root, else ~/.config/guestkit/config.toml).\n\nOn a terminal it asks, one question at a time, each answer checked before the next: the default backend for new containers (only the backends that work here are offered; the others are named with what they lack); whether to connect a Proxmox VE cluster, and then its URLs, the certificate each node presents (its SHA-256 fingerprint, subject and validity, pinned only when you say so, or a CA file instead), an API token (tried at once; the privileges it lacks are named), where to keep the token (in the file, mode 0600; in a file of its own; or a command that prints it), and the default node and storage, offered from what the cluster has.\n\nOff a terminal, or with --non-interactive, every answer comes from flags: --backend (default: the first backend that works here), and for a cluster --pve-url with one of --pve-fingerprint, --pve-ca or --trust-on-first-use, and the credentials from --pve-token-file, --pve-token-command, --pve-user with --pve-password-file, or GUESTKIT_PVE_TOKEN (then written into the file, mode 0600; a secret never goes on a command line). A missing answer is a usage error (exit 2); the credentials are tried as on a terminal.\n\nAn existing file is replaced only with --force, and then kept as FILE.bak. The file written is shown on stderr with every secret left out, and never a secret anywhere else.",
    args: &[],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("guestkit-setup", "Answer the questions."),
        (
            "guestkit-setup --non-interactive --backend runc",
            "Containers on runc by default; no cluster.",
        ),
        (
            "guestkit-setup --non-interactive --pve-url https://pve1:8006 --pve-url https://pve2:8006 --trust-on-first-use --pve-token-file /etc/guestkit/pve-token",
            "From configuration management: a cluster of two nodes, their certificates pinned as they are now.",
        ),
        (
            "guestkit-setup --non-interactive --force --config gk.toml | jq .backup",
            "Replace a file, and say where the old one went.",
        ),
        (
            "guestkit-setup --non-interactive | from json | get file",
            "The file written, in nushell.",
        ),
    ],
    prints: Prints::Setup,
    effect: Effect::Reads,
};

crate::flags! {
    /// guestkit-setup's flags.
    pub struct Args {
        non_interactive: bool = switch(
            "non-interactive",
            None,
            "Ask nothing: every answer from the flags (as off a terminal)",
        ),
        force: bool = switch(
            "force",
            None,
            "Replace an existing configuration file; it is kept as FILE.bak",
        ),
        pve_url: Vec<String> = repeated(
            "pve-url",
            None,
            "URL",
            "A Proxmox VE node's API URL, https://HOST[:8006] (repeatable: the cluster's nodes, tried in order)",
            Complete::Nothing,
        ),
        pve_fingerprint: Option<String> = option(
            "pve-fingerprint",
            None,
            "SHA256",
            "Pin this certificate fingerprint, 32 hex bytes as AA:BB:CC (comma-separated, one per node)",
            Complete::Nothing,
        ),
        trust_on_first_use: bool = switch(
            "trust-on-first-use",
            None,
            "Pin the certificates the nodes present now, without a question",
        ),
        pve_ca: Option<PathBuf> = option(
            "pve-ca",
            None,
            "FILE",
            "Verify the nodes with this CA file (a copy of /etc/pve/pve-root-ca.pem) instead of a pin",
            Complete::File,
        ),
        pve_token_file: Option<PathBuf> = option(
            "pve-token-file",
            None,
            "FILE",
            "The API token USER@REALM!ID=SECRET is in this file (written as token_file)",
            Complete::File,
        ),
        pve_token_command: Option<String> = option(
            "pve-token-command",
            None,
            "COMMAND",
            "The API token is what this command prints (written as token_command)",
            Complete::Nothing,
        ),
        pve_user: Option<String> = option(
            "pve-user",
            None,
            "USER@REALM",
            "Log in as this user rather than with a token (with --pve-password-file)",
            Complete::Nothing,
        ),
        pve_password_file: Option<PathBuf> = option(
            "pve-password-file",
            None,
            "FILE",
            "The user's password is in this file (written as password_file)",
            Complete::File,
        ),
        pve_node: Option<String> = option(
            "pve-node",
            None,
            "NODE",
            "The node new VMs go to (default: the one with the most free memory, each time)",
            Complete::Nothing,
        ),
        pve_storage: Option<String> = option(
            "pve-storage",
            None,
            "STORAGE",
            "The storage for new disks (default: the node's with the most room, each time)",
            Complete::Nothing,
        ),
    }
}

const COLUMNS: &[Column] = &[
    col("FILE", "file"),
    col("BACKUP", "backup"),
    col("BACKEND", "default_backend"),
    col("CLUSTER", "cluster"),
    col("SECRET", "secret"),
];

/// How the nodes' certificates are trusted.
enum Trust {
    Pins(Vec<String>),
    CaFile(PathBuf),
}

/// The cluster's credentials: an API token, or a user and password.
struct Credentials {
    /// `None`: a token.
    user: Option<String>,
    secret: Keep,
}

/// Where the secret is kept.
enum Keep {
    /// In the configuration file (then mode 0600).
    Inline(Secret),
    /// In a file of its own beside the configuration, written by setup.
    OwnFile(Secret),
    /// In a file the user has (`token_file`, `password_file`).
    File(PathBuf),
    /// What a command prints (`token_command`, `password_command`).
    Command(String),
}

impl Credentials {
    fn token(secret: Keep) -> Credentials {
        Credentials { user: None, secret }
    }

    /// The configuration key of the secret: token or password.
    fn key(&self) -> &'static str {
        match self.user {
            None => "token",
            Some(_) => "password",
        }
    }
}

struct Cluster {
    urls: Vec<String>,
    trust: Trust,
    credentials: Credentials,
    node: Option<String>,
    storage: Option<String>,
}

/// Takes the answers (asked on a terminal, else from the flags), writes the
/// configuration file, and prints one record of what it wrote.
pub fn run(ctx: &Ctx, a: Args) -> Result<u8> {
    let given = ctx
        .common
        .config
        .clone()
        .unwrap_or_else(crate::config::default_file);
    // Absolute, so that a secret file beside it is written as one the
    // tools find from any directory.
    let file = std::path::absolute(&given).map_err(|e| Error::io("cannot place", &given, e))?;
    // Checked first, so that nobody answers every question in vain.
    writable(&file, a.force)?;
    let asking = !a.non_interactive && prompt::interactive();
    let (backend, cluster) = match asking {
        true => (ask_backend(ctx)?, ask_cluster(ctx, &file)?),
        false => (flag_backend(ctx)?, flag_cluster(ctx, &a)?),
    };
    let record = write(ctx, &file, backend, cluster.as_ref(), a.force)?;
    ctx.out.records(&[record], COLUMNS);
    Ok(0)
}

/// Whether a file may be written at `path`: not there (a dangling symlink
/// counts as there), or there and `force`; in a directory this process
/// may write in, or make.
fn writable(path: &Path, force: bool) -> Result<()> {
    if path.symlink_metadata().is_ok() && !force {
        return Err(Error::conflict(format!(
            "{} exists; guestkit-setup replaces it only with --force",
            path.display()
        ))
        .with_hint(
            "--force keeps the old file as FILE.bak; guestkit-doctor checks the one there",
        ));
    }
    match crate::os::sys::can_make(path) {
        Ok(()) => Ok(()),
        Err(nearest) => Err(Error::denied(format!(
            "{} cannot be written: {} is not writable",
            path.display(),
            nearest.display()
        ))
        .with_hint("run as root, or give --config FILE in a directory of your own")),
    }
}

/// What each local backend says of itself here.
fn backends(ctx: &Ctx) -> Vec<(BackendKind, Result<String>)> {
    CONTAINER_BACKENDS
        .into_iter()
        .filter(|k| *k != BackendKind::Proxmox)
        .map(|k| {
            (
                k,
                backend::by_kind(&ctx.cfg, k).and_then(|b| b.inspect(&ctx.out)),
            )
        })
        .collect()
}

fn flag_backend(ctx: &Ctx) -> Result<BackendKind> {
    let found = backends(ctx);
    if let Some(want) = ctx.backend_flag() {
        return match found.into_iter().find(|(k, _)| *k == want) {
            Some((k, Ok(_))) => Ok(k),
            Some((_, Err(e))) => Err(e),
            None => Err(Error::usage(format!(
                "--backend {want}: the default backend is one of lxc, crun, runc"
            ))),
        };
    }
    found
        .iter()
        .find(|(_, r)| r.is_ok())
        .map(|(k, _)| *k)
        .ok_or_else(|| no_backend(&found))
}

fn no_backend(found: &[(BackendKind, Result<String>)]) -> Error {
    let why: Vec<String> = found
        .iter()
        .filter_map(|(k, r)| r.as_ref().err().map(|e| format!("{k}: {}", e.message)))
        .collect();
    Error::unavailable(format!(
        "no container backend works here ({})",
        why.join("; ")
    ))
    .with_hint(
        "install lxc, crun or runc (apt-get install lxc crun runc); guestkit-doctor says more",
    )
}

fn ask_backend(ctx: &Ctx) -> Result<BackendKind> {
    let found = backends(ctx);
    let working: Vec<(BackendKind, String)> = found
        .iter()
        .filter_map(|(k, r)| r.as_ref().ok().map(|m| (*k, format!("{k}: {m}"))))
        .collect();
    if working.is_empty() {
        return Err(no_backend(&found));
    }
    let not_offered: Vec<String> = found
        .iter()
        .filter_map(|(k, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("{k} ({})", e.hint.as_deref().unwrap_or(&e.message)))
        })
        .collect();
    let help = match not_offered.is_empty() {
        true => "↑↓ to move, Enter to choose".to_string(),
        false => format!("not offered: {}", not_offered.join("; ")),
    };
    let labels = working.iter().map(|(_, l)| l.clone()).collect();
    let i = prompt::select("Default backend for new containers?", labels, &help)?;
    Ok(working[i].0)
}

/// The cluster from the flags; none without --pve-url.
fn flag_cluster(ctx: &Ctx, a: &Args) -> Result<Option<Cluster>> {
    if a.pve_url.is_empty() {
        let stray = [
            ("--pve-fingerprint", a.pve_fingerprint.is_some()),
            ("--trust-on-first-use", a.trust_on_first_use),
            ("--pve-ca", a.pve_ca.is_some()),
            ("--pve-token-file", a.pve_token_file.is_some()),
            ("--pve-token-command", a.pve_token_command.is_some()),
            ("--pve-user", a.pve_user.is_some()),
            ("--pve-password-file", a.pve_password_file.is_some()),
            ("--pve-node", a.pve_node.is_some()),
            ("--pve-storage", a.pve_storage.is_some()),
        ];
        if let Some((flag, _)) = stray.iter().find(|(_, given)| *given) {
            return Err(Error::usage(format!(
                "{flag} is for a cluster: give --pve-url too"
            )));
        }
        return Ok(None);
    }
    for u in &a.pve_url {
        api_base(u).map_err(|e| Error::usage(e.message))?;
    }
    let trust = match (&a.pve_fingerprint, &a.pve_ca, a.trust_on_first_use) {
        (Some(fp), None, false) => {
            let pins: Vec<String> = fp.split(',').map(|s| s.trim().to_string()).collect();
            for p in &pins {
                tls::parse_fingerprint(p).map_err(|e| Error::usage(e.message))?;
            }
            Trust::Pins(pins)
        }
        (None, Some(ca), false) => Trust::CaFile(absolute(ca)?),
        (None, None, true) => {
            let mut pins = Vec::new();
            for u in &a.pve_url {
                pins.push(presented(u)?.fingerprint);
            }
            Trust::Pins(pins)
        }
        (None, None, false) => {
            return Err(Error::usage(
                "--pve-url needs a way to trust the nodes: --pve-fingerprint, --pve-ca or --trust-on-first-use",
            ));
        }
        _ => {
            return Err(Error::usage(
                "--pve-fingerprint, --pve-ca and --trust-on-first-use exclude each other",
            ));
        }
    };
    let token = crate::config::env::GUESTKIT_PVE_TOKEN.get();
    let credentials = match (
        &a.pve_token_file,
        &a.pve_token_command,
        &a.pve_user,
        &a.pve_password_file,
        token,
    ) {
        (Some(f), None, None, None, _) => Credentials::token(Keep::File(absolute(f)?)),
        (None, Some(c), None, None, _) => Credentials::token(Keep::Command(c.clone())),
        (None, None, Some(u), Some(p), _) => Credentials {
            user: Some(u.clone()),
            secret: Keep::File(absolute(p)?),
        },
        (None, None, Some(_), None, _) => {
            return Err(Error::usage("--pve-user needs --pve-password-file"));
        }
        (None, None, None, None, Some(t)) => Credentials::token(Keep::Inline(Secret::new(t))),
        (None, None, None, None, None) => {
            return Err(Error::usage(
                "--pve-url needs credentials: --pve-token-file, --pve-token-command, --pve-user with --pve-password-file, or GUESTKIT_PVE_TOKEN in the environment",
            ));
        }
        _ => {
            return Err(Error::usage(
                "give one kind of credentials: a token (--pve-token-file or --pve-token-command) or a user (--pve-user, --pve-password-file)",
            ));
        }
    };
    let mut cluster = Cluster {
        urls: a.pve_url.clone(),
        trust,
        credentials,
        node: None,
        storage: None,
    };
    let c = connect(ctx, &cluster)?;
    let missing = access::missing(&access::privileges(&c)?);
    if !missing.is_empty() {
        ctx.out.warn(&lacks(&missing));
    }
    if let Some(n) = &a.pve_node {
        let nodes = node::online(&c)?;
        if !nodes.contains(n) {
            return Err(Error::not_found(format!(
                "--pve-node {n}: no such online node (the cluster has {})",
                nodes.join(", ")
            )));
        }
        cluster.node = Some(n.clone());
    }
    if let Some(s) = &a.pve_storage {
        let on = match &cluster.node {
            Some(n) => n.clone(),
            None => node::pick(&c, None)?,
        };
        let storages = node::storages_with(&c, &on, "images")?;
        if !storages.contains(s) {
            return Err(Error::not_found(format!(
                "--pve-storage {s}: node {on} has no such storage for disk images (it has {})",
                storages.join(", ")
            )));
        }
        cluster.storage = Some(s.clone());
    }
    Ok(Some(cluster))
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(p).map_err(|e| Error::io("cannot find", p, e).with_kind(Kind::Usage))
}

fn host_port(url: &str) -> Result<String> {
    let base = api_base(url)?;
    Ok(base
        .trim_start_matches("https://")
        .trim_end_matches("/api2/json")
        .to_string())
}

fn presented(url: &str) -> Result<tls::Presented> {
    tls::presented(&host_port(url)?, Duration::from_secs(10))
}

/// The cluster's client with these answers, tried: /version answers only
/// when the certificate is trusted and the credentials accepted.
fn connect(ctx: &Ctx, cluster: &Cluster) -> Result<Client> {
    let mut cfg = ProxmoxConfig {
        url: cluster.urls.clone(),
        timeout: Some(15.0),
        ..ProxmoxConfig::default()
    };
    match &cluster.trust {
        Trust::Pins(p) => cfg.fingerprint = Some(p.join(",")),
        Trust::CaFile(f) => cfg.ca_file = Some(f.clone()),
    }
    let creds = &cluster.credentials;
    cfg.user = creds.user.clone();
    let (inline, file, command) = match &creds.secret {
        Keep::Inline(t) | Keep::OwnFile(t) => (Some(t.clone()), None, None),
        Keep::File(f) => (None, Some(f.clone()), None),
        Keep::Command(c) => (None, None, Some(c.clone())),
    };
    match creds.user {
        None => (cfg.token, cfg.token_file, cfg.token_command) = (inline, file, command),
        Some(_) => {
            (cfg.password, cfg.password_file, cfg.password_command) = (inline, file, command)
        }
    }
    let c = Client::connect(&cfg, &ctx.out)?;
    node::version(&c)?;
    Ok(c)
}

fn lacks(missing: &[(&str, &str)]) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|(p, what)| format!("{p} (to {what})"))
        .collect();
    format!(
        "the credentials lack {} on / and /vms: those tools will be refused",
        list.join(", ")
    )
}

/// Whether an error is the end of a question (Esc, Ctrl-C), which ends
/// the wizard, rather than a wrong answer, which is asked again.
fn ends(e: &Error) -> bool {
    e.exit.is_some()
}

/// Asks until `f` gives an answer: an error is shown and the question
/// asked again; the end of a question (Esc, Ctrl-C) ends the wizard.
fn again<T>(ctx: &Ctx, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    loop {
        match f() {
            Ok(t) => return Ok(t),
            Err(e) if ends(&e) => return Err(e),
            Err(e) => ctx.out.error(None, &e),
        }
    }
}

fn ask_cluster(ctx: &Ctx, file: &Path) -> Result<Option<Cluster>> {
    if !prompt::confirm("Connect a Proxmox VE cluster?")? {
        return Ok(None);
    }
    loop {
        let urls = ask_urls()?;
        // An unreachable URL, or a certificate not trusted: the URLs again.
        let trust = match ask_trust(&urls) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) if ends(&e) => return Err(e),
            Err(e) => {
                ctx.out.error(None, &e);
                continue;
            }
        };
        let mut cluster = Cluster {
            urls,
            trust,
            credentials: Credentials::token(Keep::Inline(Secret::new(""))),
            node: None,
            storage: None,
        };
        let kinds = vec![
            "An API token (Datacenter > Permissions > API Tokens)".to_string(),
            "A user and password (a ticket login)".to_string(),
        ];
        let help = "a token can be limited to what guestkit needs";
        let by_user = prompt::select("Log in with?", kinds, help)? == 1;
        let what = if by_user { "user" } else { "token" };
        let c = again(ctx, || {
            cluster.credentials = match by_user {
                false => {
                    let token = prompt::secret(
                        "API token?",
                        "USER@REALM!TOKENID=SECRET, as Datacenter > Permissions > API Tokens made it; not shown",
                    )?;
                    Credentials::token(Keep::Inline(Secret::new(token.trim())))
                }
                true => {
                    let user = prompt::text("User?", Some("root@pam"), "USER@REALM", |v: &str| {
                        match v.contains('@') && !v.contains(char::is_whitespace) {
                            true => Ok(()),
                            false => Err("a user is USER@REALM, e.g. root@pam".to_string()),
                        }
                    })?;
                    let password = prompt::secret("Password?", "not shown")?;
                    Credentials {
                        user: Some(user),
                        secret: Keep::Inline(Secret::new(password)),
                    }
                }
            };
            let c = connect(ctx, &cluster)?;
            let missing = access::missing(&access::privileges(&c)?);
            if !missing.is_empty() {
                eprintln!("{}", lacks(&missing));
                if !prompt::confirm(&format!("Use this {what} all the same?"))? {
                    return Err(Error::denied(format!(
                        "the {what} was not taken; give another"
                    )));
                }
            }
            Ok(c)
        })?;
        cluster.credentials = ask_keeping(ctx, file, &cluster)?;
        let nodes = node::online(&c)?;
        let mut choices = vec!["any: the one with the most free memory, each time".to_string()];
        choices.extend(nodes.iter().cloned());
        let i = prompt::select(
            "Default node for new VMs?",
            choices,
            "↑↓ to move, Enter to choose",
        )?;
        cluster.node = (i > 0).then(|| nodes[i - 1].clone());
        let on = match &cluster.node {
            Some(n) => n.clone(),
            None => node::pick(&c, None)?,
        };
        let storages = node::storages_with(&c, &on, "images")?;
        let mut choices = vec!["any: the node's with the most room, each time".to_string()];
        choices.extend(storages.iter().cloned());
        let help = format!("the storages of {on} for disk images");
        let i = prompt::select("Default storage for new disks?", choices, &help)?;
        cluster.storage = (i > 0).then(|| storages[i - 1].clone());
        return Ok(Some(cluster));
    }
}

fn ask_urls() -> Result<Vec<String>> {
    let check = |v: &str| {
        let urls: Vec<&str> = v
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            return Err("give at least one URL".to_string());
        }
        urls.iter()
            .try_for_each(|u| api_base(u).map(|_| ()).map_err(|e| e.message))
    };
    let v = prompt::text(
        "Proxmox VE API URL(s)?",
        None,
        "https://pve1:8006; several nodes comma-separated, tried in order",
        check,
    )?;
    Ok(v.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect())
}

/// Each node's certificate, shown, pinned when the user says so; or a CA
/// file. `None`: trust refused, ask for the URLs again.
fn ask_trust(urls: &[String]) -> Result<Option<Trust>> {
    let mut pins = Vec::new();
    for u in urls {
        let p = presented(u)?;
        eprintln!(
            "The certificate of {}:\n  SHA-256  {}\n  subject  {}\n  issuer   {}\n  valid    {} until {}{}",
            host_port(u)?,
            p.fingerprint,
            p.subject,
            p.issuer,
            p.not_before,
            p.not_after,
            if p.expired { " (not valid now)" } else { "" },
        );
        let choices = vec![
            "Pin it: trust this certificate, and only it".to_string(),
            "Verify the nodes with a CA file instead".to_string(),
            "Do not trust it: give other URLs".to_string(),
        ];
        let help =
            "compare the fingerprint with the node's (System > Certificates, or pvenode cert info)";
        match prompt::select("Trust this certificate?", choices, help)? {
            0 => pins.push(p.fingerprint),
            1 => {
                let ca = prompt::text(
                    "CA file?",
                    None,
                    "a copy of the cluster's /etc/pve/pve-root-ca.pem",
                    |v: &str| match Path::new(v).is_file() {
                        true => Ok(()),
                        false => Err(format!("{v} is not a file")),
                    },
                )?;
                return Ok(Some(Trust::CaFile(absolute(Path::new(&ca))?)));
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(Trust::Pins(pins)))
}

/// Where the token is kept: in the configuration file, in a file of its
/// own, or behind a command (checked to print the same token).
fn ask_keeping(ctx: &Ctx, file: &Path, cluster: &Cluster) -> Result<Credentials> {
    let creds = &cluster.credentials;
    let Keep::Inline(secret) = &creds.secret else {
        unreachable!("the wizard asks for the secret itself");
    };
    let key = creds.key();
    let own = own_file(file, key);
    let choices = vec![
        format!("In {} itself (mode 0600)", file.display()),
        format!("In a file of its own, {} (mode 0600)", own.display()),
        "Not at all: a command prints it (a password manager)".to_string(),
    ];
    let keep = match prompt::select(
        &format!("Where should the {key} be kept?"),
        choices,
        "the configuration file then holds no secret, but for the first choice",
    )? {
        0 => Keep::Inline(secret.clone()),
        1 => Keep::OwnFile(secret.clone()),
        _ => again(ctx, || {
            let command = prompt::text(
                &format!("Command that prints the {key}?"),
                None,
                "run by sh, e.g. pass show proxmox/guestkit",
                |v: &str| match v.trim().is_empty() {
                    true => Err("give a command".to_string()),
                    false => Ok(()),
                },
            )?;
            let printed = crate::config::secret::resolve(
                key,
                None,
                None,
                Some(&command),
                Duration::from_secs(30),
            )?;
            match printed {
                Some(t) if t.expose() == secret.expose() => Ok(Keep::Command(command)),
                _ => Err(Error::invalid(format!(
                    "the command does not print the {key} given"
                ))),
            }
        })?,
    };
    Ok(Credentials {
        user: creds.user.clone(),
        secret: keep,
    })
}

/// The file of its own a secret is kept in: beside the configuration.
fn own_file(config: &Path, key: &str) -> PathBuf {
    config.with_file_name(format!("pve-{key}"))
}

/// The configuration's text; `shown`: with every secret left out.
fn render(backend: BackendKind, cluster: Option<&Cluster>, file: &Path, shown: bool) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut t = format!(
        "# guestkit's configuration, written by guestkit-setup; guestkit.toml(5)\n# describes every key, and guestkit-doctor checks what it names.\ndefault_backend = {}\n",
        q(backend.as_str())
    );
    let Some(c) = cluster else { return t };
    let urls: Vec<String> = c.urls.iter().map(|u| q(u)).collect();
    t.push_str(&format!("\n[proxmox]\nurl = [{}]\n", urls.join(", ")));
    match &c.trust {
        Trust::Pins(p) => t.push_str(&format!("fingerprint = {}\n", q(&p.join(",")))),
        Trust::CaFile(f) => t.push_str(&format!("ca_file = {}\n", q(&f.to_string_lossy()))),
    }
    let creds = &c.credentials;
    let key = creds.key();
    if let Some(u) = &creds.user {
        t.push_str(&format!("user = {}\n", q(u)));
    }
    match &creds.secret {
        Keep::Inline(s) => {
            let v = if shown { "(not shown)" } else { s.expose() };
            t.push_str(&format!("{key} = {}\n", q(v)));
        }
        Keep::OwnFile(_) => {
            let f = own_file(file, key);
            t.push_str(&format!("{key}_file = {}\n", q(&f.to_string_lossy())));
        }
        Keep::File(f) => t.push_str(&format!("{key}_file = {}\n", q(&f.to_string_lossy()))),
        Keep::Command(cmd) => t.push_str(&format!("{key}_command = {}\n", q(cmd))),
    }
    if let Some(n) = &c.node {
        t.push_str(&format!("node = {}\n", q(n)));
    }
    if let Some(s) = &c.storage {
        t.push_str(&format!("storage = {}\n", q(s)));
    }
    t
}

/// Writes `text` to `path` whole or not at all: a file of a name of its own
/// beside it, its mode set before a byte is written, then moved to `path`:
/// over what is there only when `replace`, else refused if a file came
/// meanwhile. Ctrl-C waits until it is done.
fn write_file(path: &Path, text: &str, mode: u32, replace: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    crate::os::signals::defer();
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot make", dir, e))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = path
        .file_name()
        .map_or("config".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.{}.{nanos}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| Error::io("cannot write", &tmp, e))?;
    // From here the file is ours: removed if anything fails.
    let done = f
        .write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .and_then(|()| match replace {
            true => std::fs::rename(&tmp, path),
            false => std::fs::hard_link(&tmp, path),
        });
    let _ = std::fs::remove_file(&tmp);
    match done {
        Ok(()) => {
            // The rename itself lasts once the directory is on disk.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => writable(path, false),
        Err(e) => Err(Error::io("cannot write", path, e)),
    }
}

/// Keeps what is at `path` as `path.bak`; its name, if there was one.
fn back_up(path: &Path) -> Result<Option<String>> {
    if path.symlink_metadata().is_err() {
        return Ok(None);
    }
    let b = PathBuf::from(format!("{}.bak", path.display()));
    std::fs::copy(path, &b).map_err(|e| Error::io("cannot keep a backup as", &b, e))?;
    Ok(Some(b.display().to_string()))
}

fn write(
    ctx: &Ctx,
    file: &Path,
    backend: BackendKind,
    cluster: Option<&Cluster>,
    force: bool,
) -> Result<Setup> {
    let text = render(backend, cluster, file, false);
    let secret = cluster.map(
        |c| match (&c.credentials.secret, c.credentials.user.is_some()) {
            (Keep::Inline(_), _) => "config",
            (Keep::OwnFile(_) | Keep::File(_), false) => "token_file",
            (Keep::Command(_), false) => "token_command",
            (Keep::OwnFile(_) | Keep::File(_), true) => "password_file",
            (Keep::Command(_), true) => "password_command",
        },
    );
    // A secret file of its own follows the configuration's rule: replaced
    // only with --force, and then kept.
    let own = cluster.and_then(|c| match &c.credentials.secret {
        Keep::OwnFile(t) => Some((own_file(file, c.credentials.key()), t)),
        _ => None,
    });
    if let Some((path, _)) = &own {
        writable(path, force)?;
    }
    let backup = back_up(file)?;
    if let Some((path, t)) = &own {
        back_up(path)?;
        write_file(path, &format!("{}\n", t.expose()), 0o600, force)?;
    }
    let mode = if secret == Some("config") {
        0o600
    } else {
        0o644
    };
    write_file(file, &text, mode, force)?;
    if !ctx.out.quiet {
        eprint!(
            "{}: wrote {}:\n{}",
            SPEC.name,
            file.display(),
            render(backend, cluster, file, true)
        );
    }
    Ok(Setup {
        file: file.display().to_string(),
        backup,
        default_backend: backend,
        cluster: cluster.map_or(vec![], |c| c.urls.clone()),
        secret,
    })
}
