//! The whole life of containers on real LXC.

use crate::common::TestEnv;
use crate::{require, snap};

#[test]
fn busybox_init_container_lifecycle() {
    require!("lxc");
    let env = TestEnv::new();
    let n = "gk-init";
    snap!(
        env,
        "init-create-start",
        env.run("ctr-create", &[n, "--start"])
    );
    snap!(
        env,
        "init-exec-ps",
        env.run("ctr-exec", &[n, "--", "ps", "-o", "comm"])
    );
    snap!(
        env,
        "init-kill-hup-keeps-running",
        env.run("ctr-kill", &[n, "--signal", "HUP"])
    );
    snap!(
        env,
        "init-delete-running-refused",
        env.run("ctr-delete", &[n])
    );
    snap!(
        env,
        "init-delete-force",
        env.run("ctr-delete", &[n, "--force"])
    );
    snap!(
        env,
        "init-delete-missing-ok",
        env.run("ctr-delete", &[n, "--missing-ok"])
    );
    snap!(env, "init-delete-missing", env.run("ctr-delete", &[n]));
}

#[test]
fn kill_ends_a_container() {
    require!("lxc");
    let env = TestEnv::new();
    let n = "gk-kill";
    env.ok("ctr-create", &[n, "--start", "--", "sleep", "1000"]);
    snap!(env, "kill", env.run("ctr-kill", &[n]));
    wait_for_status(&env, n, "stopped");
    snap!(env, "kill-stopped-refused", env.run("ctr-kill", &[n]));
    env.ok("ctr-delete", &[n]);
    // Signals other than TERM reach a command, through the init wrapper.
    let h = "gk-hup";
    env.ok(
        "ctr-create",
        &[
            h,
            "--start",
            "--",
            "sh",
            "-c",
            "trap 'echo got HUP' HUP; while :; do sleep 1; done",
        ],
    );
    snap!(
        env,
        "kill-hup",
        env.run("ctr-kill", &[h, "--signal", "HUP"])
    );
    crate::common::wait_for(
        "the HUP to reach the command",
        crate::common::SETTLE,
        || env.stdout("ctr-logs", &[h]).contains("got HUP"),
    );
    snap!(env, "kill-hup-logs", env.run("ctr-logs", &[h]));
    env.ok("ctr-stop", &[h]);
    env.ok("ctr-delete", &[h]);
}

#[test]
fn list_output_piped_into_stop_and_jobs() {
    require!("lxc");
    let env = TestEnv::new();
    let names = ["gk-pipe-a", "gk-pipe-b", "gk-pipe-c"];
    for n in names {
        env.ok("ctr-create", &[n, "--", "sleep", "1000"]);
    }
    snap!(
        env,
        "pipe-start-jobs",
        env.run("ctr-start", &["--jobs", "3", names[0], names[1], names[2]])
    );
    let listed = env.stdout("ctr-list", &["--status", "running"]);
    assert_eq!(listed.lines().count(), 3);
    snap!(
        env,
        "pipe-list-into-stop",
        env.run_stdin("ctr-stop", &["--jobs", "2"], &listed)
    );
    snap!(
        env,
        "pipe-list-table",
        env.run("ctr-list", &["-o", "table", "--color", "never"])
    );
    snap!(env, "pipe-list-names", env.run("ctr-list", &["-o", "name"]));
    let stopped = env.stdout("ctr-list", &["-o", "name", "--status", "stopped"]);
    snap!(
        env,
        "pipe-names-into-delete",
        env.run_stdin("ctr-delete", &[], &stopped)
    );
}

#[test]
fn images_from_a_directory_and_tarballs() {
    require!("lxc");
    let env = TestEnv::new();
    // A root filesystem directory: copy what ctr-create made for the busybox image.
    env.ok("ctr-create", &["gk-img-src", "--", "true"]);
    let rootfs = env.lxc_dir("gk-img-src").join("rootfs");
    for (name, file, flag) in [
        ("gk-img-tar", "rootfs.tar", ""),
        ("gk-img-gz", "rootfs.tar.gz", "-z"),
        ("gk-img-xz", "rootfs.tar.xz", "-J"),
        ("gk-img-zst", "rootfs.tar.zst", "--zstd"),
    ] {
        let tarball = env.path().join(file);
        let mut tar = std::process::Command::new("tar");
        tar.arg("-c").arg("-f").arg(&tarball).arg("-C").arg(&rootfs);
        if !flag.is_empty() {
            tar.arg(flag);
        }
        assert!(crate::common::status(tar.arg(".")).success());
        snap!(
            env,
            format!("image-{file}"),
            env.run(
                "ctr-run",
                &[
                    name,
                    "--rm",
                    "--image",
                    tarball.to_str().unwrap(),
                    "--",
                    "echo",
                    "from",
                    file
                ]
            )
        );
    }
    snap!(
        env,
        "image-dir",
        env.run(
            "ctr-run",
            &[
                "gk-img-dir",
                "--rm",
                "--image",
                rootfs.to_str().unwrap(),
                "--",
                "cat",
                "/etc/hostname"
            ]
        )
    );
    env.ok("ctr-delete", &["gk-img-src"]);
    assert_eq!(
        std::fs::read_dir(env.path().join("lxc")).unwrap().count(),
        0
    );
}

#[test]
fn mounts_and_bridge_network() {
    require!("lxc");
    let env = TestEnv::new();
    let data = env.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("hello.txt"), "mounted\n").unwrap();
    let spec = format!("{}:/data:ro", data.display());
    snap!(
        env,
        "mount-ro",
        env.run(
            "ctr-run",
            &[
                "gk-mount",
                "--rm",
                "--mount",
                &spec,
                "--",
                "sh",
                "-c",
                "cat /data/hello.txt; touch /data/x 2>&1; true"
            ]
        )
    );
}

/// The memory limit the kernel enforces on a running container's init, read
/// from its cgroup on the host (cgroup v1 or v2).
pub fn memory_limit_of(env: &TestEnv, name: &str) -> u64 {
    let state: serde_json::Value = serde_json::from_str(&env.stdout("ctr-state", &[name])).unwrap();
    let pid = state["pid"]
        .as_u64()
        .expect("a running container has a pid");
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    for line in cgroups.lines() {
        let mut f = line.splitn(3, ':');
        let (_, controllers, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let file = if controllers.split(',').any(|c| c == "memory") {
            format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes")
        } else if controllers.is_empty()
            && std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        {
            format!("/sys/fs/cgroup{path}/memory.max")
        } else {
            continue;
        };
        return std::fs::read_to_string(&file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    }
    panic!("no memory cgroup for pid {pid}: {cgroups}");
}

pub fn wait_for_status(env: &TestEnv, name: &str, status: &str) {
    crate::common::wait_for(
        &format!("{name} to be {status}"),
        crate::common::SETTLE,
        || {
            let out = env.stdout("ctr-list", &["-o", "json"]);
            out.lines().any(|l| {
                l.contains(&format!("\"name\":\"{name}\""))
                    && l.contains(&format!("\"status\":\"{status}\""))
            })
        },
    );
}
