//! Sizes, durations and times as users type them and records print them.

use crate::error::{Error, Result};

/// `512M`, `2G`, `1.5GiB`, `1048576`: binary units, bytes when unitless.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        Error::usage(format!(
            "invalid size {}: expected a number with an optional unit (K, M, G, T)",
            super::names::quote(s)
        ))
    })?;
    let mult: u64 = match unit
        .to_ascii_lowercase()
        .trim_end_matches("ib")
        .trim_end_matches('b')
    {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => {
            return Err(Error::usage(format!(
                "invalid size {}: unknown unit {} (use K, M, G or T)",
                super::names::quote(s),
                super::names::quote(unit)
            )));
        }
    };
    let bytes = n * mult as f64;
    if !(1.0..=(u64::MAX as f64)).contains(&bytes) {
        return Err(Error::usage(format!(
            "invalid size {}: out of range",
            super::names::quote(s)
        )));
    }
    Ok(bytes as u64)
}

/// Bytes as a table shows them: 512B, 64K, 1.5G, 2G (powers of 1024, as
/// `--memory` reads them).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 && v.fract() != 0.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{}{}", v.round() as u64, UNITS[unit])
    }
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-11-25T19:58:31Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The time now as RFC 3339 UTC, to the second (`2026-11-25T19:58:31Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// A point in time as `--since` takes it: RFC 3339 in UTC
/// (`2026-11-30T12:00:00Z`, seconds' fraction and the Z optional), a date
/// (`2026-11-30`, its midnight UTC), or a duration ago (`90s`, `10m`,
/// `2h30m`, `1d`).
pub fn parse_when(s: &str, now: std::time::SystemTime) -> Result<std::time::SystemTime> {
    let upper = s.trim().to_ascii_uppercase();
    let t = upper.as_str();
    let dated = t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-');
    // 2026-11-30, 2026-11-30T12:00 and 2026-11-30 12:00 get their zeros.
    let stamp = match t.len() {
        10 if dated => format!("{t}T00:00:00"),
        16 if dated => format!("{t}:00"),
        _ => t.trim_end_matches('Z').to_string(),
    };
    if let Ok(when) = humantime::parse_rfc3339_weak(&stamp) {
        return Ok(when);
    }
    let offset = t.len() > 19 && dated && t[19..].contains(['+', '-']);
    if offset {
        return Err(Error::usage(format!(
            "invalid time {}: give it in UTC (2026-11-30T12:00:00Z), without a time zone offset",
            crate::guest::names::quote(s)
        )));
    }
    humantime::parse_duration(s.trim())
        .ok()
        .and_then(|d| now.checked_sub(d))
        .ok_or_else(|| {
            Error::usage(format!(
                "invalid time {}: expected a UTC time (2026-11-30T12:00:00Z), a date (2026-11-30) or a duration ago (10m, 2h, 1d)",
                crate::guest::names::quote(s)
            ))
        })
}

/// A time as RFC 3339 in UTC, to the millisecond: `2026-11-30T12:00:00.123Z`.
pub fn rfc3339_millis(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// A signal's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal(pub i32);

/// A signal by name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>()
        && (1..=64).contains(&n)
    {
        return Ok(n);
    }
    let name = s.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            Error::usage(format!(
                "invalid signal {}: expected a name like TERM or a number from 1 to 64",
                super::names::quote(s)
            ))
        })
}

/// The signals known by name (without `SIG`), for `parse_signal` and
/// completions; any other is given by number.
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("TERM", libc::SIGTERM),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("PWR", libc::SIGPWR),
    ("WINCH", libc::SIGWINCH),
    ("ALRM", libc::SIGALRM),
];

#[cfg(test)]
mod tests {
    #[test]
    fn times_and_durations_ago() {
        use std::time::{Duration, UNIX_EPOCH};
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |s| super::parse_when(s, now).unwrap();
        let secs = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert_eq!(secs(at("2026-11-30T12:00:00Z")), 1_796_040_000.0);
        assert_eq!(secs(at("2026-11-30T12:00:00.5Z")), 1_796_040_000.5);
        assert_eq!(secs(at("2026-11-30T12:00:00")), 1_796_040_000.0);
        assert_eq!(secs(at("2026-11-30")), 1_795_996_800.0);
        assert_eq!(secs(at("2026-11-30 12:00")), 1_796_040_000.0);
        assert_eq!(secs(at("2026-11-30t12:00:00z")), 1_796_040_000.0);
        let offset = super::parse_when("2026-11-30T12:00:00+01:00", now)
            .err()
            .unwrap();
        assert!(
            offset.message.contains("without a time zone offset"),
            "{}",
            offset.message
        );
        assert_eq!(secs(at("10m")), 1_800_000_000.0 - 600.0);
        assert_eq!(secs(at("2h30m")), 1_800_000_000.0 - 9000.0);
        assert_eq!(secs(at("1d")), 1_800_000_000.0 - 86_400.0);
        for bad in ["yesterday", "12:00", "2026-13-01", "-5m", ""] {
            assert!(super::parse_when(bad, now).is_err(), "{bad}");
        }
        assert_eq!(
            super::rfc3339_millis(UNIX_EPOCH + Duration::from_millis(1_796_040_000_123)),
            "2026-11-30T12:00:00.123Z"
        );
    }

    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("2g").unwrap(), 2 << 30);
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_636_711), "2026-11-25T19:58:31Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM").unwrap(), 15);
        assert_eq!(parse_signal("sigkill").unwrap(), 9);
        assert_eq!(parse_signal("10").unwrap(), 10);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("0").is_err());
    }

    #[test]
    fn sizes_read_as_a_person_would_write_them() {
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(2 << 30), "2G");
        assert_eq!(human_size(1536 << 20), "1.5G");
        assert_eq!(human_size(256 << 20), "256M");
        assert_eq!(human_size(34359738368), "32G");
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sizes_parse_or_refuse(s in "[0-9.]{0,8}[kKmMgGtTiIbBQ ]{0,3}|\\PC{0,20}") {
            match parse_size(&s) {
                Ok(n) => prop_assert!(n >= 1),
                Err(e) => prop_assert_eq!(e.kind, crate::error::Kind::Usage),
            }
        }

        #[test]
        fn human_sizes_read_back_close(n in 1u64..(1u64 << 50)) {
            let back = parse_size(&human_size(n)).unwrap();
            // One decimal at most: within 5% (and exact below 1 KiB).
            prop_assert!(back.abs_diff(n) <= n / 20 + 1, "{n} -> {} -> {back}", human_size(n));
        }

        #[test]
        fn signals_are_in_range(s in "(SIG)?[A-Za-z]{0,6}|-?[0-9]{0,4}") {
            if let Ok(n) = parse_signal(&s) {
                prop_assert!((1..=64).contains(&n));
            }
        }

        #[test]
        fn times_are_rfc3339(secs in 0u64..(1u64 << 36)) {
            let t = rfc3339(secs);
            prop_assert_eq!(t.len(), 20);
            prop_assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T');
        }
    }
}
