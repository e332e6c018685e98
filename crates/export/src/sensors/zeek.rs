//! Zeek's Intelligence Framework file (`Intel::read_files`).
//!
//! Tab-separated, one `#fields` header naming the columns, `-` for an unset
//! field, as Zeek's input framework reads it. Types follow `Intel::Type`:
//! URLs are written without their scheme (Zeek's HTTP script matches
//! `host/path`), certificate fingerprints as `Intel::CERT_HASH`, file
//! hashes of every length as `Intel::FILE_HASH`. A value holding a tab,
//! newline or other control character, or one Zeek would read as unset, is
//! skipped; in the metadata those characters become spaces.

use crate::sensors::indicator::{
    OutputFile, SensorExport, SensorIndicator, SensorOptions, has_control, indicator_url,
};
use cairn_model::IndicatorKind;

/// The header line.
pub const ZEEK_HEADER: &str =
    "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.do_notice";

/// The file name used when none is given.
pub const ZEEK_FILE: &str = "cairn.intel";

/// The `Intel::Type` of a kind; `None` when Zeek has no such type.
pub fn zeek_type(kind: IndicatorKind) -> Option<&'static str> {
    use IndicatorKind as K;
    Some(match kind {
        K::Ipv4 | K::Ipv6 => "Intel::ADDR",
        K::Cidr => "Intel::SUBNET",
        K::Domain => "Intel::DOMAIN",
        K::Url => "Intel::URL",
        K::Email => "Intel::EMAIL",
        K::Md5 | K::Sha1 | K::Sha256 | K::Sha512 => "Intel::FILE_HASH",
        K::CertSha1 | K::CertSha256 => "Intel::CERT_HASH",
        K::FileName => "Intel::FILE_NAME",
        _ => return None,
    })
}

/// The indicator as Zeek matches it: a URL without its scheme.
pub fn zeek_value(kind: IndicatorKind, value: &str) -> String {
    if kind == IndicatorKind::Url
        && let Some((_, rest)) = value.split_once("://")
    {
        return rest.to_string();
    }
    value.to_string()
}

/// A metadata field: control characters to spaces, `-` when empty (and a
/// lone `-` or Zeek's `(empty)` marker kept from being read as one).
fn field(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    match clean {
        "" => "-".to_string(),
        "-" | "(empty)" => format!("'{clean}'"),
        other => other.to_string(),
    }
}

/// `meta.desc`: who and what, `actor: A, B; role: c2; family: X`.
pub fn zeek_desc(i: &SensorIndicator) -> String {
    let mut parts = Vec::new();
    if !i.actors.is_empty() {
        parts.push(format!("actor: {}", i.actors.join(", ")));
    }
    if !i.roles.is_empty() {
        parts.push(format!("role: {}", i.roles.join(", ")));
    }
    if !i.families.is_empty() {
        parts.push(format!("family: {}", i.families.join(", ")));
    }
    parts.join("; ")
}

/// The Intel file for `indicators`.
pub fn zeek_intel(indicators: &[SensorIndicator], opts: &SensorOptions) -> SensorExport {
    let mut text = String::with_capacity(64 + indicators.len() * 96);
    text.push_str(ZEEK_HEADER);
    text.push('\n');
    let (mut written, mut skipped) = (0, 0);
    for i in indicators {
        let Some(t) = zeek_type(i.kind) else {
            skipped += 1;
            continue;
        };
        let value = zeek_value(i.kind, &i.value);
        if value.is_empty() || has_control(&value) || value == "-" || value == "(empty)" {
            skipped += 1;
            continue;
        }
        let source = format!("Cairn: {}", i.sources.join("; "));
        let cols = [
            value.clone(),
            t.to_string(),
            field(&source),
            field(&zeek_desc(i)),
            field(&indicator_url(&opts.url_base, &i.value)),
            "T".to_string(),
        ];
        text.push_str(&cols.join("\t"));
        text.push('\n');
        written += 1;
    }
    SensorExport {
        files: vec![OutputFile {
            name: ZEEK_FILE.into(),
            content: text,
        }],
        written,
        skipped,
    }
}
