//! `cairn attribute` and `cairn eval attribution`, end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

fn cairn() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    // Never touch the user's store.
    c.env(
        "CAIRN_DB",
        std::env::temp_dir().join("cairn-attribute-test-unused.db"),
    );
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/attribute")
        .join(name)
}

/// The real ATT&CK bundle (`cairn_testkit`: SKIPPED when absent, a failure
/// under `CAIRN_REQUIRE_DATASETS=1`).
fn attack() -> Option<PathBuf> {
    cairn_testkit::dataset("attack/enterprise-attack-18.1.json")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn fixture_ranking_explains_and_lists_unrecognised() {
    let out = cairn()
        .args(["attribute", "--corpus"])
        .arg(fixture("corpus.json"))
        .args([
            "-t",
            "T1566",
            "-s",
            "poisonplug",
            "-s",
            "NoSuchRAT",
            "--json",
        ])
        .output()
        .expect("run cairn");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let first = &v["candidates"][0];
    assert_eq!(first["actor"], "Alpha");
    assert!(
        first["aliases"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "APT-A"))
    );
    assert!(first["score"].as_f64().is_some_and(|s| s > 0.0));
    assert!(first["confidence"].is_string());
    let ev = first["evidence"].as_array().cloned().unwrap_or_default();
    assert!(ev.iter().any(|e| {
        e["kind"] == "software"
            && e["value"]
                .as_str()
                .is_some_and(|s| s.starts_with("ShadowPad"))
            && e["for_or_against"] == "for"
            && e["weight"].as_f64().is_some()
    }));
    assert_eq!(v["unrecognised"][0]["value"], "NoSuchRAT");
}

#[test]
fn layer_with_revoked_technique_and_alerts() {
    let out = cairn()
        .args(["attribute", "--corpus"])
        .arg(fixture("corpus.json"))
        .arg("--layer")
        .arg(fixture("layer.json"))
        .arg("--alerts")
        .arg(fixture("alerts.jsonl"))
        .output()
        .expect("run cairn");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // T1086 (revoked) is read as T1059.001, which Beta uses.
    assert!(text.contains("T1086"), "{text}");
    assert!(text.contains("T1059.001"), "{text}");
    assert!(text.contains("Beta"), "{text}");
    // The alert names APT-A, an alias of Alpha: infrastructure overlap.
    assert!(text.contains("infrastructure"), "{text}");
    // The alert without actors is listed back.
    assert!(text.contains("203.0.113.7"), "{text}");
}

#[test]
fn no_candidate_exits_one() {
    let out = cairn()
        .args(["attribute", "--corpus"])
        .arg(fixture("corpus.json"))
        .args(["-s", "NoSuchRAT", "--json"])
        .output()
        .expect("run cairn");
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["candidates"].as_array().map(Vec::len), Some(0));
}

#[test]
fn bad_layer_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "{\"techniques\": [").expect("write");
    let out = cairn()
        .args(["attribute", "--corpus"])
        .arg(fixture("corpus.json"))
        .arg("--layer")
        .arg(&bad)
        .output()
        .expect("run cairn");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json"));
}

#[test]
fn eval_attribution_meets_the_floors_on_attack() {
    let Some(attack) = attack() else { return };
    let out = cairn()
        .args(["eval", "attribution", "--json", "--rounds", "2", "--attack"])
        .arg(&attack)
        .output()
        .expect("run cairn");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let r = &v["report"];
    let campaigns = &r["protocols"][0];
    assert_eq!(campaigns["protocol"], "campaigns");
    assert!(campaigns["cases"].as_u64().is_some_and(|n| n >= 20));
    let top = |m: usize, k: &str| campaigns["methods"][m][k].as_f64().unwrap_or(-1.0);
    assert_eq!(campaigns["methods"][0]["method"], "cairn");
    assert_eq!(campaigns["methods"][1]["method"], "jaccard");
    assert!(top(0, "top1") >= top(1, "top1") + 0.15, "{campaigns}");
    assert!(top(0, "top5") >= 0.5, "{campaigns}");
    assert_eq!(r["floors"]["passed"], true);
}

#[test]
fn attribute_on_attack_maps_old_ids_and_explains() {
    let Some(attack) = attack() else { return };
    let out = cairn()
        .args(["attribute", "--corpus"])
        .arg(&attack)
        .args([
            "-t",
            "T1190",
            "-t",
            "T1086",
            "-t",
            "T1574.002",
            "-s",
            "cobalt strike",
            "-s",
            "ShadowPad",
            "--country",
            "Taiwan",
            "--sector",
            "government",
            "--json",
        ])
        .output()
        .expect("run cairn");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let recognised = v["recognised"].as_array().cloned().unwrap_or_default();
    assert!(recognised.iter().any(|r| {
        r["input"] == "T1086"
            && r["resolved_as"]
                .as_str()
                .is_some_and(|s| s.starts_with("T1059.001"))
    }));
    let cands = v["candidates"].as_array().cloned().unwrap_or_default();
    assert!(cands.len() >= 5);
    // ShadowPad is a China-nexus tool: the top candidates are China-nexus groups.
    let names: Vec<&str> = cands
        .iter()
        .take(5)
        .filter_map(|c| c["actor"].as_str())
        .collect();
    assert!(
        names.iter().any(|n| [
            "APT41",
            "Earth Lusca",
            "BRONZE BUTLER",
            "Axiom",
            "Aquatic Panda"
        ]
        .contains(n)),
        "{names:?}"
    );
    // ATT&CK holds no victim sectors: the sector is listed back, not an error.
    assert!(
        v["unrecognised"]
            .as_array()
            .is_some_and(|u| u.iter().any(|x| x["kind"] == "sector"))
    );
}
