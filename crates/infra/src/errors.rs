//! Errors of the infrastructure engine.

/// What can go wrong reading the store or a candidate list.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] cairn_kb::errors::KbError),
    /// An argument the caller gave is not usable (a bad `--at` date).
    #[error("{0}")]
    Invalid(String),
}
