//! guestkit-doctor: everything guestkit depends on here, checked, one
//! record per check, each failure with its fix.

use crate::backend;
use crate::backend::cgroup::Layout;
use crate::cli::spec::{Command, Effect, Prints};
use crate::error::{Error, Result};
use crate::guest::record::Check;
use crate::guest::{BackendKind, CONTAINER_BACKENDS, GuestKind};
use crate::output::{Column, Stream, col};
use crate::pve::client::Client;
use crate::pve::node;
use crate::run::Ctx;
use std::path::{Path, PathBuf};

/// guestkit-doctor's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "guestkit-doctor",
    kind: GuestKind::Container,
    about: "check what guestkit needs on this host",
    description: "Checks everything guestkit depends on and prints one record per check, with what was found and, where something is wrong, what to do: the configuration (that it loads, and that a file holding a secret is readable by its owner alone), each container backend's tools and their version, the host's cgroup layout and what it means for the backends, the state and cache directories, the Proxmox VE cluster when one is configured (reachable, its certificate as pinned, the token accepted, the API version, the nodes' clocks against this host's), and the man pages and shell completions where man and the shells look.\n\nIt runs with a configuration that does not load, and reports why. A backend that is not installed, or cannot run here, is a warning, unless it is the default backend (default_backend, else lxc): then it is an error. With --backend, only that backend is checked, and it must work.\n\nThe exit code is 0 when no check is an error, else the highest exit code among the failed checks (8 for a configuration that does not load, 5 for a missing default backend or an unreachable cluster, 6 for a certificate or token refused).",
    args: &[],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "guestkit-doctor",
            "Check everything; a table on a terminal.",
        ),
        (
            "guestkit-doctor | jq -c 'select(.level != \"ok\")'",
            "Only what needs attention, with its hint.",
        ),
        (
            "guestkit-doctor -q || echo 'guestkit is not ready here'",
            "In a provisioning script: the exit code alone.",
        ),
        (
            "guestkit-doctor | from json --objects | where level != ok | select check hint",
            "The same in nushell.",
        ),
    ],
    prints: Prints::Checks,
    effect: Effect::Reads,
};

/// No flags of its own: the common ones (--config, -o, -q, -v and so on).
pub type Args = crate::cli::args::NoFlags;

const COLUMNS: &[Column] = &[
    col("CHECK", "check"),
    col("LEVEL", "level"),
    col("MESSAGE", "message"),
    col("HINT", "hint"),
];

/// The checks as they are made, and the exit code they add up to.
struct Report<'a> {
    out: Stream<'a, Check>,
    worst: u8,
}

impl Report<'_> {
    fn ok(&mut self, check: &str, message: impl Into<String>) {
        self.out.push(Check::ok(check, message));
    }

    fn warn(&mut self, check: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.out.push(Check::warn(check, message, hint));
    }

    fn fail(&mut self, check: &str, e: &Error) {
        self.worst = self.worst.max(e.exit_code());
        self.out.push(Check::failed(check, e));
    }

    /// A failure as a warning: what it says, and its hint.
    fn warn_of(&mut self, check: &str, e: &Error) {
        let hint = e.hint.clone().unwrap_or_default();
        self.warn(check, e.message.clone(), hint);
    }
}

/// Makes every check, printing one record each: the exit code is the
/// highest of the checks that failed, 0 when none did.
pub fn run(ctx: &Ctx, _: Args) -> Result<u8> {
    let mut r = Report {
        out: ctx.out.stream(COLUMNS),
        worst: 0,
    };
    config(ctx, &mut r);
    backends(ctx, &mut r);
    network(ctx, &mut r);
    dirs(ctx, &mut r);
    proxmox(ctx, &mut r);
    installed(ctx, &mut r);
    let worst = r.worst;
    r.out.finish();
    Ok(worst)
}

fn config(ctx: &Ctx, r: &mut Report) {
    if let Some(e) = &ctx.config_error {
        r.fail("config", e);
        return;
    }
    let files = &ctx.cfg.files;
    if files.is_empty() {
        r.ok(
            "config",
            "no configuration file: built-in defaults and the environment",
        );
    } else {
        let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        r.ok("config", format!("read {}", shown.join(", ")));
    }
    // A secret in a file others may read is a secret no longer.
    let mut holders: Vec<(PathBuf, String)> = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let table: toml::Table = text.parse().unwrap_or_default();
        let pve = table.get("proxmox").and_then(|p| p.as_table());
        for key in ["token", "password"] {
            if pve.is_some_and(|p| p.contains_key(key)) {
                holders.push((f.clone(), format!("proxmox.{key}")));
            }
        }
    }
    let p = &ctx.cfg.proxmox;
    for (file, key) in [
        (&p.token_file, "proxmox.token_file"),
        (&p.password_file, "proxmox.password_file"),
    ] {
        if let Some(f) = file {
            holders.push((f.clone(), format!("the secret of {key}")));
        }
    }
    if holders.is_empty() {
        return;
    }
    let mut open = Vec::new();
    for (f, what) in &holders {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(f) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => open.push(
                Error::invalid(format!(
                    "{} holds {what} and others may read it (mode {:o})",
                    f.display(),
                    m.permissions().mode() & 0o777
                ))
                .with_hint(format!("chmod 600 {}", f.display())),
            ),
            Ok(_) => {}
            Err(e) => open.push(Error::io("cannot read", f, e)),
        }
    }
    for e in &open {
        r.fail("config.secrets", e);
    }
    match open.is_empty() {
        false => {}
        true => {
            let shown: Vec<String> = holders
                .iter()
                .map(|(f, what)| format!("{} ({what})", f.display()))
                .collect();
            r.ok(
                "config.secrets",
                format!("readable by their owner alone: {}", shown.join(", ")),
            );
        }
    }
}

fn backends(ctx: &Ctx, r: &mut Report) {
    // The one asked for (--backend), else the default: it must work.
    let default = ctx.backend_flag().unwrap_or(ctx.cfg.default_backend());
    let which = match ctx.backend_flag() {
        Some(_) => "the backend asked for",
        None => "the default backend",
    };
    let local = CONTAINER_BACKENDS
        .into_iter()
        .filter(|k| *k != BackendKind::Proxmox)
        .filter(|k| ctx.backend_flag().is_none_or(|b| b == *k));
    for kind in local {
        let check = format!("backend.{kind}");
        let found = backend::by_kind(&ctx.cfg, kind).and_then(|b| b.inspect(&ctx.out));
        match found {
            Ok(m) => r.ok(&check, m),
            Err(e) if kind == default => r.fail(
                &check,
                &Error {
                    message: format!("{which}: {}", e.message),
                    ..e
                },
            ),
            Err(e) => r.warn_of(&check, &e),
        }
    }
    let layout = Layout::of_host();
    match layout {
        Layout::None => r.fail(
            "cgroups",
            &Error::unavailable(format!(
                "{}: containers can be neither limited nor measured",
                layout.describe()
            ))
            .with_hint("mount cgroup2 at /sys/fs/cgroup (systemd does at boot)"),
        ),
        Layout::Hybrid => r.warn(
            "cgroups",
            layout.describe(),
            "crun refuses such a host when its v2 hierarchy has controllers, runc and lxc run on it; booting with systemd.unified_cgroup_hierarchy=1 gives pure cgroup v2, where every backend runs",
        ),
        _ => r.ok("cgroups", layout.describe()),
    }
}

/// The network new local containers join by default: what it needs here,
/// and whether its subnet is clear of the host's routes.
fn network(ctx: &Ctx, r: &mut Report) {
    use crate::backend::net::{Nets, Network};
    match Network::default(&ctx.cfg) {
        Err(e) => r.fail("network", &e),
        Ok(None) if ctx.cfg.default_network.is_none() => r.ok(
            "network",
            "new local containers get no network: making one takes root (ask for one with --network or default_network, as root)",
        ),
        Ok(None) => r.ok(
            "network",
            "new local containers get no network (default_network = none)",
        ),
        Ok(Some(n)) => match Nets::new(&ctx.cfg).inspect(&n) {
            Ok(m) if crate::config::is_root() => r.ok("network", m),
            Ok(m) => r.warn(
                "network",
                format!("{m}; joining it takes root"),
                "run the tools as root, or give new containers --network none",
            ),
            Err(e) => r.fail("network", &e),
        },
    }
}

fn dirs(ctx: &Ctx, r: &mut Report) {
    for (check, key, dir) in [
        ("dirs.state", "state_dir", ctx.cfg.state_dir()),
        ("dirs.cache", "cache_dir", ctx.cfg.cache_dir()),
    ] {
        let refused = |what: String| {
            Error::denied(what).with_hint(format!(
                "run as root, or set {key} in the config to a directory of your own"
            ))
        };
        if dir.is_dir() {
            match crate::os::sys::writable(&dir) {
                true => r.ok(check, dir.display().to_string()),
                false => r.fail(
                    check,
                    &refused(format!("{} is not writable", dir.display())),
                ),
            }
            continue;
        }
        if dir.exists() {
            let e = Error::invalid(format!("{} is not a directory", dir.display()));
            r.fail(check, &e);
            continue;
        }
        match crate::os::sys::can_make(&dir) {
            Ok(()) => r.ok(check, format!("{}, made at first use", dir.display())),
            Err(parent) => r.fail(
                check,
                &refused(format!(
                    "{} cannot be made: {} is not writable",
                    dir.display(),
                    parent.display()
                )),
            ),
        }
    }
}

/// The most a node's clock may differ from this host's before it is said.
const CLOCK_SLACK_S: i64 = 2;

fn proxmox(ctx: &Ctx, r: &mut Report) {
    let cfg = &ctx.cfg.proxmox;
    if cfg.url.is_empty() {
        let none = "no Proxmox VE cluster is configured";
        // A cluster the default backend (or --backend) needs must be there.
        let needed = ctx.backend_flag().unwrap_or(ctx.cfg.default_backend());
        match needed {
            BackendKind::Proxmox => r.fail(
                "proxmox",
                &Error::unavailable(format!("{none}, and backend proxmox is the one to use"))
                    .with_hint("guestkit-setup connects one; or set GUESTKIT_PVE_URL and GUESTKIT_PVE_TOKEN"),
            ),
            _ => r.ok("proxmox", format!("{none} (guestkit-setup connects one)")),
        }
        return;
    }
    let c = match Client::connect(cfg, &ctx.out) {
        Ok(c) => c,
        Err(e) => return r.fail("proxmox", &e),
    };
    r.ok("proxmox", format!("cluster at {}", cfg.url.join(", ")));
    let v = match node::version(&c) {
        Ok(v) => v,
        Err(e) => return r.fail("proxmox.api", &e),
    };
    let version = v.version.get().unwrap_or_else(|| "?".into());
    let said = format!("Proxmox VE {version}; the certificate and the credentials were accepted");
    match version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
    {
        Some(major) if major < 7 => r.warn(
            "proxmox.api",
            said,
            "guestkit is made for Proxmox VE 7 to 9; upgrade the cluster",
        ),
        _ => r.ok("proxmox.api", said),
    }
    let nodes = match node::online(&c) {
        Ok(n) => n,
        Err(e) => return r.fail("proxmox.clock", &e),
    };
    let mut worst: Option<(String, i64)> = None;
    for n in &nodes {
        match node::clock_skew(&c, n) {
            Ok(s)
                if worst
                    .as_ref()
                    .is_none_or(|(_, w)| s.saturating_abs() > w.saturating_abs()) =>
            {
                worst = Some((n.clone(), s));
            }
            Ok(_) => {}
            Err(e) if e.kind == crate::error::Kind::Denied => {
                return r.warn(
                    "proxmox.clock",
                    format!("cannot read node {n}'s clock: {}", e.message),
                    "give the token Sys.Audit on /nodes to let the clocks be compared",
                );
            }
            Err(e) => return r.fail("proxmox.clock", &e),
        }
    }
    match worst {
        Some((n, s)) if s.saturating_abs() > CLOCK_SLACK_S => r.warn(
            "proxmox.clock",
            format!(
                "node {n}'s clock is {} s {} this host's",
                s.saturating_abs(),
                if s > 0 { "ahead of" } else { "behind" }
            ),
            "sync both with NTP (chrony or systemd-timesyncd): task and log times otherwise disagree",
        ),
        _ if nodes.is_empty() => r.fail(
            "proxmox.clock",
            &Error::unavailable("no node of the cluster is online"),
        ),
        _ => r.ok(
            "proxmox.clock",
            format!(
                "the clocks of {} online nodes agree with this host's (within {CLOCK_SLACK_S} s)",
                nodes.len()
            ),
        ),
    }
}

/// The man pages and completions, where man and each installed shell look.
fn installed(ctx: &Ctx, r: &mut Report) {
    let trace = |m: &str| ctx.out.trace(m);
    let run = |program: &Path, args: &[&str]| {
        let args = args.iter().map(Into::into).collect();
        crate::os::process::capture(program, args, &trace).ok()
    };
    match which::which("man") {
        Err(_) => r.warn("man", "man is not installed", "apt-get install man-db"),
        Ok(man) => match run(&man, &["-w", "ctr-list"]) {
            Some(o) if o.ok() => r.ok("man", format!("ctr-list(1) is {}", o.stdout.trim())),
            _ => r.warn(
                "man",
                "the man pages are not installed where man looks",
                "scripts/install puts them in /usr/local/share/man",
            ),
        },
    }
    let data = crate::config::data_dirs();
    let under = |sub: &str| -> Vec<PathBuf> { data.iter().map(|d| d.join(sub)).collect() };
    let home = crate::config::env::HOME.get().map(PathBuf::from);
    for (shell, file, mut dirs, install) in [
        (
            "bash",
            "ctr-list",
            under("bash-completion/completions"),
            "share/bash-completion/completions",
        ),
        ("zsh", "_ctr-list", Vec::new(), "share/zsh/site-functions"),
        (
            "fish",
            "ctr-list.fish",
            under("fish/vendor_completions.d"),
            "share/fish/vendor_completions.d",
        ),
        (
            "nu",
            "guestkit.nu",
            under("nushell/vendor/autoload"),
            "share/nushell/vendor/autoload",
        ),
    ] {
        let check = format!("completions.{shell}");
        let Ok(program) = which::which(shell) else {
            r.ok(&check, format!("{shell} is not installed"));
            continue;
        };
        match shell {
            // zsh says where it looks: its $fpath.
            "zsh" => {
                let o = run(&program, &["-fc", "print -rl -- $fpath"]);
                dirs = o.map_or(vec![], |o| o.stdout.lines().map(PathBuf::from).collect());
            }
            "fish" => dirs.extend(home.iter().map(|h| h.join(".config/fish/completions"))),
            _ => {}
        }
        match dirs.iter().map(|d| d.join(file)).find(|f| f.is_file()) {
            Some(f) => r.ok(&check, f.display().to_string()),
            None => r.warn(
                &check,
                format!("no guestkit completions where {shell} looks"),
                format!("scripts/install puts them in /usr/local/{install}"),
            ),
        }
    }
}
