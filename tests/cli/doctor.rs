//! guestkit-doctor on this machine: every backend's tools present, and
//! absent (by PATH); completions and man pages found where the shells and
//! man look, or not; a bad configuration and one that shows a secret; a
//! cluster that answers, one with a wrong pin, a wrong token, a clock that
//! is off, and one that does not answer.

use crate::common::{TestEnv, which};
use crate::pve::Pve;
use crate::sim::server::Options;
use crate::{require, snap};
use std::path::Path;
use std::process::Command;

/// The filters of a doctor's output: what differs between hosts of this
/// kind (versions, where a distribution puts a tool, the cgroup layout the
/// tests run under).
fn filters(env: &TestEnv) -> Vec<(String, String)> {
    let mut f = env.filters();
    for (re, with) in [
        (r"(LXC|crun|runc) [0-9][0-9A-Za-z.+~-]*", "$1 [VERSION]"),
        (r"\(/[a-z/]+/(lxc-start|crun|runc)\)", "([PATH]/$1)"),
        (r"cgroup v1 \(legacy\)|cgroup v2 \(unified\)", "[LAYOUT]"),
    ] {
        f.push((re.to_string(), with.to_string()));
    }
    f
}

macro_rules! doctor_snap {
    ($env:expr, $name:expr, $value:expr) => {{
        let f = filters(&$env);
        let filters: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            omit_expression => true,
            filters => filters,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    }};
}

/// Where this test's shells and man look: nothing is installed there yet.
fn isolate(env: &TestEnv, cmd: &mut Command) {
    let p = env.path();
    cmd.env("XDG_DATA_DIRS", p.join("share"))
        .env("MANPATH", p.join("man"))
        .env("FPATH", p.join("zsh"));
}

fn doctor(env: &TestEnv, args: &[&str], path: Option<&Path>) -> String {
    let mut cmd = env.cmd("guestkit-doctor");
    isolate(env, &mut cmd);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    env.run_cmd(cmd.args(args), None)
}

/// Installs the completions and man pages as scripts/install does, under
/// the test's own directories.
fn install(env: &TestEnv) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = env.path();
    for (from, to) in [
        (
            "completions/bash/ctr-list",
            "share/bash-completion/completions/ctr-list",
        ),
        ("completions/zsh/_ctr-list", "zsh/_ctr-list"),
        (
            "completions/fish/ctr-list.fish",
            "share/fish/vendor_completions.d/ctr-list.fish",
        ),
        (
            "completions/nushell/guestkit.nu",
            "share/nushell/vendor/autoload/guestkit.nu",
        ),
        ("man/man1/ctr-list.1", "man/man1/ctr-list.1"),
    ] {
        let to = p.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(from), to).unwrap();
    }
}

#[test]
fn on_this_host_with_everything_and_then_with_nothing_installed() {
    require!("lxc", "crun", "runc");
    for tool in ["man", "zsh", "fish", "nu", "bash"] {
        assert!(
            which(tool).is_some() || std::env::var_os("GUESTKIT_REQUIRE_ALL").is_none(),
            "{tool} is required here (scripts/deps --test installs it)"
        );
    }
    let env = TestEnv::new();
    doctor_snap!(env, "doctor-nothing-installed", doctor(&env, &[], None));
    install(&env);
    doctor_snap!(env, "doctor-all-installed", doctor(&env, &[], None));

    // No tool at all on PATH but the backends asked for.
    let bin = env.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(which("runc").unwrap(), bin.join("runc")).unwrap();
    doctor_snap!(env, "doctor-no-tools", doctor(&env, &[], Some(&bin)));
    doctor_snap!(
        env,
        "doctor-backend-missing",
        doctor(&env, &["--backend", "crun", "-o", "table"], Some(&bin))
    );
}

#[test]
fn a_bad_config_and_a_secret_others_may_read() {
    let env = TestEnv::new();
    env.write_config("default_backend = \"docker\"\n");
    let out = doctor(&env, &[], None);
    doctor_snap!(env, "doctor-bad-config", first_lines(&out, 1));

    // A default backend that needs a cluster, and none configured.
    env.write_config("default_backend = \"proxmox\"\n");
    let out = doctor(&env, &["-o", "json"], None);
    assert!(out.starts_with("exit_code: 5"), "{out}");
    assert!(out.contains(r#""check":"proxmox","ok":false"#), "{out}");

    let cfg = env.path().join("config.toml");
    env.write_config("[proxmox]\ntoken = \"root@pam!gk=0123\"\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = doctor(&env, &[], None);
    assert!(!out.contains("0123"), "the secret was printed: {out}");
    doctor_snap!(env, "doctor-open-secret", first_lines(&out, 2));
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = doctor(&env, &[], None);
    assert!(
        out.contains(r#""check":"config.secrets","ok":true"#),
        "{out}"
    );
}

/// The exit code, and the records whose check starts with `prefix`.
fn only(out: &str, prefix: &str) -> String {
    let mut lines = out.lines();
    let mut kept: Vec<&str> = lines.next().into_iter().collect();
    kept.extend(
        lines.filter(|l| l.starts_with(&format!(r#"{{"check":"{prefix}"#)) || !l.starts_with('{')),
    );
    kept.join("\n") + "\n"
}

/// The exit code and the first `n` records, and stderr.
fn first_lines(out: &str, n: usize) -> String {
    let mut records = 0;
    out.lines()
        .filter(|l| {
            if l.starts_with('{') {
                records += 1;
                records <= n
            } else {
                true
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn pve_doctor(p: &Pve) -> String {
    let mut cmd = p.cmd("guestkit-doctor");
    isolate(&p.env, &mut cmd);
    only(&p.env.run_cmd(&mut cmd, None), "proxmox")
}

#[test]
fn a_cluster_that_answers_and_the_ways_it_may_not() {
    let mut p = Pve::new(Options::default());
    snap!(p, "doctor-pve", pve_doctor(&p));
    let fp = p.sim.fingerprints[0].clone();
    let wrong = fp.replace(&fp[..2], if &fp[..2] == "00" { "11" } else { "00" });
    p.set("GUESTKIT_PVE_FINGERPRINT", &wrong);
    snap!(p, "doctor-pve-wrong-pin", pve_doctor(&p));
    p.set("GUESTKIT_PVE_FINGERPRINT", &p.sim.fingerprints.join(","));
    p.set("GUESTKIT_PVE_TOKEN", "root@pam!gk=wrong");
    snap!(p, "doctor-pve-wrong-token", pve_doctor(&p));

    let p = Pve::new(Options {
        clock_skew_s: -42,
        ..Options::default()
    });
    snap!(p, "doctor-pve-clock", pve_doctor(&p));

    let mut p = Pve::new(Options::default());
    p.set("GUESTKIT_PVE_URL", "https://127.0.0.1:1");
    snap!(p, "doctor-pve-unreachable", pve_doctor(&p));
}

#[test]
fn on_a_hybrid_host_crun_is_said_to_refuse_it() {
    require!("crun");
    // The tests run with the host's v2 mount hidden (scripts/test-runner);
    // a namespace of this test's own puts it back, as the host has it.
    if !Path::new("/sys/fs/cgroup/unified").is_dir() {
        eprintln!("skipped: this host's cgroups are not in hybrid mode");
        return;
    }
    let env = TestEnv::new();
    let doctor = crate::common::bin("guestkit-doctor");
    let mut cmd = env.shell("unshare");
    cmd.args([
        "--mount",
        "sh",
        "-c",
        // The v2 hierarchy's controllers first, on stderr: crun refuses the
        // host when there are any (hugetlb here).
        "mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified && cat /sys/fs/cgroup/unified/cgroup.controllers >&2 && exec \"$0\" -b crun -o json",
    ])
    .arg(doctor);
    isolate(&env, &mut cmd);
    let out = crate::common::output(&mut cmd);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stdout.contains(r#""check":"cgroups","ok":true,"level":"warn","message":"hybrid"#),
        "{stdout}"
    );
    let crun = stdout
        .lines()
        .find(|l| l.contains(r#""check":"backend.crun""#))
        .unwrap();
    if stderr.trim().is_empty() {
        assert!(crun.contains(r#""ok":true"#), "{crun}");
    } else {
        assert_eq!(out.status.code(), Some(5), "{stdout}");
        assert!(crun.contains("cannot run containers on this host: its cgroups are in hybrid mode with controllers in the v2 hierarchy"), "{crun}");
        assert!(
            crun.contains(stderr.trim()),
            "the controllers are named: {crun}"
        );
    }
}
