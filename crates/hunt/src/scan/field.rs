//! One typed value against the index: [`match_field`] (the full match,
//! dispatched on the column's [`FieldType`]) and [`gather_field`], its
//! prefilter half (deferred probes). Every line loop goes through these.

use super::text::{LineExtractor, SimpleTokenizer};
use crate::fields::FieldType;
use crate::index::probe::Probe;
use crate::index::{Index, Match};
use crate::normalize;
use cairn_model::IndicatorKind;
use std::net::IpAddr;

/// Matches one value of a typed field.
pub(crate) fn match_field(index: &Index, ty: FieldType, raw: &[u8], out: &mut Vec<Match>) {
    let v = raw.trim_ascii();
    if v.is_empty() {
        return;
    }
    match ty {
        FieldType::Domain => index.match_host_or_ip(v, false, out),
        FieldType::Ip => {
            if let Some(ip) = normalize::parse_ip(v) {
                index.match_ip(ip, false, out);
            }
        }
        FieldType::Url => {
            if let Ok(s) = std::str::from_utf8(v) {
                index.match_url(s, out);
            }
        }
        FieldType::Email => index.match_email(v, out),
        FieldType::Hash | FieldType::Serial | FieldType::Ja3 | FieldType::Jarm => {
            let mut buf = [0u8; 256];
            if let Some(h) = normalize::hex_stack(v, &mut buf) {
                index.match_hex(h, |k| hex_kind_fits(ty, k), out);
            }
        }
        FieldType::Ja4 => index.match_simple(IndicatorKind::Ja4, v, out),
        FieldType::FileName => index.match_simple(IndicatorKind::FileName, v, out),
        FieldType::Mac => index.match_simple(IndicatorKind::Mac, v, out),
        FieldType::UserAgent => index.match_simple(IndicatorKind::UserAgent, v, out),
        FieldType::FilePath => index.match_simple(IndicatorKind::FilePath, v, out),
        FieldType::Auto => {
            // What `IndicatorKind::detect` would call an IPv4 address, without
            // the detour through `str` (DNS answers are mostly addresses).
            if let Some(a) = normalize::parse_ipv4_strict(v) {
                index.match_ip(std::net::IpAddr::V4(a), false, out);
                return;
            }
            let Ok(s) = std::str::from_utf8(v) else {
                return;
            };
            match IndicatorKind::detect(s) {
                Some(IndicatorKind::Ipv4 | IndicatorKind::Ipv6) => {
                    match_field(index, FieldType::Ip, v, out)
                }
                Some(IndicatorKind::Url) => index.match_url(s, out),
                Some(IndicatorKind::Email) => index.match_email(v, out),
                Some(k) if k.is_hex() || k == IndicatorKind::Jarm => {
                    match_field(index, FieldType::Hash, v, out)
                }
                Some(IndicatorKind::Domain) => index.match_host_or_ip(v, false, out),
                _ => {}
            }
        }
        FieldType::Text => {
            if let Ok(s) = std::str::from_utf8(v) {
                for (k, val) in SimpleTokenizer.extract(s) {
                    match_typed(index, k, &val, out);
                }
            }
        }
        FieldType::Ignore => {}
    }
}

/// Whether a hex indicator of `kind` may match a value of a hex column
/// of type `ty`: TLS client/server fingerprints only in their own columns.
fn hex_kind_fits(ty: FieldType, kind: IndicatorKind) -> bool {
    use IndicatorKind as K;
    match ty {
        FieldType::Ja3 => matches!(kind, K::Ja3 | K::Ja3s),
        FieldType::Jarm => kind == K::Jarm,
        _ => true,
    }
}

/// Whether any indicator of `index` can match a value of type `ty`. A
/// column none can match is not read at all.
pub(crate) fn can_match(index: &Index, ty: FieldType) -> bool {
    use IndicatorKind as K;
    match ty {
        FieldType::Ja3 => index.has_kind(K::Ja3) || index.has_kind(K::Ja3s),
        FieldType::Jarm => index.has_kind(K::Jarm),
        FieldType::Ja4 => index.has_kind(K::Ja4),
        FieldType::Email => index.has_kind(K::Email),
        FieldType::FileName => index.has_kind(K::FileName),
        FieldType::Mac => index.has_kind(K::Mac),
        FieldType::UserAgent => index.has_kind(K::UserAgent),
        FieldType::FilePath => index.has_kind(K::FilePath),
        FieldType::Ignore => false,
        _ => true,
    }
}

/// Matches a value whose indicator kind is known (from an extractor).
pub(super) fn match_typed(index: &Index, kind: IndicatorKind, val: &str, out: &mut Vec<Match>) {
    let ty = match kind {
        IndicatorKind::Domain => FieldType::Domain,
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => FieldType::Ip,
        IndicatorKind::Url => FieldType::Url,
        IndicatorKind::Email => FieldType::Email,
        IndicatorKind::Ja4 => FieldType::Ja4,
        IndicatorKind::FileName => FieldType::FileName,
        IndicatorKind::Mac => FieldType::Mac,
        IndicatorKind::UserAgent => FieldType::UserAgent,
        IndicatorKind::FilePath => FieldType::FilePath,
        IndicatorKind::Ja3 | IndicatorKind::Ja3s => FieldType::Ja3,
        IndicatorKind::Jarm => FieldType::Jarm,
        k if k.is_hex() => FieldType::Hash,
        _ => return,
    };
    if ty == FieldType::Domain {
        // `evil.com:8080` from text.
        index.match_host_or_ip(val.as_bytes(), false, out);
    } else {
        match_field(index, ty, val.as_bytes(), out);
    }
}

/// The prefilter half of [`match_field`]: pushes deferred probes for what
/// `match_field` would look up, and returns true, when a probe-free "no"
/// or probes decide whether the value can match; false when only the full
/// match can tell (the caller then matches the whole line).
pub(crate) fn gather_field(
    index: &Index,
    ty: FieldType,
    raw: &[u8],
    slot: u32,
    probes: &mut Vec<Probe>,
) -> bool {
    let v = raw.trim_ascii();
    if v.is_empty() {
        return true;
    }
    match ty {
        FieldType::Domain => index.gather_host(v, slot, probes),
        // Internal addresses, most of a log's, are ruled out unparsed.
        FieldType::Ip if index.v4_lead_absent(v) => true,
        FieldType::Ip => match normalize::parse_ipv4_strict(v) {
            Some(a) => index.gather_v4(a, slot, probes),
            None => match normalize::parse_ip(v) {
                Some(IpAddr::V4(a)) => index.gather_v4(a, slot, probes),
                Some(IpAddr::V6(a)) => index.gather_v6(a, slot, probes),
                None => true,
            },
        },
        FieldType::Hash | FieldType::Serial | FieldType::Ja3 | FieldType::Jarm => {
            if !can_match(index, ty) {
                return true;
            }
            // Hashes in logs are nearly always canonical already: no buffer.
            if normalize::is_canonical_hex(v) {
                index.gather_hex(v, slot, probes);
                return true;
            }
            let mut buf = [0u8; 256];
            if let Some(h) = normalize::hex_stack(v, &mut buf) {
                index.gather_hex(h, slot, probes);
            }
            true
        }
        // `match_field` reads a dotted quad here as an address; the rest
        // (names, URLs, hashes by shape) goes the full way.
        FieldType::Auto => match normalize::parse_ipv4_strict(v) {
            Some(a) => index.gather_v4(a, slot, probes),
            None => false,
        },
        FieldType::Email
        | FieldType::Ja4
        | FieldType::FileName
        | FieldType::Mac
        | FieldType::UserAgent
        | FieldType::FilePath => !can_match(index, ty),
        FieldType::Url | FieldType::Text => false,
        FieldType::Ignore => true,
    }
}

// Defined here, beside `match_field`, so that the index knows nothing of
// field types (and never calls into the scanner).
impl Index {
    /// Matches one value as a field of type `ty` would be, appending every
    /// match to `out`. The scanner's inner step, public for callers that
    /// bring their own records.
    pub fn match_value(&self, ty: FieldType, value: &str, out: &mut Vec<Match>) {
        match_field(self, ty, value.as_bytes(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::build::IndexBuilder;
    use crate::scan::driver::{ScanOptions, Scanner};
    use crate::scan::input::Input;
    use cairn_model::Observable;

    /// MAC addresses, user agents, file paths and imphashes meet their
    /// log fields; kinds with no field to meet are not indexed.
    #[test]
    fn newer_kinds_meet_their_fields() {
        use IndicatorKind as K;
        let mut b = IndexBuilder::new();
        for (i, (k, v)) in [
            (K::Mac, "00:1A:2B:3C:4D:5E"),
            (
                K::UserAgent,
                "Mozilla/5.0 (X11; Linux x86_64)  Gecko/20100101",
            ),
            (K::FilePath, "C:\\Users\\Public\\svchost.exe"),
            (K::Imphash, "F34D5F2D4577ED6D9CEEC516C1F5A744"),
            (K::Authentihash, "3eda83d7c58dfe0d5a0cf318656b3e6f0bade65c"),
        ]
        .into_iter()
        .enumerate()
        {
            assert!(b.add(&Observable::new(k, v), i as u32), "{k}");
        }
        for (k, v) in [
            (K::Socket, "1.2.3.4:443"),
            (K::Ssdeep, "3:abcdef:abc"),
            (K::Xmpp, "a@jabber.ru"),
            (K::AnalyticsId, "UA-1234-1"),
            (K::Tactic, "TA0001"),
            (K::Mitigation, "M1036"),
        ] {
            assert!(!b.add(&Observable::new(k, v), 99), "{k}");
        }
        let ix = b.build();
        let keys = |ty: FieldType, v: &str| {
            let mut ms = Vec::new();
            match_field(&ix, ty, v.as_bytes(), &mut ms);
            ms.iter().flat_map(|m| m.keys.clone()).collect::<Vec<u32>>()
        };
        assert_eq!(keys(FieldType::Mac, "00-1a-2b-3c-4d-5e"), [0]);
        assert_eq!(keys(FieldType::Mac, "001a.2b3c.4d5e"), [0]);
        assert_eq!(keys(FieldType::Mac, "00:1a:2b:3c:4d:5f"), Vec::<u32>::new());
        assert_eq!(
            keys(
                FieldType::UserAgent,
                "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101"
            ),
            [1]
        );
        assert_eq!(keys(FieldType::UserAgent, "Mozilla/5.0"), Vec::<u32>::new());
        assert_eq!(
            keys(FieldType::FilePath, "c:\\users\\public\\SVCHOST.EXE"),
            [2]
        );
        assert_eq!(keys(FieldType::FileName, "svchost.exe"), Vec::<u32>::new());
        assert_eq!(
            keys(FieldType::Hash, "f34d5f2d4577ed6d9ceec516c1f5a744"),
            [3]
        );
        assert_eq!(
            keys(FieldType::Hash, "3EDA83D7C58DFE0D5A0CF318656B3E6F0BADE65C"),
            [4]
        );
        // Field names route to the new types.
        let map = crate::fields::FieldMap::new();
        assert_eq!(map.lookup("user_agent"), Some(FieldType::UserAgent));
        assert_eq!(map.lookup("source.mac"), Some(FieldType::Mac));
        assert_eq!(map.lookup("process.executable"), Some(FieldType::FilePath));
    }

    /// The prefilter never turns away a value `match_field` would match.
    #[test]
    fn gather_is_sound_for_every_field_type() {
        use IndicatorKind as K;
        let items: Vec<(K, String)> = [
            (K::Domain, "dga.asia"),
            (K::Domain, "Evil.COM"),
            (K::Domain, "1.2.3"),
            (K::Domain, "cafe.de"),
            (K::Ipv4, "45.77.153.197"),
            (K::Ipv6, "2001:db8::1"),
            (K::Cidr, "10.1.0.0/16"),
            (K::Cidr, "2001:db8:1::/48"),
            (K::Sha256, "AA:BB"),
            (K::Md5, "0123456789abcdef0123456789abcdef"),
            (K::Email, "bad@evil.com"),
            (K::Url, "http://evil.com/x"),
            (K::Ja4, "t13d1516h2_8daaf6152771_b186095e22b6"),
            (K::FileName, "Evil.EXE"),
            (K::Mac, "00:1A:2B:3C:4D:5E"),
            (K::UserAgent, "curl/7.68.0"),
            (K::FilePath, "C:\\Users\\Public\\Evil.exe"),
            (K::Imphash, "f34d5f2d4577ed6d9ceec516c1f5a744"),
        ]
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .chain((0..5000u32).map(|i| (K::Ipv4, format!("20.{}.{}.1", i / 256, i % 256))))
        .chain([
            (K::Cidr, "30.1.2.16/28".to_string()),
            (K::Cidr, "60.0.0.0/8".to_string()),
        ])
        .collect();
        let values = [
            "dga.asia",
            "00-1a-2b-3c-4d-5e",
            "001A.2B3C.4D5E",
            "curl/7.68.0",
            " curl/7.68.0 ",
            "c:\\users\\public\\evil.EXE",
            "F34D5F2D4577ED6D9CEEC516C1F5A744",
            "KB.DGA.ASIA.",
            "kb.dga.asia..",
            "notdga.asia",
            "dga.asia.evil.net",
            "evil.com:443",
            "EVIL.com",
            "www.bücher.de",
            "cafe.de",
            "x.cafe.de",
            "1.2.3",
            "a.1.2.3",
            "45.77.153.197",
            "045.77.153.197",
            "45.77.153.197.",
            "[45.77.153.197]",
            "::ffff:45.77.153.197",
            "45.77.153.197:80",
            "45.77.153.198",
            "10.1.2.3",
            "10.2.0.0",
            "10.1.2.3%eth0",
            "45.77.153.197%eth0",
            "11.1.2.3",
            "192.168.1.1",
            "0.0.0.0",
            "2001:DB8::1",
            "2001:db8:1::9",
            "fe80::1%eth0",
            "20.0.5.1",
            "20.0.5.2",
            "20.19.135.1",
            "30.1.2.20",
            "30.1.2.40",
            "60.200.1.1",
            "61.0.0.1",
            "aabb",
            "AA:BB",
            "aa-bb",
            "0123456789ABCDEF0123456789ABCDEF",
            "bad@evil.com",
            "Someone <BAD@evil.com>",
            "http://evil.com/x",
            "evil.com/x",
            "t13d1516h2_8daaf6152771_b186095e22b6",
            "evil.exe",
            "a b.com",
            "x/y.com",
            "",
            " ",
            "-",
            "(empty)",
            "\\x41",
            "😀.com",
            "a@b",
        ];
        let types = [
            FieldType::Domain,
            FieldType::Ip,
            FieldType::Url,
            FieldType::Email,
            FieldType::Hash,
            FieldType::Ja3,
            FieldType::Jarm,
            FieldType::Ja4,
            FieldType::Serial,
            FieldType::FileName,
            FieldType::Mac,
            FieldType::UserAgent,
            FieldType::FilePath,
            FieldType::Auto,
            FieldType::Text,
            FieldType::Ignore,
        ];
        for big in [false, true] {
            let mut b = IndexBuilder::new();
            for (i, (k, v)) in items.iter().enumerate() {
                if big || i < 18 {
                    b.add(&Observable::new(*k, v), i as u32);
                }
            }
            let ix = b.build();
            let mut checked = 0;
            for ty in types {
                for v in values {
                    let mut ms = Vec::new();
                    match_field(&ix, ty, v.as_bytes(), &mut ms);
                    let mut probes = Vec::new();
                    let decided = gather_field(&ix, ty, v.as_bytes(), 0, &mut probes);
                    let flagged = !decided
                        || probes
                            .iter()
                            .any(|p| ix.probe_passes(p) && ix.probe_confirms(p));
                    if !ms.is_empty() {
                        checked += 1;
                        assert!(flagged, "{ty:?} {v:?} matches {ms:?} but was turned away");
                    }
                }
            }
            assert!(checked > 20, "{checked}");
            if big {
                // The second look is exact for addresses: a neighbour of an
                // exact value, or of a narrow network, is turned away there.
                for v in ["20.0.5.2", "30.1.2.40"] {
                    let mut probes = Vec::new();
                    assert!(gather_field(
                        &ix,
                        FieldType::Ip,
                        v.as_bytes(),
                        0,
                        &mut probes
                    ));
                    assert!(
                        probes.iter().all(|p| !ix.probe_confirms(p)),
                        "{v} confirmed"
                    );
                }
            }
        }
    }

    /// TLS fingerprints match only in their own columns: an MD5 file hash
    /// that happens to equal a JA3 value is not a hit there, a JA3 indicator
    /// is, and a certificate hash column still takes any hex indicator.
    #[test]
    fn tls_fingerprints_match_in_their_own_columns() {
        let md5 = "e7d705a3286e19ea42f587b344ee6865";
        let other = "0123456789abcdef0123456789abcdef";
        let log = format!(
            "#separator \\x09\n#fields\tts\tserver_name\tcert_chain_fps\tja3\tja3s\n\
             #types\ttime\tstring\tvector[string]\tstring\tstring\n\
             1.0\ta.example\t{md5}\t{md5}\t{other}\n2.0\tb.example\t-\t{other}\t{md5}\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ssl.log");
        std::fs::write(&p, log).unwrap();
        let hunt = |items: &[(IndicatorKind, &str)]| {
            let mut b = IndexBuilder::new();
            for (i, (k, v)) in items.iter().enumerate() {
                b.add(&Observable::new(*k, v), i as u32);
            }
            let ix = b.build();
            let hits = std::sync::Mutex::new(Vec::new());
            Scanner::new(&ix, ScanOptions::default()).scan(&[Input::Path(p.clone())], &|h| {
                hits.lock()
                    .unwrap()
                    .push((h.line, h.field, h.indicator.kind))
            });
            let mut hits = hits.into_inner().unwrap();
            hits.sort();
            hits
        };
        // A file hash: only the certificate column, never ja3/ja3s.
        assert_eq!(
            hunt(&[(IndicatorKind::Md5, md5)]),
            [(4, "cert_chain_fps".to_string(), IndicatorKind::Md5)]
        );
        // A JA3 value: the ja3 and ja3s columns (and any hex column).
        assert_eq!(
            hunt(&[(IndicatorKind::Ja3, other)]),
            [
                (4, "ja3s".to_string(), IndicatorKind::Ja3),
                (5, "ja3".to_string(), IndicatorKind::Ja3),
            ]
        );
    }
}
