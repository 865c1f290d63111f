//! What a create promises beyond one process: a name taken by one create
//! only, however many run at once and in whatever backends; and nothing
//! hidden left behind by a create that was killed.

use crate::common::{DEADLINE, TestEnv, wait_output};
use crate::require;
use std::process::{Child, Stdio};

fn spawn_create(env: &TestEnv, args: &[&str]) -> Child {
    env.cmd("ctr-create")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts every create before waiting for any; their exit codes and stderr.
fn at_once(env: &TestEnv, creates: &[&[&str]]) -> Vec<(i32, String)> {
    let children: Vec<Child> = creates.iter().map(|a| spawn_create(env, a)).collect();
    children
        .into_iter()
        .map(|c| {
            let out = wait_output(c, DEADLINE, "ctr-create");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            (out.status.code().unwrap_or(-1), stderr)
        })
        .collect()
}

#[test]
fn one_name_is_taken_once_by_creates_at_once() {
    require!("lxc", "crun", "runc");
    let env = TestEnv::new();
    let n = "gk-race";
    for round in 0..5 {
        // In three backends at once, then three times in one.
        let across: &[&[&str]] = &[&[n, "-b", "lxc"], &[n, "-b", "runc"], &[n, "-b", "crun"]];
        let within: &[&[&str]] = &[&[n, "-b", "lxc"], &[n, "-b", "lxc"], &[n, "-b", "lxc"]];
        for creates in [across, within] {
            let results = at_once(&env, creates);
            let made = results.iter().filter(|(code, _)| *code == 0).count();
            assert_eq!(made, 1, "round {round}: {results:?}");
            for (code, stderr) in results.iter().filter(|(code, _)| *code != 0) {
                assert!(
                    *code == 4 && stderr.contains("a container of this name already exists"),
                    "round {round}: {code} {stderr}"
                );
                assert!(
                    !stderr.contains("rm -r"),
                    "a loser was told to remove: {stderr}"
                );
            }
            let listed = env.stdout("ctr-list", &["-o", "name"]);
            assert_eq!(listed, format!("{n}\n"), "round {round}");
            env.ok("ctr-delete", &[n]);
        }
    }
}

/// A create killed while it unpacks its image (here, a tarball that is a
/// pipe no one writes yet) leaves a directory that no tool lists: the next
/// create of that name removes it and goes on, and ctr-delete removes one
/// no create came back for.
#[test]
fn what_a_killed_create_left_is_cleared() {
    require!("lxc", "crun");
    let env = TestEnv::new();
    let fifo = env.path().join("slow.tar");
    let made = crate::common::status(std::process::Command::new("mkfifo").arg(&fifo));
    assert!(made.success());
    let image = fifo.to_str().unwrap();
    for (backend, name) in [("lxc", "gk-killed-lxc"), ("crun", "gk-killed-crun")] {
        let dir = env.container_dir(backend, name);
        let mut child = spawn_create(&env, &[name, "-b", backend, "--image", image]);
        crate::common::wait_for(
            &format!("{name}'s directory"),
            crate::common::SETTLE,
            || dir.join("rootfs").exists(),
        );
        child.kill().unwrap();
        let _ = wait_output(child, DEADLINE, "the killed ctr-create");
        // tar may still wait on the pipe (if the create had started it):
        // a writer that comes and goes ends it. Opened without blocking, as
        // there may be no reader; a tar about to open it gets a moment.
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            use std::os::unix::fs::OpenOptionsExt;
            let w = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo);
            if w.is_ok() || std::time::Instant::now() >= give_up {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            dir.exists(),
            "the kill left nothing to clear: {}",
            dir.display()
        );
        assert_eq!(env.stdout("ctr-list", &[]), "", "a leftover is listed");
    }
    // The next create of the name clears it.
    let text = env.run("ctr-create", &["gk-killed-lxc", "-b", "lxc"]);
    assert!(
        text.starts_with("exit_code: 0\n")
            && text.contains(
                "removed what a create of gk-killed-lxc that did not finish left in backend lxc"
            ),
        "{text}"
    );
    env.ok("ctr-delete", &["gk-killed-lxc"]);
    // ctr-delete clears one no create came back for.
    let text = env.run("ctr-delete", &["gk-killed-crun"]);
    assert!(
        text.starts_with("exit_code: 0\n")
            && text.contains(r#"{"name":"gk-killed-crun","backend":"crun","kind":"container","action":"delete","ok":true,"changed":true}"#),
        "{text}"
    );
    assert!(!env.container_dir("crun", "gk-killed-crun").exists());
    assert!(!env.container_dir("lxc", "gk-killed-lxc").exists());
}
