//! Intake over the real published files in ../shared/datasets (skipped, with
//! a note, when they are absent).

use cairn_intake::{Options, parse_path};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn datasets() -> Option<PathBuf> {
    let d = std::env::var_os("CAIRN_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
        });
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "SKIPPED: datasets not found at {} (set CAIRN_DATASETS)",
            d.display()
        );
        None
    }
}

/// Counts by STIX type, computed independently from the raw JSON.
fn raw_counts(path: &PathBuf) -> BTreeMap<String, usize> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut m = BTreeMap::new();
    for o in v["objects"].as_array().unwrap() {
        *m.entry(o["type"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    m
}

#[test]
fn attack_bundles_parse_completely() {
    let Some(d) = datasets() else { return };
    for f in [
        "attack/enterprise-attack-18.1.json",
        "attack/ics-attack-18.1.json",
    ] {
        let path = d.join(f);
        let b = parse_path(&path, &Options::default()).unwrap();
        let mut got = BTreeMap::new();
        for o in &b.objects {
            *got.entry(o.kind.clone()).or_insert(0) += 1;
        }
        got.insert(
            "relationship".into(),
            b.relations
                .iter()
                .filter(|r| r.rel_type != "sighting-of")
                .count(),
        );
        let want = raw_counts(&path);
        assert_eq!(got, want, "{f}");
        assert_eq!(b.format, "stix");
    }
}

#[test]
fn misp_actor_galaxies_parse() {
    let Some(d) = datasets() else { return };
    let b = parse_path(
        &d.join("misp-galaxy/clusters/threat-actor.json"),
        &Options::default(),
    )
    .unwrap();
    let actors: Vec<_> = b
        .objects
        .iter()
        .filter(|o| o.kind == "intrusion-set")
        .collect();
    assert_eq!(actors.len(), 1041);
    let lusca = actors
        .iter()
        .find(|o| o.name.as_deref() == Some("Earth Lusca"))
        .unwrap();
    for alias in ["TAG-22", "AQUATIC PANDA", "Charcoal Typhoon", "RedHotel"] {
        assert!(
            lusca.aliases.iter().any(|a| a == alias),
            "{alias} missing: {:?}",
            lusca.aliases
        );
    }
}
