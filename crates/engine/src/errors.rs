//! Every error the engine layer returns.

use std::path::PathBuf;

/// What went wrong between the store and an engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The knowledge base failed.
    #[error(transparent)]
    Kb(#[from] cairn_kb::errors::KbError),
    /// The hunt engine failed (an index cache that cannot be written, …).
    #[error(transparent)]
    Hunt(#[from] cairn_hunt::errors::HuntError),
    /// An indicator list could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// More indicators than the hunt index can key (u32).
    #[error("indicator key {0} does not fit the hunt index")]
    KeyRange(i64),
    /// The infrastructure engine failed.
    #[error(transparent)]
    Infra(#[from] cairn_infra::errors::InfraError),
    /// A lock was poisoned by a panicking thread.
    #[error("hunt state lock poisoned")]
    Poisoned,
}
