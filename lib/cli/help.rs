//! `--help` and `--version`, rendered from the spec.

use super::spec::{Command, Flag};
use crate::error::EXIT_CODES;
use std::fmt::Write;

const WIDTH: usize = 80;

/// The `--version` line: the tool, the version from Cargo.toml, and "(guestkit)".
pub fn version(cmd: &Command) -> String {
    format!("{} {} (guestkit)\n", cmd.name, env!("CARGO_PKG_VERSION"))
}

/// `-s, --long VALUE`, as help and man pages show a flag.
pub fn flag_label(f: &Flag) -> String {
    let mut s = match f.short {
        Some(c) => format!("-{c}, --{}", f.long),
        None => format!("    --{}", f.long),
    };
    if let Some(v) = f.value {
        s.push(' ');
        s.push_str(v);
    }
    s
}

/// The `--help` text, wrapped to 80 columns: the tool and what it does,
/// usage, the description's paragraphs, arguments, options (its own, then
/// the common ones), examples and exit codes.
pub fn help(cmd: &Command) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} - {}\n", cmd.name, cmd.about);
    let _ = writeln!(out, "Usage: {}\n", cmd.synopsis());
    for para in cmd.paragraphs() {
        out.push_str(&wrap(para, 0, WIDTH));
        out.push('\n');
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    for a in cmd.args {
        rows.push((
            format!("{}{}", a.name, if a.many { "..." } else { "" }),
            a.help.to_string(),
        ));
    }
    if let Some(t) = &cmd.trailing {
        rows.push((format!("{}...", t.name), t.help.to_string()));
    }
    let label_width = rows
        .iter()
        .map(|r| r.0.len())
        .chain(cmd.all_flags().map(|f| flag_label(f).len()))
        .max()
        .unwrap_or(0)
        + 2;
    if !rows.is_empty() {
        out.push_str("Arguments:\n");
        for (label, text) in &rows {
            row(&mut out, label, &help_with_values(text, &[]), label_width);
        }
        out.push('\n');
    }
    out.push_str("Options:\n");
    for f in cmd.all_flags() {
        row(
            &mut out,
            &flag_label(f),
            &help_with_values(f.help, f.values),
            label_width,
        );
    }
    if !cmd.examples.is_empty() {
        out.push_str("\nExamples:\n");
        for (line, what) in cmd.examples {
            let _ = writeln!(out, "  {line}");
            out.push_str(&wrap(what, 6, WIDTH));
        }
    }
    out.push_str("\nExit status:\n");
    for (code, what) in EXIT_CODES {
        let _ = writeln!(out, "  {code}  {what}");
    }
    out
}

fn help_with_values(help: &str, values: &[&str]) -> String {
    if values.is_empty() || help.contains(values[0]) {
        help.to_string()
    } else {
        format!("{help} [{}]", values.join(", "))
    }
}

fn row(out: &mut String, label: &str, text: &str, width: usize) {
    let indent = 2 + width;
    let body = wrap(text, indent, WIDTH);
    let _ = write!(out, "  {label:<width$}{}", &body[indent.min(body.len())..]);
}

/// Greedy word wrap; every line but the first starts with `indent` spaces,
/// and so does the first (callers that print a label slice it off).
pub fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = " ".repeat(indent);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line = " ".repeat(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}
