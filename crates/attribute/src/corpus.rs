//! The corpus: what is known about every candidate actor, indexed for scoring.

use crate::util::{citations, country_code, indicator_key, year_of};
use cairn_model::{Bundle, Object, normalize_name};
use std::collections::{BTreeSet, HashMap, HashSet};

/// One unit of TTP or infrastructure evidence, as the corpus indexes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub(crate) enum Feature {
    /// A technique or sub-technique (index into `Corpus::techniques`).
    Tech(u32),
    /// A malware or tool (index into `Corpus::software`).
    Soft(u32),
    /// An indicator value (index into `Corpus::indicators`).
    Ind(u32),
}

/// How a profile came to hold a feature: the explanation of a match.
/// Ordered so that among equal weights the same one is kept whatever the
/// order a group's items are met in.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub(crate) enum Via {
    /// The actor (or one of its campaigns) is stated to use it.
    Direct,
    /// Parent of a sub-technique the actor uses.
    Parent(u32),
    /// A technique the actor's software is known to use.
    Software(u32),
}

#[derive(Clone, Debug)]
pub(crate) struct Technique {
    pub attack_id: String,
    pub name: String,
    pub parent: Option<u32>,
    pub replaced_by: Option<u32>,
    pub deprecated: bool,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Software {
    pub attack_id: Option<String>,
    pub name: String,
    pub techniques: Vec<u32>,
    pub replaced_by: Option<u32>,
}

/// One statement that an actor used a feature.
#[derive(Clone, Debug)]
pub(crate) struct Support {
    /// The campaign the statement comes from, when it is a campaign's.
    pub campaign: Option<u32>,
    /// The sources the statement cites.
    pub citations: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Group {
    pub name: String,
    pub attack_id: Option<String>,
    pub aliases: Vec<String>,
    /// Actors from other sources attached to this cluster ("name (source)").
    pub members: Vec<String>,
    pub items: HashMap<Feature, Vec<Support>>,
    pub countries: BTreeSet<String>,
    pub sectors: BTreeSet<String>,
    pub first_seen: Option<f64>,
    pub last_seen: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Campaign {
    pub name: String,
    pub attack_id: Option<String>,
    pub group: Option<u32>,
    pub items: BTreeSet<Feature>,
    pub citations: HashSet<String>,
}

/// A group's weighted feature profile.
pub(crate) type Profile = HashMap<Feature, (f64, Via)>;

/// Profiles of every group with the statistics scoring needs.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProfileSet {
    pub profiles: Vec<Profile>,
    /// Soft document frequency: the summed profile weight of a feature over groups.
    pub df: HashMap<Feature, f64>,
    /// Number of groups with a non-empty TTP profile.
    pub n: f64,
    /// Median profile size, the size at which the size factor is 1.
    pub size_ref: f64,
}

/// Tunable weights of the model (see docs/ATTRIBUTION.md).
#[derive(Clone, Debug)]
pub struct Weights {
    /// Profile weight of a parent technique for a group using one of its sub-techniques.
    pub parent: f64,
    /// Profile weight of a technique a group's software is known to use.
    pub via_software: f64,
    /// Smoothing of the profile-size normalisation.
    pub size_smoothing: f64,
    /// Number of techniques beyond which a software's techniques are damped
    /// (by `sqrt(breadth / n)`), so that a toolkit with 90 techniques does not
    /// outweigh everything else; 0 disables.
    pub software_breadth: f64,
    /// Weight of evidence against: an observed rare item the candidate is not known to use.
    pub against: f64,
    /// Weight of an indicator shared with a candidate.
    pub indicator: f64,
    /// Weight of a victim country or sector match (a weak prior).
    pub victimology: f64,
    /// Penalty per log-year an incident lies outside the candidate's known activity.
    pub time_decay: f64,
    /// Years of grace before time decay starts.
    pub time_grace: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            parent: 0.5,
            via_software: 0.5,
            size_smoothing: 10.0,
            software_breadth: 10.0,
            against: 0.05,
            indicator: 1.0,
            victimology: 0.25,
            time_decay: 0.5,
            time_grace: 2.0,
        }
    }
}

/// Everything known about candidate actors, techniques and software, indexed
/// for attribution. Built once from a [`Bundle`] (the store's snapshot or an
/// ATT&CK file) and then queried with [`crate::Evidence`].
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    pub(crate) techniques: Vec<Technique>,
    pub(crate) tech_by_id: HashMap<String, u32>,
    pub(crate) software: Vec<Software>,
    pub(crate) soft_by_key: HashMap<String, Vec<u32>>,
    pub(crate) indicators: Vec<String>,
    pub(crate) ind_software: HashMap<u32, Vec<u32>>,
    pub(crate) ind_by_value: HashMap<String, u32>,
    pub(crate) groups: Vec<Group>,
    pub(crate) group_by_key: HashMap<String, Vec<u32>>,
    /// Primary names of attached actors → their cluster (for alert names).
    pub(crate) member_key: HashMap<String, Vec<u32>>,
    pub(crate) campaigns: Vec<Campaign>,
    pub(crate) country_df: HashMap<String, f64>,
    pub(crate) sector_df: HashMap<String, f64>,
    pub(crate) groups_with_countries: f64,
    pub(crate) groups_with_sectors: f64,
    pub(crate) weights: Weights,
    pub(crate) set: ProfileSet,
}

fn active(o: &Object) -> bool {
    !o.revoked && !o.deprecated
}

fn is_actor(kind: &str) -> bool {
    kind == "intrusion-set" || kind == "threat-actor"
}

impl Corpus {
    /// Builds the corpus from every object and relation of a bundle, with the default weights.
    pub fn from_bundle(bundle: &Bundle) -> Corpus {
        Corpus::from_bundle_with(bundle, Weights::default())
    }

    /// Builds the corpus with explicit model weights.
    pub fn from_bundle_with(bundle: &Bundle, weights: Weights) -> Corpus {
        let mut c = Corpus {
            weights,
            ..Corpus::default()
        };
        // The same STIX object can come from several sources (enterprise and
        // ICS ATT&CK share groups and software): the first statement wins.
        let mut seen_ids: HashSet<&str> = HashSet::new();
        let objects: Vec<&Object> = bundle
            .objects
            .iter()
            .filter(|o| seen_ids.insert(o.id.as_str()))
            .collect();
        let by_id: HashMap<&str, &Object> = objects.iter().map(|o| (o.id.as_str(), *o)).collect();

        // Techniques, including revoked and deprecated ones (old reports cite them).
        let mut tech_stix: HashMap<&str, u32> = HashMap::new();
        for o in objects.iter().filter(|o| o.kind == "attack-pattern") {
            let idx = c.techniques.len() as u32;
            let attack_id = o
                .external_id
                .clone()
                .unwrap_or_else(|| o.name.clone().unwrap_or_else(|| o.id.clone()));
            c.techniques.push(Technique {
                attack_id: attack_id.clone(),
                name: o.name.clone().unwrap_or_default(),
                parent: None,
                replaced_by: None,
                deprecated: o.deprecated,
                revoked: o.revoked,
            });
            tech_stix.insert(o.id.as_str(), idx);
            // An active object wins the id over a revoked one with the same id.
            let key = attack_id.to_ascii_uppercase();
            match c.tech_by_id.get(&key) {
                Some(&prev) if active_tech(&c.techniques[prev as usize]) => {}
                _ => {
                    c.tech_by_id.insert(key, idx);
                }
            }
        }

        // Software, by name, alias and ATT&CK id.
        let mut soft_stix: HashMap<&str, u32> = HashMap::new();
        for o in objects
            .iter()
            .filter(|o| o.kind == "malware" || o.kind == "tool")
        {
            let idx = c.software.len() as u32;
            let name = o.name.clone().unwrap_or_else(|| o.id.clone());
            c.software.push(Software {
                attack_id: o.external_id.clone(),
                name: name.clone(),
                techniques: Vec::new(),
                replaced_by: None,
            });
            soft_stix.insert(o.id.as_str(), idx);
            let mut keys: Vec<String> = vec![normalize_name(&name)];
            keys.extend(o.aliases.iter().map(|a| normalize_name(a)));
            if let Some(x) = &o.external_id {
                keys.push(normalize_name(x));
            }
            keys.sort();
            keys.dedup();
            for k in keys.into_iter().filter(|k| !k.is_empty()) {
                let v = c.soft_by_key.entry(k).or_default();
                // Active software is listed first so that it wins a shared alias.
                if active(o) {
                    v.insert(0, idx);
                } else {
                    v.push(idx);
                }
            }
        }

        // Technique structure: parents, replacements; software techniques.
        for r in &bundle.relations {
            match r.rel_type.as_str() {
                "subtechnique-of" => {
                    if let (Some(&s), Some(&t)) = (
                        tech_stix.get(r.source_ref.as_str()),
                        tech_stix.get(r.target_ref.as_str()),
                    ) {
                        c.techniques[s as usize].parent = Some(t);
                    }
                }
                "revoked-by" => {
                    if let (Some(&s), Some(&t)) = (
                        tech_stix.get(r.source_ref.as_str()),
                        tech_stix.get(r.target_ref.as_str()),
                    ) {
                        c.techniques[s as usize].replaced_by = Some(t);
                    }
                    if let (Some(&s), Some(&t)) = (
                        soft_stix.get(r.source_ref.as_str()),
                        soft_stix.get(r.target_ref.as_str()),
                    ) {
                        c.software[s as usize].replaced_by = Some(t);
                    }
                }
                "uses" if !r.revoked && !r.deprecated => {
                    if let (Some(&s), Some(&t)) = (
                        soft_stix.get(r.source_ref.as_str()),
                        tech_stix.get(r.target_ref.as_str()),
                    ) && active_tech(&c.techniques[t as usize])
                    {
                        c.software[s as usize].techniques.push(t);
                    }
                }
                _ => {}
            }
        }
        // Parents from the id when the relation is missing (T1059.001 → T1059).
        for i in 0..c.techniques.len() {
            if c.techniques[i].parent.is_none()
                && let Some((p, _)) = c.techniques[i].attack_id.split_once('.')
                && let Some(&pi) = c.tech_by_id.get(&p.to_ascii_uppercase())
            {
                c.techniques[i].parent = Some(pi);
            }
        }
        for s in &mut c.software {
            s.techniques.sort_unstable();
            s.techniques.dedup();
        }

        // Actors: those with TTPs (direct or through attributed campaigns) are candidates.
        let ttp_target = |id: &str| tech_stix.contains_key(id) || soft_stix.contains_key(id);
        let campaign_active = |id: &str| {
            by_id
                .get(id)
                .is_some_and(|o| o.kind == "campaign" && active(o))
        };
        let mut has_ttp: HashSet<&str> = HashSet::new();
        let mut campaign_uses: HashSet<&str> = HashSet::new();
        for r in bundle
            .relations
            .iter()
            .filter(|r| !r.revoked && !r.deprecated)
        {
            if r.rel_type == "uses" && ttp_target(&r.target_ref) {
                has_ttp.insert(r.source_ref.as_str());
                if campaign_active(&r.source_ref) {
                    campaign_uses.insert(r.source_ref.as_str());
                }
            }
        }
        for r in bundle
            .relations
            .iter()
            .filter(|r| !r.revoked && !r.deprecated)
        {
            if r.rel_type == "attributed-to" && campaign_uses.contains(r.source_ref.as_str()) {
                has_ttp.insert(r.target_ref.as_str());
            }
        }
        let mut actor_group: HashMap<&str, u32> = HashMap::new();
        let actors: Vec<&Object> = objects
            .iter()
            .copied()
            .filter(|o| is_actor(&o.kind) && active(o))
            .collect();
        let group_keys = |o: &Object| -> Vec<String> {
            let mut k: Vec<String> = o
                .name
                .iter()
                .chain(o.aliases.iter())
                .chain(o.external_id.iter())
                .map(|n| normalize_name(n))
                .filter(|n| !n.is_empty())
                .collect();
            k.sort();
            k.dedup();
            k
        };
        for o in actors.iter().filter(|o| has_ttp.contains(o.id.as_str())) {
            let idx = c.groups.len() as u32;
            let name = o.name.clone().unwrap_or_else(|| o.id.clone());
            let mut aliases: Vec<String> = o
                .aliases
                .iter()
                .filter(|a| normalize_name(a) != normalize_name(&name))
                .cloned()
                .collect();
            aliases.dedup();
            c.groups.push(Group {
                name,
                attack_id: o.external_id.clone(),
                aliases,
                ..Group::default()
            });
            for k in group_keys(o) {
                c.group_by_key.entry(k).or_default().push(idx);
            }
            actor_group.insert(o.id.as_str(), idx);
            absorb_time(&mut c.groups[idx as usize], o);
        }
        // Other actors attach to one TTP group by primary name, else by aliases
        // when those point at exactly one group; never transitively.
        let primary_names: HashMap<String, u32> = c
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (normalize_name(&g.name), i as u32))
            .collect();
        let mut standalone: Vec<&Object> = Vec::new();
        for o in actors.iter().filter(|o| !has_ttp.contains(o.id.as_str())) {
            let name_key = o.name.as_deref().map(normalize_name).unwrap_or_default();
            // An ATT&CK id the actor carries (MISP's mitre galaxies) is the
            // strongest link, then the primary name, then unambiguous aliases.
            let by_attack_id = o.external_id.as_deref().and_then(|x| {
                let hits: Vec<u32> = c
                    .groups
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| {
                        g.attack_id
                            .as_deref()
                            .is_some_and(|a| a.eq_ignore_ascii_case(x))
                    })
                    .map(|(i, _)| i as u32)
                    .collect();
                (hits.len() == 1).then(|| hits[0])
            });
            let target = by_attack_id
                .or_else(|| primary_names.get(&name_key).copied())
                .or_else(|| {
                    let hits: BTreeSet<u32> = group_keys(o)
                        .iter()
                        .filter_map(|k| c.group_by_key.get(k))
                        .flatten()
                        .copied()
                        .collect();
                    (hits.len() == 1).then(|| hits.into_iter().next()).flatten()
                });
            match target {
                Some(g) => {
                    let grp = &mut c.groups[g as usize];
                    let label = format!(
                        "{} ({})",
                        o.name.as_deref().unwrap_or(&o.id),
                        if o.prov.source.is_empty() {
                            "unknown source"
                        } else {
                            &o.prov.source
                        }
                    );
                    grp.members.push(label);
                    let known: HashSet<String> = std::iter::once(&grp.name)
                        .chain(grp.aliases.iter())
                        .map(|a| normalize_name(a))
                        .collect();
                    let mut seen = known;
                    for a in o.name.iter().chain(o.aliases.iter()) {
                        if seen.insert(normalize_name(a)) {
                            grp.aliases.push(a.clone());
                        }
                    }
                    absorb_time(grp, o);
                    actor_group.insert(o.id.as_str(), g);
                    if !name_key.is_empty() {
                        c.member_key.entry(name_key.clone()).or_default().push(g);
                    }
                }
                None => standalone.push(o),
            }
        }

        // Campaigns, and their attribution.
        let mut camp_idx: HashMap<&str, u32> = HashMap::new();
        for o in objects.iter().filter(|o| o.kind == "campaign" && active(o)) {
            camp_idx.insert(o.id.as_str(), c.campaigns.len() as u32);
            c.campaigns.push(Campaign {
                name: o.name.clone().unwrap_or_else(|| o.id.clone()),
                attack_id: o.external_id.clone(),
                ..Campaign::default()
            });
        }

        // Standalone actors (no TTPs, not attachable) are candidates only when
        // something else (indicators, victims) links to them.
        let mut linked: HashSet<&str> = HashSet::new();
        for r in bundle
            .relations
            .iter()
            .filter(|r| !r.revoked && !r.deprecated)
        {
            match r.rel_type.as_str() {
                "targets" => {
                    linked.insert(r.source_ref.as_str());
                }
                "indicates" | "attributed-to" => {
                    linked.insert(r.target_ref.as_str());
                }
                _ => {}
            }
        }
        for o in standalone {
            if !linked.contains(o.id.as_str()) {
                continue;
            }
            let idx = c.groups.len() as u32;
            let name = o.name.clone().unwrap_or_else(|| o.id.clone());
            c.groups.push(Group {
                aliases: o
                    .aliases
                    .iter()
                    .filter(|a| normalize_name(a) != normalize_name(&name))
                    .cloned()
                    .collect(),
                name,
                attack_id: o.external_id.clone(),
                ..Group::default()
            });
            for k in group_keys(o) {
                c.group_by_key.entry(k).or_default().push(idx);
            }
            absorb_time(&mut c.groups[idx as usize], o);
            actor_group.insert(o.id.as_str(), idx);
        }

        for r in bundle
            .relations
            .iter()
            .filter(|r| !r.revoked && !r.deprecated)
        {
            if r.rel_type == "attributed-to"
                && let (Some(&ci), Some(&g)) = (
                    camp_idx.get(r.source_ref.as_str()),
                    actor_group.get(r.target_ref.as_str()),
                )
            {
                c.campaigns[ci as usize].group = Some(g);
            }
        }
        for (id, &ci) in &camp_idx {
            if let (Some(g), Some(o)) = (c.campaigns[ci as usize].group, by_id.get(id)) {
                absorb_time(&mut c.groups[g as usize], o);
            }
        }

        // Uses: actor and campaign TTPs.
        for r in bundle
            .relations
            .iter()
            .filter(|r| !r.revoked && !r.deprecated)
        {
            if r.rel_type != "uses" {
                continue;
            }
            let feature = if let Some(&t) = tech_stix.get(r.target_ref.as_str()) {
                if !active_tech(&c.techniques[t as usize]) {
                    continue;
                }
                Feature::Tech(t)
            } else if let Some(&s) = soft_stix.get(r.target_ref.as_str()) {
                if by_id.get(r.target_ref.as_str()).is_some_and(|o| !active(o)) {
                    continue;
                }
                Feature::Soft(s)
            } else {
                continue;
            };
            let cites = citations(r);
            if let Some(&g) = actor_group.get(r.source_ref.as_str()) {
                c.groups[g as usize]
                    .items
                    .entry(feature)
                    .or_default()
                    .push(Support {
                        campaign: None,
                        citations: cites,
                    });
            } else if let Some(&ci) = camp_idx.get(r.source_ref.as_str()) {
                let camp = &mut c.campaigns[ci as usize];
                camp.items.insert(feature);
                camp.citations.extend(cites.iter().cloned());
                if let Some(g) = camp.group {
                    c.groups[g as usize]
                        .items
                        .entry(feature)
                        .or_default()
                        .push(Support {
                            campaign: Some(ci),
                            citations: cites,
                        });
                }
            }
        }

        // Victims and indicators.
        for r in bundle
            .relations
            .iter()
            .filter(|r| !r.revoked && !r.deprecated)
        {
            let group_of = |id: &str| {
                actor_group.get(id).copied().or_else(|| {
                    camp_idx
                        .get(id)
                        .and_then(|&ci| c.campaigns[ci as usize].group)
                })
            };
            match r.rel_type.as_str() {
                "targets" => {
                    let (Some(g), Some(t)) =
                        (group_of(&r.source_ref), by_id.get(r.target_ref.as_str()))
                    else {
                        continue;
                    };
                    if t.kind == "location" {
                        let code = t
                            .country
                            .as_deref()
                            .and_then(country_code)
                            .or_else(|| t.name.as_deref().and_then(country_code));
                        if let Some(code) = code {
                            c.groups[g as usize].countries.insert(code);
                        }
                    } else if t.kind == "identity" {
                        for s in &t.sectors {
                            c.groups[g as usize].sectors.insert(normalize_name(s));
                        }
                    }
                }
                "indicates" => {
                    let Some(ind) = by_id.get(r.source_ref.as_str()) else {
                        continue;
                    };
                    let target_soft = soft_stix.get(r.target_ref.as_str()).copied();
                    let target_group = group_of(&r.target_ref);
                    if target_soft.is_none() && target_group.is_none() {
                        continue;
                    }
                    let mut values: Vec<String> =
                        ind.observables.iter().map(|o| o.value.clone()).collect();
                    if values.is_empty()
                        && let Some(n) = &ind.name
                    {
                        values.push(indicator_key(n));
                    }
                    for v in values {
                        let next = c.indicators.len() as u32;
                        let i = *c.ind_by_value.entry(v.clone()).or_insert(next);
                        if i == next {
                            c.indicators.push(v);
                        }
                        if let Some(s) = target_soft {
                            let e = c.ind_software.entry(i).or_default();
                            if !e.contains(&s) {
                                e.push(s);
                            }
                        }
                        if let Some(g) = target_group {
                            c.groups[g as usize]
                                .items
                                .entry(Feature::Ind(i))
                                .or_default()
                                .push(Support {
                                    campaign: None,
                                    citations: Vec::new(),
                                });
                        }
                    }
                }
                _ => {}
            }
        }

        for g in &c.groups {
            for k in &g.countries {
                *c.country_df.entry(k.clone()).or_default() += 1.0;
            }
            for k in &g.sectors {
                *c.sector_df.entry(k.clone()).or_default() += 1.0;
            }
        }
        c.groups_with_countries =
            c.groups.iter().filter(|g| !g.countries.is_empty()).count() as f64;
        c.groups_with_sectors = c.groups.iter().filter(|g| !g.sectors.is_empty()).count() as f64;
        c.set = c.profile_set(&|_, _, _| true);
        c
    }

    /// Number of candidate actor clusters.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Number of techniques known (including revoked and deprecated ones).
    pub fn technique_count(&self) -> usize {
        self.techniques.len()
    }

    /// Number of malware and tools known.
    pub fn software_count(&self) -> usize {
        self.software.len()
    }

    /// The model weights in use.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Builds every group's profile, keeping only the supports `keep` accepts.
    pub(crate) fn profile_set(&self, keep: &dyn Fn(u32, Feature, &Support) -> bool) -> ProfileSet {
        let profiles: Vec<Profile> = (0..self.groups.len() as u32)
            .map(|g| self.profile_of(g, &|f, s| keep(g, f, s)))
            .collect();
        let mut set = ProfileSet {
            profiles,
            ..ProfileSet::default()
        };
        set.recount();
        set
    }

    /// One group's profile from the supports `keep` accepts.
    pub(crate) fn profile_of(&self, g: u32, keep: &dyn Fn(Feature, &Support) -> bool) -> Profile {
        let mut p: Profile = HashMap::new();
        let w = &self.weights;
        let put = |p: &mut Profile, f: Feature, weight: f64, via: Via| {
            let e = p.entry(f).or_insert((0.0, via));
            // Ties go to the smaller explanation: the items are a HashMap,
            // and the explanation must not change from run to run.
            if weight > e.0 || (weight == e.0 && via < e.1) {
                *e = (weight, via);
            }
        };
        let Some(group) = self.groups.get(g as usize) else {
            return p;
        };
        for (f, supports) in &group.items {
            if !supports.iter().any(|s| keep(*f, s)) {
                continue;
            }
            match *f {
                Feature::Tech(t) => {
                    put(&mut p, *f, 1.0, Via::Direct);
                    if let Some(parent) = self.techniques[t as usize].parent {
                        put(&mut p, Feature::Tech(parent), w.parent, Via::Parent(t));
                    }
                }
                Feature::Soft(s) => {
                    put(&mut p, *f, 1.0, Via::Direct);
                    let ws = self.software_technique_weight(s);
                    for &t in &self.software[s as usize].techniques {
                        put(&mut p, Feature::Tech(t), ws, Via::Software(s));
                        if let Some(parent) = self.techniques[t as usize].parent {
                            put(
                                &mut p,
                                Feature::Tech(parent),
                                ws * w.parent,
                                Via::Software(s),
                            );
                        }
                    }
                }
                Feature::Ind(_) => put(&mut p, *f, 1.0, Via::Direct),
            }
        }
        p
    }

    /// Weight of each technique a software is known to use, damped for
    /// software with many techniques.
    pub(crate) fn software_technique_weight(&self, s: u32) -> f64 {
        let w = &self.weights;
        let n = self.software[s as usize].techniques.len() as f64;
        if w.software_breadth > 0.0 && n > w.software_breadth {
            w.via_software * (w.software_breadth / n).sqrt()
        } else {
            w.via_software
        }
    }

    /// Label of a feature for explanations.
    pub(crate) fn label(&self, f: Feature) -> String {
        match f {
            Feature::Tech(t) => {
                let t = &self.techniques[t as usize];
                if t.name.is_empty() {
                    t.attack_id.clone()
                } else {
                    format!("{} {}", t.attack_id, t.name)
                }
            }
            Feature::Soft(s) => {
                let s = &self.software[s as usize];
                match &s.attack_id {
                    Some(id) => format!("{} ({id})", s.name),
                    None => s.name.clone(),
                }
            }
            Feature::Ind(i) => self.indicators[i as usize].clone(),
        }
    }
}

impl ProfileSet {
    /// Recomputes document frequencies and the reference size.
    pub(crate) fn recount(&mut self) {
        self.df.clear();
        let mut sizes: Vec<f64> = Vec::new();
        for p in &self.profiles {
            let mut size = 0.0;
            for (f, (w, _)) in p {
                *self.df.entry(*f).or_default() += w;
                if !matches!(f, Feature::Ind(_)) {
                    size += w;
                }
            }
            if size > 0.0 {
                sizes.push(size);
            }
        }
        self.n = sizes.len().max(1) as f64;
        sizes.sort_by(f64::total_cmp);
        self.size_ref = sizes.get(sizes.len() / 2).copied().unwrap_or(1.0);
    }

    /// Replaces one group's profile, keeping document frequencies exact.
    pub(crate) fn replace(&mut self, g: usize, profile: Profile) {
        if let Some(old) = self.profiles.get_mut(g) {
            for (f, (w, _)) in old.iter() {
                if let Some(d) = self.df.get_mut(f) {
                    *d -= w;
                }
            }
            for (f, (w, _)) in &profile {
                *self.df.entry(*f).or_default() += w;
            }
            *old = profile;
        }
    }
}

fn active_tech(t: &Technique) -> bool {
    !t.revoked && !t.deprecated
}

fn absorb_time(g: &mut Group, o: &Object) {
    if let Some(y) = o.prov.first_seen.as_deref().and_then(year_of) {
        g.first_seen = Some(g.first_seen.map_or(y, |v| v.min(y)));
    }
    if let Some(y) = o.prov.last_seen.as_deref().and_then(year_of) {
        g.last_seen = Some(g.last_seen.map_or(y, |v| v.max(y)));
    }
}
