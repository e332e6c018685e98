//! Actor resolution: the alias graph, read at query time.
//!
//! Every source's actor object is a node; its names are the edges that
//! source asserts. A query's *seeds* are the actors that carry the queried
//! name (or id). Members are the seeds plus the actors that share a name
//! with a seed — one hop only, so chains of loose synonyms cannot pull in
//! half the catalogue. A source keeps one member (the one sharing most
//! names); any other actor of that source reached through the linked names
//! is a *conflict*: that source keeps apart what others call one actor.

use crate::actor_rows::{ActorQuery, ActorRows};
use crate::errors::KbError;
use serde::Serialize;

/// Sources disagree: `kept_apart_by` treats `name` as a different actor
/// from `kept_apart_from`, while `linked_by` name them as one.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// The other actor's name.
    pub name: String,
    /// Its ATT&CK or STIX id.
    pub other_id: String,
    /// The source keeping the two apart.
    pub kept_apart_by: String,
    /// That source's actor for this profile.
    pub kept_apart_from: String,
    /// And its id.
    pub kept_apart_from_id: String,
    /// Names through which other sources link the two.
    pub linking_names: Vec<String>,
    /// Sources that link them.
    pub linked_by: Vec<String>,
}
use cairn_model::{Object, normalize_name};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A name carried by more actors than this says nothing about identity.
const AMBIGUOUS: usize = 12;

pub(crate) struct Node {
    pub rowid: i64,
    pub obj: Object,
    pub norms: BTreeSet<String>,
    pub seed: bool,
    pub support: usize,
}

pub(crate) struct Resolved {
    pub members: Vec<Node>,
    pub conflicts: Vec<Conflict>,
}

/// Resolves `query` (a name or a STIX id) over any backend's rows.
pub(crate) fn resolve<R: ActorRows + ?Sized>(
    r: &R,
    query: &str,
) -> Result<Option<Resolved>, KbError> {
    let q = query.trim();
    let mut seeds = if q.contains("--") {
        r.actor_rows(ActorQuery::StixId(&q.to_ascii_lowercase()))?
    } else {
        let norm = normalize_name(q);
        if norm.is_empty() {
            return Ok(None);
        }
        r.actor_rows(ActorQuery::Norm(&norm))?
    };
    // A revoked actor stands for its replacement, as ATT&CK documents.
    if seeds.iter().all(|(_, o)| o.revoked) && !seeds.is_empty() {
        let ids: Vec<String> = seeds.iter().map(|(_, o)| o.id.clone()).collect();
        let replaced = r.actor_rows(ActorQuery::Replacing(&ids))?;
        if !replaced.is_empty() {
            seeds = replaced;
        }
    } else {
        seeds.retain(|(_, o)| !o.revoked);
    }
    if seeds.is_empty() {
        return Ok(None);
    }

    let seed_ids: Vec<i64> = seeds.iter().map(|(id, _)| *id).collect();
    let seed_norms = r.norms_of(&seed_ids)?;
    let n1: BTreeSet<String> = seed_norms.values().flatten().cloned().collect();
    let mut nodes: BTreeMap<i64, Node> = BTreeMap::new();
    for (rowid, obj) in seeds {
        nodes.insert(
            rowid,
            Node {
                rowid,
                norms: seed_norms.get(&rowid).cloned().unwrap_or_default(),
                obj,
                seed: true,
                support: 0,
            },
        );
    }
    let hop = actors_named(r, &n1)?;
    let hop_ids: Vec<i64> = hop.iter().map(|(id, _)| *id).collect();
    let hop_norms = r.norms_of(&hop_ids)?;
    let carriers = count_carriers(&hop_norms);
    for (rowid, obj) in hop {
        let norms = hop_norms.get(&rowid).cloned().unwrap_or_default();
        let linking = norms
            .intersection(&n1)
            .filter(|n| carriers.get(n.as_str()).copied().unwrap_or(0) <= AMBIGUOUS)
            .count();
        if linking == 0 && !nodes.contains_key(&rowid) {
            continue;
        }
        nodes.entry(rowid).or_insert(Node {
            rowid,
            obj,
            norms,
            seed: false,
            support: 0,
        });
    }
    for n in nodes.values_mut() {
        n.support = n.norms.intersection(&n1).count() + if n.seed { 1000 } else { 0 };
    }

    // One member per source: the best supported.
    let mut by_source: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    for n in nodes.into_values() {
        by_source
            .entry(n.obj.prov.source.clone())
            .or_default()
            .push(n);
    }
    let mut members = Vec::new();
    let mut apart: Vec<(String, Node)> = Vec::new();
    for (src, mut group) in by_source {
        group.sort_by(|a, b| b.support.cmp(&a.support).then(a.rowid.cmp(&b.rowid)));
        let mut it = group.into_iter();
        if let Some(m) = it.next() {
            members.push(m);
        }
        apart.extend(it.map(|n| (src.clone(), n)));
    }

    // Second look: names the members carry that other actors of a
    // member's source also carry.
    let n2: BTreeSet<String> = members
        .iter()
        .flat_map(|m| m.norms.iter().cloned())
        .collect();
    let known: BTreeSet<i64> = members
        .iter()
        .map(|m| m.rowid)
        .chain(apart.iter().map(|(_, n)| n.rowid))
        .collect();
    let more = actors_named(r, &n2)?;
    let more_ids: Vec<i64> = more
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !known.contains(id))
        .collect();
    let more_norms = r.norms_of(&more_ids)?;
    for (rowid, obj) in more {
        if known.contains(&rowid) || !members.iter().any(|m| m.obj.prov.source == obj.prov.source) {
            continue;
        }
        let norms = more_norms.get(&rowid).cloned().unwrap_or_default();
        apart.push((
            obj.prov.source.clone(),
            Node {
                rowid,
                obj,
                norms,
                seed: false,
                support: 0,
            },
        ));
    }

    let conflicts = apart
        .into_iter()
        .filter_map(|(src, other)| conflict(&src, &other, &members))
        .collect();
    members.sort_by(|a, b| b.support.cmp(&a.support).then(a.rowid.cmp(&b.rowid)));
    Ok(Some(Resolved { members, conflicts }))
}

/// Actors (row id, object) carrying any of `norms` as a name.
fn actors_named<R: ActorRows + ?Sized>(
    r: &R,
    norms: &BTreeSet<String>,
) -> Result<Vec<(i64, Object)>, KbError> {
    if norms.is_empty() {
        return Ok(Vec::new());
    }
    r.actor_rows(ActorQuery::Named(norms))
}

fn count_carriers(norms: &HashMap<i64, BTreeSet<String>>) -> HashMap<&str, usize> {
    let mut c: HashMap<&str, usize> = HashMap::new();
    for set in norms.values() {
        for n in set {
            *c.entry(n.as_str()).or_insert(0) += 1;
        }
    }
    c
}

/// Describes why `other` (kept apart by `src`) is linked to the members.
fn conflict(src: &str, other: &Node, members: &[Node]) -> Option<Conflict> {
    let kept = members.iter().find(|m| m.obj.prov.source == src)?;
    let mut linking: BTreeSet<String> = BTreeSet::new();
    let mut linked_by: BTreeSet<String> = BTreeSet::new();
    for m in members.iter().filter(|m| m.obj.prov.source != src) {
        let shared_with_other: Vec<&String> = m.norms.intersection(&other.norms).collect();
        let shared_with_kept = m.norms.intersection(&kept.norms).count();
        if !shared_with_other.is_empty() && shared_with_kept > 0 {
            linked_by.insert(m.obj.prov.source.clone());
            linking.extend(
                shared_with_other
                    .into_iter()
                    .map(|n| display_name(n, &other.obj)),
            );
        }
    }
    if linked_by.is_empty() {
        return None;
    }
    Some(Conflict {
        name: other.obj.name.clone().unwrap_or_default(),
        other_id: other
            .obj
            .external_id
            .clone()
            .unwrap_or_else(|| other.obj.id.clone()),
        kept_apart_by: src.to_string(),
        kept_apart_from: kept.obj.name.clone().unwrap_or_default(),
        kept_apart_from_id: kept
            .obj
            .external_id
            .clone()
            .unwrap_or_else(|| kept.obj.id.clone()),
        linking_names: linking.into_iter().collect(),
        linked_by: linked_by.into_iter().collect(),
    })
}

/// The spelling an object uses for a normalized name.
pub(crate) fn display_name(norm: &str, o: &Object) -> String {
    o.name
        .iter()
        .chain(o.aliases.iter())
        .chain(o.external_id.iter())
        .find(|n| normalize_name(n) == norm)
        .cloned()
        .unwrap_or_else(|| norm.to_string())
}
