//! ctr-run: foreground with exit codes, --rm, --detach with logs.

use crate::common::TestEnv;
use crate::{require, snap};

#[test]
fn run_rm_prints_and_leaves_nothing() {
    require!("lxc");
    let env = TestEnv::new();
    snap!(
        env,
        "run-hello",
        env.run(
            "ctr-run",
            &[
                "gk-hello",
                "--image",
                "busybox",
                "--rm",
                "--",
                "echo",
                "hello from a container"
            ]
        )
    );
    assert!(!env.lxc_dir("gk-hello").exists());
}

#[test]
fn run_exits_with_the_commands_code() {
    require!("lxc");
    let env = TestEnv::new();
    snap!(
        env,
        "run-exit-7",
        env.run(
            "ctr-run",
            &[
                "gk-exit",
                "--rm",
                "--",
                "sh",
                "-c",
                "echo out; echo err >&2; exit 7"
            ]
        )
    );
    snap!(
        env,
        "run-not-found-127",
        env.run("ctr-run", &["gk-exit", "--rm", "--", "no-such-command"])
    );
    snap!(
        env,
        "run-not-executable-126",
        env.run("ctr-run", &["gk-exit", "--rm", "--", "/etc/passwd"])
    );
    assert!(!env.lxc_dir("gk-exit").exists());
    snap!(
        env,
        "run-stdin",
        env.run_stdin(
            "ctr-run",
            &["gk-exit", "--rm", "--", "tr", "a-z", "A-Z"],
            "piped in\n"
        )
    );
}

#[test]
fn run_without_rm_keeps_the_container() {
    require!("lxc");
    let env = TestEnv::new();
    snap!(
        env,
        "run-keep",
        env.run("ctr-run", &["gk-keep", "--", "true"])
    );
    snap!(env, "run-keep-listed", env.run("ctr-list", &[]));
    snap!(
        env,
        "run-keep-name-taken",
        env.run("ctr-run", &["gk-keep", "--", "true"])
    );
    env.ok("ctr-delete", &["gk-keep"]);
}

#[test]
fn run_detached_then_logs() {
    require!("lxc");
    let env = TestEnv::new();
    let n = "gk-detach";
    snap!(
        env,
        "run-detach",
        env.run(
            "ctr-run",
            &[
                n,
                "--detach",
                "--",
                "sh",
                "-c",
                "trap 'echo stopping; exit' TERM; for i in 1 2 3; do echo line $i; done; sleep 1000 & wait"
            ]
        )
    );
    wait_for_log(&env, n, "line 3");
    snap!(
        env,
        "run-detach-logs-tail",
        env.run("ctr-logs", &[n, "--tail", "2"])
    );
    env.ok("ctr-stop", &[n]);
    // LXC's monitor writes the console log: the command's last line may land
    // a moment after the container is stopped.
    wait_for_log(&env, n, "stopping");
    snap!(
        env,
        "run-detach-logs-follow-stopped",
        env.run("ctr-logs", &[n, "--follow", "-n", "1"])
    );
    env.ok("ctr-delete", &[n]);
}

#[test]
fn run_detached_rm_is_gone_after_stop() {
    require!("lxc");
    let env = TestEnv::new();
    let n = "gk-ephemeral";
    snap!(
        env,
        "run-detach-rm",
        env.run("ctr-run", &[n, "--detach", "--rm", "--", "sleep", "1000"])
    );
    env.ok("ctr-stop", &[n]);
    crate::common::wait_for(
        "LXC to remove the --rm container after it stopped",
        crate::common::SETTLE,
        || !env.lxc_dir(n).exists(),
    );
}

fn wait_for_log(env: &TestEnv, name: &str, text: &str) {
    crate::common::wait_for(
        &format!("{name}'s log to show {text:?}"),
        crate::common::SETTLE,
        || env.stdout("ctr-logs", &[name]).contains(text),
    );
}
