//! `cairn detect` and `cairn attribute --detections` through the real
//! binary, on SigmaHQ's rules and the real EVTX samples of
//! `../shared/datasets/evtx` and `sigma/regression_data`.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{cairn, ok};

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn detections_carry_file_record_time_host_rule_techniques_and_fields() {
    let Some(root) = cairn_testkit::datasets(&["sigma", "evtx"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("d.db");
    let rules = root.join("sigma/rules/windows");
    let logs = root.join("evtx/TA0008-Lateral Movement");
    let timeline = dir.path().join("timeline.csv");
    let layer = dir.path().join("layer.json");
    let out = cairn(
        &db,
        &[
            "detect",
            "--rules",
            s(&rules),
            "--json",
            "--timeline",
            s(&timeline),
            "--layer",
            s(&layer),
            s(&logs),
        ],
    );
    let found = lines(&ok(&out));
    assert!(found.len() >= 10, "{} detections", found.len());
    for d in &found {
        for key in ["file", "record", "time", "host", "techniques", "fields"] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
        for key in ["id", "title", "level", "tags"] {
            assert!(d["rule"].get(key).is_some(), "rule.{key} missing in {d}");
        }
        assert!(d["file"].as_str().is_some_and(|f| f.ends_with(".evtx")));
        assert!(d["record"].as_u64().is_some(), "{d}");
    }
    // Pass the Hash is in this folder, and SigmaHQ has rules for it.
    assert!(
        found.iter().any(|d| d["techniques"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == "T1550.002"))),
        "no T1550.002 detection"
    );
    let csv = std::fs::read_to_string(&timeline).expect("timeline");
    assert!(csv.starts_with("Timestamp,Computer,Channel,EventID,Level,RecordID,RuleTitle"));
    assert_eq!(
        csv.lines().count(),
        found.len() + 1,
        "one row per detection"
    );
    let layer: Value =
        serde_json::from_slice(&std::fs::read(&layer).expect("layer")).expect("layer JSON");
    assert_eq!(layer["domain"], "enterprise-attack");
    assert!(
        layer["techniques"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x["techniqueID"] == "T1550.002"))
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("detections by level:"), "{stderr}");
}

#[test]
fn exit_codes_follow_grep_and_a_broken_file_does_not_stop_the_others() {
    let Some(root) = cairn_testkit::dataset("sigma") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("d.db");
    let case = root.join(
        "regression_data/rules-emerging-threats/2025/Malware/Grixba/proc_creation_win_malware_grixba_recon",
    );
    let evtx = std::fs::read_dir(&case)
        .expect("case dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "evtx"))
        .expect("the case's EVTX");
    let rules = root.join("rules-emerging-threats/2025/Malware/Grixba");
    // A match: 0.
    let out = cairn(&db, &["detect", "--rules", s(&rules), "--json", s(&evtx)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lines(&String::from_utf8_lossy(&out.stdout)).len(), 1);
    // Rules that cannot match these events: 1.
    let other = root.join("rules/windows/registry/registry_set");
    let out = cairn(&db, &["detect", "--rules", s(&other), s(&evtx)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A truncated EVTX and a file that is no log beside the good one: the
    // good one's detection is still printed, and the status is 2.
    let bytes = std::fs::read(&evtx).expect("evtx");
    let cut = dir.path().join("cut.evtx");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
    let junk = dir.path().join("junk.evtx");
    std::fs::write(&junk, b"MZ\x90\x00 not a log").expect("write");
    let out = cairn(
        &db,
        &[
            "detect",
            "--rules",
            s(&rules),
            "--json",
            s(&evtx),
            s(&cut),
            s(&junk),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(lines(&String::from_utf8_lossy(&out.stdout)).len(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("junk.evtx"), "{stderr}");
    // A rule file that is not Sigma is reported, the others load.
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "title: [unclosed\n").expect("write");
    let out = cairn(
        &db,
        &[
            "detect",
            "--load-report",
            "--rules",
            s(&rules),
            "--rules",
            s(&bad),
            s(&evtx),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not loaded: ") && stderr.contains("bad.yml"),
        "{stderr}"
    );
}

#[test]
fn rules_ingested_into_the_store_detect_like_files_and_feed_attribution() {
    let Some(root) = cairn_testkit::datasets(&["sigma", "evtx", "attack"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("d.db");
    let rules = root.join("sigma/rules/windows");
    let logs = root.join("evtx/TA0008-Lateral Movement");
    let from_files = lines(&ok(&cairn(
        &db,
        &["detect", "--rules", s(&rules), "--json", s(&logs)],
    )));
    let out = ok(&cairn(
        &db,
        &[
            "ingest",
            s(&rules),
            "--source",
            "SigmaHQ",
            s(&root.join("attack/enterprise-attack-18.1.json")),
        ],
    ));
    assert!(out.contains("SigmaHQ"), "{out}");
    let from_store = ok(&cairn(&db, &["detect", "--json", s(&logs)]));
    assert_eq!(lines(&from_store).len(), from_files.len());
    let det = dir.path().join("det.jsonl");
    std::fs::write(&det, &from_store).expect("write");
    let ranking: Value = serde_json::from_str(&ok(&cairn(
        &db,
        &["attribute", "--detections", s(&det), "--json"],
    )))
    .expect("attribution JSON");
    let text = ranking.to_string();
    assert!(text.contains("T1550.002"), "{text}");
    // --record: sightings on the store's attack-patterns.
    let out = cairn(&db, &["detect", "--record", s(&logs)]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("recorded "), "{stderr}");
}
