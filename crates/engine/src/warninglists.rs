//! The MISP warninglists a store holds, as the hunt index and report
//! extraction both use them.

use crate::errors::EngineError;
use cairn_model::IndicatorKind;
use cairn_warninglist::WarningLists;
use std::sync::Arc;

/// Adds the store's warninglists to `lists`. A list that no longer parses
/// is skipped, never fatal: its warning is returned.
pub fn store_warninglists(
    store: &dyn cairn_kb::KnowledgeBase,
    lists: &mut WarningLists,
) -> Result<Vec<String>, EngineError> {
    let mut warnings = Vec::new();
    for (name, body) in store.warninglist_documents()? {
        if let Err(e) = lists.add_json(&name, &body) {
            warnings.push(format!("warninglist {name}: {e}; not applied"));
        }
    }
    Ok(warnings)
}

struct Lists(WarningLists);

impl cairn_extract::BenignFilter for Lists {
    fn check(&self, kind: IndicatorKind, value: &str) -> Option<String> {
        self.0
            .check(kind, value)
            .map(|h| format!("MISP warninglist: {}", h.list))
    }
}

/// A benign filter as report intake takes it.
pub type SharedBenignFilter = Arc<dyn cairn_extract::BenignFilter>;

/// The filter that keeps well-known infrastructure out of reports being
/// ingested or extracted: the store's warninglists (`None` when it holds
/// none), with the warnings of lists that did not parse.
pub fn benign_filter(
    store: &dyn cairn_kb::KnowledgeBase,
) -> Result<(Option<SharedBenignFilter>, Vec<String>), EngineError> {
    let mut lists = WarningLists::new();
    let warnings = store_warninglists(store, &mut lists)?;
    if lists.is_empty() {
        return Ok((None, warnings));
    }
    Ok((Some(Arc::new(Lists(lists))), warnings))
}
