//! Every error the PostgreSQL store can return.

/// A PostgreSQL store failure. A failed ingest has rolled back: the
/// database is as it was before.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The database could not be reached or refused the login.
    #[error("store {url}: cannot connect: {source}")]
    Connect {
        /// The database's address (password removed).
        url: String,
        /// The cause.
        source: sqlx::Error,
    },
    /// PostgreSQL refused an operation.
    #[error("store: {0}")]
    Sql(#[from] sqlx::Error),
    /// The database was brought forward by a newer Cairn.
    #[error("store: schema version {found} is newer than this cairn understands ({supported})")]
    Schema {
        /// Version found in the database.
        found: i64,
        /// Newest version this build reads.
        supported: i64,
    },
    /// A schema step failed; its transaction rolled back.
    #[error(
        "store: bringing the schema from version {from} to {to} failed, nothing changed: {source}"
    )]
    Migration {
        /// Version the database was at.
        from: i64,
        /// Version it was being brought to.
        to: i64,
        /// The step's error.
        source: sqlx::Error,
    },
    /// A request the store cannot carry out, with the reason.
    #[error("{0}")]
    Invalid(String),
    /// An error of kb's, passed through unchanged: a value read from the
    /// input (a list line) that failed before it was stored, or a rule kb
    /// applies for both backends (actor resolution, token rules).
    #[error("{0}")]
    Input(cairn_kb::errors::KbError),
    /// The blocking runtime could not start.
    #[error("store: cannot start the database runtime: {0}")]
    Runtime(std::io::Error),
    /// No object with that key.
    #[error("no object with key {0}")]
    NotFound(i64),
}

/// SQLSTATE 22021 (`character_not_in_repertoire`): PostgreSQL's text
/// cannot hold NUL (U+0000), which SQLite stores and requests can carry.
fn unstorable_text(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("22021"))
}

impl From<PgError> for cairn_kb::errors::KbError {
    fn from(e: PgError) -> Self {
        match e {
            PgError::Sql(s) if unstorable_text(&s) => cairn_kb::errors::KbError::Invalid(
                "text holding a NUL character (U+0000), which a PostgreSQL store cannot hold"
                    .into(),
            ),
            PgError::Input(k) => k,
            PgError::NotFound(k) => cairn_kb::errors::KbError::NotFound(k),
            PgError::Invalid(s) => cairn_kb::errors::KbError::Invalid(s),
            other => cairn_kb::errors::KbError::Backend(Box::new(other)),
        }
    }
}
