//! A report reading as JSON lines: what `cairn extract --json` prints and
//! `POST /api/v1/extract` answers, built here once so the two are the same
//! bytes.
//!
//! Indicators come first (one line per value, its first occurrence's
//! fields flattened into the line), then the values suppressed as benign
//! (the same line plus `suppressed`), then what the prose says, one line
//! per finding. Every line has `kind`: `indicator`, or the finding's kind.

use crate::report::ReportReading;
use cairn_extract::Occurrence;
use cairn_prose::{Finding, Mention, Stance};
use serde::Serialize;
use std::io::Write;

/// Every `kind` a line can have, indicators first.
pub const LINE_KINDS: [&str; 6] = [
    "indicator",
    "technique",
    "software",
    "group",
    "country",
    "sector",
];

/// An indicator (or a value suppressed as benign), with its first
/// occurrence's `original`, `line`, `column`, `page`, `context` and `rule`
/// flattened into the line.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorLine<'a> {
    /// Always `indicator`.
    pub kind: &'static str,
    /// The indicator type: `ipv4`, `domain`, `sha256`, …
    #[serde(rename = "type")]
    pub type_: &'a str,
    /// Refanged and normalized.
    pub value: &'a str,
    /// The first occurrence.
    #[serde(flatten)]
    pub first: &'a Occurrence,
    /// Every occurrence, the first included.
    pub occurrences: &'a [Occurrence],
    /// Why the value was judged benign; absent for an indicator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<&'a str>,
}

/// A technique, software, group, country or sector the prose names, with
/// its first sentence.
#[derive(Debug, Clone, Serialize)]
pub struct FindingLine<'a> {
    /// `technique`, `software`, `group`, `country` or `sector`.
    pub kind: &'static str,
    /// The same as `kind` (a consumer keyed on `type` reads both kinds of line).
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// `T1574.001`, `S0596`, `TW`, `government`.
    pub value: &'a str,
    /// Display name.
    pub name: &'a str,
    /// The first sentence naming it.
    pub sentence: &'a str,
    /// The line that sentence starts on (1-based).
    pub line: u32,
    /// The finding's confidence.
    pub confidence: f64,
    /// Whether the report claims it.
    pub stance: Stance,
    /// The rule of the first mention.
    pub rule: &'static str,
    /// Every mention, first first.
    pub mentions: &'a [Mention],
}

impl<'a> FindingLine<'a> {
    /// The line of a finding; `None` for one without a mention.
    pub fn of(f: &'a Finding) -> Option<FindingLine<'a>> {
        let first = f.mentions.first()?;
        Some(FindingLine {
            kind: f.kind.as_str(),
            type_: f.kind.as_str(),
            value: &f.value,
            name: &f.name,
            sentence: &first.sentence,
            line: first.line,
            confidence: f.confidence,
            stance: f.stance,
            rule: first.rule,
            mentions: &f.mentions,
        })
    }
}

/// One line of the output.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ReportLine<'a> {
    /// An indicator or a suppressed value.
    Indicator(IndicatorLine<'a>),
    /// A prose finding.
    Finding(FindingLine<'a>),
}

/// The reading's lines in output order: indicators, suppressed values,
/// findings. Values without an occurrence and findings without a mention
/// (neither is produced by the readers) are left out.
pub fn report_lines(reading: &ReportReading) -> impl Iterator<Item = ReportLine<'_>> {
    let x = &reading.extraction;
    let indicators = x.indicators.iter().filter_map(|i| {
        Some(ReportLine::Indicator(IndicatorLine {
            kind: "indicator",
            type_: i.kind.as_str(),
            value: &i.value,
            first: i.occurrences.first()?,
            occurrences: &i.occurrences,
            suppressed: None,
        }))
    });
    let suppressed = x.suppressed.iter().filter_map(|s| {
        Some(ReportLine::Indicator(IndicatorLine {
            kind: "indicator",
            type_: s.kind.as_str(),
            value: &s.value,
            first: s.occurrences.first()?,
            occurrences: &s.occurrences,
            suppressed: Some(&s.reason),
        }))
    });
    let findings = reading
        .findings
        .iter()
        .filter_map(|f| FindingLine::of(f).map(ReportLine::Finding));
    indicators.chain(suppressed).chain(findings)
}

/// Writes the reading's lines to `w`, one JSON object and `\n` each.
pub fn write_report_lines(w: &mut impl Write, reading: &ReportReading) -> std::io::Result<()> {
    for line in report_lines(reading) {
        serde_json::to_writer(&mut *w, &line)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_extract::{Document, Extractor, Options};
    use cairn_prose::{Knowledge, Reader, ReaderOptions};

    #[test]
    fn lines_come_indicators_then_suppressed_then_findings() {
        let doc = Document::from_text(
            "r.md",
            "The actor targeted government agencies in Taiwan.\nC2: evil[.]top and 10.0.0.1\n",
        );
        let reader = Reader::new(&Knowledge::default(), ReaderOptions::default());
        let reading = crate::read_report(&Extractor::new(Options::default()), Some(&reader), &doc);
        let mut out = Vec::new();
        write_report_lines(&mut out, &reading).expect("written");
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .expect("UTF-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            ["indicator", "indicator", "country", "sector"],
            "{lines:?}"
        );
        assert_eq!(lines[0]["value"], "evil.top");
        assert_eq!(lines[0]["original"], "evil[.]top");
        assert_eq!(lines[0]["line"], 2);
        assert!(lines[0].get("suppressed").is_none());
        assert_eq!(lines[1]["value"], "10.0.0.1");
        assert!(lines[1]["suppressed"].is_string());
        assert_eq!(lines[2]["value"], "TW");
        assert_eq!(lines[2]["type"], "country");
        assert_eq!(lines[2]["stance"], "asserted");
        assert_eq!(lines[2]["mentions"][0]["text"], "Taiwan");
        assert!(
            lines
                .iter()
                .all(|l| LINE_KINDS.contains(&l["kind"].as_str().unwrap_or("")))
        );
    }
}
