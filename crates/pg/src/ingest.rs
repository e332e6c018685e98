//! Writing a source's bundle: one transaction, idempotent, differential —
//! the embedded store's rules, applied as set operations.
//!
//! The bundle is copied into temporary tables (`COPY`, one round trip per
//! megabyte), then compared with the source's stored rows in a handful of
//! statements: changed rows keep their previous version in `history`,
//! rows the bundle no longer carries are stamped withdrawn, new rows go
//! in. Round trips do not grow with the bundle, which matters once the
//! database is across a network.

use crate::PgStore;
use crate::copy::Copy;
use crate::errors::PgError;
use cairn_kb::backend::{content_hash as hash, latest, object_names};
use cairn_kb::{FeedSave, IngestReport, Withdraw};
use cairn_model::{Bundle, Object, Relation};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

/// How a version of a source was claimed.
enum Claim {
    /// Stored from exactly this input before: nothing to write.
    Unchanged,
    /// The source's row, and whether it existed.
    Write { id: i64, existed: bool },
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Serialises writers of one source, across every server and ingest on
/// the database, until the transaction ends; other sources go on.
async fn lock_source(tx: &mut PgConnection, name: &str) -> Result<(), PgError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('cairn.source:' || $1, 0))")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Finds or creates the source's row for a new version, unless its stored
/// fingerprint shows the same input again.
async fn claim_source(
    tx: &mut PgConnection,
    name: &str,
    format: &str,
    file: Option<&str>,
    fingerprint: Option<&str>,
    ts: &str,
) -> Result<Claim, PgError> {
    let existing: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, fingerprint FROM sources WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(match existing {
        Some((_, Some(old))) if fingerprint == Some(old.as_str()) => Claim::Unchanged,
        Some((id, _)) => {
            sqlx::query(
                "UPDATE sources SET format = $2, file = $3, fingerprint = $4, last_ingested = $5, \
                 versions = versions + 1 WHERE id = $1",
            )
            .bind(id)
            .bind(format)
            .bind(file)
            .bind(fingerprint)
            .bind(ts)
            .execute(&mut *tx)
            .await?;
            Claim::Write { id, existed: true }
        }
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sources(name, format, file, fingerprint, first_ingested, last_ingested) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(name)
            .bind(format)
            .bind(file)
            .bind(fingerprint)
            .bind(ts)
            .fetch_one(&mut *tx)
            .await?;
            Claim::Write { id, existed: false }
        }
    })
}

/// Statements an ingest writes before the planner's statistics are
/// refreshed at once: right after a first bulk load, autovacuum has not
/// looked yet, and without statistics an actor's name lookup took 430 ms
/// instead of under one.
const ANALYZE_AFTER: usize = 1000;

/// Refreshes the statistics of `tables` when `report` wrote enough to
/// change them (after commit: ANALYZE holds no lock that blocks readers or
/// writers, but there is no reason to hold the ingest's locks meanwhile).
pub(crate) async fn analyze_if_grown(
    conn: &mut PgConnection,
    report: &IngestReport,
    tables: &str,
) -> Result<(), PgError> {
    if report.added + report.changed + report.withdrawn >= ANALYZE_AFTER {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE {tables}")))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A source's new version, begun: the transaction holding the source's
/// lock, its stamp and its row.
pub(crate) struct Begun<'c> {
    pub(crate) tx: Transaction<'c, Postgres>,
    pub(crate) ts: String,
    pub(crate) source_id: i64,
    pub(crate) existed: bool,
}

/// Opens the transaction of a new version of `report`'s source: locks the
/// source, stamps it, claims its row. `None` (committed, `report` marked
/// unchanged) when the fingerprint shows the same input again.
pub(crate) async fn begin_write<'c>(
    conn: &'c mut PgConnection,
    file: Option<&str>,
    fingerprint: Option<&str>,
    report: &mut IngestReport,
) -> Result<Option<Begun<'c>>, PgError> {
    let mut tx = conn.begin().await?;
    lock_source(&mut tx, &report.source).await?;
    // Sorts and hash joins over a big source in memory, not in batches on
    // disk (this transaction only).
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    let ts = cairn_model::time::now_ms();
    match claim_source(
        &mut tx,
        &report.source,
        &report.format,
        file,
        fingerprint,
        &ts,
    )
    .await?
    {
        Claim::Unchanged => {
            tx.commit().await?;
            report.status = "unchanged".into();
            Ok(None)
        }
        Claim::Write { id, existed } => {
            if existed {
                report.status = "updated".into();
            }
            Ok(Some(Begun {
                tx,
                ts,
                source_id: id,
                existed,
            }))
        }
    }
}

/// One more change: caches in every server key on this number.
pub(crate) async fn bump_generation(tx: &mut PgConnection) -> Result<(), PgError> {
    // Last statement before commit: the row lock is held for an instant,
    // so concurrent ingests of other sources barely wait on each other.
    sqlx::query("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation'")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

const STAGE_DDL: &str = "
CREATE TEMP TABLE st_obj(stix_id TEXT, kind TEXT, name TEXT, description TEXT, external_id TEXT,
    created TEXT, modified TEXT, revoked BOOLEAN, deprecated BOOLEAN, country TEXT, valid_until TEXT,
    aliases TEXT, tactics TEXT, labels TEXT, sectors TEXT, refs TEXT, reference TEXT,
    first_seen TEXT, last_seen TEXT, confidence INT, tlp TEXT, raw TEXT, hash BIGINT) ON COMMIT DROP;
CREATE TEMP TABLE st_names(stix_id TEXT, norm TEXT, name TEXT, role TEXT) ON COMMIT DROP;
CREATE TEMP TABLE st_obs(stix_id TEXT, kind TEXT, value TEXT) ON COMMIT DROP;
CREATE TEMP TABLE st_rel(stix_id TEXT, rel_type TEXT, src_ref TEXT, tgt_ref TEXT, description TEXT,
    revoked BOOLEAN, deprecated BOOLEAN, reference TEXT, first_seen TEXT, last_seen TEXT,
    confidence INT, tlp TEXT, raw TEXT, hash BIGINT) ON COMMIT DROP;
CREATE TEMP TABLE st_touched(id BIGINT, stix_id TEXT) ON COMMIT DROP;
";

const OBJ_COLS: &str = "kind, name, description, external_id, created, modified, revoked, deprecated, \
     country, valid_until, aliases, tactics, labels, sectors, refs, reference, first_seen, last_seen, \
     confidence, tlp, raw, hash";

const REL_COLS: &str = "rel_type, src_ref, tgt_ref, description, revoked, deprecated, reference, \
     first_seen, last_seen, confidence, tlp, raw, hash";

fn flag(b: bool) -> Option<&'static str> {
    Some(if b { "t" } else { "f" })
}

async fn stage_objects(tx: &mut PgConnection, objects: &[&Object]) -> Result<(), PgError> {
    let mut c = Copy::start(
        &mut *tx,
        &format!("COPY st_obj(stix_id, {OBJ_COLS}) FROM STDIN"),
    )
    .await?;
    let fill = async {
        for o in objects {
            let p = &o.prov;
            let conf = p.confidence.map(|c| c.to_string());
            let lists = [
                json_list(&o.aliases),
                json_list(&o.tactics),
                json_list(&o.labels),
                json_list(&o.sectors),
                json_list(&o.references),
            ];
            let h = hash(o).to_string();
            let head = [
                Some(o.id.as_str()),
                Some(o.kind.as_str()),
                o.name.as_deref(),
                o.description.as_deref(),
                o.external_id.as_deref(),
                o.created.as_deref(),
                o.modified.as_deref(),
                flag(o.revoked),
                flag(o.deprecated),
                o.country.as_deref(),
                o.valid_until.as_deref(),
            ];
            let tail = [
                p.reference.as_deref(),
                p.first_seen.as_deref(),
                p.last_seen.as_deref(),
                conf.as_deref(),
                Some(p.tlp.as_str()),
                Some(o.raw.as_str()),
                Some(h.as_str()),
            ];
            let lists = lists.iter().map(|l| Some(l.as_str()));
            c.row(head.into_iter().chain(lists).chain(tail)).await?;
        }
        Ok(())
    }
    .await;
    c.close(fill).await?;

    let mut c = Copy::start(
        &mut *tx,
        "COPY st_names(stix_id, norm, name, role) FROM STDIN",
    )
    .await?;
    let fill = async {
        for o in objects {
            for (norm, n, role) in object_names(o) {
                c.row([Some(o.id.as_str()), Some(&norm), Some(n), Some(role)])
                    .await?;
            }
        }
        Ok(())
    }
    .await;
    c.close(fill).await?;

    let mut c = Copy::start(&mut *tx, "COPY st_obs(stix_id, kind, value) FROM STDIN").await?;
    let fill = async {
        for o in objects {
            for ob in &o.observables {
                c.row([Some(o.id.as_str()), Some(ob.kind.as_str()), Some(&ob.value)])
                    .await?;
            }
        }
        Ok(())
    }
    .await;
    c.close(fill).await?;
    Ok(())
}

async fn stage_relations(tx: &mut PgConnection, relations: &[&Relation]) -> Result<(), PgError> {
    let mut c = Copy::start(
        &mut *tx,
        &format!("COPY st_rel(stix_id, {REL_COLS}) FROM STDIN"),
    )
    .await?;
    let fill = async {
        for r in relations {
            let p = &r.prov;
            let conf = p.confidence.map(|c| c.to_string());
            let h = hash(r).to_string();
            c.row([
                Some(r.id.as_str()),
                Some(r.rel_type.as_str()),
                Some(r.source_ref.as_str()),
                Some(r.target_ref.as_str()),
                r.description.as_deref(),
                flag(r.revoked),
                flag(r.deprecated),
                p.reference.as_deref(),
                p.first_seen.as_deref(),
                p.last_seen.as_deref(),
                conf.as_deref(),
                Some(p.tlp.as_str()),
                Some(r.raw.as_str()),
                Some(h.as_str()),
            ])
            .await?;
        }
        Ok(())
    }
    .await;
    c.close(fill).await?;
    Ok(())
}

/// Runs `sql` with `$1` the source's id and `$2` the stamp; rows affected.
async fn apply(
    tx: &mut PgConnection,
    sql: &str,
    source_id: i64,
    ts: &str,
) -> Result<usize, PgError> {
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(source_id)
        .bind(ts)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() as usize)
}

/// Applies the staged statements to `table` (`objects` with `st_obj`, or
/// `relations` with `st_rel`): (added, changed, withdrawn).
async fn merge(
    tx: &mut PgConnection,
    table: &str,
    stage: &str,
    cols: &str,
    source_id: i64,
    ts: &str,
    scoped: bool,
) -> Result<(usize, usize, usize), PgError> {
    let set: String = cols
        .split(',')
        .map(|c| format!("{0} = s.{0}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let scols: String = cols
        .split(',')
        .map(|c| format!("s.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    // The version a change replaces is history (a reactivation with the
    // same content keeps none, as in the embedded store).
    apply(
        tx,
        &format!(
            "INSERT INTO history(source_id, stix_id, change, raw, superseded_at, tlp) \
             SELECT t.source_id, t.stix_id, 'changed', t.raw, $2, t.tlp FROM {table} t \
             JOIN {stage} s ON s.stix_id = t.stix_id WHERE t.source_id = $1 AND t.hash <> s.hash"
        ),
        source_id,
        ts,
    )
    .await?;
    let changed = apply(
        tx,
        &format!(
            "WITH up AS (UPDATE {table} t SET {set}, updated_at = $2, withdrawn_at = NULL FROM {stage} s \
               WHERE t.source_id = $1 AND t.stix_id = s.stix_id \
                 AND (t.hash <> s.hash OR t.withdrawn_at IS NOT NULL) RETURNING t.id, t.stix_id) \
             INSERT INTO st_touched SELECT id, stix_id FROM up"
        ),
        source_id,
        ts,
    )
    .await?;
    let added = apply(
        tx,
        &format!(
            "WITH ins AS (INSERT INTO {table}(source_id, stix_id, {cols}, added_at, updated_at) \
               SELECT $1, s.stix_id, {scols}, $2, $2 FROM {stage} s \
               WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.source_id = $1 AND t.stix_id = s.stix_id) \
               RETURNING id, stix_id) \
             INSERT INTO st_touched SELECT id, stix_id FROM ins"
        ),
        source_id,
        ts,
    )
    .await?;
    // A partial delivery withdraws only the ids it names (`st_scope`).
    let scope = if scoped {
        " AND EXISTS (SELECT 1 FROM st_scope w WHERE w.stix_id = t.stix_id)"
    } else {
        ""
    };
    let gone = format!(
        "t.source_id = $1 AND t.withdrawn_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.stix_id = t.stix_id){scope}"
    );
    apply(
        tx,
        &format!(
            "INSERT INTO history(source_id, stix_id, change, raw, superseded_at, tlp) \
             SELECT t.source_id, t.stix_id, 'withdrawn', t.raw, $2, t.tlp FROM {table} t WHERE {gone}"
        ),
        source_id,
        ts,
    )
    .await?;
    let withdrawn = apply(
        tx,
        &format!("UPDATE {table} t SET withdrawn_at = $2 WHERE {gone}"),
        source_id,
        ts,
    )
    .await?;
    Ok((added, changed, withdrawn))
}

/// Writes `bundle` as the source's new version inside `tx`: what it does
/// not carry is withdrawn as `withdraw` says (all of it, or only named ids).
pub(crate) async fn write_bundle(
    tx: &mut Transaction<'_, Postgres>,
    source_id: i64,
    bundle: &Bundle,
    ts: &str,
    report: &mut IngestReport,
    withdraw: Withdraw<'_>,
) -> Result<(), PgError> {
    sqlx::raw_sql(STAGE_DDL).execute(&mut **tx).await?;
    let scoped = match withdraw {
        Withdraw::Unsaid => false,
        Withdraw::Only(ids) => {
            sqlx::raw_sql("CREATE TEMP TABLE st_scope(stix_id TEXT PRIMARY KEY) ON COMMIT DROP")
                .execute(&mut **tx)
                .await?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            sqlx::query("INSERT INTO st_scope SELECT DISTINCT unnest($1::text[])")
                .bind(&ids)
                .execute(&mut **tx)
                .await?;
            true
        }
    };
    let objects = latest(&bundle.objects, |o| &o.id, |o| o.modified.as_deref());
    let relations = latest(&bundle.relations, |r| &r.id, |_| None);
    stage_objects(tx, &objects).await?;
    stage_relations(tx, &relations).await?;
    // Temporary tables get no statistics of their own: without them the
    // planner joins them by nested loops, quadratic in the bundle.
    sqlx::raw_sql(
        "CREATE INDEX ON st_obj(stix_id); CREATE INDEX ON st_names(stix_id); \
         CREATE INDEX ON st_obs(stix_id); CREATE INDEX ON st_rel(stix_id); \
         ANALYZE st_obj, st_names, st_obs, st_rel",
    )
    .execute(&mut **tx)
    .await?;
    let (a, c, w) = merge(tx, "objects", "st_obj", OBJ_COLS, source_id, ts, scoped).await?;
    // Touched objects get their names and observables anew.
    for sql in [
        "ANALYZE st_touched",
        "DELETE FROM names WHERE object_id IN (SELECT id FROM st_touched)",
        "DELETE FROM observables WHERE object_id IN (SELECT id FROM st_touched)",
        "INSERT INTO names(object_id, norm, name, role) SELECT t.id, n.norm, n.name, n.role \
         FROM st_touched t JOIN st_names n ON n.stix_id = t.stix_id",
        "INSERT INTO observables(object_id, kind, value) SELECT t.id, b.kind, b.value \
         FROM st_touched t JOIN st_obs b ON b.stix_id = t.stix_id",
    ] {
        sqlx::query(sql).execute(&mut **tx).await?;
    }
    let (ra, rc, rw) = merge(tx, "relations", "st_rel", REL_COLS, source_id, ts, scoped).await?;
    report.added += a + ra;
    report.changed += c + rc;
    report.withdrawn += w + rw;
    let staged = if scoped {
        "DROP TABLE st_obj, st_names, st_obs, st_rel, st_touched, st_scope"
    } else {
        "DROP TABLE st_obj, st_names, st_obs, st_rel, st_touched"
    };
    sqlx::raw_sql(staged).execute(&mut **tx).await?;
    Ok(())
}

impl PgStore {
    /// Stores everything a source said, in one transaction, with the
    /// embedded store's semantics (see [`cairn_kb::Store::ingest`]).
    pub fn ingest(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, PgError> {
        self.ingest_with(bundle, file, fingerprint, Withdraw::Unsaid, None)
    }

    /// [`PgStore::ingest`], withdrawing only what `withdraw` covers, with a
    /// feed's state saved in the same transaction when `feed` is given.
    pub(crate) fn ingest_with(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
        withdraw: Withdraw<'_>,
        feed: Option<(&str, &FeedSave)>,
    ) -> Result<IngestReport, PgError> {
        self.writable()?;
        self.run(async |conn| {
            let mut report = IngestReport::new(&bundle.source, &bundle.format);
            report.objects = bundle.objects.len();
            report.relationships = bundle.relations.len();
            report.indicators = bundle
                .objects
                .iter()
                .filter(|o| o.kind == "indicator")
                .count();
            let Some(Begun {
                mut tx,
                ts,
                source_id,
                existed,
            }) = begin_write(conn, file, fingerprint, &mut report).await?
            else {
                if let Some((name, state)) = feed {
                    crate::feeds::save_state_alone(conn, name, state).await?;
                }
                return Ok(report);
            };
            write_bundle(&mut tx, source_id, bundle, &ts, &mut report, withdraw).await?;
            report.documents = bundle.documents.len();
            // A partial delivery (a feed page) carries no documents to replace.
            if matches!(withdraw, Withdraw::Unsaid) || !bundle.documents.is_empty() {
                sqlx::query("DELETE FROM documents WHERE source_id = $1")
                    .bind(source_id)
                    .execute(&mut *tx)
                    .await?;
            }
            for (name, body) in &bundle.documents {
                sqlx::query(
                    "INSERT INTO documents(source_id, name, body, tlp) VALUES ($1, $2, $3, $4)",
                )
                .bind(source_id)
                .bind(name)
                .bind(body)
                .bind(bundle.documents_tlp.as_str())
                .execute(&mut *tx)
                .await?;
            }
            if report.added + report.changed + report.withdrawn > 0 || !bundle.documents.is_empty()
            {
                bump_generation(&mut tx).await?;
            } else if existed {
                report.status = "unchanged".into();
            }
            if let Some((name, state)) = feed {
                crate::feeds::save_state(&mut tx, name, state).await?;
            }
            tx.commit().await?;
            analyze_if_grown(
                conn,
                &report,
                "objects, names, observables, relations, history",
            )
            .await?;
            Ok(report)
        })
    }
}
