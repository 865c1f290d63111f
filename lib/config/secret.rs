//! Secrets (token secrets, passwords): read from the config, a file or a
//! command, and kept in a type that never prints its value, so a secret
//! cannot reach output, errors or `--verbose` traces by accident.

use crate::error::{Error, Result};
use std::path::Path;

#[derive(Clone)]
pub struct Secret(String);

impl Secret {
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
/// `key_command` (run by sh; its stdout, without the final newline).
pub fn resolve(
    key: &str,
    inline: Option<&str>,
    file: Option<&Path>,
    command: Option<&str>,
) -> Result<Option<Secret>> {
    if let Some(s) = inline {
        return Ok(Some(Secret::new(s)));
    }
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).map_err(|e| {
            Error::invalid(format!(
                "cannot read proxmox.{key}_file {}: {}",
                f.display(),
                crate::error::plain_io(&e)
            ))
        })?;
        return Ok(Some(Secret::new(text.trim_end_matches(['\n', '\r']))));
    }
    if let Some(c) = command {
        let out = std::process::Command::new("sh")
            .args(["-c", c])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| {
                Error::unavailable(format!(
                    "cannot run proxmox.{key}_command: {}",
                    crate::error::plain_io(&e)
                ))
            })?;
        // Its stdout is the secret: never quote it, not even in an error.
        if !out.status.success() {
            return Err(Error::denied(format!(
                "proxmox.{key}_command failed ({}); no {key} to log in with",
                out.status
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        return Ok(Some(Secret::new(text.trim_end_matches(['\n', '\r']))));
    }
    Ok(None)
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
        let got = |i, f: Option<&Path>, c| resolve("token", i, f, c).unwrap().unwrap();
        assert_eq!(got(Some("inline"), Some(&f), None).expose(), "inline");
        assert_eq!(got(None, Some(&f), None).expose(), "from-file");
        assert_eq!(got(None, None, Some("echo from-cmd")).expose(), "from-cmd");
        let e = resolve("token", None, None, Some("echo leaked; exit 3")).unwrap_err();
        assert!(!e.message.contains("leaked"), "{}", e.message);
        assert!(resolve("token", None, None, None).unwrap().is_none());
    }
}
