//! Small parsing helpers shared by the corpus and the evidence.

use cairn_model::{IndicatorKind, Relation};

/// The sources a relation cites: `(Citation: X)` markers in its description,
/// else the `source_name`s of its original JSON's external references.
pub(crate) fn citations(r: &Relation) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = &r.description {
        let mut rest = d.as_str();
        while let Some(i) = rest.find("(Citation:") {
            rest = &rest[i + "(Citation:".len()..];
            match rest.find(')') {
                Some(j) => {
                    out.push(rest[..j].trim().to_string());
                    rest = &rest[j..];
                }
                None => break,
            }
        }
    }
    if out.is_empty()
        && !r.raw.is_empty()
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.raw)
        && let Some(refs) = v.get("external_references").and_then(|x| x.as_array())
    {
        for e in refs {
            if let Some(s) = e.get("source_name").and_then(|x| x.as_str())
                && s != "mitre-attack"
            {
                out.push(s.to_string());
            }
        }
    }
    if out.is_empty()
        && let Some(reference) = &r.prov.reference
    {
        out.push(reference.clone());
    }
    out.sort();
    out.dedup();
    out
}

/// ISO 3166-1 alpha-2 code of a country given as a code or an English name.
pub(crate) fn country_code(s: &str) -> Option<String> {
    cairn_model::country_code(s.trim()).map(str::to_string)
}

/// English name of an ISO code, for display.
pub(crate) fn country_name(code: &str) -> String {
    cairn_model::country_name(code).unwrap_or_else(|| code.to_string())
}

/// The key an indicator value is matched by: refanged, typed when possible,
/// and normalised as the model normalises observables.
pub(crate) fn indicator_key(value: &str) -> String {
    let v = value
        .trim()
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("[:]", ":")
        .replace("[@]", "@");
    let v = if let Some(rest) = v.strip_prefix("hxxp") {
        format!("http{rest}")
    } else if let Some(rest) = v.strip_prefix("HXXP") {
        format!("http{rest}")
    } else {
        v
    };
    match IndicatorKind::detect(&v) {
        Some(k) => k.normalize(&v),
        None => v.to_lowercase(),
    }
}

/// A date (`2023`, `2023-06`, `2023-06-14`, RFC 3339) as a fractional year.
pub(crate) fn year_of(s: &str) -> Option<f64> {
    let s = s.trim();
    let mut parts = s.get(..s.len().min(10))?.split('-');
    let y: f64 = parts.next()?.trim().parse().ok()?;
    if !(1900.0..=2200.0).contains(&y) {
        return None;
    }
    let m: f64 = match parts.next() {
        Some(m) => m.parse().ok().filter(|m| (1.0..=12.0).contains(m))?,
        None => return Some(y + 0.5),
    };
    let d: f64 = match parts.next() {
        Some(d) => d.get(..2).unwrap_or(d).parse().ok().unwrap_or(15.0),
        None => 15.0,
    };
    Some(y + (m - 1.0) / 12.0 + (d - 1.0) / 365.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_by_code_and_name() {
        assert_eq!(country_code("tw").as_deref(), Some("TW"));
        assert_eq!(country_code("Taiwan").as_deref(), Some("TW"));
        assert_eq!(country_code("united states").as_deref(), Some("US"));
        assert_eq!(country_code("Viet Nam").as_deref(), Some("VN"));
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(country_code("XX"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(year_of("2023"), Some(2023.5));
        let v = year_of("2023-07").unwrap_or_default();
        assert!((v - 2023.5).abs() < 0.05);
        assert!(year_of("2021-01-05T00:00:00Z").is_some_and(|v| (2021.0..2021.1).contains(&v)));
        assert_eq!(year_of("soon"), None);
    }

    #[test]
    fn indicators_are_refanged() {
        assert_eq!(indicator_key("Evil[.]COM"), "evil.com");
        assert_eq!(indicator_key(" 1.2.3[.]4 "), "1.2.3.4");
    }
}
