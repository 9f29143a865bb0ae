//! Durations from the RFC 3339 stamps that run manifests carry.

/// Seconds between two RFC 3339 stamps; `None` when either does not parse.
pub(crate) fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (a.parse::<jiff::Timestamp>().ok()?, b.parse::<jiff::Timestamp>().ok()?);
    Some(b.duration_since(a).as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_days_months_and_leap_years() {
        assert_eq!(seconds_between("2026-12-01T10:00:00.000Z", "2026-12-01T10:00:00.000Z"), Some(0.0));
        assert_eq!(seconds_between("2026-02-28T23:59:59.000Z", "2026-03-01T00:00:01.500Z"), Some(2.5));
        assert_eq!(seconds_between("2028-02-28T00:00:00.000Z", "2028-03-01T00:00:00.000Z"), Some(172_800.0));
        assert_eq!(seconds_between("not a stamp", "2026-12-01T10:00:00.000Z"), None);
    }
}
