//! Actor profiles: what the linked sources say about one actor, each claim
//! with the sources that make it.

use crate::Store;
use crate::actor_rows::{ActorRows, CampaignRow, IndicatorCountRow, TargetRow, UsesRow};
use crate::errors::KbError;
use crate::resolve::{Conflict, Node, display_name, resolve};
use cairn_model::{country_name, normalize_name};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An actor as every linked source describes it.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// Display name: the primary name of the best-matching actor.
    pub name: String,
    /// What was asked.
    pub query: String,
    /// ATT&CK group id, when ATT&CK is among the sources.
    pub attack_id: Option<String>,
    /// The actor objects (one per source) the profile is built from.
    pub members: Vec<Member>,
    /// Every name, with the sources that use it.
    pub aliases: Vec<AliasClaim>,
    /// Where sources disagree about what is one actor.
    pub conflicts: Vec<Conflict>,
    /// Description and the source it comes from.
    pub description: Option<String>,
    /// Source of the description.
    pub description_source: Option<String>,
    /// Suspected origin, with sources.
    pub origin: Vec<CountClaim>,
    /// ATT&CK techniques the sources say the actor uses.
    pub techniques: Vec<TechniqueClaim>,
    /// Malware and tools.
    pub software: Vec<SoftwareClaim>,
    /// Campaigns attributed to the actor.
    pub campaigns: Vec<SoftwareClaim>,
    /// Targeted countries (ISO 3166 alpha-2).
    pub countries: Vec<CountClaim>,
    /// Targeted sectors.
    pub sectors: Vec<CountClaim>,
    /// Distinct indicator values by type.
    pub indicator_counts: BTreeMap<String, usize>,
    /// Hits recorded in the user's own logs (`cairn hunt --record`).
    pub sightings: u64,
    /// Earliest first-seen any source states.
    pub first_seen: Option<String>,
    /// Latest last-seen any source states.
    pub last_seen: Option<String>,
    /// Reference URLs, by source.
    pub references: Vec<String>,
}

/// One source's actor object.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// The source.
    pub source: String,
    /// The name that source gives.
    pub name: String,
    /// STIX id.
    pub stix_id: String,
    /// External id (ATT&CK).
    pub external_id: Option<String>,
    /// Where to check.
    pub reference: Option<String>,
    /// Whether it carries the queried name itself (else linked by a shared name).
    pub direct: bool,
    /// The source's confidence.
    pub confidence: Option<u8>,
    /// Marking.
    pub tlp: String,
}

/// A name and who uses it.
#[derive(Debug, Clone, Serialize)]
pub struct AliasClaim {
    /// The name.
    pub name: String,
    /// Sources that give it.
    pub sources: Vec<String>,
}

/// A technique claim.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueClaim {
    /// ATT&CK id (T1059.001).
    pub id: String,
    /// Name.
    pub name: String,
    /// Tactics.
    pub tactics: Vec<String>,
    /// Sources.
    pub sources: Vec<String>,
}

/// A software or campaign claim.
#[derive(Debug, Clone, Serialize)]
pub struct SoftwareClaim {
    /// ATT&CK id, when known.
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// STIX type (`malware`, `tool`, `campaign`).
    pub kind: String,
    /// Sources.
    pub sources: Vec<String>,
}

/// A country or sector claim.
#[derive(Debug, Clone, Serialize)]
pub struct CountClaim {
    /// ISO code or sector key.
    pub value: String,
    /// Display name.
    pub name: String,
    /// Sources.
    pub sources: Vec<String>,
}

fn add_source(map: &mut BTreeMap<String, BTreeSet<String>>, key: &str, src: &str) {
    map.entry(key.to_string())
        .or_default()
        .insert(src.to_string());
}

impl Store {
    /// Resolves `query` (any vendor's name, case-, space- and
    /// punctuation-blind; an ATT&CK id; a STIX id) and builds the profile.
    pub fn actor(&self, query: &str) -> Result<Option<Profile>, KbError> {
        build_profile(self, query, true)
    }

    /// The resolved name and aliases only: what an alert or lookup names, without
    /// the profile's aggregates (an actor with a million indicators would
    /// otherwise be counted on every hit).
    pub fn actor_names(&self, query: &str) -> Result<Option<crate::ActorRef>, KbError> {
        actor_ref(self, query)
    }

    /// Closest known actor names to an unknown one.
    pub fn suggest(&self, query: &str, limit: usize) -> Result<Vec<String>, KbError> {
        suggest(self, query, limit)
    }
}

/// Resolves `query` over any backend's rows and builds its profile;
/// without `full`, only the names (what an alert shows).
pub fn build_profile<R: ActorRows + ?Sized>(
    r: &R,
    query: &str,
    full: bool,
) -> Result<Option<Profile>, KbError> {
    let Some(res) = resolve(r, query)? else {
        return Ok(None);
    };
    let qnorm = normalize_name(query);
    let anchor = res
        .members
        .iter()
        .filter(|m| m.seed)
        .max_by_key(|m| {
            (
                m.obj.name.as_deref().map(normalize_name) == Some(qnorm.clone()),
                m.obj.external_id.is_some(),
                m.support,
                std::cmp::Reverse(m.rowid),
            )
        })
        .or(res.members.first());
    let Some(anchor) = anchor else {
        return Ok(None);
    };
    let ids: Vec<String> = res.members.iter().map(|m| m.obj.id.clone()).collect();

    let mut p = Profile {
        name: anchor.obj.name.clone().unwrap_or_else(|| query.to_string()),
        query: query.to_string(),
        attack_id: res
            .members
            .iter()
            .find_map(|m| m.obj.external_id.clone().filter(|e| e.starts_with('G'))),
        members: res.members.iter().map(member).collect(),
        aliases: aliases(&res.members, anchor),
        conflicts: res.conflicts,
        description: None,
        description_source: None,
        origin: Vec::new(),
        techniques: Vec::new(),
        software: Vec::new(),
        campaigns: Vec::new(),
        countries: Vec::new(),
        sectors: Vec::new(),
        indicator_counts: BTreeMap::new(),
        sightings: 0,
        first_seen: None,
        last_seen: None,
        references: Vec::new(),
    };
    // The anchor's own words when they say something; else the fullest description.
    let len = |m: &&Node| m.obj.description.as_deref().map_or(0, |d| d.trim().len());
    let described = if len(&anchor) >= 200 {
        Some(anchor)
    } else {
        res.members.iter().filter(|m| len(m) > 0).max_by_key(len)
    };
    if let Some(d) = described {
        p.description = d.obj.description.clone();
        p.description_source = Some(d.obj.prov.source.clone());
    }
    let mut origin: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &res.members {
        if let Some(c) = &m.obj.country {
            add_source(&mut origin, c, &m.obj.prov.source);
        }
        for r in &m.obj.references {
            if !p.references.contains(r) {
                p.references.push(r.clone());
            }
        }
        p.first_seen = min_opt(p.first_seen.take(), m.obj.prov.first_seen.clone());
        p.last_seen = max_opt(p.last_seen.take(), m.obj.prov.last_seen.clone());
    }
    p.origin = country_claims(origin);
    if !full {
        return Ok(Some(p));
    }
    fill_uses(r.uses_rows(&ids)?, &mut p);
    fill_campaigns(r.campaign_rows(&ids)?, &mut p);
    fill_targets(r.target_rows(&ids)?, &mut p);
    fill_indicators(r.indicator_rows(&ids)?, &mut p);
    Ok(Some(p))
}

/// The resolved name and aliases of `query` over any backend's rows: what
/// an alert or a lookup names, without the profile's aggregates.
pub fn actor_ref<R: ActorRows + ?Sized>(
    r: &R,
    query: &str,
) -> Result<Option<crate::ActorRef>, KbError> {
    Ok(build_profile(r, query, false)?.map(|p| crate::ActorRef {
        aliases: p
            .aliases
            .iter()
            .map(|a| a.name.clone())
            .filter(|a| *a != p.name)
            .collect(),
        name: p.name,
    }))
}

/// Closest known actor names to an unknown one, over any backend's rows.
pub fn suggest<R: ActorRows + ?Sized>(
    r: &R,
    query: &str,
    limit: usize,
) -> Result<Vec<String>, KbError> {
    let qn = normalize_name(query);
    let mut scored: Vec<(f64, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (norm, name) in r.actor_name_rows()? {
        if !seen.insert(norm.clone()) || qn.is_empty() {
            continue;
        }
        let mut s = strsim::jaro_winkler(&qn, &norm);
        if qn.len() >= 3 && norm.contains(&qn) {
            s = s.max(0.9);
        }
        if s >= 0.8 {
            scored.push((s, name));
        }
    }
    // Ties by name, so both backends (whose rows come in any order) agree.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(scored.into_iter().take(limit).map(|(_, n)| n).collect())
}

fn fill_uses(rows: Vec<UsesRow>, p: &mut Profile) {
    let mut techs: BTreeMap<String, TechniqueClaim> = BTreeMap::new();
    let mut soft: BTreeMap<String, SoftwareClaim> = BTreeMap::new();
    for row in rows {
        let UsesRow {
            kind,
            external_id: ext,
            name,
            tactics,
            source: src,
        } = row;
        let name = name.unwrap_or_default();
        if kind == "attack-pattern" {
            let Some(id) = ext else { continue };
            let t = techs.entry(id.clone()).or_insert_with(|| TechniqueClaim {
                id,
                name: name.clone(),
                tactics: serde_json::from_str(&tactics).unwrap_or_default(),
                sources: Vec::new(),
            });
            if !t.sources.contains(&src) {
                t.sources.push(src);
            }
        } else {
            let key = ext.clone().unwrap_or_else(|| normalize_name(&name));
            let s = soft.entry(key).or_insert_with(|| SoftwareClaim {
                id: ext,
                name,
                kind,
                sources: Vec::new(),
            });
            if !s.sources.contains(&src) {
                s.sources.push(src);
            }
        }
    }
    p.techniques = techs.into_values().collect();
    p.software = soft.into_values().collect();
    p.software.sort_by_key(|a| a.name.to_lowercase());
}

fn fill_campaigns(rows: Vec<CampaignRow>, p: &mut Profile) {
    let mut camps: BTreeMap<String, SoftwareClaim> = BTreeMap::new();
    for row in rows {
        let name = row.name.unwrap_or_default();
        p.first_seen = min_opt(p.first_seen.take(), row.first_seen);
        p.last_seen = max_opt(p.last_seen.take(), row.last_seen);
        let c = camps
            .entry(row.external_id.clone().unwrap_or_else(|| name.clone()))
            .or_insert_with(|| SoftwareClaim {
                id: row.external_id,
                name,
                kind: "campaign".into(),
                sources: Vec::new(),
            });
        if !c.sources.contains(&row.source) {
            c.sources.push(row.source);
        }
    }
    p.campaigns = camps.into_values().collect();
}

fn fill_targets(rows: Vec<TargetRow>, p: &mut Profile) {
    let mut countries: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sectors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sector_names: BTreeMap<String, String> = BTreeMap::new();
    for row in rows {
        if row.kind == "location" {
            if let Some(c) = row.country {
                add_source(&mut countries, &c, &row.source);
            }
        } else {
            let list: Vec<String> = serde_json::from_str(&row.sectors).unwrap_or_default();
            for s in list {
                let key = normalize_name(&s);
                sector_names.entry(key.clone()).or_insert(s);
                add_source(&mut sectors, &key, &row.source);
            }
        }
    }
    p.countries = country_claims(countries);
    p.sectors = sectors
        .into_iter()
        .map(|(k, s)| CountClaim {
            name: sector_names.get(&k).cloned().unwrap_or_else(|| k.clone()),
            value: k,
            sources: s.into_iter().collect(),
        })
        .collect();
}

fn fill_indicators(rows: Vec<IndicatorCountRow>, p: &mut Profile) {
    for row in rows {
        p.indicator_counts
            .insert(row.kind, row.values.max(0) as usize);
        p.first_seen = min_opt(p.first_seen.take(), row.first_seen);
        p.last_seen = max_opt(p.last_seen.take(), row.last_seen);
        p.sightings = row.sightings.max(0) as u64;
    }
}

fn member(n: &Node) -> Member {
    Member {
        source: n.obj.prov.source.clone(),
        name: n.obj.name.clone().unwrap_or_default(),
        stix_id: n.obj.id.clone(),
        external_id: n.obj.external_id.clone(),
        reference: n.obj.prov.reference.clone(),
        direct: n.seed,
        confidence: n.obj.prov.confidence,
        tlp: n.obj.prov.tlp.as_str().to_string(),
    }
}

fn aliases(members: &[Node], anchor: &Node) -> Vec<AliasClaim> {
    let mut by_norm: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for m in std::iter::once(anchor).chain(members.iter()) {
        for norm in &m.norms {
            let e = by_norm
                .entry(norm.clone())
                .or_insert_with(|| (display_name(norm, &m.obj), BTreeSet::new()));
            e.1.insert(m.obj.prov.source.clone());
        }
    }
    let first = anchor.obj.name.as_deref().map(normalize_name);
    let mut out: Vec<(bool, usize, AliasClaim)> = by_norm
        .into_iter()
        .map(|(norm, (name, s))| {
            (
                Some(&norm) == first.as_ref(),
                s.len(),
                AliasClaim {
                    name,
                    sources: s.into_iter().collect(),
                },
            )
        })
        .collect();
    out.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.name.cmp(&b.2.name))
    });
    out.into_iter().map(|(_, _, a)| a).collect()
}

fn country_claims(m: BTreeMap<String, BTreeSet<String>>) -> Vec<CountClaim> {
    m.into_iter()
        .map(|(code, s)| CountClaim {
            name: country_name(&code).unwrap_or_else(|| code.clone()),
            value: code,
            sources: s.into_iter().collect(),
        })
        .collect()
}

fn min_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
