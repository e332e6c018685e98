//! What sensor exports read: every active indicator value with the actors,
//! families and roles behind it, as each source states it.
//!
//! One query for the values and one for the `indicates` relationships, so a
//! store of a million list-sourced indicators is read in two passes, not a
//! query per indicator; each target actor is resolved once.

use crate::Store;
use crate::errors::KbError;
use cairn_model::{IndicatorKind, Tlp};
use rusqlite::{OptionalExtension, params};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Which indicators an export wants.
#[derive(Debug, Clone, Default)]
pub struct ExportQuery {
    /// Nothing marked above this TLP: not the indicator, nor the
    /// relationship or actor that names who it belongs to.
    pub tlp_max: Tlp,
    /// Only indicators that indicate one of these objects (STIX ids, a
    /// [`crate::Profile`]'s members); `None` for every indicator.
    pub indicates: Option<Vec<String>>,
    /// Only indicators stored or changed after this instant (a STIX
    /// timestamp, compared with the store's millisecond stamps).
    pub since: Option<String>,
}

/// One indicator value as one source states it, with its context.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportIndicator {
    /// The indicator's row id.
    pub key: i64,
    /// Its STIX id.
    pub stix_id: String,
    /// Value type.
    pub kind: IndicatorKind,
    /// The value, normalized.
    pub value: String,
    /// Resolved names of the actors it indicates.
    pub actors: Vec<String>,
    /// Malware, tools and campaigns it indicates.
    pub families: Vec<String>,
    /// Roles and labels (`c2`, …).
    pub roles: Vec<String>,
    /// The source stating it.
    pub source: String,
    /// The source's confidence (0–100).
    pub confidence: Option<u8>,
    /// Its marking.
    pub tlp: Tlp,
    /// First seen, as the source says.
    pub first_seen: Option<String>,
    /// Last seen, as the source says.
    pub last_seen: Option<String>,
    /// When the store last wrote it.
    pub updated_at: String,
}

impl Store {
    /// Active indicators (not withdrawn, revoked or expired) matching `q`,
    /// ordered by kind and value.
    pub fn export_indicators(&self, q: &ExportQuery) -> Result<Vec<ExportIndicator>, KbError> {
        let allowed = |tlp: &str| tlp.parse::<Tlp>().is_ok_and(|t| t <= q.tlp_max);
        let now = crate::now();
        let since = q.since.clone().unwrap_or_default();

        // Who each indicator (by STIX id) indicates, within the ceiling.
        let mut rq = self.conn.prepare(
            "SELECT r.src_ref, r.tlp, t.kind, t.stix_id, t.name, t.tlp FROM relations r \
             JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
             WHERE r.rel_type = 'indicates' AND r.withdrawn_at IS NULL \
               AND t.kind IN ('intrusion-set', 'malware', 'tool', 'campaign')",
        )?;
        let mut targets: HashMap<String, Vec<(String, String, Option<String>)>> = HashMap::new();
        let rows = rq.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        for row in rows {
            let (src, rtlp, kind, tgt, name, ttlp) = row?;
            if allowed(&rtlp) && allowed(&ttlp) {
                let list = targets.entry(src).or_default();
                if !list.iter().any(|(_, t, _)| *t == tgt) {
                    list.push((kind, tgt, name));
                }
            }
        }
        let wanted: Option<HashSet<&str>> = q
            .indicates
            .as_ref()
            .map(|ids| ids.iter().map(String::as_str).collect());

        let mut iq = self.conn.prepare(
            "SELECT o.id, o.stix_id, ob.kind, ob.value, o.labels, s.name, o.confidence, o.tlp, \
                    o.first_seen, o.last_seen, o.updated_at \
             FROM observables ob JOIN objects o ON o.id = ob.object_id \
             JOIN sources s ON s.id = o.source_id \
             WHERE o.kind = 'indicator' AND o.withdrawn_at IS NULL AND o.revoked = 0 \
               AND (o.valid_until IS NULL OR o.valid_until > ?1) AND o.updated_at > ?2 \
             ORDER BY ob.kind, ob.value, o.id",
        )?;
        let rows = iq.query_map(params![now, since], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, String>(10)?,
            ))
        })?;
        let mut names: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for row in rows {
            let (key, stix_id, kind, value, labels, source, conf, tlp, first, last, updated) = row?;
            let Ok(kind) = kind.parse::<IndicatorKind>() else {
                continue;
            };
            let Ok(tlp) = tlp.parse::<Tlp>() else {
                continue;
            };
            if tlp > q.tlp_max {
                continue;
            }
            let tg = targets.get(&stix_id).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(w) = &wanted
                && !tg.iter().any(|(_, t, _)| w.contains(t.as_str()))
            {
                continue;
            }
            let mut actors: Vec<String> = Vec::new();
            let mut families: BTreeSet<String> = BTreeSet::new();
            for (tkind, tgt, tname) in tg {
                if tkind == "intrusion-set" {
                    let name = match names.get(tgt) {
                        Some(n) => n.clone(),
                        None => {
                            let n = match self.actor_names(tgt)? {
                                Some(a) => a.name,
                                None => tname.clone().unwrap_or_else(|| tgt.clone()),
                            };
                            names.insert(tgt.clone(), n.clone());
                            n
                        }
                    };
                    if !actors.contains(&name) {
                        actors.push(name);
                    }
                } else if let Some(n) = tname {
                    families.insert(n.clone());
                }
            }
            let roles: Vec<String> =
                serde_json::from_str(&labels).map_err(|source| KbError::Json {
                    what: "labels",
                    source,
                })?;
            out.push(ExportIndicator {
                key,
                stix_id,
                kind,
                value,
                actors,
                families: families.into_iter().collect(),
                roles,
                source,
                confidence: conf.and_then(|c| u8::try_from(c).ok()),
                tlp,
                first_seen: first,
                last_seen: last,
                updated_at: updated,
            });
        }
        self.export_list_values(q, &wanted, &mut names, &mut out)?;
        if out.len() > 1 {
            // Both kinds of statement in one order: kind, value, key.
            out.sort_by(|a, b| {
                (a.kind.as_str(), &a.value, a.key).cmp(&(b.kind.as_str(), &b.value, b.key))
            });
        }
        Ok(out)
    }

    /// The list values [`Store::export_indicators`] wants, with the actor
    /// their list indicates (the relationship has the list's marking).
    fn export_list_values(
        &self,
        q: &ExportQuery,
        wanted: &Option<HashSet<&str>>,
        names: &mut HashMap<String, String>,
        out: &mut Vec<ExportIndicator>,
    ) -> Result<(), KbError> {
        let since = match &q.since {
            Some(s) => cairn_model::time::parse(s)
                .map(|t| t.as_millisecond())
                .ok_or_else(|| KbError::Invalid(format!("`{s}` is not a timestamp")))?,
            None => i64::MIN,
        };
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
            if list.prov.tlp > q.tlp_max {
                continue;
            }
            // The actor, when it is stored, active and within the ceiling.
            let actor: Option<(String, Option<String>)> = match &list.actor_ref {
                Some(a) => self
                    .conn
                    .query_row(
                        "SELECT stix_id, name, tlp FROM objects WHERE stix_id = ?1 \
                         AND kind = 'intrusion-set' AND withdrawn_at IS NULL LIMIT 1",
                        [a],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, Option<String>>(1)?,
                                r.get::<_, String>(2)?,
                            ))
                        },
                    )
                    .optional()?
                    .filter(|(_, _, t)| t.parse::<Tlp>().is_ok_and(|t| t <= q.tlp_max))
                    .map(|(id, name, _)| (id, name)),
                None => None,
            };
            if let Some(w) = wanted
                && !actor
                    .as_ref()
                    .is_some_and(|(id, _)| w.contains(id.as_str()))
            {
                continue;
            }
            let actors: Vec<String> = match &actor {
                Some((id, tname)) => {
                    let name = match names.get(id) {
                        Some(n) => n.clone(),
                        None => {
                            let n = match self.actor_names(id)? {
                                Some(a) => a.name,
                                None => tname.clone().unwrap_or_else(|| id.clone()),
                            };
                            names.insert(id.clone(), n.clone());
                            n
                        }
                    };
                    vec![name]
                }
                None => Vec::new(),
            };
            let mut rows = vq.query(params![source_id, since])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(1)?;
                let Ok(kind) = kind.parse::<IndicatorKind>() else {
                    continue;
                };
                let value: String = r.get(2)?;
                out.push(ExportIndicator {
                    key: crate::LIST_KEY_BASE + r.get::<_, i64>(0)?,
                    stix_id: crate::lists::indicator_id(&list.source, kind.as_str(), &value),
                    kind,
                    value,
                    actors: actors.clone(),
                    families: Vec::new(),
                    roles: list.labels.clone(),
                    source: list.source.clone(),
                    confidence: list.prov.confidence,
                    tlp: list.prov.tlp,
                    first_seen: None,
                    last_seen: None,
                    updated_at: crate::lists::ms_text(r.get(3)?),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Bundle, Object, Observable, Provenance, Relation};

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
