//! Structural checks of a STIX 2.1 bundle: what a consumer rejects a bundle
//! for, without the full specification's vocabularies.

use crate::errors::ExportError;
use crate::time;
use serde_json::Value;
use std::collections::HashSet;

fn is_identifier(s: &str) -> bool {
    match s.split_once("--") {
        Some((t, u)) => {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && uuid::Uuid::parse_str(u).is_ok()
        }
        None => false,
    }
}

/// Checks `bundle` against the STIX 2.1 rules a consumer enforces: a
/// `bundle` with an identifier; every object with `type`, an `id` of that
/// type and a UUID, `spec_version` 2.1, valid `created` and (except marking
/// definitions, which are not versioned) `modified` no earlier than
/// `created`; ids unique; no null values or empty lists; the properties each
/// common type requires; every relationship's and sighting's ends present in
/// the bundle; every `*_ref`/`*_refs` an identifier.
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
        let Some(m) = o.as_object() else {
            problems.push(format!("object #{}: not a JSON object", i + 1));
            continue;
        };
        let id = m.get("id").and_then(Value::as_str).unwrap_or("");
        let name = if id.is_empty() {
            format!("object #{}", i + 1)
        } else {
            id.to_string()
        };
        let mut bad = |what: String| problems.push(format!("{name}: {what}"));
        let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() {
            bad("no `type`".into());
        }
        if !is_identifier(id) || !id.starts_with(&format!("{kind}--")) {
            bad(format!("`id` is not a `{kind}` identifier"));
        }
        if m.get("spec_version").and_then(Value::as_str) != Some("2.1") {
            bad("`spec_version` is not \"2.1\"".into());
        }
        let created = m.get("created").and_then(Value::as_str);
        if !created.is_some_and(time::is_stix) {
            bad("`created` missing or not a STIX timestamp".into());
        }
        if kind != "marking-definition" {
            match m.get("modified").and_then(Value::as_str) {
                Some(md) if time::is_stix(md) => {
                    if let (Some(c), Some(md)) =
                        (created.and_then(time::instant), time::instant(md))
                        && md < c
                    {
                        bad("`modified` is earlier than `created`".into());
                    }
                }
                _ => bad("`modified` missing or not a STIX timestamp".into()),
            }
        }
        for (k, v) in m {
            if v.is_null() {
                bad(format!("`{k}` is null"));
            }
            if v.as_array().is_some_and(Vec::is_empty) {
                bad(format!("`{k}` is an empty list"));
            }
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
        let has_str = |k: &str| m.get(k).is_some_and(Value::is_string);
        let named = [
            "attack-pattern",
            "campaign",
            "identity",
            "intrusion-set",
            "malware",
            "threat-actor",
            "tool",
            "infrastructure",
            "course-of-action",
            "vulnerability",
            "report",
        ];
        if named.contains(&kind) && !(kind == "malware" || has_str("name")) {
            bad("no `name`".into());
        }
        let present = |k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .is_some_and(|r| ids.contains(r))
        };
        match kind {
            "relationship" => {
                if !has_str("relationship_type") {
                    bad("no `relationship_type`".into());
                }
                for k in ["source_ref", "target_ref"] {
                    if !present(k) {
                        bad(format!("`{k}` is not in the bundle"));
                    }
                }
            }
            "sighting" if !present("sighting_of_ref") => {
                bad("`sighting_of_ref` is not in the bundle".into());
            }
            "indicator" => {
                for k in ["pattern", "pattern_type"] {
                    if !has_str(k) {
                        bad(format!("no `{k}`"));
                    }
                }
                if !m
                    .get("valid_from")
                    .and_then(Value::as_str)
                    .is_some_and(time::is_stix)
                {
                    bad("`valid_from` missing or not a STIX timestamp".into());
                }
            }
            "malware" => match m.get("is_family").and_then(Value::as_bool) {
                None => bad("no `is_family`".into()),
                Some(true) if !has_str("name") => bad("a malware family needs a `name`".into()),
                _ => {}
            },
            "location"
                if !(m.contains_key("region")
                    || m.contains_key("country")
                    || (m.contains_key("latitude") && m.contains_key("longitude"))) =>
            {
                bad("needs `region`, `country` or `latitude`/`longitude`".into());
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ExportError::InvalidBundle { problems })
    }
}
