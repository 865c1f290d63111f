//! Secrets (token secrets, passwords): read from the config, a file or a
//! command, and kept in a type that never prints its value, so a secret
//! cannot reach output, errors or `--verbose` traces by accident.

use crate::error::{Error, Result};
use std::path::Path;
use std::time::{Duration, Instant};

/// A secret's value: its `Debug` prints `Secret(***)`, and only `expose`
/// gives it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Holds `s` as a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Read from the config file as a plain string.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The secret `key` from the first source given: inline, `key_file`, or
/// `key_command` (run by sh; its stdout, without the final newline, within
/// `timeout`).
pub fn resolve(
    key: &str,
    inline: Option<&str>,
    file: Option<&Path>,
    command: Option<&str>,
    timeout: Duration,
) -> Result<Option<Secret>> {
    let (secret, from) = read(key, inline, file, command, timeout)?;
    match secret {
        // A header or form value cannot hold a line break: sent, it would
        // fail as a broken connection, or split the request.
        Some(s) if s.expose().contains(['\n', '\r', '\0']) => Err(Error::invalid(format!(
            "the Proxmox VE {key} ({from}) holds a line break or a NUL: a {key} is one line"
        ))
        .with_hint(
            "only line breaks at its end are dropped; check that it holds the secret alone",
        )),
        s => Ok(s),
    }
}

/// The secret, and where it came from, for errors.
fn read(
    key: &str,
    inline: Option<&str>,
    file: Option<&Path>,
    command: Option<&str>,
    timeout: Duration,
) -> Result<(Option<Secret>, String)> {
    if let Some(s) = inline {
        return Ok((
            Some(Secret::new(s.trim_end_matches(['\n', '\r']))),
            format!("GUESTKIT_PVE_{} or proxmox.{key}", key.to_uppercase()),
        ));
    }
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).map_err(|e| {
            Error::invalid(format!(
                "cannot read proxmox.{key}_file {}: {}",
                f.display(),
                crate::error::plain_io(&e)
            ))
        })?;
        return Ok((
            Some(Secret::new(text.trim_end_matches(['\n', '\r']))),
            format!("proxmox.{key}_file"),
        ));
    }
    if let Some(c) = command {
        let (status, stdout) = run_bounded(key, c, timeout)?;
        // Its stdout is the secret: never quote it, not even in an error.
        if !status.success() {
            return Err(Error::denied(format!(
                "proxmox.{key}_command failed ({status}); no {key} to log in with"
            )));
        }
        let text = String::from_utf8_lossy(&stdout);
        return Ok((
            Some(Secret::new(text.trim_end_matches(['\n', '\r']))),
            format!("proxmox.{key}_command"),
        ));
    }
    Ok((None, String::new()))
}

/// Runs a secret's command (by sh, in a process group of its own), and
/// kills it all when it has not ended within `timeout`: a hung password
/// manager must not hang every vm-* tool. Polled: a secret is a few bytes,
/// well within a pipe's buffer, so the command never waits for us to read.
fn run_bounded(
    key: &str,
    command: &str,
    timeout: Duration,
) -> Result<(std::process::ExitStatus, Vec<u8>)> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new("sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            Error::unavailable(format!(
                "cannot run proxmox.{key}_command: {}",
                crate::error::plain_io(&e)
            ))
        })?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().ok().flatten() {
            break status;
        }
        if Instant::now() >= deadline {
            // SAFETY: signalling the process group of our own child.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            return Err(Error::timeout(format!(
                "proxmox.{key}_command did not finish within {} s",
                timeout.as_secs_f64()
            ))
            .with_hint("check the command by hand, or raise proxmox.timeout"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_end(&mut out);
    }
    Ok((status, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed_and_read_from_each_source() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t");
        std::fs::write(&f, "from-file\n").unwrap();
        let t = Duration::from_secs(5);
        let got = |i, f: Option<&Path>, c| resolve("token", i, f, c, t).unwrap().unwrap();
        assert_eq!(got(Some("inline"), Some(&f), None).expose(), "inline");
        assert_eq!(got(None, Some(&f), None).expose(), "from-file");
        assert_eq!(got(None, None, Some("echo from-cmd")).expose(), "from-cmd");
        let e = resolve("token", None, None, Some("echo leaked; exit 3"), t).unwrap_err();
        assert!(!e.message.contains("leaked"), "{}", e.message);
        assert!(resolve("token", None, None, None, t).unwrap().is_none());
        let short = Duration::from_millis(200);
        let e = resolve("token", None, None, Some("sleep 30"), short).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Timeout);
    }
}
