//! Observations: passive DNS and TLS edges a sensor saw, one row per
//! (subject, relation, object, source) with integer first/last seen (ms)
//! and a count: `a.example resolves-to 192.0.2.1`, `192.0.2.1 serves
//! <certificate>`, `<certificate> san a.example`, `10.0.0.5 connects
//! 192.0.2.1` (Zeek `conn`; its summary is an `obs_conns` row, see
//! `conns.rs`, written in the same transaction).
//!
//! Values are interned once in `obs_values`, so an edge row is a handful of
//! integers (no JSON, no repeated text). The primary key walks outwards from
//! a subject, `observations_object` inwards to an object (the pivot asks
//! both "what did X point at" and "what else pointed at Y"), and a fan-out is
//! counted with `LIMIT cap` on either; the inward index covers the times, so
//! a hub's fan-out never reads the table.
//!
//! A source's observations are ingested whole, in one transaction,
//! differentially: a pair reported again gets the new times and count, a pair
//! no longer reported is marked withdrawn (never deleted), a withdrawn pair
//! reported again is re-activated. The marking (and reference, confidence)
//! of an ingest is the source's `obs_sources` row; `clearance.rs` shadows the
//! three tables by it.

use crate::errors::KbError;
use crate::ingest::{Begun, IngestReport, SourceWrite, bump_generation};
use crate::{LIST_KEY_BASE, Store};
use cairn_model::observe::{ObsEdge, ObsRelation, Observations};
use cairn_model::{Provenance, Tlp};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::HashMap;

/// One new edge row.
const INSERT_EDGE: &str = "INSERT INTO observations(subject, relation, object, source_id, \
     first_seen, last_seen, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Each value's row id in `obs_values`, in the order of `obs.values()`:
/// one lookup each, an insert for new ones.
fn intern_values(tx: &Transaction, obs: &Observations) -> Result<Vec<i64>, KbError> {
    let mut find = tx.prepare_cached("SELECT id FROM obs_values WHERE value = ?1 AND kind = ?2")?;
    let mut add = tx.prepare_cached("INSERT INTO obs_values(kind, value) VALUES (?1, ?2)")?;
    let mut ids: Vec<i64> = Vec::with_capacity(obs.values().len());
    for (kind, value) in obs.values() {
        let id = match find
            .query_row(params![value, kind.as_str()], |r| r.get(0))
            .optional()?
        {
            Some(id) => id,
            None => {
                add.execute(params![kind.as_str(), value])?;
                tx.last_insert_rowid()
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// A stored source's new edges against its stored ones: new pairs added,
/// changed ones updated (re-activated if withdrawn), pairs no longer reported
/// withdrawn at `ts_ms`. Returns (added, changed, withdrawn).
fn merge_edges(
    tx: &Transaction,
    source_id: i64,
    ts_ms: i64,
    edges: &[ObsEdge],
    ids: &[i64],
) -> Result<(usize, usize, usize), KbError> {
    let (mut added, mut changed) = (0, 0);
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS obs_stage(subject INTEGER, relation INTEGER, \
           object INTEGER, PRIMARY KEY (subject, relation, object)) WITHOUT ROWID; \
         DELETE FROM temp.obs_stage;",
    )?;
    let mut stage = tx.prepare_cached(
        "INSERT OR IGNORE INTO temp.obs_stage(subject, relation, object) VALUES (?1, ?2, ?3)",
    )?;
    let mut old = tx.prepare_cached(
        "SELECT first_seen, last_seen, count, withdrawn_at FROM observations \
         WHERE subject = ?1 AND relation = ?2 AND object = ?3 AND source_id = ?4",
    )?;
    let mut ins = tx.prepare_cached(INSERT_EDGE)?;
    let mut upd = tx.prepare_cached(
        "UPDATE observations SET first_seen = ?5, last_seen = ?6, count = ?7, withdrawn_at = NULL \
         WHERE subject = ?1 AND relation = ?2 AND object = ?3 AND source_id = ?4",
    )?;
    for e in edges {
        let (s, r, o) = (
            ids[e.subject as usize],
            e.relation.code(),
            ids[e.object as usize],
        );
        stage.execute(params![s, r, o])?;
        let prev: Option<(i64, i64, i64, Option<i64>)> = old
            .query_row(params![s, r, o, source_id], |x| {
                Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?))
            })
            .optional()?;
        let new = (e.first_ms, e.last_ms, e.count as i64, None);
        match prev {
            None => {
                ins.execute(params![s, r, o, source_id, new.0, new.1, new.2])?;
                added += 1;
            }
            Some(p) if p == new => {}
            Some(_) => {
                upd.execute(params![s, r, o, source_id, new.0, new.1, new.2])?;
                changed += 1;
            }
        }
    }
    let withdrawn = tx.execute(
        "UPDATE observations SET withdrawn_at = ?2 WHERE source_id = ?1 AND withdrawn_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM temp.obs_stage g WHERE g.subject = observations.subject \
           AND g.relation = observations.relation AND g.object = observations.object)",
        params![source_id, ts_ms],
    )?;
    tx.execute_batch("DELETE FROM temp.obs_stage;")?;
    Ok((added, changed, withdrawn))
}

/// Tables and indexes of schema step 6.
const V5_DDL: &str = r#"
CREATE TABLE obs_sources(
    source_id INTEGER PRIMARY KEY REFERENCES sources(id),
    reference TEXT,
    confidence INTEGER,
    tlp TEXT NOT NULL
);
CREATE TABLE obs_values(
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,          -- domain, address, certificate, x509-subject, …
    value TEXT NOT NULL
);
CREATE UNIQUE INDEX obs_values_value ON obs_values(value, kind);
CREATE TABLE observations(
    subject INTEGER NOT NULL,    -- obs_values.id
    relation INTEGER NOT NULL,   -- ObsRelation::code
    object INTEGER NOT NULL,     -- obs_values.id
    source_id INTEGER NOT NULL,
    first_seen INTEGER NOT NULL, -- milliseconds since the Unix epoch
    last_seen INTEGER NOT NULL,
    count INTEGER NOT NULL,
    withdrawn_at INTEGER,
    PRIMARY KEY (subject, relation, object, source_id)
) WITHOUT ROWID;
CREATE INDEX observations_object ON observations(object, relation, subject, source_id);
CREATE INDEX observations_source ON observations(source_id);
"#;

/// Distinct neighbours of `?1` active in [`?2`, `?3`), up to `?4` each way.
const FAN_OUT_SQL: &str = "SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT object FROM observations \
       WHERE subject = ?1 AND withdrawn_at IS NULL AND first_seen < ?3 AND last_seen >= ?2 LIMIT ?4)) \
     + (SELECT COUNT(*) FROM (SELECT DISTINCT subject FROM observations \
       WHERE object = ?1 AND withdrawn_at IS NULL AND first_seen < ?3 AND last_seen >= ?2 LIMIT ?4))";

/// Schema step: observation tables (see the module notes).
pub(crate) fn v5_to_v6_observations(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(V5_DDL)?;
    Ok(())
}

/// Schema step: `observations_object` also holds the subject first and the
/// times, so the inward fan-out of a hub (a shared-hosting address with
/// tens of thousands of names) is counted from the index alone, in subject
/// order: no lookup into the table per row and no temporary B-tree for
/// `DISTINCT` (68 ms → 5 ms for 18,755 names on a 10M-row store).
pub(crate) fn v9_to_v10_covering_object_index(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(
        "DROP INDEX observations_object; \
         CREATE INDEX observations_object ON observations\
           (object, subject, relation, source_id, first_seen, last_seen, withdrawn_at);",
    )?;
    Ok(())
}

/// What every observation of one ingest shares.
#[derive(Debug, Clone, Default)]
pub struct ObsHead {
    /// Source name (the sensor).
    pub source: String,
    /// Format it was read as (`zeek-dns`, `cof`, …).
    pub format: String,
    /// Reference, confidence and TLP of every edge (`source`, first/last
    /// seen are ignored: each edge has its own).
    pub prov: Provenance,
}

/// A stored observed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsNode {
    /// Row id in `obs_values`.
    pub id: i64,
    /// `domain`, `address`, `certificate`, …
    pub kind: String,
    /// The value.
    pub value: String,
}

/// One active stored edge, as one source reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsLink {
    /// Subject.
    pub subject: ObsNode,
    /// Relation (`resolves-to`, `serves`, …).
    pub relation: String,
    /// Object.
    pub object: ObsNode,
    /// First seen (ms since the epoch).
    pub first_ms: i64,
    /// Last seen (ms).
    pub last_ms: i64,
    /// Times seen.
    pub count: i64,
    /// The source that reported it.
    pub source: String,
}

/// A time window, half-open `[from_ms, to_ms)`: an edge is in it when its
/// seen range overlaps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObsWindow {
    /// Start (ms, inclusive).
    pub from_ms: i64,
    /// End (ms, exclusive).
    pub to_ms: i64,
}

impl ObsWindow {
    /// All time.
    pub const ALL: ObsWindow = ObsWindow {
        from_ms: i64::MIN,
        to_ms: i64::MAX,
    };
}

impl Store {
    /// Stores one source's observations in one transaction, differentially
    /// (see the module notes). `file` and `fingerprint` as for
    /// [`Store::ingest`].
    pub fn ingest_observations(
        &mut self,
        head: &ObsHead,
        obs: &Observations,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError> {
        let counted = |r: IngestReport| IngestReport {
            objects: obs.values().len(),
            relationships: obs.len(),
            ..r
        };
        let SourceWrite {
            tx,
            ts_ms,
            source_id,
            report,
        } = match self.begin_source_write(&head.source, &head.format, file, fingerprint)? {
            Begun::Unchanged(r) => return Ok(counted(r)),
            Begun::Write(w) => w,
        };
        let mut report = counted(report);
        let prov_changed = upsert_obs_source(&tx, source_id, &head.prov)?;
        let stored: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM observations WHERE source_id = ?1)",
            [source_id],
            |r| r.get(0),
        )?;

        let ids = intern_values(&tx, obs)?;
        let edges = obs.edges();
        if !stored {
            let mut ins = tx.prepare_cached(INSERT_EDGE)?;
            for e in &edges {
                ins.execute(params![
                    ids[e.subject as usize],
                    e.relation.code(),
                    ids[e.object as usize],
                    source_id,
                    e.first_ms,
                    e.last_ms,
                    e.count as i64
                ])?;
            }
            report.added = edges.len();
        } else {
            let (added, changed, withdrawn) = merge_edges(&tx, source_id, ts_ms, &edges, &ids)?;
            report.added = added;
            report.changed = changed;
            report.withdrawn = withdrawn;
        }
        // A summary that changed under an unchanged edge (same times and
        // count, other bytes or outcomes) is a change too.
        let conns = crate::conns::write_conns(&tx, source_id, obs, &ids, !stored)?;
        report.changed = report.changed.max(conns);
        if prov_changed {
            // Every active edge's statement changed with the marking they share.
            let active: i64 = tx.query_row(
                "SELECT COUNT(*) FROM observations WHERE source_id = ?1 AND withdrawn_at IS NULL",
                [source_id],
                |r| r.get(0),
            )?;
            report.changed = report.changed.max(active as usize);
        }
        if report.added + report.changed + report.withdrawn > 0 {
            bump_generation(&tx)?;
        } else if report.status == "updated" {
            // A new fingerprint that says nothing new.
            report.status = "unchanged".into();
        }
        tx.commit()?;
        Ok(report)
    }

    /// The stored observed values spelled `value` (of any kind) that an
    /// active (not withdrawn) observation names.
    pub fn obs_nodes(&self, value: &str) -> Result<Vec<ObsNode>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT v.id, v.kind, v.value FROM obs_values v WHERE v.value = ?1 \
             AND (EXISTS (SELECT 1 FROM observations o WHERE o.subject = v.id AND o.withdrawn_at IS NULL) \
               OR EXISTS (SELECT 1 FROM observations o WHERE o.object = v.id AND o.withdrawn_at IS NULL)) \
             ORDER BY v.id",
        )?;
        let rows = q.query_map([value], |r| {
            Ok(ObsNode {
                id: r.get(0)?,
                kind: r.get(1)?,
                value: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many distinct values node `id` has active edges with in `window`,
    /// counted up to `cap` in each direction (a hub is known to be one
    /// without reading all its edges).
    pub fn obs_fan_out(&self, id: i64, window: ObsWindow, cap: usize) -> Result<usize, KbError> {
        let cap = cap.min(i64::MAX as usize) as i64;
        let n: i64 = self
            .conn
            .prepare_cached(FAN_OUT_SQL)?
            .query_row(params![id, window.from_ms, window.to_ms, cap], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// Active edges of every stored node spelled `value` (of any kind), in
    /// `window`, at most `limit` per node and direction.
    pub fn obs_value_links(
        &self,
        value: &str,
        window: ObsWindow,
        limit: usize,
    ) -> Result<Vec<ObsLink>, KbError> {
        let mut out = Vec::new();
        for n in self.obs_nodes(value)? {
            out.extend(self.obs_links(n.id, window, limit)?);
        }
        Ok(out)
    }

    /// Active edges of node `id` in `window`, both directions, at most
    /// `limit` per direction.
    pub fn obs_links(
        &self,
        id: i64,
        window: ObsWindow,
        limit: usize,
    ) -> Result<Vec<ObsLink>, KbError> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut out = Vec::new();
        for side in ["subject", "object"] {
            let sql = format!(
                "SELECT o.subject, sv.kind, sv.value, o.relation, o.object, ov.kind, ov.value, \
                   o.first_seen, o.last_seen, o.count, s.name \
                 FROM (SELECT * FROM observations WHERE {side} = ?1 AND withdrawn_at IS NULL \
                   AND first_seen < ?3 AND last_seen >= ?2 LIMIT ?4) o \
                 JOIN obs_values sv ON sv.id = o.subject JOIN obs_values ov ON ov.id = o.object \
                 JOIN sources s ON s.id = o.source_id"
            );
            let mut q = self.conn.prepare_cached(&sql)?;
            let rows = q.query_map(params![id, window.from_ms, window.to_ms, limit], |r| {
                let code: i64 = r.get(3)?;
                Ok(ObsLink {
                    subject: ObsNode {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        value: r.get(2)?,
                    },
                    relation: ObsRelation::from_code(code)
                        .map_or_else(|| format!("relation-{code}"), |c| c.as_str().to_string()),
                    object: ObsNode {
                        id: r.get(4)?,
                        kind: r.get(5)?,
                        value: r.get(6)?,
                    },
                    first_ms: r.get(7)?,
                    last_ms: r.get(8)?,
                    count: r.get(9)?,
                    source: r.get(10)?,
                })
            })?;
            for l in rows {
                out.push(l?);
            }
        }
        Ok(out)
    }

    /// Domains first observed (as the subject of an answer: resolves-to,
    /// cname, ns, mx) at or after `since_ms`, with that first time, oldest
    /// first: the new names a sensor saw, for scoring.
    pub fn domains_first_seen_since(&self, since_ms: i64) -> Result<Vec<(String, i64)>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT v.value, MIN(o.first_seen) AS f FROM observations o \
             JOIN obs_values v ON v.id = o.subject \
             WHERE v.kind = 'domain' AND o.withdrawn_at IS NULL AND o.relation IN (?2, ?3, ?4, ?5) \
             GROUP BY o.subject HAVING f >= ?1 ORDER BY f, v.value",
        )?;
        let rows = q.query_map(
            params![
                since_ms,
                ObsRelation::ResolvesTo.code(),
                ObsRelation::Cname.code(),
                ObsRelation::Ns.code(),
                ObsRelation::Mx.code()
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every observing source's marking, by source name (what a judgement
    /// drawn from its observations must carry at least).
    pub fn obs_source_markings(&self) -> Result<HashMap<String, Tlp>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT s.name, o.tlp FROM obs_sources o JOIN sources s ON s.id = o.source_id",
        )?;
        let rows = q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = HashMap::new();
        for row in rows {
            let (name, tlp) = row?;
            out.insert(name, tlp.parse().unwrap_or(Tlp::Red));
        }
        Ok(out)
    }

    /// Whether any live indicator (a statement or a list value) holds a
    /// value of `kind` (`md5`, `authentihash`, …): a scanner computes only
    /// the hashes something could match. Each table is read until the
    /// first such value: whole, when there is none (once per scan).
    pub fn holds_indicator_kind(&self, kind: &str) -> Result<bool, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM observables ob JOIN objects o ON o.id = ob.object_id \
             WHERE ob.kind = ?1 AND o.kind = 'indicator' AND o.withdrawn_at IS NULL AND o.revoked = 0) \
             OR EXISTS(SELECT 1 FROM list_values WHERE kind = ?1 AND withdrawn_at IS NULL)",
        )?;
        Ok(q.query_row([kind], |r| r.get(0))?)
    }

    /// Keys of the active indicators whose value is `value` (objects and
    /// list values), for [`Store::indicator_context`].
    pub fn indicator_keys(&self, value: &str) -> Result<Vec<i64>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT o.id FROM observables ob JOIN objects o ON o.id = ob.object_id \
             WHERE ob.value = ?1 AND o.kind = 'indicator' AND o.withdrawn_at IS NULL AND o.revoked = 0 \
             UNION ALL SELECT id + ?2 FROM list_values WHERE value = ?1 AND withdrawn_at IS NULL",
        )?;
        let rows = q.query_map(params![value, LIST_KEY_BASE], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Writes the source's shared provenance; whether it differs from the stored one.
fn upsert_obs_source(tx: &Transaction, source_id: i64, prov: &Provenance) -> Result<bool, KbError> {
    type Shared = (Option<String>, Option<u8>, String);
    let new: Shared = (
        prov.reference.clone(),
        prov.confidence,
        prov.tlp.as_str().to_string(),
    );
    let old: Option<Shared> = tx
        .query_row(
            "SELECT reference, confidence, tlp FROM obs_sources WHERE source_id = ?1",
            [source_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if old.as_ref() == Some(&new) {
        return Ok(false);
    }
    tx.execute(
        "INSERT OR REPLACE INTO obs_sources(source_id, reference, confidence, tlp) VALUES (?1, ?2, ?3, ?4)",
        params![source_id, new.0, new.1, new.2],
    )?;
    Ok(old.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::Tlp;
    use cairn_model::observe::NodeKind;

    fn head(source: &str, tlp: Tlp) -> ObsHead {
        ObsHead {
            source: source.into(),
            format: "cof".into(),
            prov: Provenance {
                tlp,
                ..Default::default()
            },
        }
    }

    fn dns(pairs: &[(&str, &str, i64, i64, u64)]) -> Observations {
        let mut o = Observations::new();
        for (d, a, f, l, c) in pairs {
            o.add(
                (NodeKind::Domain, d),
                ObsRelation::ResolvesTo,
                (NodeKind::Address, a),
                *f,
                *l,
                *c,
            );
        }
        o
    }

    fn active(s: &Store, value: &str) -> Vec<(String, String, i64, i64, i64)> {
        let Some(n) = s.obs_nodes(value).unwrap().into_iter().next() else {
            return Vec::new();
        };
        let mut v: Vec<_> = s
            .obs_links(n.id, ObsWindow::ALL, 100)
            .unwrap()
            .into_iter()
            .map(|l| {
                (
                    l.subject.value,
                    l.object.value,
                    l.first_ms,
                    l.last_ms,
                    l.count,
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn reingest_updates_withdraws_and_restores() {
        let mut s = Store::open_in_memory().unwrap();
        let h = head("sensor-1", Tlp::Green);
        let r = s
            .ingest_observations(
                &h,
                &dns(&[
                    ("a.example", "192.0.2.1", 10, 20, 2),
                    ("b.example", "192.0.2.1", 5, 5, 1),
                ]),
                None,
                None,
            )
            .unwrap();
        assert_eq!((r.status.as_str(), r.added, r.withdrawn), ("new", 2, 0));
        let g = s.generation().unwrap();
        // Same pairs again: nothing changes.
        let r = s
            .ingest_observations(
                &h,
                &dns(&[
                    ("a.example", "192.0.2.1", 10, 20, 2),
                    ("b.example", "192.0.2.1", 5, 5, 1),
                ]),
                None,
                None,
            )
            .unwrap();
        assert_eq!(
            (r.status.as_str(), r.added, r.changed, r.withdrawn),
            ("unchanged", 0, 0, 0)
        );
        assert_eq!(s.generation().unwrap(), g);
        // a.example seen more, b.example no longer reported.
        let r = s
            .ingest_observations(
                &h,
                &dns(&[("a.example", "192.0.2.1", 10, 40, 5)]),
                None,
                None,
            )
            .unwrap();
        assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 1));
        assert_eq!(
            active(&s, "192.0.2.1"),
            vec![("a.example".into(), "192.0.2.1".into(), 10, 40, 5)]
        );
        // Withdrawn, not deleted.
        let rows: i64 = s
            .conn
            .query_row(
                "SELECT COUNT(*) FROM observations WHERE withdrawn_at IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 1);
        // Reported again: re-activated.
        let r = s
            .ingest_observations(
                &h,
                &dns(&[
                    ("a.example", "192.0.2.1", 10, 40, 5),
                    ("b.example", "192.0.2.1", 5, 5, 1),
                ]),
                None,
                None,
            )
            .unwrap();
        assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 0));
        assert_eq!(active(&s, "b.example").len(), 1);
        // Another source's word on the same pair is its own row.
        s.ingest_observations(
            &head("sensor-2", Tlp::Green),
            &dns(&[("a.example", "192.0.2.1", 1, 2, 1)]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(active(&s, "a.example").len(), 2);
        assert_eq!(
            s.obs_fan_out(s.obs_nodes("192.0.2.1").unwrap()[0].id, ObsWindow::ALL, 10)
                .unwrap(),
            2
        );
    }

    #[test]
    fn a_restricted_reader_sees_no_observation_above_its_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut s = Store::open(&path).unwrap();
        s.ingest_observations(
            &head("open sensor", Tlp::Green),
            &dns(&[("open.example", "192.0.2.7", 1, 2, 1)]),
            None,
            None,
        )
        .unwrap();
        s.ingest_observations(
            &head("zqsecret sensor", Tlp::Red),
            &dns(&[("zqsecret.example", "192.0.2.7", 1, 2, 1)]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(active(&s, "192.0.2.7").len(), 2);
        let mut r = Store::open(&path).unwrap();
        r.restrict(Tlp::Amber).unwrap();
        assert_eq!(
            active(&r, "192.0.2.7"),
            vec![("open.example".into(), "192.0.2.7".into(), 1, 2, 1)]
        );
        assert!(r.obs_nodes("zqsecret.example").unwrap().is_empty());
        for t in ["observations", "obs_values", "obs_sources", "sources"] {
            let n: i64 = r
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |x| x.get(0))
                .unwrap();
            let hidden: i64 = s
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |x| x.get(0))
                .unwrap();
            assert!(n < hidden, "{t}: {n} of {hidden} visible");
        }
        assert!(
            r.ingest_observations(&head("x", Tlp::Clear), &dns(&[]), None, None)
                .is_err()
        );
    }
    #[test]
    fn a_hubs_inward_fan_out_is_read_from_the_index_alone() {
        let mut s = Store::open_in_memory().unwrap();
        let names: Vec<String> = (0..60).map(|i| format!("n{i}.example")).collect();
        let pairs: Vec<(&str, &str, i64, i64, u64)> = names
            .iter()
            .map(|n| (n.as_str(), "198.51.100.7", 10, 20, 1))
            .collect();
        s.ingest_observations(&head("pdns", Tlp::Green), &dns(&pairs), None, None)
            .unwrap();
        let hub = s.obs_nodes("198.51.100.7").unwrap()[0].id;
        assert_eq!(s.obs_fan_out(hub, ObsWindow::ALL, 100_000).unwrap(), 60);
        assert_eq!(s.obs_fan_out(hub, ObsWindow::ALL, 51).unwrap(), 51);
        let plan: Vec<String> = s
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {FAN_OUT_SQL}"))
            .unwrap()
            .query_map(params![hub, 0, i64::MAX, 100_000], |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // The inward side: one covering-index range in subject order, so no
        // row lookups and no temporary B-tree however many names a hub has.
        let inward: Vec<&String> = plan.iter().filter(|l| l.contains("(object=?)")).collect();
        assert_eq!(inward.len(), 1, "{plan:?}");
        assert!(
            inward[0].contains("COVERING INDEX observations_object"),
            "{plan:?}"
        );
        assert_eq!(
            plan.iter().filter(|l| l.contains("TEMP B-TREE")).count(),
            1,
            "only the outward side may sort: {plan:?}"
        );
    }
}
