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
    /// The store file is at an older schema version than this connection
    /// needs; [`Store::open`](crate::Store::open) migrates it.
    #[error(
        "store {path}: schema version {found}, but this cairn needs version {current}; \
         open it with Store::open (any cairn command) to migrate it first"
    )]
    SchemaOutdated {
        /// The store file.
        path: String,
        /// Version found in the file.
        found: i64,
        /// The version this build reads and writes.
        current: i64,
    },
    /// The file could not be read as a Cairn store: not a database, damaged,
    /// or another program's.
    #[error("store {path}: {reason}")]
    Unreadable {
        /// The store file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Creating or migrating the schema failed; its transaction rolled back,
    /// so the file is as it was.
    #[error(
        "store {path}: bringing the schema from version {from} to {to} failed, the file is unchanged: {reason}"
    )]
    Migration {
        /// The store file.
        path: String,
        /// Version the file was at (0: a new, empty file).
        from: i64,
        /// Version it was being brought to.
        to: i64,
        /// The step's error.
        reason: String,
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
    /// Another backend (PostgreSQL) failed; its own error says how.
    #[error("{0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}
