//! The store's tables, and how a file gets to the current version of them.
//!
//! One row per statement per source: an object that two sources describe is
//! two rows, so nothing one source said is overwritten by another, and
//! resolution happens at query time.
//!
//! Every store records its `schema_version` in `meta`. [`MIGRATIONS`] lists
//! the steps from an empty file (version 0) to [`VERSION`]; a new store and
//! an old one are both brought forward by the same steps, in one
//! transaction: all of them or none. A store newer than this build is
//! refused, and so is a file whose version cannot be read.
//!
//! Version 2 (from 1): `meta.store_id`, a random id written once;
//! `history.tlp` (the marking of the version each row keeps) and
//! `documents.tlp` (the marking they were ingested under), so a restricted
//! connection can filter them (see `clearance.rs`).
//!
//! Version 3 (from 2): `feeds`, the subscriptions `cairn feed` pulls (see
//! `feeds.rs`).
//!
//! Version 4 (from 3): list-sourced indicators in compact form (`list_sources`,
//! `list_values`, `list_history`; see `lists.rs`), and `sightings` without its
//! foreign key to `objects`, since a sighting's key may now name a list value.
//!
//! Version 5 (from 4): address → AS tables (`asn_sources`, `asn_ranges`; see
//! `asn.rs`).
//! Version 6 (from 5): observations (passive DNS, TLS): `obs_sources`,
//! `obs_values`, `observations` (see `observations.rs`).
//! Version 7 (from 6): registration records (WHOIS, RDAP): `reg_sources`,
//! `registrations`, `reg_name_servers` (see `registrations.rs`).
//! Version 8 (from 7): connection summaries beside `connects` edges (Zeek
//! `conn`): `obs_conns` (see `conns.rs`).
//!
//! Version 9 (from 8): an index of registrations by registrant e-mail, so a
//! pivot can walk from an e-mail to the domains it registered.
//!
//! Version 10 (from 9): `observations_object` covers subject and times, so
//! a hub's inward fan-out is read from the index alone.

use crate::Store;
use crate::errors::KbError;
use cairn_model::Tlp;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

/// One step: `MIGRATIONS[i]` brings a store from version `i` to `i + 1`.
type Step = fn(&Transaction) -> Result<(), KbError>;

/// Every step from an empty file to [`VERSION`]. Append, never edit: stores
/// in the field were made by these steps as they are.
const MIGRATIONS: &[Step] = &[
    create_v1,
    v1_to_v2,
    v2_to_v3_feeds,
    crate::lists::v3_to_v4_lists,
    v4_to_v5_asn,
    crate::observations::v5_to_v6_observations,
    crate::registrations::v6_to_v7_registrations,
    crate::conns::v7_to_v8_conns,
    crate::registrations::v8_to_v9_registrant_index,
    crate::observations::v9_to_v10_covering_object_index,
];

/// The schema version this build reads and writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

fn v4_to_v5_asn(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(crate::asn::ASN_DDL)?;
    Ok(())
}

/// The tables of version 1, as the first release created them.
const V1_DDL: &str = r#"
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    file TEXT,
    fingerprint TEXT,
    first_ingested TEXT NOT NULL,
    last_ingested TEXT NOT NULL,
    versions INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS objects(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    stix_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    description TEXT,
    external_id TEXT,
    created TEXT,
    modified TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    deprecated INTEGER NOT NULL DEFAULT 0,
    country TEXT,
    valid_until TEXT,
    aliases TEXT NOT NULL DEFAULT '[]',
    tactics TEXT NOT NULL DEFAULT '[]',
    labels TEXT NOT NULL DEFAULT '[]',
    sectors TEXT NOT NULL DEFAULT '[]',
    refs TEXT NOT NULL DEFAULT '[]',
    reference TEXT,
    first_seen TEXT,
    last_seen TEXT,
    confidence INTEGER,
    tlp TEXT NOT NULL,
    raw TEXT NOT NULL,
    hash INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    UNIQUE(source_id, stix_id)
);
CREATE INDEX IF NOT EXISTS objects_stix ON objects(stix_id);
CREATE INDEX IF NOT EXISTS objects_kind ON objects(kind);
-- TAXII pages in date-added order.
CREATE INDEX IF NOT EXISTS objects_updated ON objects(updated_at);
CREATE TABLE IF NOT EXISTS names(
    object_id INTEGER NOT NULL REFERENCES objects(id),
    norm TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL  -- primary | alias | id
);
CREATE INDEX IF NOT EXISTS names_norm ON names(norm);
CREATE INDEX IF NOT EXISTS names_object ON names(object_id);
CREATE TABLE IF NOT EXISTS observables(
    object_id INTEGER NOT NULL REFERENCES objects(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS observables_value ON observables(value);
CREATE INDEX IF NOT EXISTS observables_object ON observables(object_id);
CREATE TABLE IF NOT EXISTS relations(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    stix_id TEXT NOT NULL,
    rel_type TEXT NOT NULL,
    src_ref TEXT NOT NULL,
    tgt_ref TEXT NOT NULL,
    description TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    deprecated INTEGER NOT NULL DEFAULT 0,
    reference TEXT,
    first_seen TEXT,
    last_seen TEXT,
    confidence INTEGER,
    tlp TEXT NOT NULL,
    raw TEXT NOT NULL,
    hash INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    UNIQUE(source_id, stix_id)
);
CREATE INDEX IF NOT EXISTS relations_src ON relations(src_ref, rel_type);
CREATE INDEX IF NOT EXISTS relations_tgt ON relations(tgt_ref, rel_type);
CREATE INDEX IF NOT EXISTS relations_updated ON relations(updated_at);
-- Earlier versions of statements a source has since changed or withdrawn.
CREATE TABLE IF NOT EXISTS history(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL,
    stix_id TEXT NOT NULL,
    change TEXT NOT NULL,     -- changed | withdrawn
    raw TEXT NOT NULL,
    superseded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_stix ON history(stix_id);
-- Whole documents kept for engines (MISP warninglists).
CREATE TABLE IF NOT EXISTS documents(
    source_id INTEGER NOT NULL REFERENCES sources(id),
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY(source_id, name)
);
-- Hits in the user's own logs, written by `cairn hunt --record`.
CREATE TABLE IF NOT EXISTS sightings(
    id INTEGER PRIMARY KEY,
    object_id INTEGER NOT NULL REFERENCES objects(id),
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    location TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sightings_object ON sightings(object_id);
-- API tokens for `cairn serve`; only a hash of each is kept.
CREATE TABLE IF NOT EXISTS tokens(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    name, aliases, description, tokenize = 'unicode61 remove_diacritics 2'
);
"#;

const PRAGMAS: &str = "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;";

fn unreadable(path: &str, reason: impl std::fmt::Display) -> KbError {
    KbError::Unreadable {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

/// The file's connection; a failure names the file.
pub(crate) fn open_file(path: &std::path::Path) -> Result<Connection, KbError> {
    Connection::open(path).map_err(|e| unreadable(&path.display().to_string(), e))
}

/// Per-connection settings and the version check, without touching the
/// schema: for extra connections to a store [`init`] has brought up to date.
pub(crate) fn connect(conn: &Connection, path: &str) -> Result<(), KbError> {
    conn.execute_batch(PRAGMAS)
        .map_err(|e| unreadable(path, format!("cannot open it as a database: {e}")))?;
    match found_version(conn, path)? {
        v if v == VERSION => Ok(()),
        v if v > VERSION => Err(KbError::Schema {
            path: path.to_string(),
            found: v,
            supported: VERSION,
        }),
        v => Err(KbError::SchemaOutdated {
            path: path.to_string(),
            found: v,
            current: VERSION,
        }),
    }
}

/// Per-connection settings, then creates or migrates the schema as needed.
pub(crate) fn init(conn: &mut Connection, path: &str) -> Result<(), KbError> {
    conn.execute_batch(PRAGMAS)
        .map_err(|e| unreadable(path, format!("cannot open it as a database: {e}")))?;
    // Foreign, broken and newer files are refused before anything is written
    // to them (switching to WAL rewrites the file header).
    let found = found_version(conn, path)?;
    if found > VERSION {
        return Err(KbError::Schema {
            path: path.to_string(),
            found,
            supported: VERSION,
        });
    }
    conn.execute_batch("PRAGMA journal_mode = WAL;")
        .map_err(|e| unreadable(path, format!("cannot switch it to WAL mode: {e}")))?;
    upgrade(conn, path, MIGRATIONS)
}

/// The version the file is at: 0 for an empty file. Anything unreadable is an
/// error naming the file, never taken for "empty".
fn found_version(conn: &Connection, path: &str) -> Result<i64, KbError> {
    let read = |e: rusqlite::Error| unreadable(path, format!("cannot read its schema: {e}"));
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM main.sqlite_schema", [], |r| r.get(0))
        .map_err(read)?;
    if tables == 0 {
        return Ok(0);
    }
    let has_meta: bool = conn
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'meta')",
            [],
            |r| r.get(0),
        )
        .map_err(read)?;
    if !has_meta {
        return Err(unreadable(
            path,
            "not a Cairn store: it holds tables but no `meta` table",
        ));
    }
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM main.meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(read)?;
    let value = value.ok_or_else(|| {
        unreadable(
            path,
            "not a Cairn store, or a damaged one: `meta` has no schema_version",
        )
    })?;
    match value.trim().parse::<i64>() {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(unreadable(
            path,
            format!("schema_version `{value}` is not a version number"),
        )),
    }
}

/// Brings the file to version `steps.len()` in one transaction. Tests pass
/// their own steps to make one fail.
fn upgrade(conn: &mut Connection, path: &str, steps: &[Step]) -> Result<(), KbError> {
    let target = steps.len() as i64;
    let newer = |found| KbError::Schema {
        path: path.to_string(),
        found,
        supported: target,
    };
    // The common case only reads: no write lock.
    match found_version(conn, path)? {
        v if v == target => return Ok(()),
        v if v > target => return Err(newer(v)),
        _ => {}
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| unreadable(path, format!("cannot lock it to migrate: {e}")))?;
    // Read again under the lock: another process may have migrated it meanwhile.
    let from = found_version(&tx, path)?;
    if from == target {
        return Ok(());
    }
    if from > target {
        return Err(newer(from));
    }
    let failed = |reason: String| KbError::Migration {
        path: path.to_string(),
        from,
        to: target,
        reason,
    };
    // The steps the file has not had yet, in order.
    for step in steps.iter().skip(from as usize) {
        step(&tx).map_err(|e| failed(e.to_string()))?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)",
        [target.to_string()],
    )
    .map_err(|e| failed(e.to_string()))?;
    // Dropping the transaction on any error above rolls every step back.
    tx.commit().map_err(|e| failed(e.to_string()))
}

fn create_v1(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(V1_DDL)?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', '1'), ('generation', '0')",
        [],
    )?;
    Ok(())
}

fn v1_to_v2(tx: &Transaction) -> Result<(), KbError> {
    // TLP:RED by default: a row whose marking nobody wrote stays hidden from
    // restricted readers rather than shown.
    tx.execute_batch("ALTER TABLE history ADD COLUMN tlp TEXT NOT NULL DEFAULT 'TLP:RED';")?;
    backfill_history_tlp(tx)?;
    // Version 1 kept no marking for documents (the ingest's --tlp was
    // dropped), so old ones stay TLP:RED; re-ingesting sets it.
    tx.execute_batch(
        "ALTER TABLE documents ADD COLUMN tlp TEXT NOT NULL DEFAULT 'TLP:RED';
         CREATE INDEX history_source ON history(source_id);",
    )?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('store_id', ?1)",
        [new_store_id()?],
    )?;
    Ok(())
}

fn v2_to_v3_feeds(tx: &Transaction) -> Result<(), KbError> {
    // `config` holds the feed's options as JSON (collection, column mapping,
    // the NAME of the environment variable holding a secret, never the
    // secret); `state` what a kind keeps between runs (a TAXII `next`, a
    // MISP feed's event timestamps and statement ids).
    tx.execute_batch(
        "CREATE TABLE feeds(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            url TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{}',
            every INTEGER NOT NULL DEFAULT 86400,
            enabled INTEGER NOT NULL DEFAULT 1,
            etag TEXT,
            last_modified TEXT,
            cursor TEXT,
            state TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            last_run TEXT,
            next_due TEXT,
            status TEXT NOT NULL DEFAULT 'never',
            added INTEGER NOT NULL DEFAULT 0,
            changed INTEGER NOT NULL DEFAULT 0,
            withdrawn INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );",
    )?;
    Ok(())
}

/// Version 1's history rows did not record their marking. Each gets the
/// current statement's TLP, raised to any standard TLP marking its own JSON
/// names (a version marked RED and since republished CLEAR stays RED); with
/// no current statement, TLP:RED. Never a guess lower than the evidence.
fn backfill_history_tlp(tx: &Transaction) -> Result<(), KbError> {
    #[derive(serde::Deserialize)]
    struct Marked {
        #[serde(default)]
        object_marking_refs: Vec<String>,
    }
    let mut current_obj =
        tx.prepare("SELECT tlp FROM objects WHERE source_id = ?1 AND stix_id = ?2")?;
    let mut current_rel =
        tx.prepare("SELECT tlp FROM relations WHERE source_id = ?1 AND stix_id = ?2")?;
    let mut marks: Vec<(i64, Tlp)> = Vec::new();
    {
        let mut q = tx.prepare("SELECT id, source_id, stix_id, raw FROM history")?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            let (id, source, stix): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let current: Option<String> = match current_obj
                .query_row(params![source, stix], |r| r.get(0))
                .optional()?
            {
                Some(t) => Some(t),
                None => current_rel
                    .query_row(params![source, stix], |r| r.get(0))
                    .optional()?,
            };
            let tlp = match current.and_then(|t| t.parse::<Tlp>().ok()) {
                Some(t) => {
                    let raw: String = r.get(3)?;
                    let marked = serde_json::from_str::<Marked>(&raw)
                        .map(|m| {
                            m.object_marking_refs
                                .iter()
                                .filter_map(|m| Tlp::from_marking_ref(m))
                                .max()
                                .unwrap_or_default()
                        })
                        .unwrap_or_default();
                    t.max(marked)
                }
                None => Tlp::Red,
            };
            marks.push((id, tlp));
        }
    }
    let mut set = tx.prepare("UPDATE history SET tlp = ?2 WHERE id = ?1")?;
    for (id, tlp) in marks {
        set.execute(params![id, tlp.as_str()])?;
    }
    Ok(())
}

/// A random version-4 UUID.
fn new_store_id() -> Result<String, KbError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| KbError::Invalid(format!("no randomness for the store id: {e}")))?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

impl Store {
    /// This store's identity: a random 128-bit id (UUIDv4 text) written once
    /// into `meta` when the store is created (or, for a store made before
    /// ids existed, when it is first migrated) and never changed.
    ///
    /// Key anything cached outside the file on `(store_id, generation)`:
    /// [`Store::generation`] restarts at 0 in every new store, so a store
    /// deleted and re-created at the same path would otherwise match a cache
    /// built from the old one.
    pub fn store_id(&self) -> Result<String, KbError> {
        let id: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| {
                r.get(0)
            })
            .optional()?;
        id.ok_or_else(|| {
            unreadable(
                &self
                    .path
                    .as_deref()
                    .map_or(":memory:".to_string(), |p| p.display().to_string()),
                "`meta` has no store_id",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn v1_copy(dir: &Path) -> PathBuf {
        let path = dir.join("v1.db");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.db"),
            &path,
        )
        .unwrap();
        path
    }

    fn fail(_: &Transaction) -> Result<(), KbError> {
        Err(KbError::Invalid("injected failure".into()))
    }

    #[test]
    fn a_failing_step_rolls_back_every_step_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = v1_copy(dir.path());
        let before = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        {
            let mut conn = Connection::open(&path).unwrap();
            // v1 -> v2 runs and succeeds, then the next step fails.
            let err = upgrade(&mut conn, &name, &[create_v1, v1_to_v2, fail]).expect_err("fails");
            assert!(
                matches!(err, KbError::Migration { from: 1, to: 3, .. }),
                "{err:?}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains(&name) && msg.contains("injected failure"),
                "{msg}"
            );
            assert_eq!(found_version(&conn, &name).unwrap(), 1);
            let has_id: bool = conn
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM meta WHERE key = 'store_id')",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(!has_id);
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn an_empty_file_fails_whole_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let name = path.display().to_string();
        let mut conn = Connection::open(&path).unwrap();
        assert!(upgrade(&mut conn, &name, &[create_v1, fail]).is_err());
        assert_eq!(found_version(&conn, &name).unwrap(), 0);
    }

    #[test]
    fn history_of_a_statement_no_longer_stored_is_red() {
        let dir = tempfile::tempdir().unwrap();
        let path = v1_copy(dir.path());
        let conn = Connection::open(&path).unwrap();
        // v1 never deleted statements, but a row without one must not be
        // guessed lower than RED; one with a current statement follows it.
        conn.execute(
            "INSERT INTO history(source_id, stix_id, change, raw, superseded_at) \
             VALUES (1, 'indicator--gone', 'withdrawn', '{}', '2024-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        drop(conn);
        let mut conn = Connection::open(&path).unwrap();
        init(&mut conn, &path.display().to_string()).unwrap();
        let tlp = |stix: &str| -> String {
            conn.query_row("SELECT tlp FROM history WHERE stix_id = ?1", [stix], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert_eq!(tlp("indicator--gone"), "TLP:RED");
        // A withdrawn GREEN indicator of the "ember feed" list.
        assert_eq!(
            tlp("indicator--2ff3f0da-5b2a-55b8-830a-ea9c0910bb7e"),
            "TLP:GREEN"
        );
    }
}
