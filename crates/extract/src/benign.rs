//! The built-in benign filter: a deliberately small list of infrastructure
//! that reports mention but that is never an indicator of compromise. Broad
//! coverage (cloud ranges, top sites, public resolvers) is the job of MISP
//! warninglists, plugged in through [`crate::BenignFilter`].

use cairn_model::IndicatorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Domains (and all their subdomains) that reports cite as references,
/// examples or namespaces: vendors' and platforms' own sites, RFC 2606
/// example names, XML/JSON-LD namespaces.
const DOMAINS: &[&str] = &[
    "microsoft.com",
    "windows.com",
    "windowsupdate.com",
    "office.com",
    "live.com",
    "github.com",
    "githubusercontent.com",
    "google.com",
    "example.com",
    "example.net",
    "example.org",
    "schema.org",
    "w3.org",
    "mitre.org",
    "virustotal.com",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "youtube.com",
    "wikipedia.org",
];

/// Security vendors whose reports cite their own site: the domain is
/// suppressed only when the text names the vendor.
const VENDORS: &[(&str, &str)] = &[
    ("recorded future", "recordedfuture.com"),
    ("insikt", "recordedfuture.com"),
    ("mandiant", "mandiant.com"),
    ("crowdstrike", "crowdstrike.com"),
    ("trend micro", "trendmicro.com"),
    ("sentinelone", "sentinelone.com"),
    ("palo alto", "paloaltonetworks.com"),
    ("unit 42", "paloaltonetworks.com"),
    ("kaspersky", "kaspersky.com"),
    ("securelist", "securelist.com"),
    ("eset", "welivesecurity.com"),
    ("talos", "talosintelligence.com"),
    ("proofpoint", "proofpoint.com"),
    ("secureworks", "secureworks.com"),
    ("sophos", "sophos.com"),
    ("check point", "checkpoint.com"),
];

/// Vendor domains named in `text` (its first 64 KiB, where a report says who
/// wrote it).
pub(crate) fn vendor_domains(text: &str) -> Vec<(&'static str, &'static str)> {
    let mut end = text.len().min(64 * 1024);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = text[..end].to_ascii_lowercase();
    VENDORS
        .iter()
        .filter(|(name, _)| head.contains(name))
        .copied()
        .collect()
}

fn under(host: &str, base: &str) -> bool {
    host == base
        || (host.len() > base.len()
            && host.ends_with(base)
            && host.as_bytes()[host.len() - base.len() - 1] == b'.')
}

/// Why a domain is benign, if it is.
pub(crate) fn domain(host: &str, vendors: &[(&str, &str)]) -> Option<String> {
    if let Some(d) = DOMAINS.iter().find(|d| under(host, d)) {
        return Some(format!("built-in: well-known benign domain {d}"));
    }
    vendors
        .iter()
        .find(|(_, d)| under(host, d))
        .map(|(v, d)| format!("built-in: the report vendor's own domain {d} ({v})"))
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [10, ..] | [192, 168, ..] => "RFC 1918 private range",
        [172, b, ..] if (16..32).contains(&b) => "RFC 1918 private range",
        [127, ..] => "loopback",
        [169, 254, ..] => "link-local",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "RFC 5737 documentation range",
        [100, b, ..] if (64..128).contains(&b) => "RFC 6598 shared address space",
        [0, ..] => "\"this network\" (0.0.0.0/8)",
        [a, ..] if a >= 224 => "multicast or reserved",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(if ip.is_loopback() || ip.is_unspecified() {
        "loopback"
    } else if s[0] & 0xffc0 == 0xfe80 {
        "link-local"
    } else if s[0] & 0xfe00 == 0xfc00 {
        "unique local (private)"
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        "RFC 3849 documentation range"
    } else if s[0] & 0xff00 == 0xff00 {
        "multicast"
    } else {
        return None;
    })
}

fn ip_reason(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(a) => v4_reason(a),
        IpAddr::V6(a) => v6_reason(a),
    }
    .map(|r| format!("built-in: {r}"))
}

/// Why a value (already normalized) is benign, if it is.
pub(crate) fn check(kind: IndicatorKind, value: &str, vendors: &[(&str, &str)]) -> Option<String> {
    match kind {
        IndicatorKind::Domain => domain(value, vendors),
        IndicatorKind::Email | IndicatorKind::Xmpp => domain(value.rsplit_once('@')?.1, vendors),
        // A socket is as benign as its host.
        IndicatorKind::Socket => {
            let (host, _) = cairn_model::split_socket(value)?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            match host.parse::<IpAddr>() {
                Ok(ip) => ip_reason(ip),
                Err(_) => domain(host, vendors),
            }
        }
        IndicatorKind::Mac => match value {
            "ff:ff:ff:ff:ff:ff" => Some("built-in: broadcast MAC address".into()),
            "00:00:00:00:00:00" => Some("built-in: null MAC address".into()),
            _ => None,
        },
        IndicatorKind::Url => {
            let host = crate::scan::url_host(value)?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            match host.parse::<IpAddr>() {
                Ok(ip) => ip_reason(ip),
                Err(_) => domain(host, vendors),
            }
        }
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => ip_reason(value.parse().ok()?),
        IndicatorKind::Cidr => ip_reason(value.split_once('/')?.0.parse().ok()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind as K;

    #[test]
    fn benign() {
        assert!(check(K::Domain, "www.github.com", &[]).is_some());
        assert!(check(K::Domain, "notgithub.com", &[]).is_none());
        assert!(check(K::Ipv4, "10.1.2.3", &[]).is_some());
        assert!(check(K::Ipv4, "172.20.0.1", &[]).is_some());
        assert!(check(K::Ipv4, "172.32.0.1", &[]).is_none());
        assert!(check(K::Ipv4, "203.0.113.9", &[]).is_some());
        assert!(check(K::Ipv6, "2001:db8::1", &[]).is_some());
        assert!(check(K::Cidr, "192.168.0.0/16", &[]).is_some());
        assert!(check(K::Url, "https://learn.microsoft.com/x", &[]).is_some());
        assert!(check(K::Email, "a@example.org", &[]).is_some());
        assert!(check(K::Ipv4, "1.13.82.101", &[]).is_none());
        assert!(check(K::Socket, "10.0.0.1:443", &[]).is_some());
        assert!(check(K::Socket, "[fe80::1]:443", &[]).is_some());
        assert!(check(K::Socket, "www.google.com:443", &[]).is_some());
        assert!(check(K::Socket, "1.13.82.101:443", &[]).is_none());
        assert!(check(K::Mac, "ff:ff:ff:ff:ff:ff", &[]).is_some());
        assert!(check(K::Mac, "00:1a:2b:3c:4d:5e", &[]).is_none());
        assert!(check(K::Xmpp, "a@example.org", &[]).is_some());
        let v = vendor_domains("Insikt Group (Recorded Future) ...");
        assert!(check(K::Domain, "go.recordedfuture.com", &v).is_some());
        assert!(check(K::Domain, "go.recordedfuture.com", &[]).is_none());
    }
}
