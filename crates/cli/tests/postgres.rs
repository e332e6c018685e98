//! `cairn --db postgres://…`: the verbs that run on PostgreSQL give what
//! they give on the embedded store, from the same real files; the others
//! say so instead of running.

mod support;

use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;
use std::process::{Command, Stdio};
use support::ok;

/// Runs `cairn --db DB ARGS…` with its cache (hunt indexes) in `cache`.
fn cairn(db: &Path, cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .env("XDG_CACHE_HOME", cache)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run cairn")
}

fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn ingest_stats_search_and_hunt_agree_with_the_embedded_store() {
    let Some(server) = cairn_testkit::postgres() else {
        return;
    };
    let Some(attack) = cairn_testkit::dataset("attack/enterprise-attack-18.1.json") else {
        return;
    };
    let Some(list) = cairn_testkit::dataset("insikt/tag-22-2021-indicators.txt") else {
        return;
    };
    let (attack, list) = (attack.to_str().unwrap(), list.to_str().unwrap());
    let pg = cairn_pg::admin::Scratch::new(&server, "cli").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kb.db");
    let cache = &dir.path().join("cache");
    let url = Path::new(pg.url());
    let logs = dir.path().join("dns.log");
    std::fs::write(
        &logs,
        "{\"ts\":1,\"query\":\"coivo2xo.livehost.live\"}\n\
         {\"ts\":2,\"query\":\"example.org\"}\n\
         {\"ts\":3,\"query\":\"wvt.livehost.live\"}\n\
         {\"ts\":4,\"query\":\"kb.dga.asia\"}\n",
    )
    .unwrap();
    // Our own list, stored compact: one hit of it in the log.
    let own = dir.path().join("ours.txt");
    std::fs::write(&own, "dga[.]asia\n45.77.153[.]197\nexample-c2[.]net\n").unwrap();
    let quiet = dir.path().join("quiet.log");
    std::fs::write(&quiet, "{\"ts\":1,\"query\":\"example.org\"}\n").unwrap();

    let mut seen = Vec::new();
    let mut profiles = Vec::new();
    let mut exports = Vec::new();
    for db in [file.as_path(), url] {
        let mut reports = json_lines(&ok(&cairn(db, cache, &["ingest", "--json", attack])));
        reports.extend(json_lines(&ok(&cairn(
            db,
            cache,
            &[
                "ingest", "--json", list, "--actor", "TAG-22", "--source", "insikt",
            ],
        ))));
        reports.extend(json_lines(&ok(&cairn(
            db,
            cache,
            &[
                "ingest",
                "--json",
                own.to_str().unwrap(),
                "--format",
                "list",
                "--actor",
                "RedHotel",
                "--source",
                "our team",
                "--tlp",
                "amber",
            ],
        ))));
        for r in &mut reports {
            r.as_object_mut().unwrap().remove("file");
        }
        let again = json_lines(&ok(&cairn(db, cache, &["ingest", "--json", attack])));
        assert_eq!(again[0]["status"], "unchanged");
        let stats: serde_json::Value =
            serde_json::from_str(&ok(&cairn(db, cache, &["stats", "--json"]))).unwrap();
        let search = json_lines(&ok(&cairn(
            db,
            cache,
            &["search", "--json", "earth", "lusca"],
        )));
        let hunt = cairn(db, cache, &["hunt", "--json", logs.to_str().unwrap()]);
        assert_eq!(
            hunt.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&hunt.stderr)
        );
        let mut alerts: Vec<String> = String::from_utf8(hunt.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        alerts.sort();
        let none = cairn(db, cache, &["hunt", "--json", quiet.to_str().unwrap()]);
        assert_eq!(none.status.code(), Some(1), "no hits: exit 1 as grep");
        seen.push((reports, stats, search[0]["name"].clone(), alerts));
        let mut profile: serde_json::Value =
            serde_json::from_str(&ok(&cairn(db, cache, &["actor", "--json", "earth lusca"])))
                .unwrap();
        profile["members"]
            .as_array_mut()
            .unwrap()
            .sort_by_key(|m| m.to_string());
        profiles.push(profile);
        // Sensor exports and a Navigator layer (headers carry the time of
        // writing; the rest must be the same).
        let body = |args: &[&str]| -> Vec<String> {
            ok(&cairn(db, cache, args))
                .lines()
                .filter(|l| !l.starts_with(['#', ';']) && !l.contains(" SOA "))
                .map(String::from)
                .collect()
        };
        exports.push((
            body(&["export", "csv", "--tlp-max", "red"]),
            body(&["export", "zeek-intel", "--actor", "earth lusca"]),
            body(&["export", "rpz", "--tlp-max", "clear"]),
            body(&["export", "navigator", "--actor", "G1006"]),
        ));
    }
    let (sqlite, postgres) = (&seen[0], &seen[1]);
    // The database store's index was cached by store id, beside none of
    // its files (it has none), and reused by the second hunt.
    let cached: Vec<_> = std::fs::read_dir(cache.join("cairn"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("store-"))
        .collect();
    assert_eq!(cached.len(), 1, "one cached index for the database store");
    assert_eq!(sqlite.0, postgres.0, "ingest reports");
    assert_eq!(profiles[0]["attack_id"], "G1006");
    assert!(profiles[0]["members"].as_array().unwrap().len() >= 2);
    assert_eq!(profiles[0], profiles[1], "`cairn actor` on both backends");
    let (e_sqlite, e_pg) = (&exports[0], &exports[1]);
    // The CSV holds every source's values: ATT&CK's none, TAG-22's list and
    // ours (AMBER, in under --tlp-max red).
    assert!(e_sqlite.0.len() > 50, "{}", e_sqlite.0.len());
    assert!(e_sqlite.0.iter().any(|l| l.starts_with("example-c2.net,")));
    assert_eq!(e_sqlite.0, e_pg.0, "export csv");
    assert!(e_sqlite.1.iter().any(|l| l.contains("livehost.live")));
    assert_eq!(e_sqlite.1, e_pg.1, "export zeek-intel --actor");
    assert!(
        !e_sqlite.2.iter().any(|l| l.contains("example-c2")),
        "AMBER stays out of a CLEAR zone"
    );
    assert_eq!(e_sqlite.2, e_pg.2, "export rpz");
    assert!(e_sqlite.3.iter().any(|l| l.contains("T1059")));
    assert_eq!(e_sqlite.3, e_pg.3, "export navigator");
    let kinds = |s: &serde_json::Value| s["objects_by_kind"].as_array().unwrap().len();
    assert!(kinds(&sqlite.1) > 5);
    for key in ["objects_by_kind", "relations_by_type"] {
        let sorted = |s: &serde_json::Value| {
            let mut v: Vec<String> = s[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&sqlite.1), sorted(&postgres.1), "{key}");
    }
    assert_eq!(sqlite.2, postgres.2, "top search hit");
    assert!(sqlite.3.len() >= 3, "{:?}", sqlite.3);
    assert_eq!(sqlite.3, postgres.3, "alerts");

    // The same hunt spread over a worker through NATS, from the database's index.
    if let Some(nats) = cairn_testkit::nats() {
        let queue = format!("test-pg-{}", std::process::id());
        let mut worker = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["worker", "--nats", &nats, "--queue", &queue])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a worker");
        let mut said = BufReader::new(worker.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("working for queue") {
            line.clear();
            assert!(said.read_line(&mut line).unwrap() > 0, "the worker ended");
        }
        let out = cairn(
            url,
            cache,
            &[
                "hunt",
                "--json",
                "--nats",
                &nats,
                "--queue",
                &queue,
                "--patience",
                "60",
                logs.to_str().unwrap(),
            ],
        );
        let _ = worker.kill();
        let _ = worker.wait();
        if let Ok(q) = cairn_queue::Queue::connect(&nats, &queue) {
            let _ = q.remove();
        }
        let mut spread: Vec<String> = ok(&out).lines().map(String::from).collect();
        spread.sort();
        assert_eq!(spread, postgres.3, "alerts through the worker");
    }

    // A verb that needs the embedded store says so and what does run.
    let out = cairn(url, cache, &["export", "stix", "--actor", "RedHotel"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("on PostgreSQL: ingest"), "{err}");
}
