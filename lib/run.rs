//! What every tool's `main` does: parse, load config, run, and turn the
//! result into an exit code; and the one path of every tool that acts on
//! guests: targets from its arguments or stdin, each resolved, acted on
//! `--jobs` at a time, one result per target in input order. It knows no
//! backend: a kind of guest comes in through `Resolver`. Panics become a
//! one-line internal error.

use crate::cli::args::{Common, FromMatches, Generate, Jobs};
use crate::cli::help;
use crate::cli::parse::{Parsed, parse};
use crate::cli::spec::{Command, Complete, Effect};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::guest::GuestKind;
use crate::guest::record::{ActionResult, Done, GuestId};
use crate::guest::target::{Target, from_lines, parse_arg};
use crate::output::{Column, Output, col};
use serde::Serialize;
use std::io::IsTerminal;

/// Everything a tool's `run` needs besides its own typed flags.
pub struct Ctx {
    /// The tool's spec.
    pub cmd: &'static Command,
    /// The flags every tool has.
    pub common: Common,
    /// The arguments that are not flags.
    pub positionals: Vec<String>,
    /// The command after `--`, for tools that run one.
    pub trailing: Vec<String>,
    /// Where records and messages go, as the common flags set it.
    pub out: Output,
    /// The configuration, from `--config` or the default locations.
    pub cfg: Config,
    /// Why the configuration did not load, for the one tool that runs
    /// without it (guestkit-doctor, which reports it); `cfg` is then the
    /// built-in defaults.
    pub config_error: Option<Error>,
    /// The guests of the tool's kind, for the picker.
    pub list: ListFn,
}

/// A guest a picker offers: how it is shown, and the target it becomes.
pub struct Choice {
    /// Its line in the picker: a container's name, backend and status, or a
    /// VM's VMID, name, node and status.
    pub label: String,
    /// What the tool acts on when it is chosen.
    pub target: Target,
}

/// The guests of a kind, those in `status` when given, for the picker: each
/// kind's tools pass theirs to `main` (the shell knows no backend).
pub type ListFn = fn(&Ctx, Option<crate::guest::Status>) -> Result<Vec<Choice>>;

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

/// A tool's `run`: its context and its typed flags in, an exit code out.
pub type RunFn<A> = fn(&Ctx, A) -> Result<u8>;

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
/// name, and every tool's spec (for the completions that cover them all).
/// Never returns.
pub fn main<A: FromMatches>(
    cmd: &'static Command,
    run: RunFn<A>,
    list: ListFn,
    all: &'static [&'static Command],
    args: Vec<std::ffi::OsString>,
) -> ! {
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
    let code = start(cmd, run, list, all, args);
    std::process::exit(code.into())
}

fn start<A: FromMatches>(
    cmd: &'static Command,
    run: RunFn<A>,
    list: ListFn,
    all: &'static [&'static Command],
    args: Vec<std::ffi::OsString>,
) -> u8 {
    let mut out = Output::new(cmd.name, None, None);
    let fail = |out: &Output, e: Error| {
        out.error(None, &e);
        e.exit_code()
    };
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
        Err(e) => return fail(&out, e),
    };
    let common = match Common::from_matches(&m) {
        Ok(c) if c.quiet && c.verbose => {
            let e = Error::usage("--quiet and --verbose exclude each other");
            return fail(&out, e);
        }
        Ok(c) => c,
        Err(e) => return fail(&out, e),
    };
    if let Some(kind) = common.generate {
        out.write(&match kind {
            Generate::Man => crate::cli::man::page(cmd, all),
            Generate::Bash => crate::cli::complete::bash(cmd),
            Generate::Zsh => crate::cli::complete::zsh(cmd),
            Generate::Fish => crate::cli::complete::fish(cmd),
            Generate::Nu => crate::cli::complete::nu(all),
        });
        return 0;
    }
    out = Output::new(cmd.name, common.output, common.color);
    out.quiet = common.quiet;
    out.verbose = common.verbose;
    let args = match A::from_matches(&m) {
        Ok(a) => a,
        Err(e) => return fail(&out, e),
    };
    let (cfg, config_error) = match Config::load(common.config.as_deref()) {
        Ok(c) => (c, None),
        // The doctor goes on with what the environment says, else the
        // built-in defaults, and reports the error.
        Err(e) if cmd.prints.runs_without_config() => {
            let fallback = Config::load(Some(std::path::Path::new("/dev/null")));
            (fallback.unwrap_or_default(), Some(e))
        }
        Err(e) => return fail(&out, e),
    };
    let ctx = Ctx {
        cmd,
        common,
        positionals: m.positionals,
        trailing: m.trailing,
        out,
        cfg,
        config_error,
        list,
    };
    match run(&ctx, args) {
        Ok(code) => code,
        Err(e) => fail(&ctx.out, e),
    }
}

/// How a kind of guest's targets are found, and how results name them.
pub trait Resolver: Sync {
    /// A guest found, ready to act on.
    type Guest: Sync;
    /// Finds the guest a target names. An error (no such guest, say) is
    /// reported for that target alone; the other targets go on.
    fn resolve(&self, t: &Target) -> Result<Self::Guest>;
    /// Who a result is about: the guest found, else the target as given.
    fn who(&self, t: &Target, found: Option<&Self::Guest>) -> GuestId;
}

/// An action that failed, perhaps after it had made something (a VM
/// created, whose start then failed): the result is then about that.
pub struct Failed {
    /// Why it failed, reported on stderr and in the target's result.
    pub error: Error,
    /// What it had made before failing, if anything: the result is about
    /// that, and says it changed something.
    pub made: Option<GuestId>,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Failed {
        Failed { error, made: None }
    }
}

impl Ctx {
    /// The backend `--backend` names, if any.
    pub fn backend_flag(&self) -> Option<crate::guest::BackendKind> {
        self.common.backend
    }

    /// Whether this is a dry run: everything checked, nothing changed.
    pub fn dry_run(&self) -> bool {
        self.common.dry_run
    }

    /// The targets: the arguments, else one per stdin line. When stdin is a
    /// terminal, a tool that changes guests offers a picker (when stderr is
    /// one too); otherwise no targets is a usage error.
    pub fn targets(&self) -> Result<Vec<Target>> {
        let kind = self.cmd.kind;
        if !self.positionals.is_empty() {
            return self
                .positionals
                .iter()
                .map(|a| parse_arg(kind, a))
                .collect();
        }
        let stdin = std::io::stdin();
        if self.cmd.effect != Effect::Reads && crate::cli::prompt::interactive() {
            return self.pick();
        }
        if stdin.is_terminal() {
            let ids = if kind.has_vmids() { " or VMIDs" } else { "" };
            return Err(
                Error::usage(format!("no {} named", kind.noun())).with_hint(format!(
                    "give names{ids} as arguments, or pipe them in: {} | {}",
                    kind.list_tool(),
                    self.cmd.name
                )),
            );
        }
        from_lines(kind, stdin.lock(), &|e| self.out.error(None, e))
    }

    /// The guests the user picks from those the tool applies to (by the
    /// status its NAME argument completes with).
    fn pick(&self) -> Result<Vec<Target>> {
        let kind = self.cmd.kind;
        let status = self.cmd.args.iter().find_map(|a| match a.complete {
            Complete::Guest(_, status) => Some(status),
            _ => None,
        });
        let choices = (self.list)(self, status.flatten())?;
        let verb = self.cmd.about.split(' ').next().unwrap_or(self.cmd.name);
        if choices.is_empty() {
            let which = status
                .flatten()
                .map_or(String::new(), |s| format!("{} ", s.as_str()));
            return Err(
                Error::not_found(format!("no {which}{}s to {verb}", kind.noun()))
                    .with_hint(format!("{} shows them all", kind.list_tool())),
            );
        }
        let labels = choices.iter().map(|c| c.label.clone()).collect();
        let chosen = crate::cli::prompt::pick(
            &format!("{} which {}s?", capital(verb), kind.noun()),
            labels,
        )?;
        if chosen.is_empty() {
            return Err(Error::failed(format!(
                "no {} chosen; nothing was done",
                kind.noun()
            )));
        }
        let mut choices: Vec<Option<Choice>> = choices.into_iter().map(Some).collect();
        Ok(chosen
            .into_iter()
            .filter_map(|i| choices[i].take().map(|c| c.target))
            .collect())
    }

    /// Before an action that loses something (`action`: "delete"): on a
    /// terminal, with more than one target, lists them and asks. Declined,
    /// nothing is done (exit 1). Not asked with --yes or --dry-run, nor off a
    /// terminal, where scripts and cron jobs run.
    pub fn confirm(&self, action: &str, targets: &[Target]) -> Result<()> {
        if self.common.yes
            || self.dry_run()
            || targets.len() < 2
            || !crate::cli::prompt::interactive()
        {
            return Ok(());
        }
        let noun = self.cmd.kind.noun();
        let mut list = String::new();
        for t in targets {
            list.push_str(&format!("  {}\n", t.label()));
        }
        eprint!(
            "{}: {action} {} {noun}s:\n{list}",
            self.cmd.name,
            targets.len()
        );
        let question = format!("{} these {} {noun}s?", capital(action), targets.len());
        match crate::cli::prompt::confirm(&question)? {
            true => Ok(()),
            false => Err(Error::failed("not confirmed; nothing was done")
                .with_hint("--yes acts without asking")),
        }
    }

    /// The guest a target means. An input record's backend and --backend
    /// must agree: acting on a guest of another backend than the one asked
    /// for is never meant.
    pub fn resolve<R: Resolver>(&self, r: &R, t: &Target) -> Result<R::Guest> {
        if let (Some(b), Some(f)) = (t.backend, self.common.backend)
            && b != f
        {
            let kind = self.cmd.kind;
            return Err(Error::invalid(format!(
                "the input names backend {b}, but --backend names {f}"
            ))
            .with_hint(format!(
                "to act on one backend's {}s, filter the list: {} -b {f} | {}",
                kind.noun(),
                kind.list_tool(),
                self.cmd.name
            )));
        }
        r.resolve(t)
    }

    /// Runs an action on every target, `jobs` at a time, printing one result
    /// per target in input order; a failed target is reported and the others
    /// go on. The exit code says whether any failed, and how.
    pub fn act<R, F>(
        &self,
        r: &R,
        action: &'static str,
        targets: Vec<Target>,
        jobs: Jobs,
        f: F,
    ) -> Result<u8>
    where
        R: Resolver,
        F: Fn(&R::Guest) -> Result<Done, Failed> + Sync,
    {
        let kind = self.cmd.kind;
        let dry_run = self.dry_run();
        crate::output::keep_going_when_stdout_closes();
        let mut results = self.out.stream(result_columns(kind));
        let mut codes = Vec::new();
        let work = |t: &Target| match self.resolve(r, t) {
            Ok(g) => (r.who(t, Some(&g)), f(&g)),
            Err(e) => (r.who(t, None), Err(Failed::from(e))),
        };
        crate::jobs::run_ordered(targets, jobs.0, work, |_, (who, outcome)| {
            let rec = match outcome {
                Ok(d) => ActionResult {
                    status: d.status,
                    upid: d.upid,
                    pending: d.pending,
                    dry_run,
                    ..ActionResult::ok(kind, d.made.unwrap_or(who), action, d.changed)
                },
                Err(Failed { error, made }) => {
                    let who = made.as_ref().unwrap_or(&who);
                    self.out.error(Some(&who.name), &error);
                    codes.push(error.exit_code());
                    ActionResult {
                        changed: made.is_some(),
                        dry_run,
                        ..ActionResult::failed(kind, who.clone(), action, &error)
                    }
                }
            };
            results.push(rec);
        });
        results.finish();
        Ok(crate::error::exit_code_of(codes))
    }

    /// Prints one record per target, `jobs` at a time, in input order; a
    /// target that cannot be read is reported on stderr and the others are
    /// still printed. The state tools.
    pub fn each<R, T, F>(
        &self,
        r: &R,
        targets: Vec<Target>,
        jobs: Jobs,
        columns: &'static [Column],
        f: F,
    ) -> Result<u8>
    where
        R: Resolver,
        T: Serialize + Send,
        F: Fn(&R::Guest) -> Result<T> + Sync,
    {
        self.each_many(r, targets, jobs, columns, |g| f(g).map(|t| vec![t]))
    }

    /// As `each`, for tools that print any number of records per target
    /// (a VM's snapshots).
    pub fn each_many<R, T, F>(
        &self,
        r: &R,
        targets: Vec<Target>,
        jobs: Jobs,
        columns: &'static [Column],
        f: F,
    ) -> Result<u8>
    where
        R: Resolver,
        T: Serialize + Send,
        F: Fn(&R::Guest) -> Result<Vec<T>> + Sync,
    {
        let mut records = self.out.stream(columns);
        let mut codes = Vec::new();
        let work = |t: &Target| match self.resolve(r, t) {
            Ok(g) => (r.who(t, Some(&g)), f(&g)),
            Err(e) => (r.who(t, None), Err(e)),
        };
        crate::jobs::run_ordered(targets, jobs.0, work, |_, (who, r)| match r {
            Ok(recs) => recs.into_iter().for_each(|rec| records.push(rec)),
            Err(e) => {
                self.out.error(Some(&who.name), &e);
                codes.push(e.exit_code());
            }
        });
        records.finish();
        Ok(crate::error::exit_code_of(codes))
    }
}

/// "Delete" for "delete".
fn capital(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The table of action results: containers by name, VMs by VMID.
fn result_columns(kind: GuestKind) -> &'static [Column] {
    match kind {
        GuestKind::Container => CONTAINER_RESULT_COLUMNS,
        GuestKind::Vm => VM_RESULT_COLUMNS,
    }
}

const CONTAINER_RESULT_COLUMNS: &[Column] = &[
    col("NAME", "name"),
    col("BACKEND", "backend"),
    col("ACTION", "action"),
    col("OK", "ok"),
    col("CHANGED", "changed"),
    col("STATUS", "status"),
    col("ERROR", "error"),
];

const VM_RESULT_COLUMNS: &[Column] = &[
    col("VMID", "vmid"),
    col("NAME", "name"),
    col("NODE", "node"),
    col("ACTION", "action"),
    col("OK", "ok"),
    col("CHANGED", "changed"),
    col("STATUS", "status"),
    col("ERROR", "error"),
];
