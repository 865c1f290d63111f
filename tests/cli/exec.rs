//! ctr-exec: stdio passed through, the command's own exit code, env, cwd, user.

use crate::common::TestEnv;
use crate::{require, snap};

#[test]
fn exec_in_a_running_container() {
    require!("lxc");
    let env = TestEnv::new();
    let n = "gk-exec";
    env.ok(
        "ctr-create",
        &[n, "--start", "-e", "FROM_CREATE=1", "--", "sleep", "1000"],
    );
    snap!(
        env,
        "exec-env-cwd-user",
        env.run(
            "ctr-exec",
            &[
                n,
                "--env",
                "A=b c",
                "--cwd",
                "/tmp",
                "--user",
                "nobody",
                "--",
                "sh",
                "-c",
                "echo A=$A FROM_CREATE=$FROM_CREATE; pwd; id"
            ]
        )
    );
    snap!(
        env,
        "exec-numeric-user",
        env.run("ctr-exec", &[n, "-u", "1234:5678", "--", "id"])
    );
    snap!(
        env,
        "exec-unknown-user",
        env.run("ctr-exec", &[n, "-u", "nosuchuser", "--", "id"])
    );
    snap!(
        env,
        "exec-exit-code",
        env.run("ctr-exec", &[n, "--", "sh", "-c", "exit 42"])
    );
    snap!(
        env,
        "exec-not-found",
        env.run("ctr-exec", &[n, "--", "nope"])
    );
    snap!(
        env,
        "exec-stdin",
        env.run_stdin("ctr-exec", &[n, "--", "wc", "-l"], "a\nb\nc\n")
    );
    snap!(
        env,
        "exec-no-host-env",
        env.run(
            "ctr-exec",
            &[
                n,
                "--",
                "sh",
                "-c",
                "echo HOME=$HOME GUESTKIT_CONFIG=$GUESTKIT_CONFIG"
            ]
        )
    );
    snap!(env, "exec-no-command", env.run("ctr-exec", &[n]));
    env.ok("ctr-stop", &[n, "--force"]);
    snap!(env, "exec-stopped", env.run("ctr-exec", &[n, "--", "true"]));
    snap!(
        env,
        "exec-missing-container",
        env.run("ctr-exec", &["gk-exec-nope", "--", "true"])
    );
    env.ok("ctr-delete", &[n]);
}
