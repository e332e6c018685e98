//! A subgraph as a STIX 2.1 bundle, and a TAXII feed item as a STIX 2.1
//! object: both through the one emitter ([`crate::emit`]).
//!
//! A bundle holds every statement as its own object, plus the identities
//! and standard TLP marking definitions they reference. Two sources that use
//! one id keep two objects: the later gets a derived id
//! (`x_cairn_original_id` keeps the one it had) and that source's
//! relationships follow it. Statements of sources that name no author are
//! credited to an identity standing for the source. Relationships whose ends
//! did not make it into the bundle are left out.

use crate::emit::{Context, emit, source_identity_id};
use cairn_kb::{FeedItem, FeedObject, SourceInfo, Statement, Subgraph};
use cairn_model::{Tlp, canonical_stix_id, deterministic_id, time};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The media type of every STIX object Cairn serves.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// One TAXII feed item as a STIX 2.1 object, or `None` when the statement
/// cannot be one (see [`crate::emit`]). The object's `id` is the published
/// one; its version is its `modified` (or `created`, for marking
/// definitions; STIX cyber-observables have neither: their date added).
pub fn feed_object(item: &FeedObject) -> Option<Value> {
    match &item.item {
        FeedItem::Statement(st) => emit(st, &Context::default()).map(|e| e.object),
        FeedItem::Marking(id) => Tlp::marking_definition(id),
    }
}

/// Builds a STIX 2.1 bundle of `sub`: every statement as its own object,
/// plus the identities and TLP marking definitions they reference. The
/// bundle id is derived from the content, so the same store exports the
/// same bundle.
pub fn stix_bundle(sub: &Subgraph) -> Value {
    let formats: HashMap<&str, &SourceInfo> =
        sub.sources.iter().map(|s| (s.name.as_str(), s)).collect();
    let is_stix = |source: &str| formats.get(source).is_some_and(|f| f.format == "stix");
    // A STIX source's copy keeps the id it published before a copy that
    // intake built from another format.
    let mut all: Vec<&Statement> = sub.objects.iter().chain(sub.relations.iter()).collect();
    all.sort_by_key(|s| !is_stix(&s.source));

    // Ids: the first source to use one keeps it; later sources get their own.
    let mut cx = Context {
        credit: Some(
            sub.sources
                .iter()
                .map(|s| (s.name.clone(), s.format == "stix"))
                .collect(),
        ),
        ..Context::default()
    };
    let mut owner: HashMap<&str, &str> = HashMap::new();
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
                cx.remap
                    .insert((st.source.clone(), st.stix_id.clone()), fresh);
            }
        }
    }
    // Marking definitions in the subgraph that are TLP markings of their own.
    for st in sub
        .objects
        .iter()
        .filter(|s| s.kind == "marking-definition")
    {
        if let Some(t) = custom_tlp(&st.raw) {
            cx.tlp_markings
                .insert(cx.publish_id(&st.source, &st.stix_id), t);
        }
    }

    let mut identities: BTreeSet<String> = BTreeSet::new();
    let mut markings: BTreeSet<String> = BTreeSet::new();
    let mut out: Vec<Value> = Vec::new();
    let mut emitted: HashSet<String> = HashSet::new();
    for st in sub.objects.iter().chain(sub.relations.iter()) {
        if Tlp::from_marking_ref(&st.stix_id).is_some() {
            // Standard TLP definitions are emitted once, as published.
            markings.insert(st.stix_id.clone());
            continue;
        }
        let Some(e) = emit(st, &cx) else { continue };
        identities.extend(e.identity);
        markings.extend(e.markings);
        if let Some(id) = e.object.get("id").and_then(Value::as_str)
            && emitted.insert(id.to_string())
        {
            out.push(e.object);
        }
    }

    let mut head: Vec<Value> = Vec::new();
    for name in &identities {
        let id = source_identity_id(name);
        if !emitted.insert(id.clone()) {
            continue;
        }
        let info = formats.get(name.as_str());
        let created = info
            .and_then(|i| time::stix_ms(&i.first_ingested))
            .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into());
        let modified = info
            .and_then(|i| time::stix_ms(&i.last_ingested))
            .filter(
                |m| matches!((time::parse(m), time::parse(&created)), (Some(m), Some(c)) if m >= c),
            )
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
    for id in &markings {
        if emitted.contains(id) {
            continue;
        }
        if let Some(m) = Tlp::marking_definition(id) {
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
    debug_assert_eq!(canonical_stix_id(&id), id.as_str());
    json!({ "type": "bundle", "id": id, "objects": head })
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
