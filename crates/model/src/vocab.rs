//! STIX 2.1 open vocabularies Cairn writes into, and how Cairn's own words
//! map onto them.
//!
//! Cairn labels an indicator with the role a source gave it (`c2`,
//! `certificate`, `payload`, …) and a sector identity with the source's
//! sector name (`Academia`); STIX consumers expect `indicator-type-ov` and
//! `industry-sector-ov` values there. Producers put the vocabulary value in
//! the STIX property and keep Cairn's word beside it (`labels`,
//! `x_cairn_sectors`), so nothing is lost.

/// STIX 2.1 `indicator-type-ov`.
pub const INDICATOR_TYPES: &[&str] = &[
    "anomalous-activity",
    "anonymization",
    "benign",
    "compromised",
    "malicious-activity",
    "attribution",
    "unknown",
];

/// STIX 2.1 `industry-sector-ov`.
pub const INDUSTRY_SECTORS: &[&str] = &[
    "agriculture",
    "aerospace",
    "automotive",
    "chemical",
    "commercial",
    "communications",
    "construction",
    "defense",
    "education",
    "energy",
    "entertainment",
    "financial-services",
    "government",
    "government-emergency-services",
    "government-local",
    "government-national",
    "government-public-services",
    "government-regional",
    "healthcare",
    "hospitality-leisure",
    "infrastructure",
    "infrastructure-dams",
    "infrastructure-nuclear",
    "infrastructure-water",
    "insurance",
    "manufacturing",
    "mining",
    "non-profit",
    "pharmaceuticals",
    "retail",
    "technology",
    "telecommunications",
    "transportation",
    "utilities",
];

/// STIX 2.1 `attack-motivation-ov`.
pub const ATTACK_MOTIVATIONS: &[&str] = &[
    "accidental",
    "coercion",
    "dominance",
    "ideology",
    "notoriety",
    "organizational-gain",
    "personal-gain",
    "personal-satisfaction",
    "revenge",
    "unpredictable",
];

/// The `indicator-type-ov` value for an indicator label: vocabulary values
/// stay; Cairn's roles (see `cairn-extract`'s cues) map to what they mean
/// for a defender (infrastructure and files an actor uses are
/// `malicious-activity`; a certificate ties infrastructure to its operator,
/// `attribution`); anything else is `unknown`.
pub fn indicator_type(label: &str) -> &'static str {
    let l = label.trim().to_ascii_lowercase();
    if let Some(v) = INDICATOR_TYPES.iter().find(|v| **v == l) {
        return v;
    }
    match l.as_str() {
        "c2" | "exploitation" | "reconnaissance" | "delivery" | "exfiltration" | "payload"
        | "malicious" | "malware" => "malicious-activity",
        "certificate" => "attribution",
        "tor" | "vpn" | "proxy" => "anonymization",
        _ => "unknown",
    }
}

/// The `industry-sector-ov` value for a sector name as sources write it
/// (`Academia`, `Telecommunications`, `Financial services`), if one fits.
pub fn industry_sector(name: &str) -> Option<&'static str> {
    let key: String = name
        .trim()
        .to_ascii_lowercase()
        .replace('&', "and")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if let Some(v) = INDUSTRY_SECTORS.iter().find(|v| **v == key) {
        return Some(v);
    }
    Some(match key.as_str() {
        "academia" | "academic" | "universities" | "university" | "research" | "think-tanks"
        | "think-tank" => "education",
        "media" | "news-media" | "broadcasting" | "publishing" => "communications",
        "telecom" | "telecoms" | "telecommunication" => "telecommunications",
        "military" | "defence" | "defense-industrial-base" => "defense",
        "finance" | "financial" | "banking" | "banks" | "financial-sector" => "financial-services",
        "health" | "health-care" | "medical" | "hospitals" => "healthcare",
        "pharmaceutical" | "pharma" => "pharmaceuticals",
        "it" | "information-technology" | "high-tech" | "tech" | "software" => "technology",
        "oil-and-gas" | "oil-gas" | "petroleum" => "energy",
        "ngo" | "ngos" | "nonprofit" | "non-governmental-organizations" => "non-profit",
        "gaming" | "video-games" => "entertainment",
        "hospitality" | "hotels" | "tourism" => "hospitality-leisure",
        "logistics" | "shipping" | "aviation" | "maritime" => "transportation",
        "chemicals" => "chemical",
        "governments" | "public-sector" | "public-administration" => "government",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_sectors_map_into_the_vocabularies() {
        assert_eq!(indicator_type("c2"), "malicious-activity");
        assert_eq!(indicator_type("Certificate"), "attribution");
        assert_eq!(indicator_type("compromised"), "compromised");
        assert_eq!(indicator_type("benign"), "benign");
        assert_eq!(indicator_type("whatever"), "unknown");
        assert!(INDICATOR_TYPES.contains(&indicator_type("payload")));
        assert_eq!(industry_sector("Academia"), Some("education"));
        assert_eq!(
            industry_sector("Telecommunications"),
            Some("telecommunications")
        );
        assert_eq!(
            industry_sector("Financial Services"),
            Some("financial-services")
        );
        assert_eq!(industry_sector("Media"), Some("communications"));
        assert_eq!(industry_sector("Aerospace"), Some("aerospace"));
        assert_eq!(industry_sector("Basket weaving"), None);
    }
}
