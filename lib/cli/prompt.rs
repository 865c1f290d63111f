//! Questions asked on a terminal: the pickers, the confirmations and the
//! setup wizard's questions, drawn on stderr by inquire (stdout stays for
//! records). Asked only when `interactive()`: scripts, cron jobs and pipes
//! never meet a question.
//!
//! Esc and Ctrl-C both end a question: Esc as "no" (nothing is done, exit
//! 1), Ctrl-C as an interruption (nothing is done, exit 130, the code a
//! shell gives a command ended by SIGINT).

use crate::error::{Error, Result};
use inquire::InquireError;
use std::io::IsTerminal;

/// Whether a person is there to answer: stdin and stderr are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks: the answer, or how the question ended otherwise, as the error a
/// tool reports.
fn ask<T>(question: impl FnOnce() -> Result<T, InquireError>) -> Result<T> {
    match crate::os::signals::noting_interrupts(question) {
        (Ok(answer), false) => Ok(answer),
        (Err(InquireError::OperationInterrupted), _) | (_, true) => {
            Err(Error::failed("interrupted; nothing was done").with_exit(130))
        }
        // An exit code of its own marks the end of a question, which a
        // wizard does not ask again (a wrong answer has none).
        (Err(InquireError::OperationCanceled), _) => {
            Err(Error::failed("cancelled; nothing was done").with_exit(1))
        }
        (Err(other), _) => Err(Error::failed(format!(
            "cannot ask on this terminal: {other}"
        ))),
    }
}

/// Yes or no, no by default.
pub fn confirm(question: &str) -> Result<bool> {
    ask(|| inquire::Confirm::new(question).with_default(false).prompt())
}

/// Some of `choices`, chosen with type-to-filter, Space and Enter: their
/// indices, in the order offered. None chosen is "nothing to do".
pub fn pick(question: &str, choices: Vec<String>) -> Result<Vec<usize>> {
    let chosen = ask(|| {
        inquire::MultiSelect::new(question, choices)
            .with_help_message("type to filter, Space to choose, Enter to act, Esc to do nothing")
            .raw_prompt()
    })?;
    Ok(chosen.into_iter().map(|o| o.index).collect())
}

/// One of `choices`, the first by default: its index.
pub fn select(question: &str, choices: Vec<String>, help: &str) -> Result<usize> {
    ask(|| {
        inquire::Select::new(question, choices)
            .with_help_message(help)
            .raw_prompt()
            .map(|o| o.index)
    })
}

/// A line of text, `default` when the answer is empty; `check` refuses an
/// answer with its reason, and the question is asked again.
pub fn text(
    question: &str,
    default: Option<&str>,
    help: &str,
    check: impl Fn(&str) -> std::result::Result<(), String> + Clone + 'static,
) -> Result<String> {
    let validator = move |v: &str| {
        Ok(match check(v) {
            Ok(()) => inquire::validator::Validation::Valid,
            Err(why) => inquire::validator::Validation::Invalid(why.into()),
        })
    };
    let mut q = inquire::Text::new(question)
        .with_help_message(help)
        .with_validator(validator);
    if let Some(d) = default {
        q = q.with_default(d);
    }
    ask(|| q.prompt())
}

/// A secret, not echoed and never printed back.
pub fn secret(question: &str, help: &str) -> Result<String> {
    ask(|| {
        inquire::Password::new(question)
            .with_help_message(help)
            .without_confirmation()
            .with_display_mode(inquire::PasswordDisplayMode::Hidden)
            .prompt()
    })
}
