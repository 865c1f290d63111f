//! Typed arguments. A tool declares its flags once, with `flags!`: the
//! struct its `run` gets and the `Flag` list its spec, help, man page and
//! completions are made from. Each field is read from the parse through the
//! very `Flag` that declares it, so a field cannot read another flag's value,
//! and a misspelt field is a compile error.

use super::parse::Matches;
use super::spec::{
    BACKEND, COLOR, CONFIG, DRY_RUN, Flag, GENERATE, HELP, OUTPUT, QUIET, VERBOSE, VERSION, YES,
};
use crate::error::{Error, Result};
use crate::guest::units::{Signal, parse_signal};
use crate::guest::{BackendKind, Status};
use crate::output::{ColorWhen, Format};

/// A tool's typed arguments, read from what the parser matched.
pub trait FromMatches: Sized {
    /// Reads every field through its flag; a value its type refuses is a
    /// usage error naming the flag.
    fn from_matches(m: &Matches) -> Result<Self>;
}

/// The flags of a tool that has none of its own: the common ones alone
/// (guestkit-doctor, the image tools).
pub struct NoFlags;

impl NoFlags {
    /// Empty.
    pub const FLAGS: &'static [crate::cli::spec::Flag] = &[];
}

impl FromMatches for NoFlags {
    fn from_matches(_: &Matches) -> Result<NoFlags> {
        Ok(NoFlags)
    }
}

/// A tool without flags of its own.
impl FromMatches for () {
    fn from_matches(_: &Matches) -> Result<()> {
        Ok(())
    }
}

/// A field's value, read through its flag.
pub trait FlagValue: Sized {
    /// Reads `flag`'s value, or values, from what was matched; a value that
    /// does not convert is a usage error naming the flag.
    fn read(m: &Matches, flag: &Flag) -> Result<Self>;
}

/// A value as a flag takes it; the error names the flag.
pub trait FromValue: Sized {
    /// Converts one value, as typed; `flag` is there to name in the error.
    fn from_value(v: &str, flag: &Flag) -> Result<Self>;
}

/// A switch: whether it was given.
impl FlagValue for bool {
    fn read(m: &Matches, flag: &Flag) -> Result<bool> {
        debug_assert!(flag.value.is_none(), "--{} takes a value", flag.long);
        Ok(m.given(flag))
    }
}

/// A flag's value, when given (the last one, for a flag given twice).
impl<T: FromValue> FlagValue for Option<T> {
    fn read(m: &Matches, flag: &Flag) -> Result<Option<T>> {
        debug_assert!(flag.value.is_some(), "--{} is a switch", flag.long);
        m.value(flag).map(|v| T::from_value(v, flag)).transpose()
    }
}

/// Every value of a repeatable flag.
impl<T: FromValue> FlagValue for Vec<T> {
    fn read(m: &Matches, flag: &Flag) -> Result<Vec<T>> {
        debug_assert!(flag.repeat, "--{} is not repeatable", flag.long);
        m.values(flag)
            .iter()
            .map(|v| T::from_value(v, flag))
            .collect()
    }
}

impl FromValue for String {
    fn from_value(v: &str, _: &Flag) -> Result<String> {
        Ok(v.to_string())
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &str, flag: &Flag) -> Result<$t> {
                v.parse().map_err(|_| {
                    Error::usage(format!(
                        "invalid value {} for --{}: expected a number",
                        crate::guest::names::quote(v),
                        flag.long
                    ))
                })
            }
        }
    )*};
}
numbers!(u32, u64, usize, f64);

/// Closed choices: the parser has checked the value against the flag's list.
impl FromValue for Status {
    fn from_value(v: &str, flag: &Flag) -> Result<Status> {
        Status::named(v).ok_or_else(|| unexpected(v, flag))
    }
}

impl FromValue for BackendKind {
    fn from_value(v: &str, flag: &Flag) -> Result<BackendKind> {
        BackendKind::named(v).ok_or_else(|| unexpected(v, flag))
    }
}

impl FromValue for Signal {
    fn from_value(v: &str, _: &Flag) -> Result<Signal> {
        parse_signal(v).map(Signal)
    }
}

fn unexpected(v: &str, flag: &Flag) -> Error {
    Error::usage(format!(
        "invalid value {} for --{}",
        crate::guest::names::quote(v),
        flag.long
    ))
}

/// `--jobs N`: at least 1, default 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jobs(pub usize);

impl FlagValue for Jobs {
    fn read(m: &Matches, flag: &Flag) -> Result<Jobs> {
        match Option::<usize>::read(m, flag)? {
            Some(0) => Err(Error::usage(format!("--{} must be at least 1", flag.long))),
            n => Ok(Jobs(n.unwrap_or(1))),
        }
    }
}

/// Declares a tool's flags: a struct with one field per flag, each read
/// through the flag written beside it, and `FLAGS`, their list for the
/// spec. Fields are `bool` for a switch, `Option<T>` for a value, `Vec<T>`
/// for a repeatable flag, or a type of their own (`Jobs`). A first field
/// written `..name: Type` takes in another such struct, whose flags come
/// first (the flags ctr-create and ctr-run share).
///
/// ```text
/// guestkit::flags! {
///     pub struct Args {
///         timeout: Option<u64> = option("timeout", Some('t'), "SECONDS", "How long", Complete::Nothing),
///         force: bool = switch("force", Some('f'), "Kill at once"),
///     }
/// }
/// ```
#[macro_export]
macro_rules! flags {
    ($(#[$attr:meta])* $vis:vis struct $name:ident {
        .. $inner:ident : $ity:ty,
        $($(#[$fattr:meta])* $field:ident : $ty:ty = $flag:expr),* $(,)?
    }) => {
        $(#[$attr])*
        $vis struct $name {
            /// The flags this struct takes in, read the same way.
            pub $inner: $ity,
            $($(#[$fattr])*
            #[doc = concat!("The value of `", stringify!($field), "`'s flag, as typed (its help is in `FLAGS`).")]
            pub $field: $ty,)*
        }
        impl $name {
            const OWN: &'static [$crate::cli::spec::Flag] = &[$($flag),*];
            /// The flags taken in, then this struct's own, in the order of
            /// its fields: for the tool's spec.
            pub const FLAGS: &'static [$crate::cli::spec::Flag] =
                &$crate::cli::args::concat::<{ <$ity>::FLAGS.len() + $name::OWN.len() }>(
                    <$ity>::FLAGS,
                    $name::OWN,
                );
        }
        impl $crate::cli::args::FromMatches for $name {
            fn from_matches(m: &$crate::cli::parse::Matches) -> $crate::error::Result<Self> {
                let mut flags = Self::OWN.iter();
                Ok($name {
                    $inner: <$ity as $crate::cli::args::FromMatches>::from_matches(m)?,
                    $($field: <$ty as $crate::cli::args::FlagValue>::read(
                        m,
                        flags.next().expect("one flag per field"),
                    )?,)*
                })
            }
        }
    };
    ($(#[$attr:meta])* $vis:vis struct $name:ident {
        $($(#[$fattr:meta])* $field:ident : $ty:ty = $flag:expr),* $(,)?
    }) => {
        $(#[$attr])*
        $vis struct $name {
            $($(#[$fattr])*
            #[doc = concat!("The value of `", stringify!($field), "`'s flag, as typed (its help is in `FLAGS`).")]
            pub $field: $ty,)*
        }
        impl $name {
            /// The flags, in the order of the fields: for the tool's spec.
            pub const FLAGS: &'static [$crate::cli::spec::Flag] = &[$($flag),*];
        }
        impl $crate::cli::args::FromMatches for $name {
            fn from_matches(m: &$crate::cli::parse::Matches) -> $crate::error::Result<Self> {
                let mut flags = Self::FLAGS.iter();
                Ok($name {
                    $($field: <$ty as $crate::cli::args::FlagValue>::read(
                        m,
                        flags.next().expect("one flag per field"),
                    )?,)*
                })
            }
        }
    };
}

/// `a` then `b`, as one array: a struct's flags after those it takes in.
pub const fn concat<const N: usize>(a: &[Flag], b: &[Flag]) -> [Flag; N] {
    let mut out = [super::spec::HELP; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[i + j] = b[j];
        j += 1;
    }
    assert!(i + j == N, "concat: the lengths do not add up");
    out
}

/// A size as `--memory` takes it: `512M`, `2G`, bytes when unitless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl FromValue for Size {
    fn from_value(v: &str, _: &Flag) -> Result<Size> {
        crate::guest::units::parse_size(v).map(Size)
    }
}

/// `--since`, `--until`: a time, or a duration before now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When(pub std::time::SystemTime);

impl FromValue for When {
    fn from_value(v: &str, flag: &Flag) -> Result<When> {
        crate::guest::units::parse_when(v, std::time::SystemTime::now())
            .map(When)
            .map_err(|e| Error::usage(format!("--{}: {}", flag.long, e.message)))
    }
}

/// What `--generate` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generate {
    /// The tool's man page, in roff.
    Man,
    /// The tool's bash completion script.
    Bash,
    /// The tool's zsh completion script.
    Zsh,
    /// The tool's fish completion script.
    Fish,
    /// The nushell module, which completes every tool, not only this one.
    Nu,
}

/// The value of a closed choice, by its name in `table`.
fn choose<T: Copy>(v: &str, flag: &Flag, table: &[(&str, T)]) -> Result<T> {
    table
        .iter()
        .find(|(name, _)| *name == v)
        .map(|(_, t)| *t)
        .ok_or_else(|| unexpected(v, flag))
}

impl FromValue for Generate {
    fn from_value(v: &str, flag: &Flag) -> Result<Generate> {
        use Generate::*;
        let table = [
            ("man", Man),
            ("bash", Bash),
            ("zsh", Zsh),
            ("fish", Fish),
            ("nu", Nu),
        ];
        choose(v, flag, &table)
    }
}

impl FromValue for Format {
    fn from_value(v: &str, flag: &Flag) -> Result<Format> {
        use Format::*;
        choose(v, flag, &[("json", Json), ("table", Table), ("name", Name)])
    }
}

impl FromValue for ColorWhen {
    fn from_value(v: &str, flag: &Flag) -> Result<ColorWhen> {
        use ColorWhen::*;
        choose(
            v,
            flag,
            &[("auto", Auto), ("always", Always), ("never", Never)],
        )
    }
}

impl FromValue for std::path::PathBuf {
    fn from_value(v: &str, _: &Flag) -> Result<std::path::PathBuf> {
        Ok(v.into())
    }
}

crate::flags! {
    /// The flags every tool has. A tool may give one of them its own
    /// definition (ctr-list's `--output` also prints names; the vm-* tools'
    /// `--backend` is proxmox alone); it is read here all the same.
    pub struct Common {
        output: Option<Format> = OUTPUT,
        color: Option<ColorWhen> = COLOR,
        quiet: bool = QUIET,
        verbose: bool = VERBOSE,
        config: Option<std::path::PathBuf> = CONFIG,
        backend: Option<BackendKind> = BACKEND,
        generate: Option<Generate> = GENERATE,
        /// Offered only by the tools whose effect calls for them.
        dry_run: bool = DRY_RUN,
        yes: bool = YES,
        /// Handled by the parser, which stops at them.
        help: bool = HELP,
        version: bool = VERSION,
    }
}
