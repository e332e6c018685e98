//! Reading a report end to end with the real binary: `cairn extract` with
//! the prose, `cairn attribute --report`, `cairn ingest --actor auto` and
//! `cairn eval techniques`, over a store holding the starter pack (ATT&CK
//! 18.1 is built into the binary, so no dataset is needed but for the
//! evaluation).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::cairn;

mod support;
use std::sync::OnceLock;

const REPORT: &str = "../../examples/reports/redhotel-2023.md";

fn report() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(REPORT)
}

/// A store with the starter pack, built once for the file's tests (they
/// only read it; the ingest test copies it).
fn starter_store() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, db) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("starter.db");
        let out = cairn(&db, &["ingest", "--starter"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, db)
    });
    db
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// The report's line `n` (1-based) and the two after it: a sentence that
/// starts on a line may end on the next.
fn around(n: u64) -> String {
    let text = std::fs::read_to_string(report()).expect("report");
    text.lines()
        .skip(n.saturating_sub(1) as usize)
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn extract_reads_the_prose_with_sentences_and_stances() {
    let out = cairn(
        starter_store(),
        &["extract", report().to_str().unwrap(), "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&out);
    let find = |kind: &str, value: &str| {
        got.iter()
            .find(|v| v["kind"] == kind && v["value"] == value)
            .unwrap_or_else(|| panic!("{kind} {value} not in output"))
    };
    // Indicators keep their schema and say what they are.
    let ip = find("indicator", "1.13.82.101");
    assert_eq!(ip["type"], "ipv4");
    assert_eq!(ip["context"]["role"], "c2");

    // A technique by its name, with the sentence and the line it starts on.
    let lsass = find("technique", "T1003.001");
    assert_eq!(lsass["name"], "LSASS Memory");
    assert_eq!(lsass["rule"], "technique name");
    let sentence = lsass["sentence"].as_str().unwrap();
    assert!(sentence.contains("LSASS memory"), "{sentence}");
    assert!(around(lsass["line"].as_u64().unwrap()).contains("LSASS"));

    // Side-loading is described, never named: the model finds it, and maps
    // it to ATT&CK 18.1's T1574.001 (T1574.002 was revoked into it).
    let dll = find("technique", "T1574.001");
    assert_eq!(dll["rule"], "model");
    let conf = dll["confidence"].as_f64().unwrap();
    assert!(conf > 0.5 && conf <= 1.0, "{conf}");
    assert!(dll["sentence"].as_str().unwrap().contains("side-loaded"));

    // Named groups: one claimed, one compared.
    assert_eq!(find("group", "G0096")["stance"], "compared");
    let named = find("group", "G1006");
    assert_eq!(named["stance"], "asserted");
    assert_eq!(named["mentions"][0]["text"], "RedHotel");

    assert_eq!(find("software", "S0596")["name"], "ShadowPad");
    for c in ["TW", "VN", "PH"] {
        assert_eq!(find("country", c)["stance"], "asserted");
    }
    // "Chinese state-sponsored" is the actor's country, not a victim.
    assert!(
        !got.iter()
            .any(|v| v["kind"] == "country" && v["value"] == "CN")
    );
    find("sector", "government");
    find("sector", "telecommunications");

    // --no-prose gives the indicators alone.
    let out = cairn(
        starter_store(),
        &[
            "extract",
            report().to_str().unwrap(),
            "--json",
            "--no-prose",
        ],
    );
    assert!(lines(&out).iter().all(|v| v["kind"] == "indicator"));
}

#[test]
fn attribute_report_keeps_named_groups_apart_and_points_at_lines() {
    let out = cairn(
        starter_store(),
        &[
            "attribute",
            "--report",
            report().to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let candidates = v["candidates"].as_array().expect("candidates");
    assert!(!candidates.is_empty());
    // The inference never reads the names: RedHotel's cluster comes first
    // on its software and indicators, and the naming agrees with it.
    let top = &candidates[0];
    let names: Vec<&str> = std::iter::once(&top["actor"])
        .chain(top["aliases"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert!(names.contains(&"Earth Lusca"), "{names:?}");
    let named = &v["named_in_report"][0];
    assert_eq!(named["value"], "G1006");
    assert_eq!(named["inferred_rank"], 1);
    assert_eq!(v["mentioned_not_claimed"][0]["name"], "APT41");
    // Every contribution with lines points at report lines that say it.
    let mut checked = 0;
    for c in top["evidence"].as_array().unwrap() {
        let Some(ls) = c["lines"].as_array() else {
            continue;
        };
        let kind = c["kind"].as_str().unwrap();
        if kind != "software" && kind != "indicator" {
            continue;
        }
        let value = c["value"].as_str().unwrap();
        let word = value.split(" (").next().unwrap();
        let at = around(ls[0].as_u64().unwrap()).replace("[.]", ".");
        assert!(at.contains(word), "{kind} {value} at line {}: {at}", ls[0]);
        checked += 1;
    }
    assert!(checked >= 3, "{checked} contributions with lines checked");
    // What was read and not used says so.
    let evidence = v["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["used"] == false || e["kind"] == "technique")
    );
    assert!(
        evidence
            .iter()
            .any(|e| e["kind"] == "ipv4" && e["used"] == true)
    );
}

#[test]
fn ingest_actor_auto_links_the_report_to_the_group_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("copy.db");
    std::fs::copy(starter_store(), &db).unwrap();
    let out = cairn(
        &db,
        &[
            "ingest",
            report().to_str().unwrap(),
            "--actor",
            "auto",
            "--source",
            "Summary, 2023",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("actor Earth Lusca") && err.contains("named in the report (line 1)"),
        "{err}"
    );
    // The group now has the report as a source, at the confidence a naming
    // earns.
    let out = cairn(&db, &["actor", "Earth Lusca", "--json"]);
    let profile: Value = serde_json::from_slice(&out.stdout).expect("profile");
    let member = profile["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["source"] == "Summary, 2023")
        .expect("the report is a source of the group");
    assert_eq!(member["confidence"], 90);

    // Not a report: a clear refusal, nothing written.
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, "indicator,type\nevil.example,domain\n").unwrap();
    let out = cairn(&db, &["ingest", csv.to_str().unwrap(), "--actor", "auto"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--actor auto reads reports"));
}

/// The server reads reports as the binary does, byte for byte: `POST
/// /api/v1/extract` answers what `cairn extract --json` prints, `POST
/// /api/v1/attribute/report` what `cairn attribute --report --json` prints
/// (less its closing newline), on a copy of the same store.
#[tokio::test(flavor = "multi_thread")]
async fn the_server_reads_reports_as_the_cli_does() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("copy.db");
    std::fs::copy(starter_store(), &db).unwrap();
    let path = report();
    let extracted = cairn(&db, &["extract", path.to_str().unwrap(), "--json"]);
    assert_eq!(extracted.status.code(), Some(0));
    let attributed = cairn(
        &db,
        &["attribute", "--report", path.to_str().unwrap(), "--json"],
    );
    assert_eq!(attributed.status.code(), Some(0));
    let token = {
        let mut store = cairn_kb::Store::open(&db).unwrap();
        store
            .create_token("parity", cairn_kb::Role::Admin)
            .unwrap()
            .0
    };
    let app = cairn_serve::App::open(cairn_serve::Config::new(db.clone())).unwrap();
    let body = std::fs::read(&path).unwrap();
    let call = |uri: &str| {
        axum::http::Request::post(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/markdown")
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let send = |req: axum::http::Request<Body>| async {
        let res = app.router().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let ctype = res.headers()["content-type"].to_str().unwrap().to_string();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, ctype, bytes)
    };

    let (status, ctype, got) = send(call("/api/v1/extract?name=redhotel-2023.md")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
    assert_eq!(ctype, "application/x-ndjson");
    let kinds: std::collections::BTreeSet<String> = lines(&extracted)
        .iter()
        .filter_map(|l| l["kind"].as_str().map(str::to_string))
        .collect();
    assert_eq!(kinds.len(), 6, "every kind of line is compared: {kinds:?}");
    assert!(
        got[..] == extracted.stdout[..],
        "the server's lines differ from the CLI's:\n{}\n---\n{}",
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&extracted.stdout)
    );

    let (status, _, got) = send(call("/api/v1/attribute/report?name=redhotel-2023.md")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
    let cli = attributed.stdout.strip_suffix(b"\n").unwrap();
    assert!(
        got[..] == cli[..],
        "the server's attribution differs from the CLI's:\n{}\n---\n{}",
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(cli)
    );
    let v: Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(v["named_in_report"][0]["value"], "G1006");
    assert_eq!(v["named_in_report"][0]["inferred_rank"], 1);
}

#[test]
fn eval_techniques_meets_its_floors() {
    let Some(attack) = cairn_testkit::dataset("attack/enterprise-attack-18.1.json") else {
        return;
    };
    let out = cairn(
        starter_store(),
        &[
            "eval",
            "techniques",
            "--attack",
            attack.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert!(v["report"]["sentence"]["f1"].as_f64().unwrap() >= 0.6);
}
