//! What the engines read: indicators to hunt and the context of a hit,
//! sightings written back, and whole-store snapshots for attribution.

use crate::Store;
use crate::errors::KbError;
use crate::ingest::bump_generation;
use crate::rows::{OBJECT_COLUMNS, object_from_row};
use cairn_model::{Bundle, IndicatorKind, Observable, Provenance, Relation, Tlp};
use rusqlite::{OptionalExtension, params, params_from_iter};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// One value to hunt for; `key` leads back to the indicator's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuntIndicator {
    /// The indicator's row id.
    pub key: i64,
    /// The value.
    pub observable: Observable,
}

/// An actor as a hit names it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ActorRef {
    /// Display name of the resolved actor.
    pub name: String,
    /// Other names linked sources give it.
    pub aliases: Vec<String>,
}

/// Who an indicator belongs to, and on whose word.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorContext {
    /// The indicator's STIX id.
    pub stix_id: String,
    /// Actors it indicates (resolved across sources).
    pub actors: Vec<ActorRef>,
    /// Malware families it indicates.
    pub families: Vec<String>,
    /// Roles and labels (`c2`, `reconnaissance`, …).
    pub roles: Vec<String>,
    /// The statement's provenance.
    pub sources: Vec<Provenance>,
    /// When the indicator stops being valid.
    pub valid_until: Option<String>,
}

impl IndicatorContext {
    /// Adds what `other` says about the same hit (several sources' indicators
    /// with one value), without repeating an actor, family, role or source.
    pub fn absorb(&mut self, other: &IndicatorContext) {
        fn add<T: Clone + PartialEq>(into: &mut Vec<T>, from: &[T]) {
            for x in from {
                if !into.contains(x) {
                    into.push(x.clone());
                }
            }
        }
        add(&mut self.actors, &other.actors);
        add(&mut self.families, &other.families);
        add(&mut self.roles, &other.roles);
        add(&mut self.sources, &other.sources);
    }
}

/// A hit to record as a sighting.
#[derive(Debug, Clone)]
pub struct SightingInput {
    /// The indicator's key (from [`HuntIndicator`]).
    pub key: i64,
    /// How many hits.
    pub count: u64,
    /// First hit time (or when the hunt ran).
    pub first_seen: String,
    /// Last hit time.
    pub last_seen: String,
    /// Where: file names, hosts.
    pub where_: String,
}

impl Store {
    /// Every indicator value to hunt. Without `include_inactive`, revoked,
    /// withdrawn and expired (`valid_until` past) indicators are left out.
    pub fn hunt_indicators(&self, include_inactive: bool) -> Result<Vec<HuntIndicator>, KbError> {
        let mut out = Vec::new();
        self.for_each_hunt_indicator(include_inactive, &mut |h| out.push(h))?;
        Ok(out)
    }

    /// [`Store::hunt_indicators`] one by one, without collecting them: a
    /// store of ten million list values is read in constant memory.
    pub fn for_each_hunt_indicator(
        &self,
        include_inactive: bool,
        f: &mut dyn FnMut(HuntIndicator),
    ) -> Result<(), KbError> {
        let filter = if include_inactive {
            ""
        } else {
            "AND o.withdrawn_at IS NULL AND o.revoked = 0 AND (o.valid_until IS NULL OR o.valid_until > ?1)"
        };
        let sql = format!(
            "SELECT o.id, ob.kind, ob.value FROM observables ob JOIN objects o ON o.id = ob.object_id \
             WHERE o.kind = 'indicator' {filter}"
        );
        let mut q = self.conn.prepare(&sql)?;
        let now = crate::now();
        let mut rows = if include_inactive {
            q.query([])?
        } else {
            q.query([now])?
        };
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            if let Ok(kind) = kind.parse::<IndicatorKind>() {
                f(HuntIndicator {
                    key: r.get(0)?,
                    observable: Observable {
                        kind,
                        value: r.get(2)?,
                    },
                });
            }
        }
        self.list_hunt_indicators(include_inactive, f)
    }

    /// The actors, families, roles and provenance behind one indicator.
    pub fn indicator_context(&self, key: i64) -> Result<IndicatorContext, KbError> {
        if key >= crate::LIST_KEY_BASE {
            return self.list_context(key);
        }
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects o JOIN sources s ON s.id = o.source_id WHERE o.id = ?1"
        );
        let (_, obj) = self
            .conn
            .query_row(&sql, [key], object_from_row)
            .optional()?
            .ok_or(KbError::NotFound(key))?;
        let mut q = self.conn.prepare(
            "SELECT DISTINCT t.kind, t.stix_id, t.name FROM relations r \
             JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
             WHERE r.src_ref = ?1 AND r.rel_type = 'indicates' AND r.withdrawn_at IS NULL \
               AND t.kind IN ('intrusion-set', 'malware', 'tool', 'campaign')",
        )?;
        let targets: Vec<(String, String, Option<String>)> = q
            .query_map([&obj.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut actors: Vec<ActorRef> = Vec::new();
        let mut families: BTreeSet<String> = BTreeSet::new();
        for (kind, stix_id, name) in targets {
            if kind == "intrusion-set" {
                let actor = match self.actor_names(&stix_id)? {
                    Some(a) => a,
                    None => ActorRef {
                        name: name.unwrap_or(stix_id),
                        aliases: Vec::new(),
                    },
                };
                if !actors.contains(&actor) {
                    actors.push(actor);
                }
            } else if let Some(n) = name {
                families.insert(n);
            }
        }
        Ok(IndicatorContext {
            stix_id: obj.id,
            actors,
            families: families.into_iter().collect(),
            roles: obj.labels,
            sources: vec![obj.prov],
            valid_until: obj.valid_until,
        })
    }

    /// [`Store::indicator_context`] of a list value: the actor its list
    /// indicates, the list's roles and shared provenance.
    fn list_context(&self, key: i64) -> Result<IndicatorContext, KbError> {
        let (stix_id, _, src) = self.list_value(key)?.ok_or(KbError::NotFound(key))?;
        let mut actors = Vec::new();
        if let Some(actor) = &src.actor_ref {
            let name: Option<Option<String>> = self
                .conn
                .query_row(
                    "SELECT name FROM objects WHERE stix_id = ?1 AND kind = 'intrusion-set' \
                     AND withdrawn_at IS NULL LIMIT 1",
                    [actor],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(name) = name {
                actors.push(match self.actor_names(actor)? {
                    Some(a) => a,
                    None => ActorRef {
                        name: name.unwrap_or_else(|| actor.clone()),
                        aliases: Vec::new(),
                    },
                });
            }
        }
        Ok(IndicatorContext {
            stix_id,
            actors,
            families: Vec::new(),
            roles: src.labels,
            sources: vec![src.prov],
            valid_until: None,
        })
    }

    /// MISP warninglists the user ingested: (name, list.json text).
    pub fn warninglist_documents(&self) -> Result<Vec<(String, String)>, KbError> {
        let mut q = self
            .conn
            .prepare("SELECT name, body FROM documents ORDER BY name")?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Writes hits back as sightings (one transaction); returns rows written.
    pub fn record_sightings(&mut self, hits: &[SightingInput]) -> Result<usize, KbError> {
        let ts = crate::now();
        let tx = self.conn.transaction()?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO sightings(object_id, count, first_seen, last_seen, location, recorded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for h in hits {
                ins.execute(params![
                    h.key,
                    h.count as i64,
                    h.first_seen,
                    h.last_seen,
                    h.where_,
                    ts
                ])?;
            }
        }
        if !hits.is_empty() {
            bump_generation(&tx)?;
        }
        tx.commit()?;
        Ok(hits.len())
    }

    /// Active objects of the given STIX types from every source, with their
    /// observables, and every active relationship among stored objects.
    pub fn snapshot(&self, kinds: &[&str]) -> Result<Bundle, KbError> {
        let marks = vec!["?"; kinds.len().max(1)].join(",");
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE o.withdrawn_at IS NULL AND o.kind IN ({marks}) ORDER BY o.id"
        );
        let mut q = self.conn.prepare(&sql)?;
        let kinds_owned: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let rows: Vec<(i64, cairn_model::Object)> = q
            .query_map(params_from_iter(kinds_owned.iter()), object_from_row)?
            .collect::<Result<_, _>>()?;
        let mut obs: HashMap<i64, Vec<Observable>> = HashMap::new();
        if kinds.contains(&"indicator") {
            let mut oq = self
                .conn
                .prepare("SELECT object_id, kind, value FROM observables")?;
            let it = oq.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in it {
                let (id, kind, value) = row?;
                if let Ok(kind) = kind.parse() {
                    obs.entry(id).or_default().push(Observable { kind, value });
                }
            }
        }
        let mut objects: Vec<cairn_model::Object> = rows
            .into_iter()
            .map(|(id, mut o)| {
                o.observables = obs.remove(&id).unwrap_or_default();
                o
            })
            .collect();
        let mut rq = self.conn.prepare(
            "SELECT r.stix_id, r.rel_type, r.src_ref, r.tgt_ref, r.description, r.revoked, r.deprecated, \
                    s.name, r.reference, r.first_seen, r.last_seen, r.confidence, r.tlp \
             FROM relations r JOIN sources s ON s.id = r.source_id WHERE r.withdrawn_at IS NULL ORDER BY r.id",
        )?;
        let mut relations: Vec<Relation> = rq
            .query_map([], |r| {
                let tlp: String = r.get(12)?;
                Ok(Relation {
                    id: r.get(0)?,
                    rel_type: r.get(1)?,
                    source_ref: r.get(2)?,
                    target_ref: r.get(3)?,
                    description: r.get(4)?,
                    revoked: r.get(5)?,
                    deprecated: r.get(6)?,
                    prov: Provenance {
                        source: r.get(7)?,
                        reference: r.get(8)?,
                        first_seen: r.get(9)?,
                        last_seen: r.get(10)?,
                        confidence: r.get(11)?,
                        tlp: tlp.parse().unwrap_or(Tlp::Clear),
                    },
                    raw: String::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        if kinds.contains(&"indicator") {
            // List values as the statements list intake made of them.
            self.for_each_listed(None, &mut |l| {
                objects.push(l.indicator());
                relations.extend(l.indicates());
                Ok(())
            })?;
        }
        Ok(Bundle {
            format: "store".into(),
            source: "cairn store".into(),
            objects,
            relations,
            ..Bundle::default()
        })
    }
}

/// One indicator of an actor, as one source states it.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRow {
    /// The indicator's key (its row id), as the hunt index uses it.
    pub key: i64,
    /// Value type (`domain`, `ipv4`, `sha256`, …).
    pub kind: String,
    /// The value.
    pub value: String,
    /// Roles and labels (`c2`, …).
    pub roles: Vec<String>,
    /// The source stating it.
    pub source: String,
    /// First seen, as the source says.
    pub first_seen: Option<String>,
    /// Last seen, as the source says.
    pub last_seen: Option<String>,
    /// The source's confidence.
    pub confidence: Option<u8>,
    /// Marking.
    pub tlp: String,
    /// Hits recorded in the user's logs.
    pub sightings: u64,
}

/// A recorded hit of an indicator in the user's own logs.
#[derive(Debug, Clone, Serialize)]
pub struct SightingRow {
    /// Hits.
    pub count: u64,
    /// First hit.
    pub first_seen: String,
    /// Last hit.
    pub last_seen: String,
    /// Where (files).
    pub location: String,
    /// When it was recorded.
    pub recorded_at: String,
}

impl Store {
    /// The indicators the actor objects `member_ids` (STIX ids, from a
    /// [`crate::Profile`]'s members) are indicated by, up to `limit`, and how
    /// many there are in all.
    pub fn actor_indicators(
        &self,
        member_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<IndicatorRow>, usize), KbError> {
        if member_ids.is_empty() {
            return Ok((Vec::new(), 0));
        }
        // Numbered, so the list part can name the same members.
        let marks = (1..=member_ids.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let from = format!(
            "FROM relations r JOIN objects o ON o.stix_id = r.src_ref AND o.kind = 'indicator' \
               AND o.withdrawn_at IS NULL \
             JOIN observables ob ON ob.object_id = o.id JOIN sources s ON s.id = o.source_id \
             WHERE r.rel_type = 'indicates' AND r.withdrawn_at IS NULL AND r.tgt_ref IN ({marks})"
        );
        // List values whose list indicates one of the members.
        let list_from = format!(
            "FROM list_values v JOIN list_sources ls ON ls.source_id = v.source_id \
             JOIN sources s ON s.id = v.source_id \
             WHERE v.withdrawn_at IS NULL AND ls.actor_ref IN ({marks})"
        );
        let total: i64 = self.conn.query_row(
            &format!(
                "SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT o.id, ob.value {from})) \
                   + (SELECT COUNT(*) {list_from})"
            ),
            params_from_iter(member_ids.iter()),
            |r| r.get(0),
        )?;
        let base = crate::LIST_KEY_BASE;
        let sql = format!(
            "SELECT * FROM (SELECT DISTINCT o.id AS key, ob.kind AS kind, ob.value AS value, o.labels, \
               s.name, o.first_seen, o.last_seen, o.confidence, o.tlp, \
               (SELECT COALESCE(SUM(g.count), 0) FROM sightings g WHERE g.object_id = o.id) AS seen \
             {from} \
             UNION ALL SELECT v.id + {base}, v.kind, v.value, ls.labels, s.name, NULL, NULL, \
               ls.confidence, ls.tlp, \
               (SELECT COALESCE(SUM(g.count), 0) FROM sightings g WHERE g.object_id = v.id + {base}) \
             {list_from}) ORDER BY seen DESC, kind, value LIMIT {limit}"
        );
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(params_from_iter(member_ids.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, i64>(9)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, kind, value, labels, source, first_seen, last_seen, conf, tlp, seen) = row?;
            let roles: Vec<String> =
                serde_json::from_str(&labels).map_err(|source| KbError::Json {
                    what: "labels",
                    source,
                })?;
            out.push(IndicatorRow {
                key,
                kind,
                value,
                roles,
                source,
                first_seen,
                last_seen,
                confidence: conf.and_then(|c| u8::try_from(c).ok()),
                tlp,
                sightings: seen.max(0) as u64,
            });
        }
        Ok((out, total.max(0) as usize))
    }

    /// Hits recorded for indicator `key`, newest first.
    pub fn sightings_of(&self, key: i64) -> Result<Vec<SightingRow>, KbError> {
        let mut q = self.conn.prepare(
            "SELECT count, first_seen, last_seen, location, recorded_at FROM sightings \
             WHERE object_id = ?1 ORDER BY recorded_at DESC LIMIT 100",
        )?;
        let rows = q.query_map([key], |r| {
            Ok(SightingRow {
                count: r.get::<_, i64>(0)?.max(0) as u64,
                first_seen: r.get(1)?,
                last_seen: r.get(2)?,
                location: r.get(3)?,
                recorded_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
