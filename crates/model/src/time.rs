//! Timestamps as STIX 2.1 wants them, and the forms sources write them in.
//!
//! STIX timestamps are RFC 3339 in UTC with a literal `Z`
//! (`YYYY-MM-DDTHH:MM:SS[.s+]Z`); `created` and `modified` must also be
//! precise to the millisecond (at least three fractional digits). Sources
//! write dates (`2023-08-08`), date-times without a zone, offsets
//! (`+02:00`) and epoch seconds (`1690000000`); [`parse`] reads them all
//! as UTC instants.
//!
//! ```
//! use cairn_model::time;
//! assert_eq!(time::stix_ms("2023-08-08").as_deref(), Some("2023-08-08T00:00:00.000Z"));
//! assert_eq!(time::stix("2023-08-08T00:00:00Z").as_deref(), Some("2023-08-08T00:00:00Z"));
//! assert_eq!(time::from_epoch_seconds(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
//! ```

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Millisecond STIX format, `2023-08-08T00:00:00.000Z`.
const MS_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// The instant `s` names, in any form a source uses: RFC 3339 with `Z` or an
/// offset, a date-time without zone (read as UTC, `T` or space between), a
/// bare date (midnight UTC), or epoch seconds (9 to 11 digits).
pub fn parse(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.len() >= 9 && s.len() <= 11 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Timestamp::from_second(s.parse().ok()?).ok();
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned_datetime(TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    let d = s.parse::<jiff::civil::Date>().ok()?;
    d.to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// `t` as a millisecond STIX timestamp (sub-millisecond digits are dropped).
pub fn format_ms(t: Timestamp) -> String {
    t.strftime(MS_FORMAT).to_string()
}

/// `t` to the second, `2023-08-08T00:00:00Z` (the fraction dropped): the
/// form sightings keep, so that stamps from any log compare as text.
pub fn format_s(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Now, as a millisecond STIX timestamp.
pub fn now_ms() -> String {
    format_ms(Timestamp::now())
}

/// Epoch seconds as a millisecond STIX timestamp; `None` out of range.
pub fn from_epoch_seconds(secs: i64) -> Option<String> {
    Timestamp::from_second(secs).ok().map(format_ms)
}

/// Epoch milliseconds as a millisecond STIX timestamp; `None` out of range.
pub fn from_epoch_ms(ms: i64) -> Option<String> {
    Timestamp::from_millisecond(ms).ok().map(format_ms)
}

/// Whether `s` is a STIX timestamp: `YYYY-MM-DDTHH:MM:SS[.s+]Z`, a real instant.
pub fn is_stix(s: &str) -> bool {
    fraction_digits(s).is_some()
}

/// Whether `s` is a STIX timestamp precise to the millisecond (what
/// `created` and `modified` must be): three or more fractional digits.
pub fn is_stix_ms(s: &str) -> bool {
    fraction_digits(s).is_some_and(|n| n >= 3)
}

/// How many fractional-second digits the STIX timestamp `s` has; `None`
/// when it is not one.
fn fraction_digits(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let head_ok = shape.iter().zip(b).all(|(p, c)| match p {
        b'd' => c.is_ascii_digit(),
        other => other == c,
    });
    let tail = &b[19..b.len() - 1];
    let digits = match tail.split_first() {
        None => 0,
        Some((b'.', rest)) if !rest.is_empty() && rest.iter().all(u8::is_ascii_digit) => rest.len(),
        _ => return None,
    };
    (head_ok && s.parse::<Timestamp>().is_ok()).then_some(digits)
}

/// `s` as a STIX timestamp: kept verbatim when it already is one (so a
/// source's version string survives), else converted to milliseconds.
pub fn stix(s: &str) -> Option<String> {
    let s = s.trim();
    if is_stix(s) {
        return Some(s.to_string());
    }
    parse(s).map(format_ms)
}

/// `s` as a STIX timestamp precise to the millisecond (for `created` and
/// `modified`): kept verbatim when it already is one, else converted.
pub fn stix_ms(s: &str) -> Option<String> {
    let s = s.trim();
    if is_stix_ms(s) {
        return Some(s.to_string());
    }
    parse(s).map(format_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_sources_use() {
        let want = "2023-08-08T00:00:00.000Z";
        for s in [
            "2023-08-08",
            "2023-08-08T00:00:00Z",
            "2023-08-08T02:00:00+02:00",
            "2023-08-08 00:00:00",
            "2023-08-08T00:00:00",
            "1691452800",
        ] {
            assert_eq!(parse(s).map(format_ms).as_deref(), Some(want), "{s}");
        }
        assert_eq!(parse("last tuesday"), None);
        assert_eq!(parse("12"), None, "too short to be epoch seconds");
    }

    #[test]
    fn stix_forms_and_precision() {
        assert!(is_stix("2023-08-08T00:00:00Z"));
        assert!(!is_stix_ms("2023-08-08T00:00:00Z"));
        assert!(!is_stix_ms("2023-08-08T00:00:00.1Z"));
        assert!(is_stix_ms("2023-08-08T00:00:00.123456Z"));
        assert!(!is_stix("2023-08-08"));
        assert!(!is_stix("2023-08-08T00:00:00+00:00"));
        assert!(!is_stix("2023-13-08T00:00:00Z"), "no month 13");
        assert!(!is_stix("2023-08-08T00:00:00.Z"));
        assert_eq!(
            stix_ms("2023-08-08T00:00:00.123456Z").as_deref(),
            Some("2023-08-08T00:00:00.123456Z")
        );
        assert_eq!(
            stix_ms("2023-08-08T00:00:00.5Z").as_deref(),
            Some("2023-08-08T00:00:00.500Z")
        );
        assert_eq!(
            stix("2023-08-08T02:00:00+02:00").as_deref(),
            Some("2023-08-08T00:00:00.000Z")
        );
        assert_eq!(stix("soon"), None);
        assert_eq!(now_ms().len(), 24);
    }
}
