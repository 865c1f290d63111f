//! The scenarios every local backend must pass alike, written once and run
//! on each of lxc, crun and runc (`on_every_backend!`), with snapshots
//! named after the backend.

use crate::common::TestEnv;
use crate::{on_every_backend, snap};

on_every_backend!(lifecycle);
on_every_backend!(failed_create_leaves_nothing);
on_every_backend!(term_to_a_foreground_run);

/// Create, list, start, state, exec, logs, stop, start again, kill and
/// delete one container, checking its memory limit in the kernel.
fn lifecycle(rt: &str) {
    let env = TestEnv::new();
    let n = &format!("gk-{rt}-life");
    let s = |step: &str| format!("{rt}-{step}");
    snap!(
        env,
        s("1-create"),
        env.run(
            "ctr-create",
            &[
                n,
                "-b",
                rt,
                "--memory",
                "64M",
                "--cpus",
                "0.5",
                "-e",
                "GREETING=hi there",
                "--",
                "sh",
                "-c",
                "echo \"$GREETING from $(hostname)\"; echo to-stderr >&2; exec sleep 1000"
            ]
        )
    );
    snap!(env, s("2-list-stopped"), env.run("ctr-list", &[]));
    snap!(env, s("3-start"), env.run("ctr-start", &[n]));
    snap!(
        env,
        s("4-start-again-unchanged"),
        env.run("ctr-start", &[n])
    );
    assert_eq!(
        crate::lifecycle::memory_limit_of(&env, n),
        64 << 20,
        "the memory limit did not reach the cgroup"
    );
    snap!(env, s("5-state"), env.run("ctr-state", &[n]));
    snap!(
        env,
        s("6-exec"),
        env.run(
            "ctr-exec",
            &[
                n,
                "-e",
                "X=1",
                "--cwd",
                "/tmp",
                "--user",
                "nobody",
                "--",
                "sh",
                "-c",
                "echo X=$X GREETING=$GREETING; pwd; id; exit 3"
            ]
        )
    );
    snap!(
        env,
        s("6-exec-not-found"),
        env.run("ctr-exec", &[n, "--", "nope"])
    );
    snap!(
        env,
        s("6-exec-stdin"),
        env.run_stdin("ctr-exec", &[n, "--", "wc", "-l"], "a\nb\n")
    );
    wait_for_log(&env, n, "to-stderr");
    snap!(env, s("7-logs"), env.run("ctr-logs", &[n]));
    snap!(env, s("8-stop"), env.run("ctr-stop", &[n]));
    snap!(env, s("9-stop-again-unchanged"), env.run("ctr-stop", &[n]));
    snap!(env, s("9-restart"), env.run("ctr-start", &[n]));
    snap!(env, s("9-kill"), env.run("ctr-kill", &[n]));
    snap!(env, s("10-delete"), env.run("ctr-delete", &[n]));
    snap!(env, s("11-list-empty"), env.run("ctr-list", &[]));
    assert!(
        !env.container_dir(rt, n).exists(),
        "delete left the container's directory behind"
    );
    assert!(
        !env.path().join("state/oci/trash").exists(),
        "a container with a root of its own went to the trash"
    );
}

/// A create that fails (a broken tarball, an image without /sbin/init)
/// leaves nothing behind.
fn failed_create_leaves_nothing(rt: &str) {
    let env = TestEnv::new();
    let bad = env.path().join("broken.tar.xz");
    std::fs::write(&bad, "not xz").unwrap();
    snap!(
        env,
        format!("{rt}-create-bad-tarball"),
        env.run(
            "ctr-create",
            &["gk-bad", "-b", rt, "--image", bad.to_str().unwrap()]
        )
    );
    let empty = env.path().join("empty-rootfs");
    std::fs::create_dir(&empty).unwrap();
    snap!(
        env,
        format!("{rt}-create-image-without-init"),
        env.run(
            "ctr-create",
            &["gk-bad", "-b", rt, "--image", empty.to_str().unwrap()]
        )
    );
    let dir = env.container_dir(rt, "gk-bad");
    assert!(!dir.exists(), "a failed create left {}", dir.display());
}

/// SIGTERM to a foreground `ctr-run --rm` reaches the command, and the
/// container is removed.
fn term_to_a_foreground_run(rt: &str) {
    let env = TestEnv::new();
    let code = crate::common::term_foreground_run(&env, &["gk-term", "-b", rt, "--rm"]);
    assert_eq!(
        code,
        Some(143),
        "ctr-run should exit as its command did, killed by TERM"
    );
    assert_eq!(env.stdout("ctr-list", &[]), "", "--rm left the container");
    assert!(!env.container_dir(rt, "gk-term").exists());
}

fn wait_for_log(env: &TestEnv, name: &str, text: &str) {
    crate::common::wait_for(
        &format!("{name}'s log to show {text:?}"),
        crate::common::SETTLE,
        || env.stdout("ctr-logs", &[name]).contains(text),
    );
}

on_every_backend!(a_test_that_panics_leaves_no_container);

/// A test that fails half-way still removes what it made: its
/// environment's teardown stops and deletes its running container.
fn a_test_that_panics_leaves_no_container(rt: &str) {
    let made = std::sync::Mutex::new(None);
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let env = TestEnv::new();
        let n = "gk-left";
        env.ok(
            "ctr-create",
            &[n, "-b", rt, "--start", "--", "sleep", "1000"],
        );
        let state: serde_json::Value =
            serde_json::from_str(&env.stdout("ctr-state", &[n])).unwrap();
        let pid = state["pid"].as_u64().expect("a running container's pid");
        *made.lock().unwrap() = Some((pid, env.path().to_path_buf()));
        panic!("this test fails on purpose, with {n} running");
    }));
    assert!(failed.is_err());
    let (pid, dir) = made.into_inner().unwrap().expect("the container was made");
    // Gone, or a zombie no one has reaped yet: not running either way.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
    assert!(
        matches!(state, None | Some('Z' | 'X')),
        "the container's init {pid} outlived its test: {stat}"
    );
    assert!(
        !dir.exists(),
        "the test's directory stayed: {}",
        dir.display()
    );
}

on_every_backend!(a_start_that_cannot_run_its_command_fails);

/// A container whose command is not there, or is not a program, does not
/// start: ctr-start says why (not found; permission denied), the container
/// stays stopped, and ctr-create --start leaves nothing.
fn a_start_that_cannot_run_its_command_fails(rt: &str) {
    let env = TestEnv::new();
    env.ok(
        "ctr-create",
        &["gk-nocmd", "-b", rt, "--", "nosuchcmd", "x"],
    );
    snap!(
        env,
        format!("{rt}-start-not-found"),
        env.run("ctr-start", &["gk-nocmd"])
    );
    env.ok("ctr-create", &["gk-noexec", "-b", rt, "--", "/etc/passwd"]);
    snap!(
        env,
        format!("{rt}-start-not-executable"),
        env.run("ctr-start", &["gk-noexec"])
    );
    let listed = env.stdout("ctr-list", &["-o", "json"]);
    assert_eq!(
        listed.matches("\"status\":\"stopped\"").count(),
        2,
        "{listed}"
    );
    snap!(
        env,
        format!("{rt}-create-start-not-found"),
        env.run(
            "ctr-create",
            &["gk-gone", "-b", rt, "--start", "--", "nosuchcmd"]
        )
    );
    assert!(!env.container_dir(rt, "gk-gone").exists());
    env.ok("ctr-delete", &["gk-nocmd", "gk-noexec"]);
}

on_every_backend!(ctrl_c_again_and_again_ends_a_foreground_run);

/// A command that ignores Ctrl-C: the first reaches it (and is ignored),
/// the second stops the container, the third kills it; ctr-run exits 130
/// and --rm still removes the container.
fn ctrl_c_again_and_again_ends_a_foreground_run(rt: &str) {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let env = TestEnv::new();
    let mut child = env
        .cmd("ctr-run")
        .args(["gk-stubborn", "-b", rt, "--rm", "--", "sh", "-c"])
        .arg("trap '' INT TERM; echo started; exec sleep 60")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own process group, as a terminal's foreground job has.
        .process_group(0)
        .spawn()
        .unwrap();
    let group = child.id() as i32;
    // Every line of both outputs, as it comes.
    let (tx, lines) = std::sync::mpsc::channel();
    for out in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
    }
    let mut seen = Vec::new();
    let mut wait_for = |text: &str| {
        while !seen.iter().any(|l: &String| l.contains(text)) {
            match lines.recv_timeout(crate::common::SETTLE) {
                Ok(l) => seen.push(l),
                Err(_) => panic!("ctr-run never said {text:?}: {seen:?}"),
            }
        }
    };
    // SAFETY: signalling the process group of our own child, as Ctrl-C does.
    let ctrl_c = || unsafe { libc::kill(-group, libc::SIGINT) };
    // Each press waits for the one before to be seen: the kernel folds
    // signals that come before the first is handled into one.
    wait_for("started");
    ctrl_c();
    wait_for("press it again to stop the container");
    ctrl_c();
    wait_for("stopping gk-stubborn");
    ctrl_c();
    wait_for("killing gk-stubborn");
    let out = crate::common::wait_output(
        child,
        crate::common::DEADLINE,
        "ctr-run after Ctrl-C three times",
    );
    assert_eq!(out.status.code(), Some(130), "{seen:?}");
    assert!(
        !seen.iter().any(|l| l.contains("did not stop within")),
        "the stop timed out: {seen:?}"
    );
    assert_eq!(env.stdout("ctr-list", &[]), "", "--rm left the container");
}
