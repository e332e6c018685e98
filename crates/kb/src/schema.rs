//! The store's tables. One row per statement per source: an object that two
//! sources describe is two rows, so nothing one source said is overwritten
//! by another, and resolution happens at query time.

use crate::errors::KbError;
use rusqlite::Connection;

pub(crate) const VERSION: i64 = 1;

const DDL: &str = r#"
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

/// Per-connection settings and the version check, without touching the schema.
pub(crate) fn connect(conn: &Connection, path: &str) -> Result<(), KbError> {
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;",
    )?;
    check_version(conn, path)
}

fn check_version(conn: &Connection, path: &str) -> Result<(), KbError> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .and_then(|v| v.parse().ok());
    if let Some(found) = found
        && found > VERSION
    {
        return Err(KbError::Schema {
            path: path.to_string(),
            found,
            supported: VERSION,
        });
    }
    Ok(())
}

pub(crate) fn init(conn: &Connection, path: &str) -> Result<(), KbError> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;",
    )?;
    check_version(conn, path)?;
    conn.execute_batch(DDL)?;
    conn.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1), ('generation', '0')",
        [VERSION.to_string()],
    )?;
    Ok(())
}
