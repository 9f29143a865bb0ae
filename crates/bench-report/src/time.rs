//! Durations from the RFC 3339 stamps that run manifests carry.

/// Seconds between two RFC 3339 stamps as run manifests carry them (`2026-12-01T04:43:01.893Z`).
pub fn seconds_between(a: &str, b: &str) -> Option<f64> {
    Some(epoch_seconds(b)? - epoch_seconds(a)?)
}

fn epoch_seconds(s: &str) -> Option<f64> {
    let (date, time) = s.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':');
    let (h, min, sec) =
        (t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + sec)
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
