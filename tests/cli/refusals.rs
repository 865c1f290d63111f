//! Bad input, as a table: every row runs one tool with one mistake and
//! checks the exit code, that stderr names the problem, and that nothing was
//! left behind (no container, bundle or runtime state). The snapshots in
//! bad_input.rs and help.rs show whole messages; this table covers breadth.

use crate::common::TestEnv;

struct Case {
    tool: &'static str,
    args: &'static [&'static str],
    /// stdin's text; `None` for empty stdin.
    stdin: Option<&'static str>,
    /// The config file's text.
    config: &'static str,
    env: &'static [(&'static str, &'static str)],
    exit: i32,
    /// What stderr must say: the problem named.
    says: &'static str,
}

const fn case(
    tool: &'static str,
    args: &'static [&'static str],
    exit: i32,
    says: &'static str,
) -> Case {
    Case {
        tool,
        args,
        stdin: None,
        config: "",
        env: &[],
        exit,
        says,
    }
}

const fn config(text: &'static str, tool: &'static str, exit: i32, says: &'static str) -> Case {
    Case {
        config: text,
        ..case(tool, &[], exit, says)
    }
}

const fn stdin(tool: &'static str, input: &'static str, exit: i32, says: &'static str) -> Case {
    Case {
        stdin: Some(input),
        ..case(tool, &[], exit, says)
    }
}

const fn env(
    vars: &'static [(&'static str, &'static str)],
    tool: &'static str,
    args: &'static [&'static str],
    exit: i32,
    says: &'static str,
) -> Case {
    Case {
        env: vars,
        ..case(tool, args, exit, says)
    }
}

/// A Proxmox VE URL where nothing answers, for the vm-* rows that get as
/// far as connecting.
const NOWHERE: &[(&str, &str)] = &[
    ("GUESTKIT_PVE_URL", "https://127.0.0.1:9"),
    ("GUESTKIT_PVE_TOKEN", "ops@pve!ci=secret"),
];

/// `{TEMP}` in arguments is this test's directory, which holds the
/// fixtures: data/ (a directory), file.txt, broken.tar.gz, dotdot.tar (an
/// entry named ../evil), empty/ (a directory with nothing in it).
const CASES: &[Case] = &[
    // Flags and their values.
    case(
        "ctr-stop",
        &["--timout", "3", "x"],
        2,
        "unknown flag --timout",
    ),
    case("ctr-list", &["-Z"], 2, "unknown flag -Z"),
    case(
        "ctr-list",
        &["-o", "jsn"],
        2,
        "invalid value \"jsn\" for --output",
    ),
    case(
        "ctr-list",
        &["--status", "bogus"],
        2,
        "invalid value \"bogus\" for --status",
    ),
    case(
        "ctr-list",
        &["-b", "lcx"],
        2,
        "invalid value \"lcx\" for --backend",
    ),
    case(
        "ctr-list",
        &["--generate", "tcsh"],
        2,
        "invalid value \"tcsh\" for --generate",
    ),
    case(
        "ctr-start",
        &["--jobs", "0", "x"],
        2,
        "--jobs must be at least 1",
    ),
    case(
        "ctr-start",
        &["--jobs", "many", "x"],
        2,
        "for --jobs: expected a number",
    ),
    case(
        "ctr-stop",
        &["x", "--timeout"],
        2,
        "missing value SECONDS for flag --timeout",
    ),
    case("ctr-stop", &["--timeout", "-5", "x"], 2, "--timeout"),
    case(
        "ctr-stop",
        &["--force=yes", "x"],
        2,
        "flag --force takes no value",
    ),
    case(
        "ctr-kill",
        &["-s", "NOPE", "x"],
        2,
        "invalid signal \"NOPE\"",
    ),
    case("ctr-kill", &["-s", "99", "x"], 2, "invalid signal \"99\""),
    case(
        "ctr-list",
        &["-q", "-v"],
        2,
        "--quiet and --verbose exclude each other",
    ),
    case(
        "ctr-stop",
        &["--force", "--timeout", "5", "x"],
        2,
        "--force stops at once",
    ),
    case("ctr-logs", &["-o", "json", "x"], 2, "unknown flag -o"),
    case(
        "ctr-exec",
        &["-o", "table", "x", "--", "true"],
        2,
        "unknown flag -o",
    ),
    case(
        "ctr-list",
        &["unexpected"],
        2,
        "unexpected argument \"unexpected\"",
    ),
    // Names.
    case("ctr-create", &[], 2, "no container name given"),
    case(
        "ctr-create",
        &["bad name"],
        2,
        "invalid container name \"bad name\"",
    ),
    case(
        "ctr-create",
        &["../x"],
        2,
        "invalid container name \"../x\"",
    ),
    case(
        "ctr-start",
        &["--", "-x"],
        2,
        "must start with a letter or digit",
    ),
    case(
        "ctr-create",
        &["x1234567890123456789012345678901234567890123456789012345678901234"],
        2,
        "at most 63 bytes",
    ),
    case("ctr-exec", &[], 2, "no container name given"),
    case(
        "ctr-cp",
        &["a:/x", "b:/y"],
        2,
        "both sides are in containers",
    ),
    case(
        "ctr-cp",
        &["./x", "/tmp/y"],
        2,
        "neither side is in a container",
    ),
    case("ctr-cp", &["-", "-"], 2, "neither side is in a container"),
    case("ctr-cp", &["x:/etc"], 2, "no destination (DST) given"),
    case(
        "ctr-cp",
        &["bad name:/etc", "."],
        2,
        "invalid container name \"bad name\"",
    ),
    case("ctr-cp", &["nope:/etc", "."], 3, "nope: no such container"),
    case("ctr-exec", &["x"], 2, "no command given"),
    case(
        "ctr-exec",
        &["x", "-t", "--", "tty"],
        2,
        "-t gives the command a terminal, and stdin is not one",
    ),
    case("ctr-logs", &[], 2, "no container name given"),
    case(
        "ctr-logs",
        &["x", "--since", "yesterday"],
        2,
        "--since: invalid time \"yesterday\": expected a UTC time",
    ),
    case(
        "ctr-logs",
        &["x", "--until", "12:00"],
        2,
        "--until: invalid time",
    ),
    // What ctr-create and ctr-run are asked to make.
    case(
        "ctr-create",
        &["x", "--memory", "12Q"],
        2,
        "invalid size \"12Q\"",
    ),
    case(
        "ctr-create",
        &["x", "--memory", "0"],
        2,
        "invalid size \"0\"",
    ),
    case("ctr-create", &["x", "--cpus", "0"], 2, "from 0.01 to 1024"),
    case(
        "ctr-create",
        &["x", "--cpus", "lots"],
        2,
        "for --cpus: expected a number",
    ),
    case(
        "ctr-create",
        &["x", "-e", "NOEQUALS"],
        2,
        "for --env: expected KEY=VALUE",
    ),
    case(
        "ctr-create",
        &["x", "-e", "=v"],
        2,
        "for --env: expected KEY=VALUE",
    ),
    case(
        "ctr-create",
        &["x", "-e", "A=one\ntwo"],
        2,
        "a value may not hold a newline",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "/nonexistent-gk:/data"],
        8,
        "mount source \"/nonexistent-gk\"",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "{TEMP}/data:data"],
        2,
        "DST must be an absolute path",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "{TEMP}/data:/x/../../etc"],
        2,
        "DST must be an absolute path",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "{TEMP}/data:/data:RO"],
        2,
        "unknown option \"RO\"",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "{TEMP}/data:/data:rx"],
        2,
        "unknown option \"rx\"",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "{TEMP}/data:/data:readonly"],
        2,
        "unknown option \"readonly\"",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "{TEMP}/data:/data:rw:extra"],
        2,
        "expected SRC:DST[:ro|rw]",
    ),
    case(
        "ctr-create",
        &["x", "--mount", "{TEMP}/data"],
        2,
        "expected SRC:DST[:ro|rw]",
    ),
    case(
        "ctr-create",
        &["x", "--network", "bogus"],
        3,
        "no network \"bogus\" is defined",
    ),
    case(
        "ctr-create",
        &["x", "--network", "wifi=1"],
        2,
        "for --network: expected none, a network's name, or bridge=NAME",
    ),
    case(
        "ctr-create",
        &[
            "x",
            "-b",
            "lxc",
            "--network",
            "bridge=a-bridge-name-too-long",
        ],
        2,
        "invalid interface name \"a-bridge-name-too-long\": 1 to 15 bytes",
    ),
    case(
        "ctr-create",
        &["x", "--publish", "80"],
        2,
        "expected [HOSTIP:]HOSTPORT:PORT",
    ),
    case(
        "ctr-create",
        &["x", "--publish", "1:2/sctp"],
        2,
        "unknown protocol \"sctp\"",
    ),
    case(
        "ctr-create",
        &["x", "--ip", "10.0.0"],
        2,
        "for --ip: expected an IPv4 address",
    ),
    case(
        "ctr-create",
        &["x", "--network", "none", "--ip", "10.77.0.9"],
        2,
        "--ip and --publish need a network",
    ),
    case(
        "ctr-create",
        &["x", "-b", "lxc", "--network", "bridge=gk-nobridge"],
        8,
        "no bridge \"gk-nobridge\"",
    ),
    case(
        "ctr-create",
        &["x", "-b", "runc", "--network", "bridge=lo"],
        2,
        "not supported by runc",
    ),
    case(
        "ctr-create",
        &["x", "--image", "/nonexistent-gk"],
        8,
        "image \"/nonexistent-gk\"",
    ),
    case(
        "ctr-create",
        &["x", "--image", "{TEMP}/file.txt"],
        8,
        "neither a directory nor a tarball",
    ),
    case(
        "ctr-create",
        &["x", "--image", "{TEMP}/broken.tar.gz"],
        8,
        "cannot unpack image",
    ),
    case(
        "ctr-create",
        &["x", "--image", "{TEMP}/dotdot.tar"],
        8,
        "contains '..'",
    ),
    case(
        "ctr-create",
        &["x", "-b", "crun", "--image", "{TEMP}/dotdot.tar"],
        8,
        "contains '..'",
    ),
    case(
        "ctr-create",
        &["x", "--image", "{TEMP}/empty"],
        8,
        "has no /sbin/init",
    ),
    case("ctr-create", &["x", "--", ""], 2, "invalid command \"\""),
    case("ctr-create", &["web", "db"], 2, "put it after --"),
    case("ctr-run", &["x", "db", "echo"], 2, "put it after --"),
    case(
        "ctr-run",
        &["x", "-it", "--detach", "--", "sh"],
        2,
        "-t gives a foreground run a terminal",
    ),
    case(
        "ctr-run",
        &["x", "-it", "--", "sh"],
        2,
        "-t gives the command a terminal, and stdin is not one",
    ),
    case(
        "ctr-run",
        &["x", "-b", "crun", "--rm", "--detach", "--", "true"],
        2,
        "--detach --rm is not supported by crun",
    ),
    // Guests that do not exist.
    case(
        "ctr-start",
        &["gk-nosuch"],
        3,
        "gk-nosuch: no such container in any backend",
    ),
    case("ctr-state", &["gk-nosuch"], 3, "no such container"),
    case("ctr-delete", &["gk-nosuch"], 3, "no such container"),
    case("ctr-kill", &["gk-nosuch"], 3, "no such container"),
    case(
        "ctr-logs",
        &["gk-nosuch"],
        3,
        "gk-nosuch: no such container",
    ),
    case(
        "ctr-exec",
        &["gk-nosuch", "--", "true"],
        125,
        "gk-nosuch: no such container",
    ),
    case(
        "ctr-stop",
        &["-b", "runc", "gk-nosuch"],
        3,
        "no such container in backend runc",
    ),
    // stdin targets.
    stdin("ctr-start", "{bad json\n", 8, "stdin line 1: invalid JSON"),
    stdin(
        "ctr-start",
        "ok\n{\"nam\":1}\n",
        8,
        "stdin line 2: the object has no \"name\"",
    ),
    stdin(
        "ctr-start",
        "{\"name\":\"x\",\"backend\":\"proxmox\",\"kind\":\"vm\"}\n",
        8,
        "a VM (kind \"vm\"): the ctr-* tools act on containers",
    ),
    stdin(
        "vm-start",
        "{\"name\":\"x\",\"backend\":\"proxmox\",\"kind\":\"container\"}\n",
        8,
        "a container (kind \"container\"): the vm-* tools act on VMs",
    ),
    stdin(
        "ctr-start",
        "{\"name\":\"x\",\"kind\":\"pod\"}\n",
        8,
        "\"kind\" must be container or vm",
    ),
    stdin(
        "ctr-start",
        "{\"name\":\"x\",\"backend\":\"docker\"}\n",
        8,
        "unknown backend \"docker\"",
    ),
    stdin(
        "ctr-stop",
        "../etc\n",
        8,
        "stdin line 1: invalid container name",
    ),
    stdin(
        "vm-start",
        "{\"vmid\":100,\"backend\":\"lxc\"}\n",
        8,
        "is not proxmox",
    ),
    stdin("vm-start", "42\n", 8, "stdin line 1: invalid VMID 42"),
    // Configuration.
    config(
        "default_backend = 5\n",
        "ctr-list",
        8,
        "config.toml:1:19: default_backend:",
    ),
    config(
        "[[route]]\npattern = \"k-*\"\n",
        "ctr-list",
        8,
        "config.toml:1:1: route[1]: missing field `backend`",
    ),
    config(
        "[[route]]\npattern = \"k-*\"\nbackend = \"kube\"\n",
        "ctr-list",
        8,
        "config.toml:3:11: route[1].backend: unknown backend \"kube\"",
    ),
    config(
        "cache_dir = \"/tmp\nstate_dir = \"x\"\n",
        "ctr-list",
        8,
        "config.toml:1:",
    ),
    config(
        "defualt_backend = \"lxc\"\n",
        "ctr-list",
        8,
        "config.toml:1:1: defualt_backend: unknown field `defualt_backend`",
    ),
    config(
        "state_dir = \"relative/dir\"\n",
        "ctr-list",
        8,
        "config.toml:1:13: state_dir: \"relative/dir\" is not an absolute path",
    ),
    config(
        "cache_dir = \"\"\n",
        "ctr-list",
        8,
        "config.toml:1:13: cache_dir: \"\" is not an absolute path",
    ),
    config(
        "[lxc]\nlxcpath = \"/nonexistent-gk-lxc\"\n",
        "ctr-list",
        8,
        "config.toml:2:11: lxc.lxcpath: \"/nonexistent-gk-lxc\" does not exist",
    ),
    config(
        "[proxmox]\ntimeout = \"soon\"\n",
        "vm-list",
        8,
        "config.toml:2:11: proxmox.timeout:",
    ),
    env(
        &[("GUESTKIT_BACKEND", "docker")],
        "ctr-list",
        &[],
        8,
        "GUESTKIT_BACKEND: unknown backend \"docker\"",
    ),
    env(
        &[("GUESTKIT_STATE_DIR", "relative")],
        "ctr-list",
        &[],
        8,
        "GUESTKIT_STATE_DIR: \"relative\" is not an absolute path",
    ),
    // The vm-* tools.
    case("vm-start", &["42"], 2, "invalid VMID 42"),
    case("vm-start", &["bad_name"], 2, "invalid VM name \"bad_name\""),
    case(
        "vm-list",
        &["-b", "lxc"],
        2,
        "invalid value \"lxc\" for --backend",
    ),
    case(
        "vm-list",
        &["--templates", "--no-templates"],
        2,
        "exclude each other",
    ),
    case(
        "vm-stop",
        &["--hard", "--force", "x"],
        2,
        "--hard already stops at once",
    ),
    case(
        "vm-wait",
        &["x"],
        2,
        "--for running|stopped|agent|ip is required",
    ),
    case(
        "ctr-wait",
        &["x"],
        2,
        "--for running|stopped|exited|ip is required",
    ),
    case(
        "ctr-wait",
        &["x", "--for", "address"],
        2,
        "invalid value \"address\" for --for",
    ),
    case(
        "ctr-restart",
        &["x", "--force", "--timeout", "3"],
        2,
        "--timeout has nothing to wait for",
    ),
    case("ctr-pause", &["gk-nosuch"], 3, "no such container"),
    case("ctr-update", &["x"], 2, "nothing to change"),
    case(
        "ctr-update",
        &["x", "--memory", "4k"],
        2,
        "is below the 4M a container needs",
    ),
    case(
        "ctr-update",
        &["x", "--pids", "0"],
        2,
        "--pids must be at least 1",
    ),
    case(
        "ctr-create",
        &["x", "--memory", "1"],
        2,
        "is below the 4M a container needs",
    ),
    case(
        "ctr-stats",
        &["--interval", "5"],
        2,
        "--interval goes with --follow",
    ),
    case(
        "ctr-stats",
        &["--follow", "--interval", "0"],
        2,
        "expected 0.1 to 86400 seconds",
    ),
    case(
        "ctr-list",
        &["--name"],
        2,
        "missing value GLOB for flag --name",
    ),
    case(
        "vm-wait",
        &["x", "--for", "up"],
        2,
        "invalid value \"up\" for --for",
    ),
    case(
        "vm-config",
        &["x", "--set", "memroy=1G"],
        2,
        "memroy is not a VM setting",
    ),
    case(
        "vm-config",
        &["x", "--set", "cores"],
        2,
        "expected KEY=VALUE",
    ),
    case(
        "vm-config",
        &["x", "--set", "ostype=linux"],
        2,
        "expected one of",
    ),
    case(
        "vm-config",
        &["x", "--tag", "Bad Tag"],
        2,
        "a tag is letters, digits",
    ),
    case(
        "vm-config",
        &["x", "--set", "cores=2", "--delete", "cores"],
        2,
        "both set and deleted",
    ),
    case("vm-resize", &["x", "scsi0"], 2, "no size given"),
    case("vm-resize", &["x", "scsi0", "10"], 2, "give a unit"),
    case(
        "vm-resize",
        &["x", "scsi0", "+0G"],
        2,
        "invalid size \"0G\"",
    ),
    case("vm-snapshot", &["x", "1st"], 2, "invalid snapshot name"),
    case("vm-snapshot", &["x", "current"], 2, "invalid snapshot name"),
    case("vm-snapshot-rollback", &["x"], 2, "no snapshot given"),
    case("vm-migrate", &["x"], 2, "--to NODE is required"),
    case("vm-exec", &["x"], 2, "no command given"),
    case(
        "vm-clone",
        &["a", "b", "--ip", "10.0.0.1"],
        2,
        "prefix length",
    ),
    case(
        "vm-clone",
        &["a", "b", "--sshkey", "/nonexistent.pub"],
        8,
        "cannot read --sshkey /nonexistent.pub",
    ),
    case(
        "vm-clone",
        &["a", "b", "--ciuser", "debian", "--no-wait"],
        2,
        "the clone must be done",
    ),
    case(
        "vm-create",
        &["x", "--disk", "1G", "--import-from", "local:import/a.qcow2"],
        2,
        "both make the first disk",
    ),
    case(
        "vm-create",
        &["x", "--nameserver", "dns"],
        2,
        "expected an IP address",
    ),
    case(
        "vm-create",
        &["x", "--memory", "1M"],
        2,
        "less than the 16 MiB a VM needs",
    ),
    case(
        "vm-create",
        &["x", "--storage", "local"],
        2,
        "give --disk SIZE too",
    ),
    case(
        "vm-create",
        &["x", "--net", "vmbr0"],
        2,
        "expected bridge=BR",
    ),
    case(
        "vm-create",
        &["x", "--set", "vmid=5"],
        2,
        "--set vmid: use --vmid",
    ),
    case(
        "vm-clone",
        &["a", "b", "--storage", "s"],
        2,
        "--storage applies to full clones",
    ),
    case("vm-clone", &["a"], 2, "no name given"),
    case("vm-list", &[], 5, "no Proxmox VE API URL is configured"),
    env(
        NOWHERE,
        "vm-list",
        &[],
        5,
        "cannot reach the Proxmox VE API",
    ),
    env(
        &[("GUESTKIT_PVE_URL", "http://pve1:8006")],
        "vm-list",
        &[],
        8,
        "plain http",
    ),
    env(
        &[
            ("GUESTKIT_PVE_URL", "https://127.0.0.1:9"),
            ("GUESTKIT_PVE_TOKEN", "just-a-secret"),
        ],
        "vm-list",
        &[],
        8,
        "bad Proxmox VE API token",
    ),
    env(
        &[
            ("GUESTKIT_PVE_URL", "https://127.0.0.1:9"),
            ("GUESTKIT_PVE_FINGERPRINT", "AA:BB"),
        ],
        "vm-list",
        &[],
        8,
        "fingerprint",
    ),
    Case {
        config: "[proxmox]\ntimeout = 0.5\ntoken_command = \"sleep 100\"\n",
        env: &[("GUESTKIT_PVE_URL", "https://127.0.0.1:9")],
        ..case(
            "vm-list",
            &[],
            7,
            "proxmox.token_command did not finish within 0.5 s",
        )
    },
    Case {
        config: "[proxmox]\ntoken_command = \"echo oops >&2; exit 3\"\n",
        env: &[("GUESTKIT_PVE_URL", "https://127.0.0.1:9")],
        ..case("vm-list", &[], 6, "proxmox.token_command failed")
    },
];

/// Makes the fixtures `{TEMP}` names.
fn fixtures(env: &TestEnv) {
    let t = env.path();
    std::fs::create_dir(t.join("data")).unwrap();
    std::fs::create_dir(t.join("empty")).unwrap();
    std::fs::write(t.join("file.txt"), "not an image\n").unwrap();
    std::fs::write(t.join("broken.tar.gz"), "not gzip").unwrap();
    // A tarball whose one entry climbs out of the root.
    let script = format!(
        "import io, tarfile\nt = tarfile.open('{}', 'w')\ni = tarfile.TarInfo('../evil')\ni.size = 3\nt.addfile(i, io.BytesIO(b'bad'))\nt.close()\n",
        t.join("dotdot.tar").display()
    );
    let made = crate::common::status(std::process::Command::new("python3").args(["-c", &script]));
    assert!(made.success(), "python3 could not write dotdot.tar");
}

/// Whatever a row may have left: containers, bundles, runtime state.
fn leftovers(env: &TestEnv) -> Vec<String> {
    let mut found = Vec::new();
    for dir in [
        "lxc",
        "state/oci/crun",
        "state/oci/runc",
        "run/crun",
        "run/runc",
    ] {
        for e in std::fs::read_dir(env.path().join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            found.push(format!("{dir}/{}", e.file_name().to_string_lossy()));
        }
    }
    found
}

#[test]
fn every_bad_input_is_refused_with_its_code_and_leaves_nothing() {
    crate::require!("lxc", "crun", "runc");
    assert!(CASES.len() >= 60, "the table has {} rows", CASES.len());
    let env = TestEnv::new();
    fixtures(&env);
    let temp = env.path().display().to_string();
    let mut wrong = Vec::new();
    for c in CASES {
        env.write_config(c.config);
        let args: Vec<String> = c.args.iter().map(|a| a.replace("{TEMP}", &temp)).collect();
        let mut cmd = env.cmd(c.tool);
        cmd.args(&args);
        // The environment wins over the file: a row about a directory in the
        // file takes away the test environment's own.
        for (key, var) in [
            ("state_dir", "GUESTKIT_STATE_DIR"),
            ("cache_dir", "GUESTKIT_CACHE_DIR"),
            ("lxcpath", "GUESTKIT_LXC_PATH"),
        ] {
            if c.config.contains(key) {
                cmd.env_remove(var);
            }
        }
        for (k, v) in c.env {
            cmd.env(k, v);
        }
        let text = env.run_cmd(&mut cmd, c.stdin);
        let code = text
            .strip_prefix("exit_code: ")
            .and_then(|t| t.split('\n').next())
            .unwrap_or("?")
            .to_string();
        let stderr = text.split("----- stderr -----\n").nth(1).unwrap_or("");
        let row = format!("{} {:?}", c.tool, c.args);
        if code != c.exit.to_string() {
            wrong.push(format!("{row}: exit {code}, not {}:\n{text}", c.exit));
        } else if !stderr.contains(c.says) {
            wrong.push(format!("{row}: stderr does not say {:?}:\n{text}", c.says));
        } else if text.contains("internal error") || text.contains("panicked") {
            wrong.push(format!("{row}: a panic reached the user:\n{text}"));
        }
        let left = leftovers(&env);
        if !left.is_empty() {
            wrong.push(format!("{row}: left {left:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} rows are wrong:\n\n{}",
        wrong.len(),
        CASES.len(),
        wrong.join("\n\n")
    );
}

/// A stdin line is at most 1 MiB: a longer one is refused with its number,
/// without echoing it, and without reading it whole into memory.
#[test]
fn an_overlong_stdin_line_is_refused_briefly() {
    let env = TestEnv::new();
    let long = format!("{}\n", "x".repeat(3 << 20));
    let text = env.run_stdin("ctr-start", &[], &long);
    assert!(
        text.starts_with("exit_code: 8\n"),
        "{}",
        &text[..text.len().min(500)]
    );
    assert!(
        text.contains("stdin line 1: longer than 1 MiB"),
        "{}",
        &text[..text.len().min(500)]
    );
    assert!(
        text.len() < 1000,
        "the error echoed the line: {} bytes",
        text.len()
    );
    // A long name on a short line is quoted briefly too.
    let name = format!("{}/\n", "y".repeat(5000));
    let text = env.run_stdin("ctr-start", &[], &name);
    assert!(
        text.starts_with("exit_code: 8\n") && text.len() < 1000,
        "{}",
        &text[..text.len().min(500)]
    );
}
