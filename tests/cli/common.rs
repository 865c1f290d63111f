//! The test environment: each test gets its own LXC container directory and
//! config in a temp dir, a cleared environment, and filters that redact what
//! changes from run to run (temp paths, PIDs, times, byte counts).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub path_env: String,
    /// Whether new containers join a network by default (`with_network`);
    /// else GUESTKIT_NETWORK=none: most tests are about other things, and
    /// the built-in network's bridge is the host's.
    pub network: bool,
    /// Whether the test has a cache of its own (`with_cache`), else the
    /// one all tests share.
    pub own_cache: bool,
}

/// Why tests of a backend (lxc, crun, runc) cannot run here, if they cannot.
pub fn backend_missing(backend: &str) -> Option<String> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    let (program, package) = match backend {
        "lxc" => ("lxc-ls", "lxc"),
        "sshd" => {
            if !std::path::Path::new("/usr/sbin/sshd").exists() || which("ssh").is_none() {
                return Some("sshd is not installed (apt-get install openssh-server)".into());
            }
            return None;
        }
        runtime => (runtime, runtime),
    };
    if which(program).is_none() {
        return Some(format!(
            "{program} is not installed (apt-get install {package})"
        ));
    }
    if which("busybox").is_none() {
        return Some("busybox is not installed (apt-get install busybox-static)".into());
    }
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    if backend == "crun"
        && mounts
            .lines()
            .any(|l| l.contains(" /sys/fs/cgroup/unified cgroup2 "))
    {
        return Some("crun refuses cgroups in hybrid mode; run the tests in a private mount namespace without /sys/fs/cgroup/unified, as scripts/test-runner does for cargo test".into());
    }
    None
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var("PATH")
        .ok()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// Skips the calling test when a backend it needs cannot run here, saying
/// why; fails instead when GUESTKIT_REQUIRE_ALL is set (as README's test
/// command and so CI set it), so CI never skips silently.
#[macro_export]
macro_rules! require {
    ($($backend:expr),+) => {
        $(if let Some(why) = $crate::common::backend_missing($backend) {
            if std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
                panic!(
                    "{} tests are required here (GUESTKIT_REQUIRE_ALL) but cannot run: {why}",
                    $backend
                );
            }
            eprintln!("skipped: this test needs real {}: {why}", $backend);
            return;
        })+
    };
}

/// One test per backend, in a module named after the scenario: each runs
/// `scenario(backend)` where its backend can run (see `require!`).
#[macro_export]
macro_rules! on_every_backend {
    ($scenario:ident) => {
        mod $scenario {
            #[test]
            fn lxc() {
                $crate::require!("lxc");
                super::$scenario("lxc");
            }
            #[test]
            fn crun() {
                $crate::require!("crun");
                super::$scenario("crun");
            }
            #[test]
            fn runc() {
                $crate::require!("runc");
                super::$scenario("runc");
            }
        }
    };
}

impl Drop for TestEnv {
    /// Removes every container the test made, whether it passed or
    /// panicked half-way: LXC's in this test's lxcpath (stopped and
    /// destroyed), the runtimes' in this test's --root (killed and
    /// deleted). Then the roots still mounted (the spares `ctr-run --rm`
    /// keeps, a bundle a failed test left) are unmounted, so that removing
    /// the temp directory does not reach into the image through them.
    fn drop(&mut self) {
        let entries = |dir: PathBuf| -> Vec<PathBuf> {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect()
        };
        let quietly = |cmd: &mut Command| {
            let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
        };
        let lxc = self.path().join("lxc");
        for c in entries(lxc.clone()) {
            quietly(
                Command::new("lxc-destroy")
                    .arg("-P")
                    .arg(&lxc)
                    .arg("-f")
                    .arg("-n")
                    .arg(c.file_name().unwrap()),
            );
        }
        for runtime in ["crun", "runc"] {
            let root = self.path().join("run").join(runtime);
            for c in entries(root.clone()) {
                quietly(
                    Command::new(runtime)
                        .arg("--root")
                        .arg(&root)
                        .args(["delete", "--force"])
                        .arg(c.file_name().unwrap()),
                );
            }
        }
        for kind in entries(self.path().join("state/oci")) {
            for bundle in entries(kind) {
                let _ = guestkit::backend::oci::overlay::unmount(&bundle.join("rootfs"));
            }
        }
        // The containers' networks, then the networks' bridges and rules.
        let nets = guestkit::backend::net::Nets::at(&self.path().join("state"));
        let out = guestkit::output::Output::new("test", None, None);
        for name in nets.attached() {
            let _ = nets.detach(&name, &out);
        }
        if let Err(e) = nets.remove_all(&out) {
            eprintln!("could not remove the test's networks: {}", e.message);
        }
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("guestkit-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("lxc")).unwrap();
        let env = TestEnv {
            dir,
            path_env: std::env::var("PATH").unwrap_or_default(),
            network: false,
            own_cache: false,
        };
        env.write_config("");
        env
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The bridge of this test's network: its own, removed with it.
    pub fn bridge(&self) -> String {
        let name = self.path().file_name().unwrap().to_string_lossy();
        let unique: String = name.chars().rev().take(8).collect();
        format!("gkt{unique}")
    }

    /// An environment with a cache of its own: for tests of what is kept
    /// there (pulled images).
    pub fn with_cache() -> TestEnv {
        let mut env = TestEnv::new();
        env.own_cache = true;
        env
    }

    /// Its cache directory.
    pub fn cache(&self) -> PathBuf {
        match self.own_cache {
            true => self.path().join("cache"),
            false => cache_dir(),
        }
    }

    /// An environment whose new containers join a network by default, as
    /// with no config: the built-in network `guestkit`, on a bridge of the
    /// test's own (`extra` is more of the config).
    pub fn with_network(extra: &str) -> TestEnv {
        let mut env = TestEnv::new();
        let net = env.networked();
        env.write_config(&format!("{net}{extra}"));
        env
    }

    /// Lets this environment's containers join a network (see
    /// `with_network`); the configuration's section that defines it, for
    /// the caller's config.
    pub fn networked(&mut self) -> String {
        self.network = true;
        format!("[networks.guestkit]\nbridge = \"{}\"\n", self.bridge())
    }

    /// The spare roots `ctr-run --rm` left mounted, as paths.
    pub fn spares(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.path().join("state/oci/spare")) {
            Ok(d) => d.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn lxc_dir(&self, name: &str) -> PathBuf {
        self.path().join("lxc").join(name)
    }

    /// Where a backend keeps a container: LXC's directory, an OCI bundle.
    pub fn container_dir(&self, backend: &str, name: &str) -> PathBuf {
        match backend {
            "lxc" => self.lxc_dir(name),
            runtime => self.path().join("state/oci").join(runtime).join(name),
        }
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.path().join("config.toml"), text).unwrap();
    }

    /// A tool, in the hermetic environment.
    pub fn cmd(&self, tool: &str) -> Command {
        self.program(bin(tool), &self.path_env)
    }

    /// Any program (a shell) in the hermetic environment, with the tools first on PATH.
    pub fn shell(&self, program: &str) -> Command {
        let bins = bin("ctr-list").parent().unwrap().display().to_string();
        self.program(PathBuf::from(program), &format!("{bins}:{}", self.path_env))
    }

    fn program(&self, program: PathBuf, path: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", path)
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("xdg"))
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("COLUMNS", "100")
            .env("GUESTKIT_CONFIG", self.path().join("config.toml"))
            .env("GUESTKIT_LXC_PATH", self.path().join("lxc"))
            .env("GUESTKIT_CACHE_DIR", self.cache())
            .env("GUESTKIT_STATE_DIR", self.path().join("state"))
            .env("GUESTKIT_OCI_ROOT", self.path().join("run"))
            .current_dir(self.path())
            .stdin(Stdio::null());
        if !self.network {
            c.env("GUESTKIT_NETWORK", "none");
        }
        // A coverage run (scripts/coverage) needs the tools it starts to
        // write their profiles too.
        if let Some(profile) = std::env::var_os("LLVM_PROFILE_FILE") {
            c.env("LLVM_PROFILE_FILE", profile);
        }
        c
    }

    /// Runs a tool with arguments and returns its snapshot text.
    pub fn run(&self, tool: &str, args: &[&str]) -> String {
        self.run_cmd(self.cmd(tool).args(args), None)
    }

    /// Runs a tool with `input` on stdin.
    pub fn run_stdin(&self, tool: &str, args: &[&str], input: &str) -> String {
        self.run_cmd(self.cmd(tool).args(args), Some(input))
    }

    pub fn run_cmd(&self, cmd: &mut Command, input: Option<&str>) -> String {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let what = format!("{cmd:?}");
        let mut child = cmd.spawn().expect("spawn tool");
        if let Some(text) = input {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(text.as_bytes()).unwrap();
        }
        let out = wait_output(child, DEADLINE, &what);
        format!(
            "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            out.status.code().map_or("signal".into(), |c| c.to_string()),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Runs a tool for its effect; panics when it fails.
    pub fn ok(&self, tool: &str, args: &[&str]) {
        let out = output(self.cmd(tool).args(args));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The stdout of a tool that must succeed.
    pub fn stdout(&self, tool: &str, args: &[&str]) -> String {
        let out = output(self.cmd(tool).args(args));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// What snapshots hide, in order: this test's own paths first, then
    /// what changes from run to run (PIDs, times, byte counts).
    pub fn filters(&self) -> Vec<(String, String)> {
        let mut f = vec![
            (
                regex::escape(&self.path().display().to_string()),
                "[TEMP]".into(),
            ),
            (
                regex::escape(&self.cache().display().to_string()),
                "[CACHE]".into(),
            ),
        ];
        f.extend(
            [
                (r#""pid":\d+"#, r#""pid":"[PID]""#),
                (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
                (r#""(memory_bytes|cpu_time_s)":[0-9.e-]+"#, r#""$1":"[N]""#),
                (r"busybox-\d+-\d+", "busybox-[KEY]"),
                (r"veth[0-9A-Za-z]{6}", "veth[RANDOM]"),
            ]
            .map(|(re, with)| (re.to_string(), with.to_string())),
        );
        // The test's network: its bridge, and the subnet chosen for it.
        f.push((regex::escape(&self.bridge()), "[BRIDGE]".into()));
        if let Some(prefix) = self
            .subnet()
            .as_deref()
            .and_then(|s| s.strip_suffix(".0/24"))
        {
            f.push((format!(r"\b{}\.", regex::escape(prefix)), "[NET].".into()));
        }
        f
    }

    /// The subnet chosen for the test's network, once it is made.
    pub fn subnet(&self) -> Option<String> {
        let p = self
            .path()
            .join("state/net/networks")
            .join(format!("{}.json", self.bridge()));
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
        v["subnet"].as_str().map(str::to_string)
    }
}

/// The busybox image cache, shared by all tests (it is built atomically).
fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("guestkit-test-cache")
}

pub fn bin(tool: &str) -> PathBuf {
    assert_cmd::cargo::cargo_bin(tool)
}

/// How long any one program a test runs may take before the test fails
/// saying which; far more than any takes here, so it never trips on a slow
/// machine, and a hang is a failure instead of a stuck suite.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// Waits for a child's output, killing it and failing with `what` when it
/// has not ended by `deadline`.
pub fn wait_output(
    child: std::process::Child,
    deadline: std::time::Duration,
    what: &str,
) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(deadline) {
        Ok(out) => out.expect("wait for a child"),
        Err(_) => {
            // SAFETY: signalling our own child, which has not been reaped.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{what} did not end within {deadline:?}");
        }
    }
}

/// A snapshot of a whole run (exit code, stdout and stderr), redacted by
/// insta with the filters of the environment it ran in.
#[macro_export]
macro_rules! snap {
    ($env:expr, $name:expr, $value:expr) => {{
        let filters = $env.filters();
        let filters: Vec<(&str, &str)> = filters
            .iter()
            .map(|(re, with)| (re.as_str(), with.as_str()))
            .collect();
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            omit_expression => true,
            filters => filters,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    }};
}

/// Runs `ctr-run ... -- sh -c 'echo started; sleep 1000'` in the foreground,
/// sends SIGTERM to ctr-run alone once the command has started, and returns
/// ctr-run's exit code: guestkit must pass the signal on and clean up.
pub fn term_foreground_run(env: &TestEnv, args: &[&str]) -> Option<i32> {
    use std::io::BufRead;
    let mut child = env
        .cmd("ctr-run")
        .args(args)
        .args(["--", "sh", "-c", "echo started; sleep 1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let Ok(line) = rx.recv_timeout(DEADLINE) else {
        // SAFETY: signalling our own child process, not yet reaped.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        panic!("ctr-run {args:?} printed nothing within {DEADLINE:?}");
    };
    if line != "started\n" {
        let what = format!("ctr-run {args:?}");
        let out = wait_output(child, DEADLINE, &what);
        panic!(
            "{what} printed {line:?}, not \"started\": {}; stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // SAFETY: signalling our own child process, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let what = format!("ctr-run {args:?} after SIGTERM");
    wait_output(child, DEADLINE, &what).status.code()
}

/// How long a container may take to reach a state it was sent to (stopped,
/// removed, its log written): seconds here, so ten is ample.
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Polls `done` until it holds; fails saying what it waited for when
/// `limit` passes first.
pub fn wait_for(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "waited {limit:?} for {what}, in vain"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `cmd.output()`, failing the test when it has not ended by `DEADLINE`.
pub fn output(cmd: &mut Command) -> std::process::Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let what = format!("{cmd:?}");
    wait_output(cmd.spawn().expect("spawn"), DEADLINE, &what)
}

/// `cmd.status()`, failing the test when it has not ended by `DEADLINE`.
pub fn status(cmd: &mut Command) -> std::process::ExitStatus {
    let what = format!("{cmd:?}");
    wait_output(cmd.spawn().expect("spawn"), DEADLINE, &what).status
}

/// A terminal for a test: a tmux server of its own running `sh` in the
/// test's environment (tools first on PATH), 120x40. Its server is killed
/// when it is dropped, also when the test fails half-way.
pub struct Term<'a> {
    env: &'a TestEnv,
    socket: String,
}

impl<'a> Term<'a> {
    /// A terminal, or `None` (the test skipped) where tmux is missing.
    pub fn new(env: &'a TestEnv) -> Option<Term<'a>> {
        if which("tmux").is_none() {
            assert!(
                std::env::var_os("GUESTKIT_REQUIRE_ALL").is_none(),
                "tmux is required here (GUESTKIT_REQUIRE_ALL) but not installed"
            );
            eprintln!("skipped: tmux is not installed");
            return None;
        }
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = Term {
            env,
            socket: format!("gk{}-{n}", std::process::id()),
        };
        t.tmux(&["new-session", "-d", "-x", "120", "-y", "40", "sh"]);
        t.send(&["PS1='$ '; clear", "Enter"]);
        Some(t)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let o = output(self.env.shell("tmux").args(["-L", &self.socket]).args(args));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Types keys, as tmux send-keys names them (`Enter`, `Space`, `C-c`).
    pub fn send(&self, keys: &[&str]) {
        self.tmux(&[&["send-keys"], keys].concat());
    }

    /// Types a command line and Enter, and has the shell print its exit
    /// code after it (`rc=N`).
    pub fn command(&self, line: &str) {
        self.send(&[&format!("{line}; echo rc=$?"), "Enter"]);
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// Waits for the screen to show `want`, failing with the screen when it
    /// has not within `SETTLE`; the screen that showed it.
    pub fn wait(&self, want: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(want) {
                return screen;
            }
            assert!(
                start.elapsed() < SETTLE,
                "the terminal never showed {want:?}; it shows:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Clears the screen, so that the next `wait` sees only what comes after.
    pub fn clear(&self) {
        self.send(&["clear", "Enter"]);
        self.tmux(&["clear-history"]);
        let start = std::time::Instant::now();
        while self.screen().trim() != "$" {
            assert!(start.elapsed() < SETTLE, "the terminal never cleared");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Term<'_> {
    fn drop(&mut self) {
        let _ = self
            .env
            .shell("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Whether a program a test needs is installed; when not, the test is
/// skipped with the package to install, or fails under GUESTKIT_REQUIRE_ALL.
pub fn need(program: &str, package: &str) -> bool {
    if which(program).is_some() {
        return true;
    }
    assert!(
        std::env::var_os("GUESTKIT_REQUIRE_ALL").is_none(),
        "{program} is required here (GUESTKIT_REQUIRE_ALL) but not installed ({package})"
    );
    eprintln!("skipped: {program} is not installed ({package})");
    false
}
