//! The embedded store's answers to [`ActorRows`]: the reads actor
//! resolution and profiles are built from, in SQLite's SQL.

use crate::Store;
use crate::actor_rows::{
    ActorQuery, ActorRows, CampaignRow, IndicatorCountRow, TargetRow, UsesRow,
};
use crate::errors::KbError;
use crate::rows::{OBJECT_COLUMNS, object_from_row};
use cairn_model::Object;
use rusqlite::params_from_iter;
use std::collections::{BTreeSet, HashMap};

/// `?, ?, …` for `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

impl ActorRows for Store {
    fn actor_rows(&self, by: ActorQuery<'_>) -> Result<Vec<(i64, Object)>, KbError> {
        let (where_sql, args): (String, Vec<String>) = match by {
            ActorQuery::StixId(id) => ("o.stix_id = ?".into(), vec![id.to_string()]),
            ActorQuery::Norm(n) => (
                "o.id IN (SELECT object_id FROM names WHERE norm = ?)".into(),
                vec![n.to_string()],
            ),
            ActorQuery::Replacing(ids) => (
                format!(
                    "o.stix_id IN (SELECT tgt_ref FROM relations WHERE rel_type = 'revoked-by' \
                     AND withdrawn_at IS NULL AND src_ref IN ({}))",
                    marks(ids.len())
                ),
                ids.to_vec(),
            ),
            ActorQuery::Named(norms) => (
                format!(
                    "o.revoked = 0 AND o.id IN (SELECT object_id FROM names WHERE norm IN ({}))",
                    marks(norms.len())
                ),
                norms.iter().cloned().collect(),
            ),
        };
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE o.kind = 'intrusion-set' AND o.withdrawn_at IS NULL AND {where_sql}"
        );
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(params_from_iter(args.iter()), object_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn norms_of(&self, rowids: &[i64]) -> Result<HashMap<i64, BTreeSet<String>>, KbError> {
        let mut out: HashMap<i64, BTreeSet<String>> = HashMap::new();
        let mut q = self
            .conn
            .prepare("SELECT norm FROM names WHERE object_id = ?1")?;
        for id in rowids {
            let names = q.query_map([id], |r| r.get::<_, String>(0))?;
            out.insert(*id, names.collect::<Result<_, _>>()?);
        }
        Ok(out)
    }

    fn actor_name_rows(&self) -> Result<Vec<(String, String)>, KbError> {
        let mut q = self.conn.prepare(
            "SELECT DISTINCT n.norm, n.name FROM names n JOIN objects o ON o.id = n.object_id \
             WHERE o.kind = 'intrusion-set' AND o.withdrawn_at IS NULL",
        )?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn uses_rows(&self, ids: &[String]) -> Result<Vec<UsesRow>, KbError> {
        // Follow `revoked-by` one step so old technique ids land on their replacement.
        let sql = format!(
            "SELECT COALESCE(rt.kind, t.kind), COALESCE(rt.external_id, t.external_id), COALESCE(rt.name, t.name), \
                    COALESCE(rt.tactics, t.tactics), s.name \
             FROM relations r JOIN sources s ON s.id = r.source_id \
             JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
             LEFT JOIN relations rb ON t.revoked = 1 AND rb.src_ref = t.stix_id AND rb.rel_type = 'revoked-by' \
                  AND rb.withdrawn_at IS NULL \
             LEFT JOIN objects rt ON rt.stix_id = rb.tgt_ref AND rt.withdrawn_at IS NULL \
             WHERE r.rel_type = 'uses' AND r.withdrawn_at IS NULL AND r.revoked = 0 AND r.deprecated = 0 \
               AND r.src_ref IN ({}) AND t.kind IN ('attack-pattern', 'malware', 'tool') \
               AND (t.revoked = 0 OR rt.id IS NOT NULL) AND COALESCE(rt.deprecated, t.deprecated) = 0",
            marks(ids.len())
        );
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(params_from_iter(ids.iter()), |r| {
            Ok(UsesRow {
                kind: r.get(0)?,
                external_id: r.get(1)?,
                name: r.get(2)?,
                tactics: r.get(3)?,
                source: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn campaign_rows(&self, ids: &[String]) -> Result<Vec<CampaignRow>, KbError> {
        let sql = format!(
            "SELECT c.external_id, c.name, c.first_seen, c.last_seen, s.name \
             FROM relations r JOIN sources s ON s.id = r.source_id \
             JOIN objects c ON c.stix_id = r.src_ref AND c.kind = 'campaign' AND c.withdrawn_at IS NULL \
             WHERE r.rel_type = 'attributed-to' AND r.withdrawn_at IS NULL AND r.revoked = 0 AND r.tgt_ref IN ({})",
            marks(ids.len())
        );
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(params_from_iter(ids.iter()), |r| {
            Ok(CampaignRow {
                external_id: r.get(0)?,
                name: r.get(1)?,
                first_seen: r.get(2)?,
                last_seen: r.get(3)?,
                source: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn target_rows(&self, ids: &[String]) -> Result<Vec<TargetRow>, KbError> {
        let sql = format!(
            "SELECT t.kind, t.country, t.sectors, s.name \
             FROM relations r JOIN sources s ON s.id = r.source_id \
             JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
             WHERE r.rel_type = 'targets' AND r.withdrawn_at IS NULL AND r.src_ref IN ({}) \
               AND t.kind IN ('location', 'identity')",
            marks(ids.len())
        );
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(params_from_iter(ids.iter()), |r| {
            Ok(TargetRow {
                kind: r.get(0)?,
                country: r.get(1)?,
                sectors: r.get(2)?,
                source: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn indicator_rows(&self, ids: &[String]) -> Result<Vec<IndicatorCountRow>, KbError> {
        // Numbered, so list values (whose list indicates a member) can use them too.
        let marks = (1..=ids.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let base = crate::LIST_KEY_BASE;
        let sql = format!(
            "WITH ind AS (SELECT DISTINCT i.id, i.first_seen, i.last_seen FROM relations r \
                JOIN objects i ON i.stix_id = r.src_ref AND i.kind = 'indicator' AND i.withdrawn_at IS NULL \
                WHERE r.rel_type = 'indicates' AND r.withdrawn_at IS NULL AND r.tgt_ref IN ({marks})), \
             lv AS (SELECT v.id + {base} AS id, v.kind, v.value FROM list_values v \
                JOIN list_sources ls ON ls.source_id = v.source_id \
                WHERE v.withdrawn_at IS NULL AND ls.actor_ref IN ({marks})), \
             vals AS (SELECT ob.kind, ob.value, ind.first_seen, ind.last_seen \
                FROM ind JOIN observables ob ON ob.object_id = ind.id \
                UNION ALL SELECT kind, value, NULL, NULL FROM lv) \
             SELECT kind, COUNT(DISTINCT value), MIN(first_seen), MAX(last_seen), \
                (SELECT COALESCE(SUM(count), 0) FROM sightings WHERE object_id IN (SELECT id FROM ind) \
                   OR object_id IN (SELECT id FROM lv)) \
             FROM vals GROUP BY kind"
        );
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(params_from_iter(ids.iter()), |r| {
            Ok(IndicatorCountRow {
                kind: r.get(0)?,
                values: r.get(1)?,
                first_seen: r.get(2)?,
                last_seen: r.get(3)?,
                sightings: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
