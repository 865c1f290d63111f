//! What every tool's `main` does: parse, load config, run, and turn the result
//! into an exit code. Panics become a one-line internal error.

use crate::backend::{self, Backend};
use crate::cli::help;
use crate::cli::parse::{Matches, Parsed, parse};
use crate::cli::spec::Command;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::guest::record::{ActionResult, Status};
use crate::guest::target::Target;
use crate::output::{Column, Output, col};
use std::path::Path;

/// Everything a tool's `run` needs.
pub struct Ctx {
    pub cmd: &'static Command,
    pub m: Matches,
    pub out: Output,
    pub cfg: Config,
}

/// Tools that run a command in a guest (ctr-exec, ctr-run) exit with its
/// code, so their own failures use the container-engine codes: 125 the tool
/// failed, 126 the command could not be run, 127 it was not found.
pub fn engine_failure(e: Error) -> Error {
    // Usage errors keep code 2, as parse errors (unknown flags) do.
    if e.exit.is_some() || e.kind == crate::error::Kind::Usage {
        e
    } else {
        e.with_exit(125)
    }
}

pub type RunFn = fn(&Ctx) -> Result<u8>;

/// A tool binary's entry point: `guestkit::tool!(ctr::list);` in a
/// `#![no_main]` file defines the C `main` that runs `cmd::ctr::list`.
///
/// Why not Rust's `fn main`: std's start-up reads /proc/self/maps to place
/// a guard for the main thread's stack, which here is a tenth of a
/// millisecond of every run (measured in docs/benchmarks.md) for a message
/// on stack overflow, which then is a plain SIGSEGV. The rest of that
/// start-up, which the tools rely on, is done by `main` below. The arguments
/// are taken from `main`'s own: `std::env::args` without std's start-up
/// works only where glibc hands them to it.
#[macro_export]
macro_rules! tool {
    ($kind:ident :: $cmd:ident) => {
        #[unsafe(no_mangle)]
        extern "C" fn main(
            argc: ::std::ffi::c_int,
            argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            // SAFETY: these are the C runtime's own argc and argv.
            let args = unsafe { $crate::run::c_args(argc, argv) };
            $crate::run::main(
                &$crate::cmd::$kind::$cmd::SPEC,
                $crate::cmd::$kind::$cmd::run,
                args,
            )
        }
    };
}

/// The arguments after the program name.
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings, as C's `main` gets.
pub unsafe fn c_args(
    argc: std::ffi::c_int,
    argv: *const *const std::ffi::c_char,
) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    (1..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: the caller promises argc valid strings.
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
        })
        .collect()
}

/// What std's start-up does that the tools need: writing to a closed pipe
/// is an EPIPE error, not death by SIGPIPE (std's runtime children still
/// start with SIGPIPE's default), and a closed stdin, stdout or stderr is
/// /dev/null, so that no file opened later becomes one of them. As in std,
/// a process that cannot even open /dev/null aborts. (std asks with one
/// poll; three fcntl calls cost a microsecond more and need no fallback.)
fn process_setup() {
    // SAFETY: plain system calls on the process's own descriptors and signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        for fd in 0..3 {
            let closed = libc::fcntl(fd, libc::F_GETFD) == -1
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
            // open gives the lowest free descriptor: this one, as the lower
            // ones are open by now.
            if closed && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) != fd {
                std::process::abort();
            }
        }
    }
}

/// The whole life of a tool process, given its arguments after the program
/// name. Never returns.
pub fn main(cmd: &'static Command, run: RunFn, args: Vec<std::ffi::OsString>) -> ! {
    let _ = crate::output::START.set(std::time::Instant::now());
    process_setup();
    let name = cmd.name;
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unexpected failure".into());
        eprintln!("{name}: internal error: {msg}");
        eprintln!("  hint: this is a bug in guestkit; please report it with the command you ran");
        std::process::exit(if cmd.trailing.is_some() { 125 } else { 1 });
    }));
    let code = start(cmd, run, args);
    std::process::exit(code.into())
}

fn start(cmd: &'static Command, run: RunFn, args: Vec<std::ffi::OsString>) -> u8 {
    let own_failure = |e: &Error| e.exit_code();
    let mut out = Output::new(cmd.name, None, None);
    let m = match parse(cmd, args) {
        Ok(Parsed::Help) => {
            out.write(&help::help(cmd));
            return 0;
        }
        Ok(Parsed::Version) => {
            out.write(&help::version(cmd));
            return 0;
        }
        Ok(Parsed::Run(m)) => m,
        Err(e) => {
            out.error(None, &e);
            return own_failure(&e);
        }
    };
    if let Some(kind) = m.value("generate") {
        out.write(&match kind {
            "man" => crate::cli::man::page(cmd),
            "bash" => crate::cli::complete::bash(cmd),
            "zsh" => crate::cli::complete::zsh(cmd),
            "fish" => crate::cli::complete::fish(cmd),
            _ => crate::cli::complete::nu(),
        });
        return 0;
    }
    out = Output::new(cmd.name, m.value("output"), m.value("color"));
    out.quiet = m.flag("quiet");
    out.verbose = m.flag("verbose");
    let cfg = match Config::load(m.value("config").map(Path::new)) {
        Ok(c) => c,
        Err(e) => {
            out.error(None, &e);
            return own_failure(&e);
        }
    };
    let ctx = Ctx { cmd, m, out, cfg };
    match run(&ctx) {
        Ok(code) => code,
        Err(e) => {
            ctx.out.error(None, &e);
            own_failure(&e)
        }
    }
}

impl Ctx {
    pub fn backend_flag(&self) -> Option<&str> {
        self.m.value("backend")
    }

    pub fn jobs(&self) -> Result<usize> {
        match self.m.number::<usize>("jobs")? {
            Some(0) => Err(Error::usage("--jobs must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(1),
        }
    }

    /// The targets from arguments or stdin; a usage error when there are none
    /// and stdin is a terminal.
    pub fn targets(&self) -> Result<Vec<Target>> {
        crate::guest::target::collect(&self.m.positionals, &self.out)?.ok_or_else(|| {
            Error::usage("no container named").with_hint(format!(
                "give names as arguments, or pipe them in: ctr-list | {}",
                self.cmd.name
            ))
        })
    }

    /// The backend holding a target: the one the target or --backend names, else a lookup.
    pub fn locate(&self, t: &Target) -> Result<Box<dyn Backend>> {
        // An input record's backend and --backend must agree: acting on a
        // container of another backend than the one asked for is never meant.
        if let (Some(b), Some(f)) = (&t.backend, self.backend_flag())
            && b != f
        {
            return Err(Error::invalid(format!(
                "the input names backend {b}, but --backend names {f}"
            ))
            .with_hint(format!(
                "to act on one backend's containers, filter the list: ctr-list -b {f} | {}",
                self.cmd.name
            )));
        }
        let named = t.backend.as_deref().or(self.backend_flag());
        backend::locate(&self.cfg, &t.name, named)
    }

    /// Runs an action on every target, `--jobs` at a time, printing one result
    /// per target in input order; the exit code says whether any failed.
    pub fn act<F>(&self, action: &'static str, targets: Vec<Target>, f: F) -> Result<u8>
    where
        F: Fn(&Target) -> Result<Done> + Sync,
    {
        let jobs = self.jobs()?;
        crate::output::keep_going_when_stdout_closes();
        let mut results = self.out.stream(ACTION_COLUMNS);
        let mut codes = Vec::new();
        crate::jobs::run_ordered(targets, jobs, &f, |t, r: Result<Done>| {
            let rec = match r {
                Ok(d) => ActionResult::ok(&t.name, d.backend, action, d.changed, d.status),
                Err(e) => {
                    self.out.error(Some(&t.name), &e);
                    codes.push(e.exit_code());
                    let b = self.locate(t).ok().map(|b| b.name()).or_else(|| {
                        let named = t.backend.as_deref().or(self.backend_flag())?;
                        backend::NAMES.iter().find(|x| **x == named).copied()
                    });
                    ActionResult::failed(&t.name, b, action, &e)
                }
            };
            results.push(rec);
        });
        results.finish();
        Ok(crate::error::exit_code_of(codes))
    }
}

/// What an action did to one target.
pub struct Done {
    pub backend: &'static str,
    pub changed: bool,
    pub status: Option<Status>,
}

pub const ACTION_COLUMNS: &[Column] = &[
    col("NAME", "name"),
    col("BACKEND", "backend"),
    col("ACTION", "action"),
    col("OK", "ok"),
    col("CHANGED", "changed"),
    col("STATUS", "status"),
    col("ERROR", "error"),
];
