//! Rules every backend applies the same way, free of any database: which
//! version of a repeated id wins, the content hash a re-ingest compares,
//! how list values add to the counts, and what an API token is.

use cairn_model::{Object, normalize_name};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Later STIX versions of one id win (by `modified`); the first of equal
/// versions stays. Order is the first appearance of each id.
pub fn latest<T>(
    items: &[T],
    id: impl Fn(&T) -> &str,
    modified: impl Fn(&T) -> Option<&str>,
) -> Vec<&T> {
    let mut pos: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<&T> = Vec::with_capacity(items.len());
    for it in items {
        match pos.get(id(it)) {
            Some(&i) if modified(out[i]) >= modified(it) => {}
            Some(&i) => out[i] = it,
            None => {
                pos.insert(id(it), out.len());
                out.push(it);
            }
        }
    }
    out
}

/// The content hash a statement is compared by: xxh3 of its JSON, as a
/// signed 64-bit integer (databases store those; the bits are what matter).
pub fn content_hash<T: Serialize>(v: &T) -> i64 {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    xxhash_rust::xxh3::xxh3_64(&bytes) as i64
}

/// The names an object is found by: (normalized key, name as written,
/// role `primary`, `alias` or `id`), each key once, empty keys left out.
pub fn object_names(o: &Object) -> Vec<(String, &str, &'static str)> {
    let named = o.name.iter().map(|n| (n, "primary"));
    let aliases = o.aliases.iter().map(|n| (n, "alias"));
    let ids = o.external_id.iter().map(|n| (n, "id"));
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (n, role) in named.chain(aliases).chain(ids) {
        let norm = normalize_name(n);
        if !norm.is_empty() && seen.insert(norm.clone()) {
            out.push((norm, n.as_str(), role));
        }
    }
    out
}

/// Adds `n` to the count of `key` (listed by count, largest first).
pub fn add_count(counts: &mut Vec<(String, i64)>, key: &str, n: i64) {
    if n == 0 {
        return;
    }
    match counts.iter_mut().find(|(k, _)| k == key) {
        Some((_, c)) => *c += n,
        None => counts.push((key.to_string(), n)),
    }
    counts.sort_by_key(|e| std::cmp::Reverse(e.1));
}

/// A new API token's secret: `cairn_` and 256 random bits in hex. Shown
/// once; a store keeps only its [`token_digest`].
pub fn new_token_secret() -> Result<String, crate::errors::KbError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)
        .map_err(|e| crate::errors::KbError::Invalid(format!("no randomness: {e}")))?;
    Ok(format!(
        "cairn_{}",
        raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Hex SHA-256 of a token. A plain hash, not a password KDF: a token is
/// 256 random bits, so a leaked hash gives nothing to brute-force, and the
/// server checks one on every request.
pub fn token_digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(secret.trim().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A token's name as stored: trimmed, and not empty.
pub fn token_name(name: &str) -> Result<&str, crate::errors::KbError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(crate::errors::KbError::Invalid(
            "a token needs a name".into(),
        ));
    }
    // Names are shown in listings and logs; PostgreSQL's text cannot hold NUL.
    if name.chars().any(char::is_control) {
        return Err(crate::errors::KbError::Invalid(
            "a token name holds no control characters".into(),
        ));
    }
    Ok(name)
}

/// What a token name becomes once revoked, freeing nothing: names are
/// never reused.
pub fn revoked_token_name(name: &str, at: &str) -> String {
    format!("{name} (revoked {at})")
}

/// When a feed run started at `at` (RFC 3339) is next due, `every` seconds
/// later; `None` when `at` does not parse or the sum overflows.
pub fn next_due(at: &str, every: i64) -> Option<String> {
    cairn_model::time::parse(at)
        .and_then(|t| t.checked_add(jiff::SignedDuration::from_secs(every)).ok())
        .map(cairn_model::time::format_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_version_of_an_id_wins() {
        let items = [
            ("a", Some("1")),
            ("b", None),
            ("a", Some("3")),
            ("a", Some("2")),
        ];
        let got = latest(&items, |i| i.0, |i| i.1);
        assert_eq!(got, vec![&("a", Some("3")), &("b", None)]);
    }

    #[test]
    fn counts_stay_largest_first() {
        let mut c = vec![("malware".to_string(), 3)];
        add_count(&mut c, "indicator", 5);
        add_count(&mut c, "malware", 0);
        assert_eq!(c[0], ("indicator".to_string(), 5));
        add_count(&mut c, "malware", 4);
        assert_eq!(c[0], ("malware".to_string(), 7));
    }

    #[test]
    fn a_run_is_next_due_its_interval_later() {
        assert_eq!(
            next_due("2026-12-31T23:30:00.000Z", 3600).as_deref(),
            Some("2027-01-01T00:30:00.000Z")
        );
        assert_eq!(next_due("not a time", 60), None);
    }
}
