//! Parsers for what the lxc-* tools print. They print text, never JSON.

use crate::guest::Status;

/// One container in lxc-ls's table.
#[derive(Debug, PartialEq)]
pub struct LsRow {
    /// Its name.
    pub name: String,
    /// LXC's state word: RUNNING, STOPPED, FROZEN….
    pub state: String,
    /// Its init's pid, while it runs.
    pub pid: Option<u32>,
    /// Its IPv4 addresses.
    pub ipv4: Vec<String>,
}

/// `lxc-ls -f -F NAME,STATE,PID,IPV4`: an aligned table. IPV4 is last because
/// it is the one column whose value has spaces ("10.0.3.5, 10.0.4.6").
pub fn ls_fancy(text: &str) -> Vec<LsRow> {
    let mut rows = Vec::new();
    for line in text.lines().skip_while(|l| !l.starts_with("NAME")).skip(1) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(state), Some(pid)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let rest: Vec<&str> = parts.collect();
        let ipv4 = rest
            .join(" ")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "-")
            .map(str::to_string)
            .collect();
        rows.push(LsRow {
            name: name.to_string(),
            state: state.to_string(),
            pid: pid.parse().ok(),
            ipv4,
        });
    }
    rows
}

/// LXC's state word as a guestkit status, and the word itself when it says more.
pub fn status(state: &str) -> (Status, Option<String>) {
    match state {
        "RUNNING" => (Status::Running, None),
        "STOPPED" => (Status::Stopped, None),
        "FROZEN" => (Status::Paused, Some("frozen".into())),
        other => (Status::Unknown, Some(other.to_ascii_lowercase())),
    }
}

/// What lxc-info says of one container.
#[derive(Debug, Default, PartialEq)]
pub struct Info {
    /// LXC's state word: RUNNING, STOPPED, FROZEN….
    pub state: String,
    /// Its init's pid, while it runs.
    pub pid: Option<u32>,
    /// Its addresses, one per IP line.
    pub ips: Vec<String>,
    /// The CPU time it has used, in nanoseconds.
    pub cpu_ns: Option<u64>,
    /// The memory it uses, in bytes.
    pub memory_bytes: Option<u64>,
}

/// `lxc-info -H`: "Key: value" lines with raw numbers; IP repeats.
pub fn info(text: &str) -> Info {
    let mut info = Info::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "State" => info.state = value.to_string(),
            "PID" => info.pid = value.parse().ok(),
            "IP" => info.ips.push(value.to_string()),
            "CPU use" => info.cpu_ns = value.parse().ok(),
            "Memory use" => info.memory_bytes = value.parse().ok(),
            _ => {}
        }
    }
    info
}

/// The message of an lxc error line, without its source location.
/// stderr: `lxc-start: web: ../src/lxc/start.c: main: 266 No container config specified`
/// log:    `lxc-start web 20261125 ERROR start - ../src/lxc/start.c:f:329 - Failed to …`
pub fn error_message(line: &str) -> String {
    let line = line.trim();
    let Some(i) = line.find("../src/lxc/") else {
        return line.to_string();
    };
    let rest = &line[i + "../src/lxc/".len()..];
    if let Some((loc, msg)) = rest.split_once(" - ")
        && !loc.contains(' ')
    {
        return msg.trim().to_string();
    }
    let mut parts = rest.splitn(3, ": ");
    let (_file, _func, tail) = (parts.next(), parts.next(), parts.next().unwrap_or(rest));
    tail.trim_start_matches(|c: char| c.is_ascii_digit())
        .trim()
        .to_string()
}

/// The messages of the ERROR lines of an lxc log, in order, without repeats.
pub fn log_errors(log: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in log.lines().filter(|l| l.contains(" ERROR ")) {
        let m = error_message(line);
        if !m.is_empty() && !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// The value of the last `key = value` line of an LXC config.
pub fn config_value<'a>(config: &'a str, key: &str) -> Option<&'a str> {
    config_values(config, key).last()
}

/// The values of every `key = value` line of an LXC config, in order.
pub fn config_values<'a>(config: &'a str, key: &str) -> impl Iterator<Item = &'a str> {
    let key = key.to_string();
    config.lines().filter_map(move |l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then_some(v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_fancy_recorded() {
        let rows = ls_fancy(include_str!("testdata/lxc-ls-f.txt"));
        assert_eq!(
            rows,
            vec![
                LsRow {
                    name: "alpha".into(),
                    state: "RUNNING".into(),
                    pid: Some(3776),
                    ipv4: vec!["10.0.3.174".into(), "10.0.4.66".into()]
                },
                LsRow {
                    name: "beta-2".into(),
                    state: "FROZEN".into(),
                    pid: Some(3781),
                    ipv4: vec!["10.0.3.97".into(), "10.0.4.107".into()]
                },
                LsRow {
                    name: "gamma".into(),
                    state: "STOPPED".into(),
                    pid: None,
                    ipv4: vec![]
                },
            ]
        );
        assert_eq!(ls_fancy(""), vec![]);
    }

    #[test]
    fn info_recorded() {
        let i = info(include_str!("testdata/lxc-info-H-running.txt"));
        assert_eq!(i.state, "RUNNING");
        assert_eq!(i.pid, Some(3776));
        assert_eq!(i.ips, ["10.0.3.174", "10.0.4.66"]);
        assert_eq!(i.cpu_ns, Some(4540288));
        assert_eq!(i.memory_bytes, Some(208896));
        let i = info(include_str!("testdata/lxc-info-H-stopped.txt"));
        assert_eq!(
            i,
            Info {
                state: "STOPPED".into(),
                ..Info::default()
            }
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(status("RUNNING"), (Status::Running, None));
        assert_eq!(status("FROZEN"), (Status::Paused, Some("frozen".into())));
        assert_eq!(
            status("STARTING"),
            (Status::Unknown, Some("starting".into()))
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(
                "lxc-start: alpha: ../src/lxc/tools/lxc_start.c: main: 266 No container config specified"
            ),
            "No container config specified"
        );
        assert_eq!(
            error_message(
                "lxc-start t1 20261125195943.498 ERROR    network - ../src/lxc/network.c:netdev_configure_server_veth:659 - No such device - Failed to attach \"vethX\" to bridge \"br9\""
            ),
            "No such device - Failed to attach \"vethX\" to bridge \"br9\""
        );
        assert_eq!(error_message("alpha doesn't exist"), "alpha doesn't exist");
    }

    #[test]
    fn config_lines() {
        let c = "lxc.init.cmd = /bin/sh /x\nlxc.environment = A=1\nlxc.environment=B=2\n";
        assert_eq!(config_value(c, "lxc.init.cmd"), Some("/bin/sh /x"));
        assert_eq!(
            config_values(c, "lxc.environment").collect::<Vec<_>>(),
            ["A=1", "B=2"]
        );
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::guest::arbitrary::text;
    use proptest::prelude::*;

    proptest! {
        /// What lxc-ls, lxc-info and LXC's logs print may be anything
        /// (another version, a locale): parsing never panics.
        #[test]
        fn lxc_output_never_panics(t in text()) {
            for row in ls_fancy(&t) {
                prop_assert!(!row.name.is_empty());
            }
            let _ = info(&t);
            let _ = status(&t);
            let _ = error_message(&t);
            let _ = log_errors(&t);
            let _ = config_value(&t, "lxc.rootfs.path");
        }
    }
}
