//! `cairn ingest` of address → AS tables and `cairn infra` through the real
//! binary: a table is detected without `--format`, re-ingested
//! differentially, rejected whole on a bad row; an actor's habits and
//! candidates scored against them, highest first, with exit codes a script
//! can test.

use serde_json::Value;
use std::process::Output;

mod support;
use support::{cairn, ok};

fn json(out: Output) -> Value {
    serde_json::from_str(&ok(&out)).expect("one JSON document")
}

const TABLE: &str = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
                     45.76.0.0,45.77.255.255,20473,\"The Constant Company, LLC\"\n\
                     5.188.32.0,5.188.35.255,202422,G-Core Labs S.A.\n\
                     8.8.8.0,8.8.8.255,15169,Google LLC\n\
                     24.0.0.0,24.63.255.255,7922,\"Comcast Cable Communications, LLC\"\n";

#[test]
fn an_as_table_is_detected_reingested_and_rejected_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let table = dir.path().join("asn.csv");
    std::fs::write(&table, TABLE).unwrap();
    let t = table.to_str().unwrap();
    let r = json(cairn(
        &db,
        &["ingest", t, "--as-of", "2026-06-17", "--json"],
    ));
    assert_eq!(r["format"], "asn-table");
    assert_eq!(
        (r["objects"].as_u64(), r["added"].as_u64()),
        (Some(5), Some(5))
    );
    let again = json(cairn(
        &db,
        &["ingest", t, "--as-of", "2026-06-17", "--json"],
    ));
    assert_eq!(again["status"], "unchanged");

    // One range renamed, one gone: a differential update.
    let edited = TABLE
        .replace("G-Core Labs S.A.", "G-Core Labs SA")
        .replace("8.8.8.0,8.8.8.255,15169,Google LLC\n", "");
    std::fs::write(&table, edited).unwrap();
    let r = json(cairn(
        &db,
        &["ingest", t, "--as-of", "2026-07-01", "--json"],
    ));
    assert_eq!(r["status"], "updated");
    assert_eq!(
        (
            r["added"].as_u64(),
            r["changed"].as_u64(),
            r["withdrawn"].as_u64()
        ),
        (Some(0), Some(1), Some(1))
    );

    // A bad row fails the file with its line, and nothing changes.
    let before = std::fs::read(&db).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{TABLE}9.9.9.0,not-an-address,19281,Quad9\n")).unwrap();
    let out = cairn(
        &db,
        &["ingest", bad.to_str().unwrap(), "--format", "asn-table"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv") && err.contains("line 6"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "store unchanged");
}

#[test]
fn infra_profiles_an_actor_and_scores_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let table = dir.path().join("asn.csv");
    std::fs::write(&table, TABLE).unwrap();
    ok(&cairn(&db, &["ingest", table.to_str().unwrap()]));
    // Ordinary names to compare with: a popularity warninglist.
    let popular = [
        "google.com",
        "youtube.com",
        "facebook.com",
        "wikipedia.org",
        "amazon.com",
        "apple.com",
        "microsoft.com",
        "netflix.com",
        "yahoo.co.jp",
        "bbc.co.uk",
        "github.com",
        "example.com",
        "weather.com",
        "office.com",
        "live.com",
        "linkedin.com",
        "twitter.com",
        "instagram.com",
    ];
    let wl = dir.path().join("top.json");
    std::fs::write(
        &wl,
        serde_json::json!({"description": "test", "list": popular,
            "matching_attributes": ["hostname"], "name": "Top 18 sites from a test",
            "type": "hostname", "version": 1})
        .to_string(),
    )
    .unwrap();
    ok(&cairn(&db, &["ingest", wl.to_str().unwrap()]));
    let list = dir.path().join("redhotel.txt");
    std::fs::write(
        &list,
        "hostingupdate[.]club\nwindowshostnamehost[.]club\nlivehost[.]live\n\
         45.76.186[.]26\n45.77.153[.]197\n5.188.33[.]188\n",
    )
    .unwrap();
    ok(&cairn(
        &db,
        &["ingest", list.to_str().unwrap(), "--actor", "RedHotel"],
    ));

    let p = json(cairn(&db, &["infra", "redhotel", "--json"]));
    assert_eq!(p["actor"], "RedHotel");
    assert_eq!(p["registered_domains"], 3);
    assert_eq!(p["addresses"], 3);
    let habits = p["habits"].as_array().unwrap();
    assert!(
        habits
            .iter()
            .any(|h| h["feature"] == "asn" && h["value"] == "AS20473" && h["count"] == 2),
        "{habits:?}"
    );
    assert!(
        habits
            .iter()
            .any(|h| h["feature"] == "tld" && h["value"] == "club")
    );
    assert!(
        p["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["sources"][0].is_string())
    );

    let candidates = dir.path().join("new.txt");
    std::fs::write(
        &candidates,
        "# candidates\nhxxp://update-hostingupdate[.]club/gate.php\n45.77.1[.]9\n\
         24.1.2.3\nexample.com\n",
    )
    .unwrap();
    let out = ok(&cairn(
        &db,
        &[
            "infra",
            "score",
            candidates.to_str().unwrap(),
            "--actor",
            "RedHotel",
            "--json",
        ],
    ));
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    let scores: Vec<f64> = rows.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "highest first: {scores:?}"
    );
    assert_eq!(rows[0]["value"], "45.77.1.9");
    assert_eq!(rows[0]["type"], "ipv4");
    for r in &rows {
        let sum: f64 = r["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["weight"].as_f64().unwrap())
            .sum();
        assert!((sum - r["score"].as_f64().unwrap()).abs() < 0.05, "{r}");
    }
    let by = |v: &str| {
        rows.iter().find(|r| r["value"] == v).unwrap()["score"]
            .as_f64()
            .unwrap()
    };
    assert!(by("update-hostingupdate.club") > by("example.com"));
    assert!(by("45.77.1.9") > by("24.1.2.3"));

    // Nothing like theirs: exit 1, as grep does when nothing matches.
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "24.1.2.3\n").unwrap();
    let out = cairn(
        &db,
        &[
            "infra",
            "score",
            plain.to_str().unwrap(),
            "--actor",
            "RedHotel",
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    let out = cairn(&db, &["infra", "NoSuchGroup"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no actor named `NoSuchGroup`"));
}

#[test]
fn the_real_routeviews_table_loads_and_answers() {
    let Some(table) = cairn_testkit::dataset("asn/asn-ipv4.csv.gz") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let r = json(cairn(
        &db,
        &[
            "ingest",
            table.to_str().unwrap(),
            "--as-of",
            "2026-06-17",
            "--json",
        ],
    ));
    // The dataset's README: 411,961 IPv4 ranges.
    assert_eq!(r["objects"], 411_961);
    let list = dir.path().join("l.txt");
    std::fs::write(&list, "45.77.153.197\n").unwrap();
    ok(&cairn(
        &db,
        &["ingest", list.to_str().unwrap(), "--actor", "RedHotel"],
    ));
    let p = json(cairn(&db, &["infra", "RedHotel", "--json"]));
    let v = &p["values"][0];
    assert_eq!(v["value"], "45.77.153.197");
    let habits = p["habits"].as_array().unwrap();
    assert!(habits.is_empty(), "one value makes no habit: {habits:?}");
    let c = dir.path().join("c.txt");
    std::fs::write(&c, "45.77.153.198\n").unwrap();
    let out = ok(&cairn(
        &db,
        &[
            "infra",
            "score",
            c.to_str().unwrap(),
            "--actor",
            "RedHotel",
            "--json",
        ],
    ));
    let s: Value = serde_json::from_str(out.trim()).unwrap();
    let asn = s["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["feature"] == "asn")
        .expect("the table names the network");
    assert!(asn["value"].as_str().unwrap().contains("AS20473"));
    assert!(asn["value"].as_str().unwrap().contains("as of 2026-06-17"));
}
