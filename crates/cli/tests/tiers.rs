//! Infrastructure tiers through the real binary: a value's STIX
//! infrastructure type from a role its source states, from passive DNS
//! linking it to a stated value, from a framework's default certificate;
//! nothing said is `undefined`; markings follow the facts used; the STIX
//! export carries the tiers as `infrastructure` objects.

use serde_json::{Value, json};
use std::path::Path;
mod support;
use support::{cairn, ok};

const SET: &str = "intrusion-set--1f9a0a52-3c5e-4f0b-9d1e-2a7c8b6d4e01";
const AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

fn indicator(n: u32, value: &str, kind: &str, labels: &[&str], amber: bool) -> [Value; 2] {
    let id = format!("indicator--1f9a0a52-3c5e-4f0b-9d1e-2a7c8b6d4f{n:02}");
    let pattern = format!("[{kind}:value = '{value}']");
    let mut i = json!({"type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"});
    if !labels.is_empty() {
        i["labels"] = json!(labels);
    }
    if amber {
        i["object_marking_refs"] = json!([AMBER]);
    }
    let r = json!({"type": "relationship", "spec_version": "2.1",
        "id": format!("relationship--1f9a0a52-3c5e-4f0b-9d1e-2a7c8b6d5f{n:02}"),
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "relationship_type": "indicates", "source_ref": id, "target_ref": SET});
    [i, r]
}

const CS: &str =
    "CN=Major Cobalt Strike,OU=AdvancedPenTesting,O=cobaltstrike,L=Somewhere,ST=Cyberspace,C=Earth";

/// A store with one actor whose five values each meet a different rule.
fn store(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("c.db");
    let mut objects = vec![
        json!({"type": "intrusion-set", "spec_version": "2.1", "id": SET,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": "Kestrel Typhoon"}),
    ];
    for (n, v, k, labels, amber) in [
        (1, "203.0.113.10", "ipv4-addr", &["c2"][..], false),
        (
            2,
            "203.0.113.20",
            "ipv4-addr",
            &["reconnaissance"][..],
            true,
        ),
        (3, "updates.kestrel-cdn.net", "domain-name", &[][..], false),
        (4, "198.51.100.7", "ipv4-addr", &[][..], false),
        (5, "old.kestrel-cdn.net", "domain-name", &[][..], false),
    ] {
        objects.extend(indicator(n, v, k, labels, amber));
    }
    let bundle = json!({"type": "bundle", "id": "bundle--1f9a0a52-3c5e-4f0b-9d1e-2a7c8b6d4e00",
        "objects": objects});
    let b = dir.join("kestrel.json");
    std::fs::write(&b, bundle.to_string()).unwrap();
    ok(&cairn(
        &db,
        &["ingest", b.to_str().unwrap(), "--source", "report"],
    ));

    let cof = dir.join("pdns.jsonl");
    std::fs::write(
        &cof,
        json!({"rrname": "updates.kestrel-cdn.net", "rrtype": "A", "rdata": "203.0.113.10",
            "time_first": 1672531200, "time_last": 1717200000, "count": 40})
        .to_string()
            + "\n",
    )
    .unwrap();
    ok(&cairn(
        &db,
        &["ingest", cof.to_str().unwrap(), "--source", "pdns"],
    ));

    let fp = "ab".repeat(20);
    let ssl = dir.join("ssl.log");
    std::fs::write(
        &ssl,
        json!({"_path": "ssl", "ts": 1700000000.5, "id.resp_h": "198.51.100.7",
            "server_name": "cdn.example.org", "cert_chain_fps": [fp]})
        .to_string()
            + "\n",
    )
    .unwrap();
    let x509 = dir.join("x509.log");
    std::fs::write(
        &x509,
        json!({"_path": "x509", "ts": 1700000000.5, "fingerprint": fp,
            "certificate.subject": CS, "certificate.issuer": CS})
        .to_string()
            + "\n",
    )
    .unwrap();
    ok(&cairn(
        &db,
        &[
            "ingest",
            ssl.to_str().unwrap(),
            x509.to_str().unwrap(),
            "--source",
            "sensor-1",
            "--tlp",
            "green",
        ],
    ));

    // Connections: the stated reconnaissance address sweeps 30 internal
    // hosts (refused); an internal host calls the certificate's server
    // every 300 s with small transfers.
    let conn = |ts: f64, orig: &str, resp: &str, state: &str, bytes: u64| {
        json!({"_path": "conn", "ts": ts, "uid": "C1", "id.orig_h": orig, "id.orig_p": 50000,
            "id.resp_h": resp, "id.resp_p": 443, "proto": "tcp", "duration": 1.5,
            "orig_bytes": bytes, "resp_bytes": bytes, "conn_state": state})
        .to_string()
    };
    let mut lines = Vec::new();
    for i in 0..12 {
        let t = 1_700_000_000.0 + f64::from(i) * 300.0;
        lines.push(conn(t, "10.1.0.5", "198.51.100.7", "SF", 900));
    }
    for h in 0..30 {
        let t = 1_700_010_000.0 + f64::from(h);
        lines.push(conn(t, "203.0.113.20", &format!("10.2.0.{h}"), "REJ", 0));
    }
    let conn_log = dir.join("conn.log");
    std::fs::write(&conn_log, lines.join("\n") + "\n").unwrap();
    ok(&cairn(
        &db,
        &[
            "ingest",
            conn_log.to_str().unwrap(),
            "--source",
            "sensor-2",
            "--tlp",
            "amber",
        ],
    ));
    db
}

fn tier<'a>(tiers: &'a [Value], value: &str) -> &'a Value {
    tiers
        .iter()
        .find(|t| t["value"] == value)
        .unwrap_or_else(|| panic!("{value} has no tier in {tiers:?}"))
}

fn bases(t: &Value) -> Vec<&str> {
    t["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["basis"].as_str())
        .collect()
}

#[test]
fn tiers_come_from_stated_roles_observations_and_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let out: Value =
        serde_json::from_str(&ok(&cairn(&db, &["infra", "Kestrel Typhoon", "--json"]))).unwrap();
    let tiers = out["tiers"].as_array().expect("tiers");
    assert_eq!(tiers.len(), 5);

    let c2 = tier(tiers, "203.0.113.10");
    assert_eq!(c2["types"], json!(["command-and-control"]));
    assert_eq!(bases(c2), ["stated"], "nothing it resolved from is stated");
    assert_eq!(c2["tlp"], "TLP:CLEAR");

    let recon = tier(tiers, "203.0.113.20");
    assert_eq!(recon["types"], json!(["reconnaissance"]));
    assert_eq!(bases(recon), ["stated", "behaviour"]);
    assert!(
        recon["reasons"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("30"),
        "{recon}"
    );
    assert_eq!(
        recon["tlp"], "TLP:AMBER",
        "the amber statement marks the judgement"
    );

    let dom = tier(tiers, "updates.kestrel-cdn.net");
    assert_eq!(dom["types"], json!(["command-and-control"]));
    assert_eq!(bases(dom), ["inherited"]);
    assert_eq!(dom["lifetime"], "long-lived");
    assert_eq!(dom["first_seen"], "2023-01-01T00:00:00.000Z");
    let why = &dom["reasons"][0];
    assert_eq!(why["sources"], json!(["report", "pdns"]));
    assert!(
        why["reason"]
            .as_str()
            .unwrap()
            .contains("resolves-to 203.0.113.10")
    );

    let cs = tier(tiers, "198.51.100.7");
    assert_eq!(cs["types"], json!(["command-and-control"]));
    assert_eq!(bases(cs), ["certificate", "behaviour"]);
    assert_eq!(
        cs["reasons"][0]["tlp"], "TLP:GREEN",
        "the TLS sensor's marking"
    );
    assert_eq!(cs["reasons"][1]["sources"], json!(["sensor-2"]));
    assert!(
        cs["reasons"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Cobalt Strike")
    );
    assert_eq!(cs["tlp"], "TLP:AMBER", "the conn sensor's marking");

    let old = tier(tiers, "old.kestrel-cdn.net");
    assert_eq!(old["types"], json!(["undefined"]));
    assert_eq!(old["reasons"], json!([]));
    assert!(old["lifetime"].is_null());

    let table = ok(&cairn(&db, &["infra", "Kestrel Typhoon", "--tiers"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("old.kestrel-cdn.net") && l.contains("undefined"))
    );
}

fn infrastructure(bundle: &Value) -> Vec<&Value> {
    bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "infrastructure")
        .collect()
}

#[test]
fn the_stix_export_carries_the_tiers_under_the_readers_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let path = dir.path().join("out.json");
    let p = path.to_str().unwrap();
    ok(&cairn(
        &db,
        &["export", "stix", "--actor", "Kestrel Typhoon", "-o", p],
    ));
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let infra = infrastructure(&bundle);
    let types: Vec<&str> = infra
        .iter()
        .map(|o| o["infrastructure_types"][0].as_str().unwrap())
        .collect();
    assert_eq!(types, ["command-and-control", "reconnaissance"]);
    let objects = bundle["objects"].as_array().unwrap();
    let by_id = |id: &Value| objects.iter().find(|o| o["id"] == *id);
    let c2 = infra[0];
    let parts: Vec<&str> = objects
        .iter()
        .filter(|o| o["relationship_type"] == "consists-of" && o["source_ref"] == c2["id"])
        .filter_map(|r| by_id(&r["target_ref"]))
        .filter_map(|o| o["value"].as_str())
        .collect();
    assert_eq!(
        parts,
        ["198.51.100.7", "203.0.113.10", "updates.kestrel-cdn.net"]
    );
    assert!(objects.iter().any(|o| o["relationship_type"] == "uses"
        && o["source_ref"] == SET
        && o["target_ref"] == c2["id"]));
    let marking = |o: &Value| {
        by_id(&o["object_marking_refs"][0])
            .and_then(|m| m["name"].as_str())
            .unwrap_or("none")
            .to_string()
    };
    assert_eq!(marking(c2), "TLP:AMBER", "the conn sensor's marking");
    assert_eq!(marking(infra[1]), "TLP:AMBER");

    // A reader cleared to GREEN sees no reconnaissance tier and no amber value.
    ok(&cairn(
        &db,
        &[
            "export",
            "stix",
            "--actor",
            "Kestrel Typhoon",
            "--tlp-max",
            "green",
            "-o",
            p,
        ],
    ));
    let text = std::fs::read_to_string(&path).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let types: Vec<&Value> = infrastructure(&bundle)
        .iter()
        .map(|o| &o["infrastructure_types"][0])
        .collect();
    assert_eq!(types, [&json!("command-and-control")]);
    assert!(!text.contains("203.0.113.20"));
}

#[test]
fn names_first_seen_in_passive_dns_since_a_date_are_scored() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let score = |since: &str| {
        cairn(
            &db,
            &[
                "infra",
                "score",
                "--actor",
                "Kestrel Typhoon",
                "--since",
                since,
                "--json",
            ],
        )
    };
    let out = score("2022");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["value"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        values,
        ["updates.kestrel-cdn.net"],
        "answers only, not TLS server names"
    );
    // First seen 2023-01-01: not new in 2023-02.
    let later = score("2023-02");
    assert_eq!(later.status.code(), Some(1));
    assert!(later.stdout.is_empty());
    let bad = score("yesterday");
    assert_eq!(bad.status.code(), Some(2));
}
