//! Writing a source's bundle: one transaction, idempotent, differential.
//!
//! A source is identified by name. Ingesting it again compares each
//! statement's content hash with the stored one: unchanged rows are left
//! alone, changed rows keep their previous version (with its TLP) in
//! `history`, and rows the new version no longer contains are marked
//! withdrawn (never deleted).

use crate::errors::KbError;
// Later STIX versions of one id win inside a batch (the whole file when it
// is one): only the winner is compared with the stored row. Across batches
// `Batches` applies the same rule as they come, so a file whose later
// batch reverts an id's earlier, changed version counts it as changed.
use crate::shared::{content_hash as hash, latest, object_names};
use crate::withdraw::Withdraw;
use crate::{Store, now};
use cairn_model::time;
use cairn_model::{Bundle, Object, Relation, Tlp};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params, params_from_iter};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Kinds whose names and descriptions `search` covers.
pub(crate) const SEARCHABLE: &[&str] = &[
    "intrusion-set",
    "campaign",
    "malware",
    "tool",
    "attack-pattern",
];

/// What an ingest did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IngestReport {
    /// Source name the statements are attributed to.
    pub source: String,
    /// Format the file was read as.
    pub format: String,
    /// `new`, `updated` or `unchanged`.
    pub status: String,
    /// Objects in the file.
    pub objects: usize,
    /// Relationships in the file.
    pub relationships: usize,
    /// Indicators among the objects.
    pub indicators: usize,
    /// Whole documents kept (warninglists).
    pub documents: usize,
    /// Statements new to the store.
    pub added: usize,
    /// Statements whose content changed since the last version.
    pub changed: usize,
    /// Statements the source no longer makes, now marked withdrawn.
    pub withdrawn: usize,
}

impl IngestReport {
    /// An empty report of a new source, for writers that count as they go.
    pub fn new(source: &str, format: &str) -> IngestReport {
        IngestReport {
            source: source.into(),
            format: format.into(),
            status: "new".into(),
            objects: 0,
            relationships: 0,
            indicators: 0,
            documents: 0,
            added: 0,
            changed: 0,
            withdrawn: 0,
        }
    }

    pub(crate) fn empty(source: &str, format: &str, status: &str) -> IngestReport {
        IngestReport {
            source: source.to_string(),
            format: format.to_string(),
            status: status.into(),
            objects: 0,
            relationships: 0,
            indicators: 0,
            documents: 0,
            added: 0,
            changed: 0,
            withdrawn: 0,
        }
    }
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// The source that was last ingested from exactly this input, if any: the
    /// caller can then skip parsing altogether.
    pub fn source_with_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, KbError> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, format FROM sources WHERE fingerprint = ?1",
                [fingerprint],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Stores everything a source said, in one transaction. `file` and
    /// `fingerprint` (a digest of the input and the options that shaped it)
    /// are recorded so an identical re-ingest is recognised. The one-batch
    /// case of [`Store::ingest_stream`].
    pub fn ingest(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError> {
        self.ingest_with(bundle, file, fingerprint, Withdraw::Unsaid, &mut |_| Ok(()))
    }

    /// Stores a source delivered in batches, in one transaction, with the
    /// semantics of [`Store::ingest`]: `feed` hands each batch to
    /// [`Batches::write`]; when it returns, what the source no longer says is
    /// withdrawn and the transaction commits. An error from `feed` (a bad
    /// object in batch N) rolls everything back. Memory is bounded by a batch
    /// and 128-bit keys of the ids already written, not by the source. If
    /// `fingerprint` shows the same input again, `feed` is not called.
    pub fn ingest_stream<E: From<KbError>>(
        &mut self,
        source: &str,
        format: &str,
        file: Option<&str>,
        fingerprint: Option<&str>,
        feed: impl FnOnce(&mut Batches) -> Result<(), E>,
    ) -> Result<IngestReport, E> {
        let head = Head {
            source,
            format,
            documents: &[],
            documents_tlp: Tlp::Clear,
        };
        self.ingest_core(
            &head,
            file,
            fingerprint,
            Withdraw::Unsaid,
            feed,
            &mut |_| Ok(()),
        )
    }

    /// [`Store::ingest`], withdrawing only what `withdraw` covers, with
    /// `also` run inside the same transaction before it commits (a feed's
    /// cursor and validators: stored with the statements or not at all).
    pub(crate) fn ingest_with(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
        withdraw: Withdraw,
        also: &mut dyn FnMut(&Transaction) -> Result<(), KbError>,
    ) -> Result<IngestReport, KbError> {
        let head = Head {
            source: &bundle.source,
            format: &bundle.format,
            documents: &bundle.documents,
            documents_tlp: bundle.documents_tlp,
        };
        self.ingest_core(
            &head,
            file,
            fingerprint,
            withdraw,
            |b: &mut Batches| b.write(&bundle.objects, &bundle.relations),
            also,
        )
    }

    fn ingest_core<E: From<KbError>>(
        &mut self,
        head: &Head,
        file: Option<&str>,
        fingerprint: Option<&str>,
        withdraw: Withdraw,
        feed: impl FnOnce(&mut Batches) -> Result<(), E>,
        also: &mut dyn FnMut(&Transaction) -> Result<(), KbError>,
    ) -> Result<IngestReport, E> {
        // IMMEDIATE: the write lock is held from the start, so the stamp read
        // below is the latest and no other writer can interleave.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(KbError::from)?;
        let ts = stamp(&tx)?;
        let mut report = IngestReport::empty(head.source, head.format, "new");
        let (source_id, existed) =
            match claim_source(&tx, head.source, head.format, file, fingerprint, &ts)? {
                Claim::Unchanged => {
                    also(&tx)?;
                    tx.commit().map_err(KbError::from)?;
                    report.status = "unchanged".into();
                    return Ok(report);
                }
                Claim::Write { id, existed } => (id, existed),
            };
        if existed {
            report.status = "updated".into();
        }
        let mut batches = Batches::new(&tx, source_id, &ts, report)?;
        feed(&mut batches)?;
        let mut report = batches.finish(&withdraw)?;
        report.documents = head.documents.len();
        // A partial delivery (a feed page) carries no documents to replace.
        if withdraw.is_unsaid() || !head.documents.is_empty() {
            tx.execute("DELETE FROM documents WHERE source_id = ?1", [source_id])
                .map_err(KbError::from)?;
        }
        for (name, body) in head.documents {
            tx.execute(
                "INSERT OR REPLACE INTO documents(source_id, name, body, tlp) VALUES (?1, ?2, ?3, ?4)",
                params![source_id, name, body, head.documents_tlp.as_str()],
            )
            .map_err(KbError::from)?;
        }
        if report.added + report.changed + report.withdrawn > 0 || !head.documents.is_empty() {
            bump_generation(&tx)?;
        } else if existed {
            report.status = "unchanged".into();
        }
        also(&tx)?;
        tx.commit().map_err(KbError::from)?;
        Ok(report)
    }
}

/// What a delivery shares besides its statements.
struct Head<'a> {
    source: &'a str,
    format: &'a str,
    documents: &'a [(String, String)],
    documents_tlp: Tlp,
}

/// What [`claim_source`] found.
pub(crate) enum Claim {
    /// The source was last stored from exactly this input: nothing to write.
    Unchanged,
    /// The source's row, created or stamped for this version.
    Write {
        /// Its row id.
        id: i64,
        /// Whether it was stored before.
        existed: bool,
    },
}

/// Finds or creates a source's row for a new version, unless the stored
/// fingerprint shows the same input again (bundles and compact lists alike).
pub(crate) fn claim_source(
    tx: &Transaction,
    name: &str,
    format: &str,
    file: Option<&str>,
    fingerprint: Option<&str>,
    ts: &str,
) -> Result<Claim, KbError> {
    let existing: Option<(i64, Option<String>)> = tx
        .query_row(
            "SELECT id, fingerprint FROM sources WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match existing {
        Some((_, Some(old))) if fingerprint == Some(old.as_str()) => Claim::Unchanged,
        Some((id, _)) => {
            tx.execute(
                "UPDATE sources SET format = ?2, file = ?3, fingerprint = ?4, last_ingested = ?5, \
                 versions = versions + 1 WHERE id = ?1",
                params![id, format, file, fingerprint, ts],
            )?;
            Claim::Write { id, existed: true }
        }
        None => {
            tx.execute(
                "INSERT INTO sources(name, format, file, fingerprint, first_ingested, last_ingested) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![name, format, file, fingerprint, ts],
            )?;
            Claim::Write {
                id: tx.last_insert_rowid(),
                existed: false,
            }
        }
    })
}

/// Milliseconds since the epoch of a stored stamp.
pub(crate) fn ms(stamp: &str) -> Result<i64, KbError> {
    time::parse(stamp)
        .map(|t| t.as_millisecond())
        .ok_or_else(|| KbError::Invalid(format!("unreadable timestamp `{stamp}`")))
}

/// How [`Store::begin_source_write`] found the source.
pub(crate) enum Begun<'a> {
    /// Last stored from exactly this input: committed, nothing written.
    Unchanged(IngestReport),
    /// A new version to write.
    Write(SourceWrite<'a>),
}

/// An open write of one source's new version.
pub(crate) struct SourceWrite<'a> {
    /// The immediate transaction everything goes into.
    pub(crate) tx: Transaction<'a>,
    /// Its stamp, in milliseconds.
    pub(crate) ts_ms: i64,
    /// The source's row.
    pub(crate) source_id: i64,
    /// The report so far: `new` or `updated`, nothing counted.
    pub(crate) report: IngestReport,
}

impl Store {
    /// Begins writing a new version of a source kept in its own tables (AS
    /// tables, observations, registrations): refuses a restricted
    /// connection, opens an immediate transaction, stamps it and claims the
    /// source row.
    pub(crate) fn begin_source_write(
        &mut self,
        source: &str,
        format: &str,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<Begun<'_>, KbError> {
        if self.ceiling.is_some() {
            return Err(KbError::Invalid(
                "a TLP-restricted store connection is read-only".into(),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ts = stamp(&tx)?;
        let ts_ms = ms(&ts)?;
        let mut report = IngestReport::new(source, format);
        Ok(
            match claim_source(&tx, source, format, file, fingerprint, &ts)? {
                Claim::Unchanged => {
                    tx.commit()?;
                    report.status = "unchanged".into();
                    Begun::Unchanged(report)
                }
                Claim::Write { id, existed } => {
                    if existed {
                        report.status = "updated".into();
                    }
                    Begun::Write(SourceWrite {
                        tx,
                        ts_ms,
                        source_id: id,
                        report,
                    })
                }
            },
        )
    }
}

/// The time a write transaction stores its statements under (`added_at`,
/// `updated_at`, which TAXII serves as `date_added`): now to the
/// millisecond, and strictly later than every stamp already stored, so a
/// TAXII client that polls with `added_after` = the last date it saw never
/// misses a later write, however close the two are.
///
/// Stores written before stamps had milliseconds hold whole-second stamps
/// (`…:59Z`). Those sort after same-second millisecond stamps as text
/// (`…:59.5Z` < `…:59Z`), so the first stamp after one is pushed into the
/// next second: stored text then always sorts as time does, and the feed can
/// page through the `updated_at` index.
pub(crate) fn stamp(tx: &Transaction) -> Result<String, KbError> {
    let last: Option<String> = tx.query_row(
        "SELECT MAX(m) FROM (SELECT MAX(updated_at) AS m FROM objects \
         UNION ALL SELECT MAX(updated_at) FROM relations)",
        [],
        |r| r.get(0),
    )?;
    // List values keep integer stamps with no index to take a maximum
    // from: a list ingest notes its stamp in `meta` (lists.rs).
    let listed: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'lists_updated_at'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let last = match (last, listed) {
        (Some(a), Some(b)) => Some(if time::parse(&a) >= time::parse(&b) {
            a
        } else {
            b
        }),
        (a, b) => a.or(b),
    };
    let now = time::parse(&now()).unwrap_or_else(jiff::Timestamp::now);
    let floor = last.as_deref().and_then(|l| {
        let t = time::parse(l)?;
        let step = if time::is_stix_ms(l) {
            jiff::SignedDuration::from_millis(1)
        } else {
            jiff::SignedDuration::from_secs(1)
        };
        t.checked_add(step).ok()
    });
    Ok(time::format_ms(floor.map_or(now, |f| f.max(now))))
}

pub(crate) fn bump_generation(tx: &Transaction) -> Result<(), KbError> {
    tx.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'",
        [],
    )?;
    Ok(())
}

/// Stored columns of an object, in the order [`object_values`] gives them.
const OBJECT_COLS: &str = "kind, name, description, external_id, created, modified, revoked, deprecated, \
     country, valid_until, aliases, tactics, labels, sectors, refs, reference, first_seen, last_seen, \
     confidence, tlp, raw, hash";

/// Stored columns of a relationship, in the order [`relation_values`] gives them.
const RELATION_COLS: &str = "rel_type, src_ref, tgt_ref, description, revoked, deprecated, reference, \
     first_seen, last_seen, confidence, tlp, raw, hash";

/// `?from, ?from+1, …` for `n` parameters.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A statement's parameters: ?1 the row or source id (UPDATE uses the row id and
/// ignores ?2), ?2 the STIX id, then the column values, then the timestamp.
fn row_values(id: i64, stix_id: &str, cols: Vec<Value>, ts: &str) -> Vec<Value> {
    let mut v = Vec::with_capacity(cols.len() + 3);
    v.push(Value::Integer(id));
    v.push(Value::Text(stix_id.to_string()));
    v.extend(cols);
    v.push(Value::Text(ts.to_string()));
    v
}

fn text(s: &Option<String>) -> Value {
    s.clone().map_or(Value::Null, Value::Text)
}

fn object_values(o: &Object, h: i64) -> Vec<Value> {
    let p = &o.prov;
    vec![
        Value::Text(o.kind.clone()),
        text(&o.name),
        text(&o.description),
        text(&o.external_id),
        text(&o.created),
        text(&o.modified),
        Value::Integer(o.revoked.into()),
        Value::Integer(o.deprecated.into()),
        text(&o.country),
        text(&o.valid_until),
        Value::Text(json_list(&o.aliases)),
        Value::Text(json_list(&o.tactics)),
        Value::Text(json_list(&o.labels)),
        Value::Text(json_list(&o.sectors)),
        Value::Text(json_list(&o.references)),
        text(&p.reference),
        text(&p.first_seen),
        text(&p.last_seen),
        p.confidence
            .map_or(Value::Null, |c| Value::Integer(c.into())),
        Value::Text(p.tlp.as_str().to_string()),
        Value::Text(o.raw.clone()),
        Value::Integer(h),
    ]
}

fn relation_values(r: &Relation, h: i64) -> Vec<Value> {
    let p = &r.prov;
    vec![
        Value::Text(r.rel_type.clone()),
        Value::Text(r.source_ref.clone()),
        Value::Text(r.target_ref.clone()),
        text(&r.description),
        Value::Integer(r.revoked.into()),
        Value::Integer(r.deprecated.into()),
        text(&p.reference),
        text(&p.first_seen),
        text(&p.last_seen),
        p.confidence
            .map_or(Value::Null, |c| Value::Integer(c.into())),
        Value::Text(p.tlp.as_str().to_string()),
        Value::Text(r.raw.clone()),
        Value::Integer(h),
    ]
}

/// A key for an id already written by this delivery: 128 bits of it, so a
/// million ids cost 16 bytes each, not their text.
fn id_key(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// A delivery being written, batch by batch, inside one transaction (see
/// [`Store::ingest_stream`]). Each statement is compared with the stored row
/// of the same id (unchanged: untouched; changed: the previous version kept
/// in `history`); what the delivery does not say is withdrawn when it ends.
/// Relationships are stored by the ids they name, so one may point at an
/// object of another batch.
pub struct Batches<'t> {
    tx: &'t Connection,
    source_id: i64,
    ts: &'t str,
    report: IngestReport,
    /// Objects already written: key → their `modified` (a later version of
    /// the same id in the file wins, as it always did within one file).
    objects: HashMap<u128, Option<Box<str>>>,
    relations: HashSet<u128>,
    /// The source had no statements before this delivery: only an id said
    /// twice can have a stored row, so the others are not looked up.
    fresh: bool,
    sql: &'static Sql,
}

/// The statements a delivery runs, built once.
struct Sql {
    insert_object: String,
    update_object: String,
    insert_relation: String,
    update_relation: String,
    stored_object: String,
    stored_relation: String,
}

fn sql() -> &'static Sql {
    static SQL: std::sync::OnceLock<Sql> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let stored = |table: &str| {
            format!(
                "SELECT id, hash, withdrawn_at IS NOT NULL, updated_at = ?3 FROM {table} \
                 WHERE source_id = ?1 AND stix_id = ?2"
            )
        };
        Sql {
            insert_object: format!(
                "INSERT INTO objects(source_id, stix_id, {OBJECT_COLS}, added_at, updated_at) \
                 VALUES (?1, ?2, {}, ?25, ?25)",
                placeholders(3, 22)
            ),
            update_object: format!(
                "UPDATE objects SET ({OBJECT_COLS}, updated_at, withdrawn_at) = ({}, ?25, NULL) WHERE id = ?1",
                placeholders(3, 22)
            ),
            insert_relation: format!(
                "INSERT INTO relations(source_id, stix_id, {RELATION_COLS}, added_at, updated_at) \
                 VALUES (?1, ?2, {}, ?16, ?16)",
                placeholders(3, 13)
            ),
            update_relation: format!(
                "UPDATE relations SET ({RELATION_COLS}, updated_at, withdrawn_at) = ({}, ?16, NULL) WHERE id = ?1",
                placeholders(3, 13)
            ),
            stored_object: stored("objects"),
            stored_relation: stored("relations"),
        }
    })
}

/// A stored row the delivery compares with: row id, content hash,
/// withdrawn, and whether this delivery already wrote it.
type StoredRow = (i64, i64, bool, bool);

impl<'t> Batches<'t> {
    fn new(
        tx: &'t Connection,
        source_id: i64,
        ts: &'t str,
        report: IngestReport,
    ) -> Result<Batches<'t>, KbError> {
        let stored: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM objects WHERE source_id = ?1) \
             OR EXISTS(SELECT 1 FROM relations WHERE source_id = ?1)",
            [source_id],
            |r| r.get(0),
        )?;
        // Every statement a delivery runs stays compiled (rusqlite keeps 16).
        tx.set_prepared_statement_cache_capacity(64);
        Ok(Batches {
            tx,
            source_id,
            ts,
            report,
            objects: HashMap::new(),
            relations: HashSet::new(),
            fresh: !stored,
            sql: sql(),
        })
    }

    /// Writes one batch. Duplicate ids across batches are resolved as
    /// within one: the later `modified` wins for objects, the first
    /// relationship wins.
    pub fn write(&mut self, objects: &[Object], relations: &[Relation]) -> Result<(), KbError> {
        self.report.objects += objects.len();
        self.report.relationships += relations.len();
        self.report.indicators += objects.iter().filter(|o| o.kind == "indicator").count();
        for o in latest(objects, |o: &Object| &o.id, |o| o.modified.as_deref()) {
            self.write_object(o)?;
        }
        for r in latest(relations, |r: &Relation| &r.id, |_| None) {
            self.write_relation(r)?;
        }
        Ok(())
    }

    /// What the ingest did so far (counts of the batches written).
    pub fn report(&self) -> &IngestReport {
        &self.report
    }

    fn stored(&self, table: &str, stix_id: &str) -> Result<Option<StoredRow>, KbError> {
        let sql = if table == "objects" {
            &self.sql.stored_object
        } else {
            &self.sql.stored_relation
        };
        let mut q = self.tx.prepare_cached(sql)?;
        Ok(q.query_row(params![self.source_id, stix_id, self.ts], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?)
    }

    fn write_object(&mut self, o: &Object) -> Result<(), KbError> {
        let key = id_key(&o.id);
        let again = match self.objects.get_mut(&key) {
            // An earlier version of an id already written (or equal): skipped.
            Some(m) if o.modified.as_deref() <= m.as_deref() => return Ok(()),
            Some(m) => {
                *m = o.modified.as_deref().map(Into::into);
                true
            }
            None => {
                self.objects
                    .insert(key, o.modified.as_deref().map(Into::into));
                false
            }
        };
        let tx = self.tx;
        let ts = self.ts;
        let h = hash(o);
        let stored = if self.fresh && !again {
            None
        } else {
            self.stored("objects", &o.id)?
        };
        let rowid = match stored {
            Some((_, old, false, _)) if old == h => return Ok(()),
            Some((rowid, old, _, this_run)) => {
                // A later version of an id this delivery wrote replaces it:
                // only the version stored before is history.
                if old != h && !this_run {
                    tx.prepare_cached(HISTORY_OBJECT)?
                        .execute(params![rowid, "changed", ts])?;
                }
                tx.prepare_cached(&self.sql.update_object)?
                    .execute(params_from_iter(row_values(
                        rowid,
                        &o.id,
                        object_values(o, h),
                        ts,
                    )))?;
                tx.prepare_cached("DELETE FROM names WHERE object_id = ?1")?
                    .execute([rowid])?;
                tx.prepare_cached("DELETE FROM observables WHERE object_id = ?1")?
                    .execute([rowid])?;
                tx.prepare_cached("DELETE FROM fts WHERE rowid = ?1")?
                    .execute([rowid])?;
                if !this_run {
                    self.report.changed += 1;
                }
                rowid
            }
            None => {
                tx.prepare_cached(&self.sql.insert_object)?
                    .execute(params_from_iter(row_values(
                        self.source_id,
                        &o.id,
                        object_values(o, h),
                        ts,
                    )))?;
                self.report.added += 1;
                tx.last_insert_rowid()
            }
        };
        let mut ins_name = tx.prepare_cached(
            "INSERT INTO names(object_id, norm, name, role) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (norm, n, role) in object_names(o) {
            ins_name.execute(params![rowid, norm, n, role])?;
        }
        if !o.observables.is_empty() {
            let mut ins_obs = tx.prepare_cached(
                "INSERT INTO observables(object_id, kind, value) VALUES (?1, ?2, ?3)",
            )?;
            for ob in &o.observables {
                ins_obs.execute(params![rowid, ob.kind.as_str(), ob.value])?;
            }
        }
        if SEARCHABLE.contains(&o.kind.as_str()) {
            tx.prepare_cached(
                "INSERT INTO fts(rowid, name, aliases, description) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![rowid, o.name, o.aliases.join(" "), o.description])?;
        }
        Ok(())
    }

    fn write_relation(&mut self, r: &Relation) -> Result<(), KbError> {
        // Relations carry no `modified` in the model: the first of duplicates wins.
        if !self.relations.insert(id_key(&r.id)) {
            return Ok(());
        }
        let tx = self.tx;
        let ts = self.ts;
        let h = hash(r);
        let stored = if self.fresh {
            None
        } else {
            self.stored("relations", &r.id)?
        };
        match stored {
            Some((_, old, false, _)) if old == h => {}
            Some((rowid, old, _, _)) => {
                if old != h {
                    tx.prepare_cached(HISTORY_RELATION)?
                        .execute(params![rowid, "changed", ts])?;
                }
                tx.prepare_cached(&self.sql.update_relation)?
                    .execute(params_from_iter(row_values(
                        rowid,
                        &r.id,
                        relation_values(r, h),
                        ts,
                    )))?;
                self.report.changed += 1;
            }
            None => {
                tx.prepare_cached(&self.sql.insert_relation)?
                    .execute(params_from_iter(row_values(
                        self.source_id,
                        &r.id,
                        relation_values(r, h),
                        ts,
                    )))?;
                self.report.added += 1;
            }
        }
        Ok(())
    }

    /// Withdraws what `withdraw` covers and the delivery did not say; the
    /// report of the whole delivery.
    pub(crate) fn finish(mut self, withdraw: &Withdraw) -> Result<IngestReport, KbError> {
        for (table, history) in [("objects", HISTORY_OBJECT), ("relations", HISTORY_RELATION)] {
            let said = |id: &str| {
                let k = id_key(id);
                if table == "objects" {
                    self.objects.contains_key(&k)
                } else {
                    self.relations.contains(&k)
                }
            };
            let mut gone: Vec<i64> = Vec::new();
            match withdraw {
                Withdraw::Unsaid => {
                    let mut q = self.tx.prepare(&format!(
                        "SELECT id, stix_id FROM {table} WHERE source_id = ?1 AND withdrawn_at IS NULL"
                    ))?;
                    let mut rows = q.query([self.source_id])?;
                    while let Some(r) = rows.next()? {
                        let id: String = r.get(1)?;
                        if !said(&id) {
                            gone.push(r.get(0)?);
                        }
                    }
                }
                Withdraw::Only(ids) => {
                    let mut sorted: Vec<&String> = ids.iter().collect();
                    sorted.sort_unstable();
                    for id in sorted {
                        if !said(id)
                            && let Some((rowid, _, false, _)) = self.stored(table, id)?
                        {
                            gone.push(rowid);
                        }
                    }
                }
            }
            gone.sort_unstable();
            let mut hist = self.tx.prepare_cached(history)?;
            let mut mark = self.tx.prepare(&format!(
                "UPDATE {table} SET withdrawn_at = ?2 WHERE id = ?1"
            ))?;
            for rowid in gone {
                hist.execute(params![rowid, "withdrawn", self.ts])?;
                mark.execute(params![rowid, self.ts])?;
                self.report.withdrawn += 1;
            }
        }
        Ok(self.report)
    }
}

const HISTORY_OBJECT: &str = "INSERT INTO history(source_id, stix_id, change, raw, superseded_at, tlp) \
     SELECT source_id, stix_id, ?2, raw, ?3, tlp FROM objects WHERE id = ?1";

const HISTORY_RELATION: &str = "INSERT INTO history(source_id, stix_id, change, raw, superseded_at, tlp) \
     SELECT source_id, stix_id, ?2, raw, ?3, tlp FROM relations WHERE id = ?1";

/// Writes `bundle` as a whole delivery inside `tx` (the actor of a compact
/// list): what the source stated before and `withdraw` covers is withdrawn.
pub(crate) fn write_bundle(
    tx: &Transaction,
    source_id: i64,
    bundle: &Bundle,
    ts: &str,
    withdraw: &Withdraw,
    report: &mut IngestReport,
) -> Result<(), KbError> {
    let start = IngestReport::empty(&report.source, &report.format, &report.status);
    let mut b = Batches::new(tx, source_id, ts, start)?;
    b.write(&bundle.objects, &bundle.relations)?;
    let done = b.finish(withdraw)?;
    report.added += done.added;
    report.changed += done.changed;
    report.withdrawn += done.withdrawn;
    Ok(())
}
