//! guestkit-setup: from flags (every missing-flag error, a file there
//! already, a cluster of the simulator with each kind of credentials and
//! trust), and asked in a real terminal (tmux) against the simulator: a
//! certificate declined then pinned, a wrong token, a token lacking
//! privileges, an unreachable URL, and Ctrl-C leaving no file behind.

use crate::common::{Term, TestEnv};
use crate::pve::Pve;
use crate::sim::server::{Options, TOKEN};
use crate::{require, snap};
use std::path::{Path, PathBuf};

/// The file the tools read (GUESTKIT_CONFIG), gone: setup writes it.
fn fresh(env: &TestEnv) -> PathBuf {
    let f = env.path().join("config.toml");
    std::fs::remove_file(&f).unwrap();
    f
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn from_flags_without_a_cluster() {
    require!("lxc", "crun", "runc");
    let env = TestEnv::new();
    let f = fresh(&env);
    snap!(env, "setup-defaults", env.run("guestkit-setup", &[]));
    assert_eq!(mode(&f), 0o644);
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("default_backend = \"lxc\""), "{text}");
    // The file written is one the tools read.
    env.ok("ctr-list", &[]);
    snap!(
        env,
        "setup-exists",
        env.run("guestkit-setup", &["--backend", "runc"])
    );
    snap!(
        env,
        "setup-force",
        env.run(
            "guestkit-setup",
            &["--backend", "runc", "--force", "-o", "json"]
        )
    );
    assert!(std::fs::read_to_string(&f).unwrap().contains("\"runc\""));
    let backup = std::fs::read_to_string(env.path().join("config.toml.bak")).unwrap();
    assert_eq!(backup, text, "the backup is the file replaced");
    // A relative --config is written, and named, as an absolute path.
    let out = env.stdout("guestkit-setup", &["--config", "sub/rel.toml"]);
    let file = env.path().join("sub/rel.toml");
    assert!(
        out.contains(&format!("\"file\":\"{}\"", file.display())),
        "{out}"
    );
    assert!(file.is_file());
    // A dangling symlink is something there, not room for a new file.
    std::os::unix::fs::symlink("/nonexistent", env.path().join("link.toml")).unwrap();
    let out = env.run("guestkit-setup", &["--config", "link.toml"]);
    assert!(out.starts_with("exit_code: 4"), "{out}");
}

#[test]
fn every_missing_or_conflicting_flag_is_a_usage_error() {
    let env = TestEnv::new();
    let f = fresh(&env);
    let fp = format!("{}AB", "AB:".repeat(31));
    let mut all = String::new();
    for args in [
        &["--pve-url", "https://pve1:8006"][..],
        &["--pve-url", "https://pve1:8006", "--pve-fingerprint", &fp],
        &["--pve-url", "http://pve1:8006", "--trust-on-first-use"],
        &[
            "--pve-url",
            "https://pve1:8006",
            "--pve-fingerprint",
            "AA:BB",
        ],
        &[
            "--pve-url",
            "https://pve1:8006",
            "--pve-fingerprint",
            &fp,
            "--trust-on-first-use",
        ],
        &[
            "--pve-url",
            "https://pve1:8006",
            "--pve-fingerprint",
            &fp,
            "--pve-user",
            "root@pam",
        ],
        &[
            "--pve-url",
            "https://pve1:8006",
            "--pve-fingerprint",
            &fp,
            "--pve-token-file",
            "/nonexistent",
        ],
        &["--pve-fingerprint", &fp],
        &["--pve-node", "pve1"],
        &["--backend", "proxmox"],
    ] {
        all.push_str(&format!("$ guestkit-setup {}\n", args.join(" ")));
        all.push_str(&env.run("guestkit-setup", args));
        assert!(!f.exists(), "a refused setup wrote {}", f.display());
    }
    snap!(env, "setup-usage-errors", all.as_str());
}

/// The simulator's cluster, with the tools' own connection variables unset:
/// setup's answers alone are to count.
fn cluster(opts: Options) -> (Pve, PathBuf) {
    let mut p = Pve::new(opts);
    for k in [
        "GUESTKIT_PVE_URL",
        "GUESTKIT_PVE_TOKEN",
        "GUESTKIT_PVE_FINGERPRINT",
    ] {
        p.unset(k);
    }
    let f = fresh(&p.env);
    (p, f)
}

fn setup(p: &Pve, args: &[&str], token: Option<&str>) -> String {
    let mut cmd = p.cmd("guestkit-setup");
    if let Some(t) = token {
        cmd.env("GUESTKIT_PVE_TOKEN", t);
    }
    cmd.args(["--backend", "runc", "--non-interactive"])
        .args(args);
    p.env.run_cmd(&mut cmd, None)
}

#[test]
fn from_flags_with_a_cluster() {
    let (p, f) = cluster(Options::default());
    let url = p.sim.urls[0].clone();
    let secret = TOKEN.split('=').nth(1).unwrap();
    let out = setup(
        &p,
        &["--pve-url", &url, "--trust-on-first-use"],
        Some(TOKEN),
    );
    assert!(!out.contains(secret), "the secret was printed: {out}");
    snap!(p, "setup-pve-inline-token", out);
    assert_eq!(
        mode(&f),
        0o600,
        "a file holding the token is its owner's alone"
    );
    // The file works: the doctor, with nothing but it, reaches the cluster.
    let mut doctor = p.cmd("guestkit-doctor");
    let out = p.env.run_cmd(&mut doctor, None);
    assert!(out.contains(r#""check":"proxmox.api","ok":true"#), "{out}");

    // A token file, a node and a storage; the file holds no secret.
    let token_file = p.env.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let fp = p.sim.fingerprints[0].clone();
    let tf = token_file.to_str().unwrap();
    let args = [
        "--pve-url",
        &url,
        "--pve-fingerprint",
        &fp,
        "--pve-token-file",
        tf,
        "--pve-node",
        "pve1",
        "--pve-storage",
        "local-lvm",
        "--force",
    ];
    snap!(p, "setup-pve-token-file", setup(&p, &args, None));
    assert_eq!(mode(&f), 0o644);
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        !text.contains(secret) && text.contains("node = \"pve1\""),
        "{text}"
    );

    let mut all = String::new();
    for (args, token) in [
        (
            vec!["--pve-url", &url, "--trust-on-first-use"],
            Some("root@pam!gk=wrong"),
        ),
        (
            vec!["--pve-url", "https://127.0.0.1:1", "--trust-on-first-use"],
            Some(TOKEN),
        ),
        (
            vec![
                "--pve-url",
                &url,
                "--pve-fingerprint",
                &format!("{}AB", "AB:".repeat(31)),
            ],
            Some(TOKEN),
        ),
        (
            vec![
                "--pve-url",
                &url,
                "--trust-on-first-use",
                "--pve-node",
                "pve9",
            ],
            Some(TOKEN),
        ),
        (
            vec![
                "--pve-url",
                &url,
                "--trust-on-first-use",
                "--pve-storage",
                "nope",
            ],
            Some(TOKEN),
        ),
    ] {
        let mut args = args.clone();
        args.push("--force");
        all.push_str(&format!("$ guestkit-setup {}\n", args.join(" ")));
        all.push_str(&setup(&p, &args, token));
    }
    snap!(p, "setup-pve-refused", all.as_str());
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        text,
        "a refused setup changed the file"
    );
}

#[test]
fn a_token_lacking_privileges_is_named() {
    let (p, f) = cluster(Options {
        token_privileges: Some(vec!["VM.Audit", "Sys.Audit", "VM.PowerMgmt"]),
        ..Options::default()
    });
    let url = p.sim.urls[0].clone();
    snap!(
        p,
        "setup-pve-weak-token",
        setup(
            &p,
            &["--pve-url", &url, "--trust-on-first-use"],
            Some(TOKEN)
        )
    );
    assert!(
        f.exists(),
        "a weak token is warned about, and still written"
    );
}

#[test]
fn asked_on_a_terminal() {
    require!("lxc", "crun", "runc");
    let (p, f) = cluster(Options::default());
    let Some(t) = Term::new(&p.env) else { return };
    let url = p.sim.urls[0].clone();
    t.command("guestkit-setup -o json");
    let s = t.wait("Default backend for new containers?");
    assert!(s.contains("lxc: LXC") && s.contains("runc: runc"), "{s}");
    t.send(&["Down", "Enter"]);
    t.wait("Connect a Proxmox VE cluster?");
    t.send(&["y", "Enter"]);
    t.wait("Proxmox VE API URL(s)?");
    // Not a URL: refused at once; unreachable: said, and asked again.
    t.send(&["-l", "http://pve1"]);
    t.send(&["Enter"]);
    t.wait("plain http");
    t.send(&["BSpace"; 11]);
    t.send(&["-l", "https://127.0.0.1:1"]);
    t.send(&["Enter"]);
    t.wait("cannot reach 127.0.0.1:1");
    // The certificate, declined; then pinned.
    for choice in [&["Down", "Down", "Enter"][..], &["Enter"][..]] {
        t.wait("Proxmox VE API URL(s)?");
        t.send(&["-l", &url]);
        t.send(&["Enter"]);
        let s = t.wait("Trust this certificate?");
        assert!(s.contains(&p.sim.fingerprints[0]), "{s}");
        assert!(s.contains("subject") && s.contains("valid"), "{s}");
        t.send(choice);
    }
    // A wrong token, then the right one; kept in a file of its own.
    t.wait("Log in with?");
    t.send(&["Enter"]);
    t.wait("API token?");
    t.send(&["-l", "root@pam!gk=wrong"]);
    t.send(&["Enter"]);
    t.wait("refused the credentials");
    t.send(&["-l", TOKEN]);
    t.send(&["Enter"]);
    t.wait("Where should the token be kept?");
    t.send(&["Down", "Enter"]);
    t.wait("Default node for new VMs?");
    t.send(&["Down", "Enter"]);
    let s = t.wait("Default storage for new disks?");
    assert!(s.contains("local-lvm"), "{s}");
    t.send(&["Enter"]);
    let s = t.wait("rc=0");
    let secret = TOKEN.split('=').nth(1).unwrap();
    assert!(!s.contains(secret), "the secret was shown: {s}");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("default_backend = \"crun\""), "{text}");
    assert!(
        text.contains(&p.sim.fingerprints[0]) && text.contains("node = \"pve1\""),
        "{text}"
    );
    assert!(!text.contains(secret), "{text}");
    let token_file = p.env.path().join("pve-token");
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap(),
        format!("{TOKEN}\n")
    );
    assert_eq!(mode(&token_file), 0o600);
}

/// The questions of a setup that connects the simulator's cluster with a
/// token, and the keys that answer each.
fn questions(url: &str) -> Vec<(&'static str, Vec<String>)> {
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        ("Default backend for new containers?", keys(&["Enter"])),
        ("Connect a Proxmox VE cluster?", keys(&["y", "Enter"])),
        ("Proxmox VE API URL(s)?", keys(&[url, "Enter"])),
        ("Trust this certificate?", keys(&["Enter"])),
        ("Log in with?", keys(&["Enter"])),
        ("API token?", keys(&[TOKEN, "Enter"])),
        ("Where should the token be kept?", keys(&["Enter"])),
        ("Default node for new VMs?", keys(&["Enter"])),
        ("Default storage for new disks?", keys(&["Enter"])),
    ]
}

#[test]
fn ctrl_c_at_every_question_leaves_no_file() {
    let (p, f) = cluster(Options::default());
    let Some(t) = Term::new(&p.env) else { return };
    let steps = questions(&p.sim.urls[0]);
    for upto in 0..steps.len() {
        t.clear();
        t.command("guestkit-setup");
        for (question, keys) in &steps[..upto] {
            t.wait(question);
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            t.send(&keys);
        }
        t.wait(steps[upto].0);
        t.send(&["C-c"]);
        t.wait("rc=130");
        assert!(!f.exists(), "Ctrl-C at {:?} left a file", steps[upto].0);
        assert!(!p.env.path().join("pve-token").exists());
    }
    // Answered to the end, the same questions write it.
    t.clear();
    t.command("guestkit-setup");
    for (question, keys) in &steps {
        t.wait(question);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        t.send(&keys);
    }
    t.wait("rc=0");
    assert_eq!(mode(&f), 0o600, "the token is in the file");
}

#[test]
fn a_weak_token_and_a_user_on_a_terminal() {
    let (p, f) = cluster(Options {
        token_privileges: Some(vec!["VM.Audit"]),
        ..Options::default()
    });
    let Some(t) = Term::new(&p.env) else { return };
    let steps = questions(&p.sim.urls[0]);
    t.command("guestkit-setup");
    for (question, keys) in &steps[..6] {
        t.wait(question);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        t.send(&keys);
    }
    let s = t.wait("Use this token all the same?");
    assert!(
        s.contains("VM.PowerMgmt (to start, stop and restart VMs)"),
        "{s}"
    );
    t.send(&["n", "Enter"]);
    t.wait("the token was not taken; give another");
    t.send(&["C-c"]);
    t.wait("rc=130");
    assert!(!f.exists());
    // A user and password, taken despite what it lacks, kept in a file.
    t.clear();
    t.command("guestkit-setup");
    for (question, keys) in &steps[..4] {
        t.wait(question);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        t.send(&keys);
    }
    t.wait("Log in with?");
    t.send(&["Down", "Enter"]);
    t.wait("User?");
    t.send(&["Enter"]);
    t.wait("Password?");
    t.send(&["-l", crate::sim::server::PASSWORD]);
    t.send(&["Enter"]);
    t.wait("Use this user all the same?");
    t.send(&["y", "Enter"]);
    t.wait("Where should the password be kept?");
    t.send(&["Down", "Enter"]);
    t.wait("Default node for new VMs?");
    t.send(&["Enter"]);
    t.wait("Default storage for new disks?");
    t.send(&["Enter"]);
    let s = t.wait("rc=0");
    assert!(!s.contains(crate::sim::server::PASSWORD), "{s}");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.contains("user = \"root@pam\"") && text.contains("password_file"),
        "{text}"
    );
    let pw = p.env.path().join("pve-password");
    assert_eq!(
        std::fs::read_to_string(&pw).unwrap(),
        format!("{}\n", crate::sim::server::PASSWORD)
    );
    assert_eq!(mode(&pw), 0o600);
}

#[test]
fn a_ca_file_a_token_command_and_a_user_from_flags() {
    let (p, f) = cluster(Options::default());
    let ca = p.env.path().join("pve-root-ca.pem");
    std::fs::write(&ca, &p.sim.ca_pem).unwrap();
    // The CA names the nodes as localhost.
    let url = p.sim.urls[0].replace("127.0.0.1", "localhost");
    let token_file = p.env.path().join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let token_cmd = format!("cat {}", token_file.display());
    let password = p.env.path().join("password");
    std::fs::write(&password, format!("{}\n", crate::sim::server::PASSWORD)).unwrap();
    let (ca, password) = (ca.to_str().unwrap(), password.to_str().unwrap());
    let mut all = String::new();
    for args in [
        vec![
            "--pve-url",
            &url,
            "--pve-ca",
            ca,
            "--pve-token-command",
            &token_cmd,
        ],
        vec![
            "--pve-url",
            &url,
            "--pve-ca",
            ca,
            "--pve-user",
            crate::sim::server::USER,
            "--pve-password-file",
            password,
            "--force",
        ],
    ] {
        all.push_str(&format!("$ guestkit-setup {}\n", args.join(" ")));
        all.push_str(&setup(&p, &args, None));
        // What was written works: vm-list reads it, and nothing else.
        let mut list = p.cmd("vm-list");
        let out = p.env.run_cmd(list.args(["-o", "name"]), None);
        assert!(out.starts_with("exit_code: 0"), "{out}");
    }
    assert!(f.exists());
    let all = all.replace(&url, "https://localhost:[PORT]");
    snap!(p, "setup-pve-ca-command-user", all.as_str());
}
