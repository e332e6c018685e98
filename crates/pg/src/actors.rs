//! The database's answers to kb's [`ActorRows`]: the reads actor
//! resolution and profiles are built from. The resolution and the profile
//! themselves are kb's (`cairn_kb::backend::build_profile`), so both
//! backends name and describe an actor alike. Under a restricted
//! connection, row-level security filters every read here.

use crate::PgStore;
use crate::errors::PgError;
use cairn_kb::LIST_KEY_BASE;
use cairn_kb::backend::{
    ActorQuery, ActorRows, CampaignRow, IndicatorCountRow, TargetRow, UsesRow,
};
use cairn_kb::errors::KbError;
use cairn_model::{Object, Provenance, Tlp};
use sqlx::Row;
use sqlx::postgres::PgRow;
use std::collections::{BTreeSet, HashMap};

/// A text column that may be NULL.
type Text = Option<String>;

/// What [`object_row`] reads, in order.
const OBJECT_COLUMNS: &str = "o.id, s.name, o.stix_id, o.kind, o.name, o.description, \
     o.external_id, o.created, o.modified, o.revoked, o.deprecated, o.country, o.valid_until, \
     o.aliases, o.tactics, o.labels, o.sectors, o.refs, o.reference, o.first_seen, o.last_seen, \
     o.confidence, o.tlp";

fn list(r: &PgRow, i: usize) -> Result<Vec<String>, sqlx::Error> {
    let s: String = r.try_get(i)?;
    Ok(serde_json::from_str(&s).unwrap_or_default())
}

/// An object as the embedded store reads it back (its row id first).
fn object_row(r: &PgRow) -> Result<(i64, Object), sqlx::Error> {
    let tlp: String = r.try_get(22)?;
    let confidence: Option<i32> = r.try_get(21)?;
    Ok((
        r.try_get(0)?,
        Object {
            prov: Provenance {
                source: r.try_get(1)?,
                reference: r.try_get(18)?,
                first_seen: r.try_get(19)?,
                last_seen: r.try_get(20)?,
                confidence: confidence.and_then(|c| u8::try_from(c).ok()),
                tlp: tlp.parse().unwrap_or(Tlp::Red),
            },
            id: r.try_get(2)?,
            kind: r.try_get(3)?,
            name: r.try_get(4)?,
            description: r.try_get(5)?,
            external_id: r.try_get(6)?,
            created: r.try_get(7)?,
            modified: r.try_get(8)?,
            revoked: r.try_get(9)?,
            deprecated: r.try_get(10)?,
            country: r.try_get(11)?,
            valid_until: r.try_get(12)?,
            aliases: list(r, 13)?,
            tactics: list(r, 14)?,
            labels: list(r, 15)?,
            sectors: list(r, 16)?,
            references: list(r, 17)?,
            ..Object::default()
        },
    ))
}

impl PgStore {
    fn actor_rows_pg(&self, by: ActorQuery<'_>) -> Result<Vec<(i64, Object)>, PgError> {
        let (filter, args): (&str, Vec<String>) = match by {
            ActorQuery::StixId(id) => ("o.stix_id = ANY($1)", vec![id.to_string()]),
            ActorQuery::Norm(n) => (
                "o.id IN (SELECT object_id FROM names WHERE norm = ANY($1))",
                vec![n.to_string()],
            ),
            ActorQuery::Replacing(ids) => (
                "o.stix_id IN (SELECT tgt_ref FROM relations WHERE rel_type = 'revoked-by' \
                 AND withdrawn_at IS NULL AND src_ref = ANY($1))",
                ids.to_vec(),
            ),
            ActorQuery::Named(norms) => (
                "NOT o.revoked AND o.id IN (SELECT object_id FROM names WHERE norm = ANY($1))",
                norms.iter().cloned().collect(),
            ),
        };
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE o.kind = 'intrusion-set' AND o.withdrawn_at IS NULL AND {filter}"
        );
        self.run(async |c| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&args)
                .fetch_all(&mut *c)
                .await?;
            Ok(rows.iter().map(object_row).collect::<Result<_, _>>()?)
        })
    }

    fn norms_of_pg(&self, rowids: &[i64]) -> Result<HashMap<i64, BTreeSet<String>>, PgError> {
        let rows: Vec<(i64, String)> = self.run(async |c| {
            Ok(
                sqlx::query_as("SELECT object_id, norm FROM names WHERE object_id = ANY($1)")
                    .bind(rowids)
                    .fetch_all(&mut *c)
                    .await?,
            )
        })?;
        let mut out: HashMap<i64, BTreeSet<String>> =
            rowids.iter().map(|id| (*id, BTreeSet::new())).collect();
        for (id, norm) in rows {
            out.entry(id).or_default().insert(norm);
        }
        Ok(out)
    }

    fn uses_rows_pg(&self, ids: &[String]) -> Result<Vec<UsesRow>, PgError> {
        // Follow `revoked-by` one step so old technique ids land on their replacement.
        let rows: Vec<(String, Text, Text, String, String)> = self.run(async |c| {
            Ok(sqlx::query_as(
                "SELECT COALESCE(rt.kind, t.kind), COALESCE(rt.external_id, t.external_id), \
                        COALESCE(rt.name, t.name), COALESCE(rt.tactics, t.tactics), s.name \
                     FROM relations r JOIN sources s ON s.id = r.source_id \
                     JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
                     LEFT JOIN relations rb ON t.revoked AND rb.src_ref = t.stix_id \
                          AND rb.rel_type = 'revoked-by' AND rb.withdrawn_at IS NULL \
                     LEFT JOIN objects rt ON rt.stix_id = rb.tgt_ref AND rt.withdrawn_at IS NULL \
                     WHERE r.rel_type = 'uses' AND r.withdrawn_at IS NULL AND NOT r.revoked \
                       AND NOT r.deprecated AND r.src_ref = ANY($1) \
                       AND t.kind IN ('attack-pattern', 'malware', 'tool') \
                       AND (NOT t.revoked OR rt.id IS NOT NULL) \
                       AND NOT COALESCE(rt.deprecated, t.deprecated)",
            )
            .bind(ids)
            .fetch_all(&mut *c)
            .await?)
        })?;
        Ok(rows
            .into_iter()
            .map(|(kind, external_id, name, tactics, source)| UsesRow {
                kind,
                external_id,
                name,
                tactics,
                source,
            })
            .collect())
    }

    fn campaign_rows_pg(&self, ids: &[String]) -> Result<Vec<CampaignRow>, PgError> {
        let rows: Vec<(Text, Text, Text, Text, String)> = self.run(async |c| {
            Ok(sqlx::query_as(
                "SELECT c.external_id, c.name, c.first_seen, c.last_seen, s.name \
                 FROM relations r JOIN sources s ON s.id = r.source_id \
                 JOIN objects c ON c.stix_id = r.src_ref AND c.kind = 'campaign' \
                      AND c.withdrawn_at IS NULL \
                 WHERE r.rel_type = 'attributed-to' AND r.withdrawn_at IS NULL AND NOT r.revoked \
                   AND r.tgt_ref = ANY($1)",
            )
            .bind(ids)
            .fetch_all(&mut *c)
            .await?)
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(external_id, name, first_seen, last_seen, source)| CampaignRow {
                    external_id,
                    name,
                    first_seen,
                    last_seen,
                    source,
                },
            )
            .collect())
    }

    fn target_rows_pg(&self, ids: &[String]) -> Result<Vec<TargetRow>, PgError> {
        let rows: Vec<(String, Option<String>, String, String)> = self.run(async |c| {
            Ok(sqlx::query_as(
                "SELECT t.kind, t.country, t.sectors, s.name \
                 FROM relations r JOIN sources s ON s.id = r.source_id \
                 JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
                 WHERE r.rel_type = 'targets' AND r.withdrawn_at IS NULL AND r.src_ref = ANY($1) \
                   AND t.kind IN ('location', 'identity')",
            )
            .bind(ids)
            .fetch_all(&mut *c)
            .await?)
        })?;
        Ok(rows
            .into_iter()
            .map(|(kind, country, sectors, source)| TargetRow {
                kind,
                country,
                sectors,
                source,
            })
            .collect())
    }

    fn indicator_rows_pg(&self, ids: &[String]) -> Result<Vec<IndicatorCountRow>, PgError> {
        let rows: Vec<(String, i64, Text, Text, i64)> =
            self.run(async |c| {
                Ok(sqlx::query_as(
                    "WITH ind AS (SELECT DISTINCT i.id, i.first_seen, i.last_seen FROM relations r \
                        JOIN objects i ON i.stix_id = r.src_ref AND i.kind = 'indicator' \
                             AND i.withdrawn_at IS NULL \
                        WHERE r.rel_type = 'indicates' AND r.withdrawn_at IS NULL \
                          AND r.tgt_ref = ANY($1)), \
                     lv AS (SELECT v.id + $2 AS id, v.kind, v.value FROM list_values v \
                        JOIN list_sources ls ON ls.source_id = v.source_id \
                        WHERE v.withdrawn_at IS NULL AND ls.actor_ref = ANY($1)), \
                     vals AS (SELECT ob.kind, ob.value, ind.first_seen, ind.last_seen \
                        FROM ind JOIN observables ob ON ob.object_id = ind.id \
                        UNION ALL SELECT kind, value, NULL, NULL FROM lv) \
                     SELECT kind, COUNT(DISTINCT value), MIN(first_seen), MAX(last_seen), \
                        (SELECT COALESCE(SUM(count), 0)::BIGINT FROM sightings \
                         WHERE object_id IN (SELECT id FROM ind) OR object_id IN (SELECT id FROM lv)) \
                     FROM vals GROUP BY kind",
                )
                .bind(ids)
                .bind(LIST_KEY_BASE)
                .fetch_all(&mut *c)
                .await?)
            })?;
        Ok(rows
            .into_iter()
            .map(
                |(kind, values, first_seen, last_seen, sightings)| IndicatorCountRow {
                    kind,
                    values,
                    first_seen,
                    last_seen,
                    sightings,
                },
            )
            .collect())
    }
}

impl ActorRows for PgStore {
    fn actor_rows(&self, by: ActorQuery<'_>) -> Result<Vec<(i64, Object)>, KbError> {
        Ok(self.actor_rows_pg(by)?)
    }
    fn norms_of(&self, rowids: &[i64]) -> Result<HashMap<i64, BTreeSet<String>>, KbError> {
        Ok(self.norms_of_pg(rowids)?)
    }
    fn actor_name_rows(&self) -> Result<Vec<(String, String)>, KbError> {
        Ok(self.run(async |c| {
            Ok(sqlx::query_as(
                "SELECT DISTINCT n.norm, n.name FROM names n JOIN objects o ON o.id = n.object_id \
                 WHERE o.kind = 'intrusion-set' AND o.withdrawn_at IS NULL",
            )
            .fetch_all(&mut *c)
            .await?)
        })?)
    }
    fn uses_rows(&self, ids: &[String]) -> Result<Vec<UsesRow>, KbError> {
        Ok(self.uses_rows_pg(ids)?)
    }
    fn campaign_rows(&self, ids: &[String]) -> Result<Vec<CampaignRow>, KbError> {
        Ok(self.campaign_rows_pg(ids)?)
    }
    fn target_rows(&self, ids: &[String]) -> Result<Vec<TargetRow>, KbError> {
        Ok(self.target_rows_pg(ids)?)
    }
    fn indicator_rows(&self, ids: &[String]) -> Result<Vec<IndicatorCountRow>, KbError> {
        Ok(self.indicator_rows_pg(ids)?)
    }
}
