//! STIX timestamps: RFC 3339 in UTC with a literal `Z`.

use jiff::Timestamp;

/// `s` as a STIX timestamp: kept verbatim when it already is one, else
/// converted (offsets to UTC, a bare date or date-time read as UTC).
pub(crate) fn stix(s: &str) -> Option<String> {
    let s = s.trim();
    if is_stix(s) {
        return Some(s.to_string());
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t.to_string());
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().to_string());
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().to_string());
    }
    None
}

/// Whether `s` is a STIX timestamp (`YYYY-MM-DDTHH:MM:SS[.s+]Z`).
pub(crate) fn is_stix(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[10] == b'T'
        && b.last() == Some(&b'Z')
        && !s.contains('+')
        && s.parse::<Timestamp>().is_ok()
}

/// The instant, for ordering.
pub(crate) fn instant(s: &str) -> Option<Timestamp> {
    s.parse::<Timestamp>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_dates_and_offsets() {
        assert_eq!(
            stix("2023-08-08T00:00:00.000Z").as_deref(),
            Some("2023-08-08T00:00:00.000Z")
        );
        assert_eq!(stix("2023-08-08").as_deref(), Some("2023-08-08T00:00:00Z"));
        assert_eq!(
            stix("2023-08-08T02:00:00+02:00").as_deref(),
            Some("2023-08-08T00:00:00Z")
        );
        assert_eq!(
            stix("2023-08-08 10:11:12").as_deref(),
            Some("2023-08-08T10:11:12Z")
        );
        assert_eq!(stix("last tuesday"), None);
        assert!(!is_stix("2023-08-08"));
    }
}
