//! Incident evidence: what the analyst observed, as messy as it comes, and
//! its resolution against the corpus.

use crate::corpus::{Corpus, Feature};
use crate::errors::AttributeError;
use crate::util::{country_code, country_name, indicator_key, year_of};
use cairn_model::{Bundle, normalize_name};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What was observed in an incident. Every field takes free text: ATT&CK
/// ids (current, revoked or deprecated), software names or aliases in any
/// case, indicator values (defanged or not), countries as ISO codes or
/// names, sectors, and an incident date (`2023`, `2023-06`, `2023-06-14`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Techniques and sub-techniques (`T1059.001`, `T1086`, or a technique name).
    pub techniques: Vec<String>,
    /// How much a technique of `techniques` counts, in (0, 1], when less
    /// than fully (a detection rule's level and how widely it fired); keyed
    /// as written in `techniques`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub technique_weights: BTreeMap<String, f64>,
    /// Malware and tools, by name, alias or ATT&CK id.
    pub software: Vec<String>,
    /// Indicator values (domains, IPs, hashes, certificate fingerprints).
    pub indicators: Vec<String>,
    /// Indicators a hunt matched, with the actors the store links them to.
    pub infrastructure: Vec<InfrastructureHit>,
    /// Victim countries.
    pub countries: Vec<String>,
    /// Victim sectors.
    pub sectors: Vec<String>,
    /// When the incident happened.
    pub when: Option<String>,
}

/// One hunt alert: an indicator seen in the defender's logs and the actors
/// the knowledge base links it to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InfrastructureHit {
    /// The matched indicator value.
    pub value: String,
    /// Names of the actors the indicator belongs to.
    pub actors: Vec<String>,
}

/// An evidence item the corpus could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unrecognised {
    /// Evidence kind (`technique`, `software`, `indicator`, `country`, `sector`, `when`).
    pub kind: String,
    /// The value as given.
    pub value: String,
    /// Why it was not used.
    pub reason: String,
}

/// An evidence item the corpus understood, and as what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recognised {
    /// Evidence kind.
    pub kind: String,
    /// The value as given.
    pub input: String,
    /// What it was understood as (`T1059.001 PowerShell`, `Cobalt Strike (S0154)`, `TW`).
    pub resolved_as: String,
    /// How, when not literal (`T1086 was revoked by T1059.001`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where an evidence feature came from: what the user gave, and how it led here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Given directly.
    Given,
    /// Parent of a given sub-technique.
    ParentOf(u32),
    /// A technique a given software is known to use.
    SoftwareTechnique(u32),
    /// The software an observed indicator indicates.
    IndicatorOf(u32),
}

/// Evidence resolved into corpus features, with explanation notes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved {
    /// Feature → (evidence weight, origin); the strongest origin wins.
    pub features: HashMap<Feature, (f64, Origin)>,
    /// Indicators hunt alerts link to actors: (value, actor clusters).
    pub alert_links: Vec<(String, Vec<u32>)>,
    /// ISO codes of victim countries.
    pub countries: Vec<String>,
    /// Normalised victim sectors, with their display form.
    pub sectors: Vec<(String, String)>,
    /// Incident date as a fractional year.
    pub when: Option<f64>,
    pub recognised: Vec<Recognised>,
    pub unrecognised: Vec<Unrecognised>,
}

impl Resolved {
    pub(crate) fn put(&mut self, f: Feature, w: f64, o: Origin) {
        let e = self.features.entry(f).or_insert((0.0, o));
        if w > e.0 {
            *e = (w, o);
        }
    }
}

fn unrec(kind: &str, value: &str, reason: impl Into<String>) -> Unrecognised {
    Unrecognised {
        kind: kind.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

impl Evidence {
    /// True when no evidence of any kind was given.
    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty()
            && self.software.is_empty()
            && self.indicators.is_empty()
            && self.infrastructure.is_empty()
            && self.countries.is_empty()
            && self.sectors.is_empty()
            && self.when.is_none()
    }

    /// Adds everything from `other` (the later `when` wins when both have one).
    pub fn merge(&mut self, other: Evidence) {
        // A technique counts as strongly as its strongest mention; one
        // without a weight counts in full.
        for t in other.techniques {
            let theirs = other.technique_weights.get(&t).copied();
            if !self.techniques.contains(&t) {
                self.techniques.push(t.clone());
                if let Some(w) = theirs {
                    self.technique_weights.insert(t, w);
                }
                continue;
            }
            match (self.technique_weights.get(&t).copied(), theirs) {
                (Some(mine), Some(w)) => {
                    self.technique_weights.insert(t, mine.max(w));
                }
                (Some(_), None) => {
                    self.technique_weights.remove(&t);
                }
                (None, _) => {}
            }
        }
        self.software.extend(other.software);
        self.indicators.extend(other.indicators);
        self.infrastructure.extend(other.infrastructure);
        self.countries.extend(other.countries);
        self.sectors.extend(other.sectors);
        if other.when.is_some() {
            self.when = other.when;
        }
    }

    /// Techniques of an ATT&CK Navigator layer: enabled techniques; when some
    /// have a positive score, only those (a score of 0 then means "not seen").
    pub fn from_navigator_layer(json: &str) -> Result<Evidence, AttributeError> {
        let what = "ATT&CK Navigator layer";
        let v: Value = serde_json::from_str(json).map_err(|e| AttributeError::json(what, &e))?;
        let Some(list) = v.get("techniques").and_then(Value::as_array) else {
            return Err(AttributeError::Shape {
                what: what.into(),
                message: "no \"techniques\" array".into(),
            });
        };
        let enabled: Vec<(&str, Option<f64>)> = list
            .iter()
            .filter(|t| t.get("enabled").and_then(Value::as_bool) != Some(false))
            .filter_map(|t| {
                let id = t.get("techniqueID").and_then(Value::as_str)?;
                Some((id, t.get("score").and_then(Value::as_f64)))
            })
            .collect();
        let any_scored = enabled.iter().any(|(_, s)| s.is_some_and(|s| s > 0.0));
        let mut techniques: Vec<String> = Vec::new();
        for (id, score) in enabled {
            if any_scored && !score.is_some_and(|s| s > 0.0) {
                continue;
            }
            if !techniques.iter().any(|t| t.eq_ignore_ascii_case(id)) {
                techniques.push(id.to_string());
            }
        }
        Ok(Evidence {
            techniques,
            ..Evidence::default()
        })
    }

    /// Evidence from a STIX 2.x bundle of incident data, read as JSON:
    /// attack patterns, malware and tools, indicators and observables,
    /// victim locations and sectors. Actors in the bundle are ignored:
    /// attribution is what is being asked.
    pub fn from_stix_json(json: &str) -> Result<Evidence, AttributeError> {
        let what = "STIX bundle";
        let v: Value = serde_json::from_str(json).map_err(|e| AttributeError::json(what, &e))?;
        let objects: Vec<&Value> = match v.get("objects").and_then(Value::as_array) {
            Some(a) => a.iter().collect(),
            None if v.get("type").is_some() => vec![&v],
            None => {
                return Err(AttributeError::Shape {
                    what: what.into(),
                    message: "no \"objects\" array".into(),
                });
            }
        };
        let mut ev = Evidence::default();
        let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        for o in objects {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
            match kind {
                "attack-pattern" => {
                    let id = o
                        .get("external_references")
                        .and_then(Value::as_array)
                        .and_then(|refs| {
                            refs.iter().find_map(|r| {
                                r.get("external_id")
                                    .and_then(Value::as_str)
                                    .filter(|x| x.starts_with('T') || x.starts_with('t'))
                            })
                        })
                        .map(str::to_string);
                    if let Some(t) = id.or_else(|| s(o, "name")) {
                        ev.techniques.push(t);
                    }
                }
                "malware" | "tool" => {
                    if let Some(n) = s(o, "name") {
                        ev.software.push(n);
                    }
                }
                "indicator" => {
                    if let Some(p) = o.get("pattern").and_then(Value::as_str) {
                        ev.indicators.extend(pattern_values(p));
                    }
                }
                "domain-name" | "ipv4-addr" | "ipv6-addr" | "url" | "email-addr" => {
                    if let Some(val) = s(o, "value") {
                        ev.indicators.push(val);
                    }
                }
                "file" | "x509-certificate" => {
                    if let Some(h) = o.get("hashes").and_then(Value::as_object) {
                        ev.indicators
                            .extend(h.values().filter_map(Value::as_str).map(str::to_string));
                    }
                }
                "location" => {
                    if let Some(c) = s(o, "country").or_else(|| s(o, "name")) {
                        ev.countries.push(c);
                    }
                }
                "identity" => {
                    if let Some(a) = o.get("sectors").and_then(Value::as_array) {
                        ev.sectors
                            .extend(a.iter().filter_map(Value::as_str).map(str::to_string));
                    }
                }
                "incident" | "observed-data" | "sighting" if ev.when.is_none() => {
                    ev.when = s(o, "first_seen")
                        .or_else(|| s(o, "first_observed"))
                        .or_else(|| s(o, "created"));
                }
                _ => {}
            }
        }
        Ok(ev)
    }

    /// Evidence from an already parsed bundle (e.g. `cairn_intake::parse_path`).
    pub fn from_bundle(bundle: &Bundle) -> Evidence {
        let mut ev = Evidence::default();
        for o in &bundle.objects {
            match o.kind.as_str() {
                "attack-pattern" => {
                    if let Some(t) = o.external_id.clone().or_else(|| o.name.clone()) {
                        ev.techniques.push(t);
                    }
                }
                "malware" | "tool" => {
                    if let Some(n) = &o.name {
                        ev.software.push(n.clone());
                    }
                }
                "indicator" => ev
                    .indicators
                    .extend(o.observables.iter().map(|x| x.value.clone())),
                "location" => {
                    if let Some(c) = o.country.clone().or_else(|| o.name.clone()) {
                        ev.countries.push(c);
                    }
                }
                "identity" => ev.sectors.extend(o.sectors.iter().cloned()),
                _ => {}
            }
        }
        ev
    }

    /// Technique evidence from `cairn detect --json` detections: each
    /// Sigma rule's ATT&CK techniques, weighted by the rule's level and
    /// discounted when the rule fires widely (on most of the hosts seen, or
    /// very often), since a rule that fires everywhere says little about
    /// this intrusion. A technique takes the weight of its strongest rule.
    /// Blank lines are skipped; a line that is not a detection is an error
    /// naming it.
    pub fn from_detections_jsonl(text: &str) -> Result<Evidence, AttributeError> {
        struct Rule {
            level: Option<String>,
            techniques: Vec<String>,
            count: u64,
            hosts: BTreeSet<String>,
        }
        let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
        let mut hosts: BTreeSet<String> = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let what = format!("detections line {}", i + 1);
            let v: Value =
                serde_json::from_str(line).map_err(|e| AttributeError::json(&what, &e))?;
            let (Some(rule), Some(techniques)) = (v.get("rule"), v.get("techniques")) else {
                return Err(AttributeError::Shape {
                    what,
                    message: "not a detection (no \"rule\" and \"techniques\")".into(),
                });
            };
            let key = rule["id"]
                .as_str()
                .or_else(|| rule["title"].as_str())
                .unwrap_or_default()
                .to_string();
            let host = v["host"].as_str().unwrap_or_default().to_string();
            hosts.insert(host.clone());
            let r = rules.entry(key).or_insert_with(|| Rule {
                level: rule["level"].as_str().map(str::to_string),
                techniques: techniques
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
                count: 0,
                hosts: BTreeSet::new(),
            });
            r.count += 1;
            r.hosts.insert(host);
        }
        let mut ev = Evidence::default();
        for r in rules.values() {
            let w = detection_weight(r.level.as_deref(), r.count, r.hosts.len(), hosts.len());
            for t in &r.techniques {
                if !ev.techniques.contains(t) {
                    ev.techniques.push(t.clone());
                }
                let e = ev.technique_weights.entry(t.clone()).or_insert(w);
                *e = e.max(w);
            }
        }
        Ok(ev)
    }

    /// Evidence from hunt alerts, one JSON object a line:
    /// `{"indicator":{"type","value"},"actors":[{"name","aliases"}],…}`, or
    /// `cairn scan --json` findings (`{"kind","match":{"value","families"},
    /// "actors"}`): a matched certificate, hash or rule counts like an
    /// indicator hit, and the families it indicates as software seen.
    /// Findings without a match (`signed`, `error`) are skipped. Blank lines
    /// are skipped; a line that is not JSON is an error naming it.
    pub fn from_alerts_jsonl(text: &str) -> Result<Evidence, AttributeError> {
        let mut ev = Evidence::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let what = format!("alerts line {}", i + 1);
            let v: Value =
                serde_json::from_str(line).map_err(|e| AttributeError::json(&what, &e))?;
            if v.get("kind").is_some() && v.get("match").is_some() {
                let m = &v["match"];
                if m.is_null() {
                    continue;
                }
                for f in m["families"].as_array().into_iter().flatten() {
                    if let Some(f) = f.as_str()
                        && !ev.software.iter().any(|s| s == f)
                    {
                        ev.software.push(f.to_string());
                    }
                }
            }
            let value = v
                .get("indicator")
                .and_then(|x| {
                    x.get("value")
                        .and_then(Value::as_str)
                        .or_else(|| x.as_str())
                })
                .or_else(|| v.get("value").and_then(Value::as_str))
                .or_else(|| {
                    v.get("match")
                        .and_then(|m| m.get("value"))
                        .and_then(Value::as_str)
                });
            let Some(value) = value else {
                return Err(AttributeError::Shape {
                    what,
                    message: "no indicator value".into(),
                });
            };
            let actors: Vec<String> = v
                .get("actors")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| {
                            x.get("name")
                                .and_then(Value::as_str)
                                .or_else(|| x.as_str())
                                .map(str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Some(hit) = ev.infrastructure.iter_mut().find(|h| h.value == value) {
                for a in actors {
                    if !hit.actors.contains(&a) {
                        hit.actors.push(a);
                    }
                }
            } else {
                ev.infrastructure.push(InfrastructureHit {
                    value: value.to_string(),
                    actors,
                });
            }
        }
        Ok(ev)
    }
}

/// How much one Sigma rule's detections count: its level, less when it
/// fired on most hosts (of three or more) or very often.
pub(crate) fn detection_weight(
    level: Option<&str>,
    count: u64,
    rule_hosts: usize,
    hosts: usize,
) -> f64 {
    let by_level = match level {
        Some("critical") => 1.0,
        Some("high") => 0.85,
        Some("medium") => 0.6,
        Some("low") => 0.35,
        Some("informational") => 0.15,
        _ => 0.3,
    };
    let spread = if hosts >= 3 {
        1.0 - 0.6 * rule_hosts as f64 / hosts as f64
    } else {
        1.0
    };
    let volume = 1.0 / (1.0 + 0.25 * (count.max(1) as f64).log10());
    by_level * spread * volume
}

/// Whether a stored sector key and an evidence sector key name the same
/// sector: equal, or one a prefix of the other ("government" and
/// "governmentinstitutions"), for keys of at least 4 characters.
pub(crate) fn sector_match(stored: &str, given: &str) -> bool {
    stored == given
        || (given.len() >= 4 && stored.starts_with(given))
        || (stored.len() >= 4 && given.starts_with(stored))
}

/// Quoted values of a STIX pattern (`[domain-name:value = 'evil.com']`).
fn pattern_values(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = p;
    while let Some(i) = rest.find('\'') {
        rest = &rest[i + 1..];
        let mut val = String::new();
        let mut chars = rest.char_indices();
        let mut end = None;
        while let Some((j, ch)) = chars.next() {
            match ch {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        val.push(n);
                    }
                }
                '\'' => {
                    end = Some(j);
                    break;
                }
                _ => val.push(ch),
            }
        }
        match end {
            Some(j) => {
                out.push(val);
                rest = &rest[j + 1..];
            }
            None => break,
        }
    }
    out
}

impl Corpus {
    /// Resolves one technique reference to a current technique.
    pub(crate) fn resolve_technique(&self, input: &str) -> Result<(u32, Option<String>), String> {
        let t = input.trim();
        let token: String = t
            .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let looks_like_id = token.starts_with('T')
            && token.len() >= 5
            && token[1..].chars().all(|c| c.is_ascii_digit() || c == '.');
        let found = if looks_like_id {
            self.tech_by_id.get(&token).copied()
        } else {
            let key = normalize_name(t);
            let mut hit = None;
            for (i, x) in self.techniques.iter().enumerate() {
                if !x.revoked && !x.deprecated && normalize_name(&x.name) == key {
                    hit = Some(i as u32);
                    break;
                }
            }
            hit
        };
        let Some(mut idx) = found else {
            return Err(if looks_like_id {
                "no such ATT&CK technique id".into()
            } else {
                "not a technique id or name ATT&CK knows".into()
            });
        };
        let mut note = None;
        let start = idx;
        for _ in 0..8 {
            match self.techniques[idx as usize].replaced_by {
                Some(next) => idx = next,
                None => break,
            }
        }
        if idx != start {
            note = Some(format!(
                "{} was revoked by ATT&CK in favour of {}",
                self.techniques[start as usize].attack_id, self.techniques[idx as usize].attack_id
            ));
        }
        let tech = &self.techniques[idx as usize];
        if tech.revoked || tech.deprecated {
            return Err(format!(
                "{} is {} by ATT&CK without a replacement",
                tech.attack_id,
                if tech.revoked {
                    "revoked"
                } else {
                    "deprecated"
                }
            ));
        }
        Ok((idx, note))
    }

    /// Resolves a software name, alias or ATT&CK id.
    pub(crate) fn resolve_software(&self, input: &str) -> Option<(u32, Option<String>)> {
        let key = normalize_name(input);
        let mut idx = *self.soft_by_key.get(&key)?.first()?;
        let start = idx;
        for _ in 0..8 {
            match self.software[idx as usize].replaced_by {
                Some(n) => idx = n,
                None => break,
            }
        }
        let name = &self.software[idx as usize].name;
        let note = if idx != start {
            Some(format!(
                "{} was revoked in favour of {}",
                self.software[start as usize].name, name
            ))
        } else if normalize_name(name) != key {
            Some(format!("alias of {name}"))
        } else {
            None
        };
        Some((idx, note))
    }

    /// Actor clusters a name (primary, alias or ATT&CK id) designates.
    pub(crate) fn resolve_actor(&self, name: &str) -> Vec<u32> {
        let key = normalize_name(name);
        self.group_by_key
            .get(&key)
            .or_else(|| self.member_key.get(&key))
            .cloned()
            .unwrap_or_default()
    }

    /// Resolves evidence into features; never fails.
    pub(crate) fn resolve(&self, ev: &Evidence) -> Resolved {
        let mut r = Resolved::default();
        let w = &self.weights;
        for input in &ev.techniques {
            if input.trim().is_empty() {
                continue;
            }
            match self.resolve_technique(input) {
                Ok((t, note)) => {
                    let strength = ev
                        .technique_weights
                        .get(input)
                        .copied()
                        .unwrap_or(1.0)
                        .clamp(0.0, 1.0);
                    r.put(Feature::Tech(t), strength, Origin::Given);
                    if let Some(p) = self.techniques[t as usize].parent {
                        r.put(Feature::Tech(p), w.parent * strength, Origin::ParentOf(t));
                    }
                    r.recognised.push(Recognised {
                        kind: "technique".into(),
                        input: input.clone(),
                        resolved_as: self.label(Feature::Tech(t)),
                        note,
                    });
                }
                Err(reason) => r.unrecognised.push(unrec("technique", input, reason)),
            }
        }
        for input in &ev.software {
            if input.trim().is_empty() {
                continue;
            }
            match self.resolve_software(input) {
                Some((s, note)) => {
                    self.put_software(&mut r, s, Origin::Given);
                    r.recognised.push(Recognised {
                        kind: "software".into(),
                        input: input.clone(),
                        resolved_as: self.label(Feature::Soft(s)),
                        note,
                    });
                }
                None => r.unrecognised.push(unrec(
                    "software",
                    input,
                    "no malware or tool of that name or alias",
                )),
            }
        }
        let mut alert_values: BTreeSet<String> = BTreeSet::new();
        for hit in &ev.infrastructure {
            let key = indicator_key(&hit.value);
            let mut groups: BTreeSet<u32> = BTreeSet::new();
            for a in &hit.actors {
                groups.extend(self.resolve_actor(a));
            }
            let known = self.ind_by_value.get(&key).copied();
            if let Some(i) = known {
                self.put_indicator(&mut r, i);
            }
            if !groups.is_empty() {
                r.alert_links
                    .push((key.clone(), groups.into_iter().collect()));
            }
            if known.is_none() && r.alert_links.last().is_none_or(|(k, _)| *k != key) {
                r.unrecognised.push(unrec(
                    "indicator",
                    &hit.value,
                    "not in the knowledge base, and its alert names no known actor",
                ));
            } else {
                alert_values.insert(key);
            }
        }
        for input in &ev.indicators {
            let key = indicator_key(input);
            if key.is_empty() || alert_values.contains(&key) {
                continue;
            }
            match self.ind_by_value.get(&key) {
                Some(&i) => {
                    self.put_indicator(&mut r, i);
                    r.recognised.push(Recognised {
                        kind: "indicator".into(),
                        input: input.clone(),
                        resolved_as: key,
                        note: None,
                    });
                }
                None => r.unrecognised.push(unrec(
                    "indicator",
                    input,
                    "not linked to any actor or software in the knowledge base",
                )),
            }
        }
        for input in &ev.countries {
            match country_code(input) {
                Some(code) => {
                    if !r.countries.contains(&code) {
                        r.recognised.push(Recognised {
                            kind: "country".into(),
                            input: input.clone(),
                            resolved_as: format!("{code} {}", country_name(&code)),
                            note: (!self.country_df.contains_key(&code))
                                .then(|| "no known actor targets it; it weighs nothing".into()),
                        });
                        r.countries.push(code);
                    }
                }
                None => r.unrecognised.push(unrec(
                    "country",
                    input,
                    "not an ISO 3166 code or country name",
                )),
            }
        }
        for input in &ev.sectors {
            let key = normalize_name(input);
            if key.is_empty() {
                continue;
            }
            let known = self.sector_df.keys().any(|k| sector_match(k, &key));
            match known {
                true => {
                    if !r.sectors.iter().any(|(x, _)| *x == key) {
                        r.sectors.push((key, input.clone()));
                    }
                }
                false => r.unrecognised.push(unrec(
                    "sector",
                    input,
                    if self.sector_df.is_empty() {
                        "the knowledge base holds no victim sectors"
                    } else {
                        "no known actor targets a sector of that name"
                    },
                )),
            }
        }
        if let Some(when) = &ev.when {
            match year_of(when) {
                Some(y) => r.when = Some(y),
                None => r.unrecognised.push(unrec(
                    "when",
                    when,
                    "not a date (use 2023, 2023-06 or 2023-06-14)",
                )),
            }
        }
        r
    }

    pub(crate) fn put_software(&self, r: &mut Resolved, s: u32, origin: Origin) {
        let w = &self.weights;
        r.put(Feature::Soft(s), 1.0, origin);
        let ws = self.software_technique_weight(s);
        for &t in &self.software[s as usize].techniques {
            r.put(Feature::Tech(t), ws, Origin::SoftwareTechnique(s));
            if let Some(p) = self.techniques[t as usize].parent {
                r.put(
                    Feature::Tech(p),
                    ws * w.parent,
                    Origin::SoftwareTechnique(s),
                );
            }
        }
    }

    fn put_indicator(&self, r: &mut Resolved, i: u32) {
        r.put(Feature::Ind(i), 1.0, Origin::Given);
        if let Some(soft) = self.ind_software.get(&i) {
            for &s in soft {
                self.put_software(r, s, Origin::IndicatorOf(i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigator_layer_scores() {
        let j = r#"{"techniques":[{"techniqueID":"T1059","score":3},{"techniqueID":"T1105","score":0},{"techniqueID":"T1190","enabled":false,"score":5}]}"#;
        let ev = Evidence::from_navigator_layer(j).unwrap_or_default();
        assert_eq!(ev.techniques, vec!["T1059".to_string()]);
        let j = r#"{"techniques":[{"techniqueID":"T1059"},{"techniqueID":"T1105","score":0}]}"#;
        let ev = Evidence::from_navigator_layer(j).unwrap_or_default();
        assert_eq!(ev.techniques.len(), 2);
        assert!(Evidence::from_navigator_layer("{").is_err());
        assert!(Evidence::from_navigator_layer("{}").is_err());
    }

    #[test]
    fn stix_patterns_and_objects() {
        let j = r#"{"type":"bundle","objects":[
          {"type":"indicator","pattern":"[domain-name:value = 'kb.dga.asia'] OR [ipv4-addr:value = '1.2.3.4']"},
          {"type":"attack-pattern","name":"PowerShell","external_references":[{"source_name":"mitre-attack","external_id":"T1059.001"}]},
          {"type":"malware","name":"ShadowPad"},
          {"type":"location","country":"TW"},
          {"type":"identity","sectors":["government-national"]},
          {"type":"intrusion-set","name":"APT41"}]}"#;
        let ev = Evidence::from_stix_json(j).unwrap_or_default();
        assert_eq!(ev.indicators, vec!["kb.dga.asia", "1.2.3.4"]);
        assert_eq!(ev.techniques, vec!["T1059.001"]);
        assert_eq!(ev.software, vec!["ShadowPad"]);
        assert_eq!(ev.countries, vec!["TW"]);
        assert_eq!(ev.sectors, vec!["government-national"]);
    }

    #[test]
    fn alerts_lines() {
        let t = "{\"indicator\":{\"type\":\"domain\",\"value\":\"a.example\"},\"actors\":[{\"name\":\"RedHotel\",\"aliases\":[]}]}\n\n{\"indicator\":{\"type\":\"domain\",\"value\":\"a.example\"},\"actors\":[{\"name\":\"TAG-22\"}]}\n";
        let ev = Evidence::from_alerts_jsonl(t).unwrap_or_default();
        assert_eq!(ev.infrastructure.len(), 1);
        assert_eq!(ev.infrastructure[0].actors, vec!["RedHotel", "TAG-22"]);
        let err = Evidence::from_alerts_jsonl("{}\nnot json").err();
        assert!(err.is_some_and(|e| e.to_string().contains("line")));
    }

    #[test]
    fn scan_findings_are_evidence() {
        let t = concat!(
            "{\"file\":\"a.exe\",\"kind\":\"certificate\",\"match\":{\"value\":\"0c0999\",\"families\":[\"PlugX\"]},",
            "\"actors\":[{\"name\":\"RedHotel\",\"aliases\":[],\"via\":\"uses PlugX\"}]}\n",
            "{\"file\":\"b.exe\",\"kind\":\"signed\",\"match\":null,\"actors\":[]}\n"
        );
        let ev = Evidence::from_alerts_jsonl(t).unwrap_or_default();
        assert_eq!(ev.software, vec!["PlugX"]);
        assert_eq!(ev.infrastructure.len(), 1);
        assert_eq!(ev.infrastructure[0].value, "0c0999");
        assert_eq!(ev.infrastructure[0].actors, vec!["RedHotel"]);
    }

    fn det(host: &str, id: &str, level: &str, techniques: &[&str]) -> String {
        serde_json::json!({"file": "x.evtx", "host": host,
            "rule": {"id": id, "title": id, "level": level, "tags": []},
            "techniques": techniques, "fields": {}})
        .to_string()
    }

    #[test]
    fn detections_weigh_by_level_and_spread() {
        let mut lines = Vec::new();
        // A high rule on one host of four; a medium rule on all four.
        lines.push(det("h1", "r-high", "high", &["T1003.001"]));
        for h in ["h1", "h2", "h3", "h4"] {
            lines.push(det(h, "r-wide", "medium", &["T1059.001", "T1003.001"]));
        }
        let ev = Evidence::from_detections_jsonl(&lines.join("\n")).expect("parse");
        assert_eq!(ev.techniques, vec!["T1003.001", "T1059.001"]);
        let cred = ev.technique_weights["T1003.001"];
        let ps = ev.technique_weights["T1059.001"];
        assert!(cred > ps, "{cred} vs {ps}");
        assert!((cred - detection_weight(Some("high"), 1, 1, 4)).abs() < 1e-9);
        assert!(ps < 0.6 * 0.5, "a rule on every host is discounted: {ps}");
        assert!(Evidence::from_detections_jsonl("{\"a\":1}").is_err());
        assert!(Evidence::from_detections_jsonl("not json").is_err());
    }

    #[test]
    fn merging_keeps_the_strongest_mention() {
        let mut given = Evidence {
            techniques: vec!["T1059".into()],
            ..Evidence::default()
        };
        let mut detected = Evidence {
            techniques: vec!["T1059".into(), "T1105".into()],
            ..Evidence::default()
        };
        detected.technique_weights.insert("T1059".into(), 0.3);
        detected.technique_weights.insert("T1105".into(), 0.4);
        given.merge(detected);
        assert_eq!(given.techniques, vec!["T1059", "T1105"]);
        assert!(!given.technique_weights.contains_key("T1059"));
        assert_eq!(given.technique_weights["T1105"], 0.4);
    }
}
