//! Sensor exports on PostgreSQL: the same three reads as the embedded
//! store's, handed to kb's [`ExportAssembly`], so both backends export the
//! same values with the same actors. Under a restricted connection the
//! row-level policies already hide what is above its ceiling; the
//! assembly still applies the export's own `tlp_max`.

use crate::PgStore;
use crate::errors::PgError;
use cairn_kb::backend::{ExportAssembly, IndicatesRow, IndicatorValueRow, ListExportHead};
use cairn_kb::{ExportIndicator, ExportQuery};
use cairn_model::{Provenance, Tlp};
use futures_util::TryStreamExt;
use sqlx::{Connection, Row};

impl PgStore {
    /// Active indicators (not withdrawn, revoked or expired) matching `q`,
    /// ordered by kind and value.
    pub fn export_indicators(&self, q: &ExportQuery) -> Result<Vec<ExportIndicator>, PgError> {
        let since_ms = q.since_ms().map_err(PgError::Input)?;
        let since = q.since.clone().unwrap_or_default();
        let now = cairn_model::time::now_ms();
        // Rows are read first and assembled after: naming an actor reads
        // the store again, on this same connection.
        let (rels, values, heads) = self.run(async |c| {
            let mut tx = c.begin().await?;
            let rels: Vec<IndicatesRow> = sqlx::query(
                "SELECT r.src_ref, r.tlp, t.kind, t.stix_id, t.name, t.tlp FROM relations r \
                 JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
                 WHERE r.rel_type = 'indicates' AND r.withdrawn_at IS NULL \
                   AND t.kind IN ('intrusion-set', 'malware', 'tool', 'campaign')",
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(IndicatesRow {
                    indicator: r.try_get(0)?,
                    rel_tlp: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    target: r.try_get(3)?,
                    name: r.try_get(4)?,
                    target_tlp: r.try_get(5)?,
                })
            })
            .collect::<Result<_, _>>()?;
            let values: Vec<IndicatorValueRow> = sqlx::query(
                "SELECT o.id, o.stix_id, ob.kind, ob.value, o.labels, s.name, o.confidence, o.tlp, \
                        o.first_seen, o.last_seen, o.updated_at \
                 FROM observables ob JOIN objects o ON o.id = ob.object_id \
                 JOIN sources s ON s.id = o.source_id \
                 WHERE o.kind = 'indicator' AND o.withdrawn_at IS NULL AND NOT o.revoked \
                   AND (o.valid_until IS NULL OR o.valid_until > $1) AND o.updated_at > $2",
            )
            .bind(&now)
            .bind(&since)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(IndicatorValueRow {
                    key: r.try_get(0)?,
                    stix_id: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    value: r.try_get(3)?,
                    labels: r.try_get(4)?,
                    source: r.try_get(5)?,
                    confidence: r.try_get::<Option<i32>, _>(6)?.map(i64::from),
                    tlp: r.try_get(7)?,
                    first_seen: r.try_get(8)?,
                    last_seen: r.try_get(9)?,
                    updated_at: r.try_get(10)?,
                })
            })
            .collect::<Result<_, _>>()?;
            let heads: Vec<(i64, ListExportHead)> = sqlx::query(
                "SELECT ls.source_id, s.name, ls.reference, ls.confidence, ls.tlp, ls.labels, \
                        a.stix_id, a.name, a.tlp \
                 FROM list_sources ls JOIN sources s ON s.id = ls.source_id \
                 LEFT JOIN LATERAL (SELECT o.stix_id, o.name, o.tlp FROM objects o \
                     WHERE o.stix_id = ls.actor_ref AND o.kind = 'intrusion-set' \
                       AND o.withdrawn_at IS NULL LIMIT 1) a ON TRUE",
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| -> Result<(i64, ListExportHead), sqlx::Error> {
                let source: String = r.try_get(1)?;
                let tlp: String = r.try_get(4)?;
                let labels: String = r.try_get(5)?;
                let actor = match r.try_get::<Option<String>, _>(6)? {
                    Some(id) => Some((id, r.try_get(7)?, r.try_get(8)?)),
                    None => None,
                };
                Ok((
                    r.try_get(0)?,
                    ListExportHead {
                        prov: Provenance {
                            source: source.clone(),
                            reference: r.try_get(2)?,
                            confidence: r
                                .try_get::<Option<i32>, _>(3)?
                                .and_then(|c| u8::try_from(c).ok()),
                            tlp: tlp.parse().unwrap_or(Tlp::Red),
                            ..Provenance::default()
                        },
                        source,
                        labels: serde_json::from_str(&labels).unwrap_or_default(),
                        actor,
                    },
                ))
            })
            .collect::<Result<_, _>>()?;
            tx.commit().await?;
            Ok((rels, values, heads))
        })?;
        let mut a = ExportAssembly::new(self, q);
        for r in rels {
            a.indicates(r);
        }
        for v in values {
            a.indicator(v).map_err(PgError::Input)?;
        }
        for (source_id, head) in heads {
            let Some(take) = a.list(head).map_err(PgError::Input)? else {
                continue;
            };
            self.run(async |c| {
                let mut rows = sqlx::query(
                    "SELECT id, kind, value, updated_at FROM list_values \
                     WHERE source_id = $1 AND withdrawn_at IS NULL AND updated_at > $2",
                )
                .bind(source_id)
                .bind(since_ms)
                .fetch(&mut *c);
                while let Some(r) = rows.try_next().await? {
                    a.list_value(
                        &take,
                        r.try_get(0)?,
                        r.try_get::<&str, _>(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                    );
                }
                Ok(())
            })?;
        }
        Ok(a.finish())
    }
}
