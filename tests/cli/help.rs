use crate::common::TestEnv;
use crate::snap;
use guestkit::cmd::ALL;

#[test]
fn every_tool_has_help() {
    let env = TestEnv::new();
    for cmd in ALL {
        snap!(
            env,
            format!("help-{}", cmd.name),
            env.run(cmd.name, &["--help"])
        );
    }
}

#[test]
fn version() {
    let env = TestEnv::new();
    let out = env.run("ctr-list", &["-V"]);
    assert_eq!(
        out,
        format!(
            "exit_code: 0\n----- stdout -----\nctr-list {} (guestkit)\n----- stderr -----\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn unknown_flag_suggests_a_near_one() {
    let env = TestEnv::new();
    snap!(
        env,
        "unknown-flag",
        env.run("ctr-stop", &["--timout", "5", "web"])
    );
    snap!(env, "unknown-flag-far", env.run("ctr-stop", &["--zzz"]));
    snap!(env, "unknown-short-flag", env.run("ctr-list", &["-Z"]));
}

#[test]
fn bad_flag_values() {
    let env = TestEnv::new();
    snap!(env, "bad-output-value", env.run("ctr-list", &["-o", "jsn"]));
    snap!(
        env,
        "missing-flag-value",
        env.run("ctr-stop", &["web", "--timeout"])
    );
    snap!(
        env,
        "non-number-flag-value",
        env.run("ctr-stop", &["web", "--timeout", "soon"])
    );
    snap!(
        env,
        "switch-with-value",
        env.run("ctr-stop", &["web", "--force=yes"])
    );
    snap!(
        env,
        "unknown-backend",
        env.run("ctr-list", &["--backend", "lcx"])
    );
    snap!(
        env,
        "bad-signal",
        env.run("ctr-kill", &["web", "--signal", "SIGNOPE"])
    );
    snap!(
        env,
        "zero-jobs",
        env.run("ctr-start", &["web", "--jobs", "0"])
    );
}

#[test]
fn bad_config_is_invalid_input() {
    let env = TestEnv::new();
    env.write_config("defualt_backend = \"lxc\"\n");
    snap!(env, "config-unknown-key", env.run("ctr-list", &[]));
    env.write_config("[[route]]\npattern = \"k-*\"\nbackend = \"kube\"\n");
    snap!(
        env,
        "config-unknown-route-backend",
        env.run("ctr-list", &[])
    );
    env.write_config("default_backend = \n");
    snap!(env, "config-bad-toml", env.run("ctr-list", &[]));
}
