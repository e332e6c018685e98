//! One exported value with everything the sources say of it, and the types
//! every sensor format shares.

use cairn_kb::ExportIndicator;
use cairn_model::{IndicatorKind, Tlp};

/// A value as sensors get it: the statements of every source about the
/// same (kind, value) merged into one line.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorIndicator {
    /// Value type.
    pub kind: IndicatorKind,
    /// The value, normalized.
    pub value: String,
    /// Actors it indicates, as resolved across sources.
    pub actors: Vec<String>,
    /// Malware, tools and campaigns it indicates.
    pub families: Vec<String>,
    /// Roles (`c2`, …).
    pub roles: Vec<String>,
    /// Sources that state it.
    pub sources: Vec<String>,
    /// The highest confidence a source gives (0–100).
    pub confidence: Option<u8>,
    /// The most restrictive marking among its statements.
    pub tlp: Tlp,
    /// Earliest first-seen a source gives.
    pub first_seen: Option<String>,
    /// Latest last-seen a source gives.
    pub last_seen: Option<String>,
}

/// How the exports are written.
#[derive(Debug, Clone)]
pub struct SensorOptions {
    /// Base URL of the Cairn web app, for links back to the indicator page
    /// (no trailing slash needed).
    pub url_base: String,
    /// When the export is made (a STIX timestamp): ECS `@timestamp`.
    pub generated: String,
    /// The RPZ zone's SOA serial (seconds since the epoch fit until 2106).
    pub serial: u32,
}

impl SensorOptions {
    /// Options for an export made now: `generated` and the RPZ serial from
    /// the clock.
    pub fn now(url_base: String) -> SensorOptions {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        SensorOptions {
            url_base,
            generated: cairn_model::time::now_ms(),
            serial: u32::try_from(secs).unwrap_or(u32::MAX),
        }
    }
}

/// A file of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// File name, no directory.
    pub name: String,
    /// Its text.
    pub content: String,
}

/// What a sensor format produced.
#[derive(Debug, Clone, Default)]
pub struct SensorExport {
    /// The files (one but for Suricata's directory).
    pub files: Vec<OutputFile>,
    /// Values written.
    pub written: usize,
    /// Values the format has no place for or cannot carry safely.
    pub skipped: usize,
}

fn add(into: &mut Vec<String>, from: &[String]) {
    for x in from {
        if !into.contains(x) {
            into.push(x.clone());
        }
    }
}

/// Merges rows ordered by kind and value (as
/// [`Store::export_indicators`](cairn_kb::Store::export_indicators) returns
/// them) into one [`SensorIndicator`] per (kind, value).
pub fn merge(rows: &[ExportIndicator]) -> Vec<SensorIndicator> {
    let mut out: Vec<SensorIndicator> = Vec::new();
    for r in rows {
        if let Some(last) = out.last_mut()
            && last.kind == r.kind
            && last.value == r.value
        {
            add(&mut last.actors, &r.actors);
            add(&mut last.families, &r.families);
            add(&mut last.roles, &r.roles);
            add(&mut last.sources, std::slice::from_ref(&r.source));
            last.confidence = last.confidence.max(r.confidence);
            last.tlp = last.tlp.max(r.tlp);
            last.first_seen = match (last.first_seen.take(), r.first_seen.clone()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            last.last_seen = last.last_seen.take().max(r.last_seen.clone());
            continue;
        }
        out.push(SensorIndicator {
            kind: r.kind,
            value: r.value.clone(),
            actors: r.actors.clone(),
            families: r.families.clone(),
            roles: r.roles.clone(),
            sources: vec![r.source.clone()],
            confidence: r.confidence,
            tlp: r.tlp,
            first_seen: r.first_seen.clone(),
            last_seen: r.last_seen.clone(),
        });
    }
    out
}

/// What a query value keeps unescaped: RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The indicator page of the web app for `value`.
pub fn indicator_url(base: &str, value: &str) -> String {
    let enc = percent_encoding::utf8_percent_encode(value, QUERY_VALUE);
    format!("{}/indicator?value={enc}", base.trim_end_matches('/'))
}

/// Whether `s` holds a character that ends a field or line in a
/// line-oriented format (tab, newline, any control character).
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}
