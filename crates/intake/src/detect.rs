//! Format detection from content: the first bytes say JSON or not, and a
//! JSON document's top-level keys say which publisher's shape it has.

use crate::Format;
use cairn_model::IndicatorKind;
use std::path::Path;

pub(crate) fn detect(path: &Path, bytes: &[u8]) -> Format {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if bytes.starts_with(b"%PDF")
        || matches!(ext.as_str(), "pdf" | "html" | "htm" | "md" | "markdown")
    {
        return Format::Text;
    }
    let head = &bytes[..bytes.len().min(256 * 1024)];
    let head_str = String::from_utf8_lossy(head);
    let trimmed = head_str.trim_start_matches('\u{feff}').trim_start();
    // JPRS (.jp) answers open with a `[ banner ]` line.
    if trimmed.starts_with('[') && crate::whois::looks_like_whois(trimmed) {
        return Format::Whois;
    }
    if crate::sigma::looks_like_sigma(&ext, trimmed) {
        return Format::Sigma;
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return detect_json(trimmed);
    }
    if trimmed.starts_with('<') {
        return Format::Text;
    }
    let text = String::from_utf8_lossy(bytes);
    if crate::certs::detect(trimmed.lines().next().unwrap_or_default()).is_some() {
        return Format::CertList;
    }
    if crate::yara::looks_like_yara(&ext, trimmed) {
        return Format::Yara;
    }
    if crate::asn::looks_like_asn_table(trimmed) {
        return Format::AsnTable;
    }
    if crate::whois::looks_like_whois(&text) {
        return Format::Whois;
    }
    if ext == "csv" || looks_like_csv(&text) {
        return Format::Csv;
    }
    if looks_like_list(&text) {
        Format::List
    } else {
        Format::Text
    }
}

fn detect_json(head: &str) -> Format {
    let compact: String = head
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(64 * 1024)
        .collect();
    if compact.contains("\"objectClassName\":") && !compact.contains("\"spec_version\"") {
        Format::Rdap
    } else if compact.contains("\"type\":\"bundle\"") || compact.contains("\"spec_version\":\"2.") {
        Format::Stix
    } else if compact.contains("\"Event\":") || compact.contains("\"response\":[{\"Event\"") {
        Format::MispEvent
    } else if compact.contains("\"matching_attributes\"")
        // A long warninglist's keys after `list` fall beyond the head.
        || (compact.starts_with("{\"description\":") && compact.contains("\"list\":["))
    {
        Format::MispWarninglist
    } else if compact.contains("\"values\":[") {
        Format::MispGalaxy
    } else if compact.contains("\"type\":\"") && compact.contains("--") {
        Format::Stix
    } else {
        // Let the STIX parser say what is wrong: it names the place.
        Format::Stix
    }
}

/// A header row that names a value column, and the same delimiter count on
/// the next line.
fn looks_like_csv(text: &str) -> bool {
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let Some(header) = lines.next() else {
        return false;
    };
    let h = header.to_ascii_lowercase();
    let delim = if h.contains('\t') { '\t' } else { ',' };
    if !h.contains(delim) {
        return false;
    }
    h.split(delim)
        .any(|c| crate::lists::VALUE_COLUMNS.contains(&c.trim().trim_matches('"')))
}

/// Every non-empty, non-comment line is one indicator.
fn looks_like_list(text: &str) -> bool {
    let mut n = 0;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if IndicatorKind::detect(&crate::lists::refang_token(t)).is_none() {
            return false;
        }
        n += 1;
    }
    n > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        let p = Path::new("x");
        assert_eq!(
            detect(
                p,
                br#"{"type": "bundle", "id": "bundle--1", "objects": []}"#
            ),
            Format::Stix
        );
        assert_eq!(
            detect(p, br#"{"name":"x","values":[{"value":"a"}]}"#),
            Format::MispGalaxy
        );
        assert_eq!(detect(p, br#"{"Event": {"info": "x"}}"#), Format::MispEvent);
        assert_eq!(
            detect(
                p,
                br#"{"list":["a.com"],"matching_attributes":["domain"],"name":"n"}"#
            ),
            Format::MispWarninglist
        );
        assert_eq!(detect(p, b"value,type\nevil.com,domain\n"), Format::Csv);
        assert_eq!(detect(p, b"evil[.]com\n1.2.3[.]4\n"), Format::List);
        assert_eq!(detect(p, b"Domains:\n\nevil[.]com\n"), Format::Text);
        assert_eq!(
            detect(p, b"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"),
            Format::AsnTable
        );
        assert_eq!(
            detect(p, b"Domain Name: EVIL.COM\nRegistrar: NameCheap, Inc.\n"),
            Format::Whois
        );
        assert_eq!(
            detect(p, b"domain:  evil.ru\nnserver: ns1.evil.ru.\n"),
            Format::Whois
        );
        assert_eq!(
            detect(
                p,
                br#"{"objectClassName": "domain", "ldhName": "evil.com"}"#
            ),
            Format::Rdap
        );
    }

    #[test]
    fn a_long_warninglist_is_known_by_its_head() {
        // Tranco's list puts `matching_attributes` 150 KB in.
        let names: Vec<String> = (0..20_000).map(|i| format!("\"site{i}.com\"")).collect();
        let doc = format!(
            "{{\n  \"description\": \"Top sites\",\n  \"list\": [{}],\n  \"matching_attributes\": [\"hostname\"]}}",
            names.join(",\n")
        );
        assert_eq!(
            detect(Path::new("x"), doc.as_bytes()),
            Format::MispWarninglist
        );
    }
}
