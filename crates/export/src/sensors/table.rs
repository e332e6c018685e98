//! CSV for SIEM lookup tables (Splunk, Sentinel watchlists, QRadar
//! reference sets): RFC 4180, one header line, lists inside a field joined
//! by `; `.

use crate::sensors::indicator::{OutputFile, SensorExport, SensorIndicator};

/// The header line's columns.
pub const CSV_COLUMNS: [&str; 9] = [
    "value",
    "type",
    "actors",
    "roles",
    "sources",
    "confidence",
    "tlp",
    "first_seen",
    "last_seen",
];

/// The file name used when none is given.
pub const CSV_FILE: &str = "cairn.csv";

/// A field quoted when it holds a comma, quote or line break.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV file.
pub fn csv(indicators: &[SensorIndicator]) -> SensorExport {
    let mut text = CSV_COLUMNS.join(",");
    text.push_str("\r\n");
    for i in indicators {
        let row = [
            i.value.clone(),
            i.kind.to_string(),
            i.actors.join("; "),
            i.roles.join("; "),
            i.sources.join("; "),
            i.confidence.map(|c| c.to_string()).unwrap_or_default(),
            i.tlp.as_str().to_string(),
            i.first_seen.clone().unwrap_or_default(),
            i.last_seen.clone().unwrap_or_default(),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        text.push_str(&cells.join(","));
        text.push_str("\r\n");
    }
    SensorExport {
        files: vec![OutputFile {
            name: CSV_FILE.into(),
            content: text,
        }],
        written: indicators.len(),
        skipped: 0,
    }
}
