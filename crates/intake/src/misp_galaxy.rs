//! MISP galaxy cluster files. Each cluster becomes one object claimed by the
//! galaxy as a source; its synonyms (and `name-attribution` vendor names)
//! are that source's aliases; suspected victims and target categories become
//! `targets` relationships to country and sector objects.

use crate::errors::IntakeError;
use crate::{Options, prov};
use cairn_model::{Bundle, Object, Relation, country_code, deterministic_id, normalize_name};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

#[derive(Deserialize)]
struct Galaxy {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    category: Option<String>,
    values: Vec<Cluster>,
}

#[derive(Deserialize)]
struct Cluster {
    value: Option<String>,
    uuid: Option<String>,
    description: Option<String>,
    #[serde(default)]
    meta: BTreeMap<String, Value>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn parse(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    let g: Galaxy = serde_json::from_str(text).map_err(|e| IntakeError::json(path, &e))?;
    let gtype = g.kind.clone().unwrap_or_default();
    let kind = match (g.category.as_deref(), gtype.as_str()) {
        (_, "country") => "location",
        (_, "sector") => "identity",
        (Some("actor"), _) => "intrusion-set",
        (_, "tool") => "tool",
        (Some("tool"), _) => "malware",
        _ if gtype.contains("actor") || gtype.contains("intrusion-set") => "intrusion-set",
        _ => {
            return Err(IntakeError::Format {
                path: path.to_path_buf(),
                message: format!(
                    "MISP galaxy of type `{gtype}` is not one Cairn reads (actors, tools, countries, sectors)"
                ),
            });
        }
    };
    let source = prov::source_name(
        opts,
        Some(format!(
            "MISP galaxy: {}",
            g.name.clone().unwrap_or_else(|| gtype.clone())
        )),
        path,
    );
    let mut bundle = Bundle {
        source: source.clone(),
        ..Bundle::default()
    };
    let mut made: HashSet<String> = HashSet::new();
    let mut unknown_victims: Vec<String> = Vec::new();
    for (i, c) in g.values.into_iter().enumerate() {
        let place = || format!("values[{i}]");
        let Some(name) = c.value.clone().filter(|v| !v.trim().is_empty()) else {
            return Err(IntakeError::object(
                path,
                place(),
                "cluster has no \"value\"",
            ));
        };
        let label = format!("values[{i}] ({name})");
        let place = || label.clone();
        let id = match c.uuid.as_deref() {
            Some(u) if uuid_like(u) => format!("{kind}--{}", u.to_ascii_lowercase()),
            Some(u) => {
                return Err(IntakeError::object(
                    path,
                    place(),
                    format!("\"uuid\" `{u}` is not a UUID"),
                ));
            }
            None => deterministic_id(kind, &[&gtype, &name]),
        };
        let refs = strings(c.meta.get("refs"));
        let mut p = prov::base(opts, &source);
        p.reference = refs
            .first()
            .cloned()
            .or(p.reference)
            .or_else(|| Some(format!("misp-galaxy:{gtype}=\"{name}\"")));
        let mut aliases = strings(c.meta.get("synonyms"));
        for attr in strings(c.meta.get("name-attribution")) {
            let alias = attr
                .rsplit_once(':')
                .filter(|(_, u)| uuid_like(u))
                .map_or(attr.as_str(), |(n, _)| n);
            aliases.push(alias.to_string());
        }
        // ATT&CK and 360 clusters are named `Name - G0096` / `Name - APT-C-39`.
        let mut external_id = strings(c.meta.get("external_id")).into_iter().next();
        let name = match name.rsplit_once(" - ") {
            Some((n, id))
                if !n.trim().is_empty()
                    && !id.contains(' ')
                    && id.chars().any(|c| c.is_ascii_digit()) =>
            {
                external_id.get_or_insert_with(|| id.to_string());
                n.trim().to_string()
            }
            _ => name,
        };
        let mut seen = HashSet::from([normalize_name(&name)]);
        aliases.retain(|a| !a.trim().is_empty() && seen.insert(normalize_name(a)));

        let mut obj = Object {
            id: id.clone(),
            kind: kind.to_string(),
            name: Some(name.clone()),
            aliases,
            description: c.description.clone(),
            external_id,
            references: refs,
            prov: p.clone(),
            ..Object::default()
        };
        match kind {
            "location" => {
                obj.country = strings(c.meta.get("ISO"))
                    .first()
                    .map(|s| s.to_ascii_uppercase())
            }
            "identity" => {
                obj.sectors = vec![name.clone()];
                obj.labels = vec!["sector".into()];
            }
            "intrusion-set" => {
                obj.country = strings(c.meta.get("country"))
                    .first()
                    .and_then(|s| country_code(s))
                    .map(str::to_string);
                obj.labels = strings(c.meta.get("motive"));
            }
            _ => {}
        }
        obj.raw = serde_json::json!({
            "type": kind, "id": id, "name": name, "aliases": obj.aliases,
            "description": c.description, "x_misp_galaxy": gtype, "x_misp_meta": c.meta,
        })
        .to_string();
        bundle.objects.push(obj);

        if kind != "intrusion-set" {
            continue;
        }
        let mut victims: Vec<(String, String)> = Vec::new();
        for v in strings(c.meta.get("cfr-suspected-victims")) {
            match country_code(&v) {
                Some(cc) => victims.push(("location".into(), cc.to_string())),
                None => unknown_victims.push(format!("{v} ({})", place())),
            }
        }
        for s in strings(c.meta.get("cfr-target-category")) {
            victims.push(("identity".into(), s));
        }
        for (vkind, v) in victims {
            let target = if vkind == "location" {
                deterministic_id("location", &["country", &v])
            } else {
                deterministic_id("identity", &["sector", &normalize_name(&v)])
            };
            if made.insert(target.clone()) {
                let (country, sectors, labels) = if vkind == "location" {
                    (Some(v.clone()), Vec::new(), Vec::new())
                } else {
                    (None, vec![v.clone()], vec!["sector".to_string()])
                };
                bundle.objects.push(Object {
                    id: target.clone(),
                    kind: vkind.clone(),
                    name: Some(v.clone()),
                    country,
                    sectors,
                    labels,
                    prov: prov::base(opts, &source),
                    raw: serde_json::json!({"type": vkind, "id": target, "name": v}).to_string(),
                    ..Object::default()
                });
            }
            let rid = deterministic_id("relationship", &[&id, "targets", &target]);
            bundle.relations.push(Relation {
                raw: serde_json::json!({"type":"relationship","id":rid,"relationship_type":"targets","source_ref":id,"target_ref":target}).to_string(),
                id: rid,
                rel_type: "targets".into(),
                source_ref: id.clone(),
                target_ref: target,
                prov: p.clone(),
                ..Relation::default()
            });
        }
    }
    if !unknown_victims.is_empty() {
        bundle.warnings.push(format!(
            "{} suspected victims are not countries and were not linked (regions, organisations), e.g. {}",
            unknown_victims.len(),
            unknown_victims.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    Ok(bundle)
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_cluster_with_synonyms_and_victims() {
        let g = r#"{"name":"Threat Actor","type":"threat-actor","category":"actor","uuid":"x","values":[
          {"value":"Earth Lusca","uuid":"3ac8f6fc-9c04-4ebd-bda2-788cc02fe4ed","description":"d",
           "meta":{"synonyms":["TAG-22","AQUATIC PANDA","Earth Lusca"],"country":"CN",
                   "cfr-suspected-victims":["Taiwan","Atlantis"],"cfr-target-category":["Education"],
                   "name-attribution":["Charcoal Typhoon:d0c33595-b684-45ef-91c3-e2f5ce1a8191"],
                   "refs":["https://example.org/r"]}}]}"#;
        let b = parse(Path::new("threat-actor.json"), g, &Options::default()).unwrap();
        assert_eq!(b.source, "MISP galaxy: Threat Actor");
        let a = &b.objects[0];
        assert_eq!(a.kind, "intrusion-set");
        assert_eq!(
            a.aliases,
            vec!["TAG-22", "AQUATIC PANDA", "Charcoal Typhoon"]
        );
        assert_eq!(a.country.as_deref(), Some("CN"));
        assert_eq!(a.prov.reference.as_deref(), Some("https://example.org/r"));
        assert_eq!(b.relations.len(), 2);
        assert!(b.objects.iter().any(|o| o.country.as_deref() == Some("TW")));
        assert_eq!(b.warnings.len(), 1, "{:?}", b.warnings);
    }

    #[test]
    fn cluster_without_value_is_rejected_with_place() {
        let g = r#"{"name":"T","type":"threat-actor","category":"actor","values":[{"value":"A"},{"uuid":"u"}]}"#;
        let msg = parse(Path::new("g.json"), g, &Options::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("values[1]"), "{msg}");
    }
}
