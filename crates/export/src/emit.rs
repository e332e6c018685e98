//! The one STIX 2.1 emitter: a stored [`Statement`] in, a valid STIX 2.1
//! object out (or nothing, when the statement cannot be one). Bundles
//! ([`stix_bundle`](crate::stix_bundle)) and the TAXII feed
//! ([`feed_object`](crate::feed_object)) both call [`emit`]; they differ
//! only in the [`Context`] they give it.
//!
//! Each statement goes out as its source wrote it, with only what STIX 2.1
//! requires changed or added. The rules, in order:
//!
//! - **Shape.** `type` is the source's (relationships and sightings: by the
//!   stored relation), `spec_version` is `2.1`; null values and empty lists
//!   are dropped, at any depth.
//! - **Ids.** An id whose UUID is not v4 or v5 (a MISP galaxy's UUIDv7, a
//!   hand-written `relationship--1`) is published as
//!   [`canonical_stix_id`], a UUIDv5 derived from the id alone, so a TAXII
//!   client can follow references page by page; the original is kept in
//!   `x_cairn_original_id`. Bundles may also give a second source's copy of
//!   an id its own id ([`Context::remap`]). Every `*_ref`, `*_refs` and
//!   granular `marking_ref` is rewritten the same way.
//! - **Timestamps.** `created` and `modified` (marking definitions, which
//!   are not versioned: `created` only) are millisecond STIX timestamps:
//!   the source's, else the stored columns, else when Cairn stored the
//!   statement; `created` is never later than `modified`. STIX
//!   cyber-observables get neither. Other timestamps are STIX timestamps
//!   (the source's text kept when it is one).
//! - **Provenance.** `x_cairn_source` names the source; the stored
//!   reference becomes an `external_references` entry when the source gave
//!   none; `revoked`, `confidence` and `description` come from the columns
//!   when the JSON lacks them. An object carries a TLP marking: when it
//!   names no marking at all, or names no TLP marking while stored above
//!   TLP:CLEAR, the TLP 2.0 marking of its stored TLP is added. Bundles also
//!   credit statements of sources that name no author to an identity
//!   standing for the source ([`Context::credit`]).
//! - **Required properties**, filled from the columns when the JSON lacks
//!   them, the statement dropped when they cannot be: a `name` for
//!   attack patterns, campaigns, courses of action, identities,
//!   infrastructure, intrusion sets, reports, threat actors, tools,
//!   vulnerabilities and malware families; an indicator's `pattern` (from
//!   its observables), `pattern_type` (`stix`) and `valid_from` (first seen,
//!   else `created`), and a `valid_until` only when later; a malware's
//!   `is_family` (`true`); a location's `region`, `country` or both
//!   `latitude` and `longitude` (a lone coordinate moves to
//!   `x_cairn_latitude`/`x_cairn_longitude`; the country column fills in);
//!   a relationship's type and ends, a sighting's `sighting_of_ref` (the
//!   stored relation's); a report's `published` (`created`) and
//!   `object_refs`; a grouping's `context` (`unspecified`) and `object_refs`.
//! - **URLs.** An `external_references` URL keeps to RFC 3986: characters a
//!   URI cannot hold (`|`, spaces, non-ASCII) are percent-encoded.
//! - **Vocabularies.** `indicator_types`, an identity's `sectors` and
//!   `primary_motivation` hold STIX open-vocabulary values
//!   ([`cairn_model::vocab`]): Cairn's words (`c2`, `Academia`,
//!   `espionage`) are mapped where a value fits and moved to `labels`, so
//!   nothing is lost; a sector identity gets `identity_class` `class`.

use cairn_kb::Statement;
use cairn_model::{Tlp, canonical_stix_id, time, vocab};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

/// STIX cyber-observable types: no `created`/`modified`.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Types whose objects require a `name` in STIX 2.1 (malware: families only).
pub(crate) const NAMED: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "identity",
    "infrastructure",
    "intrusion-set",
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

/// What the emitter knows beyond the statement.
#[derive(Debug, Default)]
pub struct Context {
    /// Ids a source's statements are published under instead of the
    /// canonical one, by (source, stored id). Bundles use it to keep two
    /// sources' copies of one id apart; TAXII leaves it empty.
    pub remap: HashMap<(String, String), String>,
    /// Marking definitions sources published themselves that are TLP
    /// markings (published id → level): an object marked with one carries a
    /// TLP marking already.
    pub tlp_markings: HashMap<String, Tlp>,
    /// Credit statements whose source names no author (`created_by_ref`)
    /// to an identity standing for the source; the value is whether the
    /// source is STIX (a STIX source's own identities and marking
    /// definitions are left uncredited). `None`: no crediting (TAXII, which
    /// does not serve those identities).
    pub credit: Option<HashMap<String, bool>>,
}

impl Context {
    /// The id `source`'s statement `id` is published under.
    pub fn publish_id(&self, source: &str, id: &str) -> String {
        self.remap
            .get(&(source.to_string(), id.to_string()))
            .cloned()
            .unwrap_or_else(|| canonical_stix_id(id).into_owned())
    }
}

/// One emitted object and what it needs beside it.
#[derive(Debug, Clone)]
pub struct Emitted {
    /// The STIX 2.1 object.
    pub object: Value,
    /// The source whose identity `created_by_ref` names (crediting only).
    pub identity: Option<String>,
    /// The standard TLP marking definitions the object references.
    pub markings: BTreeSet<String>,
}

/// The identity that stands for a source which named no author.
pub fn source_identity_id(source: &str) -> String {
    cairn_model::deterministic_id("identity", &["cairn-source", source])
}

/// Drops nulls and empty lists, at any depth (STIX forbids both).
fn prune(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                prune(x);
            }
            m.retain(|_, x| !is_empty(x));
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                prune(x);
            }
            a.retain(|x| !x.is_null());
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn has_str(m: &Map<String, Value>, k: &str) -> bool {
    m.get(k).is_some_and(Value::is_string)
}

fn ts_prop(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).and_then(time::stix)
}

fn later_or_equal(a: &str, b: &str) -> bool {
    matches!((time::parse(a), time::parse(b)), (Some(a), Some(b)) if a >= b)
}

fn str_list(m: &Map<String, Value>, k: &str) -> Vec<String> {
    match m.get(k) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Adds `words` to the object's `labels`, once each.
fn add_labels(m: &mut Map<String, Value>, words: &[String]) {
    if words.is_empty() {
        return;
    }
    let mut labels = str_list(m, "labels");
    for w in words {
        if !labels.contains(w) {
            labels.push(w.clone());
        }
    }
    m.insert("labels".into(), json!(labels));
}

/// `statement` as a valid STIX 2.1 object, or `None` when it cannot be one
/// (see the module notes for every rule).
pub fn emit(st: &Statement, cx: &Context) -> Option<Emitted> {
    let mut v = match &st.raw {
        Value::Object(_) => st.raw.clone(),
        _ => json!({}),
    };
    prune(&mut v);
    let Value::Object(mut m) = v else {
        return None;
    };
    let kind = match m.get("type").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None if st.is_relation() && st.kind == "sighting-of" => "sighting".into(),
        None if st.is_relation() => "relationship".into(),
        None => st.kind.clone(),
    };
    m.insert("type".into(), Value::String(kind.clone()));
    let out_id = cx.publish_id(&st.source, &st.stix_id);
    m.remove("x_cairn_original_id");
    if out_id != st.stix_id {
        m.insert(
            "x_cairn_original_id".into(),
            Value::String(st.stix_id.clone()),
        );
    }
    m.insert("id".into(), Value::String(out_id));
    m.insert("spec_version".into(), Value::String("2.1".into()));
    rewrite_refs(&mut m, &st.source, cx);

    let sco = SCO_TYPES.contains(&kind.as_str());
    let marking = kind == "marking-definition";
    let mut markings: BTreeSet<String> = BTreeSet::new();
    let mut identity = None;
    let mut created = String::new();
    if !sco {
        created = ts_created(&m, "created", &st.created, &st.added_at);
        if marking {
            m.remove("modified");
        } else {
            let modified = ts_created(&m, "modified", &st.modified, &st.updated_at);
            if !later_or_equal(&modified, &created) {
                created = modified.clone();
            }
            m.insert("modified".into(), Value::String(modified));
        }
        m.insert("created".into(), Value::String(created.clone()));
    }

    if !sco && !marking {
        if st.revoked && !m.contains_key("revoked") {
            m.insert("revoked".into(), Value::Bool(true));
        }
        if !m.contains_key("confidence")
            && let Some(c) = st.confidence.filter(|c| *c <= 100)
        {
            m.insert("confidence".into(), json!(c));
        }
        if !has_str(&m, "description")
            && let Some(d) = st.description.as_deref().filter(|d| !d.is_empty())
        {
            m.insert("description".into(), Value::String(d.to_string()));
        }
        if let Some(credit) = &cx.credit {
            let stix_source = credit.get(&st.source).copied().unwrap_or(false);
            let own_kind = stix_source && kind == "identity";
            if !m.contains_key("created_by_ref") && !own_kind {
                m.insert(
                    "created_by_ref".into(),
                    Value::String(source_identity_id(&st.source)),
                );
                identity = Some(st.source.clone());
            }
        }
        let mut refs = str_list(&m, "object_marking_refs");
        let has_tlp = refs
            .iter()
            .any(|r| Tlp::from_marking_ref(r).is_some() || cx.tlp_markings.contains_key(r));
        if refs.is_empty() || (!has_tlp && st.tlp > Tlp::Clear) {
            refs.push(st.tlp.marking_id().to_string());
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
    } else if marking
        && let Some(credit) = &cx.credit
        && !m.contains_key("created_by_ref")
        && !credit.get(&st.source).copied().unwrap_or(false)
    {
        m.insert(
            "created_by_ref".into(),
            Value::String(source_identity_id(&st.source)),
        );
        identity = Some(st.source.clone());
    }
    for r in str_list(&m, "object_marking_refs") {
        if Tlp::from_marking_ref(&r).is_some() {
            markings.insert(r);
        }
    }
    if let Some(list) = m.get("granular_markings").and_then(Value::as_array) {
        for r in list
            .iter()
            .filter_map(|g| g.get("marking_ref").and_then(Value::as_str))
        {
            if Tlp::from_marking_ref(r).is_some() {
                markings.insert(r.to_string());
            }
        }
    }

    if let Some(Value::Array(refs)) = m.get_mut("external_references") {
        for r in refs.iter_mut() {
            if let Some(Value::String(u)) = r.get_mut("url") {
                *u = uri_safe(u);
            }
        }
    }

    if SEEN.contains(&kind.as_str()) {
        let first =
            ts_prop(&m, "first_seen").or_else(|| st.first_seen.as_deref().and_then(time::stix));
        let last =
            ts_prop(&m, "last_seen").or_else(|| st.last_seen.as_deref().and_then(time::stix));
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
    let family = kind == "malware" && m.get("is_family").and_then(Value::as_bool) != Some(false);
    if (NAMED.contains(&kind.as_str()) || family) && !has_str(&m, "name") {
        let name = st.name.clone().filter(|n| !n.is_empty())?;
        m.insert("name".into(), Value::String(name));
    }

    match kind.as_str() {
        "indicator" => indicator(&mut m, st, &created)?,
        "malware" if !m.get("is_family").is_some_and(Value::is_boolean) => {
            m.insert("is_family".into(), Value::Bool(true));
        }
        "location" => location(&mut m, st)?,
        "identity" => identity_vocab(&mut m, st),
        "intrusion-set" | "threat-actor" | "campaign" => {
            if let Some(mo) = m.get("primary_motivation").and_then(Value::as_str) {
                let mo = mo.to_string();
                if !vocab::ATTACK_MOTIVATIONS.contains(&mo.as_str()) {
                    m.remove("primary_motivation");
                    add_labels(&mut m, &[mo]);
                }
            }
        }
        "relationship" => {
            let ends = [
                ("relationship_type", Some(st.kind.clone())),
                ("source_ref", st.source_ref.clone()),
                ("target_ref", st.target_ref.clone()),
            ];
            for (k, col) in ends {
                if !has_str(&m, k) {
                    let val = col.filter(|c| !c.is_empty() && st.is_relation())?;
                    let val = if k == "relationship_type" {
                        val
                    } else {
                        cx.publish_id(&st.source, &val)
                    };
                    m.insert(k.into(), Value::String(val));
                }
            }
        }
        "sighting" if !has_str(&m, "sighting_of_ref") => {
            let t = st.target_ref.as_deref()?;
            m.insert(
                "sighting_of_ref".into(),
                Value::String(cx.publish_id(&st.source, t)),
            );
        }
        "report" => {
            if !m.contains_key("published") {
                m.insert("published".into(), Value::String(created.clone()));
            }
            if !m.contains_key("object_refs") {
                return None;
            }
        }
        "grouping" => {
            if !has_str(&m, "context") {
                m.insert("context".into(), Value::String("unspecified".into()));
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
    Some(Emitted {
        object: Value::Object(m),
        identity,
        markings,
    })
}

/// Characters an RFC 3986 URI cannot hold as they are (besides controls and
/// non-ASCII, which are always encoded); `%` stays, as it already encodes.
const NOT_URI: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `url` with what a URI cannot hold percent-encoded.
fn uri_safe(url: &str) -> String {
    percent_encoding::utf8_percent_encode(url.trim(), NOT_URI).to_string()
}

/// A millisecond `created`/`modified`: the JSON's, else the column, else `fallback`.
fn ts_created(m: &Map<String, Value>, key: &str, col: &Option<String>, fallback: &str) -> String {
    m.get(key)
        .and_then(Value::as_str)
        .and_then(time::stix_ms)
        .or_else(|| col.as_deref().and_then(time::stix_ms))
        .or_else(|| time::stix_ms(fallback))
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into())
}

fn indicator(m: &mut Map<String, Value>, st: &Statement, created: &str) -> Option<()> {
    if !has_str(m, "pattern") {
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
    if !has_str(m, "pattern_type") {
        m.insert("pattern_type".into(), Value::String("stix".into()));
    }
    let from = ts_prop(m, "valid_from")
        .or_else(|| st.first_seen.as_deref().and_then(time::stix))
        .unwrap_or_else(|| created.to_string());
    m.insert("valid_from".into(), Value::String(from.clone()));
    match ts_prop(m, "valid_until") {
        Some(u) if later_or_equal(&u, &from) && u != from => {
            m.insert("valid_until".into(), Value::String(u));
        }
        _ => {
            m.remove("valid_until");
        }
    }
    let given = str_list(m, "indicator_types");
    if !given.is_empty() {
        let mut types: Vec<&str> = Vec::new();
        let mut moved: Vec<String> = Vec::new();
        for g in &given {
            let t = vocab::indicator_type(g);
            if !types.contains(&t) {
                types.push(t);
            }
            if t != g {
                moved.push(g.clone());
            }
        }
        m.insert("indicator_types".into(), json!(types));
        add_labels(m, &moved);
    }
    Some(())
}

fn location(m: &mut Map<String, Value>, st: &Statement) -> Option<()> {
    let lat = m.contains_key("latitude");
    let lon = m.contains_key("longitude");
    if lat != lon {
        for (k, x) in [
            ("latitude", "x_cairn_latitude"),
            ("longitude", "x_cairn_longitude"),
        ] {
            if let Some(v) = m.remove(k) {
                m.insert(x.into(), v);
            }
        }
    }
    let placed = has_str(m, "region") || has_str(m, "country") || (lat && lon);
    if !placed {
        let c = st.country.clone().filter(|c| !c.is_empty())?;
        m.insert("country".into(), Value::String(c));
    }
    Some(())
}

fn identity_vocab(m: &mut Map<String, Value>, st: &Statement) {
    if !m.contains_key("identity_class") && st.labels.iter().any(|l| l == "sector") {
        m.insert("identity_class".into(), Value::String("class".into()));
    }
    let given = str_list(m, "sectors");
    if given.is_empty() {
        return;
    }
    let mut sectors: Vec<&str> = Vec::new();
    let mut moved: Vec<String> = Vec::new();
    for g in &given {
        match vocab::industry_sector(g) {
            Some(s) => {
                if !sectors.contains(&s) {
                    sectors.push(s);
                }
                if s != g {
                    moved.push(g.clone());
                }
            }
            None => moved.push(g.clone()),
        }
    }
    if sectors.is_empty() {
        m.remove("sectors");
    } else {
        m.insert("sectors".into(), json!(sectors));
    }
    add_labels(m, &moved);
}

/// Points a statement's references at the ids their targets are published under.
fn rewrite_refs(m: &mut Map<String, Value>, source: &str, cx: &Context) {
    for (k, v) in m.iter_mut() {
        if k.ends_with("_ref") {
            if let Value::String(s) = v {
                *s = cx.publish_id(source, s);
            }
        } else if k.ends_with("_refs") {
            if let Value::Array(a) = v {
                for x in a.iter_mut() {
                    if let Value::String(s) = x {
                        *s = cx.publish_id(source, s);
                    }
                }
            }
        } else if k == "granular_markings"
            && let Value::Array(a) = v
        {
            for g in a.iter_mut() {
                if let Some(Value::String(s)) = g.get_mut("marking_ref") {
                    *s = cx.publish_id(source, s);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{IndicatorKind, Observable};

    fn st(raw: Value, kind: &str) -> Statement {
        Statement {
            stix_id: raw["id"].as_str().unwrap_or("x--1").to_string(),
            raw,
            kind: kind.into(),
            source: "src".into(),
            name: None,
            country: None,
            labels: Vec::new(),
            created: None,
            modified: None,
            revoked: false,
            reference: None,
            first_seen: None,
            last_seen: None,
            confidence: None,
            tlp: Tlp::Clear,
            added_at: "2024-01-02T03:04:05Z".into(),
            updated_at: "2024-01-02T03:04:05.250Z".into(),
            observables: Vec::new(),
            description: None,
            source_ref: None,
            target_ref: None,
        }
    }

    fn out(s: &Statement) -> Option<Value> {
        emit(s, &Context::default()).map(|e| e.object)
    }

    #[test]
    fn timestamps_have_milliseconds_and_created_is_not_after_modified() {
        let o = out(&st(
            json!({"type":"intrusion-set","id":"intrusion-set--00000000-0000-4000-8000-000000000001",
                "name":"X","created":"2024-05-01T00:00:00Z","modified":"2023-01-01"}),
            "intrusion-set",
        ))
        .unwrap();
        assert_eq!(o["modified"], "2023-01-01T00:00:00.000Z");
        assert_eq!(o["created"], "2023-01-01T00:00:00.000Z");
        // Nothing stated: when Cairn stored it.
        let o = out(&st(
            json!({"type":"tool","id":"tool--00000000-0000-4000-8000-000000000002","name":"T"}),
            "tool",
        ))
        .unwrap();
        assert_eq!(o["created"], "2024-01-02T03:04:05.000Z");
        assert_eq!(o["modified"], "2024-01-02T03:04:05.250Z");
        assert_eq!(o["object_marking_refs"], json!([Tlp::Clear.marking_id()]));
    }

    #[test]
    fn odd_ids_are_published_under_a_v5_id_and_references_follow() {
        let v7 = "intrusion-set--019514dc-c894-751f-8b49-5dcd3c8b6f3a";
        let o = out(&st(
            json!({"type":"intrusion-set","id":v7,"name":"Seven"}),
            "intrusion-set",
        ))
        .unwrap();
        let published = canonical_stix_id(v7).into_owned();
        assert_eq!(o["id"], published.as_str());
        assert_eq!(o["x_cairn_original_id"], v7);
        let mut r = st(json!({}), "targets");
        r.stix_id = "relationship--1".into();
        r.source_ref = Some(v7.into());
        r.target_ref = Some("location--00000000-0000-4000-8000-000000000005".into());
        let o = out(&r).unwrap();
        assert_eq!(o["type"], "relationship");
        assert_eq!(o["relationship_type"], "targets");
        assert_eq!(o["source_ref"], published.as_str());
        assert!(cairn_model::has_v4_or_v5_uuid(o["id"].as_str().unwrap()));
    }

    #[test]
    fn required_properties_are_filled_or_the_statement_dropped() {
        // A location with a latitude only: not placed, unless the country column says where.
        let raw = json!({"type":"location","id":"location--00000000-0000-4000-8000-000000000005","latitude":1.5});
        assert!(out(&st(raw.clone(), "location")).is_none());
        let mut s = st(raw, "location");
        s.country = Some("TW".into());
        let o = out(&s).unwrap();
        assert_eq!(o["country"], "TW");
        assert!(o.get("latitude").is_none());
        assert_eq!(o["x_cairn_latitude"], 1.5);
        // A named type without a name anywhere is dropped, not named by its id.
        let raw = json!({"type":"campaign","id":"campaign--00000000-0000-4000-8000-000000000006"});
        assert!(out(&st(raw, "campaign")).is_none());
        // A malware that is not a family needs no name.
        let raw = json!({"type":"malware","id":"malware--00000000-0000-4000-8000-000000000007","is_family":false});
        assert!(out(&st(raw, "malware")).is_some());
        // An indicator from its observables.
        let mut s = st(
            json!({"type":"indicator","id":"indicator--00000000-0000-4000-8000-000000000008","indicator_types":["c2","certificate"]}),
            "indicator",
        );
        assert!(out(&s).is_none(), "no pattern, no observables");
        s.observables = vec![Observable::new(IndicatorKind::Domain, "evil.example")];
        s.first_seen = Some("2023-05-01".into());
        let o = out(&s).unwrap();
        assert_eq!(o["pattern"], "[domain-name:value = 'evil.example']");
        assert_eq!(o["valid_from"], "2023-05-01T00:00:00.000Z");
        assert_eq!(
            o["indicator_types"],
            json!(["malicious-activity", "attribution"])
        );
        assert_eq!(o["labels"], json!(["c2", "certificate"]));
    }

    #[test]
    fn sectors_and_motivations_keep_to_the_vocabularies() {
        let mut s = st(
            json!({"type":"identity","id":"identity--00000000-0000-4000-8000-000000000009",
                "name":"Academia","sectors":["Academia","Basket weaving"]}),
            "identity",
        );
        s.labels = vec!["sector".into()];
        let o = out(&s).unwrap();
        assert_eq!(o["sectors"], json!(["education"]));
        assert_eq!(o["identity_class"], "class");
        assert_eq!(o["labels"], json!(["Academia", "Basket weaving"]));
        let o = out(&st(
            json!({"type":"intrusion-set","id":"intrusion-set--00000000-0000-4000-8000-00000000000a",
                "name":"Y","primary_motivation":"espionage"}),
            "intrusion-set",
        ))
        .unwrap();
        assert!(o.get("primary_motivation").is_none());
        assert_eq!(o["labels"], json!(["espionage"]));
    }

    #[test]
    fn reference_urls_are_uris() {
        let o = out(&st(
            json!({"type":"tool","id":"tool--00000000-0000-4000-8000-00000000000c","name":"T",
                "external_references":[{"source_name":"x",
                    "url":"https://catalyst.prodaft.com/public/report/lucid/overview#paragraph-1055|388 é"}]}),
            "tool",
        ))
        .unwrap();
        assert_eq!(
            o["external_references"][0]["url"],
            "https://catalyst.prodaft.com/public/report/lucid/overview#paragraph-1055%7C388%20%C3%A9"
        );
    }

    #[test]
    fn tlp_marking_is_added_unless_one_is_named() {
        let mut s = st(
            json!({"type":"tool","id":"tool--00000000-0000-4000-8000-00000000000b","name":"T",
                "object_marking_refs":["marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"]}),
            "tool",
        );
        let e = emit(&s, &Context::default()).unwrap();
        assert_eq!(e.object["object_marking_refs"].as_array().unwrap().len(), 1);
        assert!(e.markings.is_empty());
        s.tlp = Tlp::Amber;
        let e = emit(&s, &Context::default()).unwrap();
        assert_eq!(e.object["object_marking_refs"][1], Tlp::Amber.marking_id());
        assert!(e.markings.contains(Tlp::Amber.marking_id()));
        s.raw["object_marking_refs"] = json!([Tlp::Red.marking_id_v1().unwrap()]);
        s.tlp = Tlp::Red;
        let e = emit(&s, &Context::default()).unwrap();
        assert_eq!(
            e.object["object_marking_refs"],
            json!([Tlp::Red.marking_id_v1().unwrap()])
        );
    }
}
