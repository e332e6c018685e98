//! Intake over the real published files in the datasets folder
//! (`cairn_testkit`: SKIPPED when absent, a failure under
//! `CAIRN_REQUIRE_DATASETS=1`).

use cairn_intake::{Options, parse_path};
use std::collections::BTreeMap;
use std::path::PathBuf;

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
    const BUNDLES: [&str; 2] = [
        "attack/enterprise-attack-18.1.json",
        "attack/ics-attack-18.1.json",
    ];
    let Some(d) = cairn_testkit::datasets(&BUNDLES) else {
        return;
    };
    for f in BUNDLES {
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
    let Some(path) = cairn_testkit::dataset("misp-galaxy/clusters/threat-actor.json") else {
        return;
    };
    let b = parse_path(&path, &Options::default()).unwrap();
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
