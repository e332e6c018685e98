//! List-sourced indicators in compact form.
//!
//! A published list says one thing per value ("this is an indicator") and
//! the same provenance for all of them. Stored as full statements, each
//! value cost an object row with its JSON, a name, an observable, an
//! `indicates` relationship and their indexes (~1.5 KB). Here a value is one
//! `list_values` row (kind, value, the line as written when it differs, and
//! integer-millisecond stamps); what the whole file shares (reference,
//! confidence, TLP, roles, the actor it indicates) is one `list_sources` row.
//! The actor itself stays an ordinary `objects` row of the source.
//!
//! Nothing is lost: the STIX indicator of a value keeps the id list intake
//! always gave it (`deterministic_id("indicator", [source, kind, value])`),
//! and its `indicates` relationship the id `deterministic_id("relationship",
//! [indicator, "indicates", actor])`; both are derived when read.
//!
//! Ingest is one transaction that streams the values into a TEMP staging
//! table and applies set operations: values no longer listed are withdrawn
//! (stamped, never deleted), values listed again are re-activated (the
//! withdrawal they end is kept in `list_history`), new ones are inserted.
//!
//! Keys: a list value's key (hunt index, sightings, pages) is
//! [`LIST_KEY_BASE`] + its row id, so it never meets an `objects` row id.

use crate::Withdraw;
use crate::errors::KbError;
use crate::ingest::{Claim, IngestReport, bump_generation, claim_source, stamp, write_bundle};
use crate::{HuntIndicator, Store};
use cairn_model::{
    Bundle, IndicatorKind, Object, Observable, Provenance, Tlp, deterministic_id, time,
};
use rusqlite::{OptionalExtension, Transaction, params};

/// Keys at and above this name a `list_values` row (`key - LIST_KEY_BASE`);
/// below it, an `objects` row. Keys fit the hunt index's `u32`.
pub const LIST_KEY_BASE: i64 = 1 << 31;

/// The largest list row id a key can carry.
const MAX_LIST_ID: i64 = u32::MAX as i64 - LIST_KEY_BASE;

/// One value of a list, as intake read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListValue {
    /// The value's kind.
    pub kind: IndicatorKind,
    /// The value, normalized.
    pub value: String,
    /// The value as the file wrote it (defanged, other case), when that differs.
    pub written: Option<String>,
}

impl ListValue {
    /// A value of `kind`, normalized to `value`, written `written` in the
    /// file (kept only when it differs).
    pub fn new(kind: IndicatorKind, value: String, written: String) -> ListValue {
        ListValue {
            kind,
            written: (written != value).then_some(written),
            value,
        }
    }
}

/// What every value of one list shares.
#[derive(Debug, Clone, Default)]
pub struct ListHead {
    /// Source name.
    pub source: String,
    /// Format it was read as (`list`).
    pub format: String,
    /// The actor object every value indicates (an ordinary statement of the
    /// source, stored in `objects`).
    pub actor: Option<Object>,
    /// Provenance of every value (the `source` field is ignored: it is
    /// [`ListHead::source`]); first/last seen are not kept per value.
    pub prov: Provenance,
    /// Roles every value has (`c2`, …).
    pub labels: Vec<String>,
}

/// The tables, indexes and the sightings rebuild of schema step 4.
const V4_DDL: &str = r#"
CREATE TABLE list_sources(
    source_id INTEGER PRIMARY KEY REFERENCES sources(id),
    actor_ref TEXT,              -- STIX id of the actor object every value indicates
    reference TEXT,
    confidence INTEGER,
    tlp TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE list_values(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    name TEXT,                   -- the line as written, when it differs from value
    added_at INTEGER NOT NULL,   -- milliseconds since the Unix epoch
    updated_at INTEGER NOT NULL,
    withdrawn_at INTEGER
);
CREATE UNIQUE INDEX list_values_key ON list_values(source_id, value, kind);
CREATE INDEX list_values_value ON list_values(value);
-- TAXII pages walk active values in (stamp, id) order.
CREATE INDEX list_values_updated ON list_values(updated_at, id);
-- Withdrawals that a re-listing ended (the current one stays in list_values).
CREATE TABLE list_history(
    value_id INTEGER NOT NULL,
    withdrawn_at INTEGER NOT NULL,
    restored_at INTEGER NOT NULL
);
CREATE INDEX list_history_value ON list_history(value_id);
-- A sighting's key may now name a list value: no foreign key to objects.
CREATE TABLE sightings_v4(
    id INTEGER PRIMARY KEY,
    object_id INTEGER NOT NULL,
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    location TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
INSERT INTO sightings_v4 SELECT id, object_id, count, first_seen, last_seen, location, recorded_at FROM sightings;
DROP TABLE sightings;
ALTER TABLE sightings_v4 RENAME TO sightings;
CREATE INDEX sightings_object ON sightings(object_id);
"#;

/// Schema step: compact list tables (see the module notes).
pub(crate) fn v3_to_v4_lists(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(V4_DDL)?;
    Ok(())
}

pub(crate) use crate::ingest::ms;

/// A stored millisecond stamp as the store's text stamps read.
pub(crate) fn ms_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(time::format_ms)
        .unwrap_or_default()
}

/// The STIX id of a list value's indicator: the one list intake gave it.
pub(crate) fn indicator_id(source: &str, kind: &str, value: &str) -> String {
    deterministic_id("indicator", &[source, kind, value])
}

/// The STIX id of the `indicates` relationship from `indicator` to `actor`.
pub(crate) fn indicates_id(indicator: &str, actor: &str) -> String {
    deterministic_id("relationship", &[indicator, "indicates", actor])
}

/// The STIX indicator intake built for a list value (`written` is its line).
pub(crate) fn indicator_json(
    id: &str,
    kind: IndicatorKind,
    value: &str,
    written: &str,
    labels: &[String],
) -> serde_json::Value {
    let mut types: Vec<&str> = Vec::new();
    for t in labels.iter().map(|l| cairn_model::vocab::indicator_type(l)) {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    serde_json::json!({"type":"indicator","spec_version":"2.1","id":id,"name":written,
        "pattern":kind.stix_pattern(value),"pattern_type":"stix","indicator_types":types,
        "labels":labels,"description":null})
}

/// The `indicates` relationship intake built for a list value.
pub(crate) fn indicates_json(id: &str, indicator: &str, actor: &str) -> serde_json::Value {
    serde_json::json!({"type":"relationship","spec_version":"2.1","id":id,
        "relationship_type":"indicates","source_ref":indicator,"target_ref":actor})
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// A list source's shared provenance, as stored.
pub(crate) struct ListSource {
    pub(crate) source: String,
    pub(crate) actor_ref: Option<String>,
    pub(crate) prov: Provenance,
    pub(crate) labels: Vec<String>,
}

/// Columns [`list_source_row`] reads, `ls` being `list_sources` and `s` `sources`.
pub(crate) const LIST_SOURCE_COLS: &str =
    "s.name, ls.actor_ref, ls.reference, ls.confidence, ls.tlp, ls.labels";

pub(crate) fn list_source_row(r: &rusqlite::Row, at: usize) -> rusqlite::Result<ListSource> {
    let tlp: String = r.get(at + 4)?;
    let labels: String = r.get(at + 5)?;
    let source: String = r.get(at)?;
    Ok(ListSource {
        actor_ref: r.get(at + 1)?,
        prov: Provenance {
            source: source.clone(),
            reference: r.get(at + 2)?,
            first_seen: None,
            last_seen: None,
            confidence: r.get(at + 3)?,
            tlp: tlp.parse().unwrap_or(Tlp::Red),
        },
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        source,
    })
}

impl Store {
    /// Stores a list in compact form, in one transaction: the values come
    /// one by one (memory is bounded by the staging table, not by a bundle
    /// of statements), and the first error from `values` (a bad line) rolls
    /// everything back. Re-ingest is differential: unlisted values are
    /// withdrawn, re-listed ones re-activated, new ones added. `file` and
    /// `fingerprint` as for [`Store::ingest`].
    pub fn ingest_list<E, I>(
        &mut self,
        head: &ListHead,
        values: I,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, E>
    where
        E: From<KbError>,
        I: IntoIterator<Item = Result<ListValue, E>>,
    {
        self.ingest_list_with(head, values, file, fingerprint, &mut |_| Ok(()))
    }

    /// [`Store::ingest_list`] with `also` run inside the same transaction
    /// before it commits (a feed's validators: stored with the values or
    /// not at all).
    pub(crate) fn ingest_list_with<E, I>(
        &mut self,
        head: &ListHead,
        values: I,
        file: Option<&str>,
        fingerprint: Option<&str>,
        also: &mut dyn FnMut(&Transaction) -> Result<(), KbError>,
    ) -> Result<IngestReport, E>
    where
        E: From<KbError>,
        I: IntoIterator<Item = Result<ListValue, E>>,
    {
        // Changing temp_store drops TEMP objects, the shadowing views
        // among them: never on a restricted (read-only) connection.
        if self.ceiling.is_some() {
            return Err(
                KbError::Invalid("a TLP-restricted store connection is read-only".into()).into(),
            );
        }
        // Staging on a file-backed TEMP database with a bounded cache: a
        // list of ten million values must not sit in memory whole.
        self.conn
            .execute_batch("PRAGMA temp_store = FILE; PRAGMA temp.cache_size = -65536;")
            .map_err(KbError::from)?;
        let out = self.ingest_list_tx(head, values, file, fingerprint, also);
        self.conn
            .execute_batch("PRAGMA temp_store = MEMORY;")
            .map_err(KbError::from)?;
        out
    }

    fn ingest_list_tx<E, I>(
        &mut self,
        head: &ListHead,
        values: I,
        file: Option<&str>,
        fingerprint: Option<&str>,
        also: &mut dyn FnMut(&Transaction) -> Result<(), KbError>,
    ) -> Result<IngestReport, E>
    where
        E: From<KbError>,
        I: IntoIterator<Item = Result<ListValue, E>>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(KbError::from)?;
        let ts = stamp(&tx)?;
        let ts_ms = ms(&ts)?;
        let mut report = IngestReport::new(&head.source, &head.format);
        let (source_id, existed) =
            match claim_source(&tx, &head.source, &head.format, file, fingerprint, &ts)? {
                Claim::Unchanged => {
                    report.status = "unchanged".into();
                    also(&tx)?;
                    tx.commit().map_err(KbError::from)?;
                    return Ok(report);
                }
                Claim::Write { id, existed } => (id, existed),
            };
        if existed {
            report.status = "updated".into();
        }

        // The actor is an ordinary statement; what the source stated as full
        // statements before (a store written before compact lists) and no
        // longer states that way is withdrawn by the same rule as any other.
        let actor_bundle = Bundle {
            source: head.source.clone(),
            format: head.format.clone(),
            objects: head.actor.iter().cloned().collect(),
            ..Bundle::default()
        };
        write_bundle(
            &tx,
            source_id,
            &actor_bundle,
            &ts,
            &Withdraw::Unsaid,
            &mut report,
        )?;
        let prov_changed = upsert_list_source(&tx, source_id, head)?;

        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS list_stage(value TEXT NOT NULL, kind TEXT NOT NULL, \
               name TEXT); \
             DELETE FROM temp.list_stage;",
        )
        .map_err(KbError::from)?;
        let stored: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM list_values WHERE source_id = ?1)",
                [source_id],
                |r| r.get(0),
            )
            .map_err(KbError::from)?;
        let diff = if stored {
            diff_stream(&tx, source_id, ts_ms, values)?
        } else {
            stage(&tx, values)?;
            insert_staged(&tx, source_id, ts_ms)?
        };
        let staged = diff.distinct;
        report.added += diff.added;
        report.changed += diff.changed;
        report.withdrawn += diff.withdrawn;
        let run = |sql: &str| -> Result<usize, KbError> {
            Ok(tx.execute(sql, params![source_id, ts_ms])?)
        };
        if prov_changed {
            // Every value's statement changed with the provenance they share.
            report.changed += run(
                "UPDATE list_values SET updated_at = ?2 WHERE source_id = ?1 \
                 AND withdrawn_at IS NULL AND updated_at <> ?2",
            )?;
        }
        let top: Option<i64> = tx
            .query_row("SELECT MAX(id) FROM list_values", [], |r| r.get(0))
            .map_err(KbError::from)?;
        if top.unwrap_or(0) > MAX_LIST_ID {
            return Err(KbError::Invalid(format!(
                "the store holds more list values than keys can name ({MAX_LIST_ID})"
            ))
            .into());
        }
        tx.execute_batch("DELETE FROM temp.list_stage;")
            .map_err(KbError::from)?;

        report.indicators = staged;
        report.objects = staged + usize::from(head.actor.is_some());
        report.relationships = if head.actor.is_some() { staged } else { 0 };
        if report.added + report.changed + report.withdrawn > 0 {
            bump_generation(&tx)?;
            tx.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('lists_updated_at', ?1)",
                [&ts],
            )
            .map_err(KbError::from)?;
        } else if existed {
            report.status = "unchanged".into();
        }
        also(&tx)?;
        tx.commit().map_err(KbError::from)?;
        Ok(report)
    }
}

/// Writes the shared provenance; whether it differs from the stored one.
fn upsert_list_source(tx: &Transaction, source_id: i64, head: &ListHead) -> Result<bool, KbError> {
    type Shared = (Option<String>, Option<String>, Option<u8>, String, String);
    let new: Shared = (
        head.actor.as_ref().map(|a| a.id.clone()),
        head.prov.reference.clone(),
        head.prov.confidence,
        head.prov.tlp.as_str().to_string(),
        json_list(&head.labels),
    );
    let old: Option<Shared> = tx
        .query_row(
            "SELECT actor_ref, reference, confidence, tlp, labels FROM list_sources WHERE source_id = ?1",
            [source_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    if old.as_ref() == Some(&new) {
        return Ok(false);
    }
    tx.execute(
        "INSERT OR REPLACE INTO list_sources(source_id, actor_ref, reference, confidence, tlp, labels) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![source_id, new.0, new.1, new.2, new.3, new.4],
    )?;
    Ok(old.is_some())
}

/// What a list's new version changed.
#[derive(Default)]
struct Diff {
    /// Distinct values in the new version.
    distinct: usize,
    added: usize,
    changed: usize,
    withdrawn: usize,
}

/// A stored value of the source, as the differential pass holds it.
struct Held {
    /// xxh3-128 of value and kind: equal keys are taken for equal values
    /// (a collision among ten million values has odds below 1e-24).
    key: u128,
    /// Hash of the line as written (0: same as the value).
    name: u64,
    /// Row id (list ids stay below 2^31, see [`MAX_LIST_ID`]).
    id: u32,
    withdrawn: bool,
    seen: bool,
}

/// Stored keys, sorted, with a bucket table over their top bits: keys are
/// uniform hashes, so a lookup reads one bucket of about one entry instead
/// of binary-searching (a cache miss per step) through tens of megabytes.
struct HeldIndex {
    held: Vec<Held>,
    starts: Vec<u32>,
    shift: u32,
}

impl HeldIndex {
    fn new(mut held: Vec<Held>) -> HeldIndex {
        held.sort_unstable_by_key(|h| h.key);
        let bits = held.len().max(1).next_power_of_two().trailing_zeros();
        let shift = 128 - bits;
        let buckets = 1usize << bits;
        let mut starts = vec![0u32; buckets + 1];
        let mut b = 0;
        for (i, h) in held.iter().enumerate() {
            let hb = Self::bucket(h.key, shift);
            while b < hb {
                b += 1;
                starts[b] = i as u32;
            }
        }
        for s in starts.iter_mut().skip(b + 1) {
            *s = held.len() as u32;
        }
        HeldIndex {
            held,
            starts,
            shift,
        }
    }

    fn bucket(key: u128, shift: u32) -> usize {
        key.checked_shr(shift).unwrap_or(0) as usize
    }

    fn find(&self, key: u128) -> Option<usize> {
        let b = Self::bucket(key, self.shift);
        let (lo, hi) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        (lo..hi).find(|&i| self.held[i].key == key)
    }
}

fn value_key(buf: &mut Vec<u8>, value: &str, kind: &str) -> u128 {
    buf.clear();
    buf.extend_from_slice(value.as_bytes());
    buf.push(0x1f);
    buf.extend_from_slice(kind.as_bytes());
    xxhash_rust::xxh3::xxh3_128(buf)
}

fn name_hash(name: Option<&str>) -> u64 {
    name.map_or(0, |n| xxhash_rust::xxh3::xxh3_64(n.as_bytes()) | 1)
}

/// A first version of the source: everything staged goes in, in key order
/// (sequential index writes); of repeated values the first line wins.
fn insert_staged(tx: &Transaction, source_id: i64, ts: i64) -> Result<Diff, KbError> {
    let added = tx.execute(
        "INSERT OR IGNORE INTO list_values(source_id, kind, value, name, added_at, updated_at) \
         SELECT ?1, kind, value, name, ?2, ?2 FROM temp.list_stage ORDER BY value, kind, rowid",
        params![source_id, ts],
    )?;
    tx.execute_batch("DELETE FROM temp.list_stage;")?;
    Ok(Diff {
        distinct: added,
        added,
        ..Diff::default()
    })
}

/// A new version of a stored source, compared in one pass: the stored
/// values are held as 128-bit keys (32 bytes each, never their text or
/// JSON), each new line is looked up as it is read, and only differences
/// are written to TEMP tables, then applied: new values inserted, unlisted
/// ones withdrawn, re-listed ones re-activated (their withdrawal kept in
/// `list_history`), lines written differently rewritten.
fn diff_stream<E, I>(tx: &Transaction, source_id: i64, ts: i64, values: I) -> Result<Diff, E>
where
    E: From<KbError>,
    I: IntoIterator<Item = Result<ListValue, E>>,
{
    let k = |e: rusqlite::Error| E::from(KbError::from(e));
    let mut buf = Vec::with_capacity(256);
    let count: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM list_values WHERE source_id = ?1",
            [source_id],
            |r| r.get(0),
        )
        .map_err(k)?;
    let mut held: Vec<Held> = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    {
        let mut q = tx
            .prepare(
                "SELECT id, value, kind, name, withdrawn_at IS NOT NULL FROM list_values \
                 WHERE source_id = ?1",
            )
            .map_err(k)?;
        let mut rows = q.query([source_id]).map_err(k)?;
        while let Some(r) = rows.next().map_err(k)? {
            let value = r.get_ref(1).map_err(k)?.as_str().map_err(|e| k(e.into()))?;
            let kind = r.get_ref(2).map_err(k)?.as_str().map_err(|e| k(e.into()))?;
            let key = value_key(&mut buf, value, kind);
            let name = r
                .get_ref(3)
                .map_err(k)?
                .as_str_or_null()
                .map_err(|e| k(e.into()))?;
            let id: i64 = r.get(0).map_err(k)?;
            held.push(Held {
                key,
                id: u32::try_from(id).map_err(|_| {
                    E::from(KbError::Invalid(format!("list row id {id} out of range")))
                })?,
                name: name_hash(name),
                withdrawn: r.get(4).map_err(k)?,
                seen: false,
            });
        }
    }
    let mut held = HeldIndex::new(held);
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS list_new(value TEXT NOT NULL, kind TEXT NOT NULL, name TEXT); \
         CREATE TEMP TABLE IF NOT EXISTS list_upd(id INTEGER PRIMARY KEY, relisted INTEGER NOT NULL, \
           name TEXT); \
         CREATE TEMP TABLE IF NOT EXISTS list_gone(id INTEGER PRIMARY KEY); \
         DELETE FROM temp.list_new; DELETE FROM temp.list_upd; DELETE FROM temp.list_gone;",
    )
    .map_err(k)?;
    let mut d = Diff::default();
    {
        let mut new = tx
            .prepare("INSERT INTO temp.list_new(value, kind, name) VALUES (?1, ?2, ?3)")
            .map_err(k)?;
        let mut upd = tx
            .prepare("INSERT INTO temp.list_upd(id, relisted, name) VALUES (?1, ?2, ?3)")
            .map_err(k)?;
        let mut gone = tx
            .prepare("INSERT INTO temp.list_gone(id) VALUES (?1)")
            .map_err(k)?;
        let mut fresh: std::collections::HashSet<u128> = std::collections::HashSet::new();
        // Lookups a batch at a time: the batch's bucket reads are
        // independent, so their cache misses overlap instead of queueing.
        let mut batch: Vec<(u128, ListValue)> = Vec::with_capacity(LOOKUP_BATCH);
        let mut found: Vec<Option<usize>> = Vec::with_capacity(LOOKUP_BATCH);
        let mut values = values.into_iter();
        loop {
            batch.clear();
            for v in values.by_ref().take(LOOKUP_BATCH) {
                let v = v?;
                batch.push((value_key(&mut buf, &v.value, v.kind.as_str()), v));
            }
            if batch.is_empty() {
                break;
            }
            found.clear();
            found.extend(batch.iter().map(|(key, _)| held.find(*key)));
            for ((key, v), at) in batch.iter().zip(&found) {
                match at {
                    Some(i) => {
                        let h = &mut held.held[*i];
                        // Of repeated values the first line wins.
                        if h.seen {
                            continue;
                        }
                        h.seen = true;
                        d.distinct += 1;
                        let relisted = h.withdrawn;
                        if relisted || h.name != name_hash(v.written.as_deref()) {
                            upd.execute(params![h.id, relisted, v.written]).map_err(k)?;
                            d.changed += 1;
                        }
                    }
                    None => {
                        if fresh.insert(*key) {
                            new.execute(params![v.value, v.kind.as_str(), v.written])
                                .map_err(k)?;
                            d.added += 1;
                            d.distinct += 1;
                        }
                    }
                }
            }
        }
        for h in held.held.iter().filter(|h| !h.seen && !h.withdrawn) {
            gone.execute([h.id]).map_err(k)?;
            d.withdrawn += 1;
        }
    }
    apply(tx, source_id, ts).map_err(E::from)?;
    Ok(d)
}

/// Applies the differences [`diff_stream`] noted.
fn apply(tx: &Transaction, source_id: i64, ts: i64) -> Result<(), KbError> {
    tx.execute(
        "UPDATE list_values SET withdrawn_at = ?1 WHERE id IN (SELECT id FROM temp.list_gone)",
        [ts],
    )?;
    tx.execute(
        "INSERT INTO list_history(value_id, withdrawn_at, restored_at) \
         SELECT v.id, v.withdrawn_at, ?1 FROM temp.list_upd u JOIN list_values v ON v.id = u.id \
         WHERE u.relisted",
        [ts],
    )?;
    tx.execute(
        "UPDATE list_values SET withdrawn_at = NULL, updated_at = ?1, name = u.name \
         FROM temp.list_upd u WHERE list_values.id = u.id",
        [ts],
    )?;
    tx.execute(
        "INSERT INTO list_values(source_id, kind, value, name, added_at, updated_at) \
         SELECT ?1, kind, value, name, ?2, ?2 FROM temp.list_new ORDER BY value, kind",
        params![source_id, ts],
    )?;
    tx.execute_batch(
        "DELETE FROM temp.list_new; DELETE FROM temp.list_upd; DELETE FROM temp.list_gone;",
    )?;
    Ok(())
}

/// Values looked up together in the differential pass.
const LOOKUP_BATCH: usize = 256;

/// Rows per staging INSERT: fewer statements, a batch's worth of memory.
const STAGE_BATCH: usize = 64;

/// Streams the values into the staging table, a batch at a time.
fn stage<E, I>(tx: &Transaction, values: I) -> Result<(), E>
where
    E: From<KbError>,
    I: IntoIterator<Item = Result<ListValue, E>>,
{
    let sql = |n: usize| {
        let rows = vec!["(?, ?, ?)"; n].join(", ");
        format!("INSERT INTO temp.list_stage(value, kind, name) VALUES {rows}")
    };
    let mut full = tx.prepare(&sql(STAGE_BATCH)).map_err(KbError::from)?;
    let mut one = tx.prepare(&sql(1)).map_err(KbError::from)?;
    let mut batch: Vec<ListValue> = Vec::with_capacity(STAGE_BATCH);
    let bind = |b: &[ListValue]| -> Vec<rusqlite::types::Value> {
        use rusqlite::types::Value;
        let mut p = Vec::with_capacity(b.len() * 3);
        for v in b {
            p.push(Value::Text(v.value.clone()));
            p.push(Value::Text(v.kind.as_str().to_string()));
            p.push(v.written.clone().map_or(Value::Null, Value::Text));
        }
        p
    };
    for v in values {
        batch.push(v?);
        if batch.len() == STAGE_BATCH {
            full.execute(rusqlite::params_from_iter(bind(&batch)))
                .map_err(KbError::from)?;
            batch.clear();
        }
    }
    for v in batch.chunks(1) {
        one.execute(rusqlite::params_from_iter(bind(v)))
            .map_err(KbError::from)?;
    }
    Ok(())
}

impl Store {
    /// Every list value to hunt (see [`Store::hunt_indicators`]).
    pub(crate) fn list_hunt_indicators(
        &self,
        include_inactive: bool,
        f: &mut dyn FnMut(HuntIndicator),
    ) -> Result<(), KbError> {
        let sql = if include_inactive {
            "SELECT id, kind, value FROM list_values"
        } else {
            "SELECT id, kind, value FROM list_values WHERE withdrawn_at IS NULL"
        };
        let mut q = self.conn.prepare(sql)?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            let Ok(kind) = kind.parse::<IndicatorKind>() else {
                continue;
            };
            f(HuntIndicator {
                key: LIST_KEY_BASE + r.get::<_, i64>(0)?,
                observable: Observable {
                    kind,
                    value: r.get(2)?,
                },
            });
        }
        Ok(())
    }

    /// A list value's indicator and who it indicates, by key; `None` when
    /// hidden or absent.
    pub(crate) fn list_value(
        &self,
        key: i64,
    ) -> Result<Option<(String, Observable, ListSource)>, KbError> {
        let sql = format!(
            "SELECT v.kind, v.value, {LIST_SOURCE_COLS} FROM list_values v \
             JOIN list_sources ls ON ls.source_id = v.source_id JOIN sources s ON s.id = v.source_id \
             WHERE v.id = ?1"
        );
        let row = self
            .conn
            .query_row(&sql, [key - LIST_KEY_BASE], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    list_source_row(r, 2)?,
                ))
            })
            .optional()?;
        Ok(row.and_then(|(kind, value, src)| {
            let kind: IndicatorKind = kind.parse().ok()?;
            let id = indicator_id(&src.source, kind.as_str(), &value);
            Some((id, Observable { kind, value }, src))
        }))
    }
}

/// One stored list value with what its list says of all of them.
pub(crate) struct Listed<'a> {
    pub(crate) list: &'a ListSource,
    pub(crate) key: i64,
    pub(crate) observable: Observable,
    pub(crate) written: Option<String>,
    pub(crate) added_at: i64,
    pub(crate) updated_at: i64,
}

impl Listed<'_> {
    /// The indicator's STIX id.
    pub(crate) fn stix_id(&self) -> String {
        indicator_id(
            &self.list.source,
            self.observable.kind.as_str(),
            &self.observable.value,
        )
    }

    /// The line as the list wrote it.
    pub(crate) fn written(&self) -> &str {
        self.written.as_deref().unwrap_or(&self.observable.value)
    }

    /// The indicator as list intake built it.
    pub(crate) fn indicator(&self) -> Object {
        let id = self.stix_id();
        Object {
            raw: indicator_json(
                &id,
                self.observable.kind,
                &self.observable.value,
                self.written(),
                &self.list.labels,
            )
            .to_string(),
            id,
            kind: "indicator".into(),
            name: Some(self.written().to_string()),
            labels: self.list.labels.clone(),
            observables: vec![self.observable.clone()],
            prov: self.list.prov.clone(),
            ..Object::default()
        }
    }

    /// Its `indicates` relationship, when the list names an actor.
    pub(crate) fn indicates(&self) -> Option<cairn_model::Relation> {
        let actor = self.list.actor_ref.as_ref()?;
        let ind = self.stix_id();
        let id = indicates_id(&ind, actor);
        Some(cairn_model::Relation {
            raw: indicates_json(&id, &ind, actor).to_string(),
            id,
            rel_type: "indicates".into(),
            source_ref: ind,
            target_ref: actor.clone(),
            prov: self.list.prov.clone(),
            ..cairn_model::Relation::default()
        })
    }
}

impl Store {
    /// Every active list value (of the lists indicating one of `actors`,
    /// when given), list by list.
    pub(crate) fn for_each_listed(
        &self,
        actors: Option<&std::collections::BTreeSet<String>>,
        f: &mut dyn FnMut(Listed<'_>) -> Result<(), KbError>,
    ) -> Result<(), KbError> {
        let mut sq = self.conn.prepare(&format!(
            "SELECT ls.source_id, {LIST_SOURCE_COLS} FROM list_sources ls \
             JOIN sources s ON s.id = ls.source_id ORDER BY s.name"
        ))?;
        let lists: Vec<(i64, ListSource)> = sq
            .query_map([], |r| Ok((r.get(0)?, list_source_row(r, 1)?)))?
            .collect::<Result<_, _>>()?;
        let mut vq = self.conn.prepare(
            "SELECT id, kind, value, name, added_at, updated_at FROM list_values \
             WHERE source_id = ?1 AND withdrawn_at IS NULL ORDER BY id",
        )?;
        for (source_id, list) in &lists {
            if let Some(a) = actors
                && !list.actor_ref.as_ref().is_some_and(|r| a.contains(r))
            {
                continue;
            }
            let mut rows = vq.query([source_id])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(1)?;
                let Ok(kind) = kind.parse::<IndicatorKind>() else {
                    continue;
                };
                f(Listed {
                    list,
                    key: LIST_KEY_BASE + r.get::<_, i64>(0)?,
                    observable: Observable {
                        kind,
                        value: r.get(2)?,
                    },
                    written: r.get(3)?,
                    added_at: r.get(4)?,
                    updated_at: r.get(5)?,
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_the_ones_list_intake_gave() {
        // The id of `kb.dga.asia` in the "ember feed" list of the v1 fixture.
        let id = indicator_id("s", "domain", "kb.dga.asia");
        assert_eq!(
            id,
            deterministic_id("indicator", &["s", "domain", "kb.dga.asia"])
        );
        let j = indicator_json(
            &id,
            IndicatorKind::Domain,
            "kb.dga.asia",
            "kb.dga[.]asia",
            &[],
        );
        assert_eq!(j["pattern"], "[domain-name:value = 'kb.dga.asia']");
        assert_eq!(j["name"], "kb.dga[.]asia");
    }

    #[test]
    fn the_bucket_index_finds_every_key_and_nothing_else() {
        for n in [0usize, 1, 2, 3, 1000, 4097] {
            let mut buf = Vec::new();
            let held: Vec<Held> = (0..n)
                .map(|i| Held {
                    key: value_key(&mut buf, &format!("v{i}.example"), "domain"),
                    name: 0,
                    id: i as u32,
                    withdrawn: false,
                    seen: false,
                })
                .collect();
            let ix = HeldIndex::new(held);
            for i in 0..n {
                let key = value_key(&mut buf, &format!("v{i}.example"), "domain");
                let at = ix.find(key).expect("found");
                assert_eq!(ix.held[at].id as usize, i);
            }
            assert!(
                ix.find(value_key(&mut buf, "absent.example", "domain"))
                    .is_none()
            );
        }
    }

    #[test]
    fn stamps_round_trip_through_milliseconds() {
        let t = "2024-01-02T03:04:05.678Z";
        assert_eq!(ms_text(ms(t).unwrap()), t);
    }
}
