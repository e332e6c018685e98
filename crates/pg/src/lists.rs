//! Lists in compact form: a row per value, the list's provenance once —
//! the embedded store's layout and rules (see `cairn_kb`'s lists), with
//! the values streamed in by `COPY` and compared by set operations.

use crate::PgStore;
use crate::copy::Copy;
use crate::errors::PgError;
use crate::ingest::{Begun, analyze_if_grown, begin_write, bump_generation, write_bundle};
use cairn_kb::errors::KbError;
use cairn_kb::{FeedSave, IngestReport, LIST_KEY_BASE, ListHead, ListValue, Withdraw};
use cairn_model::Bundle;
use sqlx::PgConnection;
use std::collections::HashSet;

/// The largest list row id a key can carry (keys fit the hunt index's u32).
const MAX_LIST_ID: i64 = u32::MAX as i64 - LIST_KEY_BASE;

/// Writes the shared provenance; whether it differs from the stored one.
async fn upsert_list_source(
    tx: &mut PgConnection,
    source_id: i64,
    head: &ListHead,
) -> Result<bool, PgError> {
    type Shared = (Option<String>, Option<String>, Option<i32>, String, String);
    let new: Shared = (
        head.actor.as_ref().map(|a| a.id.clone()),
        head.prov.reference.clone(),
        head.prov.confidence.map(i32::from),
        head.prov.tlp.as_str().to_string(),
        serde_json::to_string(&head.labels).unwrap_or_else(|_| "[]".into()),
    );
    let old: Option<Shared> = sqlx::query_as(
        "SELECT actor_ref, reference, confidence, tlp, labels FROM list_sources WHERE source_id = $1",
    )
    .bind(source_id)
    .fetch_optional(&mut *tx)
    .await?;
    if old.as_ref() == Some(&new) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO list_sources(source_id, actor_ref, reference, confidence, tlp, labels) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_id) DO UPDATE SET \
         actor_ref = EXCLUDED.actor_ref, reference = EXCLUDED.reference, \
         confidence = EXCLUDED.confidence, tlp = EXCLUDED.tlp, labels = EXCLUDED.labels",
    )
    .bind(source_id)
    .bind(&new.0)
    .bind(&new.1)
    .bind(new.2)
    .bind(&new.3)
    .bind(&new.4)
    .execute(&mut *tx)
    .await?;
    Ok(old.is_some())
}

/// Runs `sql` with `$1` the source id and `$2` the stamp in milliseconds.
async fn run(
    tx: &mut PgConnection,
    sql: &'static str,
    source_id: i64,
    ts: i64,
) -> Result<usize, PgError> {
    let done = sqlx::query(sql)
        .bind(source_id)
        .bind(ts)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() as usize)
}

/// A new version compared with the stored one in one pass (a hash full
/// join), once the values are in `st_list` (one row per distinct value,
/// its first line's spelling): only the differences are kept, then applied.
const DIFF: &str = "CREATE TEMP TABLE st_diff ON COMMIT DROP AS \
     SELECT v.id, v.withdrawn_at, s.kind, s.value, s.name, s.value IS NULL AS gone \
     FROM (SELECT id, kind, value, name, withdrawn_at FROM list_values WHERE source_id = $1) v \
     FULL JOIN st_list s ON s.value = v.value AND s.kind = v.kind \
     WHERE (s.value IS NULL AND v.withdrawn_at IS NULL) OR v.id IS NULL \
        OR (s.value IS NOT NULL AND (v.withdrawn_at IS NOT NULL OR v.name IS DISTINCT FROM s.name))";
/// Values no longer listed: stamped withdrawn.
const WITHDRAW: &str = "UPDATE list_values v SET withdrawn_at = $2 \
     FROM st_diff d WHERE d.gone AND v.id = d.id AND v.source_id = $1";
/// Values listed again: their withdrawal kept in history, then ended.
const RELIST_HISTORY: &str = "INSERT INTO list_history(value_id, withdrawn_at, restored_at) \
     SELECT d.id, d.withdrawn_at, $2 FROM st_diff d JOIN list_values v ON v.id = d.id AND v.source_id = $1 \
     WHERE NOT d.gone AND d.withdrawn_at IS NOT NULL";
/// Re-listed or written differently: the new spelling, a new stamp.
const RELIST_OR_REWRITE: &str = "UPDATE list_values v SET withdrawn_at = NULL, updated_at = $2, name = d.name \
     FROM st_diff d WHERE NOT d.gone AND d.id IS NOT NULL AND v.id = d.id AND v.source_id = $1";
/// New values, in key order (sequential index writes).
const INSERT_NEW: &str = "INSERT INTO list_values(source_id, kind, value, name, added_at, updated_at) \
     SELECT $1, d.kind, d.value, d.name, $2, $2 FROM st_diff d WHERE d.id IS NULL ORDER BY d.value, d.kind";
/// A first version: everything staged goes in.
const INSERT_ALL: &str = "INSERT INTO list_values(source_id, kind, value, name, added_at, updated_at) \
     SELECT $1, s.kind, s.value, s.name, $2, $2 FROM st_list s ORDER BY s.value, s.kind";
const PROVENANCE: &str = "UPDATE list_values SET updated_at = $2 WHERE source_id = $1 \
     AND withdrawn_at IS NULL AND updated_at <> $2";

impl PgStore {
    /// Stores a list in compact form, in one transaction, with the
    /// embedded store's semantics (see [`cairn_kb::Store::ingest_list`]):
    /// unlisted values withdrawn, re-listed ones re-activated, new ones
    /// added; the first error from `values` rolls everything back.
    pub fn ingest_list<I>(
        &mut self,
        head: &ListHead,
        values: I,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, PgError>
    where
        I: IntoIterator<Item = Result<ListValue, KbError>>,
    {
        self.ingest_list_with(head, values, file, fingerprint, None)
    }

    /// [`PgStore::ingest_list`], with a feed's state saved in the same
    /// transaction when `feed` is given.
    pub(crate) fn ingest_list_with<I>(
        &mut self,
        head: &ListHead,
        values: I,
        file: Option<&str>,
        fingerprint: Option<&str>,
        feed: Option<(&str, &FeedSave)>,
    ) -> Result<IngestReport, PgError>
    where
        I: IntoIterator<Item = Result<ListValue, KbError>>,
    {
        self.writable()?;
        self.run(async |conn| {
            let mut report = IngestReport::new(&head.source, &head.format);
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
            let ts_ms = cairn_model::time::parse(&ts)
                .map(|t| t.as_millisecond())
                .ok_or_else(|| PgError::Invalid(format!("unreadable timestamp `{ts}`")))?;
            let actor = Bundle {
                source: head.source.clone(),
                format: head.format.clone(),
                objects: head.actor.iter().cloned().collect(),
                ..Bundle::default()
            };
            write_bundle(
                &mut tx,
                source_id,
                &actor,
                &ts,
                &mut report,
                Withdraw::Unsaid,
            )
            .await?;
            let prov_changed = upsert_list_source(&mut tx, source_id, head).await?;

            let stored: bool =
                sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM list_values WHERE source_id = $1)")
                    .bind(source_id)
                    .fetch_one(&mut *tx)
                    .await?;
            sqlx::raw_sql(
                "CREATE TEMP TABLE st_list(kind TEXT, value TEXT, name TEXT) ON COMMIT DROP",
            )
            .execute(&mut *tx)
            .await?;
            let mut c = Copy::start(&mut tx, "COPY st_list(kind, value, name) FROM STDIN").await?;
            // Of repeated values the first line wins; 128-bit keys of the
            // values seen, not their text, are held.
            let mut seen: HashSet<u128> = HashSet::new();
            let mut key = Vec::with_capacity(256);
            let fill = async {
                for v in values {
                    let v = v.map_err(PgError::Input)?;
                    key.clear();
                    key.extend_from_slice(v.value.as_bytes());
                    key.push(0x1f);
                    key.extend_from_slice(v.kind.as_str().as_bytes());
                    if !seen.insert(xxhash_rust::xxh3::xxh3_128(&key)) {
                        continue;
                    }
                    c.row([Some(v.kind.as_str()), Some(&v.value), v.written.as_deref()])
                        .await?;
                }
                Ok(())
            }
            .await;
            let distinct = c.close(fill).await?;
            drop(seen);
            if stored {
                sqlx::raw_sql("CREATE INDEX ON st_list(value, kind); ANALYZE st_list")
                    .execute(&mut *tx)
                    .await?;
                run(&mut tx, DIFF, source_id, ts_ms).await?;
                report.withdrawn += run(&mut tx, WITHDRAW, source_id, ts_ms).await?;
                run(&mut tx, RELIST_HISTORY, source_id, ts_ms).await?;
                report.changed += run(&mut tx, RELIST_OR_REWRITE, source_id, ts_ms).await?;
                report.added += run(&mut tx, INSERT_NEW, source_id, ts_ms).await?;
                sqlx::raw_sql("DROP TABLE st_diff")
                    .execute(&mut *tx)
                    .await?;
            } else {
                report.added += run(&mut tx, INSERT_ALL, source_id, ts_ms).await?;
            }
            if prov_changed {
                report.changed += run(&mut tx, PROVENANCE, source_id, ts_ms).await?;
            }
            let top: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM list_values")
                .fetch_one(&mut *tx)
                .await?;
            if top.unwrap_or(0) > MAX_LIST_ID {
                return Err(PgError::Invalid(format!(
                    "the store holds more list values than keys can name ({MAX_LIST_ID})"
                )));
            }
            sqlx::raw_sql("DROP TABLE st_list")
                .execute(&mut *tx)
                .await?;
            let staged = usize::try_from(distinct).unwrap_or(0);
            report.indicators = staged;
            report.objects = staged + usize::from(head.actor.is_some());
            report.relationships = if head.actor.is_some() { staged } else { 0 };
            if report.added + report.changed + report.withdrawn > 0 {
                bump_generation(&mut tx).await?;
            } else if existed {
                report.status = "unchanged".into();
            }
            if let Some((name, state)) = feed {
                crate::feeds::save_state(&mut tx, name, state).await?;
            }
            tx.commit().await?;
            analyze_if_grown(conn, &report, "list_values").await?;
            Ok(report)
        })
    }
}
