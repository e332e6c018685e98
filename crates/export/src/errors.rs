//! What can go wrong in an export.

use thiserror::Error;

/// An exported document that does not hold up, or a store that could not
/// be read for one.
#[derive(Debug, Error)]
pub enum ExportError {
    /// A STIX bundle breaks STIX 2.1 rules; each problem names the object.
    #[error("invalid STIX 2.1 bundle ({} problems): {}", problems.len(), problems.join("; "))]
    InvalidBundle {
        /// One line per problem.
        problems: Vec<String>,
    },
    /// The store could not be read.
    #[error(transparent)]
    Kb(#[from] cairn_kb::errors::KbError),
    /// A `since` that is no time.
    #[error("since `{0}` is not a time (RFC 3339, a date such as 2024-01-31, or epoch seconds)")]
    BadTime(String),
    /// The store's warninglists could not be read.
    #[error(transparent)]
    Engine(#[from] cairn_engine::EngineError),
}
