//! A container's life between create and delete, on each of lxc, crun and
//! runc: pause and resume (and the hints that point at ctr-resume),
//! restart, waiting for a state, and ctr-list's name filter.

use crate::common::TestEnv;
use crate::{on_every_backend, snap};

on_every_backend!(pause_resume_restart_and_wait);

fn pause_resume_restart_and_wait(rt: &str) {
    let env = TestEnv::new();
    let n = &format!("gk-{rt}-mid");
    let s = |step: &str| format!("{rt}-mid-{step}");
    env.ok(
        "ctr-create",
        &[n, "-b", rt, "--start", "--", "sleep", "1000"],
    );
    snap!(env, s("pause"), env.run("ctr-pause", &[n]));
    snap!(env, s("pause-again"), env.run("ctr-pause", &[n]));
    // A frozen container: every tool that cannot act on it says how to thaw it.
    snap!(
        env,
        s("exec-paused"),
        env.run("ctr-exec", &[n, "--", "true"])
    );
    snap!(env, s("start-paused"), env.run("ctr-start", &[n]));
    snap!(env, s("resume"), env.run("ctr-resume", &[n]));
    snap!(env, s("resume-again"), env.run("ctr-resume", &[n]));
    let pid = |env: &TestEnv| -> u64 {
        let v: serde_json::Value = serde_json::from_str(&env.stdout("ctr-state", &[n])).unwrap();
        v["pid"].as_u64().expect("a running container's pid")
    };
    let before = pid(&env);
    snap!(
        env,
        s("restart"),
        env.run("ctr-restart", &[n, "--timeout", "5"])
    );
    assert_ne!(pid(&env), before, "the container ran again");
    snap!(
        env,
        s("wait-running"),
        env.run("ctr-wait", &[n, "--for", "running"])
    );
    snap!(
        env,
        s("list-name"),
        env.run("ctr-list", &["--name", "gk-*-mid", "-o", "name"])
    );
    // A job that ends when told to: ctr-wait, started while it runs, returns
    // once it has exited.
    let job = &format!("gk-{rt}-job");
    env.ok(
        "ctr-create",
        &[
            job,
            "-b",
            rt,
            "--start",
            "--",
            "sh",
            "-c",
            "while [ ! -e /tmp/go ]; do sleep 0.05; done",
        ],
    );
    let mut wait = env.cmd("ctr-wait");
    wait.args([job.as_str(), "--for", "exited"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let waiting = wait.spawn().unwrap();
    env.ok("ctr-exec", &[job, "--", "touch", "/tmp/go"]);
    let out = crate::common::wait_output(waiting, crate::common::DEADLINE, "ctr-wait --for exited");
    snap!(
        env,
        s("wait-exited"),
        format!(
            "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    );
    snap!(
        env,
        s("wait-timeout"),
        env.run("ctr-wait", &[job, "--for", "running", "--timeout", "0"])
    );
    snap!(env, s("resume-stopped"), env.run("ctr-resume", &[job]));
    snap!(env, s("pause-stopped"), env.run("ctr-pause", &[job]));
    snap!(env, s("restart-stopped"), env.run("ctr-restart", &[job]));
}
