//! One error type for every tool: a kind that fixes the exit code, a message
//! that says what went wrong, and an optional hint that says what to do.

use std::fmt;

/// What kind of failure this is. The kind decides the exit code and the
/// `error.kind` string in result records, so both stay the same in every tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A backend command or request failed for a reason of its own.
    Failed,
    Usage,
    NotFound,
    Conflict,
    Unavailable,
    Denied,
    Timeout,
    InvalidInput,
}

impl Kind {
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

#[derive(Clone, Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    /// An exit code that overrides the kind's (ctr-exec's 126 and 127).
    pub exit: Option<u8>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            hint: None,
            exit: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The same error as another kind (a usage error met in stdin is invalid input).
    pub fn with_kind(mut self, kind: Kind) -> Error {
        self.kind = kind;
        self
    }

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

    pub fn failed(message: impl Into<String>) -> Error {
        Error::new(Kind::Failed, message)
    }
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage, message)
    }
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(Kind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(Kind::Conflict, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::new(Kind::Unavailable, message)
    }
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(Kind::InvalidInput, message)
    }
    pub fn denied(message: impl Into<String>) -> Error {
        Error::new(Kind::Denied, message)
    }
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
