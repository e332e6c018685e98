//! Sigma rules kept in the store, handed to `cairn-detect` as rule sources
//! (the same rules for `cairn detect` and anything the server runs).

use cairn_detect::RuleSource;
use cairn_kb::Store;

use crate::errors::EngineError;

/// Every active Sigma rule file in the store (indicators with
/// `pattern_type` `sigma`), each named by its store entry and source.
pub fn sigma_rule_sources(store: &Store) -> Result<Vec<RuleSource>, EngineError> {
    Ok(store
        .rule_files("sigma")?
        .into_iter()
        .map(|f| RuleSource {
            origin: format!("store: {} ({})", f.name, f.source),
            text: f.text,
        })
        .collect())
}

/// One technique as detections saw it, for `--record`.
#[derive(Debug, Clone, Default)]
pub struct TechniqueSeen {
    /// ATT&CK id (`T1059.001`).
    pub technique: String,
    /// Detections carrying it.
    pub count: u64,
    /// Earliest and latest event time, as logged.
    pub first: Option<String>,
    /// Latest event time.
    pub last: Option<String>,
    /// Hosts, then files, where it was seen.
    pub places: std::collections::BTreeSet<String>,
}

/// Sightings of the techniques detections carried, on the store's
/// attack-pattern objects (every source's), and the techniques the store
/// does not hold.
pub fn technique_sightings(
    store: &Store,
    seen: &[TechniqueSeen],
) -> Result<(Vec<cairn_kb::SightingInput>, Vec<String>), EngineError> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for t in seen {
        let keys = store.keys_by_external_id("attack-pattern", &t.technique)?;
        if keys.is_empty() {
            missing.push(t.technique.clone());
            continue;
        }
        let now = crate::tally::now();
        let first = t
            .first
            .as_deref()
            .map(crate::tally::sighting_time)
            .unwrap_or_else(|| now.clone());
        let last = t
            .last
            .as_deref()
            .map(crate::tally::sighting_time)
            .unwrap_or(now);
        let places: Vec<&str> = t.places.iter().map(String::as_str).take(20).collect();
        for key in keys {
            out.push(cairn_kb::SightingInput {
                key,
                count: t.count,
                first_seen: first.clone(),
                last_seen: last.clone(),
                where_: places.join(", "),
            });
        }
    }
    Ok((out, missing))
}
