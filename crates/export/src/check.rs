//! Checks of a STIX 2.1 bundle: what a consumer (or stix2-validator)
//! rejects a bundle for, and the vocabularies Cairn keeps to. The tests hold
//! every export and every TAXII collection to it.

use crate::emit::NAMED;
use crate::errors::ExportError;
use cairn_model::{Tlp, has_v4_or_v5_uuid, time, vocab};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// `type--uuid` with a v4 or v5 UUID and a type of lower-case letters,
/// digits and hyphens.
fn is_identifier(s: &str) -> bool {
    match s.split_once("--") {
        Some((t, _)) => {
            t.len() >= 3
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && has_v4_or_v5_uuid(s)
        }
        None => false,
    }
}

/// Null values or empty lists anywhere below `v`, by path.
fn empties(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(format!("`{path}` is null")),
        Value::Array(a) if a.is_empty() => out.push(format!("`{path}` is an empty list")),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                empties(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                empties(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Checks `bundle` against the STIX 2.1 rules a consumer enforces: a
/// `bundle` with an identifier and no `spec_version`; ids unique; every
/// object passing [`check_object`]; every relationship's and sighting's
/// ends present in the bundle, and every standard TLP marking definition an
/// object references.
pub fn check_bundle(bundle: &Value) -> Result<(), ExportError> {
    let mut problems: Vec<String> = Vec::new();
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        problems.push("top level: `type` is not \"bundle\"".into());
    }
    match bundle.get("id").and_then(Value::as_str) {
        Some(id) if id.starts_with("bundle--") && is_identifier(id) => {}
        _ => problems.push("top level: `id` is not a bundle identifier".into()),
    }
    if bundle.get("spec_version").is_some() {
        problems.push("top level: a STIX 2.1 bundle has no `spec_version`".into());
    }
    let Some(objects) = bundle.get("objects").and_then(Value::as_array) else {
        problems.push("top level: no `objects` list".into());
        return Err(ExportError::InvalidBundle { problems });
    };
    let mut ids: HashSet<&str> = HashSet::new();
    for o in objects {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        if !id.is_empty() && !ids.insert(id) {
            problems.push(format!("{id}: id used twice"));
        }
    }
    for (i, o) in objects.iter().enumerate() {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        let name = if id.is_empty() {
            format!("object #{}", i + 1)
        } else {
            id.to_string()
        };
        for p in check_object(o) {
            problems.push(format!("{name}: {p}"));
        }
        let Some(m) = o.as_object() else { continue };
        let present = |k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .is_some_and(|r| ids.contains(r))
        };
        match m.get("type").and_then(Value::as_str) {
            Some("relationship") => {
                for k in ["source_ref", "target_ref"] {
                    if !present(k) {
                        problems.push(format!("{name}: `{k}` is not in the bundle"));
                    }
                }
            }
            Some("sighting") if !present("sighting_of_ref") => {
                problems.push(format!("{name}: `sighting_of_ref` is not in the bundle"));
            }
            _ => {}
        }
        let mut marks: Vec<&str> = m
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        marks.extend(
            m.get("granular_markings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|g| g.get("marking_ref").and_then(Value::as_str)),
        );
        for r in marks {
            if Tlp::from_marking_ref(r).is_some() && !ids.contains(r) {
                problems.push(format!(
                    "{name}: TLP marking {r} is not defined in the bundle"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ExportError::InvalidBundle { problems })
    }
}

/// The problems of one STIX 2.1 object (empty: none): `type`, an `id` of
/// that type with a v4 or v5 UUID, `spec_version` 2.1; `created` and
/// (except marking definitions, which are not versioned, and
/// cyber-observables, which have neither) `modified` as STIX timestamps
/// precise to the millisecond, `modified` no earlier than `created`; no
/// null values or empty lists at any depth; every `*_ref`/`*_refs` an
/// identifier; the properties each common type requires; and the open
/// vocabularies Cairn keeps to (`indicator_types`, `sectors`,
/// `primary_motivation`).
pub fn check_object(o: &Value) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    let Some(m) = o.as_object() else {
        return vec!["not a JSON object".into()];
    };
    let mut bad = |what: String| problems.push(what);
    let id = m.get("id").and_then(Value::as_str).unwrap_or("");
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        bad("no `type`".into());
    }
    if !is_identifier(id) || !id.starts_with(&format!("{kind}--")) {
        bad(format!(
            "`id` is not a `{kind}` identifier with a v4 or v5 UUID"
        ));
    }
    if m.get("spec_version").and_then(Value::as_str) != Some("2.1") {
        bad("`spec_version` is not \"2.1\"".into());
    }
    if !SCOS.contains(&kind) {
        let created = m.get("created").and_then(Value::as_str);
        if !created.is_some_and(time::is_stix_ms) {
            bad("`created` missing or not a STIX timestamp to the millisecond".into());
        }
        if kind != "marking-definition" {
            match m.get("modified").and_then(Value::as_str) {
                Some(md) if time::is_stix_ms(md) => {
                    if let (Some(c), Some(md)) = (created.and_then(time::parse), time::parse(md))
                        && md < c
                    {
                        bad("`modified` is earlier than `created`".into());
                    }
                }
                _ => bad("`modified` missing or not a STIX timestamp to the millisecond".into()),
            }
        }
    }
    let mut empty = Vec::new();
    for (k, v) in m {
        empties(v, k, &mut empty);
        if k.ends_with("_ref") && !v.as_str().is_some_and(is_identifier) {
            bad(format!("`{k}` is not an identifier"));
        }
        if k.ends_with("_refs")
            && !v
                .as_array()
                .is_some_and(|a| a.iter().all(|x| x.as_str().is_some_and(is_identifier)))
        {
            bad(format!("`{k}` is not a list of identifiers"));
        }
    }
    for e in empty {
        bad(e);
    }
    let has_str = |k: &str| m.get(k).is_some_and(Value::is_string);
    if NAMED.contains(&kind) && !has_str("name") {
        bad("no `name`".into());
    }
    let ts = |k: &str| m.get(k).and_then(Value::as_str).is_some_and(time::is_stix);
    match kind {
        "relationship" => {
            for k in ["relationship_type", "source_ref", "target_ref"] {
                if !has_str(k) {
                    bad(format!("no `{k}`"));
                }
            }
        }
        "sighting" if !has_str("sighting_of_ref") => bad("no `sighting_of_ref`".into()),
        "indicator" => {
            for k in ["pattern", "pattern_type"] {
                if !has_str(k) {
                    bad(format!("no `{k}`"));
                }
            }
            if !ts("valid_from") {
                bad("`valid_from` missing or not a STIX timestamp".into());
            }
            vocabulary(m, "indicator_types", vocab::INDICATOR_TYPES, &mut bad);
        }
        "malware" => match m.get("is_family").and_then(Value::as_bool) {
            None => bad("no `is_family`".into()),
            Some(true) if !has_str("name") => bad("a malware family needs a `name`".into()),
            _ => {}
        },
        "location" => {
            let lat = m.contains_key("latitude");
            let lon = m.contains_key("longitude");
            if lat != lon {
                bad("`latitude` and `longitude` go together".into());
            }
            if !(has_str("region") || has_str("country") || (lat && lon)) {
                bad("needs `region`, `country` or `latitude`/`longitude`".into());
            }
        }
        "identity" => vocabulary(m, "sectors", vocab::INDUSTRY_SECTORS, &mut bad),
        "intrusion-set" | "threat-actor" | "campaign" => {
            vocabulary(m, "primary_motivation", vocab::ATTACK_MOTIVATIONS, &mut bad)
        }
        "report" => {
            if !ts("published") {
                bad("`published` missing or not a STIX timestamp".into());
            }
            if !m.contains_key("object_refs") {
                bad("no `object_refs`".into());
            }
        }
        "grouping" => {
            if !has_str("context") {
                bad("no `context`".into());
            }
            if !m.contains_key("object_refs") {
                bad("no `object_refs`".into());
            }
        }
        _ => {}
    }
    problems
}

/// STIX cyber-observable types (no `created`/`modified`).
const SCOS: &[&str] = &[
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

/// Every value of `key` (a string or a list of them) is in `vocab`.
fn vocabulary(m: &Map<String, Value>, key: &str, vocab: &[&str], bad: &mut impl FnMut(String)) {
    let values: Vec<&str> = match m.get(key) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    for v in values {
        if !vocab.contains(&v) {
            bad(format!("`{key}` value `{v}` is not in the STIX vocabulary"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_what_stix2_validator_flags() {
        let ok = json!({"type":"intrusion-set","spec_version":"2.1",
            "id":"intrusion-set--00000000-0000-4000-8000-000000000001","name":"X",
            "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"});
        assert!(check_object(&ok).is_empty(), "{:?}", check_object(&ok));
        let mut seconds = ok.clone();
        seconds["created"] = json!("2024-01-01T00:00:00Z");
        assert_eq!(check_object(&seconds).len(), 1);
        let mut v7 = ok.clone();
        v7["id"] = json!("intrusion-set--019514dc-c894-751f-8b49-5dcd3c8b6f3a");
        assert_eq!(check_object(&v7).len(), 1);
        let mut motive = ok.clone();
        motive["primary_motivation"] = json!("espionage");
        assert_eq!(check_object(&motive).len(), 1);
        let mut nested = ok.clone();
        nested["external_references"] = json!([{"source_name":"x","url":null}]);
        assert_eq!(check_object(&nested).len(), 1);
        let bundle = json!({"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000009",
            "objects":[{"type":"tool","spec_version":"2.1","id":"tool--00000000-0000-4000-8000-000000000002",
                "name":"T","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
                "object_marking_refs":[Tlp::Clear.marking_id()]}]});
        let e = check_bundle(&bundle).unwrap_err().to_string();
        assert!(e.contains("not defined in the bundle"), "{e}");
    }
}
