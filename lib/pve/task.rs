//! Proxmox VE tasks: a long operation answers with a UPID, which is followed
//! on the node it names until the task stops. `OK` and `WARNINGS: n` are
//! success; anything else is the task's own error, with its log's last lines.

use super::client::{Client, classify};
use crate::error::{Error, Result};
use serde_json::Value;
use std::time::{Duration, Instant};

/// `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`
#[derive(Clone, Debug, PartialEq)]
pub struct Upid {
    /// The whole UPID, as the server gave it.
    pub raw: String,
    /// The node the task runs on, where it is followed.
    pub node: String,
    /// The task's type: `qmstart`, `hastop`, `qmigrate`…
    pub kind: String,
    /// What it acts on, mostly a VMID; may be empty.
    pub id: String,
}

/// Splits a UPID into its parts; `None` for anything that is not one.
pub fn parse_upid(s: &str) -> Option<Upid> {
    let f: Vec<&str> = s.split(':').collect();
    if f.len() < 9 || f[0] != "UPID" || f[1].is_empty() {
        return None;
    }
    Some(Upid {
        raw: s.to_string(),
        node: f[1].to_string(),
        kind: f[5].to_string(),
        id: f[6].to_string(),
    })
}

/// The UPID a write returned.
pub fn upid_of(data: &Value) -> Result<Upid> {
    data.as_str().and_then(parse_upid).ok_or_else(|| {
        Error::failed(format!(
            "expected a task id (UPID) from the server, got {data}"
        ))
    })
}

/// Polls the task until it stops, showing progress on a terminal. Returns
/// the exit status (`OK`, `WARNINGS: 2`); a failed task is an error of the
/// kind its message says. `deadline` bounds the wait (exit 7 after it).
pub fn wait(c: &Client, upid: &Upid, label: &str, deadline: Option<Instant>) -> Result<String> {
    let start = Instant::now();
    let path = format!("/nodes/{}/tasks/{}", upid.node, upid.raw);
    // Short at first (many tasks end within a second), then every 250 ms:
    // fine enough to end soon after the task, light on the server.
    let mut pause = Duration::from_millis(50);
    let mut tail = LogTail::default();
    let _clear = ClearProgress(&c.out);
    loop {
        let st = c.get(&format!("{path}/status"), &[])?;
        if st.get("status").and_then(Value::as_str) == Some("stopped") {
            c.out.progress(None);
            let exit = st
                .get("exitstatus")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            if exit == "OK" || exit.starts_with("WARNINGS") {
                c.out.trace(&format!(
                    "task {} {} ended {exit} after {:.1} s",
                    upid.kind,
                    upid.id,
                    start.elapsed().as_secs_f64()
                ));
                return Ok(exit);
            }
            tail.read(c, &path);
            return Err(failed_task(upid, &exit, &tail));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            c.out.progress(None);
            return Err(Error::timeout(format!(
                "task {} is still running after {:.0} s",
                upid.kind,
                start.elapsed().as_secs_f64()
            ))
            .with_hint(format!(
                "it goes on on the server; follow it with: pvenode task log {}",
                upid.raw
            )));
        }
        if c.out.shows_progress() {
            tail.read(c, &path);
            let last = tail.last.back().cloned().unwrap_or_default();
            c.out.progress(Some(&format!(
                "{label}: {} {:.0}s {last}",
                upid.kind,
                start.elapsed().as_secs_f64()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 3 / 2).min(Duration::from_millis(250));
    }
}

fn failed_task(upid: &Upid, exit: &str, tail: &LogTail) -> Error {
    let lines: Vec<String> = tail
        .last
        .iter()
        .filter(|l| !l.starts_with("TASK ERROR"))
        .cloned()
        .collect();
    let mut e = Error::new(classify(exit), exit.to_string());
    let log = if lines.is_empty() {
        String::new()
    } else {
        format!("the task log ends: {}; ", lines.join(" / "))
    };
    e.hint = Some(format!(
        "{log}see it all with: pvenode task log {}",
        upid.raw
    ));
    e
}

/// Clears the progress line however the wait ends (an error included).
pub struct ClearProgress<'o>(pub &'o crate::output::Output);

impl Drop for ClearProgress<'_> {
    fn drop(&mut self) {
        self.0.progress(None);
    }
}

/// The end of a task's log, read incrementally: each read asks only for
/// the lines after those already seen, so a long log (a disk mirror's
/// progress) costs little, and the last lines are the real last ones.
#[derive(Default)]
struct LogTail {
    seen: usize,
    last: std::collections::VecDeque<String>,
}

impl LogTail {
    const PAGE: usize = 500;
    const KEEP: usize = 4;

    /// Reads the lines written since the last read (errors leave it as is:
    /// the log only decorates progress and failures).
    fn read(&mut self, c: &Client, path: &str) {
        loop {
            let params = [
                ("start", self.seen.to_string()),
                ("limit", Self::PAGE.to_string()),
            ];
            let Ok((page, total)) = c.get_page(&format!("{path}/log"), &params) else {
                return;
            };
            if !self.absorb(&page, total) {
                return;
            }
        }
    }

    /// Takes in one page of the log (`[{"n":…,"t":…}, …]`, and the log's
    /// `total` when the server gives it); whether there may be more.
    fn absorb(&mut self, page: &Value, total: Option<u64>) -> bool {
        let lines = page.as_array().map_or(&[][..], Vec::as_slice);
        // An empty log reads as one made-up line, "no content": it is
        // not line 1 of the log, which is still to come.
        if self.seen == 0
            && lines.len() == 1
            && lines[0].get("t").and_then(Value::as_str) == Some("no content")
        {
            return false;
        }
        self.seen += lines.len();
        for t in lines
            .iter()
            .filter_map(|l| super::lenient::read::<String>(l.get("t")).get())
        {
            if !t.trim().is_empty() {
                self.last.push_back(t.to_string());
                if self.last.len() > Self::KEEP {
                    self.last.pop_front();
                }
            }
        }
        if lines.len() < Self::PAGE {
            return false;
        }
        // A long log: only its last lines matter; skip to them.
        if let Some(total) = total.and_then(|t| usize::try_from(t).ok())
            && total > self.seen + Self::KEEP
        {
            self.seen = total - Self::KEEP;
            self.last.clear();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upids_name_their_node_type_and_guest() {
        let u = parse_upid("UPID:pve2:00001ED0:00035693:66343A23:qmstart:100:ops@pve!ci:").unwrap();
        assert_eq!(
            (u.node.as_str(), u.kind.as_str(), u.id.as_str()),
            ("pve2", "qmstart", "100")
        );
        assert!(parse_upid("UPID:pve2:1").is_none());
        assert!(parse_upid("not a upid").is_none());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::guest::arbitrary::json;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn upids_parse_or_not(s in "(UPID:)?[a-z0-9:]{0,60}|\\PC{0,40}") {
            if let Some(u) = parse_upid(&s) {
                prop_assert!(!u.node.is_empty() && u.raw == s);
            }
        }

        /// Any page a server sends as a task log is taken in, keeping at
        /// most the last lines, and never reading past the log's end.
        #[test]
        fn log_pages_are_taken_in(pages in prop::collection::vec((json(), any::<Option<u64>>()), 0..5)) {
            let mut tail = LogTail::default();
            for (page, total) in &pages {
                tail.absorb(page, *total);
                prop_assert!(tail.last.len() <= LogTail::KEEP);
            }
        }
    }
}
