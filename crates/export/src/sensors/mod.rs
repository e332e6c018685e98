//! Indicators for the sensors where the logs live: Zeek's Intel framework,
//! Suricata datasets, DNS response policy zones, CSV for SIEM lookups and
//! Elastic's ECS threat indicators.
//!
//! [`collect`] reads the active indicators through the caller's store
//! connection ([`Store::export_indicators`](cairn_kb::Store::export_indicators):
//! TLP ceiling, actor, `since`), drops every value on a warninglist
//! (built-in and the store's, as the hunt index does) and merges the
//! sources' statements of one value; [`render`] writes them in a
//! [`SensorFormat`]. Nothing here touches a file: the CLI and the server
//! write what [`render`] returns.

mod ecs;
mod indicator;
mod rpz;
mod suricata;
mod table;
mod zeek;

#[cfg(test)]
mod tests;

pub use ecs::{ECS_FILE, ecs_confidence, ecs_document, ecs_ndjson, ecs_value};
pub use indicator::{
    OutputFile, SensorExport, SensorIndicator, SensorOptions, indicator_url, merge,
};
pub use rpz::{RPZ_FILE, rpz, rpz_name_ok};
pub use suricata::{SURICATA_RULES, SURICATA_SID_BASE, suricata_dataset};
pub use table::{CSV_COLUMNS, CSV_FILE, csv};
pub use zeek::{ZEEK_FILE, ZEEK_HEADER, zeek_desc, zeek_intel, zeek_type, zeek_value};

use crate::errors::ExportError;
use cairn_kb::{ExportQuery, KnowledgeBase};
use cairn_model::Tlp;
use cairn_warninglist::WarningLists;
use std::fmt;
use std::str::FromStr;

/// The sensor formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensorFormat {
    /// Zeek Intel framework file.
    ZeekIntel,
    /// Suricata datasets, datarep and iprep files and a rules file (a directory).
    SuricataDataset,
    /// A DNS response policy zone.
    Rpz,
    /// CSV for SIEM lookups.
    Csv,
    /// Elastic ECS `threat.indicator` documents, one a line.
    EcsNdjson,
}

impl SensorFormat {
    /// Every format.
    pub const ALL: [SensorFormat; 5] = [
        SensorFormat::ZeekIntel,
        SensorFormat::SuricataDataset,
        SensorFormat::Rpz,
        SensorFormat::Csv,
        SensorFormat::EcsNdjson,
    ];

    /// Its name on the command line and in the API path.
    pub fn as_str(self) -> &'static str {
        match self {
            SensorFormat::ZeekIntel => "zeek-intel",
            SensorFormat::SuricataDataset => "suricata-dataset",
            SensorFormat::Rpz => "rpz",
            SensorFormat::Csv => "csv",
            SensorFormat::EcsNdjson => "ecs-ndjson",
        }
    }

    /// The media type of its (main) file.
    pub fn media_type(self) -> &'static str {
        match self {
            SensorFormat::Csv => "text/csv; charset=utf-8",
            SensorFormat::EcsNdjson => "application/x-ndjson",
            _ => "text/plain; charset=utf-8",
        }
    }
}

impl fmt::Display for SensorFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SensorFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SensorFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = SensorFormat::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown export format `{s}` (one of {})", names.join(", "))
            })
    }
}

/// What [`collect`] found.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// One per (kind, value), ordered by kind and value.
    pub indicators: Vec<SensorIndicator>,
    /// Values left out because a warninglist names them.
    pub warninglisted: usize,
    /// Warninglists in the store that did not parse (not applied).
    pub warnings: Vec<String>,
}

/// A sensor export as the CLI and the API ask for it.
#[derive(Debug, Clone, Copy)]
pub struct SensorRequest<'a> {
    /// Nothing marked above this leaves.
    pub tlp_max: Tlp,
    /// Only this actor's indicators (any vendor's name, an ATT&CK or STIX id).
    pub actor: Option<&'a str>,
    /// Only indicators added or changed since (RFC 3339, a date, epoch seconds).
    pub since: Option<&'a str>,
}

/// `req` applied to `store`: the connection restricted to the ceiling (so
/// not even an actor's name from a higher-marked source reaches a
/// description), the actor resolved to its members across sources, then
/// [`collect`]. `Ok(None)` when no actor has that name.
pub fn collect_request(
    store: &mut dyn KnowledgeBase,
    req: &SensorRequest<'_>,
) -> Result<Option<Collected>, ExportError> {
    let since = match req.since {
        Some(s) => Some(cairn_model::time::format_ms(
            cairn_model::time::parse(s).ok_or_else(|| ExportError::BadTime(s.to_string()))?,
        )),
        None => None,
    };
    if req.tlp_max < Tlp::Red {
        store.restrict(req.tlp_max)?;
    }
    let indicates = match req.actor {
        Some(name) => match store.actor(name)? {
            Some(p) => Some(p.members.iter().map(|m| m.stix_id.clone()).collect()),
            None => return Ok(None),
        },
        None => None,
    };
    let q = ExportQuery {
        tlp_max: req.tlp_max,
        indicates,
        since,
    };
    collect(store, &q).map(Some)
}

/// The indicators to export: `q` applied by the store, warninglisted
/// values dropped, one entry per value.
pub fn collect(store: &dyn KnowledgeBase, q: &ExportQuery) -> Result<Collected, ExportError> {
    let rows = store.export_indicators(q)?;
    let mut lists = WarningLists::builtin();
    let warnings = cairn_engine::store_warninglists(store, &mut lists)?;
    let before = rows.len();
    let kept: Vec<_> = rows
        .into_iter()
        .filter(|r| lists.check(r.kind, &r.value).is_none())
        .collect();
    let warninglisted = before - kept.len();
    Ok(Collected {
        indicators: merge(&kept),
        warninglisted,
        warnings,
    })
}

/// `indicators` in `format`.
pub fn render(
    format: SensorFormat,
    indicators: &[SensorIndicator],
    opts: &SensorOptions,
) -> SensorExport {
    match format {
        SensorFormat::ZeekIntel => zeek_intel(indicators, opts),
        SensorFormat::SuricataDataset => suricata_dataset(indicators),
        SensorFormat::Rpz => rpz(indicators, opts),
        SensorFormat::Csv => csv(indicators),
        SensorFormat::EcsNdjson => ecs_ndjson(indicators, opts),
    }
}
