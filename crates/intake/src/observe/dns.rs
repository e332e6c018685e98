//! A dns record's edges, and the names and addresses every record kind
//! checks.

use cairn_model::observe::{NodeKind, ObsRelation, Observations};
use std::net::IpAddr;

/// A DNS name, lower-cased, without its final dot; `None` for what is not
/// one (text with spaces, empty labels, other characters).
pub(super) fn domain(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('.');
    // An address written where a name goes (an SNI of `10.0.0.1`) is no name.
    if s.is_empty() || s.len() > 253 || s.parse::<IpAddr>().is_ok() {
        return None;
    }
    let ok = s.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    ok.then(|| s.to_ascii_lowercase())
}

/// An address in its canonical form.
pub(super) fn address(s: &str) -> Option<String> {
    s.trim().parse::<IpAddr>().ok().map(|a| a.to_string())
}

/// The edges of a dns record (or of `count` identical ones between
/// `first` and `last`).
pub(super) fn dns<'a>(
    obs: &mut Observations,
    (first, last, count): (i64, i64, u64),
    query: Option<&str>,
    qtype: Option<&str>,
    answers: impl Iterator<Item = &'a str>,
) {
    let Some(q) = query.and_then(domain) else {
        return;
    };
    if q.ends_with(".in-addr.arpa") || q.ends_with(".ip6.arpa") || qtype == Some("PTR") {
        return;
    }
    let named = match qtype {
        Some("NS") => ObsRelation::Ns,
        Some("MX") => ObsRelation::Mx,
        _ => ObsRelation::Cname,
    };
    for a in answers {
        if let Some(addr) = address(a) {
            obs.add(
                (NodeKind::Domain, &q),
                ObsRelation::ResolvesTo,
                (NodeKind::Address, &addr),
                first,
                last,
                count,
            );
        } else if let Some(n) = domain(a)
            && n != q
        {
            obs.add(
                (NodeKind::Domain, &q),
                named,
                (NodeKind::Domain, &n),
                first,
                last,
                count,
            );
        }
    }
}
