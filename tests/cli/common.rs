//! The test environment: each test gets its own LXC container directory and
//! config in a temp dir, a cleared environment, and filters that redact what
//! changes from run to run (temp paths, PIDs, times, byte counts).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub path_env: String,
}

/// Why LXC tests cannot run here, if they cannot.
pub fn lxc_missing() -> Option<String> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    if which("lxc-ls").is_none() {
        return Some("lxc-ls is not installed (apt-get install lxc)".into());
    }
    if which("busybox").is_none() {
        return Some("busybox is not installed (apt-get install busybox-static)".into());
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

/// Why an OCI runtime cannot run tests here, if it cannot.
pub fn oci_missing(runtime: &str) -> Option<String> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    if which(runtime).is_none() {
        return Some(format!(
            "{runtime} is not installed (apt-get install {runtime})"
        ));
    }
    if which("busybox").is_none() {
        return Some("busybox is not installed (apt-get install busybox-static)".into());
    }
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    if runtime == "crun"
        && mounts
            .lines()
            .any(|l| l.contains(" /sys/fs/cgroup/unified cgroup2 "))
    {
        return Some("crun refuses cgroups in hybrid mode; run the tests in a private mount namespace without /sys/fs/cgroup/unified, as scripts/test-runner does for cargo test".into());
    }
    None
}

#[macro_export]
macro_rules! require_oci {
    ($runtime:expr) => {
        if let Some(why) = $crate::common::oci_missing($runtime) {
            if std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
                panic!(
                    "{} tests are required here (GUESTKIT_REQUIRE_ALL) but cannot run: {why}",
                    $runtime
                );
            }
            eprintln!("skipped: this test needs real {}: {why}", $runtime);
            return;
        }
    };
}

/// Skips the calling test when LXC cannot run, saying why; fails instead when
/// GUESTKIT_REQUIRE_ALL is set (as README's test command and so CI set it),
/// so CI never skips silently.
#[macro_export]
macro_rules! require_lxc {
    () => {
        if let Some(why) = $crate::common::lxc_missing() {
            if std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
                panic!("LXC tests are required here (GUESTKIT_REQUIRE_ALL) but cannot run: {why}");
            }
            eprintln!("skipped: this test needs real LXC: {why}");
            return;
        }
    };
}

impl Drop for TestEnv {
    /// Spare roots stay mounted after `ctr-run --rm` (and a failed test may
    /// leave a bundle's): unmounted here, the temp directory's removal does
    /// not reach into the image through them.
    fn drop(&mut self) {
        let oci = self.path().join("state/oci");
        for kind in std::fs::read_dir(oci).into_iter().flatten().flatten() {
            for bundle in std::fs::read_dir(kind.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let _ = guestkit::backend::oci::overlay::unmount(&bundle.path().join("rootfs"));
            }
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
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        TestEnv {
            dir,
            path_env: std::env::var("PATH").unwrap_or_default(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
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
            .env("GUESTKIT_CACHE_DIR", cache_dir())
            .env("GUESTKIT_STATE_DIR", self.path().join("state"))
            .env("GUESTKIT_OCI_ROOT", self.path().join("run"))
            .current_dir(self.path())
            .stdin(Stdio::null());
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
        let mut child = cmd.spawn().expect("spawn tool");
        if let Some(text) = input {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().expect("wait for tool");
        let text = format!(
            "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            out.status.code().map_or("signal".into(), |c| c.to_string()),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.redact(&text)
    }

    /// Runs a tool for its effect; panics when it fails.
    pub fn ok(&self, tool: &str, args: &[&str]) {
        let out = self.cmd(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The stdout of a tool that must succeed.
    pub fn stdout(&self, tool: &str, args: &[&str]) -> String {
        let out = self.cmd(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn redact(&self, text: &str) -> String {
        let mut t = text.replace(&self.path().display().to_string(), "[TEMP]");
        t = t.replace(&cache_dir().display().to_string(), "[CACHE]");
        for (re, with) in filters() {
            t = re.replace_all(&t, *with).into_owned();
        }
        t
    }
}

fn filters() -> &'static [(regex::Regex, &'static str)] {
    static F: std::sync::OnceLock<Vec<(regex::Regex, &'static str)>> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        [
            (r#""pid":\d+"#, r#""pid":"[PID]""#),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
            (r#""(memory_bytes|cpu_time_s)":[0-9.e-]+"#, r#""$1":"[N]""#),
            (r"busybox-\d+-\d+", "busybox-[KEY]"),
            (r"veth[0-9A-Za-z]{6}", "veth[RANDOM]"),
        ]
        .into_iter()
        .map(|(re, with)| (regex::Regex::new(re).unwrap(), with))
        .collect()
    })
}

/// The busybox image cache, shared by all tests (it is built atomically).
fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("guestkit-test-cache")
}

pub fn bin(tool: &str) -> PathBuf {
    assert_cmd::cargo::cargo_bin(tool)
}

/// A snapshot of a whole run: exit code, stdout and stderr.
#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!($name, $value);
        })
    };
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
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "started\n");
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap().code()
}
