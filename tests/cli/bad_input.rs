//! Bad input is refused before any backend is asked, with a defined exit code,
//! and loses nothing.

use crate::common::TestEnv;
use crate::{require, snap};

#[test]
fn invalid_names_are_refused() {
    let env = TestEnv::new();
    let long = "x".repeat(129);
    for (label, name) in [
        ("empty", ""),
        ("dash", "-x"),
        ("slash", "a/b"),
        ("dotdot", ".."),
        ("long", long.as_str()),
        ("control", "a\u{1b}b"),
        ("space", "a b"),
    ] {
        // `--` first so that "-x" is a name, not a flag.
        snap!(
            env,
            format!("invalid-name-{label}"),
            env.run("ctr-start", &["--", name])
        );
    }
    snap!(env, "invalid-name-create", env.run("ctr-create", &["a/b"]));
    // A new container's name is its hostname: at most 63 bytes.
    snap!(
        env,
        "invalid-name-create-long",
        env.run("ctr-create", &[&"x".repeat(64)])
    );
    snap!(
        env,
        "invalid-name-stdin",
        env.run_stdin("ctr-stop", &[], "ok-name\n../etc\n")
    );
}

#[test]
fn unknown_container_suggests_a_near_name() {
    require!("lxc");
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-web1", "--", "sleep", "1000"]);
    snap!(
        env,
        "unknown-with-suggestion",
        env.run("ctr-start", &["gk-web"])
    );
    snap!(
        env,
        "unknown-without-suggestion",
        env.run("ctr-stop", &["zzzzzz"])
    );
    snap!(env, "unknown-state", env.run("ctr-state", &["gk-web"]));
    snap!(env, "unknown-logs", env.run("ctr-logs", &["gk-web"]));
    snap!(
        env,
        "one-failed-others-go-on",
        env.run("ctr-start", &["gk-nope", "gk-web1"])
    );
    env.ok("ctr-delete", &["--force", "gk-web1"]);
}

#[test]
fn malformed_stdin_applies_nothing() {
    require!("lxc");
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-stdin-a", "--", "sleep", "1000"]);
    let input = "{\"name\":\"gk-stdin-a\",\"backend\":\"lxc\"}\n{\"name\": 3}\nnot json {\n[1,2]\n{\"nam\":\"x\"}\n";
    snap!(
        env,
        "stdin-malformed",
        env.run_stdin("ctr-start", &[], input)
    );
    // The good first line was not acted on.
    snap!(
        env,
        "stdin-malformed-nothing-started",
        env.run("ctr-list", &["-o", "name", "--status", "running"])
    );
    snap!(
        env,
        "stdin-empty-is-nothing-to-do",
        env.run_stdin("ctr-start", &[], "")
    );
    // `jq .name` without -r: names as JSON strings.
    snap!(
        env,
        "stdin-json-string-names",
        env.run_stdin("ctr-stop", &[], "\"gk-stdin-a\"\n")
    );
    // An input record's backend and --backend must agree.
    snap!(
        env,
        "stdin-backend-disagrees-with-flag",
        env.run_stdin(
            "ctr-stop",
            &["-b", "lxc"],
            "{\"name\":\"gk-stdin-a\",\"backend\":\"crun\"}\n"
        )
    );
    snap!(
        env,
        "stdin-unknown-backend",
        env.run_stdin(
            "ctr-start",
            &[],
            "{\"name\":\"gk-stdin-a\",\"backend\":\"nope\"}\n"
        )
    );
    env.ok("ctr-delete", &["gk-stdin-a"]);
}

/// What only LXC checks at create (the other failed creates, on every
/// backend: backends.rs): a command needs /bin/sh, a bridge must exist.
#[test]
fn a_failed_lxc_create_leaves_nothing() {
    require!("lxc");
    let env = TestEnv::new();
    let empty = env.path().join("empty-rootfs");
    std::fs::create_dir(&empty).unwrap();
    snap!(
        env,
        "create-image-without-sh",
        env.run(
            "ctr-create",
            &[
                "gk-broken",
                "--image",
                empty.to_str().unwrap(),
                "--",
                "true"
            ]
        )
    );
    snap!(
        env,
        "create-missing-bridge",
        env.run(
            "ctr-create",
            &["gk-broken", "--network", "bridge=gkbr-none"]
        )
    );
    assert_eq!(
        std::fs::read_dir(env.path().join("lxc")).unwrap().count(),
        0,
        "a failed create left something behind"
    );
}

#[test]
fn a_start_that_fails_says_why() {
    require!("lxc");
    let env = TestEnv::new();
    // The bridge exists at create time and is gone by the start.
    let bridge = "gkbr-gone";
    let ip = |args: &[&str]| {
        crate::common::status(std::process::Command::new("ip").args(args)).success()
    };
    assert!(
        ip(&["link", "add", bridge, "type", "bridge"]),
        "cannot create a test bridge"
    );
    env.ok(
        "ctr-create",
        &[
            "gk-nobr",
            "--network",
            &format!("bridge={bridge}"),
            "--",
            "sleep",
            "1000",
        ],
    );
    ip(&["link", "del", bridge]);
    snap!(
        env,
        "start-fails-missing-bridge",
        env.run("ctr-start", &["gk-nobr"])
    );
    // LXC left its monitor's cgroups: the failed start removed them.
    let left: Vec<String> = std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .flat_map(|h| std::fs::read_dir(h.path()).into_iter().flatten().flatten())
        .map(|e| e.path().display().to_string())
        .filter(|p| p.contains("lxc.monitor.gk-nobr"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    env.ok("ctr-delete", &["gk-nobr"]);
}

#[test]
fn bad_create_flags() {
    let env = TestEnv::new();
    snap!(
        env,
        "create-bad-memory",
        env.run("ctr-create", &["gk-x", "--memory", "12Q"])
    );
    snap!(
        env,
        "create-bad-cpus",
        env.run("ctr-create", &["gk-x", "--cpus", "-1"])
    );
    snap!(
        env,
        "create-bad-env",
        env.run("ctr-create", &["gk-x", "-e", "NOEQUALS"])
    );
    snap!(
        env,
        "create-bad-mount",
        env.run("ctr-create", &["gk-x", "--mount", "/tmp:relative"])
    );
    snap!(
        env,
        "create-bad-network",
        env.run("ctr-create", &["gk-x", "--network", "wifi"])
    );
    snap!(
        env,
        "create-missing-image",
        env.run("ctr-create", &["gk-x", "--image", "/no/such/image"])
    );
    snap!(env, "create-no-name", env.run("ctr-create", &[]));
}

#[test]
fn name_taken_is_a_conflict() {
    require!("lxc");
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-taken", "--", "true"]);
    snap!(
        env,
        "create-name-taken",
        env.run("ctr-create", &["gk-taken"])
    );
    env.ok("ctr-delete", &["gk-taken"]);
}

/// A reader that has gone (`ctr-list | head -1`) or a stdout that was never
/// open ends a tool quietly with 0, never with death by SIGPIPE. The tools
/// start without std's runtime set-up (see `guestkit::tool!`), which they
/// must do themselves.
#[test]
fn stdout_gone_or_closed() {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    for tool in ["ctr-list", "vm-stop"] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut cmd = std::process::Command::new(crate::common::bin(tool));
        cmd.arg("--help")
            .stderr(std::process::Stdio::piped())
            .stdout(writer);
        let gone =
            crate::common::wait_output(cmd.spawn().expect("run"), crate::common::DEADLINE, tool);
        assert_eq!(
            (gone.status.code(), gone.status.signal()),
            (Some(0), None),
            "{tool} with its reader gone: {}",
            String::from_utf8_lossy(&gone.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&gone.stderr), "");

        let mut cmd = std::process::Command::new(crate::common::bin(tool));
        cmd.arg("--help");
        // SAFETY: close(2) is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::close(1);
                Ok(())
            })
        };
        let closed = crate::common::output(&mut cmd);
        assert_eq!(
            closed.status.code(),
            Some(0),
            "{tool} with stdout closed: {}",
            String::from_utf8_lossy(&closed.stderr)
        );
    }
}

/// Under a task limit (here a pids cgroup of 6 tasks) the system refuses
/// most of `--jobs 300`'s threads: the workers that did start do the work,
/// and every target is reported, with no panic.
#[test]
fn a_bulk_action_under_a_task_limit_reports_every_target() {
    require!("lxc");
    let env = TestEnv::new();
    let group =
        std::path::Path::new("/sys/fs/cgroup/pids").join(format!("gk-test-{}", std::process::id()));
    if std::fs::create_dir(&group).is_err() {
        if std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
            panic!(
                "no cgroup v1 pids hierarchy to limit tasks in ({})",
                group.display()
            );
        }
        eprintln!("skipped: no cgroup v1 pids hierarchy to limit tasks in");
        return;
    }
    std::fs::write(group.join("pids.max"), "6").unwrap();
    let names: Vec<String> = (1..=40).map(|i| format!("gk-none-{i}")).collect();
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec ctr-start --jobs 300 {}",
        group.display(),
        names.join(" ")
    );
    let text = env.run_cmd(env.shell("sh").args(["-c", &script]), None);
    let _ = std::fs::remove_dir(&group);
    assert!(text.starts_with("exit_code: 3\n"), "{text}");
    assert!(!text.contains("internal error"), "{text}");
    let results = text
        .lines()
        .filter(|l| l.starts_with("{\"name\":\"gk-none-"))
        .count();
    assert_eq!(results, 40, "{text}");
}
