//! Writing a source's bundle: one transaction, idempotent, differential.
//!
//! A source is identified by name. Ingesting it again compares each
//! statement's content hash with the stored one: unchanged rows are left
//! alone, changed rows keep their previous version (with its TLP) in
//! `history`, and rows the new version no longer contains are marked
//! withdrawn (never deleted).

use crate::errors::KbError;
use crate::withdraw::Withdraw;
use crate::{Store, now};
use cairn_model::time;
use cairn_model::{Bundle, Object, Relation, normalize_name};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params, params_from_iter};
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
    fn from_bundle(b: &Bundle, status: &str) -> IngestReport {
        IngestReport {
            source: b.source.clone(),
            format: b.format.clone(),
            status: status.into(),
            objects: b.objects.len(),
            relationships: b.relations.len(),
            indicators: b.indicator_count(),
            documents: b.documents.len(),
            added: 0,
            changed: 0,
            withdrawn: 0,
        }
    }
}

fn hash<T: Serialize>(v: &T) -> i64 {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    // Stored as SQLite's signed 64-bit integer; the bit pattern is what matters.
    xxhash_rust::xxh3::xxh3_64(&bytes) as i64
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Later STIX versions of one id win inside a single file.
fn latest<T>(
    items: &[T],
    id: impl Fn(&T) -> &str,
    modified: impl Fn(&T) -> Option<&str>,
) -> Vec<&T> {
    let mut pos: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<&T> = Vec::with_capacity(items.len());
    for it in items {
        match pos.get(id(it)) {
            Some(&i) if modified(out[i]) >= modified(it) => {}
            Some(&i) => out[i] = it,
            None => {
                pos.insert(id(it), out.len());
                out.push(it);
            }
        }
    }
    out
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
    /// are recorded so an identical re-ingest is recognised.
    pub fn ingest(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError> {
        self.ingest_with(bundle, file, fingerprint, Withdraw::Unsaid, &mut |_| Ok(()))
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
        // IMMEDIATE: the write lock is held from the start, so the stamp read
        // below is the latest and no other writer can interleave.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ts = stamp(&tx)?;
        let (source_id, existed) =
            match claim_source(&tx, &bundle.source, &bundle.format, file, fingerprint, &ts)? {
                Claim::Unchanged => {
                    also(&tx)?;
                    tx.commit()?;
                    return Ok(IngestReport::from_bundle(bundle, "unchanged"));
                }
                Claim::Write { id, existed } => (id, existed),
            };
        let mut report = IngestReport::from_bundle(bundle, if existed { "updated" } else { "new" });
        write_objects(&tx, source_id, bundle, &ts, &withdraw, &mut report)?;
        write_relations(&tx, source_id, bundle, &ts, &withdraw, &mut report)?;
        // A partial delivery (a feed page) carries no documents to replace.
        if withdraw.is_unsaid() || !bundle.documents.is_empty() {
            tx.execute("DELETE FROM documents WHERE source_id = ?1", [source_id])?;
        }
        for (name, body) in &bundle.documents {
            tx.execute(
                "INSERT OR REPLACE INTO documents(source_id, name, body, tlp) VALUES (?1, ?2, ?3, ?4)",
                params![source_id, name, body, bundle.documents_tlp.as_str()],
            )?;
        }
        if report.added + report.changed + report.withdrawn > 0 || !bundle.documents.is_empty() {
            bump_generation(&tx)?;
        } else if existed {
            report.status = "unchanged".into();
        }
        also(&tx)?;
        tx.commit()?;
        Ok(report)
    }
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

/// A source's stored rows the ingest compares with (STIX id → row id,
/// content hash, withdrawn): all of them for a whole delivery; for a partial
/// one only those it carries or may withdraw, so a feed page costs its own
/// size, not the source's.
fn stored_rows<'a>(
    tx: &Transaction,
    table: &str,
    source_id: i64,
    withdraw: &Withdraw<'a>,
    delivered: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, (i64, i64, bool)>, KbError> {
    let cols = "stix_id, id, hash, withdrawn_at IS NOT NULL";
    let mut stored = HashMap::new();
    let mut read = |rows: rusqlite::Rows| -> Result<(), KbError> {
        let mut rows = rows;
        while let Some(r) = rows.next()? {
            stored.insert(r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?));
        }
        Ok(())
    };
    match withdraw {
        Withdraw::Unsaid => {
            let mut q = tx.prepare(&format!("SELECT {cols} FROM {table} WHERE source_id = ?1"))?;
            read(q.query([source_id])?)?;
        }
        Withdraw::Only(ids) => {
            let mut wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
            wanted.extend(delivered);
            wanted.sort_unstable();
            wanted.dedup();
            let mut q = tx.prepare(&format!(
                "SELECT {cols} FROM {table} WHERE source_id = ?1 AND stix_id = ?2"
            ))?;
            for id in wanted {
                read(q.query(params![source_id, id])?)?;
            }
        }
    }
    Ok(stored)
}

pub(crate) fn write_objects(
    tx: &Transaction,
    source_id: i64,
    bundle: &Bundle,
    ts: &str,
    withdraw: &Withdraw,
    report: &mut IngestReport,
) -> Result<(), KbError> {
    let stored = stored_rows(
        tx,
        "objects",
        source_id,
        withdraw,
        bundle.objects.iter().map(|o| o.id.as_str()),
    )?;
    // Both statements take the same column list, so one value list serves both.
    let mut insert = tx.prepare(&format!(
        "INSERT INTO objects(source_id, stix_id, {OBJECT_COLS}, added_at, updated_at) \
         VALUES (?1, ?2, {}, ?25, ?25)",
        placeholders(3, 22)
    ))?;
    let mut update = tx.prepare(&format!(
        "UPDATE objects SET ({OBJECT_COLS}, updated_at, withdrawn_at) = ({}, ?25, NULL) WHERE id = ?1",
        placeholders(3, 22)
    ))?;
    let mut history = tx.prepare(
        "INSERT INTO history(source_id, stix_id, change, raw, superseded_at, tlp) \
         SELECT source_id, stix_id, ?2, raw, ?3, tlp FROM objects WHERE id = ?1",
    )?;
    let mut del_names = tx.prepare("DELETE FROM names WHERE object_id = ?1")?;
    let mut del_obs = tx.prepare("DELETE FROM observables WHERE object_id = ?1")?;
    let mut del_fts = tx.prepare("DELETE FROM fts WHERE rowid = ?1")?;
    let mut ins_name =
        tx.prepare("INSERT INTO names(object_id, norm, name, role) VALUES (?1, ?2, ?3, ?4)")?;
    let mut ins_obs =
        tx.prepare("INSERT INTO observables(object_id, kind, value) VALUES (?1, ?2, ?3)")?;
    let mut ins_fts =
        tx.prepare("INSERT INTO fts(rowid, name, aliases, description) VALUES (?1, ?2, ?3, ?4)")?;

    let mut seen: HashSet<&str> = HashSet::with_capacity(bundle.objects.len());
    for o in latest(
        &bundle.objects,
        |o: &Object| &o.id,
        |o| o.modified.as_deref(),
    ) {
        seen.insert(&o.id);
        let h = hash(o);
        let rowid = match stored.get(&o.id) {
            Some(&(_, old, false)) if old == h => continue,
            Some(&(rowid, old, withdrawn)) => {
                if old != h {
                    history.execute(params![rowid, "changed", ts])?;
                }
                let _ = withdrawn;
                update.execute(params_from_iter(row_values(
                    rowid,
                    &o.id,
                    object_values(o, h),
                    ts,
                )))?;
                del_names.execute([rowid])?;
                del_obs.execute([rowid])?;
                del_fts.execute([rowid])?;
                report.changed += 1;
                rowid
            }
            None => {
                insert.execute(params_from_iter(row_values(
                    source_id,
                    &o.id,
                    object_values(o, h),
                    ts,
                )))?;
                report.added += 1;
                tx.last_insert_rowid()
            }
        };
        let mut norms: HashSet<String> = HashSet::new();
        let named = o.name.iter().map(|n| (n, "primary"));
        let aliases = o.aliases.iter().map(|n| (n, "alias"));
        let ids = o.external_id.iter().map(|n| (n, "id"));
        for (n, role) in named.chain(aliases).chain(ids) {
            let norm = normalize_name(n);
            if !norm.is_empty() && norms.insert(norm.clone()) {
                ins_name.execute(params![rowid, norm, n, role])?;
            }
        }
        for ob in &o.observables {
            ins_obs.execute(params![rowid, ob.kind.as_str(), ob.value])?;
        }
        if SEARCHABLE.contains(&o.kind.as_str()) {
            ins_fts.execute(params![rowid, o.name, o.aliases.join(" "), o.description])?;
        }
    }
    for (stix_id, (rowid, _, withdrawn)) in &stored {
        if !*withdrawn && !seen.contains(stix_id.as_str()) && withdraw.covers(stix_id) {
            history.execute(params![rowid, "withdrawn", ts])?;
            tx.execute(
                "UPDATE objects SET withdrawn_at = ?2 WHERE id = ?1",
                params![rowid, ts],
            )?;
            report.withdrawn += 1;
        }
    }
    Ok(())
}

pub(crate) fn write_relations(
    tx: &Transaction,
    source_id: i64,
    bundle: &Bundle,
    ts: &str,
    withdraw: &Withdraw,
    report: &mut IngestReport,
) -> Result<(), KbError> {
    let stored = stored_rows(
        tx,
        "relations",
        source_id,
        withdraw,
        bundle.relations.iter().map(|r| r.id.as_str()),
    )?;
    let mut insert = tx.prepare(&format!(
        "INSERT INTO relations(source_id, stix_id, {RELATION_COLS}, added_at, updated_at) \
         VALUES (?1, ?2, {}, ?16, ?16)",
        placeholders(3, 13)
    ))?;
    let mut update = tx.prepare(&format!(
        "UPDATE relations SET ({RELATION_COLS}, updated_at, withdrawn_at) = ({}, ?16, NULL) WHERE id = ?1",
        placeholders(3, 13)
    ))?;
    let mut history = tx.prepare(
        "INSERT INTO history(source_id, stix_id, change, raw, superseded_at, tlp) \
         SELECT source_id, stix_id, ?2, raw, ?3, tlp FROM relations WHERE id = ?1",
    )?;
    let mut seen: HashSet<&str> = HashSet::with_capacity(bundle.relations.len());
    // Relations carry no `modified` in the model: the first of duplicates wins.
    for r in latest(&bundle.relations, |r: &Relation| &r.id, |_| None) {
        seen.insert(&r.id);
        let h = hash(r);
        match stored.get(&r.id) {
            Some(&(_, old, false)) if old == h => {}
            Some(&(rowid, old, _)) => {
                if old != h {
                    history.execute(params![rowid, "changed", ts])?;
                }
                update.execute(params_from_iter(row_values(
                    rowid,
                    &r.id,
                    relation_values(r, h),
                    ts,
                )))?;
                report.changed += 1;
            }
            None => {
                insert.execute(params_from_iter(row_values(
                    source_id,
                    &r.id,
                    relation_values(r, h),
                    ts,
                )))?;
                report.added += 1;
            }
        }
    }
    for (stix_id, (rowid, _, withdrawn)) in &stored {
        if !*withdrawn && !seen.contains(stix_id.as_str()) && withdraw.covers(stix_id) {
            history.execute(params![rowid, "withdrawn", ts])?;
            tx.execute(
                "UPDATE relations SET withdrawn_at = ?2 WHERE id = ?1",
                params![rowid, ts],
            )?;
            report.withdrawn += 1;
        }
    }
    Ok(())
}
