//! Running backend programs: found with `which`, run with std::process, never
//! through a shell; traced with --verbose, failures turned into errors.
//! (Not duct: its capture costs a reader thread per pipe, which measured about
//! 2.5 ms more per ctr-list than std's single-threaded `output()`.)

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::PathBuf;

/// A program a backend needs, and the package that provides it.
pub struct Tool {
    pub program: &'static str,
    pub package: &'static str,
}

impl Tool {
    pub fn find(&self) -> Result<PathBuf> {
        which::which(self.program).map_err(|_| {
            Error::unavailable(format!(
                "{} is not installed (not found on PATH)",
                self.program
            ))
            .with_hint(format!(
                "install the {} package, e.g. 'apt-get install {}'",
                self.package, self.package
            ))
        })
    }
}

/// What a finished program said.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

pub fn show(program: &str, args: &[OsString]) -> String {
    let mut s = program.to_string();
    for a in args {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$`*?".contains(c)) {
            s.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Runs a program to completion, capturing its output.
pub fn capture(
    program: &std::path::Path,
    args: Vec<OsString>,
    trace: &dyn Fn(&str),
) -> Result<Outcome> {
    trace(&format!(
        "+ {}",
        show(&program.display().to_string(), &args)
    ));
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::failed(format!(
                "cannot run {}: {}",
                program.display(),
                crate::error::plain_io(&e)
            ))
        })?;
    trace(&format!("  exit {}", exit_code(&out.status)));
    Ok(Outcome {
        code: exit_code(&out.status),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs a program with the caller's stdin, stdout and stderr; returns its exit code.
pub fn interactive(
    program: &std::path::Path,
    args: Vec<OsString>,
    trace: &dyn Fn(&str),
) -> Result<i32> {
    trace(&format!(
        "+ {}",
        show(&program.display().to_string(), &args)
    ));
    let status = std::process::Command::new(program)
        .args(args)
        .status()
        .map_err(|e| {
            Error::failed(format!(
                "cannot run {}: {}",
                program.display(),
                crate::error::plain_io(&e)
            ))
        })?;
    Ok(exit_code(&status))
}

/// A process's exit code, with death by signal N as 128+N as shells report it.
pub fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
