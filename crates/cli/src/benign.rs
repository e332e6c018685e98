//! The benign filter that keeps well-known infrastructure out of reports
//! being ingested or extracted: the MISP warninglists in the store.

use cairn_model::IndicatorKind;
use cairn_warninglist::WarningLists;
use std::sync::Arc;

struct Lists(WarningLists);

impl cairn_extract::BenignFilter for Lists {
    fn check(&self, kind: IndicatorKind, value: &str) -> Option<String> {
        self.0
            .check(kind, value)
            .map(|h| format!("MISP warninglist: {}", h.list))
    }
}

/// The warninglists in the store as a filter; `None` when there are none.
/// A list that no longer parses is skipped with a warning, never fatal.
pub fn from_store(
    store: &cairn_kb::Store,
) -> anyhow::Result<Option<Arc<dyn cairn_extract::BenignFilter>>> {
    let docs = store.warninglist_documents()?;
    if docs.is_empty() {
        return Ok(None);
    }
    let mut lists = WarningLists::new();
    for (name, body) in docs {
        if let Err(e) = lists.add_json(&name, &body) {
            eprintln!("cairn: warning: warninglist {name}: {e}");
        }
    }
    Ok(Some(Arc::new(Lists(lists))))
}

/// The store's warninglists, when a store already exists (extraction never
/// creates one).
pub fn from_existing_store(
    global: &crate::Global,
) -> anyhow::Result<Option<Arc<dyn cairn_extract::BenignFilter>>> {
    if !crate::db_path(global).exists() {
        return Ok(None);
    }
    from_store(&crate::open_store(global)?)
}
