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

/// Whether the UUID part of STIX id `id` is an RFC 4122 UUID of version 4
/// or 5, the kinds STIX 2.1 asks producers to use.
pub fn has_v4_or_v5_uuid(id: &str) -> bool {
    let Some((_, u)) = id.split_once("--") else {
        return false;
    };
    uuid::Uuid::parse_str(u).is_ok_and(|u| {
        u.get_variant() == uuid::Variant::RFC4122 && matches!(u.get_version_num(), 4 | 5)
    })
}

/// The id Cairn publishes for STIX id `id`: itself when its UUID is a v4 or
/// v5 one, else (a MISP galaxy's UUIDv7, a test fixture's `relationship--1`)
/// a UUIDv5 derived from the whole original id. It depends on the id alone,
/// so every reference to the object, in any export or TAXII page, is
/// rewritten to the same value without a lookup table.
pub fn canonical_stix_id(id: &str) -> std::borrow::Cow<'_, str> {
    if has_v4_or_v5_uuid(id) {
        return std::borrow::Cow::Borrowed(id);
    }
    let kind = id.split_once("--").map_or(id, |(k, _)| k);
    std::borrow::Cow::Owned(deterministic_id(kind, &["cairn-stix-id", id]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_without_a_v4_or_v5_uuid_get_a_stable_v5_one() {
        let v4 = "intrusion-set--00000000-0000-4000-8000-000000000001";
        assert_eq!(canonical_stix_id(v4), v4);
        let v5 = deterministic_id("indicator", &["x"]);
        assert_eq!(canonical_stix_id(&v5), v5.as_str());
        let v7 = "intrusion-set--019514dc-c894-751f-8b49-5dcd3c8b6f3a";
        let fixed = canonical_stix_id(v7);
        assert_ne!(fixed, v7);
        assert!(fixed.starts_with("intrusion-set--"));
        assert!(has_v4_or_v5_uuid(&fixed));
        assert_eq!(fixed, canonical_stix_id(v7), "depends on the id alone");
        assert!(has_v4_or_v5_uuid(&canonical_stix_id("relationship--1")));
        assert!(!has_v4_or_v5_uuid(
            "intrusion-set--00000000-0000-4000-0000-000000000001"
        ));
    }

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
