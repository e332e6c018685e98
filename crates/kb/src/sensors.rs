//! Sensor exports on the embedded store: the rows [`ExportAssembly`]
//! turns into the export, read in three passes (relationships, indicator
//! values, lists), not a query per indicator.

use crate::Store;
use crate::errors::KbError;
use crate::export_rows::{
    ExportAssembly, ExportIndicator, ExportQuery, IndicatesRow, IndicatorValueRow, ListExportHead,
};
use rusqlite::{OptionalExtension, params};

impl Store {
    /// Active indicators (not withdrawn, revoked or expired) matching `q`,
    /// ordered by kind and value.
    pub fn export_indicators(&self, q: &ExportQuery) -> Result<Vec<ExportIndicator>, KbError> {
        let mut a = ExportAssembly::new(self, q);
        let mut rq = self.conn.prepare(
            "SELECT r.src_ref, r.tlp, t.kind, t.stix_id, t.name, t.tlp FROM relations r \
             JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
             WHERE r.rel_type = 'indicates' AND r.withdrawn_at IS NULL \
               AND t.kind IN ('intrusion-set', 'malware', 'tool', 'campaign')",
        )?;
        let mut rows = rq.query([])?;
        while let Some(r) = rows.next()? {
            a.indicates(IndicatesRow {
                indicator: r.get(0)?,
                rel_tlp: r.get(1)?,
                kind: r.get(2)?,
                target: r.get(3)?,
                name: r.get(4)?,
                target_tlp: r.get(5)?,
            });
        }
        let mut iq = self.conn.prepare(
            "SELECT o.id, o.stix_id, ob.kind, ob.value, o.labels, s.name, o.confidence, o.tlp, \
                    o.first_seen, o.last_seen, o.updated_at \
             FROM observables ob JOIN objects o ON o.id = ob.object_id \
             JOIN sources s ON s.id = o.source_id \
             WHERE o.kind = 'indicator' AND o.withdrawn_at IS NULL AND o.revoked = 0 \
               AND (o.valid_until IS NULL OR o.valid_until > ?1) AND o.updated_at > ?2",
        )?;
        let since = q.since.clone().unwrap_or_default();
        let mut rows = iq.query(params![crate::now(), since])?;
        while let Some(r) = rows.next()? {
            a.indicator(IndicatorValueRow {
                key: r.get(0)?,
                stix_id: r.get(1)?,
                kind: r.get(2)?,
                value: r.get(3)?,
                labels: r.get(4)?,
                source: r.get(5)?,
                confidence: r.get(6)?,
                tlp: r.get(7)?,
                first_seen: r.get(8)?,
                last_seen: r.get(9)?,
                updated_at: r.get(10)?,
            })?;
        }
        self.export_list_values(q, &mut a)?;
        Ok(a.finish())
    }

    /// The list values [`Store::export_indicators`] wants.
    fn export_list_values(
        &self,
        q: &ExportQuery,
        a: &mut ExportAssembly<'_, Store>,
    ) -> Result<(), KbError> {
        let since = q.since_ms()?;
        let mut sq = self.conn.prepare(&format!(
            "SELECT ls.source_id, {} FROM list_sources ls JOIN sources s ON s.id = ls.source_id",
            crate::lists::LIST_SOURCE_COLS
        ))?;
        let lists: Vec<(i64, crate::lists::ListSource)> = sq
            .query_map([], |r| {
                Ok((r.get(0)?, crate::lists::list_source_row(r, 1)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut vq = self.conn.prepare(
            "SELECT id, kind, value, updated_at FROM list_values \
             WHERE source_id = ?1 AND withdrawn_at IS NULL AND updated_at > ?2",
        )?;
        for (source_id, list) in lists {
            let actor = match &list.actor_ref {
                Some(id) => self
                    .conn
                    .query_row(
                        "SELECT stix_id, name, tlp FROM objects WHERE stix_id = ?1 \
                         AND kind = 'intrusion-set' AND withdrawn_at IS NULL LIMIT 1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?,
                None => None,
            };
            let head = ListExportHead {
                source: list.source,
                prov: list.prov,
                labels: list.labels,
                actor,
            };
            let Some(take) = a.list(head)? else {
                continue;
            };
            let mut rows = vq.query(params![source_id, since])?;
            while let Some(r) = rows.next()? {
                a.list_value(
                    &take,
                    r.get(0)?,
                    &r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation, Tlp};

    fn indicator(id: &str, value: &str, tlp: Tlp) -> Object {
        Object {
            id: id.into(),
            kind: "indicator".into(),
            labels: vec!["c2".into()],
            observables: vec![Observable::new(IndicatorKind::Domain, value)],
            prov: Provenance {
                source: "notes".into(),
                tlp,
                ..Provenance::default()
            },
            ..Object::default()
        }
    }

    fn store() -> Store {
        let prov = Provenance {
            source: "notes".into(),
            ..Provenance::default()
        };
        let actor = "intrusion-set--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d001";
        let rel = |n: u32, src: &str, tlp: Tlp| Relation {
            id: format!("relationship--0c7e6f42-7f1b-4c57-9e35-3a36f0c1e{n:03}"),
            rel_type: "indicates".into(),
            source_ref: src.into(),
            target_ref: actor.into(),
            prov: Provenance {
                tlp,
                ..prov.clone()
            },
            ..Relation::default()
        };
        let b = Bundle {
            source: "notes".into(),
            format: "csv".into(),
            objects: vec![
                Object {
                    id: actor.into(),
                    kind: "intrusion-set".into(),
                    name: Some("Test Panda".into()),
                    prov: prov.clone(),
                    ..Object::default()
                },
                indicator("indicator--1", "a.example", Tlp::Green),
                indicator("indicator--2", "b.example", Tlp::Red),
                indicator("indicator--3", "c.example", Tlp::Clear),
            ],
            relations: vec![
                rel(1, "indicator--1", Tlp::Clear),
                rel(2, "indicator--2", Tlp::Clear),
                rel(3, "indicator--3", Tlp::Red),
            ],
            ..Bundle::default()
        };
        let mut s = Store::open_in_memory().expect("store");
        s.ingest(&b, None, None).expect("ingest");
        s
    }

    #[test]
    fn ceiling_covers_indicators_and_who_they_indicate() {
        let s = store();
        let q = ExportQuery {
            tlp_max: Tlp::Amber,
            ..ExportQuery::default()
        };
        let rows = s.export_indicators(&q).expect("query");
        let values: Vec<&str> = rows.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(values, ["a.example", "c.example"]);
        assert_eq!(rows[0].actors, ["Test Panda"]);
        assert_eq!(rows[0].roles, ["c2"]);
        // The RED relationship does not say whose c.example is.
        assert!(rows[1].actors.is_empty());
        let all = s
            .export_indicators(&ExportQuery {
                tlp_max: Tlp::Red,
                ..ExportQuery::default()
            })
            .expect("query");
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].actors, ["Test Panda"]);
    }

    #[test]
    fn actor_and_since_filters() {
        let s = store();
        let only = s
            .export_indicators(&ExportQuery {
                tlp_max: Tlp::Red,
                indicates: Some(vec!["intrusion-set--other".into()]),
                since: None,
            })
            .expect("query");
        assert!(only.is_empty());
        let later = s
            .export_indicators(&ExportQuery {
                tlp_max: Tlp::Red,
                indicates: None,
                since: Some("2999-01-01T00:00:00.000Z".into()),
            })
            .expect("query");
        assert!(later.is_empty());
        let earlier = s
            .export_indicators(&ExportQuery {
                tlp_max: Tlp::Red,
                indicates: None,
                since: Some("2000-01-01T00:00:00.000Z".into()),
            })
            .expect("query");
        assert_eq!(earlier.len(), 3);
    }
}
