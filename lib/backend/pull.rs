//! Images from registries, in the cache: blobs kept by digest (shared by
//! every image whose layers they are), each image's root filesystem made
//! once from its layers (whiteouts applied) and shared by its containers,
//! and what each reference last resolved to, so that a second run of an
//! image asks the registry nothing (`--pull missing`).
//!
//! ```text
//! CACHE/oci/blobs/sha256/HEX          a layer or config blob, verified
//! CACHE/oci/images/HEX/rootfs/        an image's root (HEX: its manifest's digest)
//! CACHE/oci/images/HEX/config.json    its configuration blob
//! CACHE/oci/refs/REFERENCE.json       the manifest digest a reference resolved to
//! ```

use crate::backend::rootfs::resolve_in_root;
use crate::error::{Error, Result};
use crate::os::process::{Tool, capture};
use crate::output::Output;
use crate::registry::client::{Access, Client};
use crate::registry::reference::Reference;
use serde::Deserialize;
use std::path::{Path, PathBuf};

const TAR: Tool = Tool::new("tar", "tar");

/// When to ask the registry (`--pull`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Every time: the tag may have moved.
    Always,
    /// Only when the image is not in the cache (the default).
    Missing,
    /// Never: the image must be in the cache.
    Never,
}

/// What a container takes from an image's configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// Variables, `KEY=VALUE`.
    #[serde(default)]
    pub env: Option<Vec<String>>,
    /// The program, before the command.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// The command (or the entrypoint's arguments) when none is given.
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// The working directory.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// The user: a name, `UID` or `UID:GID`.
    #[serde(default)]
    pub user: Option<String>,
}

/// An image in the cache, ready for containers.
#[derive(Clone, Debug)]
pub struct Pulled {
    /// Its root filesystem (read-only: containers copy or overlay it).
    pub root: PathBuf,
    /// Its configuration.
    pub config: ImageConfig,
    /// Its manifest's digest.
    pub digest: String,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
    size: u64,
    #[serde(default, rename = "mediaType")]
    media_type: String,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Platform {
    architecture: String,
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
struct ConfigBlob {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    config: ImageConfig,
}

/// How to reach the registry at `host`: its `[registries."HOST"]` table,
/// and credentials from there or from a login file (Podman's auth.json,
/// then Docker's config.json).
pub fn access(cfg: &crate::config::Config, host: &str) -> Result<Access> {
    let table = cfg.registries.get(host).cloned().unwrap_or_default();
    let password = match (&table.password, &table.password_file) {
        (Some(p), _) => Some(p.expose().to_string()),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| {
                    Error::invalid(format!(
                        "cannot read registries.\"{host}\".password_file {}: {}",
                        f.display(),
                        crate::error::plain_io(&e)
                    ))
                })?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        ),
        (None, None) => None,
    };
    let credentials = match (table.username.clone(), password) {
        (Some(u), Some(p)) => Some((u, p)),
        (Some(_), None) => {
            return Err(Error::invalid(format!(
                "registries.\"{host}\" has a username and no password or password_file"
            )));
        }
        _ => login_file(host),
    };
    Ok(Access {
        insecure: table.insecure,
        ca_file: table.ca_file,
        credentials,
        timeout: std::time::Duration::from_secs(30),
    })
}

/// A user and password for `host` from the login files `podman login` and
/// `docker login` write: `{"auths": {"HOST": {"auth": base64("user:pass")}}}`.
fn login_file(host: &str) -> Option<(String, String)> {
    use crate::config::env;
    use base64::Engine as _;
    let files: Vec<PathBuf> = [
        env::REGISTRY_AUTH_FILE.get().map(PathBuf::from),
        env::XDG_RUNTIME_DIR
            .get()
            .map(|d| PathBuf::from(d).join("containers/auth.json")),
        env::HOME
            .get()
            .map(|h| PathBuf::from(h).join(".docker/config.json")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let keys = match host {
        "registry-1.docker.io" | "docker.io" => vec![
            "docker.io".to_string(),
            "https://index.docker.io/v1/".to_string(),
            "registry-1.docker.io".to_string(),
        ],
        h => vec![h.to_string(), format!("https://{h}")],
    };
    files.iter().find_map(|f| {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).ok()?).ok()?;
        let auth = keys.iter().find_map(|k| v["auths"][k]["auth"].as_str())?;
        let plain = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .ok()?;
        let (u, p) = String::from_utf8(plain)
            .ok()?
            .split_once(':')
            .map(|(u, p)| (u.to_string(), p.to_string()))?;
        Some((u, p))
    })
}

/// This host's platform as OCI names it.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// The image `r` names, from the cache or the registry as `policy` says.
pub fn pull(
    cache: &Path,
    r: &Reference,
    access: Access,
    policy: Policy,
    out: &Output,
) -> Result<Pulled> {
    let dir = cache.join("oci");
    let refs = dir.join("refs");
    let known = refs.join(format!("{}.json", escape(&r.to_string())));
    if policy != Policy::Always
        && let Some(p) = recorded(&dir, &known)
    {
        out.trace(&format!("{r} is in the cache as {}", p.digest));
        return Ok(p);
    }
    if policy == Policy::Never {
        return Err(Error::not_found(format!("image {r} is not in the cache"))
            .with_hint("pull it with --pull missing (the default) or --pull always"));
    }
    let client = Client::new(r.api_host(), &r.repository, access)?;
    let mut fetched = client.manifest(r.manifest_ref(), out)?;
    let mut manifest: Manifest = parse_json(&fetched.bytes, r)?;
    if let Some(list) = &manifest.manifests {
        let arch = host_arch();
        let chosen = list.iter().find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == arch)
        });
        let Some(chosen) = chosen else {
            let available: Vec<String> = list
                .iter()
                .filter_map(|d| d.platform.as_ref())
                .map(|p| match &p.variant {
                    Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                    None => format!("{}/{}", p.os, p.architecture),
                })
                .collect();
            return Err(Error::invalid(format!(
                "image {r} has no linux/{arch} build; it has {}",
                if available.is_empty() {
                    "none named".into()
                } else {
                    available.join(", ")
                }
            )));
        };
        fetched = client.manifest(&chosen.digest, out)?;
        manifest = parse_json(&fetched.bytes, r)?;
    }
    let (Some(config), Some(layers)) = (manifest.config, manifest.layers) else {
        return Err(Error::invalid(format!(
            "image {r}: the registry sent a manifest guestkit cannot read ({})",
            fetched.media_type
        )));
    };
    let image = dir.join("images").join(hex_of(&fetched.digest));
    if !image.join("rootfs").is_dir() {
        let blobs = dir.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs).map_err(|e| Error::io("cannot create", &blobs, e))?;
        clear_partials(&blobs);
        let total: u64 = layers.iter().map(|l| l.size).sum();
        let started = std::time::Instant::now();
        let mut done = 0u64;
        let config_blob = fetch(&client, &blobs, &config, &|_| {}, out)?;
        let cfg: ConfigBlob = parse_json(
            &std::fs::read(&config_blob).map_err(|e| Error::io("cannot read", &config_blob, e))?,
            r,
        )?;
        if (cfg.os != "linux" && !cfg.os.is_empty())
            || (cfg.architecture != host_arch() && !cfg.architecture.is_empty())
        {
            return Err(Error::invalid(format!(
                "image {r} is for {}/{}, and this host is linux/{}",
                cfg.os,
                cfg.architecture,
                host_arch()
            )));
        }
        let mut files = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            if layer.media_type.contains("nondistributable") || layer.media_type.contains("foreign")
            {
                return Err(Error::invalid(format!(
                    "image {r} has a layer ({}) that is not in the registry",
                    layer.media_type
                )));
            }
            let show = |got: u64| {
                let bytes = done + got;
                let rate = bytes as f64 / started.elapsed().as_secs_f64().max(0.001);
                out.progress(Some(&format!(
                    "pulling {r}: layer {} of {}, {} of {}, {}/s",
                    i + 1,
                    layers.len(),
                    crate::guest::units::human_size(bytes),
                    crate::guest::units::human_size(total),
                    crate::guest::units::human_size(rate as u64)
                )));
            };
            files.push(fetch(&client, &blobs, layer, &show, out)?);
            done += layer.size;
        }
        out.progress(Some(&format!("unpacking {r}")));
        let made = build(&dir, &image, &files, &config_blob, out);
        out.progress(None);
        made?;
    }
    std::fs::create_dir_all(&refs).map_err(|e| Error::io("cannot create", &refs, e))?;
    let record = serde_json::json!({"digest": fetched.digest});
    crate::backend::net::write_atomically(&known, &Output::json_line(&record))?;
    recorded(&dir, &known)
        .ok_or_else(|| Error::failed(format!("image {r} could not be read back from the cache")))
}

/// The image a reference resolved to last time, when it is still there.
fn recorded(dir: &Path, known: &Path) -> Option<Pulled> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(known).ok()?).ok()?;
    let digest = v["digest"].as_str()?.to_string();
    let image = dir.join("images").join(hex_of(&digest));
    let root = image.join("rootfs");
    if !root.is_dir() {
        return None;
    }
    let cfg: ConfigBlob =
        serde_json::from_slice(&std::fs::read(image.join("config.json")).ok()?).ok()?;
    Some(Pulled {
        root,
        config: cfg.config,
        digest,
    })
}

/// The blob of `d` in the cache, downloaded (and checked) when missing: to
/// a file of this process's, renamed into place once whole.
fn fetch(
    client: &Client,
    blobs: &Path,
    d: &Descriptor,
    progress: &dyn Fn(u64),
    out: &Output,
) -> Result<PathBuf> {
    let hex = d
        .digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| {
            Error::invalid(format!(
                "the registry named a blob {:?} that is not sha256:HEX",
                d.digest
            ))
        })?;
    let file = blobs.join(hex);
    if file.is_file() {
        progress(d.size);
        return Ok(file);
    }
    let partial = blobs.join(format!(".partial-{hex}-{}", std::process::id()));
    let got = client
        .blob(&d.digest, d.size, &partial, progress, out)
        .and_then(|()| {
            std::fs::rename(&partial, &file).map_err(|e| Error::io("cannot rename", &partial, e))
        });
    if got.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    got.map(|()| file)
}

/// Removes what pulls that were killed left: partial blobs of processes
/// that are gone.
fn clear_partials(blobs: &Path) {
    for e in std::fs::read_dir(blobs).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(".partial-")
            .and_then(|n| n.rsplit_once('-'))
            .and_then(|(_, p)| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Makes an image's root from its layers, beside its final place, then
/// renamed into it: a half-made image is never used.
fn build(dir: &Path, image: &Path, layers: &[PathBuf], config: &Path, out: &Output) -> Result<()> {
    let images = dir.join("images");
    let tmp = images.join(format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let root = tmp.join("rootfs");
    std::fs::create_dir_all(&root).map_err(|e| Error::io("cannot create", &root, e))?;
    let made = layers
        .iter()
        .enumerate()
        .try_for_each(|(i, l)| apply(&root, l, i == 0, out))
        .and_then(|()| {
            std::fs::copy(config, tmp.join("config.json"))
                .map(|_| ())
                .map_err(|e| Error::io("cannot copy", config, e))
        });
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, image).is_err() {
        // Another pull made it first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}

/// Lays one layer (a tar, compressed or not: tar finds out) over `root`:
/// first its whiteouts remove what lower layers made (`.wh.NAME`, and
/// `.wh..wh..opq` for a directory's whole content), then its files are
/// unpacked, by GNU tar's rules as a tarball image is (docs/design.md).
/// The `first` layer has nothing under it: it is unpacked without the
/// pass over its names (a second decompression) that finds whiteouts.
fn apply(root: &Path, layer: &Path, first: bool, out: &Output) -> Result<()> {
    let tar = TAR.find()?;
    if first {
        return unpack(&tar, root, layer, out);
    }
    let list = capture(&tar, vec!["-t".into(), "-f".into(), layer.into()], &|m| {
        out.trace(m)
    })?;
    if !list.ok() {
        return Err(Error::invalid(format!(
            "a layer ({}) is not a tar archive tar can read: {}",
            layer.display(),
            list.stderr.trim()
        )));
    }
    for name in list.stdout.lines() {
        let name = name.trim_start_matches("./").trim_start_matches('/');
        let (parent, base) = match name.rsplit_once('/') {
            Some((p, b)) => (p, b),
            None => ("", name),
        };
        let Some(hidden) = base.strip_prefix(".wh.") else {
            continue;
        };
        // The directory, resolved inside the root: never out of it.
        let Some(dir) = resolve_in_root(root, &format!("/{parent}")) else {
            continue;
        };
        if !dir.starts_with(root) {
            continue;
        }
        if hidden == ".wh..opq" {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                remove(&e.path());
            }
        } else if !hidden.is_empty() && !hidden.contains('/') && hidden != "." && hidden != ".." {
            remove(&dir.join(hidden));
        }
    }
    unpack(&tar, root, layer, out)
}

/// Unpacks a layer over `root`, its whiteout files left out.
fn unpack(tar: &Path, root: &Path, layer: &Path, out: &Output) -> Result<()> {
    let args: Vec<std::ffi::OsString> = vec![
        "-x".into(),
        "--numeric-owner".into(),
        "-p".into(),
        "--exclude=.wh.*".into(),
        "-C".into(),
        root.into(),
        "-f".into(),
        layer.into(),
    ];
    let r = capture(tar, args, &|m| out.trace(m))?;
    if !r.ok() {
        return Err(Error::invalid(format!(
            "cannot unpack a layer ({}): {}",
            layer.display(),
            r.stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("tar failed")
                .trim()
        )));
    }
    Ok(())
}

/// Removes a file, link or directory tree, never following a link.
fn remove(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8], r: &Reference) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::invalid(format!(
            "image {r}: the registry sent JSON guestkit cannot read: {e}"
        ))
    })
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// A reference as a file name: `/` and `:` would not do.
fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c.to_string(),
            c => format!("%{:02x}", c as u32),
        })
        .collect()
}
