//! An actor's infrastructure tiers as STIX 2.1: one `infrastructure` object
//! per type, `consists-of` relationships to the domain and address
//! cyber-observables, and `uses` from the actor's intrusion sets.
//!
//! These are Cairn's judgement, not a source's statement: they are credited
//! to an identity standing for Cairn's infrastructure engine, marked with the
//! most restrictive marking among the facts they rest on, and carry every
//! value's reasons (`x_cairn_reasons`) with the sources behind them.

use crate::errors::ExportError;
use cairn_engine::EngineError;
use cairn_infra::{Tier, Tiered};
use cairn_kb::Store;
use cairn_model::{Tlp, deterministic_id, normalize_name, time};
use serde_json::{Value, json};
use std::collections::HashSet;

/// The identity Cairn's derived infrastructure objects are credited to.
fn engine_identity(created: &str) -> Value {
    json!({
        "type": "identity", "spec_version": "2.1",
        "id": deterministic_id("identity", &["cairn-infrastructure-engine"]),
        "created": created, "modified": created,
        "name": "Cairn infrastructure engine",
        "identity_class": "system",
        "description": "Infrastructure types derived by Cairn from its sources' stated roles and \
                        observations; each object lists its reasons and their sources.",
    })
}

/// The STIX 2.1 id of a domain-name, ipv4-addr or ipv6-addr observable:
/// UUIDv5 in the STIX namespace over its `value` (the spec's deterministic
/// id, so every producer names the same address alike).
pub fn sco_id(kind: &str, value: &str) -> String {
    const STIX_NS: uuid::Uuid = uuid::Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);
    let canonical = json!({ "value": value }).to_string();
    format!(
        "{kind}--{}",
        uuid::Uuid::new_v5(&STIX_NS, canonical.as_bytes())
    )
}

fn sco_type(kind: &str) -> Option<&'static str> {
    match kind {
        "domain" => Some("domain-name"),
        "ipv4" => Some("ipv4-addr"),
        "ipv6" => Some("ipv6-addr"),
        _ => None,
    }
}

fn reasons_of(v: &Tiered) -> Value {
    json!({
        "value": v.value,
        "types": v.types,
        "reasons": v.reasons.iter().map(|r| json!({
            "type": r.infrastructure_type, "basis": r.basis, "reason": r.reason,
            "sources": r.sources,
        })).collect::<Vec<_>>(),
    })
}

/// STIX objects for `tiers` (see the module notes); `actor_refs` are the
/// published ids of the actor's intrusion sets in the bundle, `created` the
/// timestamp the objects carry (the newest ingest behind the bundle keeps
/// the export reproducible). `undefined` values form no object.
pub fn infrastructure_objects(
    actor: &str,
    actor_refs: &[String],
    tiers: &[Tier],
    created: &str,
) -> Vec<Value> {
    let created = time::stix_ms(created).unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into());
    let identity = engine_identity(&created);
    let by = identity["id"].clone();
    let mut out = vec![identity];
    let mut markings: HashSet<Tlp> = HashSet::new();
    let mut scos: HashSet<String> = HashSet::new();
    for t in tiers
        .iter()
        .filter(|t| t.infrastructure_type != "undefined")
    {
        let ty = &t.infrastructure_type;
        let id = deterministic_id("infrastructure", &[actor, ty]);
        let tlp = t.values.iter().map(|v| v.tlp).max().unwrap_or(Tlp::Clear);
        markings.insert(tlp);
        let first = t
            .values
            .iter()
            .filter_map(|v| v.first_seen.as_deref())
            .min();
        let last = t.values.iter().filter_map(|v| v.last_seen.as_deref()).max();
        let mut o = json!({
            "type": "infrastructure", "spec_version": "2.1", "id": id,
            "created": created, "modified": created, "created_by_ref": by,
            "name": format!("{actor} {ty}"),
            "infrastructure_types": [ty],
            "description": format!(
                "{} of {actor}'s values whose best supported type is {ty}, as Cairn judged from its \
                 sources' stated roles and observations (reasons per value in x_cairn_reasons).",
                t.values.len()
            ),
            "object_marking_refs": [tlp.marking_id()],
            "x_cairn_reasons": t.values.iter().map(reasons_of).collect::<Vec<_>>(),
        });
        if let (Some(f), Some(l)) = (first.and_then(time::stix_ms), last.and_then(time::stix_ms)) {
            o["first_seen"] = json!(f);
            o["last_seen"] = json!(l);
        }
        out.push(o);
        let rel = |kind: &str, from: &str, to: &str| {
            json!({
                "type": "relationship", "spec_version": "2.1",
                "id": deterministic_id("relationship", &[from, kind, to]),
                "created": created, "modified": created, "created_by_ref": by,
                "relationship_type": kind, "source_ref": from, "target_ref": to,
                "object_marking_refs": [tlp.marking_id()],
            })
        };
        for a in actor_refs {
            out.push(rel("uses", a, &id));
        }
        for v in &t.values {
            let Some(st) = sco_type(&v.kind) else {
                continue;
            };
            let sid = sco_id(st, &v.value);
            if scos.insert(sid.clone()) {
                out.push(json!({
                    "type": st, "spec_version": "2.1", "id": sid, "value": v.value,
                    "object_marking_refs": [v.tlp.marking_id()],
                }));
                markings.insert(v.tlp);
            }
            out.push(rel("consists-of", &id, &sid));
        }
    }
    if out.len() == 1 {
        return Vec::new();
    }
    let mut markings: Vec<Tlp> = markings.into_iter().collect();
    markings.sort();
    out.extend(
        markings
            .into_iter()
            .filter_map(|t| Tlp::marking_definition(t.marking_id())),
    );
    out
}

/// The STIX 2.1 bundle of the actor `query` names: its subgraph
/// ([`crate::stix_bundle`]) with its infrastructure tiers
/// ([`infrastructure_objects`]); `None` when no actor answers to it.
pub fn actor_bundle(store: &Store, query: &str) -> Result<Option<Value>, ExportError> {
    let Some(sub) = store.actor_subgraph(query)? else {
        return Ok(None);
    };
    let mut bundle = crate::stix_bundle(&sub);
    let Some(infra) = cairn_infra::actor_infrastructure(store, query).map_err(EngineError::from)?
    else {
        return Ok(Some(bundle));
    };
    let tiered = cairn_infra::tiers(store, &infra).map_err(EngineError::from)?;
    let actor_refs: Vec<String> = bundle["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| matches!(o["type"].as_str(), Some("intrusion-set" | "threat-actor")))
        .filter(|o| {
            o["name"]
                .as_str()
                .is_some_and(|n| infra.names.contains(&normalize_name(n)))
        })
        .filter_map(|o| o["id"].as_str().map(str::to_string))
        .collect();
    let newest = sub
        .sources
        .iter()
        .map(|s| s.last_ingested.as_str())
        .max()
        .unwrap_or("");
    let objects = infrastructure_objects(
        &infra.actor,
        &actor_refs,
        &cairn_infra::group(&tiered),
        newest,
    );
    extend_bundle(&mut bundle, objects);
    Ok(Some(bundle))
}

/// Adds `objects` to `bundle` (skipping ids already in it) and gives it the
/// id its new content derives.
pub fn extend_bundle(bundle: &mut Value, objects: Vec<Value>) {
    let Some(list) = bundle.get_mut("objects").and_then(Value::as_array_mut) else {
        return;
    };
    let mut ids: HashSet<String> = list
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    for o in objects {
        if let Some(id) = o.get("id").and_then(Value::as_str)
            && ids.insert(id.to_string())
        {
            list.push(o);
        }
    }
    let content = serde_json::to_string(list).unwrap_or_default();
    bundle["id"] = json!(deterministic_id("bundle", &[&content]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_infra::TierReason;

    #[test]
    fn sco_ids_are_the_stix_deterministic_ones() {
        // As the OASIS stix2 Python library (3.0) computes them.
        assert_eq!(
            sco_id("ipv4-addr", "198.51.100.3"),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"
        );
        assert_eq!(
            sco_id("domain-name", "kb.dga.asia"),
            "domain-name--a06b1ae8-3b58-5a79-b6ce-b39d533ae8cf"
        );
    }

    #[test]
    fn tiers_become_valid_infrastructure_with_reasons_and_markings() {
        let v = |value: &str, tlp| Tiered {
            value: value.into(),
            kind: "ipv4".into(),
            types: vec!["command-and-control".into()],
            reasons: vec![TierReason {
                infrastructure_type: "command-and-control".into(),
                basis: "stated",
                weight: 1.0,
                reason: "the source gives it the role \"c2\"".into(),
                sources: vec!["report".into()],
                tlp,
            }],
            first_seen: None,
            last_seen: None,
            lifetime: None,
            tlp,
        };
        let tiers =
            cairn_infra::group(&[v("203.0.113.5", Tlp::Clear), v("203.0.113.6", Tlp::Amber)]);
        let actor = "intrusion-set--6c0a1f3e-9b52-4d8e-a1c4-3f0e5c2b7d91";
        let objs =
            infrastructure_objects("RedHotel", &[actor.into()], &tiers, "2026-01-02T03:04:05Z");
        let infra: Vec<&Value> = objs
            .iter()
            .filter(|o| o["type"] == "infrastructure")
            .collect();
        assert_eq!(infra.len(), 1);
        assert_eq!(infra[0]["object_marking_refs"][0], Tlp::Amber.marking_id());
        assert_eq!(
            infra[0]["x_cairn_reasons"].as_array().map(Vec::len),
            Some(2)
        );
        let rels = objs.iter().filter(|o| o["type"] == "relationship").count();
        assert_eq!(rels, 3, "one uses, two consists-of");
        let set = json!({"type": "intrusion-set", "spec_version": "2.1", "id": actor,
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": "RedHotel"});
        let mut bundle = json!({"type": "bundle", "id": "bundle--x", "objects": [set]});
        extend_bundle(&mut bundle, objs);
        crate::check_bundle(&bundle).expect("valid STIX");
    }
}
