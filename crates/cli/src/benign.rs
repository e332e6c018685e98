//! The benign filter that keeps well-known infrastructure out of reports
//! being ingested or extracted: the store's MISP warninglists, as the engine
//! layer builds them.

use std::sync::Arc;

/// The store's warninglists as a filter; `None` when there are none. A list
/// that no longer parses is skipped with a warning, never fatal.
pub fn from_store(
    store: &dyn cairn_kb::KnowledgeBase,
) -> anyhow::Result<Option<Arc<dyn cairn_extract::BenignFilter>>> {
    let (filter, warnings) = cairn_engine::benign_filter(store)?;
    for w in warnings {
        eprintln!("cairn: warning: {w}");
    }
    Ok(filter)
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
