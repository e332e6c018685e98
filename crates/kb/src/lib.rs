//! Cairn's knowledge base: one SQLite file holding what every source said,
//! each statement with its provenance, and the questions analysts ask of it.
//!
//! Data flows in one direction: intake produces a [`Bundle`](cairn_model::Bundle);
//! [`Store::ingest`] writes it in one transaction (idempotent, differential,
//! never overwriting another source); queries read it back resolved at query
//! time:
//!
//! - [`Store::actor`] resolves any vendor's name, ATT&CK id or STIX id to a
//!   [`Profile`]: the actors the sources link by name, who says what, and the
//!   [`Conflict`]s where sources disagree — never a silent merge.
//! - [`Store::search`] ranks names, aliases and descriptions.
//! - [`Store::hunt_indicators`] / [`Store::indicator_context`] feed the hunt
//!   engine; [`Store::snapshot`] feeds attribution;
//!   [`Store::export_indicators`] feeds the sensor exports.
//!
//! [`Store::ingest_list`] stores a one-per-line list in compact form (a
//! row per value, the list's provenance once; STIX derived when read) and
//! re-ingests it differentially in one streaming pass.
//!
//! [`KnowledgeBase`] is what engines need of any backend: this crate's
//! SQLite [`Store`] implements it, and so does the PostgreSQL store of
//! `cairn-pg`.
//!
//! [`Store::open`] brings a store of an older schema forward in one
//! transaction and refuses a newer one; [`Store::store_id`] with
//! [`Store::generation`] identifies a state of the store for caches.
//! [`Store::restrict`] caps a connection at a TLP ceiling for every table.
//!
//! ```
//! use cairn_kb::Store;
//! use cairn_model::{Bundle, Object};
//! let mut store = Store::open_in_memory().unwrap();
//! let actor = |id: &str, name: &str, aliases: &[&str], src: &str| Object {
//!     id: id.into(), kind: "intrusion-set".into(), name: Some(name.into()),
//!     aliases: aliases.iter().map(|a| a.to_string()).collect(),
//!     prov: cairn_model::Provenance { source: src.into(), ..Default::default() },
//!     ..Object::default()
//! };
//! let b = Bundle { source: "vendor A".into(), format: "stix".into(),
//!     objects: vec![actor("intrusion-set--1", "Earth Lusca", &["TAG-22"], "vendor A")], ..Bundle::default() };
//! store.ingest(&b, None, None).unwrap();
//! let profile = store.actor("tag 22").unwrap().expect("resolves by alias");
//! assert_eq!(profile.name, "Earth Lusca");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod actor_rows;
mod actor_sql;
mod asn;
pub mod backend;
mod certs;
mod clearance;
mod conns;
pub mod errors;
mod export;
mod export_rows;
mod feed;
mod feeds;
mod hunting;
mod ingest;
mod lists;
mod observations;
mod profile;
mod registrations;
mod resolve;
mod rows;
mod schema;
mod search;
mod sensors;
mod shared;
mod tokens;
mod withdraw;

pub use asn::{AsnHead, AsnInfo};
pub use backend::KnowledgeBase;
pub use cairn_model::AsnRange;
pub use certs::{LinkedStatement, YaraRuleFile};
pub use conns::{ConnLink, ConnSide};
pub use export::{SourceInfo, Statement, Subgraph};
pub use export_rows::{ExportIndicator, ExportQuery};
pub use feed::{
    FEED_MAX_PAGE, FeedCollection, FeedItem, FeedObject, FeedPage, FeedQuery, VersionMatch,
};
pub use feeds::{Feed, FeedRun, FeedSave, NewFeed};
pub use hunting::{
    ActorRef, HuntIndicator, IndicatorContext, IndicatorRow, SightingInput, SightingRow,
};
pub use ingest::{Batches, IngestReport};
pub use lists::{LIST_KEY_BASE, ListHead, ListValue};
pub use observations::{ObsHead, ObsLink, ObsNode, ObsWindow};
pub use profile::{AliasClaim, CountClaim, Member, Profile, SoftwareClaim, TechniqueClaim};
pub use registrations::{RegHead, RegSummary, Registration, registrar_key};
pub use resolve::Conflict;
pub use search::SearchHit;
pub use tokens::{Role, Token, TokenGrant};
pub use withdraw::Withdraw;

use errors::KbError;
use rusqlite::Connection;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The embedded knowledge base.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    ceiling: Option<cairn_model::Tlp>,
}

/// Rows per table and per source.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Objects by STIX type (withdrawn ones excluded).
    pub objects_by_kind: Vec<(String, i64)>,
    /// Relationships by type (withdrawn ones excluded).
    pub relations_by_type: Vec<(String, i64)>,
    /// Per source: name, format, objects, relations, last ingested.
    pub sources: Vec<SourceStats>,
    /// Change counter.
    pub generation: i64,
}

/// One source's share of the store.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStats {
    /// Source name.
    pub name: String,
    /// Format it was read as.
    pub format: String,
    /// Active objects.
    pub objects: i64,
    /// Active relationships.
    pub relations: i64,
    /// Withdrawn statements kept for history.
    pub withdrawn: i64,
    /// Times ingested.
    pub versions: i64,
    /// Last ingest time.
    pub last_ingested: String,
}

impl Store {
    /// Adds the active list values to the `indicator` count, and those whose
    /// list names an actor to the `indicates` count.
    #[allow(clippy::type_complexity)]
    fn add_list_counts(
        &self,
        mut kinds: Vec<(String, i64)>,
        mut rels: Vec<(String, i64)>,
    ) -> Result<(Vec<(String, i64)>, Vec<(String, i64)>), KbError> {
        let (n, linked): (i64, i64) = self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(ls.actor_ref IS NOT NULL), 0) FROM list_values v \
             JOIN list_sources ls ON ls.source_id = v.source_id WHERE v.withdrawn_at IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        shared::add_count(&mut kinds, "indicator", n);
        shared::add_count(&mut rels, "indicates", linked);
        Ok((kinds, rels))
    }
}

/// Now, to the millisecond (`2024-01-02T03:04:05.678Z`).
pub(crate) fn now() -> String {
    cairn_model::time::now_ms()
}

impl Store {
    /// Opens (creating if needed) the store at `path`, migrating a store of
    /// an older schema forward in one transaction. A store of a newer schema,
    /// or a file that is not a readable store, is an error naming `path`.
    pub fn open(path: &Path) -> Result<Store, KbError> {
        let mut conn = schema::open_file(path)?;
        schema::init(&mut conn, &path.display().to_string())?;
        Ok(Store {
            conn,
            path: Some(path.to_path_buf()),
            ceiling: None,
        })
    }

    /// Opens another connection to a store that [`Store::open`] has already
    /// created or migrated, without touching the schema: no write lock is
    /// taken, so a server can open many while others read and write. A store
    /// not at the current schema version is refused.
    pub fn open_existing(path: &Path) -> Result<Store, KbError> {
        let conn = schema::open_file(path)?;
        schema::connect(&conn, &path.display().to_string())?;
        Ok(Store {
            conn,
            path: Some(path.to_path_buf()),
            ceiling: None,
        })
    }

    /// A throw-away store in memory (tests, one-shot pipelines).
    pub fn open_in_memory() -> Result<Store, KbError> {
        let mut conn = Connection::open_in_memory()?;
        schema::init(&mut conn, ":memory:")?;
        Ok(Store {
            conn,
            path: None,
            ceiling: None,
        })
    }

    /// Where the store lives, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A number that changes whenever the store's content changes: caches
    /// derived from the store (the hunt index) key on it.
    pub fn generation(&self) -> Result<i64, KbError> {
        let v: String =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
                    r.get(0)
                })?;
        Ok(v.parse().unwrap_or(0))
    }

    /// Counts by kind, relationship type and source.
    pub fn stats(&self) -> Result<Stats, KbError> {
        let pairs = |sql: &str| -> Result<Vec<(String, i64)>, KbError> {
            let mut q = self.conn.prepare(sql)?;
            let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let objects_by_kind = pairs(
            "SELECT kind, COUNT(*) FROM objects WHERE withdrawn_at IS NULL GROUP BY kind ORDER BY 2 DESC",
        )?;
        let relations_by_type = pairs(
            "SELECT rel_type, COUNT(*) FROM relations WHERE withdrawn_at IS NULL GROUP BY rel_type ORDER BY 2 DESC",
        )?;
        let (objects_by_kind, relations_by_type) =
            self.add_list_counts(objects_by_kind, relations_by_type)?;
        let mut q = self.conn.prepare(
            "SELECT s.name, s.format, \
               (SELECT COUNT(*) FROM objects o WHERE o.source_id = s.id AND o.withdrawn_at IS NULL), \
               (SELECT COUNT(*) FROM relations r WHERE r.source_id = s.id AND r.withdrawn_at IS NULL), \
               (SELECT COUNT(*) FROM objects o WHERE o.source_id = s.id AND o.withdrawn_at IS NOT NULL) + \
               (SELECT COUNT(*) FROM relations r WHERE r.source_id = s.id AND r.withdrawn_at IS NOT NULL), \
               s.versions, s.last_ingested, \
               (SELECT COUNT(*) FROM list_values v WHERE v.source_id = s.id AND v.withdrawn_at IS NULL), \
               (SELECT COUNT(*) FROM list_values v WHERE v.source_id = s.id AND v.withdrawn_at IS NOT NULL), \
               (SELECT ls.actor_ref IS NOT NULL FROM list_sources ls WHERE ls.source_id = s.id) \
             FROM sources s ORDER BY s.name",
        )?;
        let sources = q
            .query_map([], |r| {
                // A list value counts as the indicator and, when its list
                // names an actor, the relationship it stands for.
                let (listed, unlisted): (i64, i64) = (r.get(7)?, r.get(8)?);
                let linked = r.get::<_, Option<bool>>(9)?.unwrap_or(false);
                let links = if linked { 1 } else { 0 };
                Ok(SourceStats {
                    name: r.get(0)?,
                    format: r.get(1)?,
                    objects: r.get::<_, i64>(2)? + listed,
                    relations: r.get::<_, i64>(3)? + links * listed,
                    withdrawn: r.get::<_, i64>(4)? + (1 + links) * unlisted,
                    versions: r.get(5)?,
                    last_ingested: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Stats {
            objects_by_kind,
            relations_by_type,
            sources,
            generation: self.generation()?,
        })
    }
}
