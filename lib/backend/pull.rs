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

/// The lock of the cache of pulled images: pulls hold it shared, so that
/// they run side by side; image-delete and image-prune (`collect`)
/// exclusive, so that none removes what a pull is making.
pub fn lock(cache: &Path, exclusive: bool) -> Result<std::fs::File> {
    let dir = cache.join("oci");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    let path = dir.join(".lock");
    match exclusive {
        true => crate::backend::lock_file(&path),
        false => crate::backend::lock_file_shared(&path),
    }
}

/// Whether the process of a pull that left `NAME-PID` is gone.
fn gone(name: &str) -> bool {
    name.rsplit_once('-')
        .and_then(|(_, pid)| pid.parse::<u32>().ok())
        .is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists())
}

/// The image `r` names, from the cache or the registry as `policy` says.
pub fn pull(
    cache: &Path,
    r: &Reference,
    access: Access,
    policy: Policy,
    out: &Output,
) -> Result<Pulled> {
    let _shared = lock(cache, false)?;
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
    let client = Client::new(&r.registry, r.api_host(), &r.repository, access)?;
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
        if !chosen.digest.starts_with("sha256:") {
            return Err(Error::invalid(format!(
                "image {r}: its index names the linux/{arch} manifest by {:?}, not a sha256 digest",
                chosen.digest
            )));
        }
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
        let made = build(&dir, &image, &files, &config_blob, &fetched.bytes, out);
        out.progress(None);
        made?;
    }
    std::fs::create_dir_all(&refs).map_err(|e| Error::io("cannot create", &refs, e))?;
    let record = serde_json::json!({"digest": fetched.digest});
    crate::os::file::write_atomically(&known, &Output::json_line(&record))?;
    recorded(&dir, &known)
        .ok_or_else(|| Error::failed(format!("image {r} could not be read back from the cache")))
}

/// An image in the cache, and the references that lead to it.
#[derive(Clone, Debug)]
pub struct Cached {
    /// The references pulled that resolved to it, in full; sorted.
    pub references: Vec<String>,
    /// Its manifest's digest.
    pub digest: String,
    /// The config's and layers' sizes, as its manifest gives them.
    pub size_bytes: Option<u64>,
    /// When it was built, from its configuration.
    pub created: Option<String>,
}

/// The images in the cache.
pub fn cached(cache: &Path) -> Vec<Cached> {
    let dir = cache.join("oci");
    let mut refs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (reference, digest) in references(&dir) {
        refs.entry(digest).or_default().push(reference);
    }
    let mut all: Vec<Cached> = std::fs::read_dir(dir.join("images"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let hex = e.file_name().into_string().ok()?;
            if hex.starts_with('.') || !e.path().join("rootfs").is_dir() {
                return None;
            }
            let digest = format!("sha256:{hex}");
            let manifest: Option<Manifest> = std::fs::read(e.path().join("manifest.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let size_bytes = manifest.map(|m| {
                m.config.map_or(0, |c| c.size)
                    + m.layers.iter().flatten().map(|l| l.size).sum::<u64>()
            });
            let created = std::fs::read(e.path().join("config.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["created"].as_str().map(str::to_string));
            let mut references = refs.remove(&digest).unwrap_or_default();
            references.sort();
            Some(Cached {
                references,
                digest,
                size_bytes,
                created,
            })
        })
        .collect();
    all.sort_by(|a, b| {
        a.references
            .cmp(&b.references)
            .then(a.digest.cmp(&b.digest))
    });
    all
}

/// Every reference recorded, and the digest it resolved to.
fn references(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_dir(dir.join("refs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let reference = unescape(name.strip_suffix(".json")?)?;
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            Some((reference, v["digest"].as_str()?.to_string()))
        })
        .collect()
}

/// Forgets a reference: the next use of it pulls again. Whether it was there.
pub fn forget(cache: &Path, reference: &str) -> Result<bool> {
    let path = cache
        .join("oci/refs")
        .join(format!("{}.json", escape(reference)));
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("cannot remove", &path, e)),
    }
}

/// Removes what no reference leads to any more, but the images `in_use`
/// (their digests): images, then the blobs no image left has (their
/// manifests name them), and what killed pulls left. The digests of the
/// images removed.
pub fn collect(cache: &Path, in_use: &std::collections::BTreeSet<String>) -> Result<Vec<String>> {
    let dir = cache.join("oci");
    let mut kept: std::collections::BTreeSet<String> =
        references(&dir).into_iter().map(|(_, d)| d).collect();
    kept.extend(in_use.iter().cloned());
    let mut removed = Vec::new();
    for e in std::fs::read_dir(dir.join("images"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale_tmp = name.starts_with(".tmp-") && gone(&name);
        let digest = format!("sha256:{name}");
        if (name.starts_with('.') && !stale_tmp) || kept.contains(&digest) {
            continue;
        }
        std::fs::remove_dir_all(e.path())
            .map_err(|err| Error::io("cannot remove", &e.path(), err))?;
        if !name.starts_with('.') {
            removed.push(digest);
        }
    }
    // The blobs the images left name.
    let mut used = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir.join("images"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let Some(m) = std::fs::read(e.path().join("manifest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        else {
            continue;
        };
        used.extend(m.config.map(|c| c.digest));
        used.extend(m.layers.into_iter().flatten().map(|l| l.digest));
    }
    let blobs = dir.join("blobs/sha256");
    clear_partials(&blobs);
    for e in std::fs::read_dir(&blobs).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || used.contains(&format!("sha256:{name}")) {
            continue;
        }
        std::fs::remove_file(e.path()).map_err(|err| Error::io("cannot remove", &e.path(), err))?;
    }
    Ok(removed)
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
        if name.starts_with(".partial-") && gone(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Makes an image's root from its layers, beside its final place, then
/// renamed into it: a half-made image is never used.
fn build(
    dir: &Path,
    image: &Path,
    layers: &[PathBuf],
    config: &Path,
    manifest: &[u8],
    out: &Output,
) -> Result<()> {
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
        })
        .and_then(|()| {
            let p = tmp.join("manifest.json");
            std::fs::write(&p, manifest).map_err(|e| Error::io("cannot write", &p, e))
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

/// Lays one layer (a tar, compressed or not: tar finds out) over `root`.
/// GNU tar guards an archive against the links it makes itself, not
/// against links already on disk: a lower layer's `x -> /` would lead a
/// later layer's `x/etc/…` out of the root. So only the `first` layer, over
/// nothing, is unpacked into the root itself; every other is unpacked into
/// a directory of its own beside it, then moved in entry by entry
/// (`merge`), each parent resolved inside the root, its whiteouts
/// (`.wh.NAME`, and `.wh..wh..opq` for a directory's whole content)
/// removing what lower layers made.
fn apply(root: &Path, layer: &Path, first: bool, out: &Output) -> Result<()> {
    let tar = TAR.find()?;
    if first {
        return unpack(&tar, root, layer, false, out);
    }
    let own = root.with_file_name("layer");
    let _ = std::fs::remove_dir_all(&own);
    std::fs::create_dir(&own).map_err(|e| Error::io("cannot create", &own, e))?;
    let merged = unpack(&tar, &own, layer, true, out).and_then(|()| merge(root, &own, ""));
    let _ = std::fs::remove_dir_all(&own);
    merged
}

/// Moves what directory `dir` of an unpacked layer holds (`layer/dir`)
/// into the same directory of `root`, resolved inside it.
fn merge(root: &Path, layer: &Path, dir: &str) -> Result<()> {
    let from = layer.join(dir);
    let entries: Vec<std::fs::DirEntry> = std::fs::read_dir(&from)
        .map_err(|e| Error::io("cannot read", &from, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io("cannot read", &from, e))?;
    // The directory in the root, every link on the way resolved inside it.
    let Some(target) = resolve_in_root(root, &format!("/{dir}")).filter(|t| t.starts_with(root))
    else {
        return Err(Error::invalid(format!(
            "a layer's directory /{dir} leads out of the image's root"
        )));
    };
    if !target.is_dir() {
        remove(&target);
        std::fs::create_dir_all(&target).map_err(|e| Error::io("cannot create", &target, e))?;
    }
    let name = |e: &std::fs::DirEntry| e.file_name().to_string_lossy().into_owned();
    // Whiteouts first: they remove what the layers under this one made.
    if entries.iter().any(|e| name(e) == ".wh..wh..opq") {
        for e in std::fs::read_dir(&target).into_iter().flatten().flatten() {
            remove(&e.path());
        }
    }
    for e in &entries {
        if let Some(hidden) = name(e)
            .strip_prefix(".wh.")
            .filter(|h| *h != ".wh..opq" && !h.is_empty())
        {
            remove(&target.join(hidden));
        }
    }
    for e in entries.iter().filter(|e| !name(e).starts_with(".wh.")) {
        let n = name(e);
        let there = target.join(&n);
        let is_dir = e
            .file_type()
            .map_err(|err| Error::io("cannot read", &e.path(), err))?
            .is_dir();
        let there_dir = std::fs::symlink_metadata(&there).is_ok_and(|m| m.is_dir());
        if is_dir && there_dir {
            // Both directories: this layer's mode and owner, then its content.
            let meta = e
                .metadata()
                .map_err(|err| Error::io("cannot read", &e.path(), err))?;
            let _ = std::fs::set_permissions(&there, meta.permissions());
            use std::os::unix::fs::MetadataExt;
            let _ = std::os::unix::fs::lchown(&there, Some(meta.uid()), Some(meta.gid()));
            merge(root, layer, format!("{dir}{n}/").trim_start_matches('/'))?;
        } else {
            remove(&there);
            std::fs::rename(e.path(), &there)
                .map_err(|err| Error::io("cannot move into the image", &there, err))?;
        }
    }
    Ok(())
}

/// Unpacks a layer into `root`; its whiteout files only when `whiteouts`
/// (over nothing, they mean nothing).
fn unpack(tar: &Path, root: &Path, layer: &Path, whiteouts: bool, out: &Output) -> Result<()> {
    let mut args: Vec<std::ffi::OsString> =
        vec!["-x".into(), "--numeric-owner".into(), "-p".into()];
    if !whiteouts {
        args.push("--exclude=.wh.*".into());
    }
    args.extend(["-C".into(), root.into(), "-f".into(), layer.into()]);
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

/// `escape`'s inverse.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            let hex: String = chars.by_ref().take(2).collect();
            out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
        } else {
            out.push(c);
        }
    }
    Some(out)
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
