//! One error type for every tool: a kind that fixes the exit code, a message
//! that says what went wrong, and an optional hint that says what to do.

use std::fmt;

/// What kind of failure this is. The kind decides the exit code and the
/// `error.kind` string in result records, so both stay the same in every tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A backend command or request failed for a reason of its own.
    Failed,
    /// The command line is wrong: a bad flag, argument or value.
    Usage,
    /// What was asked for does not exist: a guest, a file, a snapshot.
    NotFound,
    /// It exists already, is locked, or is in the wrong state.
    Conflict,
    /// The backend, or what reaches it, cannot be used: not installed,
    /// not configured, not answering.
    Unavailable,
    /// Permission or authentication denied.
    Denied,
    /// It did not finish, or answer, in time.
    Timeout,
    /// Bad input data: a stdin line, the configuration, an image.
    InvalidInput,
}

impl Kind {
    /// The exit code a failure of this kind ends a run with, 1 to 8, as
    /// `EXIT_CODES` lists them.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::NotFound => 3,
            Kind::Conflict => 4,
            Kind::Unavailable => 5,
            Kind::Denied => 6,
            Kind::Timeout => 7,
            Kind::InvalidInput => 8,
        }
    }

    /// Its name in records (`error.kind`): `not_found`, `invalid_input`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Failed => "failed",
            Kind::Usage => "usage",
            Kind::NotFound => "not_found",
            Kind::Conflict => "conflict",
            Kind::Unavailable => "unavailable",
            Kind::Denied => "denied",
            Kind::Timeout => "timeout",
            Kind::InvalidInput => "invalid_input",
        }
    }
}

/// The exit codes every tool documents, in order.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (0, "success"),
    (1, "one or more targets failed"),
    (2, "usage error"),
    (3, "not found"),
    (4, "conflict: exists, locked or in the wrong state"),
    (5, "backend unavailable"),
    (6, "permission or authentication denied"),
    (7, "timed out"),
    (8, "invalid input data (stdin, config, image)"),
];

/// A failure as every tool reports it: its kind, what went wrong, and what
/// to do about it.
#[derive(Clone, Debug)]
pub struct Error {
    /// What kind of failure: it decides the exit code and `error.kind`.
    pub kind: Kind,
    /// What went wrong, for people: the error's whole `Display`.
    pub message: String,
    /// What to do about it, when there is something to suggest.
    pub hint: Option<String>,
    /// An exit code that overrides the kind's (ctr-exec's 126 and 127).
    pub exit: Option<u8>,
}

/// A result whose error is guestkit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of this kind, without a hint or an exit code of its own.
    pub fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            hint: None,
            exit: None,
        }
    }

    /// The same error with a hint: what to do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The same error as another kind (a usage error met in stdin is invalid input).
    pub fn with_kind(mut self, kind: Kind) -> Error {
        self.kind = kind;
        self
    }

    /// The same error ending the run with `code` instead of its kind's
    /// (ctr-exec's 126 and 127).
    pub fn with_exit(mut self, code: u8) -> Error {
        self.exit = Some(code);
        self
    }

    /// The same error with its kind's exit code: a command not found is
    /// 127 for ctr-exec, but for ctr-start it is one target not found (3).
    pub fn without_exit(mut self) -> Error {
        self.exit = None;
        self
    }

    /// The process exit code this error ends a run with.
    pub fn exit_code(&self) -> u8 {
        self.exit.unwrap_or(self.kind.exit_code())
    }

    /// The same error with the guest's name in front, for tools whose
    /// errors are not reported per target.
    pub fn prefixed(mut self, name: &str) -> Error {
        self.message = format!("{name}: {}", self.message);
        self
    }

    /// A [`Kind::Failed`] error: a backend command or request failed.
    pub fn failed(message: impl Into<String>) -> Error {
        Error::new(Kind::Failed, message)
    }
    /// A [`Kind::Usage`] error: a bad command line.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage, message)
    }
    /// A [`Kind::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(Kind::NotFound, message)
    }
    /// A [`Kind::Conflict`] error: exists, locked or in the wrong state.
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(Kind::Conflict, message)
    }
    /// A [`Kind::Unavailable`] error: the backend cannot be used.
    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::new(Kind::Unavailable, message)
    }
    /// A [`Kind::InvalidInput`] error: bad stdin, configuration or image.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(Kind::InvalidInput, message)
    }
    /// A [`Kind::Denied`] error: permission or authentication denied.
    pub fn denied(message: impl Into<String>) -> Error {
        Error::new(Kind::Denied, message)
    }
    /// A [`Kind::Timeout`] error.
    pub fn timeout(message: impl Into<String>) -> Error {
        Error::new(Kind::Timeout, message)
    }

    /// An I/O error on a file of ours, with the path that failed.
    pub fn io(what: &str, path: &std::path::Path, err: std::io::Error) -> Error {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => Kind::NotFound,
            std::io::ErrorKind::PermissionDenied => Kind::Denied,
            _ => Kind::Failed,
        };
        Error::new(
            kind,
            format!("{what} {}: {}", path.display(), plain_io(&err)),
        )
    }
}

/// `std::io::Error`'s Display adds " (os error 2)"; users don't need that.
pub fn plain_io(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The exit code of a run in which these target errors happened: the shared
/// kind's code when every failure was of one kind, else 1.
pub fn exit_code_for<'a>(errors: impl IntoIterator<Item = &'a Kind>) -> u8 {
    exit_code_of(errors.into_iter().map(|k| k.exit_code()))
}

/// The same for failures' own exit codes (a kind's, or one set with `with_exit`).
pub fn exit_code_of(codes: impl IntoIterator<Item = u8>) -> u8 {
    let mut code = 0;
    for c in codes {
        if code == 0 {
            code = c;
        } else if code != c {
            return 1;
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_of_mixed_failures_is_one() {
        assert_eq!(exit_code_for(&[]), 0);
        assert_eq!(exit_code_for(&[Kind::NotFound, Kind::NotFound]), 3);
        assert_eq!(exit_code_for(&[Kind::NotFound, Kind::Conflict]), 1);
    }

    #[test]
    fn exit_codes_table_matches_kinds() {
        for kind in [
            Kind::Failed,
            Kind::Usage,
            Kind::NotFound,
            Kind::Conflict,
            Kind::Unavailable,
            Kind::Denied,
            Kind::Timeout,
            Kind::InvalidInput,
        ] {
            assert!(EXIT_CODES.iter().any(|(c, _)| *c == kind.exit_code()));
        }
    }
}
