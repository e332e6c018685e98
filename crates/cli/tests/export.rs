//! `cairn export` through the real binary: the starter pack always, the
//! real ATT&CK and MISP data from the datasets folder (`cairn_testkit`:
//! SKIPPED without them, a failure under `CAIRN_REQUIRE_DATASETS=1`).

use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Output};

fn cairn(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--db")
        .arg(db)
        .arg("--quiet")
        .args(args)
        .output()
        .expect("run cairn")
}

fn ok(out: &Output) -> &Output {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&ok(out).stdout).expect("JSON output")
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() >= 20
            && s.as_bytes()[10] == b'T'
            && s.ends_with('Z')
            && s[..4].bytes().all(|b| b.is_ascii_digit())
    })
}

/// The structural rules checked independently of the exporter's own
/// checker: every object has type, id, spec_version 2.1, created and (but
/// for marking definitions, which STIX does not version) modified, except
/// cyber-observables, which have a value and no versioning; ids are
/// unique; every relationship's ends are in the bundle.
fn assert_valid_bundle(b: &Value) -> &Vec<Value> {
    assert_eq!(b["type"], "bundle");
    assert!(b["id"].as_str().unwrap().starts_with("bundle--"));
    let objects = b["objects"].as_array().expect("objects");
    let mut ids = HashSet::new();
    for o in objects {
        let id = o["id"].as_str().unwrap_or_else(|| panic!("no id: {o}"));
        let t = o["type"].as_str().unwrap_or_else(|| panic!("no type: {o}"));
        assert!(id.starts_with(&format!("{t}--")), "{id} is not a {t}");
        assert!(ids.insert(id), "{id} appears twice");
        assert_eq!(o["spec_version"], "2.1", "{id}");
        // Cyber-observables (the infrastructure tiers' domains and
        // addresses) are not versioned: STIX gives them no created/modified.
        let observable = ["domain-name", "ipv4-addr", "ipv6-addr"].contains(&t);
        if observable {
            assert!(o["value"].is_string() && o.get("created").is_none(), "{id}");
            continue;
        }
        assert!(is_timestamp(&o["created"]), "{id}: created");
        if t != "marking-definition" {
            assert!(is_timestamp(&o["modified"]), "{id}: modified");
        }
        if t == "indicator" {
            assert!(
                o["pattern"].is_string() && o["pattern_type"].is_string(),
                "{id}"
            );
            assert!(is_timestamp(&o["valid_from"]), "{id}: valid_from");
        }
    }
    for o in objects.iter().filter(|o| o["type"] == "relationship") {
        for k in ["source_ref", "target_ref"] {
            let r = o[k].as_str().unwrap();
            assert!(ids.contains(r), "{}: {k} {r} not in the bundle", o["id"]);
        }
    }
    cairn_export::check_bundle(b).unwrap_or_else(|e| panic!("{e}"));
    objects
}

#[test]
fn starter_pack_exports_valid_stix_and_a_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    ok(&cairn(&db, &["ingest", "--starter"]));

    let b = json(&cairn(&db, &["export", "stix", "--actor", "TAG-22"]));
    let objects = assert_valid_bundle(&b);
    let actors: Vec<&Value> = objects
        .iter()
        .filter(|o| o["type"] == "intrusion-set")
        .collect();
    assert!(!actors.is_empty());
    assert!(
        objects.iter().any(
            |o| o["type"] == "indicator" && o["pattern"].as_str().unwrap().contains("dga.asia")
        ),
        "the starter pack's indicators are exported"
    );
    // The starter pack references TLP:CLEAR without defining it: the export does.
    assert!(
        objects
            .iter()
            .any(|o| o["id"] == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487")
    );

    // To a file, and the same content twice.
    let file = tmp.path().join("redhotel.json");
    ok(&cairn(
        &db,
        &[
            "export",
            "stix",
            "--actor",
            "RedHotel",
            "-o",
            file.to_str().unwrap(),
        ],
    ));
    let from_file: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        from_file,
        json(&cairn(&db, &["export", "stix", "--actor", "RedHotel"]))
    );

    let layer_file = tmp.path().join("layer.json");
    ok(&cairn(
        &db,
        &[
            "export",
            "navigator",
            "--actor",
            "RedHotel",
            "-o",
            layer_file.to_str().unwrap(),
        ],
    ));
    let layer: Value = serde_json::from_slice(&std::fs::read(&layer_file).unwrap()).unwrap();
    assert_eq!(layer["domain"], "enterprise-attack");
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert!(layer["name"].as_str().unwrap().ends_with("(Cairn)"));
    assert!(layer["techniques"].is_array());

    // Unknown actor: exit 1, with suggestions.
    let out = cairn(&db, &["export", "navigator", "--actor", "RedHotl"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Did you mean") && err.contains("RedHotel"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn tlp_max_keeps_red_indicators_out_of_the_export() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    ok(&cairn(&db, &["ingest", "--starter"]));
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "very-secret-c2[.]example\n").unwrap();
    ok(&cairn(
        &db,
        &[
            "ingest",
            "--actor",
            "RedHotel",
            "--tlp",
            "red",
            "--source",
            "Our own IR",
            secret.to_str().unwrap(),
        ],
    ));

    let open = json(&cairn(&db, &["export", "stix", "--actor", "RedHotel"]));
    assert_valid_bundle(&open);
    let text = open.to_string();
    assert!(
        text.contains("very-secret-c2.example"),
        "visible without a ceiling"
    );
    assert!(text.contains("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"));

    let narrow = json(&cairn(
        &db,
        &[
            "export",
            "stix",
            "--actor",
            "RedHotel",
            "--tlp-max",
            "amber",
        ],
    ));
    assert_valid_bundle(&narrow);
    let text = narrow.to_string();
    assert!(!text.contains("very-secret-c2"), "RED indicator leaked");
    assert!(!text.contains("Our own IR"), "RED source leaked");
    assert!(!text.contains("TLP:RED"));

    let layer = json(&cairn(
        &db,
        &[
            "export",
            "navigator",
            "--actor",
            "RedHotel",
            "--tlp-max",
            "amber",
        ],
    ));
    assert!(!layer.to_string().contains("Our own IR"));
}

/// G1006's techniques, read straight from ATT&CK's bundle: `uses` that are
/// neither revoked nor deprecated, revoked techniques followed to their
/// replacement, deprecated ones dropped.
fn g1006_techniques(attack: &Value) -> BTreeSet<String> {
    let objects = attack["objects"].as_array().unwrap();
    let by_id: HashMap<&str, &Value> = objects
        .iter()
        .filter_map(|o| Some((o["id"].as_str()?, o)))
        .collect();
    let ext = |o: &Value| {
        o["external_references"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["source_name"] == "mitre-attack"))
            .and_then(|r| r["external_id"].as_str())
            .map(str::to_string)
    };
    let group = objects
        .iter()
        .find(|o| o["type"] == "intrusion-set" && ext(o).as_deref() == Some("G1006"))
        .expect("G1006 in ATT&CK")["id"]
        .as_str()
        .unwrap();
    let live = |o: &Value| o["revoked"] != true && o["x_mitre_deprecated"] != true;
    let revoked_by: HashMap<&str, &str> = objects
        .iter()
        .filter(|o| o["relationship_type"] == "revoked-by")
        .filter_map(|o| Some((o["source_ref"].as_str()?, o["target_ref"].as_str()?)))
        .collect();
    let mut out = BTreeSet::new();
    for r in objects.iter().filter(|o| {
        o["type"] == "relationship"
            && o["relationship_type"] == "uses"
            && o["source_ref"] == group
            && live(o)
    }) {
        let mut t = r["target_ref"].as_str().unwrap();
        if !t.starts_with("attack-pattern--") {
            continue;
        }
        if by_id.get(t).is_some_and(|o| o["revoked"] == true) {
            match revoked_by.get(t) {
                Some(n) => t = n,
                None => continue,
            }
        }
        if let Some(o) = by_id.get(t).filter(|o| live(o))
            && let Some(id) = ext(o)
        {
            out.insert(id);
        }
    }
    out
}

#[test]
fn real_attack_and_misp_export_redhotel() {
    let Some(d) = cairn_testkit::datasets(&[
        "attack/enterprise-attack-18.1.json",
        "misp-galaxy/clusters/threat-actor.json",
        "misp-galaxy/clusters/microsoft-activity-group.json",
    ]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    let attack = d.join("attack/enterprise-attack-18.1.json");
    ok(&cairn(
        &db,
        &[
            "ingest",
            "--starter",
            attack.to_str().unwrap(),
            d.join("misp-galaxy/clusters/threat-actor.json")
                .to_str()
                .unwrap(),
            d.join("misp-galaxy/clusters/microsoft-activity-group.json")
                .to_str()
                .unwrap(),
        ],
    ));

    let b = json(&cairn(&db, &["export", "stix", "--actor", "RedHotel"]));
    let objects = assert_valid_bundle(&b);
    let sources: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o["type"] == "intrusion-set")
        .filter_map(|o| o["x_cairn_source"].as_str())
        .collect();
    assert!(
        sources.contains("MITRE ATT&CK (enterprise-attack)")
            && sources.contains("MISP galaxy: Threat Actor"),
        "every source's actor object is kept: {sources:?}"
    );
    // ATT&CK's 2.0 objects come out as 2.1 with their ids, author and marking.
    let raw: Value = serde_json::from_slice(&std::fs::read(&attack).unwrap()).unwrap();
    let want = g1006_techniques(&raw);
    assert!(want.len() > 20, "{want:?}");
    let g1006 = objects
        .iter()
        .find(|o| {
            o["x_cairn_source"] == "MITRE ATT&CK (enterprise-attack)"
                && o["type"] == "intrusion-set"
        })
        .unwrap();
    assert!(
        g1006["created_by_ref"]
            .as_str()
            .unwrap()
            .starts_with("identity--")
    );
    assert!(g1006["object_marking_refs"].is_array());
    assert!(g1006.get("x_cairn_original_id").is_none());
    let patterns = objects
        .iter()
        .filter(|o| o["type"] == "attack-pattern")
        .count();
    assert!(patterns >= want.len());

    let layer = json(&cairn(&db, &["export", "navigator", "--actor", "RedHotel"]));
    let got: BTreeSet<String> = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["techniqueID"].as_str().map(str::to_string))
        .collect();
    let missing: Vec<&String> = want.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "G1006 techniques missing from the layer: {missing:?}"
    );
    assert!(
        layer["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["value"] == "G1006")
    );
    for t in layer["techniques"].as_array().unwrap() {
        assert!(t["tactic"].is_string(), "{t}");
        assert!(t["score"].as_u64().unwrap() >= 1);
    }
}
