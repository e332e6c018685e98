/// The key two names are compared by: case-, space- and punctuation-blind,
/// so "TAG 22", "TAG-22" and "tag22" meet.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A stable STIX id for an object Cairn builds itself (from a list, a galaxy
/// cluster, a report): UUIDv5 over its type and identifying parts, so that
/// ingesting the same input twice yields the same ids.
pub fn deterministic_id(kind: &str, parts: &[&str]) -> String {
    // Cairn's own namespace, fixed forever: changing it would re-key stores.
    const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6c0a_1f3e_9b52_4d8e_a1c4_3f0e_5c2b_7d91);
    let mut key = String::from(kind);
    for p in parts {
        key.push('\u{1f}');
        key.push_str(p);
    }
    format!("{kind}--{}", uuid::Uuid::new_v5(&NS, key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_ignores_case_space_punctuation() {
        for n in ["TAG 22", "TAG-22", "tag22", " Tag_22 "] {
            assert_eq!(normalize_name(n), "tag22");
        }
        assert_ne!(normalize_name("APT41"), normalize_name("APT4"));
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = deterministic_id("indicator", &["src", "evil.com"]);
        assert_eq!(a, deterministic_id("indicator", &["src", "evil.com"]));
        assert_ne!(a, deterministic_id("indicator", &["src", "evil.net"]));
        assert_ne!(
            deterministic_id("indicator", &["ab", "c"]),
            deterministic_id("indicator", &["a", "bc"])
        );
        assert!(a.starts_with("indicator--"));
    }
}
