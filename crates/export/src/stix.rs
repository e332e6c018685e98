//! A subgraph as a STIX 2.1 bundle.
//!
//! Each statement becomes one object, as its source wrote it, with only what
//! STIX 2.1 requires added: `spec_version`, timestamps, the properties a type
//! cannot go without (an indicator's `pattern_type` and `valid_from`, a
//! malware's `is_family`, a location's `country`), and provenance where the
//! source gave none (`created_by_ref` to an identity standing for the source,
//! a TLP 2.0 marking). Two sources that use one id keep two objects: the
//! later gets a derived id (`x_cairn_original_id` keeps the one it had) and
//! that source's relationships follow it.

use crate::time;
use cairn_kb::{SourceInfo, Statement, Subgraph};
use cairn_model::{Tlp, deterministic_id};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The TLP 2.0 marking-definition id for a marking.
pub(crate) fn tlp2_id(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The published definition of a standard TLP marking (2.0, or 1.0 for
/// statements that reference those), by id.
fn standard_marking(id: &str) -> Option<Value> {
    let t = Tlp::from_marking_ref(id)?;
    if tlp2_id(t) == id {
        let level = match t {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        };
        return Some(json!({
            "type": "marking-definition", "spec_version": "2.1", "id": id,
            "created": "2022-10-01T00:00:00.000Z", "name": t.as_str(),
            "extensions": { TLP2_EXTENSION: {
                "extension_type": "property-extension", "tlp_2_0": level } }
        }));
    }
    let level = match t {
        Tlp::Clear => "white",
        Tlp::Green => "green",
        Tlp::Amber => "amber",
        _ => "red",
    };
    Some(json!({
        "type": "marking-definition", "spec_version": "2.1", "id": id,
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
        "name": format!("TLP:{}", level.to_ascii_uppercase()),
        "definition": { "tlp": level }
    }))
}

/// The identity that stands for a source which named no author.
pub(crate) fn source_identity_id(source: &str) -> String {
    deterministic_id("identity", &["cairn-source", source])
}

/// Types whose objects require a `name` in STIX 2.1.
const NAMED: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "infrastructure",
    "intrusion-set",
    "malware",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// Types that may carry `first_seen`/`last_seen`.
const SEEN: &[&str] = &[
    "campaign",
    "infrastructure",
    "intrusion-set",
    "malware",
    "threat-actor",
];

/// Builds a STIX 2.1 bundle of `sub`: every statement as its own object,
/// plus the identities and TLP marking definitions they reference. The
/// bundle id is derived from the content, so the same store exports the
/// same bundle.
pub fn stix_bundle(sub: &Subgraph) -> Value {
    let formats: HashMap<&str, &SourceInfo> =
        sub.sources.iter().map(|s| (s.name.as_str(), s)).collect();
    // A STIX source's copy keeps the id it published before a copy that
    // intake built from another format.
    let mut all: Vec<&Statement> = sub.objects.iter().chain(sub.relations.iter()).collect();
    all.sort_by_key(|s| {
        formats
            .get(s.source.as_str())
            .is_none_or(|f| f.format != "stix")
    });

    // Ids: the first source to use one keeps it; later sources get their own.
    let mut owner: HashMap<&str, &str> = HashMap::new();
    let mut remap: HashMap<(&str, &str), String> = HashMap::new();
    for st in &all {
        if Tlp::from_marking_ref(&st.stix_id).is_some() {
            continue;
        }
        match owner.get(st.stix_id.as_str()) {
            None => {
                owner.insert(&st.stix_id, &st.source);
            }
            Some(src) if *src == st.source => {}
            Some(_) => {
                let prefix = st.stix_id.split("--").next().unwrap_or("x-unknown");
                let fresh = deterministic_id(prefix, &["cairn-export", &st.source, &st.stix_id]);
                remap.insert((&st.source, &st.stix_id), fresh);
            }
        }
    }

    // Marking definitions in the subgraph that are TLP markings of their own.
    let mut tlp_markings: HashMap<String, Tlp> = HashMap::new();
    for st in sub
        .objects
        .iter()
        .filter(|s| s.kind == "marking-definition")
    {
        if let Some(t) = custom_tlp(&st.raw) {
            let id = remap
                .get(&(st.source.as_str(), st.stix_id.as_str()))
                .cloned()
                .unwrap_or_else(|| st.stix_id.clone());
            tlp_markings.insert(id, t);
        }
    }

    let mut cx = Cx {
        remap: &remap,
        tlp_markings: &tlp_markings,
        identities: BTreeSet::new(),
        markings: BTreeSet::new(),
    };
    let mut out: Vec<Value> = Vec::new();
    let mut emitted: HashSet<String> = HashSet::new();
    for (st, is_rel) in sub
        .objects
        .iter()
        .map(|s| (s, false))
        .chain(sub.relations.iter().map(|s| (s, true)))
    {
        if Tlp::from_marking_ref(&st.stix_id).is_some() {
            // Standard TLP definitions are emitted once, as published.
            cx.markings.insert(st.stix_id.clone());
            continue;
        }
        let stix_format = formats
            .get(st.source.as_str())
            .is_some_and(|s| s.format == "stix");
        if let Some(v) = convert(st, is_rel, stix_format, &mut cx)
            && let Some(id) = v.get("id").and_then(Value::as_str)
            && emitted.insert(id.to_string())
        {
            out.push(v);
        }
    }

    let mut head: Vec<Value> = Vec::new();
    for name in &cx.identities {
        let id = source_identity_id(name);
        if !emitted.insert(id.clone()) {
            continue;
        }
        let info = formats.get(name.as_str());
        let created = info
            .and_then(|i| time::stix(&i.first_ingested))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
        let modified = info
            .and_then(|i| time::stix(&i.last_ingested))
            .filter(|m| later_or_equal(m, &created))
            .unwrap_or_else(|| created.clone());
        let format = info.map(|i| i.format.as_str()).unwrap_or("unknown");
        head.push(json!({
            "type": "identity", "spec_version": "2.1", "id": id,
            "created": created, "modified": modified, "name": name,
            "identity_class": "unknown",
            "description": format!("The source \"{name}\" ({format}) as recorded in Cairn; it names no author of its own."),
            "x_cairn_source": name, "x_cairn_format": format,
        }));
    }
    for id in &cx.markings {
        if emitted.contains(id) {
            continue;
        }
        if let Some(m) = standard_marking(id) {
            emitted.insert(id.clone());
            head.push(m);
        }
    }
    head.extend(out);

    // Relationships whose ends did not make it (an object STIX 2.1 cannot
    // express) go too.
    let ids: HashSet<String> = head
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let present = |o: &Value, key: &str| {
        o.get(key)
            .and_then(Value::as_str)
            .is_some_and(|r| ids.contains(r))
    };
    head.retain(|o| match o.get("type").and_then(Value::as_str) {
        Some("relationship") => present(o, "source_ref") && present(o, "target_ref"),
        Some("sighting") => present(o, "sighting_of_ref"),
        _ => true,
    });

    let content = serde_json::to_string(&head).unwrap_or_default();
    let id = deterministic_id("bundle", &[&content]);
    json!({ "type": "bundle", "id": id, "objects": head })
}

struct Cx<'a> {
    remap: &'a HashMap<(&'a str, &'a str), String>,
    tlp_markings: &'a HashMap<String, Tlp>,
    /// Sources that need an identity object.
    identities: BTreeSet<String>,
    /// Standard TLP marking ids referenced.
    markings: BTreeSet<String>,
}

impl Cx<'_> {
    fn map(&self, source: &str, id: &str) -> String {
        self.remap
            .get(&(source, id))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
}

/// A marking definition's TLP level, when it is a TLP marking.
fn custom_tlp(raw: &Value) -> Option<Tlp> {
    if let Some(t) = raw
        .pointer("/definition/tlp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok())
    {
        return Some(t);
    }
    if let Some(ext) = raw.get("extensions").and_then(Value::as_object) {
        for e in ext.values() {
            if let Some(t) = e
                .get("tlp_2_0")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok())
            {
                return Some(t);
            }
        }
    }
    raw.get("name")
        .and_then(Value::as_str)
        .and_then(|n| n.parse().ok())
}

fn later_or_equal(a: &str, b: &str) -> bool {
    match (time::instant(a), time::instant(b)) {
        (Some(a), Some(b)) => a >= b,
        _ => false,
    }
}

fn ts_field(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).and_then(time::stix)
}

/// One statement as a STIX 2.1 object; `None` when it cannot be one.
fn convert(st: &Statement, is_rel: bool, stix_format: bool, cx: &mut Cx) -> Option<Value> {
    let mut m = match &st.raw {
        Value::Object(m) => m.clone(),
        _ => return None,
    };
    // STIX 2.1 has no null values and no empty lists.
    m.retain(|_, v| !(v.is_null() || v.as_array().is_some_and(Vec::is_empty)));
    let kind = match m.get("type").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None if is_rel => "relationship".to_string(),
        None => st.kind.clone(),
    };
    m.insert("type".into(), Value::String(kind.clone()));
    let out_id = cx.map(&st.source, &st.stix_id);
    if out_id != st.stix_id {
        m.insert(
            "x_cairn_original_id".into(),
            Value::String(st.stix_id.clone()),
        );
    }
    m.insert("id".into(), Value::String(out_id));
    m.insert("spec_version".into(), Value::String("2.1".into()));
    rewrite_refs(&mut m, &st.source, cx);

    let marking = kind == "marking-definition";
    let created = ts_field(&m, "created")
        .or_else(|| st.created.as_deref().and_then(time::stix))
        .or_else(|| time::stix(&st.added_at))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    m.insert("created".into(), Value::String(created.clone()));
    if !marking {
        let modified = ts_field(&m, "modified")
            .or_else(|| st.modified.as_deref().and_then(time::stix))
            .or_else(|| time::stix(&st.updated_at))
            .filter(|x| later_or_equal(x, &created))
            .unwrap_or_else(|| created.clone());
        m.insert("modified".into(), Value::String(modified));
        if st.revoked && !m.contains_key("revoked") {
            m.insert("revoked".into(), Value::Bool(true));
        }
        if let Some(c) = st.confidence
            && !m.contains_key("confidence")
        {
            m.insert("confidence".into(), json!(c));
        }
    }

    // Provenance where the source gave none.
    let own_kind = stix_format && (marking || kind == "identity");
    if !m.contains_key("created_by_ref") && !own_kind {
        m.insert(
            "created_by_ref".into(),
            Value::String(source_identity_id(&st.source)),
        );
        cx.identities.insert(st.source.clone());
    }
    if !marking {
        let mut refs: Vec<String> = m
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let has_tlp = refs
            .iter()
            .any(|r| Tlp::from_marking_ref(r).is_some() || cx.tlp_markings.contains_key(r));
        if refs.is_empty() || (!has_tlp && st.tlp > Tlp::Clear) {
            refs.push(tlp2_id(st.tlp).to_string());
        }
        for r in &refs {
            if Tlp::from_marking_ref(r).is_some() {
                cx.markings.insert(r.clone());
            }
        }
        m.insert("object_marking_refs".into(), json!(refs));
        if !m.contains_key("external_references")
            && let Some(r) = st.reference.as_deref().filter(|r| *r != st.stix_id)
        {
            let key = if r.starts_with("http://") || r.starts_with("https://") {
                "url"
            } else {
                "description"
            };
            m.insert(
                "external_references".into(),
                json!([{ "source_name": st.source, key: r }]),
            );
        }
    }
    if let Some(refs) = m.get("granular_markings").and_then(Value::as_array) {
        for r in refs
            .iter()
            .filter_map(|g| g.get("marking_ref").and_then(Value::as_str))
        {
            if Tlp::from_marking_ref(r).is_some() {
                cx.markings.insert(r.to_string());
            }
        }
    }

    if SEEN.contains(&kind.as_str()) {
        let first =
            ts_field(&m, "first_seen").or_else(|| st.first_seen.as_deref().and_then(time::stix));
        let last =
            ts_field(&m, "last_seen").or_else(|| st.last_seen.as_deref().and_then(time::stix));
        m.remove("first_seen");
        m.remove("last_seen");
        if let Some(f) = &first {
            m.insert("first_seen".into(), Value::String(f.clone()));
        }
        if let Some(l) = last
            && first.as_deref().is_none_or(|f| later_or_equal(&l, f))
        {
            m.insert("last_seen".into(), Value::String(l));
        }
    }
    if NAMED.contains(&kind.as_str()) && !m.get("name").is_some_and(Value::is_string) {
        let name = st.name.clone()?;
        m.insert("name".into(), Value::String(name));
    }

    match kind.as_str() {
        "indicator" => {
            if !m.get("pattern").is_some_and(Value::is_string) {
                if st.observables.is_empty() {
                    return None;
                }
                let p: Vec<String> = st
                    .observables
                    .iter()
                    .map(|o| o.kind.stix_pattern(&o.value))
                    .collect();
                m.insert("pattern".into(), Value::String(p.join(" OR ")));
            }
            if !m.get("pattern_type").is_some_and(Value::is_string) {
                m.insert("pattern_type".into(), Value::String("stix".into()));
            }
            let from = ts_field(&m, "valid_from")
                .or_else(|| st.first_seen.as_deref().and_then(time::stix))
                .unwrap_or_else(|| created.clone());
            m.insert("valid_from".into(), Value::String(from.clone()));
            match ts_field(&m, "valid_until") {
                Some(u) if later_or_equal(&u, &from) && u != from => {
                    m.insert("valid_until".into(), Value::String(u));
                }
                _ => {
                    m.remove("valid_until");
                }
            }
        }
        "malware" if !m.get("is_family").is_some_and(Value::is_boolean) => {
            m.insert("is_family".into(), Value::Bool(true));
        }
        "location" => {
            let has = ["region", "country"].iter().any(|k| m.contains_key(*k))
                || (m.contains_key("latitude") && m.contains_key("longitude"));
            if !has {
                let c = st.country.clone()?;
                m.insert("country".into(), Value::String(c));
            }
        }
        "identity"
            if !m.contains_key("identity_class") && st.labels.iter().any(|l| l == "sector") =>
        {
            m.insert("identity_class".into(), Value::String("class".into()));
        }
        "relationship" => {
            for k in ["relationship_type", "source_ref", "target_ref"] {
                if !m.get(k).is_some_and(Value::is_string) {
                    return None;
                }
            }
        }
        "sighting" if !m.get("sighting_of_ref").is_some_and(Value::is_string) => return None,
        "report" => {
            if !m.contains_key("published") {
                m.insert("published".into(), Value::String(created.clone()));
            }
            if !m.contains_key("object_refs") {
                return None;
            }
        }
        _ => {}
    }
    if !marking {
        m.insert("x_cairn_source".into(), Value::String(st.source.clone()));
    }
    Some(Value::Object(m))
}

/// Points a source's references at that source's copies.
fn rewrite_refs(m: &mut Map<String, Value>, source: &str, cx: &Cx) {
    for (k, v) in m.iter_mut() {
        if k.ends_with("_ref") {
            if let Value::String(s) = v {
                *s = cx.map(source, s);
            }
        } else if k.ends_with("_refs") {
            if let Value::Array(a) = v {
                for x in a.iter_mut() {
                    if let Value::String(s) = x {
                        *s = cx.map(source, s);
                    }
                }
            }
        } else if k == "granular_markings"
            && let Value::Array(a) = v
        {
            for g in a.iter_mut() {
                if let Some(Value::String(s)) = g.get_mut("marking_ref") {
                    *s = cx.map(source, s);
                }
            }
        }
    }
}

/// Counts of a bundle's objects by type, for summaries.
pub fn bundle_summary(bundle: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for o in bundle
        .get("objects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = o.get("type").and_then(Value::as_str) {
            *out.entry(t.to_string()).or_default() += 1;
        }
    }
    out
}
