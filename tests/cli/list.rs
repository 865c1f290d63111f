//! ctr-list: JSON lines, tables, filters, and missing backends.

use crate::common::TestEnv;
use crate::{require, snap};

#[test]
fn empty_list_prints_nothing() {
    require!("lxc");
    let env = TestEnv::new();
    snap!(env, "list-empty", env.run("ctr-list", &[]));
    snap!(
        env,
        "list-empty-table",
        env.run("ctr-list", &["-o", "table"])
    );
}

#[test]
fn list_filters_by_status() {
    require!("lxc");
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-list-a", "--", "sleep", "1000"]);
    env.ok(
        "ctr-create",
        &["gk-list-b", "--start", "--", "sleep", "1000"],
    );
    snap!(env, "list-json", env.run("ctr-list", &[]));
    snap!(
        env,
        "list-running",
        env.run("ctr-list", &["--status", "running", "-o", "name"])
    );
    snap!(
        env,
        "list-stopped",
        env.run("ctr-list", &["-s", "stopped", "-o", "name"])
    );
    snap!(
        env,
        "list-color-always",
        env.run(
            "ctr-list",
            &["-s", "stopped", "-o", "table", "--color", "always"]
        )
    );
    snap!(
        env,
        "list-backend-lxc",
        env.run("ctr-list", &["-b", "lxc", "-o", "name"])
    );
    env.ok("ctr-delete", &["--force", "gk-list-a", "gk-list-b"]);
}

#[test]
fn list_of_a_broken_pipe_ends_quietly() {
    require!("lxc");
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-pipe-1", "--", "true"]);
    // A reader that closes at once: ctr-list must exit 0 with nothing on stderr.
    let mut child = env
        .cmd("ctr-list")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = crate::common::wait_output(child, crate::common::DEADLINE, "ctr-list");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    env.ok("ctr-delete", &["gk-pipe-1"]);
}

#[test]
fn missing_lxc_tools_are_unavailable() {
    let env = TestEnv::new();
    let mut cmd = env.cmd("ctr-list");
    cmd.env("PATH", "/nonexistent");
    snap!(env, "list-no-lxc", env.run_cmd(&mut cmd, None));
    let mut cmd = env.cmd("ctr-start");
    cmd.env("PATH", "/nonexistent").arg("web");
    snap!(env, "start-no-lxc", env.run_cmd(&mut cmd, None));
    let mut cmd = env.cmd("ctr-create");
    cmd.env("PATH", "/nonexistent").arg("web");
    snap!(env, "create-no-lxc", env.run_cmd(&mut cmd, None));
}

/// Tables of results with an error column, colours from the environment,
/// quiet runs, and a stdout that cannot be written.
#[test]
fn tables_colours_and_a_full_stdout() {
    require!("lxc");
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-tab", "--start", "--", "sleep", "1000"]);
    snap!(
        env,
        "table-results-with-errors",
        env.run(
            "ctr-stop",
            &["-o", "table", "--color", "never", "gk-tab", "gk-nope"]
        )
    );
    let mut forced = env.cmd("ctr-list");
    forced.env("CLICOLOR_FORCE", "1").args(["-o", "table"]);
    let text = env.run_cmd(&mut forced, None);
    assert!(
        text.contains("\u{1b}["),
        "CLICOLOR_FORCE gave no colour: {text}"
    );
    let mut plain = env.cmd("ctr-list");
    plain
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .args(["-o", "table"]);
    let text = env.run_cmd(&mut plain, None);
    assert!(!text.contains("\u{1b}["), "NO_COLOR still coloured: {text}");
    snap!(
        env,
        "quiet-start",
        env.run("ctr-start", &["-q", "gk-tab", "gk-nope"])
    );
    let mut full = env.cmd("ctr-list");
    full.stdout(std::fs::File::create("/dev/full").unwrap())
        .stderr(std::process::Stdio::piped());
    let out = crate::common::wait_output(
        full.spawn().unwrap(),
        crate::common::DEADLINE,
        "ctr-list > /dev/full",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ctr-list: cannot write to stdout: No space left on device\n"
    );
    env.ok("ctr-delete", &["--force", "gk-tab"]);
}
