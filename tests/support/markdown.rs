//! The command lines a Markdown page shows, shared by the tests that check
//! and run the project's examples (tests/examples.rs, tests/cli/examples_run.rs).

/// The command lines of a Markdown file: its indented and fenced blocks'
/// lines (without a `$ ` prompt), a line ending in `\` joined to the next.
pub fn markdown_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut pending = String::new();
    // An indented block begins after a blank line (else it continues a list).
    let mut may_indent = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let code = if fenced {
            Some(line)
        } else {
            line.strip_prefix("    ").filter(|_| may_indent)
        };
        may_indent = line.trim().is_empty() || code.is_some();
        let Some(code) = code else { continue };
        let code = code.trim().strip_prefix("$ ").unwrap_or(code.trim());
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(code);
        out.push(std::mem::take(&mut pending));
    }
    out
}
