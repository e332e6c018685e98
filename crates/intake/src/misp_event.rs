//! MISP event exports: attributes (and attributes inside objects) become
//! indicators; galaxy clusters and `misp-galaxy:` tags on the event name the
//! actors and malware the indicators indicate.

use crate::errors::IntakeError;
use crate::{Options, prov};
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Relation, Tlp, deterministic_id};
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Event {
    uuid: Option<String>,
    info: Option<String>,
    date: Option<String>,
    #[serde(rename = "Tag")]
    tags: Vec<Tag>,
    #[serde(rename = "Attribute")]
    attributes: Vec<Attribute>,
    #[serde(rename = "Object")]
    objects: Vec<MispObject>,
    #[serde(rename = "Galaxy")]
    galaxies: Vec<Galaxy>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tag {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Attribute {
    uuid: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    category: Option<String>,
    value: String,
    to_ids: Option<Value>,
    comment: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    #[serde(rename = "Tag")]
    tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MispObject {
    #[serde(rename = "Attribute")]
    attributes: Vec<Attribute>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Galaxy {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "GalaxyCluster")]
    clusters: Vec<GalaxyCluster>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GalaxyCluster {
    value: String,
    meta: Option<Value>,
}

pub(crate) fn parse(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| IntakeError::json(path, &e))?;
    // One event, a REST `response` list, or a plain list of events.
    let events: Vec<&Value> = match &doc {
        Value::Object(m) if m.contains_key("Event") => vec![&doc["Event"]],
        Value::Object(m) if m.contains_key("response") => match &m["response"] {
            Value::Array(a) => a.iter().map(|e| e.get("Event").unwrap_or(e)).collect(),
            _ => Vec::new(),
        },
        Value::Array(a) => a.iter().map(|e| e.get("Event").unwrap_or(e)).collect(),
        _ => Vec::new(),
    };
    if events.is_empty() {
        return Err(IntakeError::Format {
            path: path.to_path_buf(),
            message: "no MISP \"Event\" found".into(),
        });
    }
    let mut bundle = Bundle::default();
    for (ei, ev) in events.into_iter().enumerate() {
        let e: Event = serde_json::from_value(ev.clone()).map_err(|err| {
            IntakeError::object(path, format!("event #{}", ei + 1), err.to_string())
        })?;
        let source = prov::source_name(
            opts,
            Some(format!(
                "MISP event: {}",
                e.info.clone().unwrap_or_else(|| "untitled".into())
            )),
            path,
        );
        bundle.source = source.clone();
        let event_ref = e.uuid.clone().map(|u| format!("misp-event:{u}"));
        let event_tlp = tlp_of(&e.tags).or(opts.tlp).unwrap_or(Tlp::Clear);
        let mut base = prov::base(opts, &source);
        base.reference = base.reference.or(event_ref);
        base.tlp = event_tlp;
        base.first_seen = e.date.clone();

        // Actors and malware the event is tagged with.
        let mut linked: Vec<Object> = Vec::new();
        let mut add_cluster = |gtype: &str, name: &str, synonyms: Vec<String>| {
            let kind = if gtype.contains("actor")
                || gtype.contains("intrusion-set")
                || gtype.contains("activity-group")
            {
                "intrusion-set"
            } else if gtype.contains("malware")
                || gtype.contains("malpedia")
                || gtype.contains("tool")
                || gtype.contains("ransomware")
                || gtype.contains("rat")
            {
                "malware"
            } else {
                return;
            };
            let name = name.split(" - ").next().unwrap_or(name).trim().to_string();
            let id = deterministic_id(kind, &[&source, &name]);
            if linked.iter().any(|o| o.id == id) {
                return;
            }
            linked.push(Object {
                raw: serde_json::json!({"type": kind, "id": id, "name": name, "aliases": synonyms})
                    .to_string(),
                id,
                kind: kind.into(),
                name: Some(name),
                aliases: synonyms,
                prov: base.clone(),
                ..Object::default()
            });
        };
        for g in &e.galaxies {
            for c in &g.clusters {
                let syn = c
                    .meta
                    .as_ref()
                    .and_then(|m| m.get("synonyms"))
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                add_cluster(&g.kind, &c.value, syn);
            }
        }
        for t in &e.tags {
            if let Some(rest) = t.name.strip_prefix("misp-galaxy:")
                && let Some((gtype, v)) = rest.split_once('=')
            {
                add_cluster(gtype, v.trim_matches('"'), Vec::new());
            }
        }

        let all_attrs = e
            .attributes
            .iter()
            .chain(e.objects.iter().flat_map(|o| o.attributes.iter()));
        let mut skipped = 0usize;
        for (ai, a) in all_attrs.enumerate() {
            let observables = observables_of(&a.kind, &a.value);
            if observables.is_empty() {
                skipped += 1;
                continue;
            }
            if a.value.trim().is_empty() {
                return Err(IntakeError::object(
                    path,
                    format!("event #{} attribute #{}", ei + 1, ai + 1),
                    "empty value",
                ));
            }
            let id = match a.uuid.as_deref() {
                Some(u) if u.len() == 36 => format!("indicator--{}", u.to_ascii_lowercase()),
                _ => deterministic_id("indicator", &[&source, &a.kind, &a.value]),
            };
            let mut p = base.clone();
            p.first_seen = a.first_seen.clone().or(p.first_seen);
            p.last_seen = a.last_seen.clone();
            if let Some(t) = tlp_of(&a.tags) {
                p.tlp = t;
            }
            let to_ids = !matches!(a.to_ids, Some(Value::Bool(false)));
            let mut labels: Vec<String> = a.category.iter().cloned().collect();
            if !to_ids {
                labels.push("not-for-detection".into());
            }
            let obj = Object {
                raw: serde_json::json!({"type":"indicator","id":id,"name":a.value,"pattern":observables.iter().map(|o| o.kind.stix_pattern(&o.value)).collect::<Vec<_>>().join(" OR "),"pattern_type":"stix","x_misp_type":a.kind,"x_misp_category":a.category,"description":a.comment}).to_string(),
                id: id.clone(),
                kind: "indicator".into(),
                name: Some(a.value.clone()),
                description: a.comment.clone().filter(|c| !c.is_empty()),
                labels,
                observables,
                prov: p.clone(),
                ..Object::default()
            };
            for target in &linked {
                bundle
                    .relations
                    .push(relation(&id, "indicates", &target.id, &p));
            }
            bundle.objects.push(obj);
        }
        if skipped > 0 {
            bundle.warnings.push(format!(
                "event #{}: {skipped} attributes of non-indicator types skipped",
                ei + 1
            ));
        }
        let actors: Vec<&Object> = linked
            .iter()
            .filter(|o| o.kind == "intrusion-set")
            .collect();
        for a in &actors {
            for m in linked.iter().filter(|o| o.kind == "malware") {
                bundle.relations.push(relation(&a.id, "uses", &m.id, &base));
            }
        }
        bundle.objects.extend(linked);
    }
    Ok(bundle)
}

fn relation(src: &str, rel: &str, tgt: &str, p: &cairn_model::Provenance) -> Relation {
    let id = deterministic_id("relationship", &[src, rel, tgt]);
    Relation {
        raw: serde_json::json!({"type":"relationship","id":id,"relationship_type":rel,"source_ref":src,"target_ref":tgt}).to_string(),
        id,
        rel_type: rel.into(),
        source_ref: src.into(),
        target_ref: tgt.into(),
        prov: p.clone(),
        ..Relation::default()
    }
}

fn tlp_of(tags: &[Tag]) -> Option<Tlp> {
    tags.iter().filter_map(|t| t.name.parse::<Tlp>().ok()).max()
}

/// Observables for a MISP attribute type; composite types (`domain|ip`,
/// `filename|sha256`) give one per part.
fn observables_of(kind: &str, value: &str) -> Vec<Observable> {
    use IndicatorKind as K;
    if let (Some((k1, k2)), Some((v1, v2))) = (kind.split_once('|'), value.split_once('|')) {
        if k2 == "port" {
            return observables_of(k1, v1);
        }
        let mut v = observables_of(k1, v1);
        v.extend(observables_of(k2, v2));
        return v;
    }
    let k = match kind {
        "ip-dst" | "ip-src" | "ip" => match IndicatorKind::detect(value) {
            Some(k @ (K::Ipv4 | K::Ipv6 | K::Cidr)) => k,
            _ => return Vec::new(),
        },
        "x509-fingerprint-sha1" => K::CertSha1,
        "x509-fingerprint-sha256" => K::CertSha256,
        "ja3-fingerprint-md5" => K::Ja3,
        "jarm-fingerprint" => K::Jarm,
        "AS" => K::Asn,
        "vulnerability" => K::Cve,
        "filename" => K::FileName,
        "regkey" => K::RegistryKey,
        "btc" => K::Btc,
        "xmr" => K::Xmr,
        other => match other.parse::<IndicatorKind>() {
            Ok(k) => k,
            Err(_) => return Vec::new(),
        },
    };
    vec![Observable::new(k, value)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_attributes_become_indicators_linked_to_tagged_actor() {
        let ev = r#"{"Event":{"uuid":"5f0c2d1e-0000-4000-8000-000000000001","info":"RedHotel C2","date":"2023-06-01",
          "Tag":[{"name":"tlp:amber"},{"name":"misp-galaxy:threat-actor=\"RedHotel\""}],
          "Attribute":[{"uuid":"5f0c2d1e-0000-4000-8000-000000000002","type":"domain","category":"Network activity","value":"kb.dga.asia","to_ids":true},
                       {"type":"comment","value":"not an indicator"},
                       {"type":"domain|ip","value":"a.dga.asia|1.2.3.4"}],
          "Object":[{"name":"file","Attribute":[{"type":"sha256","value":"AB"}]}]}}"#;
        let b = parse(Path::new("e.json"), ev, &Options::default()).unwrap();
        assert_eq!(b.indicator_count(), 3);
        assert!(
            b.objects
                .iter()
                .any(|o| o.kind == "intrusion-set" && o.name.as_deref() == Some("RedHotel"))
        );
        assert_eq!(
            b.relations
                .iter()
                .filter(|r| r.rel_type == "indicates")
                .count(),
            3
        );
        assert!(
            b.objects
                .iter()
                .filter(|o| o.kind == "indicator")
                .all(|o| o.prov.tlp == Tlp::Amber)
        );
        let composite = b
            .objects
            .iter()
            .find(|o| o.name.as_deref() == Some("a.dga.asia|1.2.3.4"))
            .unwrap();
        assert_eq!(composite.observables.len(), 2);
        assert_eq!(b.warnings.len(), 1);
    }
}
