//! The one lexopt loop, driven by a command's spec. It yields raw values;
//! typed, validated arguments are built from them by the tool.

use super::spec::{Command, Complete, Flag};
use crate::error::{Error, Result};
use crate::guest::GuestKind;
use std::collections::BTreeMap;
use std::ffi::OsString;

/// What was given on the command line, by flag name.
#[derive(Debug, Default)]
pub struct Matches {
    values: BTreeMap<&'static str, Vec<String>>,
    /// The arguments that are not flags, in the order given.
    pub positionals: Vec<String>,
    /// The command after `--`, for tools that run one.
    pub trailing: Vec<String>,
}

/// What the parse asks the program to do.
#[derive(Debug)]
pub enum Parsed {
    /// Run the tool with what was given.
    Run(Matches),
    /// Print the help and exit 0: `-h` or `--help` was given.
    Help,
    /// Print the version and exit 0: `-V` or `--version` was given.
    Version,
}

impl Matches {
    /// Whether a flag was given.
    pub fn given(&self, flag: &Flag) -> bool {
        self.values.contains_key(flag.long)
    }

    /// The last value given for a flag (a later flag overrides an earlier one).
    pub fn value(&self, flag: &Flag) -> Option<&str> {
        self.values
            .get(flag.long)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// Every value given for a repeatable flag.
    pub fn values(&self, flag: &Flag) -> &[String] {
        self.values.get(flag.long).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Parses a tool's arguments (those after the program name) by its spec:
/// flags by long or short name, closed choices checked, positionals, and
/// the command after `--` for a tool that runs one. It stops at `--help`
/// or `--version`. Fails with a usage error (exit 2) for an unknown flag
/// (hinting the nearest), a missing or refused value, an extra argument,
/// an argument that is not UTF-8, or a required argument missing (not
/// checked with `--generate`).
pub fn parse(cmd: &Command, args: Vec<OsString>) -> Result<Parsed> {
    // Split at the first `--`: what follows is the guest's command, untouched.
    let (ours, trailing) = match args.iter().position(|a| a == "--") {
        Some(i) if cmd.trailing.is_some() => (args[..i].to_vec(), Some(args[i + 1..].to_vec())),
        _ => (args, None),
    };
    let mut m = Matches::default();
    let max_positionals = if cmd.args.iter().any(|a| a.many) {
        usize::MAX
    } else {
        cmd.args.len()
    };
    let mut parser = lexopt::Parser::from_args(ours);
    use lexopt::Arg::*;
    while let Some(arg) = parser.next().map_err(lexopt_error)? {
        // `--tty=x` is a switch given a value; `-it` is two switches.
        let long = matches!(arg, Long(_));
        let flag = match arg {
            Short(c) => cmd
                .find_short(c)
                .ok_or_else(|| unknown(cmd, &format!("-{c}")))?,
            Long(l) => cmd
                .find_long(l)
                .ok_or_else(|| unknown(cmd, &format!("--{l}")))?,
            Value(v) => {
                let v = utf8(v, "argument")?;
                if m.positionals.len() < max_positionals {
                    m.positionals.push(v);
                } else if cmd.trailing.as_ref().is_some_and(|t| !t.bare) && trailing.is_none() {
                    // `ctr-create web db` reads as two containers: a command
                    // only ever follows `--` there.
                    return Err(Error::usage(format!(
                        "unexpected argument {}: to run a command, put it after --",
                        crate::guest::names::quote(&v)
                    ))
                    .with_hint(format!(
                        "{} {} -- {v}",
                        cmd.name,
                        m.positionals.join(" ")
                    )));
                } else if cmd.trailing.is_some() && trailing.is_none() {
                    // `ctr-exec web ls -l`: the command starts at the first extra word.
                    m.trailing.push(v);
                    for raw in parser.raw_args().map_err(lexopt_error)? {
                        m.trailing.push(utf8(raw, "argument")?);
                    }
                } else {
                    return Err(Error::usage(format!(
                        "unexpected argument {}",
                        crate::guest::names::quote(&v)
                    )));
                }
                continue;
            }
        };
        match flag.long {
            "help" => return Ok(Parsed::Help),
            "version" => return Ok(Parsed::Version),
            _ => {}
        }
        let value = match flag.value {
            None => {
                if let Some(v) = long.then(|| parser.optional_value()).flatten() {
                    return Err(Error::usage(format!(
                        "flag --{} takes no value, got {:?}",
                        flag.long,
                        v.to_string_lossy()
                    )));
                }
                String::new()
            }
            Some(name) => {
                let v = parser.value().map_err(|_| {
                    Error::usage(format!("missing value {name} for flag --{}", flag.long))
                })?;
                let v = utf8(v, flag.long)?;
                check_choice(flag, &v)?;
                v
            }
        };
        let slot = m.values.entry(flag.long).or_default();
        if !flag.repeat {
            slot.clear();
        }
        slot.push(value);
    }
    if let Some(t) = trailing {
        if !m.trailing.is_empty() {
            return Err(Error::usage(
                "give the command either after -- or after the name, not both",
            ));
        }
        m.trailing = t
            .into_iter()
            .map(|a| utf8(a, "command"))
            .collect::<Result<_>>()?;
    }
    // Required arguments, checked here once for every tool (not when only a
    // man page or completion is asked for).
    if !m.given(&super::spec::GENERATE)
        && let Some(missing) = cmd
            .args
            .iter()
            .enumerate()
            .find(|(i, a)| a.required && m.positionals.len() <= *i)
            .map(|(_, a)| a)
    {
        return Err(Error::usage(format!("no {} given", arg_noun(cmd, missing))));
    }
    Ok(Parsed::Run(m))
}

/// How an error names a missing argument: "container name", "source".
fn arg_noun(cmd: &Command, a: &crate::cli::spec::Arg) -> String {
    match (a.complete, cmd.kind) {
        (Complete::Guest(GuestKind::Vm, _), _) => {
            format!("{} (a VM name or VMID)", a.name.to_lowercase())
        }
        (_, GuestKind::Container) if a.name == "NAME" => "container name".into(),
        _ if a.name == "SRC" => "source (SRC)".into(),
        _ if a.name == "DST" => "destination (DST)".into(),
        _ => a.name.to_lowercase(),
    }
}

fn check_choice(flag: &Flag, v: &str) -> Result<()> {
    if flag.values.is_empty() || flag.values.contains(&v) {
        return Ok(());
    }
    let mut e = Error::usage(format!(
        "invalid value {} for --{}: expected one of {}",
        crate::guest::names::quote(v),
        flag.long,
        flag.values.join(", ")
    ));
    if let Some(hint) = crate::guest::names::suggest(v, flag.values.iter().copied()) {
        e = e.with_hint(hint);
    }
    Err(e)
}

fn unknown(cmd: &Command, given: &str) -> Error {
    let e = Error::usage(format!("unknown flag {given}"));
    let name = given.trim_start_matches('-');
    let hint = if given.starts_with("--") {
        crate::guest::names::nearest(name, cmd.all_flags().map(|f| f.long))
            .map(|s| format!("--{s}"))
    } else {
        None
    };
    match hint {
        Some(h) => e.with_hint(format!("did you mean '{h}'?")),
        None => e.with_hint(format!("see '{} --help'", cmd.name)),
    }
}

fn utf8(v: OsString, what: &str) -> Result<String> {
    v.into_string().map_err(|v| {
        Error::usage(format!(
            "{what} {:?} is not valid UTF-8",
            v.to_string_lossy()
        ))
    })
}

fn lexopt_error(e: lexopt::Error) -> Error {
    Error::usage(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::FromMatches;
    use crate::cmd;

    fn run(cmd: &Command, args: &[&str]) -> Result<Matches> {
        match parse(cmd, args.iter().map(OsString::from).collect())? {
            Parsed::Run(m) => Ok(m),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn required_arguments_are_checked_except_for_generate() {
        let clone = &cmd::vm::clone::SPEC;
        let e = run(clone, &["tpl"]).unwrap_err();
        assert_eq!(e.message, "no name given");
        let e = run(clone, &[]).unwrap_err();
        assert_eq!(e.message, "no source (a VM name or VMID) given");
        assert!(run(clone, &["--generate", "man"]).is_ok());
        let e = run(&cmd::ctr::exec::SPEC, &[]).unwrap_err();
        assert_eq!(e.message, "no container name given");
    }

    #[test]
    fn short_switches_combine() {
        let m = run(&cmd::ctr::run::SPEC, &["x", "-it", "--", "sh"]).unwrap();
        let a = cmd::ctr::run::Args::from_matches(&m).unwrap();
        assert!(a.tty && a.interactive);
        assert_eq!(m.trailing, ["sh"]);
    }

    #[test]
    fn values_switches_and_positionals() {
        let m = run(&cmd::ctr::stop::SPEC, &["--timeout=5", "-f", "a", "b"]).unwrap();
        let a = cmd::ctr::stop::Args::from_matches(&m).unwrap();
        assert_eq!((a.timeout, a.force), (Some(5), true));
        assert_eq!(m.positionals, ["a", "b"]);
    }

    #[test]
    fn repeated_flags_keep_every_value() {
        let m = run(
            &cmd::ctr::create::SPEC,
            &["web", "-e", "A=1", "--env", "B=2"],
        )
        .unwrap();
        let a = cmd::ctr::create::Args::from_matches(&m).unwrap();
        assert_eq!(a.create.env, ["A=1", "B=2"]);
    }

    #[test]
    fn command_after_double_dash_is_untouched() {
        let m = run(&cmd::ctr::exec::SPEC, &["web", "--", "ls", "-l", "--", "x"]).unwrap();
        assert_eq!(m.positionals, ["web"]);
        assert_eq!(m.trailing, ["ls", "-l", "--", "x"]);
        let m = run(&cmd::ctr::exec::SPEC, &["web", "ls", "-l"]).unwrap();
        assert_eq!(m.trailing, ["ls", "-l"]);
    }

    #[test]
    fn unknown_flag_suggests_the_closest() {
        let e = run(&cmd::ctr::stop::SPEC, &["--timout", "3"]).unwrap_err();
        assert_eq!(e.message, "unknown flag --timout");
        assert_eq!(e.hint.as_deref(), Some("did you mean '--timeout'?"));
    }

    #[test]
    fn closed_choices_are_checked() {
        let e = run(&cmd::ctr::list::SPEC, &["-o", "jsn"]).unwrap_err();
        assert!(
            e.message.contains("expected one of json, table, name"),
            "{}",
            e.message
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean 'json'?"));
    }

    #[test]
    fn switches_refuse_values_and_values_are_required() {
        assert!(run(&cmd::ctr::stop::SPEC, &["--force=yes"]).is_err());
        let e = run(&cmd::ctr::stop::SPEC, &["--timeout"]).unwrap_err();
        assert_eq!(e.message, "missing value SECONDS for flag --timeout");
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn arg() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("--".to_string()),
            "--[a-z-]{1,12}(=[a-z0-9]{0,4})?",
            "-[a-zA-Z]{1,3}",
            "[a-z0-9.-]{0,10}",
            "\\PC{0,12}",
        ]
    }

    proptest! {
        /// Any command line is parsed, or refused as a usage error; then
        /// typed, or refused the same way.
        #[test]
        fn any_command_line_is_parsed_or_refused(which in 0usize..crate::cmd::ALL.len(), args in prop::collection::vec(arg(), 0..8)) {
            let cmd = crate::cmd::ALL[which];
            match parse(cmd, args.into_iter().map(OsString::from).collect()) {
                Ok(Parsed::Run(m)) => {
                    if let Err(e) = <crate::cli::args::Common as crate::cli::args::FromMatches>::from_matches(&m) {
                        prop_assert_eq!(e.kind, crate::error::Kind::Usage);
                    }
                }
                Ok(_) => {}
                Err(e) => prop_assert_eq!(e.kind, crate::error::Kind::Usage),
            }
        }
    }
}
