//! What containers are made from, beyond the built-in busybox: OCI bundles
//! (whose config is the base the flags change), bad bundles, a busybox that
//! cannot run in a container, and a directory in the way of a new one.

use crate::common::TestEnv;
use crate::{require, snap};

/// An OCI bundle as another tool would leave it: guestkit's own, copied,
/// with a command and an environment variable of its own.
fn bundle(env: &TestEnv) -> std::path::PathBuf {
    env.ok(
        "ctr-create",
        &[
            "gk-tmpl",
            "-b",
            "crun",
            "-e",
            "FROM=bundle",
            "--",
            "sh",
            "-c",
            "echo FROM=$FROM",
        ],
    );
    let src = env.container_dir("crun", "gk-tmpl");
    let dst = env.path().join("bundle");
    let copied = crate::common::status(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(&src)
            .arg(&dst),
    );
    assert!(copied.success());
    env.ok("ctr-delete", &["gk-tmpl"]);
    // Not guestkit's any more: only config.json and rootfs/.
    for f in ["guestkit.json", "console.log", "runtime.log"] {
        let _ = std::fs::remove_file(dst.join(f));
    }
    std::fs::write(dst.join("rootfs/etc/made-by"), "the bundle\n").unwrap();
    dst
}

#[test]
fn an_oci_bundle_is_an_image_whose_config_is_the_base() {
    require!("crun", "runc", "lxc");
    let env = TestEnv::new();
    let b = bundle(&env);
    let image = b.to_str().unwrap();
    for rt in ["crun", "runc"] {
        // Its own command runs; the flags change what they say.
        snap!(
            env,
            format!("image-bundle-{rt}"),
            env.run(
                "ctr-run",
                &["gk-from-bundle", "-b", rt, "--rm", "--image", image]
            )
        );
        snap!(
            env,
            format!("image-bundle-{rt}-env"),
            env.run(
                "ctr-run",
                &[
                    "gk-from-bundle",
                    "-b",
                    rt,
                    "--rm",
                    "-e",
                    "FROM=flag",
                    "--image",
                    image,
                    "--",
                    "sh",
                    "-c",
                    "echo FROM=$FROM"
                ]
            )
        );
    }
    // LXC takes its root filesystem.
    snap!(
        env,
        "image-bundle-lxc",
        env.run(
            "ctr-run",
            &[
                "gk-from-bundle",
                "-b",
                "lxc",
                "--rm",
                "--image",
                image,
                "--",
                "cat",
                "/etc/made-by"
            ]
        )
    );
    assert_eq!(env.stdout("ctr-list", &[]), "");
}

#[test]
fn a_bad_bundle_is_refused_and_leaves_nothing() {
    require!("crun");
    let env = TestEnv::new();
    let bad = env.path().join("bad");
    std::fs::create_dir_all(bad.join("rootfs")).unwrap();
    std::fs::write(bad.join("config.json"), "{not json").unwrap();
    snap!(
        env,
        "image-bundle-bad-json",
        env.run(
            "ctr-create",
            &["gk-bad", "-b", "crun", "--image", bad.to_str().unwrap()]
        )
    );
    std::fs::write(
        bad.join("config.json"),
        r#"{"ociVersion":"1.0.2","root":{"path":"elsewhere"}}"#,
    )
    .unwrap();
    snap!(
        env,
        "image-bundle-no-root",
        env.run(
            "ctr-create",
            &["gk-bad", "-b", "crun", "--image", bad.to_str().unwrap()]
        )
    );
    assert!(!env.container_dir("crun", "gk-bad").exists());
}

/// The built-in image needs a statically linked busybox: a dynamic one
/// would find no libraries in the container.
#[test]
fn a_dynamic_busybox_is_refused() {
    require!("lxc");
    let env = TestEnv::new();
    let bin = env.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Any dynamically linked program will do as a stand-in.
    std::os::unix::fs::symlink("/bin/ls", bin.join("busybox")).unwrap();
    let mut cmd = env.cmd("ctr-create");
    cmd.env("PATH", format!("{}:{}", bin.display(), env.path_env))
        .env("GUESTKIT_CACHE_DIR", env.path().join("cache"))
        .args(["gk-dyn", "-b", "lxc"]);
    snap!(env, "image-busybox-dynamic", env.run_cmd(&mut cmd, None));
    assert!(!env.lxc_dir("gk-dyn").exists());
}

/// A directory where a new container would go, that is neither a container
/// nor what a killed create left, is refused with the way to remove it.
#[test]
fn a_directory_in_the_way_is_a_conflict() {
    require!("lxc");
    let env = TestEnv::new();
    std::fs::create_dir_all(env.lxc_dir("gk-inway").join("stuff")).unwrap();
    snap!(
        env,
        "create-directory-in-the-way",
        env.run("ctr-create", &["gk-inway", "-b", "lxc"])
    );
    assert!(
        env.lxc_dir("gk-inway").join("stuff").exists(),
        "it removed what was not its own"
    );
}

/// A tarball is not trusted, and handled one way on every backend
/// (docs/design.md, "Images"): absolute names land inside the root, device
/// nodes are made as they are, a name holding `..` refuses the whole image,
/// and nothing is written through a link the tarball made.
#[test]
fn tarball_entries_stay_inside_the_root() {
    require!("lxc", "crun");
    let env = TestEnv::new();
    // A whole root filesystem to start from: what ctr-create made for busybox.
    env.ok("ctr-create", &["gk-src", "-b", "lxc", "--", "true"]);
    let rootfs = env.lxc_dir("gk-src").join("rootfs");
    let base = env.path().join("base.tar");
    let tarred = crate::common::status(
        std::process::Command::new("tar")
            .arg("-cf")
            .arg(&base)
            .arg("-C")
            .arg(&rootfs)
            .arg("."),
    );
    assert!(tarred.success());
    env.ok("ctr-delete", &["gk-src"]);
    let outside = env.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    // Each tarball: the root filesystem and some entries more.
    let make = |name: &str, entries: &str| {
        let file = env.path().join(name);
        std::fs::copy(&base, &file).unwrap();
        let script = format!(
            "import io, tarfile\nt = tarfile.open('{}', 'a')\ndef add(n, kind=tarfile.REGTYPE, link='', data=b'x', major=0, minor=0):\n    i = tarfile.TarInfo(n); i.type = kind; i.linkname = link; i.size = len(data) if kind == tarfile.REGTYPE else 0\n    i.devmajor, i.devminor = major, minor\n    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)\n{entries}\nt.close()\n",
            file.display()
        );
        let ok = crate::common::status(std::process::Command::new("python3").args(["-c", &script]));
        assert!(ok.success(), "python3 could not write {name}");
        file.to_str().unwrap().to_string()
    };
    let absolute = make(
        "absolute.tar",
        "add('/etc/abs-file', data=b'inside\\n')\nadd('./srv/gk-null', tarfile.CHRTYPE, major=1, minor=3)",
    );
    let escape = make(
        "escape.tar",
        &format!(
            "add('esc', tarfile.SYMTYPE, link='{}')\nadd('esc/pwned', data=b'bad')",
            outside.display()
        ),
    );
    let dotdot = make("dotdot.tar", "add('../evil', data=b'bad')");
    for rt in ["lxc", "crun"] {
        snap!(
            env,
            format!("tarball-absolute-{rt}"),
            env.run(
                "ctr-run",
                &[
                    "gk-tar",
                    "-b",
                    rt,
                    "--rm",
                    "--image",
                    &absolute,
                    "--",
                    "sh",
                    "-c",
                    "cat /etc/abs-file; ls -l /srv/gk-null | cut -c1"
                ]
            )
        );
        snap!(
            env,
            format!("tarball-escape-{rt}"),
            env.run("ctr-create", &["gk-tar", "-b", rt, "--image", &escape])
        );
        assert!(
            !outside.join("pwned").exists(),
            "{rt}: the tarball wrote outside the root"
        );
        snap!(
            env,
            format!("tarball-dotdot-{rt}"),
            env.run("ctr-create", &["gk-tar", "-b", rt, "--image", &dotdot])
        );
        assert!(!env.path().join("evil").exists() && !env.container_dir(rt, "gk-tar").exists());
    }
}
