//! Timestamps and run ids without a date-time dependency.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn civil_from_unix(secs: i64) -> Civil {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    Civil {
        year,
        month,
        day,
        hour: (sod / 3600) as u32,
        minute: (sod % 3600 / 60) as u32,
        second: (sod % 60) as u32,
    }
}

fn now_since_epoch() -> std::time::Duration {
    // A clock before 1970 is a broken machine; treat it as the epoch rather than failing a run.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Seconds since 1970 as RFC 3339 UTC, e.g. `2026-11-29T05:29:06Z`.
pub fn format_rfc3339(secs: i64) -> String {
    let c = civil_from_unix(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

fn format_run_id(secs: i64, suffix: u32) -> String {
    let c = civil_from_unix(secs);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}-{:06x}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        suffix & 0xff_ffff
    )
}

/// The current time as RFC 3339 UTC with second precision, e.g. `2026-11-29T05:29:06Z`.
pub fn now_rfc3339() -> String {
    format_rfc3339(now_since_epoch().as_secs() as i64)
}

/// A new run id, sortable by creation time: UTC timestamp plus 6 random hex characters,
/// e.g. `20261129-052906-3f9a1c`.
pub fn new_run_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = now_since_epoch();
    // RandomState is seeded randomly per process; mixing in time, pid and a counter makes two ids
    // in the same second differ both within a process and across processes.
    let mut h = RandomState::new().build_hasher();
    h.write_u128(now.as_nanos());
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format_run_id(now.as_secs() as i64, h.finish() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_709_164_800), "2024-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_798_521_546), "2026-12-29T05:19:06Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn run_id_shape() {
        assert_eq!(
            format_run_id(1_798_521_546, 0x3f9a1c),
            "20261229-051906-3f9a1c"
        );
        let id = new_run_id();
        assert_eq!(id.len(), 22, "{id}");
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.len(), 3, "{id}");
        assert!(
            parts
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_hexdigit())),
            "{id}"
        );
        assert_ne!(new_run_id(), new_run_id());
    }

    #[test]
    fn now_looks_like_rfc3339() {
        let s = now_rfc3339();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T', "{s}");
        assert!(s.as_str() >= "2025-01-01T00:00:00Z", "{s}");
    }
}
