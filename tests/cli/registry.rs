//! Images from a registry: a real one (Debian's docker-registry) on
//! 127.0.0.1, seeded by the test with an image it builds from the busybox
//! root filesystem (umoci) and pushes (skopeo); no test needs the internet.

use crate::common::{DEADLINE, TestEnv, need, output, wait_for};
use crate::{require, snap};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A docker-registry serving from the test's directory, killed when dropped.
struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    host: String,
    /// Where it stores what is pushed.
    data: PathBuf,
    /// Its CA's certificate, when it serves TLS.
    ca: Option<PathBuf>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &str, args: &[&str]) -> String {
    let out = output(Command::new(program).args(args));
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn tools() -> bool {
    need("docker-registry", "docker-registry")
        && need("skopeo", "skopeo")
        && need("umoci", "umoci")
        && need("htpasswd", "apache2-utils")
        && need("openssl", "openssl")
}

impl Registry {
    /// Starts one in `dir`; with `tls`, behind a certificate of a CA of its
    /// own, asking for user `gk` with password `secret`.
    fn start(dir: &Path, tls: bool) -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let data = dir.join("data");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            data.display()
        );
        let mut ca = None;
        if tls {
            let key = |name: &str| dir.join(name).display().to_string();
            run(
                "openssl",
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=guestkit test CA",
                    "-keyout",
                    &key("ca.key"),
                    "-out",
                    &key("ca.crt"),
                ],
            );
            run(
                "openssl",
                &[
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-keyout",
                    &key("server.key"),
                    "-out",
                    &key("server.csr"),
                ],
            );
            std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
            run(
                "openssl",
                &[
                    "x509",
                    "-req",
                    "-in",
                    &key("server.csr"),
                    "-CA",
                    &key("ca.crt"),
                    "-CAkey",
                    &key("ca.key"),
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    &key("san.ext"),
                    "-out",
                    &key("server.crt"),
                ],
            );
            let htpasswd = run("htpasswd", &["-Bbn", "gk", "secret"]);
            std::fs::write(dir.join("htpasswd"), htpasswd).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: gk\n    path: {}\n",
                key("server.crt"),
                key("server.key"),
                key("htpasswd")
            ));
            // skopeo's certificate directory: the CA as ca.crt.
            let certs = dir.join("certs");
            std::fs::create_dir_all(&certs).unwrap();
            std::fs::copy(dir.join("ca.crt"), certs.join("ca.crt")).unwrap();
            ca = Some(dir.join("ca.crt"));
        }
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("registry.log")).unwrap())
            .spawn()
            .unwrap();
        let r = Registry {
            child,
            host,
            data,
            ca,
        };
        wait_for(&format!("docker-registry on {}", r.host), DEADLINE, || {
            TcpStream::connect(&r.host).is_ok()
        });
        r
    }

    /// Builds an image from the busybox root (its command prints a
    /// variable and its working directory) and pushes it as `repo:tag`.
    fn push(&self, env: &TestEnv, dir: &Path, repo_tag: &str, arch: &str) {
        self.push_with(env, dir, repo_tag, arch, &[]);
    }

    /// The same, with more layers: each a directory, made a tar by GNU tar
    /// (whiteouts are files named `.wh.NAME` in it) and added as it is.
    fn push_with(&self, env: &TestEnv, dir: &Path, repo_tag: &str, arch: &str, layers: &[PathBuf]) {
        let seed = "gk-seed";
        if !env.container_dir("crun", seed).exists() {
            env.ok("ctr-create", &[seed, "-b", "crun", "--", "true"]);
        }
        let root = env.container_dir("crun", seed).join("rootfs");
        let layout = dir.join("layout");
        let image = format!("{}:{}", layout.display(), repo_tag.replace(['/', ':'], "-"));
        if !layout.exists() {
            run("umoci", &["init", "--layout", layout.to_str().unwrap()]);
        }
        run("umoci", &["new", "--image", &image]);
        run(
            "umoci",
            &["insert", "--image", &image, root.to_str().unwrap(), "/"],
        );
        for layer in layers {
            let tar = layer.with_extension("tar");
            if layer == &tar {
                run(
                    "umoci",
                    &["raw", "add-layer", "--image", &image, tar.to_str().unwrap()],
                );
                continue;
            }
            run(
                "tar",
                &[
                    "-C",
                    layer.to_str().unwrap(),
                    "-cf",
                    tar.to_str().unwrap(),
                    ".",
                ],
            );
            run(
                "umoci",
                &["raw", "add-layer", "--image", &image, tar.to_str().unwrap()],
            );
        }
        run(
            "umoci",
            &[
                "config",
                "--image",
                &image,
                "--architecture",
                arch,
                "--config.cmd",
                "sh",
                "--config.cmd",
                "-c",
                "--config.cmd",
                "echo from-image $GREETING; pwd",
                "--config.env",
                "GREETING=hi",
                "--config.workingdir",
                "/tmp",
            ],
        );
        let mut args = vec!["--insecure-policy".to_string(), "copy".into()];
        match &self.ca {
            Some(_) => args.extend([
                "--dest-cert-dir".into(),
                dir.join("certs").display().to_string(),
                "--dest-creds".into(),
                "gk:secret".into(),
            ]),
            None => args.push("--dest-tls-verify=false".into()),
        }
        args.push(format!("oci:{image}"));
        args.push(format!("docker://{}/{repo_tag}", self.host));
        run(
            "skopeo",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }

    /// The file the registry keeps blob `hex` in.
    fn blob_file(&self, hex: &str) -> PathBuf {
        self.data
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

/// A test's environment (with a cache of its own) and a registry in it.
fn setup(tls: bool) -> (TestEnv, PathBuf, Registry) {
    let env = TestEnv::with_cache();
    let dir = env.path().join("registry");
    std::fs::create_dir_all(&dir).unwrap();
    let reg = Registry::start(&dir, tls);
    (env, dir, reg)
}

/// What is in the cache of pulled images: blobs (and partial ones), images.
fn cached(env: &TestEnv) -> (Vec<String>, Vec<String>) {
    let list = |d: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(env.cache().join("oci").join(d))
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    (list("blobs/sha256"), list("images"))
}

#[test]
fn an_image_is_pulled_once_and_runs_on_every_backend() {
    require!("lxc", "crun", "runc");
    if !tools() {
        return;
    }
    let (env, dir, reg) = setup(false);
    reg.push(&env, &dir, "test/bb:1", "amd64");
    env.write_config(&format!("[registries.\"{}\"]\ninsecure = true\n", reg.host));
    let image = format!("{}/test/bb:1", reg.host);
    let mut seen = String::new();
    for backend in ["crun", "runc", "lxc"] {
        seen.push_str(&format!("## {backend}\n"));
        seen.push_str(&env.run(
            "ctr-run",
            &["gk-pulled", "-b", backend, "--rm", "--image", &image],
        ));
    }
    snap!(env, "registry-run", seen.replace(&reg.host, "[REGISTRY]"));
    // On a terminal (script(1)), a pull says what it does on stderr: the
    // layer, the bytes and the rate, then the unpacking; the line is
    // cleared at the end. A killed pull's partial blob (its process gone)
    // is removed by the next pull.
    std::fs::remove_dir_all(env.cache().join("oci")).unwrap();
    let blobs = env.cache().join("oci/blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let partial = blobs.join(format!(".partial-{}-4194304", "0".repeat(64)));
    std::fs::write(&partial, "half").unwrap();
    let json = env.path().join("out.json");
    let cmd = format!(
        "ctr-create gk-progress -b crun --image {image} > {}",
        json.display()
    );
    let child = env
        .shell("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let o = crate::common::wait_output(child, DEADLINE, "ctr-create under script");
    let tty = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{tty}");
    let shown = format!("ctr-create: pulling {image}: layer 1 of 1, ");
    assert!(tty.contains(&shown) && tty.contains("/s…"), "{tty:?}");
    assert!(
        tty.contains(&format!("ctr-create: unpacking {image}…")),
        "{tty:?}"
    );
    assert!(tty.ends_with("\r\x1b[2K"), "{tty:?}");
    assert!(
        !partial.exists(),
        "the partial blob of a dead pull was left"
    );
    env.ok("ctr-delete", &["gk-progress"]);
    // Layers over layers: a file removed by a whiteout, a directory's
    // content replaced (an opaque whiteout), a file added.
    let layer = dir.join("layer2");
    std::fs::create_dir_all(layer.join("etc")).unwrap();
    std::fs::write(layer.join("etc/.wh.hostname"), "").unwrap();
    std::fs::write(layer.join("etc/.wh..wh..opq"), "").unwrap();
    std::fs::write(layer.join("etc/only"), "new\n").unwrap();
    std::fs::write(layer.join("added"), "added\n").unwrap();
    let layer3 = dir.join("layer3");
    std::fs::create_dir_all(layer3.join("etc")).unwrap();
    std::fs::write(layer3.join("etc/.wh.only"), "").unwrap();
    std::fs::write(layer3.join("etc/later"), "later\n").unwrap();
    reg.push_with(&env, &dir, "test/layers:1", "amd64", &[layer, layer3]);
    let layered = format!("{}/test/layers:1", reg.host);
    let ls = env.run(
        "ctr-run",
        &[
            "gk-layers",
            "-b",
            "crun",
            "--rm",
            "--image",
            &layered,
            "--",
            "sh",
            "-c",
            "ls -a /etc; cat /added",
        ],
    );
    snap!(env, "registry-layers", ls);
    // The image config's command, and the container's record.
    env.ok(
        "ctr-create",
        &["gk-pulled", "-b", "crun", "--image", &image],
    );
    let state = env.stdout("ctr-state", &["gk-pulled"]);
    // The record names the very image: the reference and the digest pulled.
    assert!(
        state.contains(&format!("\"image\":\"{image}@sha256:")),
        "{state}"
    );
    assert!(
        state.contains("\"command\":[\"sh\",\"-c\",\"echo from-image $GREETING; pwd\"]"),
        "{state}"
    );
    // The cache as image-list shows it; an image in use is not removed.
    let shown = |env: &TestEnv, tool: &str, args: &[&str], host: &str| {
        let text = env.run(tool, args).replace(host, "[REGISTRY]");
        let text = regex::Regex::new("sha256:[0-9a-f]{64}")
            .unwrap()
            .replace_all(&text, "sha256:[DIGEST]")
            .into_owned();
        let text = regex::Regex::new(r#""size_bytes":\d+"#)
            .unwrap()
            .replace_all(&text, r#""size_bytes":"[N]""#)
            .into_owned();
        regex::Regex::new(r#""created":"[^"]+""#)
            .unwrap()
            .replace_all(&text, r#""created":"[TIME]""#)
            .into_owned()
    };
    let mut text = shown(&env, "image-list", &["-o", "json"], &reg.host);
    text.push_str(&shown(&env, "image-delete", &[&image], &reg.host));
    snap!(env, "registry-images", text);
    env.ok("ctr-delete", &["gk-pulled"]);
    let (blobs, images) = cached(&env);
    // bb: a layer and a config; layers: the same layer, two more and its config.
    assert_eq!(blobs.len(), 2 + 3, "{blobs:?}");
    assert_eq!(images.len(), 2, "{images:?}");
    // With the registry gone, the image is still there: no request is made.
    drop(reg);
    let out = env.run(
        "ctr-run",
        &["gk-pulled", "-b", "crun", "--rm", "--image", &image],
    );
    assert!(out.starts_with("exit_code: 0"), "{out}");
    // ctr-create's own code (ctr-run's is 125 for any failure of its own).
    let out = env.run(
        "ctr-create",
        &[
            "gk-pulled",
            "-b",
            "crun",
            "--pull",
            "always",
            "--image",
            &image,
        ],
    );
    assert!(out.starts_with("exit_code: 5"), "{out}");
    // Removing: one image, one not there, then every one unused.
    let layers_ref = format!(
        "{host}/test/layers:1",
        host = image.split('/').next().unwrap()
    );
    let host = image.split('/').next().unwrap().to_string();
    let mut text = shown(&env, "image-delete", &[&layers_ref, "alpine:3.20"], &host);
    text.push_str(&shown(&env, "image-prune", &["--dry-run"], &host));
    text.push_str(&shown(&env, "image-prune", &[], &host));
    text.push_str(&shown(&env, "image-list", &[], &host));
    snap!(env, "registry-images-removed", text);
    assert_eq!(cached(&env), (vec![], vec![]), "the cache is empty");
}

#[test]
fn registry_failures_are_refused_and_keep_nothing() {
    require!("crun");
    if !tools() {
        return;
    }
    let (env, dir, reg) = setup(false);
    reg.push(&env, &dir, "test/bb:1", "amd64");
    reg.push(&env, &dir, "test/arm:1", "arm64");
    // A layer's link to / and the next layer's file through it: the file
    // lands in the image's root, not the host's.
    let escape = format!("gk-escape-{}", std::process::id());
    let (l2, l3) = (dir.join("esc2"), dir.join("esc3"));
    std::fs::create_dir_all(&l2).unwrap();
    std::os::unix::fs::symlink("/", l2.join("x")).unwrap();
    std::fs::create_dir_all(l3.join("x")).unwrap();
    std::fs::write(l3.join("x").join(&escape), "inside\n").unwrap();
    // The file alone, with no entry for x: tar would open x/FILE through
    // whatever x is on disk.
    let l3tar = dir.join("esc3.tar");
    let member = format!("x/{escape}");
    run(
        "tar",
        &[
            "-C",
            l3.to_str().unwrap(),
            "-cf",
            l3tar.to_str().unwrap(),
            &member,
        ],
    );
    reg.push_with(&env, &dir, "test/escape:1", "amd64", &[l2, l3tar]);
    // An index (a multi-platform image) with an arm64 build alone.
    let layout = dir.join("layout");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let arm = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "test-arm-1")
        .unwrap();
    let mut entry = arm.clone();
    entry.as_object_mut().unwrap().remove("annotations");
    entry["platform"] = serde_json::json!({"architecture": "arm64", "os": "linux"});
    let blob = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry],
    }))
    .unwrap();
    let tmp = dir.join("index.blob");
    std::fs::write(&tmp, &blob).unwrap();
    let sum = run("sha256sum", &[tmp.to_str().unwrap()]);
    let hex = sum.split_whitespace().next().unwrap();
    std::fs::rename(&tmp, layout.join("blobs/sha256").join(hex)).unwrap();
    let mut index = index.clone();
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"),
            "size": blob.len(),
            "annotations": {"org.opencontainers.image.ref.name": "armidx"},
        }));
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    run(
        "skopeo",
        &[
            "--insecure-policy",
            "copy",
            "--all",
            "--dest-tls-verify=false",
            &format!("oci:{}:armidx", layout.display()),
            &format!("docker://{}/test/armidx:1", reg.host),
        ],
    );
    env.ok("ctr-delete", &["gk-seed"]);
    env.write_config(&format!("[registries.\"{}\"]\ninsecure = true\n", reg.host));
    env.ok(
        "ctr-create",
        &[
            "gk-esc",
            "-b",
            "crun",
            "--image",
            &format!("{}/test/escape:1", reg.host),
        ],
    );
    assert!(
        !Path::new("/").join(&escape).exists(),
        "a layer wrote outside the image"
    );
    // The upper layer's x (a directory) takes the place of the lower one's
    // link, as in an overlay of the two.
    let root = env.container_dir("crun", "gk-esc").join("rootfs");
    assert_eq!(
        std::fs::read_to_string(root.join("x").join(&escape)).unwrap(),
        "inside\n"
    );
    env.ok("ctr-delete", &["gk-esc"]);
    env.ok("image-prune", &[]);
    // The layer, changed in the registry's storage after it was pushed.
    let manifest = run(
        "skopeo",
        &[
            "--insecure-policy",
            "inspect",
            "--tls-verify=false",
            "--raw",
            &format!("docker://{}/test/bb:1", reg.host),
        ],
    );
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let layer = m["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .strip_prefix("sha256:")
        .unwrap()
        .to_string();
    let mut data = std::fs::read(reg.blob_file(&layer)).unwrap();
    data[100] ^= 0xff;
    std::fs::write(reg.blob_file(&layer), data).unwrap();
    let cases = [
        ("unknown-tag", format!("{}/test/bb:2", reg.host), vec![]),
        (
            "unknown-repository",
            format!("{}/test/none:1", reg.host),
            vec![],
        ),
        ("not-answering", "127.0.0.1:1/test/bb:1".to_string(), vec![]),
        ("bad-reference", "Test/BB:1".to_string(), vec![]),
        (
            "not-pulled",
            format!("{}/test/bb:1", reg.host),
            vec!["--pull", "never"],
        ),
        ("digest-mismatch", format!("{}/test/bb:1", reg.host), vec![]),
        (
            "other-architecture",
            format!("{}/test/arm:1", reg.host),
            vec![],
        ),
        (
            "index-without-this-architecture",
            format!("{}/test/armidx:1", reg.host),
            vec![],
        ),
    ];
    let mut text = String::new();
    for (what, image, flags) in cases {
        let mut args = vec!["gk-bad", "-b", "crun", "--image", &image];
        args.extend(flags);
        let shown = env
            .run("ctr-create", &args)
            .replace(&reg.host, "[REGISTRY]")
            .replace(&layer, "[LAYER]");
        text.push_str(&format!("## {what}\n{shown}\n"));
        assert!(!env.container_dir("crun", "gk-bad").exists(), "{what}");
    }
    let text = regex::Regex::new("sha256:[0-9a-f]{64}")
        .unwrap()
        .replace_all(&text, "sha256:[DIGEST]")
        .into_owned();
    // A layer's size moves with the files' times in it.
    let text = regex::Regex::new(r"\d+ bytes")
        .unwrap()
        .replace_all(&text, "[N] bytes")
        .into_owned();
    snap!(env, "registry-failures", text);
    // A name that is taken is refused before any pull: the registry that
    // does not answer is never asked.
    env.ok("ctr-create", &["gk-taken", "-b", "crun", "--", "true"]);
    let taken = env.run(
        "ctr-create",
        &["gk-taken", "-b", "crun", "--image", "127.0.0.1:1/test/bb:1"],
    );
    assert!(
        taken.starts_with("exit_code: 4") && !taken.contains("127.0.0.1:1"),
        "{taken}"
    );
    env.ok("ctr-delete", &["gk-taken"]);
    // Nothing of the bad layer was kept, nor any partial download.
    let (blobs, images) = cached(&env);
    assert!(
        !blobs
            .iter()
            .any(|b| b == &layer || b.starts_with(".partial")),
        "{blobs:?}"
    );
    assert_eq!(images, Vec::<String>::new());
}

#[test]
fn a_registry_behind_tls_and_a_password() {
    require!("crun");
    if !tools() {
        return;
    }
    let (env, dir, reg) = setup(true);
    reg.push(&env, &dir, "test/bb:1", "amd64");
    env.ok("ctr-delete", &["gk-seed"]);
    let image = format!("{}/test/bb:1", reg.host);
    let ca = reg.ca.clone().unwrap().display().to_string();
    let try_with = |config: &str, what: &str, text: &mut String| {
        env.write_config(config);
        // ctr-create's exit codes (ctr-run's is 125 for any failure of its own).
        let shown = env
            .run("ctr-create", &["gk-tls", "-b", "crun", "--image", &image])
            .replace(&reg.host, "[REGISTRY]");
        text.push_str(&format!("## {what}\n{shown}\n"));
        if shown.starts_with("exit_code: 0") {
            text.push_str(&env.run(
                "ctr-run",
                &["gk-tls2", "-b", "crun", "--rm", "--image", &image],
            ));
            env.ok("ctr-delete", &["gk-tls"]);
        }
    };
    let mut text = String::new();
    try_with("", "untrusted-certificate", &mut text);
    let table = format!("[registries.\"{}\"]\nca_file = \"{ca}\"\n", reg.host);
    try_with(&table, "no-password", &mut text);
    try_with(
        &format!("{table}username = \"gk\"\npassword = \"wrong\"\n"),
        "wrong-password",
        &mut text,
    );
    try_with(
        &format!("{table}username = \"gk\"\npassword = \"secret\"\n"),
        "right-password",
        &mut text,
    );
    snap!(env, "registry-tls", text);
    // A login file (as podman login writes it) serves as well, once the
    // cache is emptied.
    std::fs::remove_dir_all(env.cache().join("oci")).unwrap();
    let auth = dir.join("auth.json");
    std::fs::write(
        &auth,
        format!(
            "{{\"auths\":{{\"{}\":{{\"auth\":\"Z2s6c2VjcmV0\"}}}}}}",
            reg.host
        ),
    )
    .unwrap();
    env.write_config(&table);
    let out = output(
        env.cmd("ctr-run")
            .args(["gk-tls", "-b", "crun", "--rm", "--image", &image])
            .env("REGISTRY_AUTH_FILE", &auth),
    );
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret"));
}

/// A registry that asks for a Bearer token, as Docker Hub does: a proxy in
/// front of a real one that answers 401 with a challenge naming its token
/// service, gives a token for the right user and password, and passes on
/// the requests that carry that token.
fn token_proxy(upstream: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let tokens = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (h, t) = (host.clone(), tokens.clone());
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let mut reader = BufReader::new(c.try_clone().unwrap());
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push(line.trim_end().to_string());
            }
            let Some(path) = head
                .first()
                .and_then(|l| l.split(' ').nth(1))
                .map(str::to_string)
            else {
                continue;
            };
            let header = |name: &str| {
                head.iter().find_map(|l| {
                    let (k, v) = l.split_once(": ")?;
                    k.eq_ignore_ascii_case(name).then(|| v.to_string())
                })
            };
            let reply = |c: &mut TcpStream, status: &str, extra: &str, body: &str| {
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            };
            if path.starts_with("/token?") {
                // base64("gk:secret")
                if header("authorization").as_deref() == Some("Basic Z2s6c2VjcmV0")
                    && path.contains("scope=repository:test/bb:pull")
                {
                    t.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    reply(
                        &mut c,
                        "200 OK",
                        "Content-Type: application/json\r\n",
                        r#"{"token":"t0ken"}"#,
                    );
                } else {
                    reply(&mut c, "401 Unauthorized", "", "");
                }
                continue;
            }
            if header("authorization").as_deref() != Some("Bearer t0ken") {
                let challenge = format!(
                    "WWW-Authenticate: Bearer realm=\"http://{h}/token\",service=\"gk\",scope=\"repository:test/bb:pull\"\r\n"
                );
                reply(&mut c, "401 Unauthorized", &challenge, "");
                continue;
            }
            let mut up = TcpStream::connect(&upstream).unwrap();
            let accept = header("accept").unwrap_or_else(|| "*/*".into());
            let _ = write!(
                up,
                "GET {path} HTTP/1.1\r\nHost: {upstream}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
            );
            let mut answer = Vec::new();
            let _ = up.read_to_end(&mut answer);
            let _ = c.write_all(&answer);
        }
    });
    (host, tokens)
}

#[test]
fn a_bearer_token_is_asked_for_and_used() {
    require!("crun");
    if !tools() {
        return;
    }
    let (env, dir, reg) = setup(false);
    reg.push(&env, &dir, "test/bb:1", "amd64");
    env.ok("ctr-delete", &["gk-seed"]);
    let (proxy, tokens) = token_proxy(reg.host.clone());
    let image = format!("{proxy}/test/bb:1");
    let table = format!("[registries.\"{proxy}\"]\ninsecure = true\n");
    env.write_config(&table);
    let out = env.run("ctr-create", &["gk-token", "-b", "crun", "--image", &image]);
    assert!(out.starts_with("exit_code: 6"), "{out}");
    env.write_config(&format!(
        "{table}username = \"gk\"\npassword = \"secret\"\n"
    ));
    env.ok("ctr-create", &["gk-token", "-b", "crun", "--image", &image]);
    assert_eq!(
        tokens.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one token, kept for every request"
    );
    env.ok("ctr-delete", &["gk-token"]);
}

#[test]
fn a_tag_pulled_again_leaves_its_old_image_to_its_containers() {
    require!("crun");
    if !tools() {
        return;
    }
    let (env, dir, reg) = setup(false);
    env.write_config(&format!("[registries.\"{}\"]\ninsecure = true\n", reg.host));
    let image = format!("{}/test/moving:1", reg.host);
    reg.push(&env, &dir, "test/moving:1", "amd64");
    env.ok("ctr-create", &["gk-old", "-b", "crun", "--image", &image]);
    // The tag moves: another build (another config) pushed under it.
    let added = dir.join("moved");
    std::fs::create_dir_all(&added).unwrap();
    std::fs::write(added.join("version"), "2\n").unwrap();
    reg.push_with(&env, &dir, "test/moving:1", "amd64", &[added]);
    env.ok("ctr-delete", &["gk-seed"]);
    env.ok(
        "ctr-create",
        &[
            "gk-new", "-b", "crun", "--pull", "always", "--image", &image,
        ],
    );
    let list = env.stdout("image-list", &["-o", "json"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    // The old image, no reference leading to it, still has its container.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"reference\":null") && l.contains("\"containers\":1")),
        "{list}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("\"reference\":\"{image}\""))
                && l.contains("\"containers\":1")),
        "{list}"
    );
    // Nothing is unused: prune keeps both; the old one goes with its container.
    assert_eq!(env.stdout("image-prune", &[]), "");
    assert_eq!(env.stdout("image-list", &["-o", "json"]).lines().count(), 2);
    env.ok("ctr-delete", &["gk-old"]);
    let pruned = env.stdout("image-prune", &[]);
    assert!(pruned.contains("\"reference\":null"), "{pruned}");
    assert_eq!(env.stdout("image-list", &["-o", "json"]).lines().count(), 1);
    env.ok("ctr-delete", &["gk-new"]);
}
