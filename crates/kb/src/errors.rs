//! Every error the knowledge base can return.

/// A knowledge-base failure. A failed ingest has rolled back: the store is
/// as it was before.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// SQLite refused an operation.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store file was written by a newer Cairn.
    #[error(
        "store {path}: schema version {found} is newer than this cairn understands ({supported})"
    )]
    Schema {
        /// The store file.
        path: String,
        /// Version found in the file.
        found: i64,
        /// Newest version this build reads.
        supported: i64,
    },
    /// A stored JSON column could not be read back.
    #[error("store: corrupt JSON in {what}: {source}")]
    Json {
        /// Which column.
        what: &'static str,
        /// The cause.
        source: serde_json::Error,
    },
    /// A request the store cannot carry out, with the reason.
    #[error("{0}")]
    Invalid(String),
    /// No object with that key.
    #[error("no object with key {0}")]
    NotFound(i64),
}
