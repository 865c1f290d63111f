//! The environment variables guestkit reads: each defined once, with the
//! text guestkit(7) and guestkit.toml(5) show, and read only through
//! `Var::get`, so the documented list and the code cannot drift apart (a
//! test checks both ways).

/// An environment variable guestkit reads.
pub struct Var {
    /// The variable's name.
    pub name: &'static str,
    /// What it does, for man pages.
    pub doc: &'static str,
    /// Read when `name` is unset: the names terraform-provider-proxmox users
    /// already have.
    pub fallbacks: &'static [&'static str],
}

impl Var {
    /// Its value when set and not empty, else the first fallback's.
    pub fn get(&self) -> Option<String> {
        std::iter::once(self.name)
            .chain(self.fallbacks.iter().copied())
            .find_map(|k| {
                std::env::var_os(k)
                    .filter(|v| !v.is_empty())
                    .map(|v| v.to_string_lossy().into_owned())
            })
    }
}

const fn var(name: &'static str, doc: &'static str) -> Var {
    Var {
        name,
        doc,
        fallbacks: &[],
    }
}

/// The configuration file to read instead of the default ones.
pub const GUESTKIT_CONFIG: Var = var(
    "GUESTKIT_CONFIG",
    "The configuration file to read instead of the default locations (--config wins).",
);
/// The default backend for new containers.
pub const GUESTKIT_BACKEND: Var = var(
    "GUESTKIT_BACKEND",
    "The default backend for new containers (overrides default_backend).",
);
/// LXC's container directory.
pub const GUESTKIT_LXC_PATH: Var = var(
    "GUESTKIT_LXC_PATH",
    "LXC's container directory (overrides lxc.lxcpath).",
);
/// Where built images are cached.
pub const GUESTKIT_CACHE_DIR: Var = var(
    "GUESTKIT_CACHE_DIR",
    "Where built images are cached (overrides cache_dir).",
);
/// Where guestkit keeps OCI bundles, their trash and spare roots.
pub const GUESTKIT_STATE_DIR: Var = var(
    "GUESTKIT_STATE_DIR",
    "Where guestkit keeps OCI bundles, their trash and spare roots (overrides state_dir).",
);
/// The network new local containers join without --network.
pub const GUESTKIT_NETWORK: Var = var(
    "GUESTKIT_NETWORK",
    "The network new local containers join without --network: a network's name, or none (overrides default_network).",
);
/// The crun and runc state directory root (`--root`).
pub const GUESTKIT_OCI_ROOT: Var = var(
    "GUESTKIT_OCI_ROOT",
    "The crun and runc state directory root, passed as --root (overrides oci.runtime_root).",
);
/// Proxmox VE API URLs, comma-separated.
pub const GUESTKIT_PVE_URL: Var = Var {
    name: "GUESTKIT_PVE_URL",
    doc: "Proxmox VE API URLs, comma-separated, tried in order (overrides proxmox.url; else PROXMOX_VE_ENDPOINT).",
    fallbacks: &["PROXMOX_VE_ENDPOINT"],
};
/// A Proxmox VE API token.
pub const GUESTKIT_PVE_TOKEN: Var = Var {
    name: "GUESTKIT_PVE_TOKEN",
    doc: "A Proxmox VE API token, USER@REALM!TOKENID=SECRET (overrides proxmox.token; else PROXMOX_VE_API_TOKEN).",
    fallbacks: &["PROXMOX_VE_API_TOKEN"],
};
/// A Proxmox VE user for ticket login.
pub const GUESTKIT_PVE_USER: Var = Var {
    name: "GUESTKIT_PVE_USER",
    doc: "A Proxmox VE user for ticket login, e.g. root@pam (overrides proxmox.user; else PROXMOX_VE_USERNAME).",
    fallbacks: &["PROXMOX_VE_USERNAME"],
};
/// That user's password.
pub const GUESTKIT_PVE_PASSWORD: Var = Var {
    name: "GUESTKIT_PVE_PASSWORD",
    doc: "That user's password (overrides proxmox.password; else PROXMOX_VE_PASSWORD).",
    fallbacks: &["PROXMOX_VE_PASSWORD"],
};
/// The pinned SHA-256 fingerprint of the server certificate.
pub const GUESTKIT_PVE_FINGERPRINT: Var = var(
    "GUESTKIT_PVE_FINGERPRINT",
    "The SHA-256 fingerprint of the server certificate, AA:BB:..., pinned (overrides proxmox.fingerprint).",
);
/// A CA certificate file to verify the server with.
pub const GUESTKIT_PVE_CA: Var = var(
    "GUESTKIT_PVE_CA",
    "A CA certificate file to verify the server with (overrides proxmox.ca_file).",
);
/// Turns certificate verification off.
pub const GUESTKIT_PVE_INSECURE: Var = Var {
    name: "GUESTKIT_PVE_INSECURE",
    doc: "1 turns certificate verification off, with a warning (overrides proxmox.insecure; else PROXMOX_VE_INSECURE).",
    fallbacks: &["PROXMOX_VE_INSECURE"],
};
/// The node new VMs go to.
pub const GUESTKIT_PVE_NODE: Var = var(
    "GUESTKIT_PVE_NODE",
    "The node new VMs go to (overrides proxmox.node).",
);
/// The base of the user configuration file (default ~/.config).
pub const XDG_CONFIG_HOME: Var = var(
    "XDG_CONFIG_HOME",
    "The user configuration file is $XDG_CONFIG_HOME/guestkit/config.toml (default ~/.config).",
);
/// The base of the image cache without root (default ~/.cache).
pub const XDG_CACHE_HOME: Var = var(
    "XDG_CACHE_HOME",
    "Without root, images are cached in $XDG_CACHE_HOME/guestkit (default ~/.cache).",
);
/// A registry login file, as Podman and skopeo take it.
pub const REGISTRY_AUTH_FILE: Var = var(
    "REGISTRY_AUTH_FILE",
    "A registry login file (auth.json) to read credentials from, before $XDG_RUNTIME_DIR/containers/auth.json and ~/.docker/config.json.",
);
/// Where Podman keeps its login file.
pub const XDG_RUNTIME_DIR: Var = var(
    "XDG_RUNTIME_DIR",
    "Registry logins are read from $XDG_RUNTIME_DIR/containers/auth.json (Podman's login file).",
);
/// The base of the state directory without root, and of installed data
/// (default ~/.local/share).
pub const XDG_DATA_HOME: Var = var(
    "XDG_DATA_HOME",
    "Without root, OCI bundles and their trash are kept in $XDG_DATA_HOME/guestkit (default ~/.local/share).",
);
/// Where installed data (shell completions) is looked for.
pub const XDG_DATA_DIRS: Var = var(
    "XDG_DATA_DIRS",
    "Where guestkit-doctor looks for the installed shell completions, each directory's bash-completion, fish and nushell folders (default /usr/local/share:/usr/share).",
);
/// The default base of the XDG directories.
pub const HOME: Var = var(
    "HOME",
    "The user's home: the default base of the XDG directories above.",
);
/// Turns table colours off.
pub const NO_COLOR: Var = var(
    "NO_COLOR",
    "When set and not empty, tables are not coloured (unless --color always).",
);
/// Turns table colours on even when stdout is not a terminal.
pub const CLICOLOR_FORCE: Var = var(
    "CLICOLOR_FORCE",
    "When set and not 0, tables are coloured even when stdout is not a terminal (unless --color never).",
);

/// Every variable guestkit reads, in the order man pages list them.
pub const ENVIRONMENT: &[Var] = &[
    GUESTKIT_CONFIG,
    GUESTKIT_BACKEND,
    GUESTKIT_LXC_PATH,
    GUESTKIT_CACHE_DIR,
    GUESTKIT_STATE_DIR,
    GUESTKIT_NETWORK,
    GUESTKIT_OCI_ROOT,
    GUESTKIT_PVE_URL,
    GUESTKIT_PVE_TOKEN,
    GUESTKIT_PVE_USER,
    GUESTKIT_PVE_PASSWORD,
    GUESTKIT_PVE_FINGERPRINT,
    GUESTKIT_PVE_CA,
    GUESTKIT_PVE_INSECURE,
    GUESTKIT_PVE_NODE,
    REGISTRY_AUTH_FILE,
    XDG_CONFIG_HOME,
    XDG_CACHE_HOME,
    XDG_DATA_HOME,
    XDG_RUNTIME_DIR,
    XDG_DATA_DIRS,
    HOME,
    NO_COLOR,
    CLICOLOR_FORCE,
];

#[cfg(test)]
mod tests {
    /// Every variable read is documented, and every documented one is read:
    /// reads go through `Var::get` (nothing else calls std::env::var), and
    /// each constant is used outside this file.
    #[test]
    fn the_documented_variables_are_the_ones_read() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/lib");
        let mut sources = String::new();
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("config/env.rs")
                {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for bad in ["env::var(", "env::var_os(", "env::vars("] {
                        assert!(
                            !text.contains(bad),
                            "{} reads the environment without config::env: {bad}",
                            p.display()
                        );
                    }
                    sources.push_str(&text);
                }
            }
        }
        for v in super::ENVIRONMENT {
            let used = sources.contains(&format!("env::{}", v.name))
                || sources.contains(&format!("&{}", v.name))
                || sources.contains(&format!("{}.get()", v.name));
            assert!(used, "{} is documented but never read", v.name);
            assert!(v.doc.ends_with('.'), "{}", v.name);
            for f in v.fallbacks {
                assert!(v.doc.contains(f), "{}'s text does not name {f}", v.name);
            }
        }
    }
}
