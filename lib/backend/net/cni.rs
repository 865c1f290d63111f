//! Running CNI plugins (the containernetworking-plugins package): one exec
//! per plugin, its configuration on stdin and the operation in CNI_*
//! variables, its result (or error) as JSON on stdout. The caller chains
//! them, as the CNI specification leaves to the runtime.

use crate::error::{Error, Result};
use crate::output::Output;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The CNI version guestkit speaks (plugins 1.0 and later).
pub const VERSION: &str = "1.0.0";

/// Where distributions install the plugins: Debian's package, then the
/// upstream release's place.
const DIRS: &[&str] = &["/usr/lib/cni", "/opt/cni/bin"];

/// The directory holding the plugins, or why there is none.
pub fn plugin_dir() -> Result<PathBuf> {
    DIRS.iter()
        .map(PathBuf::from)
        .find(|d| d.join("bridge").is_file() && d.join("host-local").is_file())
        .ok_or_else(|| {
            Error::unavailable(format!(
                "the CNI plugins are not installed (no bridge and host-local in {})",
                DIRS.join(" or ")
            ))
            .with_hint("install the containernetworking-plugins package, e.g. 'apt-get install containernetworking-plugins', or use --network none")
        })
}

/// One plugin call: ADD or DEL of a container's interface.
pub struct Call<'a> {
    /// The plugin directory (`plugin_dir`).
    pub dir: &'a Path,
    /// ADD or DEL.
    pub command: &'a str,
    /// The container's ID, which the plugins key their state by.
    pub id: &'a str,
    /// Its network namespace; `None` for a DEL after the namespace is gone.
    pub netns: Option<&'a Path>,
    /// The interface in it (eth0, lo).
    pub ifname: &'a str,
    /// CNI_ARGS, e.g. `IgnoreUnknown=1;IP=10.77.0.5`.
    pub args: Option<String>,
}

/// The failure of a plugin: its own message, with its code.
#[derive(Debug)]
pub struct Failure {
    /// The plugin's message (CNI's `msg`, with `details` when given).
    pub message: String,
}

impl Call<'_> {
    /// Runs plugin `config["type"]` with `config` on stdin; its result.
    pub fn run(&self, config: &Value, out: &Output) -> Result<std::result::Result<Value, Failure>> {
        let kind = config["type"].as_str().unwrap_or("bridge");
        let program = self.dir.join(kind);
        let mut env = vec![
            ("CNI_COMMAND", self.command.to_string()),
            ("CNI_CONTAINERID", self.id.to_string()),
            ("CNI_IFNAME", self.ifname.to_string()),
            ("CNI_PATH", self.dir.display().to_string()),
        ];
        if let Some(n) = self.netns {
            env.push(("CNI_NETNS", n.display().to_string()));
        }
        if let Some(a) = &self.args {
            env.push(("CNI_ARGS", a.clone()));
        }
        out.trace(&format!(
            "+ {} {} <{}",
            env.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            program.display(),
            config
        ));
        // A DEL may be the cleanup after Ctrl-C (see `os::process::command`).
        let mut child = crate::os::process::command(&program)
            .envs(env)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| crate::os::process::cannot_run(&program, e))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(config.to_string().as_bytes());
        }
        let done = child
            .wait_with_output()
            .map_err(|e| crate::os::process::cannot_run(&program, e))?;
        let stdout = String::from_utf8_lossy(&done.stdout);
        out.trace(&format!(
            "{} exited with {}",
            program.display(),
            crate::os::process::exit_code(&done.status)
        ));
        if done.status.success() {
            if stdout.trim().is_empty() {
                return Ok(Ok(Value::Null)); // DEL prints nothing
            }
            return serde_json::from_str(&stdout).map(Ok).map_err(|e| {
                Error::failed(format!(
                    "the CNI plugin {kind} printed something unexpected: {e}"
                ))
            });
        }
        let failure: Option<Value> = serde_json::from_str(&stdout).ok();
        let message = match failure {
            Some(v) => {
                let msg = v["msg"].as_str().unwrap_or("no message").to_string();
                match v["details"].as_str().filter(|d| !d.is_empty()) {
                    Some(d) => format!("{msg}: {d}"),
                    None => msg,
                }
            }
            None => {
                let stderr = String::from_utf8_lossy(&done.stderr);
                let text = if stdout.trim().is_empty() {
                    stderr
                } else {
                    stdout
                };
                text.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("no output")
                    .trim()
                    .to_string()
            }
        };
        Ok(Err(Failure { message }))
    }
}
