//! Every example the project shows a user, checked against the tools: the
//! man pages' EXAMPLES (the specs they are generated from), and the command
//! lines of README.md and docs/*.md. Each invocation of a tool in an example
//! (in a pipeline, after `&&`, in `$(…)`, in a nushell block) is parsed as
//! that tool parses it, typed flag values included, so that an example
//! using a flag that no longer exists, or a value the flag refuses, fails
//! here. (The cookbook's recipes are run whole: tests/cli/cookbook.rs.)

use guestkit::cli::args::FromMatches;
use guestkit::cli::parse::{Parsed, parse};
use guestkit::cli::spec::Command;
use guestkit::cmd::{ALL, ctr, guestkit as kit, image, vm};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[path = "support/markdown.rs"]
mod markdown;
use markdown::markdown_lines;

/// Reads a tool's flags into its typed `Args`, as the tool does.
fn typed(name: &str, m: &guestkit::cli::parse::Matches) -> guestkit::error::Result<()> {
    macro_rules! tools {
        ($($tool:literal => $module:path),* $(,)?) => {
            match name {
                $($tool => { use $module as t; t::Args::from_matches(m).map(|_| ()) })*
                other => panic!("{other} is not in this test's table of tools"),
            }
        };
    }
    tools! {
        "ctr-list" => ctr::list, "ctr-create" => ctr::create, "ctr-start" => ctr::start,
        "ctr-stop" => ctr::stop, "ctr-delete" => ctr::delete, "ctr-kill" => ctr::kill,
        "ctr-state" => ctr::state, "ctr-exec" => ctr::exec, "ctr-run" => ctr::run,
        "ctr-logs" => ctr::logs, "ctr-wait" => ctr::wait, "ctr-restart" => ctr::restart,
        "ctr-pause" => ctr::pause, "ctr-resume" => ctr::resume, "ctr-stats" => ctr::stats,
        "ctr-update" => ctr::update, "ctr-cp" => ctr::cp,
        "vm-list" => vm::list, "vm-create" => vm::create, "vm-clone" => vm::clone,
        "vm-start" => vm::start, "vm-stop" => vm::stop, "vm-restart" => vm::restart,
        "vm-delete" => vm::delete, "vm-state" => vm::state, "vm-wait" => vm::wait,
        "vm-config" => vm::config, "vm-resize" => vm::resize, "vm-snapshot" => vm::snapshot,
        "vm-snapshot-list" => vm::snapshot_list,
        "vm-snapshot-rollback" => vm::snapshot_rollback,
        "vm-snapshot-delete" => vm::snapshot_delete, "vm-migrate" => vm::migrate,
        "vm-exec" => vm::exec, "guestkit-setup" => kit::setup, "guestkit-doctor" => kit::doctor,
        "image-list" => image::list, "image-delete" => image::delete,
        "image-prune" => image::prune,
    }
}

fn tool(name: &str) -> Option<&'static Command> {
    ALL.iter().copied().find(|c| c.name == name)
}

/// A shell line's words, with its operators (`|`, `&&`, `;`, `{`…) as words
/// of their own; quotes removed, `$VAR` kept as written; a `$(…)` is the word
/// `$SUBST`, its text added to `inner` to be looked into as a line.
fn words(line: &str, inner: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut w = String::new();
    let mut chars = line.chars().peekable();
    let flush = |w: &mut String, out: &mut Vec<String>| {
        if !w.is_empty() {
            out.push(std::mem::take(w));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => w.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                let mut depth = 1;
                let mut text = String::new();
                for c in chars.by_ref() {
                    depth += i32::from(c == '(') - i32::from(c == ')');
                    if depth == 0 {
                        break;
                    }
                    text.push(c);
                }
                inner.push(text);
                w.push_str("$SUBST");
            }
            ' ' | '\t' => flush(&mut w, &mut out),
            // A brace is nushell's block only as a word of its own (xargs' {}).
            '{' | '}' if !w.is_empty() || chars.peek().is_some_and(|n| *n != ' ') => w.push(c),
            '|' | '&' | ';' | '(' | ')' | '{' | '}' | '`' => {
                flush(&mut w, &mut out);
                out.push(c.to_string());
            }
            c => w.push(c),
        }
    }
    flush(&mut w, &mut out);
    out
}

/// Where a command may start: the line's start, after an operator, or after
/// a word that runs the next one (`do`, `xargs`' options).
fn invocations(line: &str) -> Vec<(String, Vec<String>)> {
    let mut inner = Vec::new();
    let ws = words(line, &mut inner);
    // A list of the tools' names is not a command.
    if ws.len() > 1 && ws.iter().all(|w| tool(w).is_some()) {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut at_start = true;
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i].as_str();
        if at_start && let Some(cmd) = tool(w) {
            let mut args = Vec::new();
            i += 1;
            while i < ws.len() && !["|", "&", ";", ")", "}", "`"].contains(&ws[i].as_str()) {
                let a = ws[i].as_str();
                // Redirections are the shell's, not the tool's.
                if a.starts_with('>') || a.starts_with('<') || a.starts_with("2>") {
                    if matches!(a, ">" | "<" | "2>" | ">>") {
                        i += 1;
                    }
                } else {
                    args.push(a.to_string());
                }
                i += 1;
            }
            // xargs gives what it reads as the last arguments.
            let by_xargs = ws[..i]
                .iter()
                .rev()
                .take_while(|w| !["|", ";", "&"].contains(&w.as_str()))
                .any(|w| w == "xargs");
            if by_xargs && !args.iter().any(|a| a.contains("{}")) {
                args.push("ARG".into());
            }
            found.push((cmd.name.to_string(), args));
            continue;
        }
        at_start = matches!(
            w,
            "|" | "&" | ";" | "(" | "{" | "`" | "do" | "then" | "else" | "xargs"
        ) || (w.starts_with('-') && i > 0 && ws[..i].iter().any(|p| p == "xargs"))
            || w.starts_with("{}")
            || (w == "{}" || w.starts_with('|') && w.ends_with('|'));
        i += 1;
    }
    for text in inner {
        found.extend(invocations(&text));
    }
    found
}

/// Parses one invocation as its tool would: None when it parses.
fn check(name: &str, args: &[String]) -> Option<String> {
    let cmd = tool(name).expect("found by name");
    // A variable as a closed flag's value stands for one of its values.
    let mut given: Vec<String> = Vec::new();
    for a in args {
        let closed = given.last().and_then(|f| {
            cmd.all_flags().find(|fl| {
                f.strip_prefix("--") == Some(fl.long)
                    || f.strip_prefix('-').and_then(|s| s.chars().next()) == fl.short
            })
        });
        match closed {
            Some(fl) if a.starts_with('$') && !fl.values.is_empty() => {
                given.push(fl.values[0].to_string())
            }
            _ => given.push(a.clone()),
        }
    }
    let args = given.iter().map(Into::into).collect();
    match parse(cmd, args) {
        Ok(Parsed::Run(m)) => typed(name, &m).err().map(|e| e.message),
        Ok(_) => None,
        Err(e) => Some(e.message),
    }
}

#[test]
fn every_example_uses_the_tools_as_they_are() {
    let mut examples: Vec<(String, String)> = Vec::new();
    for cmd in ALL {
        for (line, _) in cmd.examples {
            examples.push((format!("{}(1) EXAMPLES", cmd.name), line.to_string()));
        }
    }
    let mut docs = vec![Path::new(ROOT).join("README.md")];
    let mut more: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        let name = doc.strip_prefix(ROOT).unwrap().display().to_string();
        for line in markdown_lines(&text) {
            examples.push((name.clone(), line));
        }
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for (source, line) in &examples {
        for (name, args) in invocations(line) {
            checked += 1;
            if let Some(why) = check(&name, &args) {
                problems.push(format!("{source}: `{line}`: {name}: {why}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {checked} invocations in examples do not parse:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The extraction itself is checked: it finds what is there.
    assert!(checked > 250, "only {checked} invocations found");
}

#[test]
fn the_extraction_finds_each_invocation() {
    let found = |line: &str| -> Vec<String> {
        invocations(line)
            .into_iter()
            .map(|(n, a)| format!("{n} {}", a.join(" ")))
            .collect()
    };
    assert_eq!(
        found("ctr-list --status stopped | ctr-start --jobs 4"),
        ["ctr-list --status stopped", "ctr-start --jobs 4"]
    );
    assert_eq!(
        found("ctr-stop --force $(ctr-list -o name)"),
        ["ctr-stop --force $SUBST", "ctr-list -o name"]
    );
    assert_eq!(
        found("vm-list --tag prod -o name | xargs -I{} vm-snapshot {} nightly"),
        ["vm-list --tag prod -o name", "vm-snapshot {} nightly"]
    );
    assert_eq!(
        found("ctr-create web | jq -e .ok >/dev/null && echo created"),
        ["ctr-create web"]
    );
    assert_eq!(
        found(
            "vm-snapshot-list web | from json --objects | where not current | each { |s| vm-snapshot-delete web $s.snapshot }"
        ),
        ["vm-snapshot-list web", "vm-snapshot-delete web $s.snapshot"]
    );
    assert_eq!(found("echo 'ctr-stop web'"), Vec::<String>::new());
    assert_eq!(
        found("ctr-list  ctr-create  ctr-start"),
        Vec::<String>::new()
    );
    assert_eq!(
        found("vm-list -o name | xargs -n1 vm-snapshot-delete web"),
        ["vm-list -o name", "vm-snapshot-delete web ARG"]
    );
    // And a broken example is caught.
    assert!(check("ctr-stop", &["--timout".into(), "3".into()]).is_some());
    assert!(
        check(
            "ctr-create",
            &["web".into(), "--memory".into(), "lots".into()]
        )
        .is_some()
    );
    assert!(
        check(
            "ctr-create",
            &["web".into(), "--memory".into(), "1G".into()]
        )
        .is_none()
    );
}

/// Every source file under a directory, for the search below.
fn sources(dir: &Path, out: &mut String) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&p).unwrap());
        }
    }
}

#[test]
fn the_security_review_names_tests_that_exist() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("docs/security.md")).unwrap();
    let mut code = String::new();
    sources(&Path::new(ROOT).join("tests"), &mut code);
    sources(&Path::new(ROOT).join("lib"), &mut code);
    let boundaries = text
        .split("## What is not trusted")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .expect("docs/security.md has its table of boundaries");
    let mut named = 0;
    for row in boundaries.lines().filter(|l| l.starts_with("| **")) {
        // The last cell is the test; `\|` inside a cell is a pipe, not a cell's end.
        let cells: Vec<&str> = row.split(" | ").collect();
        let tests = cells.last().unwrap();
        assert!(
            tests.contains('`') || tests.contains("proptest"),
            "a boundary without a test: {row}"
        );
        for name in tests.split('`').skip(1).step_by(2) {
            if !name.contains("::") && name != "refusals" {
                continue; // a flag, a path or a snapshot name quoted in passing
            }
            named += 1;
            let last = name.rsplit("::").next().unwrap();
            let exists = match last {
                "refusals" => Path::new(ROOT).join("tests/cli/refusals.rs").exists(),
                // `os::tree` unit tests: the module.
                _ if name == "os::tree" => Path::new(ROOT).join("lib/os/tree.rs").exists(),
                f => code.contains(&format!("fn {f}(")) || code.contains(&format!("!({f});")),
            };
            assert!(exists, "docs/security.md names {name}, which no test is");
        }
    }
    assert!(named > 20, "only {named} tests named");
}
