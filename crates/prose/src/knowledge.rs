//! What the store knows that prose can name: ATT&CK techniques with their
//! procedure examples, and software and groups with every alias.

use crate::text::clean_attack;
use cairn_model::Bundle;
use cairn_model::normalize_name;
use std::collections::HashMap;

/// The kinds of stored object the reader needs (for a store snapshot).
pub const KNOWLEDGE_KINDS: [&str; 5] = [
    "attack-pattern",
    "intrusion-set",
    "malware",
    "tool",
    "campaign",
];

/// An ATT&CK technique or sub-technique.
#[derive(Debug, Clone)]
pub(crate) struct Technique {
    /// `T1574.002`.
    pub id: String,
    /// `DLL Side-Loading`.
    pub name: String,
    /// The first paragraph of its description, free of markup.
    pub summary: String,
    /// Its ATT&CK tactics (`reconnaissance`, `execution`, …).
    pub tactics: Vec<String>,
}

impl Technique {
    /// Whether it happens before the intrusion, outside the victim's view
    /// (reconnaissance, resource development).
    pub fn preparatory(&self) -> bool {
        self.tactics
            .iter()
            .any(|t| t == "reconnaissance" || t == "resource-development")
    }
}

/// One procedure example: a `uses` relationship's description.
#[derive(Debug, Clone)]
pub(crate) struct Procedure {
    /// STIX id of the group, software or campaign that did it.
    pub source: String,
    /// Its STIX type.
    pub source_kind: String,
    /// Index into [`Knowledge::techniques`].
    pub technique: usize,
    /// The description, free of markup.
    pub text: String,
}

/// Whether a name is a group's or a piece of software's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum NameKind {
    Group,
    Software,
}

/// A group or piece of software and every name sources give it.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub kind: NameKind,
    /// The display name (ATT&CK's where ATT&CK has it).
    pub name: String,
    /// ATT&CK id (`G0096`, `S0002`) when known.
    pub external_id: Option<String>,
    /// Every name, the display name included.
    pub aliases: Vec<String>,
}

/// Techniques, procedure examples and names, read from a bundle (the
/// store's snapshot of [`KNOWLEDGE_KINDS`] or an ATT&CK file).
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub(crate) techniques: Vec<Technique>,
    pub(crate) procedures: Vec<Procedure>,
    pub(crate) named: Vec<Named>,
}

impl Knowledge {
    /// Reads what prose can name from `bundle`. Revoked and deprecated
    /// objects and relationships are left out; objects from several sources
    /// that share a name become one entry with the union of their aliases.
    pub fn from_bundle(bundle: &Bundle) -> Knowledge {
        let mut k = Knowledge::default();
        let mut by_stix: HashMap<&str, usize> = HashMap::new();
        let mut by_tid: HashMap<String, usize> = HashMap::new();
        let live = bundle
            .objects
            .iter()
            .filter(|o| !o.revoked && !o.deprecated);
        for o in live.clone().filter(|o| o.kind == "attack-pattern") {
            let (Some(id), Some(name)) = (&o.external_id, &o.name) else {
                continue;
            };
            if !id.starts_with('T') {
                continue;
            }
            let idx = *by_tid.entry(id.clone()).or_insert_with(|| {
                let summary = o
                    .description
                    .as_deref()
                    .map(|d| clean_attack(d.split("\n\n").next().unwrap_or(d)))
                    .unwrap_or_default();
                k.techniques.push(Technique {
                    id: id.clone(),
                    name: name.clone(),
                    summary,
                    tactics: o.tactics.clone(),
                });
                k.techniques.len() - 1
            });
            by_stix.insert(o.id.as_str(), idx);
        }
        let sources: HashMap<&str, &str> = live
            .clone()
            .filter(|o| {
                matches!(
                    o.kind.as_str(),
                    "intrusion-set" | "malware" | "tool" | "campaign"
                )
            })
            .map(|o| (o.id.as_str(), o.kind.as_str()))
            .collect();
        for r in &bundle.relations {
            if r.rel_type != "uses" || r.revoked || r.deprecated {
                continue;
            }
            let (Some(&technique), Some(&kind), Some(desc)) = (
                by_stix.get(r.target_ref.as_str()),
                sources.get(r.source_ref.as_str()),
                r.description.as_deref(),
            ) else {
                continue;
            };
            let text = clean_attack(desc);
            if text.is_empty() {
                continue;
            }
            k.procedures.push(Procedure {
                source: r.source_ref.clone(),
                source_kind: kind.to_string(),
                technique,
                text,
            });
        }
        k.named = merge_names(bundle);
        k
    }

    /// Techniques known.
    pub fn technique_count(&self) -> usize {
        self.techniques.len()
    }

    /// Procedure examples known.
    pub fn procedure_count(&self) -> usize {
        self.procedures.len()
    }

    /// Groups and software known (after merging sources).
    pub fn name_count(&self) -> usize {
        self.named.len()
    }
}

/// Groups and software, one entry per real thing: ATT&CK's objects first,
/// then other sources' objects join the entry one of their names already
/// belongs to (a MISP galaxy's "RedHotel" joins nothing and stays its own).
fn merge_names(bundle: &Bundle) -> Vec<Named> {
    let mut objs: Vec<_> = bundle
        .objects
        .iter()
        .filter(|o| !o.revoked && !o.deprecated)
        .filter_map(|o| {
            let kind = match o.kind.as_str() {
                "intrusion-set" => NameKind::Group,
                "malware" | "tool" => NameKind::Software,
                _ => return None,
            };
            Some((kind, o))
        })
        .collect();
    objs.sort_by_key(|(_, o)| o.external_id.is_none());
    let mut named: Vec<Named> = Vec::new();
    let mut keys: HashMap<(NameKind, String), usize> = HashMap::new();
    for (kind, o) in objs {
        let Some(name) = &o.name else { continue };
        let all: Vec<&String> = std::iter::once(name).chain(&o.aliases).collect();
        let found = all
            .iter()
            .find_map(|a| keys.get(&(kind, normalize_name(a))).copied());
        let idx = found.unwrap_or_else(|| {
            named.push(Named {
                kind,
                name: name.clone(),
                external_id: o.external_id.clone(),
                aliases: Vec::new(),
            });
            named.len() - 1
        });
        for a in all {
            let key = normalize_name(a);
            if key.is_empty() {
                continue;
            }
            keys.entry((kind, key)).or_insert(idx);
            if !named[idx].aliases.iter().any(|x| x.eq_ignore_ascii_case(a)) {
                named[idx].aliases.push(a.clone());
            }
        }
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Object, Relation};

    fn obj(id: &str, kind: &str, name: &str, ext: Option<&str>, aliases: &[&str]) -> Object {
        Object {
            id: id.into(),
            kind: kind.into(),
            name: Some(name.into()),
            external_id: ext.map(Into::into),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            ..Object::default()
        }
    }

    #[test]
    fn reads_techniques_procedures_and_merged_names() {
        let bundle = Bundle {
            objects: vec![
                obj(
                    "attack-pattern--1",
                    "attack-pattern",
                    "DLL Side-Loading",
                    Some("T1574.002"),
                    &[],
                ),
                obj(
                    "intrusion-set--a",
                    "intrusion-set",
                    "APT41",
                    Some("G0096"),
                    &["Wicked Panda"],
                ),
                // A MISP galaxy entry sharing an alias joins ATT&CK's entry.
                obj(
                    "intrusion-set--m",
                    "intrusion-set",
                    "Wicked Panda",
                    None,
                    &["Brass Typhoon"],
                ),
                obj(
                    "intrusion-set--r",
                    "intrusion-set",
                    "RedHotel",
                    None,
                    &["TAG-22"],
                ),
            ],
            relations: vec![Relation {
                id: "relationship--1".into(),
                rel_type: "uses".into(),
                source_ref: "intrusion-set--a".into(),
                target_ref: "attack-pattern--1".into(),
                description: Some(
                    "[APT41](https://x/G0096) side-loaded a DLL.(Citation: Y)".into(),
                ),
                ..Relation::default()
            }],
            ..Bundle::default()
        };
        let k = Knowledge::from_bundle(&bundle);
        assert_eq!(k.technique_count(), 1);
        assert_eq!(k.procedures[0].text, "APT41 side-loaded a DLL.");
        assert_eq!(k.procedures[0].source, "intrusion-set--a");
        assert_eq!(k.name_count(), 2);
        let apt41 = k.named.iter().find(|n| n.name == "APT41").expect("APT41");
        assert!(apt41.aliases.iter().any(|a| a == "Brass Typhoon"));
        assert_eq!(apt41.external_id.as_deref(), Some("G0096"));
    }
}
