//! Running backend programs: found with `which`, run with std::process, never
//! through a shell; traced with --verbose, failures turned into errors.
//! (Not duct: its capture costs a reader thread per pipe, which measured about
//! 2.5 ms more per ctr-list than std's single-threaded `output()`.)

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::PathBuf;

/// A program a backend needs, and the package that provides it.
pub struct Tool {
    /// The program's name, looked up on PATH.
    pub program: &'static str,
    /// The package that provides it, named in the hint when it is missing.
    pub package: &'static str,
}

impl Tool {
    /// A program and its package, for a `static` or `const`.
    pub const fn new(program: &'static str, package: &'static str) -> Tool {
        Tool { program, package }
    }

    /// The program's path, looked up once per process.
    pub fn find(&self) -> Result<PathBuf> {
        use std::collections::HashMap;
        use std::sync::{Mutex, OnceLock};
        static FOUND: OnceLock<Mutex<HashMap<&'static str, Option<PathBuf>>>> = OnceLock::new();
        let cache = FOUND.get_or_init(Default::default);
        let found = {
            let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(self.program)
                .or_insert_with(|| which::which(self.program).ok())
                .clone()
        };
        found.ok_or_else(|| {
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
    /// The exit code; 128+N when signal N ended it.
    pub code: i32,
    /// All it printed on stdout, invalid UTF-8 replaced.
    pub stdout: String,
    /// All it printed on stderr, invalid UTF-8 replaced.
    pub stderr: String,
}

impl Outcome {
    /// Whether it exited with code 0.
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

/// A command line as --verbose traces it: the program and its arguments,
/// those that are empty or hold whitespace or shell specials single-quoted.
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

/// The error for a program that could not be started at all.
pub fn cannot_run(program: &std::path::Path, e: std::io::Error) -> Error {
    Error::failed(format!(
        "cannot run {}: {}",
        program.display(),
        crate::error::plain_io(&e)
    ))
}

/// A program to start as the toolkit starts them: while cleaning up after
/// Ctrl-C, in a process group of its own, so that a second Ctrl-C does not
/// kill the cleanup.
pub fn command(program: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    if crate::os::signals::interrupted() {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd
}

/// A program started with its output captured, for work to be done meanwhile.
pub struct Running {
    child: std::process::Child,
    program: PathBuf,
}

/// Starts a program with stdin empty and stdout and stderr captured.
pub fn spawn_capture(
    program: &std::path::Path,
    args: Vec<OsString>,
    trace: &dyn Fn(&str),
) -> Result<Running> {
    trace(&format!(
        "+ {}",
        show(&program.display().to_string(), &args)
    ));
    let child = command(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| cannot_run(program, e))?;
    // ctr-list starts several of these before it reads any: a bigger pipe
    // lets a long list be written while an earlier program is waited for
    // (64 KiB is ~300 containers of `crun list`). Refused without privilege
    // above /proc/sys/fs/pipe-max-size; then the default stays.
    if let Some(stdout) = &child.stdout {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a pipe descriptor this process owns.
        unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
    }
    Ok(Running {
        child,
        program: program.to_path_buf(),
    })
}

impl Running {
    /// Waits for the program and collects what it printed.
    pub fn finish(self, trace: &dyn Fn(&str)) -> Result<Outcome> {
        let out = self
            .child
            .wait_with_output()
            .map_err(|e| cannot_run(&self.program, e))?;
        trace(&exited(&self.program, exit_code(&out.status)));
        Ok(Outcome {
            code: exit_code(&out.status),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Runs a program to completion, capturing its output.
pub fn capture(
    program: &std::path::Path,
    args: Vec<OsString>,
    trace: &dyn Fn(&str),
) -> Result<Outcome> {
    spawn_capture(program, args, trace)?.finish(trace)
}

/// Runs a program with the caller's stdin, stdout and stderr; returns its exit code.
pub fn interactive(
    program: &std::path::Path,
    args: Vec<OsString>,
    trace: &dyn Fn(&str),
) -> Result<i32> {
    interactive_meanwhile(program, args, trace, &|| {}, &|| {})
}

/// `interactive`, doing `meanwhile` after the program has started and before
/// waiting for it: work that would otherwise cost the user time of its own;
/// and `on_signal` each time a signal (Ctrl-C, the alarm) comes while it
/// waits.
pub fn interactive_meanwhile(
    program: &std::path::Path,
    args: Vec<OsString>,
    trace: &dyn Fn(&str),
    meanwhile: &dyn Fn(),
    on_signal: &dyn Fn(),
) -> Result<i32> {
    trace(&format!(
        "+ {}",
        show(&program.display().to_string(), &args)
    ));
    let child = std::process::Command::new(program)
        .args(args)
        .spawn()
        .map_err(|e| cannot_run(program, e))?;
    crate::os::signals::forward_to(child.id());
    meanwhile();
    let code = wait(child.id(), on_signal).map_err(|e| cannot_run(program, e));
    crate::os::signals::forward_to(0);
    let code = code?;
    trace(&exited(program, code));
    Ok(code)
}

/// Waits for a child of ours, calling `on_signal` at every signal that
/// comes meanwhile (std's `wait` would go on waiting through them): its exit
/// code, 128+N when a signal ended it, as shells report it.
///
/// The signals are blocked but while `sigsuspend` waits, so that none can
/// come between the look at the child and the wait and be missed.
fn wait(pid: u32, on_signal: &dyn Fn()) -> std::io::Result<i32> {
    use crate::os::signals;
    let (mut old, mut status) = (signals::block_while_waiting(), 0);
    let result = loop {
        // SAFETY: waitpid on our own child, with a status word of ours.
        match unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) } {
            -1 => break Err(std::io::Error::last_os_error()),
            0 => {}
            _ => break Ok(()),
        }
        on_signal();
        // SAFETY: sigsuspend with the mask saved above; it returns after a
        // handler (SIGCHLD's included) has run.
        unsafe { libc::sigsuspend(&old) };
    };
    signals::unblock(&mut old);
    result?;
    Ok(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    })
}

/// The --verbose line for a program that ended: "  crun exit 0".
fn exited(program: &std::path::Path, code: i32) -> String {
    let name = program.file_name().unwrap_or_default().to_string_lossy();
    format!("  {name} exit {code}")
}

/// A process's exit code, with death by signal N as 128+N as shells report it.
pub fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// What /proc/PID/stat says of a process that the toolkit needs: the pid and
/// the start time together name one process for its whole life (a pid alone
/// is reused), and the state tells a zombie from a live one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// The state letter: R, S, D, T, Z (zombie), X (dead), …
    pub state: char,
    /// When it started, in clock ticks after boot.
    pub start_ticks: u64,
}

impl ProcStat {
    /// Process `pid`'s, or `None` when there is no such process.
    pub fn of(pid: u32) -> Option<ProcStat> {
        ProcStat::parse(&crate::os::file::read_small(
            format!("/proc/{pid}/stat").as_ref(),
        )?)
    }

    /// A /proc/PID/stat line's. The command, in parentheses, may hold
    /// spaces and parentheses itself: the fields are counted after its last `)`.
    pub fn parse(line: &str) -> Option<ProcStat> {
        let mut fields = line.get(line.rfind(')')? + 1..)?.split_whitespace();
        let state = fields.next()?.chars().next()?;
        // Field 22 of the line; the state was field 3.
        let start_ticks = fields.nth(18)?.parse().ok()?;
        Some(ProcStat { state, start_ticks })
    }

    /// Whether it has ended (a zombie not yet reaped has).
    pub fn ended(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

#[cfg(test)]
mod tests {
    use super::ProcStat;

    #[test]
    fn proc_stat_lines_recorded() {
        // pid 1 of this machine, and a sleep whose command name is `a b)c`.
        let init = "1 (process_api) S 0 0 0 0 -1 4194560 440878 1385949084 0 411477 4354 19588 2065916 616128 10 -10 13 0 22 38612992 2401 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let odd = "8415 (a b)c) S 8410 8410 9998 0 -1 4194304 134 0 0 0 0 0 0 0 20 0 1 0 3463771 2990080 412 18446744073709551615 94610044354560 94610044372489 140729661909136 0 0 0 0 6 0 1 0 0 17 1 0 0 0 0 0 94610044386576 94610044387840 94610226176000 140729661917922 140729661917937 140729661917937 140729661919213 0\n";
        assert_eq!(
            ProcStat::parse(init),
            Some(ProcStat {
                state: 'S',
                start_ticks: 22
            })
        );
        assert_eq!(
            ProcStat::parse(odd),
            Some(ProcStat {
                state: 'S',
                start_ticks: 3463771
            })
        );
        assert_eq!(ProcStat::parse("8415 (cut"), None);
        assert!(
            ProcStat {
                state: 'Z',
                start_ticks: 1
            }
            .ended()
        );
        let me = ProcStat::of(std::process::id()).unwrap();
        assert!(!me.ended());
        assert_eq!(
            ProcStat::of(std::process::id()),
            Some(me),
            "the same process, the same start"
        );
    }
}
