//! What only the OCI backends do, on the real crun and runc: throwaway runs
//! on overlays, spare roots and the trash; and the backends side by side.

use crate::common::TestEnv;
use crate::{require, snap};

fn run_rm(rt: &str) {
    let env = TestEnv::new();
    // ctr-run gk-hi -b RT --rm -- COMMAND...
    let args =
        |command: &[&'static str]| [&["gk-hi", "-b", rt, "--rm", "--"][..], command].concat();
    snap!(
        env,
        format!("{rt}-run-rm"),
        env.run("ctr-run", &args(&["echo", "hi"]))
    );
    // It wrote nothing: its root stays mounted, a spare for the next run,
    // without the bundle's files (the container's environment).
    let trash = env.path().join("state/oci/trash");
    assert!(!env.path().join("state/oci").join(rt).join("gk-hi").exists());
    let spares = env.spares();
    assert_eq!(spares.len(), 1, "{spares:?}");
    let spare = &spares[0];
    assert!(
        spare
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .contains(".busybox-"),
        "a spare is named by its image: {spare:?}"
    );
    assert!(
        guestkit::backend::oci::overlay::is_mountpoint(&spare.join("rootfs"))
            && !spare.join("config.json").exists(),
        "a spare root: {spare:?}"
    );
    assert!(!trash.exists(), "a kept root went to the trash as well");
    // A throwaway run shares the cached image read-only; its writes stay its own.
    snap!(
        env,
        format!("{rt}-run-rm-writes"),
        env.run(
            "ctr-run",
            &args(&[
                "sh",
                "-c",
                "echo written > /etc/gk-note; cat /etc/gk-note; rm /bin/true"
            ])
        )
    );
    // That run took the spare; it wrote, so its root was removed at once.
    assert!(env.spares().is_empty(), "a written root kept as a spare");
    assert!(!trash.exists(), "a written root went to the trash");
    snap!(
        env,
        format!("{rt}-run-rm-image-intact"),
        env.run(
            "ctr-run",
            &args(&[
                "sh",
                "-c",
                "test -e /etc/gk-note || echo clean; test -e /bin/true && echo intact"
            ])
        )
    );
    // That run mounted a root afresh and left it as a spare, which this one
    // takes. The root is an overlay mounted volatile: nothing of a throwaway
    // run is synced to disk, and unmounting it does not sync the host's
    // filesystem.
    assert_eq!(env.spares().len(), 1);
    let root = env.stdout("ctr-run", &args(&["grep", " / ", "/proc/mounts"]));
    assert!(
        root.starts_with("overlay / overlay ")
            && (root.contains("volatile") || !kernel_at_least(5, 10)),
        "the root of a throwaway run: {root}"
    );
    snap!(
        env,
        format!("{rt}-run-exit-7"),
        env.run("ctr-run", &args(&["sh", "-c", "exit 7"]))
    );
    snap!(
        env,
        format!("{rt}-run-stdin"),
        env.run_stdin("ctr-run", &args(&["tr", "a-z", "A-Z"]), "piped\n")
    );
    snap!(
        env,
        format!("{rt}-run-not-found"),
        env.run("ctr-run", &args(&["nope"]))
    );
    snap!(
        env,
        format!("{rt}-run-detach-rm-refused"),
        env.run(
            "ctr-run",
            &["gk-hi", "-b", rt, "--rm", "--detach", "--", "true"]
        )
    );
    snap!(
        env,
        format!("{rt}-run-bridge-refused"),
        env.run("ctr-create", &["gk-hi", "-b", rt, "--network", "bridge=lo"])
    );
    assert_eq!(
        env.stdout("ctr-list", &[]),
        "",
        "ctr-run --rm left something"
    );
    // Every run since took the spare and gave it back: nothing went to the trash.
    assert_eq!(env.spares(), spares, "the spare at the end");
    assert!(!trash.exists(), "the trash at the end");
    let text = env.run("ctr-run", &[&["-v"][..], &args(&["true"])].concat());
    assert!(
        text.contains("took the spare root") && text.contains("/rootfs mounted, as"),
        "{text}"
    );
}

/// Where overlayfs cannot be used (here: a cache path the mount options cannot
/// carry), a throwaway run copies the image, and that copy is removed at once.
#[test]
fn crun_run_rm_without_overlay() {
    require!("crun");
    let env = TestEnv::new();
    let cache = env.path().join("cache,1");
    let mut cmd = env.cmd("ctr-run");
    cmd.env("GUESTKIT_CACHE_DIR", &cache)
        .args(["gk-copy", "-b", "crun", "--rm", "-v", "--", "true"]);
    let text = env.run_cmd(&mut cmd, None);
    assert!(
        text.starts_with("exit_code: 0\n") && text.contains("copying the image"),
        "{text}"
    );
    assert!(!env.path().join("state/oci/crun/gk-copy").exists());
    assert!(
        !env.path().join("state/oci/trash").exists(),
        "a copied root went to the trash"
    );
}

/// The spare root a throwaway run leaves: one per image, taken by the next
/// run and given back when that changed nothing; removed when found
/// unmounted or written to; spares of another image removed by the next run;
/// not kept when the container changed `/` or the host uses the mount; two
/// runs at once leave one spare; none with oci.spare_roots = false.
#[test]
fn crun_spare_roots() {
    require!("crun");
    let env = TestEnv::new();
    let run = |name: &str, command: &[&str]| {
        let args = [&[name, "-b", "crun", "--rm", "-v", "--"][..], command].concat();
        let text = env.run("ctr-run", &args);
        assert!(text.starts_with("exit_code: 0\n"), "{text}");
        text
    };
    let t = env.path().display().to_string();
    let kept = format!("/rootfs mounted, as {t}/state/oci/spare/");
    let removed_spare = format!("removed 1 from {t}/state/oci/spare");
    let text = run("gk-s1", &["true"]);
    assert!(text.contains(&kept), "{text}");
    let spares = env.spares();
    assert_eq!(spares.len(), 1, "{spares:?}");
    let (root, upper) = (spares[0].join("rootfs"), spares[0].join("upper"));
    let text = run("gk-s2", &["true"]);
    assert!(
        text.contains("took the spare root") && text.contains(&kept),
        "{text}"
    );

    // Unmounted (as after a reboot), or written to by the host: removed,
    // not taken; the new root mounted in its place is kept.
    assert!(crate::common::status(std::process::Command::new("umount").arg(&root)).success());
    let text = run("gk-s3", &["true"]);
    assert!(
        !text.contains("took the spare") && text.contains(&kept),
        "{text}"
    );
    assert_eq!(env.spares(), spares);
    assert!(
        guestkit::backend::oci::overlay::is_mountpoint(&root),
        "the new spare is not mounted"
    );
    std::fs::write(root.join("gk-host-note"), "").unwrap();
    let text = run("gk-s4", &["test", "!", "-e", "/gk-host-note"]);
    assert!(
        !text.contains("took the spare") && text.contains(&kept),
        "{text}"
    );
    // Its `/` changed by the host while it waited: the layer stays empty.
    let mode_of = |p: &std::path::Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
    };
    let mode = mode_of(&upper);
    std::fs::set_permissions(
        &root,
        std::os::unix::fs::PermissionsExt::from_mode(mode_of(&root) ^ 0o077),
    )
    .unwrap();
    let text = run("gk-s4b", &["true"]);
    assert!(
        !text.contains("took the spare") && text.contains(&kept),
        "{text}"
    );
    assert_eq!(mode_of(&upper), mode, "the changed root was kept");

    // A spare of another image goes while the runtime starts.
    let other = env.path().join("state/oci/spare/1.2.busybox-old");
    for d in ["rootfs", "upper", "work"] {
        std::fs::create_dir_all(other.join(d)).unwrap();
    }
    let text = run("gk-s5", &["true"]);
    assert!(
        text.contains("took the spare root") && text.contains(&removed_spare),
        "{text}"
    );
    assert_eq!(env.spares(), spares);

    // A container that changed its `/` (the upper layer's own directory, so
    // the layer stays empty) leaves no spare.
    let text = run("gk-s6", &["chmod", "700", "/"]);
    assert!(text.contains("is not kept as a spare"), "{text}");
    assert!(env.spares().is_empty());
    run("gk-s7", &["true"]);
    assert_eq!(mode_of(&upper), mode, "the changed root was kept");

    // Nor does a root the host still uses (a directory open in it). Each
    // such run below lasts until the test closes its stdin.
    let held_run = |name: &str| {
        let mut child = env
            .cmd("ctr-run")
            .args([name, "-b", "crun", "--rm", "-v", "--", "cat"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let sidecar = env
            .path()
            .join("state/oci/crun")
            .join(name)
            .join("guestkit.json");
        crate::common::wait_for(
            &format!("{name} to be created"),
            crate::common::SETTLE,
            || sidecar.exists(),
        );
        (child, stdin)
    };
    let (busy, stdin) = held_run("gk-s8");
    let held = std::fs::File::open(env.path().join("state/oci/crun/gk-s8/rootfs/etc")).unwrap();
    assert!(env.spares().is_empty(), "gk-s8 did not take the spare");
    drop(stdin);
    let out = crate::common::wait_output(busy, crate::common::DEADLINE, "ctr-run gk-s8");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("is not kept as a spare"),
        "{text}"
    );
    drop(held);
    assert!(env.spares().is_empty());
    assert!(!env.path().join("state/oci/crun/gk-s8").exists());

    // Two at once: the first takes the spare, the second mounts its own
    // root and, ending first, keeps it; the first's then goes to the trash.
    run("gk-s9", &["true"]);
    let (first, stdin) = held_run("gk-s10");
    assert!(
        env.spares().is_empty(),
        "the first run did not take the spare"
    );
    run("gk-s11", &["true"]);
    drop(stdin);
    let first = crate::common::wait_output(first, crate::common::DEADLINE, "ctr-run gk-s10");
    assert!(first.status.success());
    assert_eq!(env.spares(), spares);
    let trash = std::fs::read_dir(env.path().join("state/oci/trash")).unwrap();
    assert_eq!(trash.count(), 1);

    // A run killed after taking the spare leaves its bundle without
    // guestkit.json, unlisted, with the root mounted: the next create of
    // that name unmounts and removes it (never going into the mount).
    let left = env.path().join("state/oci/crun/gk-killed");
    std::fs::rename(&spares[0], &left).unwrap();
    let text = env.run(
        "ctr-run",
        &["gk-killed", "-b", "crun", "--rm", "--", "true"],
    );
    assert!(
        text.starts_with(
            "exit_code: 0
"
        ) && text.contains(
            "removed what a create of gk-killed that did not finish left in backend crun"
        ),
        "{text}"
    );
    assert!(!left.exists(), "the killed run's bundle stayed");
    run("gk-s12", &["true"]);

    // Turned off: the next run removes the spare and keeps none.
    env.write_config("[oci]\nspare_roots = false\n");
    let text = run("gk-s13", &["true"]);
    assert!(
        !text.contains("took the spare") && text.contains(&removed_spare),
        "{text}"
    );
    assert!(env.spares().is_empty());
}

#[test]
fn crun_run_rm() {
    require!("crun");
    run_rm("crun");
}

#[test]
fn runc_run_rm() {
    require!("runc");
    run_rm("runc");
}

/// A listing tells the states of the containers guestkit started from its
/// notes of their inits and the kernel's files, without running the
/// runtime; where a note cannot tell for sure, the runtime is asked.
fn states_from_notes(rt: &str) {
    let env = TestEnv::new();
    let n = "gk-noted";
    env.ok(
        "ctr-create",
        &[n, "-b", rt, "--start", "--", "sleep", "1000"],
    );
    // Its status, and whether the runtime was run for it.
    let look = |tool: &str| -> (String, bool) {
        let out = env
            .cmd(tool)
            .args(["-b", rt, "-v", "-o", "json"])
            .output()
            .unwrap();
        let (stdout, trace) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{tool}: {trace}");
        let status = match stdout.lines().find(|l| l.contains(n)) {
            Some(line) => serde_json::from_str::<serde_json::Value>(line).unwrap()["status"]
                .as_str()
                .map_or("sampled".into(), String::from),
            None => "absent".into(),
        };
        (status, trace.contains(" list --format json"))
    };
    let list = || look("ctr-list");
    let at = |status: &str, asked: bool| (status.to_string(), asked);
    assert_eq!(list(), at("running", false));
    assert_eq!(look("ctr-stats"), at("sampled", false));
    env.ok("ctr-pause", &[n]);
    assert_eq!(list(), at("paused", false));
    assert_eq!(
        look("ctr-stats"),
        at("absent", false),
        "a paused one is not sampled"
    );
    env.ok("ctr-resume", &[n]);
    assert_eq!(list(), at("running", false));
    // Started by an earlier guestkit, which noted nothing: the runtime tells.
    let bundle = env.path().join("state/oci").join(rt).join(n);
    std::fs::remove_file(bundle.join("init.json")).unwrap();
    assert_eq!(list(), at("running", true));
    // The next start notes it again.
    env.ok("ctr-restart", &[n, "--force"]);
    assert_eq!(list(), at("running", false));
    // Its init ended, its cgroup is empty: stopped, the note tells.
    env.ok("ctr-stop", &[n, "--force"]);
    assert_eq!(list(), at("stopped", false));
    // Run again behind guestkit's back, by the runtime's own commands on
    // guestkit's bundle: the note's init is gone, but the container is not.
    let root = env.path().join("run").join(rt);
    let runtime = |args: &[&str]| {
        let status = std::process::Command::new(rt)
            .arg("--root")
            .arg(&root)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{rt} {args:?}");
    };
    runtime(&["delete", "--force", n]);
    runtime(&["run", "--detach", "--bundle", bundle.to_str().unwrap(), n]);
    assert_eq!(list(), at("running", true));
    env.ok("ctr-delete", &[n, "--force"]);
}

#[test]
fn crun_states_from_notes() {
    require!("crun");
    states_from_notes("crun");
}

#[test]
fn runc_states_from_notes() {
    require!("runc");
    states_from_notes("runc");
}

#[test]
fn all_three_backends_in_one_list_and_routing() {
    require!("lxc");
    require!("crun");
    require!("runc");
    let env = TestEnv::new();
    env.write_config(
        "default_backend = \"lxc\"\n[[route]]\npattern = \"kube-ovn-*\"\nbackend = \"crun\"\n[[route]]\npattern = \"job-*\"\nbackend = \"runc\"\n",
    );
    snap!(
        env,
        "route-crun",
        env.run("ctr-create", &["kube-ovn-cni", "--", "sleep", "1000"])
    );
    snap!(
        env,
        "route-runc",
        env.run("ctr-create", &["job-1", "--", "sleep", "1000"])
    );
    snap!(
        env,
        "route-default-lxc",
        env.run("ctr-create", &["web", "--", "sleep", "1000"])
    );
    snap!(
        env,
        "route-flag-wins",
        env.run(
            "ctr-create",
            &["kube-ovn-x", "-b", "runc", "--", "sleep", "1000"]
        )
    );
    snap!(
        env,
        "three-backends-start",
        env.run("ctr-start", &["kube-ovn-cni", "job-1", "web"])
    );
    snap!(env, "three-backends-list", env.run("ctr-list", &[]));
    snap!(
        env,
        "three-backends-list-runc",
        env.run("ctr-list", &["-b", "runc", "-o", "name"])
    );
    // A name is unique across backends.
    snap!(
        env,
        "name-taken-in-other-backend",
        env.run("ctr-create", &["web", "-b", "crun"])
    );
    let listed = env.stdout("ctr-list", &[]);
    snap!(
        env,
        "three-backends-stop-from-list",
        env.run_stdin("ctr-stop", &["--jobs", "3"], &listed)
    );
    snap!(
        env,
        "three-backends-delete",
        env.run(
            "ctr-delete",
            &["kube-ovn-cni", "job-1", "web", "kube-ovn-x"]
        )
    );
}

#[test]
fn same_name_in_two_backends_is_ambiguous() {
    require!("runc");
    require!("lxc");
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-twin", "-b", "runc", "--", "true"]);
    // Made behind guestkit's back: LXC itself creates the twin.
    let lxc = env.path().join("lxc");
    let conf = env.path().join("twin.conf");
    std::fs::write(&conf, "lxc.net.0.type = empty\n").unwrap();
    let ok = crate::common::status(
        std::process::Command::new("lxc-create")
            .arg("-P")
            .arg(&lxc)
            .args(["-n", "gk-twin", "-t", "none", "-f"])
            .arg(&conf),
    );
    assert!(ok.success());
    snap!(env, "twin-ambiguous", env.run("ctr-start", &["gk-twin"]));
    snap!(
        env,
        "twin-picked",
        env.run("ctr-delete", &["gk-twin", "-b", "runc"])
    );
    snap!(
        env,
        "twin-from-stdin-record",
        env.run_stdin(
            "ctr-delete",
            &[],
            "{\"name\":\"gk-twin\",\"backend\":\"lxc\"}\n"
        )
    );
}

#[test]
fn missing_runtime_is_unavailable() {
    let env = TestEnv::new();
    let mut cmd = env.cmd("ctr-list");
    cmd.env("PATH", "/nonexistent").args(["-b", "crun"]);
    snap!(env, "crun-missing", env.run_cmd(&mut cmd, None));
    let mut cmd = env.cmd("ctr-create");
    cmd.env("PATH", "/nonexistent").args(["x", "-b", "runc"]);
    snap!(env, "runc-missing", env.run_cmd(&mut cmd, None));
}

/// Whether the running kernel is at least `major.minor`.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

/// A name is taken by a backend's files even when its tools are missing, and
/// the hint says why ctr-delete cannot help then.
#[test]
fn name_held_by_a_backend_not_installed() {
    let env = TestEnv::new();
    let bundle = env.path().join("state/oci/runc/gk-orphan");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(bundle.join("guestkit.json"), "{\"image\":\"busybox\"}\n").unwrap();
    // crun "installed" (a stand-in: the create stops before running it), runc not.
    let bin = env.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(bin.join("crun"), "#!/bin/sh\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("crun"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = env.cmd("ctr-create");
    cmd.env("PATH", &bin).args(["gk-orphan", "-b", "crun"]);
    snap!(
        env,
        "name-held-by-missing-backend",
        env.run_cmd(&mut cmd, None)
    );
}
