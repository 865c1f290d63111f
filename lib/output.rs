//! Where results go: JSON lines or a table on stdout, messages on stderr.
//! stdout carries only data; a closed stdout (`| head`) ends the run quietly.

use crate::error::Error;
use owo_colors::OwoColorize;
use serde::Serialize;
use serde_json::Value;
use std::io::{IsTerminal, Write};

/// How records are printed (`--output`); without it, a table on a
/// terminal and JSON lines otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON lines: one object per record.
    Json,
    /// An aligned table with a header line.
    Table,
    /// Names only, one per line (ctr-list).
    Name,
}

/// When tables are coloured (`--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR; always with CLICOLOR_FORCE.
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never, nor the messages on stderr.
    Never,
}

/// Where a tool's records and messages go, and how they look: made by
/// the shell from the common flags, and shared by the whole run.
#[derive(Clone, Debug)]
pub struct Output {
    /// The tool's name, as typed: `ctr-stop`; every line on stderr starts
    /// with it.
    pub tool: &'static str,
    /// How records are printed on stdout.
    pub format: Format,
    /// Whether the table is coloured.
    pub color: bool,
    /// `--quiet`: no records on stdout and no progress lines; errors and
    /// warnings still go to stderr.
    pub quiet: bool,
    /// `--verbose`: `trace` lines are shown on stderr, progress lines are not.
    pub verbose: bool,
    /// Whether error messages on stderr are coloured: as `Auto` decides for
    /// stderr, and never with `--color never`.
    pub stderr_color: bool,
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static KEEP_GOING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes a closed stdout stop the output but not the work (action tools).
pub fn keep_going_when_stdout_closes() {
    KEEP_GOING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// When the tool started, for the elapsed times in --verbose traces.
pub static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// See `Output::stream`.
pub struct Stream<'o, T: Serialize> {
    out: &'o Output,
    columns: &'static [Column],
    table: Vec<T>,
}

impl<T: Serialize> Stream<'_, T> {
    /// Adds a record: printed at once as a JSON line (none with --quiet),
    /// or kept for the table that `finish` prints.
    pub fn push(&mut self, record: T) {
        if self.out.format == Format::Table {
            self.table.push(record);
        } else if !self.out.quiet {
            self.out.write(&Output::json_line(&record));
        }
    }

    /// Prints the table, once every record is in.
    pub fn finish(self) {
        self.out.records(&self.table, self.columns);
    }
}

/// A table column: its header and the record field it shows.
pub struct Column {
    /// Its heading, in capitals: `STATUS`.
    pub header: &'static str,
    /// The record's JSON field it shows: `status`; one absent or null shows
    /// as `-`.
    pub field: &'static str,
}

/// A column, as the tools' const tables write it: `col("STATUS", "status")`.
pub const fn col(header: &'static str, field: &'static str) -> Column {
    Column { header, field }
}

impl Output {
    /// The output for `tool` given `--output` and `--color`, if any: a table
    /// when stdout is a terminal, else JSON lines; colours as `ColorWhen`
    /// says. `quiet` and `verbose` start false, for the caller to set.
    pub fn new(tool: &'static str, format: Option<Format>, color: Option<ColorWhen>) -> Output {
        let stdout_tty = std::io::stdout().is_terminal();
        let format = match format {
            Some(f) => f,
            None if stdout_tty => Format::Table,
            None => Format::Json,
        };
        let env_says = |tty: bool| {
            use crate::config::env::{CLICOLOR_FORCE, NO_COLOR};
            if NO_COLOR.get().is_some() {
                false
            } else if CLICOLOR_FORCE.get().is_some_and(|v| v != "0") {
                true
            } else {
                tty
            }
        };
        // --color is about the table; messages on stderr are coloured only
        // on a terminal (a log file gets no escape codes), and never with
        // --color never.
        let stderr_color =
            color != Some(ColorWhen::Never) && env_says(std::io::stderr().is_terminal());
        let color = match color {
            Some(ColorWhen::Always) => true,
            Some(ColorWhen::Never) => false,
            Some(ColorWhen::Auto) | None => env_says(stdout_tty),
        };
        Output {
            tool,
            format,
            color,
            quiet: false,
            verbose: false,
            stderr_color,
        }
    }

    /// Writes text to stdout; a reader that went away ends the process with 0.
    pub fn write(&self, text: &str) {
        self.write_bytes(text.as_bytes())
    }

    /// Writes bytes to stdout. When the reader has gone (`| head`), a list
    /// ends quietly with 0; an action tool (see `keep_going`) finishes its
    /// targets, so a batch is never cut off half-done, and prints no more.
    pub fn write_bytes(&self, bytes: &[u8]) {
        use std::sync::atomic::Ordering;
        if STDOUT_CLOSED.load(Ordering::Relaxed) {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout.write_all(bytes).and_then(|_| stdout.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                if !KEEP_GOING.load(Ordering::Relaxed) {
                    std::process::exit(0);
                }
                STDOUT_CLOSED.store(true, Ordering::Relaxed);
                return;
            }
            self.error(
                None,
                &Error::failed(format!(
                    "cannot write to stdout: {}",
                    crate::error::plain_io(&e)
                )),
            );
            std::process::exit(1);
        }
    }

    /// One JSON line.
    pub fn json_line(value: &impl Serialize) -> String {
        let mut s =
            serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        s.push('\n');
        s
    }

    /// A sink for records that come one at a time (action results): each
    /// is printed as a JSON line at once, so a pipeline sees progress; a
    /// table waits for all of them.
    pub fn stream<T: Serialize>(&self, columns: &'static [Column]) -> Stream<'_, T> {
        Stream {
            out: self,
            columns,
            table: Vec::new(),
        }
    }

    /// Prints records in the chosen format: JSON lines, a table, or names.
    pub fn records<T: Serialize>(&self, records: &[T], columns: &[Column]) {
        if self.quiet || records.is_empty() {
            return;
        }
        let text = match self.format {
            Format::Json => records.iter().map(Output::json_line).collect(),
            Format::Name => records
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                // A VM without a name goes by its VMID.
                .map(|v| match (v.get("name"), v.get("vmid")) {
                    (None | Some(Value::Null), Some(id)) if !id.is_null() => format!("{id}\n"),
                    _ => format!("{}\n", cell(&v, "name")),
                })
                .collect(),
            Format::Table => {
                let values: Vec<Value> = records
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect();
                self.table(&values, columns)
            }
        };
        self.write(&text);
    }

    fn table(&self, rows: &[Value], columns: &[Column]) -> String {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| columns.iter().map(|c| cell(r, c.field)).collect())
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([c.header.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let last = columns.len() - 1;
        for (i, c) in columns.iter().enumerate() {
            let h = if i == last {
                c.header.to_string()
            } else {
                format!("{:<w$}  ", c.header, w = widths[i])
            };
            out.push_str(&if self.color { h.bold().to_string() } else { h });
        }
        out.push('\n');
        for row in &cells {
            for (i, (c, text)) in columns.iter().zip(row).enumerate() {
                let pad = if i == last {
                    0
                } else {
                    widths[i] - text.chars().count() + 2
                };
                out.push_str(&self.paint(c.field, text));
                out.push_str(&" ".repeat(pad));
            }
            out.push('\n');
        }
        out
    }

    fn paint(&self, field: &str, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        match (field, text) {
            ("status", "running") | ("ok", "true") => text.green().to_string(),
            ("status", "stopped") => text.red().to_string(),
            ("status", "paused") | ("status", "created") => text.yellow().to_string(),
            ("ok", "false") => text.red().bold().to_string(),
            _ => text.to_string(),
        }
    }

    /// `ctr-start: web: no such container`, then a hint line, on stderr.
    pub fn error(&self, target: Option<&str>, e: &Error) {
        let mut s = String::new();
        let prefix = match target {
            Some(t) => format!("{}: {t}: ", self.tool),
            None => format!("{}: ", self.tool),
        };
        s.push_str(&prefix);
        if self.stderr_color {
            s.push_str(&e.message.red().to_string());
        } else {
            s.push_str(&e.message);
        }
        s.push('\n');
        if let Some(h) = &e.hint {
            s.push_str(&format!("  hint: {h}\n"));
        }
        eprint!("{s}");
    }

    /// A line of progress for a long operation, on stderr when it is a
    /// terminal (and neither --quiet nor --verbose); `None` clears it.
    pub fn progress(&self, message: Option<&str>) {
        if !self.shows_progress() {
            return;
        }
        match message {
            Some(m) => eprint!("\r\x1b[2K{}: {m}…", self.tool),
            None => eprint!("\r\x1b[2K"),
        }
    }

    /// Whether progress lines are shown, so callers can skip work that only
    /// feeds them.
    pub fn shows_progress(&self) -> bool {
        !(self.quiet || self.verbose) && std::io::stderr().is_terminal()
    }

    /// `ctr-list: warning: <message>` on stderr, shown even with --quiet.
    pub fn warn(&self, message: &str) {
        eprintln!("{}: warning: {message}", self.tool);
    }

    /// A diagnostic shown only with --verbose.
    pub fn trace(&self, message: &str) {
        if self.verbose {
            let ms = START
                .get()
                .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0);
            eprintln!("{}: [{ms:.1} ms] {message}", self.tool);
        }
    }
}

/// `…sha256:HEX` with HEX cut to 12 digits, as image IDs are shown.
fn short_digest(s: &str) -> String {
    match s.rsplit_once("sha256:") {
        Some((head, hex)) if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            format!("{head}sha256:{}", &hex[..12])
        }
        _ => s.to_string(),
    }
}

/// A record field as table text: arrays joined with commas, absent as "-".
fn cell(v: &Value, field: &str) -> String {
    match v.get(field) {
        None | Some(Value::Null) => "-".into(),
        // Sizes read better as 2.0G in a table; JSON keeps the bytes.
        Some(Value::Number(n)) if field.ends_with("_bytes") => n
            .as_u64()
            .map_or_else(|| n.to_string(), crate::guest::units::human_size),
        // A digest reads as docker and podman show one: its first 12 hex
        // digits (`sha256:0123456789ab`); JSON keeps it whole.
        Some(Value::String(s)) => short_digest(s),
        Some(Value::Array(a)) if a.is_empty() => "-".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(o)) => o
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digests_are_cut_in_tables() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(super::short_digest(&d), "sha256:abababababab");
        assert_eq!(
            super::short_digest(&format!("r/x:1@{d}")),
            "r/x:1@sha256:abababababab"
        );
        assert_eq!(super::short_digest("busybox"), "busybox");
    }
}
