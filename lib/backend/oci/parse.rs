//! What the OCI runtimes print: `list --format json` and `state`, the same
//! shape in crun and runc (runc prints `null` for an empty list).

use crate::guest::Status;
use serde::Deserialize;

/// One container as the runtime reports it.
#[derive(Debug, Deserialize, PartialEq)]
pub struct RuntimeState {
    /// Its name.
    pub id: String,
    /// Its init's pid; 0 when it has none.
    #[serde(default)]
    pub pid: u32,
    /// The runtime's status word (created, running, paused, stopped).
    pub status: String,
    /// Its bundle's directory; empty when not given.
    #[serde(default)]
    pub bundle: String,
}

/// `list --format json`: every container the runtime knows.
pub fn list(text: &str) -> Result<Vec<RuntimeState>, serde_json::Error> {
    Ok(serde_json::from_str::<Option<Vec<RuntimeState>>>(text)?.unwrap_or_default())
}

/// `state NAME`: one container.
pub fn state(text: &str) -> Result<RuntimeState, serde_json::Error> {
    serde_json::from_str(text)
}

/// The runtime's status word as a guestkit status. OCI's words are ours.
pub fn status(word: &str) -> Status {
    match word {
        "running" => Status::Running,
        "stopped" => Status::Stopped,
        "paused" => Status::Paused,
        "created" => Status::Created,
        _ => Status::Unknown,
    }
}

/// The version `RUNTIME --version` prints on its first line
/// (`crun version 1.8.1`, `runc version 1.1.5+ds1`).
pub fn version(text: &str) -> Option<&str> {
    let first = text.lines().next()?;
    let (_, v) = first.split_once(" version ")?;
    Some(v.trim()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_and_compared() {
        let crun = include_str!("testdata/crun-version.txt");
        let runc = include_str!("testdata/runc-version.txt");
        assert_eq!(version(crun), Some("1.8.1"));
        assert_eq!(version(runc), Some("1.1.5+ds1"));
        assert_eq!(version("crun: no\n"), None);
    }

    #[test]
    fn crun_list_recorded() {
        let l = list(include_str!("testdata/crun-list.json")).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0],
            RuntimeState {
                id: "t2".into(),
                pid: 23096,
                status: "created".into(),
                bundle: "/tmp/oci2/b".into()
            }
        );
        assert_eq!((l[1].pid, status(&l[1].status)), (0, Status::Stopped));
    }

    #[test]
    fn runc_list_recorded() {
        let l = list(include_str!("testdata/runc-list.json")).unwrap();
        assert_eq!(l[0].id, "r1");
        assert_eq!(status(&l[0].status), Status::Running);
        assert_eq!(
            list(include_str!("testdata/runc-list-stopped.json")).unwrap()[0].status,
            "stopped"
        );
        assert_eq!(
            list(include_str!("testdata/runc-list-empty.json")).unwrap(),
            vec![]
        );
    }

    #[test]
    fn states_recorded() {
        let s = state(include_str!("testdata/runc-state.json")).unwrap();
        assert_eq!((s.id.as_str(), s.pid), ("r1", 23132));
        let s = state(include_str!("testdata/crun-state-stopped.json")).unwrap();
        assert_eq!((s.status.as_str(), s.pid), ("stopped", 0));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::guest::arbitrary::json;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn runtime_output_never_panics(v in json(), word in "\\PC{0,12}") {
            let t = v.to_string();
            let _ = list(&t);
            let _ = state(&t);
            let _ = status(&word);
        }
    }
}
