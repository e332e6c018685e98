//! Cairn's knowledge base on PostgreSQL: the store a team shares, written
//! by several ingests at once and read by as many servers as it needs.
//!
//! It keeps the embedded store's semantics — one row per statement per
//! source, differential re-ingest with history and withdrawal, compact
//! lists, a generation that caches key on — and answers through the same
//! [`cairn_kb::KnowledgeBase`] trait, so engines and the CLI run on either
//! backend unchanged.
//!
//! Data flows: [`PgStore::connect`] brings the database's schema forward
//! (versioned steps, one transaction, under an advisory lock so servers
//! starting together do not race) → [`PgStore::ingest`] /
//! [`PgStore::ingest_list`] write a source in one transaction, staging rows
//! in bulk and applying set operations; ingests of different sources run
//! at once, two of the same source queue on a per-source advisory lock →
//! the queries of [`cairn_kb::KnowledgeBase`] read it back. [`PgStore::restrict`]
//! caps a connection at a TLP ceiling enforced by PostgreSQL itself: the
//! connection takes the `cairn_reader` role, whose row-level security
//! policies hide every statement marked above the ceiling.
//!
//! ```no_run
//! use cairn_kb::KnowledgeBase;
//! use cairn_pg::PgStore;
//! let mut store = PgStore::connect("postgres://cairn@db.internal/cairn")?;
//! println!("generation {}", store.generation()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod actors;
pub mod admin;
mod copy;
pub mod errors;
mod export;
mod feeds;
mod ingest;
mod lists;
mod query;
mod schema;
mod tokens;

use cairn_model::Tlp;
use errors::PgError;
use sqlx::{Connection, PgConnection};
use std::sync::Mutex;

pub use schema::VERSION;

/// A connection to a Cairn store in a PostgreSQL database. Its API blocks
/// (it runs its own small runtime): from async code, call it on a blocking
/// thread.
pub struct PgStore {
    /// Always `Some` until dropped (see the `Drop` impl).
    rt: Option<tokio::runtime::Runtime>,
    conn: Mutex<PgConnection>,
    url: String,
    ceiling: Option<Tlp>,
    /// Actors already named, for one store generation (see
    /// `PgStore::indicator_context`).
    names: Mutex<query::NameMemo>,
}

/// Whether `db` names a PostgreSQL store rather than a file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host/db`) and
    /// brings its schema to [`VERSION`]. A database written by a newer
    /// Cairn is refused.
    pub fn connect(url: &str) -> Result<PgStore, PgError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(PgError::Runtime)?;
        let shown = redact(url);
        let mut conn =
            block(&rt, PgConnection::connect(url))?.map_err(|source| PgError::Connect {
                url: shown.clone(),
                source,
            })?;
        block(&rt, schema::migrate(&mut conn))??;
        Ok(PgStore {
            rt: Some(rt),
            conn: Mutex::new(conn),
            url: shown,
            ceiling: None,
            names: Mutex::default(),
        })
    }

    /// The database's address, without a password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TLP ceiling this connection reads under, if restricted.
    pub fn ceiling(&self) -> Option<Tlp> {
        self.ceiling
    }

    /// Runs `f` on the connection, blocking on this store's runtime.
    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, PgError>,
    ) -> Result<T, PgError> {
        // A panic elsewhere while holding the lock leaves the connection
        // usable: every operation is its own statement or transaction.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| PgError::Invalid("the store is closing".into()))?;
        block(rt, f(&mut conn))?
    }

    fn writable(&self) -> Result<(), PgError> {
        match self.ceiling {
            Some(_) => Err(PgError::Invalid(
                "a TLP-restricted store connection is read-only".into(),
            )),
            None => Ok(()),
        }
    }

    /// Caps this connection at `ceiling`: from now on it acts as the
    /// `cairn_reader` role, and PostgreSQL's row-level security shows it
    /// only statements marked at or below the ceiling. There is no way
    /// back on this connection: open another for full access.
    pub fn restrict(&mut self, ceiling: Tlp) -> Result<(), PgError> {
        let rank = schema::tlp_rank(ceiling);
        self.run(async |c| {
            sqlx::query("SET ROLE cairn_reader")
                .execute(&mut *c)
                .await?;
            sqlx::query("SELECT set_config('cairn.ceiling', $1, false)")
                .bind(rank.to_string())
                .execute(&mut *c)
                .await?;
            Ok(())
        })?;
        self.ceiling = Some(ceiling);
        Ok(())
    }
}

/// Runs `fut` to completion on `rt`. Called from async code too (a
/// distributed hunt's coordinator asks for a hit's context, a server
/// checks a token on its request thread): a runtime cannot be blocked on
/// from inside another unless the thread first leaves it.
fn block<F: std::future::Future>(
    rt: &tokio::runtime::Runtime,
    fut: F,
) -> Result<F::Output, PgError> {
    match tokio::runtime::Handle::try_current() {
        Err(_) => Ok(rt.block_on(fut)),
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            Ok(tokio::task::block_in_place(|| rt.block_on(fut)))
        }
        Ok(_) => Err(PgError::Invalid(
            "the PostgreSQL store blocks: call it from a blocking thread, not from a \
             single-threaded async runtime"
                .into(),
        )),
    }
}

impl Drop for PgStore {
    /// A runtime must not be dropped on an async thread (tokio panics):
    /// a connection a server's pool lets go of may be dropped on one.
    fn drop(&mut self) {
        let Some(rt) = self.rt.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| drop(rt));
            }
            Ok(_) => rt.shutdown_background(),
            Err(_) => drop(rt),
        }
    }
}

/// `url` with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    match auth.and_then(|a| a.split_once(':')) {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.url)
            .field("ceiling", &self.ceiling)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://cairn:s3cret@db:5432/cairn"),
            "postgres://cairn:***@db:5432/cairn"
        );
        assert_eq!(redact("postgres://db/cairn"), "postgres://db/cairn");
        assert!(is_url("postgresql://x/y") && !is_url("/var/lib/cairn/kb.sqlite"));
    }
}
