//! An actor's subgraph as its sources stated it, for STIX export.
//!
//! Every query here uses the unqualified table names, so a store narrowed
//! with [`Store::restrict`] collects only what its caller may see: a
//! relationship whose far end is hidden is left out with it.

use crate::Store;
use crate::errors::KbError;
use crate::profile::Profile;
use cairn_model::{IndicatorKind, Observable, Tlp};
use rusqlite::params_from_iter;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Bound parameters per query: well under SQLite's limit.
const CHUNK: usize = 400;

/// The stored statements about one actor: its objects and the relationships
/// around them, each as the source gave it and with that source's provenance.
/// Two sources' copies of one STIX id are two statements.
#[derive(Debug, Clone, Serialize)]
pub struct Subgraph {
    /// The profile the subgraph was collected for.
    pub profile: Profile,
    /// Objects: the actor objects (one per source) first, then what the
    /// relationships reach, then the identities and marking definitions the
    /// statements reference.
    pub objects: Vec<Statement>,
    /// Relationships (and sightings) touching the actor objects, and the
    /// `uses`/`targets` of campaigns attributed to them. Only those whose
    /// ends are both among `objects` (sightings: whose target is).
    pub relations: Vec<Statement>,
    /// The sources the statements come from.
    pub sources: Vec<SourceInfo>,
}

/// One object or relationship as one source stated it.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// The JSON as the source published it (or as intake built it for
    /// sources that are not STIX).
    pub raw: serde_json::Value,
    /// STIX id.
    pub stix_id: String,
    /// STIX type for objects; the relationship type for relationships.
    pub kind: String,
    /// The source's name.
    pub source: String,
    /// Primary name (objects).
    pub name: Option<String>,
    /// ISO 3166 country (locations, actors' origin).
    pub country: Option<String>,
    /// Labels lifted at intake (`sector` marks a sector identity).
    pub labels: Vec<String>,
    /// STIX `created` (objects, when stated).
    pub created: Option<String>,
    /// STIX `modified` (objects, when stated).
    pub modified: Option<String>,
    /// Revoked by its producer.
    pub revoked: bool,
    /// Where the statement can be checked.
    pub reference: Option<String>,
    /// First seen, as the source says.
    pub first_seen: Option<String>,
    /// Last seen, as the source says.
    pub last_seen: Option<String>,
    /// The source's confidence.
    pub confidence: Option<u8>,
    /// The marking.
    pub tlp: Tlp,
    /// When Cairn first stored the statement (RFC 3339).
    pub added_at: String,
    /// When Cairn last stored a change to it.
    pub updated_at: String,
    /// Observable values (indicators).
    pub observables: Vec<Observable>,
    /// The description as stored (intake lifts it from the source's JSON or
    /// builds it for sources that are not STIX).
    pub description: Option<String>,
    /// Relationships: the source end as stored (sightings: the sighter, if any).
    pub source_ref: Option<String>,
    /// Relationships: the target end as stored (sightings: what was sighted).
    /// `Some` exactly when the statement is a relationship or sighting.
    pub target_ref: Option<String>,
}

impl Statement {
    /// Whether this is a relationship or sighting rather than an object.
    pub fn is_relation(&self) -> bool {
        self.target_ref.is_some()
    }
}

/// A source, as the store knows it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// Name.
    pub name: String,
    /// Format it was read as (`stix`, `misp-galaxy`, `csv`, …).
    pub format: String,
    /// First ingest (RFC 3339).
    pub first_ingested: String,
    /// Latest ingest.
    pub last_ingested: String,
}

/// An object's columns, in [`read_row`]'s order (`o` joined with `s`, its source).
pub(crate) const OBJ_COLS: &str = "o.stix_id, o.kind, s.name, o.name, o.country, o.labels, o.created, o.modified, \
     o.revoked, o.reference, o.first_seen, o.last_seen, o.confidence, o.tlp, o.added_at, o.updated_at, o.raw, o.id, \
     o.description, NULL, NULL";
/// A relationship's columns, in [`read_row`]'s order (`r` joined with `s`).
pub(crate) const REL_COLS: &str = "r.stix_id, r.rel_type, s.name, NULL, NULL, '[]', NULL, NULL, \
     r.revoked, r.reference, r.first_seen, r.last_seen, r.confidence, r.tlp, r.added_at, r.updated_at, r.raw, r.id, \
     r.description, r.src_ref, r.tgt_ref";

/// A statement, its row id and, for relationships, its ends.
pub(crate) struct Row {
    pub(crate) st: Statement,
    pub(crate) rowid: i64,
    pub(crate) ends: Option<(String, String)>,
}

pub(crate) fn read_row(r: &rusqlite::Row, with_ends: bool) -> rusqlite::Result<Row> {
    let raw: String = r.get(16)?;
    let labels: String = r.get(5)?;
    let tlp: String = r.get(13)?;
    let ends: Option<(String, String)> = if with_ends {
        Some((r.get(19)?, r.get(20)?))
    } else {
        None
    };
    Ok(Row {
        st: Statement {
            raw: serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null),
            stix_id: r.get(0)?,
            kind: r.get(1)?,
            source: r.get(2)?,
            name: r.get(3)?,
            country: r.get(4)?,
            labels: serde_json::from_str(&labels).unwrap_or_default(),
            created: r.get(6)?,
            modified: r.get(7)?,
            revoked: r.get(8)?,
            reference: r.get(9)?,
            first_seen: r.get(10)?,
            last_seen: r.get(11)?,
            confidence: r.get(12)?,
            tlp: tlp.parse().unwrap_or(Tlp::Red),
            added_at: r.get(14)?,
            updated_at: r.get(15)?,
            observables: Vec::new(),
            description: r.get(18)?,
            source_ref: ends.as_ref().map(|(s, _)| s.clone()),
            target_ref: ends.as_ref().map(|(_, t)| t.clone()),
        },
        rowid: r.get(17)?,
        ends,
    })
}

/// A derived statement's common fields: what list values share (the
/// list's provenance, the value's stamps), the rest empty.
fn derived(
    raw: &str,
    stix_id: &str,
    kind: &str,
    p: &cairn_model::Provenance,
    added: &str,
    updated: &str,
) -> Statement {
    Statement {
        raw: serde_json::from_str(raw).unwrap_or(serde_json::Value::Null),
        stix_id: stix_id.to_string(),
        kind: kind.to_string(),
        source: p.source.clone(),
        name: None,
        country: None,
        labels: Vec::new(),
        created: None,
        modified: None,
        revoked: false,
        reference: p.reference.clone(),
        first_seen: None,
        last_seen: None,
        confidence: p.confidence,
        tlp: p.tlp,
        added_at: added.to_string(),
        updated_at: updated.to_string(),
        observables: Vec::new(),
        description: None,
        source_ref: None,
        target_ref: None,
    }
}

/// A list value's derived indicator as a collected statement.
pub(crate) fn listed_row(o: &cairn_model::Object, key: i64, added: &str, updated: &str) -> Row {
    Row {
        st: Statement {
            name: o.name.clone(),
            labels: o.labels.clone(),
            observables: o.observables.clone(),
            ..derived(&o.raw, &o.id, &o.kind, &o.prov, added, updated)
        },
        rowid: key,
        ends: None,
    }
}

/// A list value's derived `indicates` relationship as a collected statement.
pub(crate) fn listed_relation_row(
    r: &cairn_model::Relation,
    key: i64,
    added: &str,
    updated: &str,
) -> Row {
    Row {
        st: Statement {
            source_ref: Some(r.source_ref.clone()),
            target_ref: Some(r.target_ref.clone()),
            ..derived(&r.raw, &r.id, &r.rel_type, &r.prov, added, updated)
        },
        rowid: key,
        ends: Some((r.source_ref.clone(), r.target_ref.clone())),
    }
}

/// Statements collected so far, one per (source, id), in insertion order.
#[derive(Default)]
struct Collected {
    items: Vec<Row>,
    seen: HashSet<(String, String)>,
    ids: HashSet<String>,
}

impl Collected {
    fn push(&mut self, row: Row) {
        if self
            .seen
            .insert((row.st.source.clone(), row.st.stix_id.clone()))
        {
            self.ids.insert(row.st.stix_id.clone());
            self.items.push(row);
        }
    }
}

impl Store {
    /// The subgraph of the actor `query` resolves to (see [`Subgraph`]), or
    /// `None` when no actor answers to it. Withdrawn statements are left
    /// out; revoked ones are kept, flagged as their source flagged them.
    pub fn actor_subgraph(&self, query: &str) -> Result<Option<Subgraph>, KbError> {
        let Some(profile) = self.actor(query)? else {
            return Ok(None);
        };
        let member_ids: BTreeSet<String> =
            profile.members.iter().map(|m| m.stix_id.clone()).collect();
        let member_keys: HashSet<(String, String)> = profile
            .members
            .iter()
            .map(|m| (m.source.clone(), m.stix_id.clone()))
            .collect();

        let mut objects = Collected::default();
        for row in self.objects_by_id(&member_ids)? {
            if member_keys.contains(&(row.st.source.clone(), row.st.stix_id.clone())) {
                objects.push(row);
            }
        }
        let mut relations = Collected::default();
        let rels = self.relations_touching(&member_ids, None)?;
        self.attach(&member_ids, rels, &mut objects, &mut relations)?;
        // List values indicating a member, as list intake stated them.
        self.for_each_listed(Some(&member_ids), &mut |l| {
            let Some(actor) = l.list.actor_ref.clone() else {
                return Ok(());
            };
            if !member_keys.contains(&(l.list.source.clone(), actor)) {
                return Ok(());
            }
            let (added, updated) = (
                crate::lists::ms_text(l.added_at),
                crate::lists::ms_text(l.updated_at),
            );
            let ind = l.indicator();
            let rel = l.indicates();
            objects.push(listed_row(&ind, l.key, &added, &updated));
            if let Some(r) = rel {
                relations.push(listed_relation_row(&r, l.key, &added, &updated));
            }
            Ok(())
        })?;

        // Campaigns attributed to the actor bring what they used and targeted.
        let campaigns: BTreeSet<String> = relations
            .items
            .iter()
            .filter(|r| r.st.kind == "attributed-to")
            .filter_map(|r| r.ends.as_ref())
            .filter(|(src, tgt)| member_ids.contains(tgt) && src.starts_with("campaign--"))
            .map(|(src, _)| src.clone())
            .collect();
        if !campaigns.is_empty() {
            let rels = self.relations_touching(&campaigns, Some(&["uses", "targets"]))?;
            let rels = rels
                .into_iter()
                .filter(|r| r.ends.as_ref().is_some_and(|(s, _)| campaigns.contains(s)))
                .collect();
            self.attach(&campaigns, rels, &mut objects, &mut relations)?;
        }

        // Identities and marking definitions the statements point at.
        let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in objects.items.iter().chain(relations.items.iter()) {
            for id in support_refs(&r.st.raw) {
                wanted.entry(id).or_default().insert(r.st.source.clone());
            }
        }
        let ids: BTreeSet<String> = wanted.keys().cloned().collect();
        let found = self.objects_by_id(&ids)?;
        let mut by_id: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        for row in found {
            by_id.entry(row.st.stix_id.clone()).or_default().push(row);
        }
        for (id, rows) in by_id {
            let sources = wanted.get(&id).cloned().unwrap_or_default();
            let (same, other): (Vec<Row>, Vec<Row>) = rows
                .into_iter()
                .partition(|r| sources.contains(&r.st.source));
            // Each referring source's own copy; a source without one gets the first other copy.
            let lacking = sources
                .iter()
                .any(|s| !same.iter().any(|r| &r.st.source == s));
            for row in same {
                objects.push(row);
            }
            if lacking && let Some(row) = other.into_iter().next() {
                objects.push(row);
            }
        }

        let mut objects = objects.items;
        self.fill_observables(&mut objects)?;
        let mut names: BTreeSet<String> = BTreeSet::new();
        for r in objects.iter().chain(relations.items.iter()) {
            names.insert(r.st.source.clone());
        }
        Ok(Some(Subgraph {
            profile,
            objects: objects.into_iter().map(|r| r.st).collect(),
            relations: relations.items.into_iter().map(|r| r.st).collect(),
            sources: self.sources_named(&names)?,
        }))
    }

    /// Adds `rels` whose far ends (from `anchors`) exist, with those ends.
    fn attach(
        &self,
        anchors: &BTreeSet<String>,
        rels: Vec<Row>,
        objects: &mut Collected,
        relations: &mut Collected,
    ) -> Result<(), KbError> {
        let far: BTreeSet<String> = rels
            .iter()
            .filter(|r| r.st.kind != "sighting-of")
            .filter_map(|r| r.ends.as_ref())
            .flat_map(|(s, t)| [s, t])
            .filter(|id| !anchors.contains(*id))
            .cloned()
            .collect();
        let mut by_id: HashMap<String, Vec<Row>> = HashMap::new();
        for row in self.objects_by_id(&far)? {
            by_id.entry(row.st.stix_id.clone()).or_default().push(row);
        }
        // A relationship's far end is its own source's copy when there is
        // one, else one copy another source gives (already collected, or the
        // first by source name).
        let mut keep: Vec<(Row, Vec<String>)> = Vec::new();
        for rel in rels {
            let Some((src, tgt)) = rel.ends.clone() else {
                continue;
            };
            let ends: Vec<String> = if rel.st.kind == "sighting-of" {
                vec![tgt]
            } else {
                vec![src, tgt]
            };
            let ok = ends.iter().all(|end| {
                if anchors.contains(end.as_str()) {
                    objects.ids.contains(end.as_str())
                } else {
                    by_id.contains_key(end.as_str())
                }
            });
            if ok {
                let far: Vec<String> = ends
                    .into_iter()
                    .filter(|e| !anchors.contains(e.as_str()))
                    .collect();
                keep.push((rel, far));
            }
        }
        let mut taken: HashSet<i64> = HashSet::new();
        let mut lacking: Vec<&str> = Vec::new();
        for (rel, far) in &keep {
            for end in far {
                let cands = by_id.get(end).map(Vec::as_slice).unwrap_or(&[]);
                let own: Vec<i64> = cands
                    .iter()
                    .filter(|c| c.st.source == rel.st.source)
                    .map(|c| c.rowid)
                    .collect();
                if own.is_empty() {
                    lacking.push(end.as_str());
                }
                taken.extend(own);
            }
        }
        for end in lacking {
            let cands = by_id.get(end).map(Vec::as_slice).unwrap_or(&[]);
            let covered =
                objects.ids.contains(end) || cands.iter().any(|c| taken.contains(&c.rowid));
            if !covered && let Some(c) = cands.first() {
                taken.insert(c.rowid);
            }
        }
        for (rel, _) in keep {
            relations.push(rel);
        }
        let mut rows: Vec<Row> = by_id.into_values().flatten().collect();
        rows.sort_by(|a, b| {
            (a.st.source.as_str(), a.st.stix_id.as_str())
                .cmp(&(b.st.source.as_str(), b.st.stix_id.as_str()))
        });
        for row in rows {
            if taken.contains(&row.rowid) {
                objects.push(row);
            }
        }
        Ok(())
    }

    /// Live objects with any of these STIX ids, every source's copy.
    fn objects_by_id(&self, ids: &BTreeSet<String>) -> Result<Vec<Row>, KbError> {
        let ids: Vec<&String> = ids.iter().collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!(
                "SELECT {OBJ_COLS} FROM objects o JOIN sources s ON s.id = o.source_id \
                 WHERE o.withdrawn_at IS NULL AND o.stix_id IN ({marks}) ORDER BY s.name, o.stix_id"
            );
            let mut q = self.conn.prepare(&sql)?;
            let rows = q.query_map(params_from_iter(chunk.iter()), |r| read_row(r, false))?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    /// Live relationships with an end among `ids`, optionally of some types.
    fn relations_touching(
        &self,
        ids: &BTreeSet<String>,
        types: Option<&[&str]>,
    ) -> Result<Vec<Row>, KbError> {
        let ids: Vec<&String> = ids.iter().collect();
        let type_clause = types
            .map(|t| {
                let list: Vec<String> = t.iter().map(|x| format!("'{x}'")).collect();
                format!(" AND r.rel_type IN ({})", list.join(", "))
            })
            .unwrap_or_default();
        let mut out = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        for col in ["r.src_ref", "r.tgt_ref"] {
            for chunk in ids.chunks(CHUNK) {
                let marks = vec!["?"; chunk.len()].join(",");
                let sql = format!(
                    "SELECT {REL_COLS} FROM relations r JOIN sources s ON s.id = r.source_id \
                     WHERE r.withdrawn_at IS NULL AND {col} IN ({marks}){type_clause} \
                     ORDER BY s.name, r.stix_id"
                );
                let mut q = self.conn.prepare(&sql)?;
                let rows = q.query_map(params_from_iter(chunk.iter()), |r| read_row(r, true))?;
                for row in rows {
                    let row = row?;
                    if seen.insert(row.rowid) {
                        out.push(row);
                    }
                }
            }
        }
        out.sort_by(|a, b| {
            (a.st.source.as_str(), a.st.stix_id.as_str())
                .cmp(&(b.st.source.as_str(), b.st.stix_id.as_str()))
        });
        Ok(out)
    }

    pub(crate) fn fill_observables(&self, rows: &mut [Row]) -> Result<(), KbError> {
        let mut q = self.conn.prepare(
            "SELECT kind, value FROM observables WHERE object_id = ?1 ORDER BY kind, value",
        )?;
        for row in rows.iter_mut().filter(|r| r.st.kind == "indicator") {
            let found = q.query_map([row.rowid], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            for f in found {
                let (kind, value) = f?;
                if let Ok(kind) = kind.parse::<IndicatorKind>() {
                    row.st.observables.push(Observable { kind, value });
                }
            }
        }
        Ok(())
    }

    fn sources_named(&self, names: &BTreeSet<String>) -> Result<Vec<SourceInfo>, KbError> {
        let mut q = self.conn.prepare(
            "SELECT name, format, first_ingested, last_ingested FROM sources WHERE name = ?1",
        )?;
        let mut out = Vec::new();
        for n in names {
            let rows = q.query_map([n], |r| {
                Ok(SourceInfo {
                    name: r.get(0)?,
                    format: r.get(1)?,
                    first_ingested: r.get(2)?,
                    last_ingested: r.get(3)?,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }
}

/// `created_by_ref`, `object_marking_refs` and granular marking refs.
fn support_refs(raw: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = raw.get("created_by_ref").and_then(|v| v.as_str()) {
        out.push(c.to_string());
    }
    if let Some(list) = raw.get("object_marking_refs").and_then(|v| v.as_array()) {
        out.extend(list.iter().filter_map(|m| m.as_str()).map(str::to_string));
    }
    if let Some(list) = raw.get("granular_markings").and_then(|v| v.as_array()) {
        out.extend(
            list.iter()
                .filter_map(|g| g.get("marking_ref").and_then(|m| m.as_str()))
                .map(str::to_string),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation, Tlp};

    fn prov(source: &str, tlp: Tlp) -> Provenance {
        Provenance {
            source: source.into(),
            tlp,
            ..Default::default()
        }
    }

    fn obj(id: &str, kind: &str, name: &str, source: &str, tlp: Tlp) -> Object {
        Object {
            id: id.into(),
            kind: kind.into(),
            name: Some(name.into()),
            raw: serde_json::json!({"type": kind, "id": id, "name": name}).to_string(),
            prov: prov(source, tlp),
            ..Object::default()
        }
    }

    fn rel(id: &str, t: &str, s: &str, g: &str, source: &str, tlp: Tlp) -> Relation {
        Relation {
            id: id.into(),
            rel_type: t.into(),
            source_ref: s.into(),
            target_ref: g.into(),
            raw: serde_json::json!({"type":"relationship","id":id,"relationship_type":t,
                "source_ref":s,"target_ref":g})
            .to_string(),
            prov: prov(source, tlp),
            ..Relation::default()
        }
    }

    const ACTOR: &str = "intrusion-set--00000000-0000-4000-8000-000000000001";
    const TECH: &str = "attack-pattern--00000000-0000-4000-8000-000000000002";
    const IND: &str = "indicator--00000000-0000-4000-8000-000000000003";
    const GONE: &str = "malware--00000000-0000-4000-8000-000000000004";
    const CAMP: &str = "campaign--00000000-0000-4000-8000-000000000005";
    const TOOL: &str = "tool--00000000-0000-4000-8000-000000000006";

    fn store() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let mut ind = obj(IND, "indicator", "evil.example", "a", Tlp::Red);
        ind.observables = vec![Observable::new(IndicatorKind::Domain, "evil.example")];
        let b = Bundle {
            source: "a".into(),
            format: "stix".into(),
            objects: vec![
                obj(ACTOR, "intrusion-set", "Test Panda", "a", Tlp::Clear),
                obj(TECH, "attack-pattern", "Phishing", "a", Tlp::Clear),
                ind,
                obj(CAMP, "campaign", "Op Test", "a", Tlp::Clear),
                obj(TOOL, "tool", "Wrench", "a", Tlp::Clear),
            ],
            relations: vec![
                rel("relationship--1", "uses", ACTOR, TECH, "a", Tlp::Clear),
                rel("relationship--2", "indicates", IND, ACTOR, "a", Tlp::Red),
                // Its far end is nowhere in the store: left out.
                rel("relationship--3", "uses", ACTOR, GONE, "a", Tlp::Clear),
                rel(
                    "relationship--4",
                    "attributed-to",
                    CAMP,
                    ACTOR,
                    "a",
                    Tlp::Clear,
                ),
                rel("relationship--5", "uses", CAMP, TOOL, "a", Tlp::Clear),
            ],
            ..Bundle::default()
        };
        s.ingest(&b, None, None).unwrap();
        // A second source with its own copy of the actor, same id.
        let b2 = Bundle {
            source: "b".into(),
            format: "misp-galaxy".into(),
            objects: vec![obj(ACTOR, "intrusion-set", "Test Panda", "b", Tlp::Clear)],
            ..Bundle::default()
        };
        s.ingest(&b2, None, None).unwrap();
        s
    }

    #[test]
    fn subgraph_keeps_sources_apart_and_follows_campaigns() {
        let s = store();
        let g = s.actor_subgraph("Test Panda").unwrap().unwrap();
        let objs: Vec<(String, String)> = g
            .objects
            .iter()
            .map(|o| (o.source.clone(), o.stix_id.clone()))
            .collect();
        assert!(objs.contains(&("a".into(), ACTOR.into())));
        assert!(objs.contains(&("b".into(), ACTOR.into())));
        for id in [TECH, IND, CAMP, TOOL] {
            assert!(objs.iter().any(|(_, o)| o == id), "{id} missing: {objs:?}");
        }
        let rels: Vec<&str> = g.relations.iter().map(|r| r.stix_id.as_str()).collect();
        assert_eq!(rels.len(), 4, "{rels:?}");
        assert!(!rels.contains(&"relationship--3"));
        let ind = g.objects.iter().find(|o| o.stix_id == IND).unwrap();
        assert_eq!(ind.observables.len(), 1);
        assert_eq!(g.sources.len(), 2);
        assert!(s.actor_subgraph("Nobody At All").unwrap().is_none());
    }

    #[test]
    fn restricted_store_leaves_red_out_of_the_subgraph() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let mut s = Store::open(&path).unwrap();
            let mut ind = obj(IND, "indicator", "evil.example", "a", Tlp::Red);
            ind.observables = vec![Observable::new(IndicatorKind::Domain, "evil.example")];
            let b = Bundle {
                source: "a".into(),
                format: "stix".into(),
                objects: vec![
                    obj(ACTOR, "intrusion-set", "Test Panda", "a", Tlp::Clear),
                    ind,
                ],
                relations: vec![rel(
                    "relationship--2",
                    "indicates",
                    IND,
                    ACTOR,
                    "a",
                    Tlp::Clear,
                )],
                ..Bundle::default()
            };
            s.ingest(&b, None, None).unwrap();
        }
        let open = Store::open(&path).unwrap();
        let g = open.actor_subgraph("Test Panda").unwrap().unwrap();
        assert!(g.objects.iter().any(|o| o.stix_id == IND));
        assert_eq!(g.relations.len(), 1);

        let mut narrow = Store::open(&path).unwrap();
        narrow.restrict(Tlp::Amber).unwrap();
        let g = narrow.actor_subgraph("Test Panda").unwrap().unwrap();
        assert!(g.objects.iter().all(|o| o.stix_id != IND));
        // The relationship is CLEAR, but its far end is hidden: it goes too.
        assert!(g.relations.is_empty());
    }
}
