//! Connection summaries (Zeek `conn`): beside each `connects` edge of
//! `observations` (originator address → responder address, one source), one
//! `obs_conns` row with what a behaviour judgement needs — connections,
//! established and failed, payload bytes each way, responder ports, the
//! gaps between starts (count, mean, Welford's M2), and Zeek's
//! `local_orig`/`local_resp` when logged.
//!
//! The row lives and dies with its edge: it is written in the same
//! transaction as the edges (`ingest_observations`), and readers see it only
//! while the edge is active, so a pair withdrawn by a later version of the
//! source disappears with its summary. `clearance.rs` shadows the table by
//! its source's marking, like the edges.

use crate::Store;
use crate::errors::KbError;
use cairn_model::observe::{ConnSummary, ObsRelation, Observations};
use rusqlite::{OptionalExtension, Row, Transaction, params};

/// Tables and indexes of schema step 8.
const CONN_DDL: &str = r#"
CREATE TABLE obs_conns(
    orig INTEGER NOT NULL,           -- obs_values.id of the originator
    resp INTEGER NOT NULL,           -- obs_values.id of the responder
    source_id INTEGER NOT NULL,
    connections INTEGER NOT NULL,
    established INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    orig_bytes INTEGER NOT NULL,
    resp_bytes INTEGER NOT NULL,
    ports TEXT NOT NULL,             -- distinct responder ports, comma-separated
    ports_more INTEGER NOT NULL,     -- 1 when more were seen than kept
    intervals INTEGER NOT NULL,      -- gaps between successive starts
    interval_mean REAL NOT NULL,     -- ms
    interval_m2 REAL NOT NULL,       -- Welford's sum of squared deviations
    last_start INTEGER NOT NULL,     -- ms
    local_orig INTEGER,              -- Zeek's flags, NULL when not logged
    local_resp INTEGER,
    PRIMARY KEY (orig, resp, source_id)
) WITHOUT ROWID;
CREATE INDEX obs_conns_resp ON obs_conns(resp, orig, source_id);
"#;

/// Schema step: connection summaries (see the module notes).
pub(crate) fn v7_to_v8_conns(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(CONN_DDL)?;
    Ok(())
}

const COLUMNS: &str = "connections, established, failed, orig_bytes, resp_bytes, ports, \
     ports_more, intervals, interval_mean, interval_m2, last_start, local_orig, local_resp";

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A summary from the 13 columns of [`COLUMNS`] starting at `at`.
fn summary(r: &Row, at: usize) -> rusqlite::Result<ConnSummary> {
    let count = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(at + i)?.max(0) as u64) };
    let ports: String = r.get(at + 5)?;
    Ok(ConnSummary {
        connections: count(0)?,
        established: count(1)?,
        failed: count(2)?,
        orig_bytes: count(3)?,
        resp_bytes: count(4)?,
        ports: ports.split(',').filter_map(|p| p.parse().ok()).collect(),
        ports_more: r.get(at + 6)?,
        intervals: count(7)?,
        interval_mean_ms: r.get(at + 8)?,
        interval_m2: r.get(at + 9)?,
        last_start_ms: r.get(at + 10)?,
        local_orig: r.get(at + 11)?,
        local_resp: r.get(at + 12)?,
    })
}

/// Writes the summaries of `obs` for `source_id` (`ids`: the values' row
/// ids); with `fresh`, the source had none stored. Returns how many stored
/// summaries changed (new ones belong to new edges, counted as added).
pub(crate) fn write_conns(
    tx: &Transaction,
    source_id: i64,
    obs: &Observations,
    ids: &[i64],
    fresh: bool,
) -> Result<usize, KbError> {
    let mut old = tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM obs_conns WHERE orig = ?1 AND resp = ?2 AND source_id = ?3"
    ))?;
    let mut put = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO obs_conns(orig, resp, source_id, {COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))?;
    let mut changed = 0;
    for (o, r, c) in obs.conns() {
        let (o, r) = (ids[o as usize], ids[r as usize]);
        if !fresh {
            let prev = old
                .query_row(params![o, r, source_id], |x| summary(x, 0))
                .optional()?;
            match prev {
                Some(p) if &p == c => continue,
                Some(_) => changed += 1,
                None => {}
            }
        }
        let ports: Vec<String> = c.ports.iter().map(u16::to_string).collect();
        put.execute(params![
            o,
            r,
            source_id,
            int(c.connections),
            int(c.established),
            int(c.failed),
            int(c.orig_bytes),
            int(c.resp_bytes),
            ports.join(","),
            c.ports_more,
            int(c.intervals),
            c.interval_mean_ms,
            c.interval_m2,
            c.last_start_ms,
            c.local_orig,
            c.local_resp,
        ])?;
    }
    Ok(changed)
}

/// Which end of the connections an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnSide {
    /// The address opened them (originator).
    Originated,
    /// The address answered them (responder).
    Answered,
}

/// One active stored connection summary, as one source reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnLink {
    /// Originator address.
    pub orig: String,
    /// Responder address.
    pub resp: String,
    /// The source that reported it.
    pub source: String,
    /// First connection's start (ms since the epoch).
    pub first_ms: i64,
    /// Last connection's end (ms).
    pub last_ms: i64,
    /// What the connections add up to.
    pub summary: ConnSummary,
}

impl Store {
    /// The active connection summaries where `address` (as stored:
    /// canonical text) is on `side`, at most `limit`, in the order of the
    /// other end's row id (stable across calls).
    pub fn obs_conns(
        &self,
        address: &str,
        side: ConnSide,
        limit: usize,
    ) -> Result<Vec<ConnLink>, KbError> {
        let (mine, other) = match side {
            ConnSide::Originated => ("orig", "resp"),
            ConnSide::Answered => ("resp", "orig"),
        };
        let cols: String = COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT ov.value, rv.value, s.name, o.first_seen, o.last_seen, {cols} \
             FROM obs_values a JOIN obs_conns c ON c.{mine} = a.id \
             JOIN observations o ON o.subject = c.orig AND o.relation = ?2 AND o.object = c.resp \
               AND o.source_id = c.source_id AND o.withdrawn_at IS NULL \
             JOIN obs_values ov ON ov.id = c.orig JOIN obs_values rv ON rv.id = c.resp \
             JOIN sources s ON s.id = c.source_id \
             WHERE a.value = ?1 AND a.kind = 'address' ORDER BY c.{other}, c.source_id LIMIT ?3"
        );
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q.query_map(params![address, ObsRelation::Connects.code(), limit], |r| {
            Ok(ConnLink {
                orig: r.get(0)?,
                resp: r.get(1)?,
                source: r.get(2)?,
                first_ms: r.get(3)?,
                last_ms: r.get(4)?,
                summary: summary(r, 5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObsHead;
    use cairn_model::observe::{ConnOutcome, ConnRecord};
    use cairn_model::{Provenance, Tlp};

    fn head(source: &str, tlp: Tlp) -> ObsHead {
        ObsHead {
            source: source.into(),
            format: "zeek-conn".into(),
            prov: Provenance {
                tlp,
                ..Default::default()
            },
        }
    }

    /// `n` connections from each of `clients` to `server`, every `gap` ms.
    fn beacons(clients: &[&str], server: &str, n: i64, gap: i64, bytes: u64) -> Observations {
        let mut o = Observations::new();
        for c in clients {
            for i in 0..n {
                o.add_conn(
                    c,
                    server,
                    &ConnRecord {
                        start_ms: i * gap,
                        duration_ms: 10,
                        resp_port: Some(443),
                        orig_bytes: bytes,
                        resp_bytes: bytes,
                        outcome: ConnOutcome::Established,
                        local_orig: Some(true),
                        local_resp: None,
                    },
                );
            }
        }
        o
    }

    fn counts(s: &Store, a: &str, side: ConnSide) -> Vec<(String, String, u64, u64)> {
        s.obs_conns(a, side, 100)
            .unwrap()
            .into_iter()
            .map(|l| (l.orig, l.resp, l.summary.connections, l.summary.orig_bytes))
            .collect()
    }

    #[test]
    fn summaries_round_trip_change_and_leave_with_their_edge() {
        let mut s = Store::open_in_memory().unwrap();
        let h = head("sensor-1", Tlp::Green);
        let first = beacons(&["10.0.0.1", "10.0.0.2"], "198.51.100.9", 5, 60_000, 100);
        let r = s.ingest_observations(&h, &first, None, None).unwrap();
        assert_eq!((r.added, r.changed), (2, 0));
        let got = s
            .obs_conns("198.51.100.9", ConnSide::Answered, 100)
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            &got[0].summary,
            first.conn("10.0.0.1", "198.51.100.9").unwrap()
        );
        assert_eq!((got[0].first_ms, got[0].last_ms), (0, 240_010));
        assert_eq!(got[0].source, "sensor-1");
        assert_eq!(
            counts(&s, "10.0.0.2", ConnSide::Originated),
            vec![("10.0.0.2".into(), "198.51.100.9".into(), 5, 500)]
        );
        assert!(counts(&s, "10.0.0.2", ConnSide::Answered).is_empty());
        // Same edges, other bytes: a change; the second client gone: withdrawn.
        let g = s.generation().unwrap();
        let second = beacons(&["10.0.0.1"], "198.51.100.9", 5, 60_000, 7);
        let r = s.ingest_observations(&h, &second, None, None).unwrap();
        assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 1));
        assert!(s.generation().unwrap() > g);
        assert_eq!(
            counts(&s, "198.51.100.9", ConnSide::Answered),
            vec![("10.0.0.1".into(), "198.51.100.9".into(), 5, 35)]
        );
        // Unchanged input: nothing written.
        let r = s.ingest_observations(&h, &second, None, None).unwrap();
        assert_eq!((r.status.as_str(), r.changed), ("unchanged", 0));
    }

    #[test]
    fn a_restricted_reader_sees_only_summaries_at_its_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut s = Store::open(&path).unwrap();
        let o = beacons(&["10.0.0.1"], "198.51.100.9", 3, 1000, 1);
        s.ingest_observations(&head("open", Tlp::Green), &o, None, None)
            .unwrap();
        s.ingest_observations(&head("secret", Tlp::Red), &o, None, None)
            .unwrap();
        assert_eq!(counts(&s, "10.0.0.1", ConnSide::Originated).len(), 2);
        let mut r = Store::open(&path).unwrap();
        r.restrict(Tlp::Amber).unwrap();
        let seen = r.obs_conns("10.0.0.1", ConnSide::Originated, 10).unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].source, "open");
        let rows: i64 = r
            .conn
            .query_row("SELECT COUNT(*) FROM obs_conns", [], |x| x.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }
}
