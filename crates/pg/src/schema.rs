//! The database's tables and how a database gets to the current version.
//!
//! The same shape as the embedded store (one row per statement per source,
//! `history`, compact lists), in PostgreSQL's types: identity keys,
//! booleans, a generated `tsvector` for search. [`MIGRATIONS`] lists the
//! steps; each database records what it applied in `cairn_migrations`.
//! All missing steps run in one transaction under an advisory lock, so
//! servers that start together against a new database do not race, and a
//! failed step leaves the database as it was.
//!
//! Row-level security: every statement table has a policy that lets the
//! `cairn_reader` role see a row only when its marking ranks at or below
//! the session's `cairn.ceiling` (unset: TLP:CLEAR only). The owner (the
//! role that ingests) is not bound by the policies; a restricted
//! connection switches to `cairn_reader` (see [`crate::PgStore::restrict`]).

use crate::errors::PgError;
use cairn_model::Tlp;
use sqlx::{Connection, PgConnection};

/// One schema step: SQL run as one batch.
struct Step {
    name: &'static str,
    sql: &'static str,
}

/// Every step from an empty database. Append, never edit.
const MIGRATIONS: &[Step] = &[
    Step {
        name: "statements, lists, sightings",
        sql: V1,
    },
    Step {
        name: "reader role and row-level security",
        sql: V2_RLS,
    },
    Step {
        name: "API tokens",
        sql: V3_TOKENS,
    },
    Step {
        name: "feed subscriptions",
        sql: V4_FEEDS,
    },
];

/// The schema version this build reads and writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// A key no other application takes: the migration lock.
const MIGRATION_LOCK: i64 = 0x6361_6972_6e00_0001;

/// The rank the policies compare: TLP levels, least restricted first.
pub(crate) fn tlp_rank(t: Tlp) -> i32 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

const V1: &str = r#"
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES ('generation', '0'), ('store_id', gen_random_uuid()::text);
CREATE TABLE sources(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    file TEXT,
    fingerprint TEXT,
    first_ingested TEXT NOT NULL,
    last_ingested TEXT NOT NULL,
    versions BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX sources_fingerprint ON sources(fingerprint);
CREATE FUNCTION cairn_tlp_rank(t TEXT) RETURNS INT IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
    SELECT CASE t WHEN 'TLP:CLEAR' THEN 0 WHEN 'TLP:GREEN' THEN 1 WHEN 'TLP:AMBER' THEN 2
                  WHEN 'TLP:AMBER+STRICT' THEN 3 ELSE 4 END
$$;
-- Words split at every non-alphanumeric character, as the embedded store's
-- search does: PostgreSQL's parser would keep a URL or `T1059.001` whole.
CREATE FUNCTION cairn_words(t TEXT) RETURNS TEXT IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
    SELECT regexp_replace(coalesce(t, ''), '[^[:alnum:]]+', ' ', 'g')
$$;
CREATE TABLE objects(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id BIGINT NOT NULL REFERENCES sources(id),
    stix_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    description TEXT,
    external_id TEXT,
    created TEXT,
    modified TEXT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    deprecated BOOLEAN NOT NULL DEFAULT FALSE,
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
    confidence INT,
    tlp TEXT NOT NULL,
    raw TEXT NOT NULL,
    hash BIGINT NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    -- Search covers actors, campaigns, software and techniques: names weigh
    -- most, then aliases, then descriptions.
    tsv TSVECTOR GENERATED ALWAYS AS (
        CASE WHEN kind IN ('intrusion-set', 'campaign', 'malware', 'tool', 'attack-pattern') THEN
            setweight(to_tsvector('simple'::regconfig, cairn_words(name)), 'A')
            || setweight(to_tsvector('simple'::regconfig, cairn_words(aliases)), 'B')
            || setweight(to_tsvector('simple'::regconfig, cairn_words(description)), 'C')
        END) STORED,
    UNIQUE(source_id, stix_id)
);
CREATE INDEX objects_stix ON objects(stix_id);
CREATE INDEX objects_kind ON objects(kind);
CREATE INDEX objects_updated ON objects(updated_at);
CREATE INDEX objects_tsv ON objects USING GIN(tsv);
CREATE TABLE names(
    object_id BIGINT NOT NULL REFERENCES objects(id),
    norm TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL
);
CREATE INDEX names_norm ON names(norm);
CREATE INDEX names_object ON names(object_id);
CREATE TABLE observables(
    object_id BIGINT NOT NULL REFERENCES objects(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX observables_value ON observables(value);
CREATE INDEX observables_object ON observables(object_id);
CREATE TABLE relations(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id BIGINT NOT NULL REFERENCES sources(id),
    stix_id TEXT NOT NULL,
    rel_type TEXT NOT NULL,
    src_ref TEXT NOT NULL,
    tgt_ref TEXT NOT NULL,
    description TEXT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    deprecated BOOLEAN NOT NULL DEFAULT FALSE,
    reference TEXT,
    first_seen TEXT,
    last_seen TEXT,
    confidence INT,
    tlp TEXT NOT NULL,
    raw TEXT NOT NULL,
    hash BIGINT NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    UNIQUE(source_id, stix_id)
);
CREATE INDEX relations_src ON relations(src_ref, rel_type);
CREATE INDEX relations_tgt ON relations(tgt_ref, rel_type);
CREATE TABLE history(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id BIGINT NOT NULL,
    stix_id TEXT NOT NULL,
    change TEXT NOT NULL,
    raw TEXT NOT NULL,
    superseded_at TEXT NOT NULL,
    tlp TEXT NOT NULL
);
CREATE INDEX history_stix ON history(stix_id);
CREATE TABLE documents(
    source_id BIGINT NOT NULL REFERENCES sources(id),
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    tlp TEXT NOT NULL,
    PRIMARY KEY(source_id, name)
);
CREATE TABLE list_sources(
    source_id BIGINT PRIMARY KEY REFERENCES sources(id),
    actor_ref TEXT,
    reference TEXT,
    confidence INT,
    tlp TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '[]'
);
-- No foreign key on source_id: a million-value list would pay a trigger
-- per row; the source row is written in the same transaction.
CREATE TABLE list_values(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    name TEXT,
    added_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    withdrawn_at BIGINT,
    UNIQUE(source_id, value, kind)
);
CREATE INDEX list_values_value ON list_values(value);
CREATE TABLE list_history(
    value_id BIGINT NOT NULL,
    withdrawn_at BIGINT NOT NULL,
    restored_at BIGINT NOT NULL
);
CREATE INDEX list_history_value ON list_history(value_id);
CREATE TABLE sightings(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_id BIGINT NOT NULL,
    count BIGINT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    location TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX sightings_object ON sightings(object_id);
"#;

/// The reader role and its policies. Roles are shared by every database of
/// the server, so creating it tolerates another database having done so.
const V2_RLS: &str = r#"
DO $$ BEGIN
    CREATE ROLE cairn_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
-- The owner must be able to take the role to restrict itself; a superuser
-- always can, and a grant it does not need is not an error worth stopping.
DO $$ BEGIN
    EXECUTE format('GRANT cairn_reader TO %I', current_user);
EXCEPTION WHEN others THEN NULL;
END $$;
CREATE FUNCTION cairn_ceiling() RETURNS INT STABLE LANGUAGE sql AS $$
    SELECT coalesce(nullif(current_setting('cairn.ceiling', true), '')::int, 0)
$$;
GRANT USAGE ON SCHEMA public TO cairn_reader;
GRANT SELECT ON meta, sources, objects, names, observables, relations, history, documents,
    list_sources, list_values, list_history, sightings, cairn_migrations TO cairn_reader;
ALTER TABLE objects ENABLE ROW LEVEL SECURITY;
CREATE POLICY objects_tlp ON objects FOR SELECT TO cairn_reader
    USING (cairn_tlp_rank(tlp) <= cairn_ceiling());
ALTER TABLE relations ENABLE ROW LEVEL SECURITY;
CREATE POLICY relations_tlp ON relations FOR SELECT TO cairn_reader
    USING (cairn_tlp_rank(tlp) <= cairn_ceiling());
ALTER TABLE history ENABLE ROW LEVEL SECURITY;
CREATE POLICY history_tlp ON history FOR SELECT TO cairn_reader
    USING (cairn_tlp_rank(tlp) <= cairn_ceiling());
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY documents_tlp ON documents FOR SELECT TO cairn_reader
    USING (cairn_tlp_rank(tlp) <= cairn_ceiling());
ALTER TABLE list_sources ENABLE ROW LEVEL SECURITY;
CREATE POLICY list_sources_tlp ON list_sources FOR SELECT TO cairn_reader
    USING (cairn_tlp_rank(tlp) <= cairn_ceiling());
-- Names, observables, list values and sightings follow what they belong to
-- (the subqueries are themselves filtered for the reader).
ALTER TABLE names ENABLE ROW LEVEL SECURITY;
CREATE POLICY names_tlp ON names FOR SELECT TO cairn_reader
    USING (EXISTS (SELECT 1 FROM objects o WHERE o.id = object_id));
ALTER TABLE observables ENABLE ROW LEVEL SECURITY;
CREATE POLICY observables_tlp ON observables FOR SELECT TO cairn_reader
    USING (EXISTS (SELECT 1 FROM objects o WHERE o.id = object_id));
ALTER TABLE list_values ENABLE ROW LEVEL SECURITY;
CREATE POLICY list_values_tlp ON list_values FOR SELECT TO cairn_reader
    USING (EXISTS (SELECT 1 FROM list_sources ls WHERE ls.source_id = list_values.source_id));
ALTER TABLE sightings ENABLE ROW LEVEL SECURITY;
CREATE POLICY sightings_tlp ON sightings FOR SELECT TO cairn_reader
    USING (EXISTS (SELECT 1 FROM objects o WHERE o.id = object_id)
        OR EXISTS (SELECT 1 FROM list_values v WHERE v.id + 2147483648 = object_id));
"#;

/// API tokens for `cairn serve`; only a hash of each is kept. The reader
/// role gets no grant on it: a restricted connection cannot list tokens.
const V3_TOKENS: &str = r#"
CREATE TABLE tokens(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"#;

/// Feed subscriptions (`cairn feed`): `config` holds the feed's options
/// (the NAME of a secret's environment variable, never the secret),
/// `state` what a kind keeps between runs. No grant to the reader role:
/// readers see no subscriptions, URLs or errors.
const V4_FEEDS: &str = r#"
CREATE TABLE feeds(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    every BIGINT NOT NULL DEFAULT 86400,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    etag TEXT,
    last_modified TEXT,
    cursor TEXT,
    state TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    last_run TEXT,
    next_due TEXT,
    status TEXT NOT NULL DEFAULT 'never',
    added BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
"#;

/// Brings the database to [`VERSION`], or refuses a newer one.
pub(crate) async fn migrate(conn: &mut PgConnection) -> Result<(), PgError> {
    // Every pooled connection of every server comes through here: a
    // current database costs one read, no lock and no transaction. (A new
    // database has no table yet: the error only sends it the long way.)
    let current: Result<i64, _> =
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM cairn_migrations")
            .fetch_one(&mut *conn)
            .await;
    if matches!(current, Ok(v) if v == VERSION) {
        return Ok(());
    }
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS cairn_migrations(version BIGINT PRIMARY KEY, \
         name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await?;
    let found: i64 = sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM cairn_migrations")
        .fetch_one(&mut *tx)
        .await?;
    if found > VERSION {
        return Err(PgError::Schema {
            found,
            supported: VERSION,
        });
    }
    if found == VERSION {
        tx.commit().await?;
        return Ok(());
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let to = i as i64 + 1;
        let failed = |source| PgError::Migration {
            from: found,
            to,
            source,
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(step.sql))
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        sqlx::query("INSERT INTO cairn_migrations(version, name) VALUES ($1, $2)")
            .bind(to)
            .bind(step.name)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
    }
    tx.commit().await?;
    Ok(())
}
