//! The knowledge base through the real binary: real published files from the
//! datasets folder (`cairn_testkit`: SKIPPED without them, a failure under
//! `CAIRN_REQUIRE_DATASETS=1`), and fixtures that always run.

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

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Every table's rows, in order: "exactly as before" made checkable.
fn dump(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut out = Vec::new();
    for t in [
        "sources",
        "objects",
        "names",
        "observables",
        "relations",
        "history",
        "documents",
        "sightings",
        "meta",
        "list_sources",
        "list_values",
        "list_history",
    ] {
        let mut q = c.prepare(&format!("SELECT * FROM {t} ORDER BY 1")).unwrap();
        let n = q.column_count();
        let rows = q
            .query_map([], |r| {
                let mut s = format!("{t}:");
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    s.push_str(&format!("{v:?}|"));
                }
                Ok(s)
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

#[test]
fn real_attack_and_misp_load_completely_and_resolve_redhotel() {
    let Some(d) = cairn_testkit::datasets(&[
        "attack/enterprise-attack-18.1.json",
        "attack/ics-attack-18.1.json",
        "misp-galaxy/clusters/threat-actor.json",
        "misp-galaxy/clusters/microsoft-activity-group.json",
    ]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    let attack = d.join("attack/enterprise-attack-18.1.json");
    let out = cairn(
        &db,
        &[
            "ingest",
            "--json",
            "--starter",
            attack.to_str().unwrap(),
            d.join("attack/ics-attack-18.1.json").to_str().unwrap(),
            d.join("misp-galaxy/clusters/threat-actor.json")
                .to_str()
                .unwrap(),
            d.join("misp-galaxy/clusters/microsoft-activity-group.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Store counts equal the bundle's own, counted here from the raw JSON.
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(&attack).unwrap()).unwrap();
    let mut want = std::collections::BTreeMap::<String, i64>::new();
    for o in raw["objects"].as_array().unwrap() {
        *want.entry(o["type"].as_str().unwrap().into()).or_default() += 1;
    }
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut q = c
        .prepare(
            "SELECT kind, COUNT(*) FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE s.name = 'MITRE ATT&CK (enterprise-attack)' GROUP BY kind",
        )
        .unwrap();
    let mut got: std::collections::BTreeMap<String, i64> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rels: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM relations r JOIN sources s ON s.id = r.source_id \
             WHERE s.name = 'MITRE ATT&CK (enterprise-attack)'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    got.insert("relationship".into(), rels);
    assert_eq!(got, want);
    let actors: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE s.name = 'MISP galaxy: Threat Actor' AND kind = 'intrusion-set'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actors, 1041);

    for name in [
        "Charcoal Typhoon",
        "TAG-22",
        "Earth Lusca",
        "Aquatic Panda",
        "Bronze University",
        "G1006",
        "redhotel",
    ] {
        let p = json(&cairn(&db, &["actor", name, "--json"]));
        let names: Vec<String> = p["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_lowercase())
            .collect();
        for must in ["earth lusca", "charcoal typhoon", "tag-22", "redhotel"] {
            assert!(
                names.iter().any(|n| n == must),
                "{name}: {must} missing from {names:?}"
            );
        }
        // The disagreement: ATT&CK keeps Earth Lusca and Aquatic Panda apart, MISP merges them.
        let conflicts = p["conflicts"].as_array().unwrap();
        assert!(
            conflicts
                .iter()
                .any(|c| c["kept_apart_by"] == "MITRE ATT&CK (enterprise-attack)"
                    && c["linked_by"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s == "MISP galaxy: Threat Actor")),
            "{name}: {conflicts:?}"
        );
        assert!(
            p["indicator_counts"]["domain"].as_u64().unwrap() > 90,
            "{name}"
        );
    }
    let apt41 = json(&cairn(&db, &["actor", "APT41", "--json"]));
    assert_eq!(apt41["attack_id"], "G0096");
    let techs = apt41["techniques"].as_array().unwrap();
    assert!(techs.len() > 50);
    assert!(
        techs
            .iter()
            .all(|t| !t["tactics"].as_array().unwrap().is_empty())
    );
    assert!(
        techs
            .iter()
            .any(|t| t["id"] == "T1190" && t["tactics"][0] == "initial-access")
    );

    // Unchanged re-ingest is recognised without reparsing.
    let again = cairn(&db, &["ingest", "--json", attack.to_str().unwrap()]);
    let line: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(line["status"], "unchanged");

    let hits = cairn(&db, &["search", "--json", "winnti"]);
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&hits.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(
        first["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("winnti"),
        "{first}"
    );
}

#[test]
fn broken_input_is_rejected_whole_and_the_store_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    // The Insikt part of the starter pack: a populated store, small enough to
    // dump whole after every case.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../starter");
    let out = cairn(
        &db,
        &[
            "ingest",
            root.join("redhotel-insikt-2023.json").to_str().unwrap(),
            root.join("tag22-insikt-2021.json").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = dump(&db);
    assert!(before.len() > 500);

    let starter = include_str!("../../../starter/redhotel-insikt-2023.json");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.json", starter.as_bytes()[..starter.len() / 2].to_vec(), "invalid JSON at line"),
        (
            "badobj.json",
            br#"{"type":"bundle","id":"bundle--x","objects":[{"type":"indicator","id":"indicator--1","pattern":"[domain-name:value = 'a.com']"},{"type":"relationship","id":"relationship--2"}]}"#.to_vec(),
            "object #2 (relationship--2)",
        ),
        ("deep.json", format!("{{\"type\":\"bundle\",\"objects\":{}", "[".repeat(5000)).into_bytes(), "deep.json"),
        ("list.txt", b"evil[.]com\nthis is not an indicator\n".to_vec(), "line 2"),
        ("utf8.csv", b"value,type\nevil.com,domain\n\xff\xfe,domain\n".to_vec(), "invalid UTF-8"),
    ];
    for (name, bytes, want) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let format = if name == "list.txt" { "list" } else { "auto" };
        // A good file goes first in the same command: nothing may be written.
        let good = tmp.path().join("good.txt");
        std::fs::write(&good, "good-domain.example.net\n").unwrap();
        let out = cairn(
            &db,
            &[
                "ingest",
                "--format",
                format,
                good.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
        assert_eq!(dump(&db), before, "{name} changed the store");
    }
}

#[test]
fn lists_and_csv_link_indicators_to_the_named_actor() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    let list = tmp.path().join("iocs.txt");
    std::fs::write(
        &list,
        "# RedHotel C2\nkb.dga[.]asia\n45.77.153[.]197\nhxxps://evil[.]com/x\n",
    )
    .unwrap();
    let out = json(&cairn(
        &db,
        &[
            "ingest",
            "--json",
            "--actor",
            "RedHotel",
            "--source",
            "my list",
            "--tlp",
            "amber",
            list.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        (out["format"].as_str(), out["indicators"].as_u64()),
        (Some("list"), Some(3))
    );
    let p = json(&cairn(&db, &["actor", "red hotel", "--json"]));
    assert_eq!(p["members"][0]["tlp"], "TLP:AMBER");
    assert_eq!(p["indicator_counts"]["domain"], 1);
    assert_eq!(p["indicator_counts"]["url"], 1);
    let miss = cairn(&db, &["actor", "RedHotle"]);
    assert_eq!(miss.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&miss.stderr).contains("RedHotel"));
}

/// A machine with only the clone: `--starter` alone gives ATT&CK (so
/// attribution ranks real groups) and RedHotel under its vendors' names; the
/// published ATT&CK file loaded afterwards is recognised as the same.
#[test]
fn the_starter_pack_alone_carries_attack_and_attribution_works() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    let rows: Vec<serde_json::Value> = {
        let out = cairn(&db, &["ingest", "--starter", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let attack = rows
        .iter()
        .find(|r| r["file"] == "starter/enterprise-attack-18.1.json")
        .expect("ATT&CK Enterprise in the starter pack");
    assert_eq!(attack["source"], "MITRE ATT&CK (enterprise-attack)");
    // Every object of the bundled copy is stored: count them from the copy itself.
    let packed = include_bytes!("../../../starter/attack/enterprise-attack-18.1.json.zst");
    let raw: serde_json::Value =
        serde_json::from_slice(&zstd::decode_all(&packed[..]).unwrap()).unwrap();
    let sets = raw["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "intrusion-set")
        .count() as i64;
    assert!(sets > 100);
    let c = rusqlite::Connection::open(&db).unwrap();
    let stored: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE s.name = 'MITRE ATT&CK (enterprise-attack)' AND kind = 'intrusion-set'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, sets);
    assert!(
        rows.iter()
            .any(|r| r["file"] == "starter/ics-attack-18.1.json")
    );

    let v = json(&cairn(
        &db,
        &[
            "attribute",
            "--json",
            "-t",
            "T1190",
            "-t",
            "T1059.001",
            "-t",
            "T1574.002",
            "-s",
            "ShadowPad",
            "-s",
            "Cobalt Strike",
        ],
    ));
    let candidates = v["candidates"].as_array().expect("candidates");
    assert!(candidates.len() >= 5, "{v}");
    assert!(
        candidates
            .iter()
            .all(|c| !c["actor"].as_str().unwrap_or("").is_empty())
    );
    let v = json(&cairn(&db, &["actor", "Earth Lusca", "--json"]));
    assert!(
        v["techniques"].as_array().is_some_and(|t| !t.is_empty()),
        "{v}"
    );

    // The published file, when at hand, is the same bytes: skipped as unchanged.
    if let Some(file) = cairn_testkit::dataset("attack/enterprise-attack-18.1.json") {
        let out = cairn(&db, &["ingest", "--json", file.to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "unchanged", "{v}");
    }
}

/// A list through the real binary, streamed (`--format list`) and
/// compact: re-ordered it is unchanged, changed it is differential, a hunt
/// hit names the list's actor, and a bad line (gzip-compressed file, alone
/// in the command) leaves the store exactly as it was.
#[test]
fn a_streamed_list_is_differential_and_a_bad_line_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let ingest = |p: &Path| {
        json(&cairn(
            &db,
            &[
                "ingest",
                "--json",
                "--format",
                "list",
                "--source",
                "feed",
                "--actor",
                "Ember Bear",
                p.to_str().unwrap(),
            ],
        ))
    };
    let a = write(
        "a.txt",
        "c2.ember.example\n198.51.100[.]23\ncdn.ember.example\n",
    );
    let r = ingest(&a);
    assert_eq!(
        (r["status"].as_str(), r["added"].as_u64()),
        (Some("new"), Some(4))
    );
    let b = write(
        "b.txt",
        "cdn.ember.example\nc2.ember.example\n198.51.100[.]23\n",
    );
    let r = ingest(&b);
    assert_eq!(r["status"], "unchanged", "{r}");
    let c = write(
        "c.txt",
        "cdn.ember.example\nnew.ember.example\n198.51.100[.]23\n",
    );
    let r = ingest(&c);
    assert_eq!(
        (r["added"].as_u64(), r["withdrawn"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );

    // `.example` is on the built-in warninglists: hunt without them.
    let log = write(
        "dns.log",
        "#separator \\x09\n#set_separator\t,\n#path\tdns\n\
         #fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\n\
         #types\ttime\tstring\taddr\taddr\tstring\tvector[string]\n\
         1685577600.0\tC1\t10.1.1.1\t10.0.0.53\twww.new.ember.example\t-\n",
    );
    let out = cairn(
        &db,
        &["hunt", "--json", "--no-warninglists", log.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let hit: serde_json::Value =
        serde_json::from_str(stdout.lines().next().unwrap_or("")).expect("one alert");
    assert_eq!(hit["actors"][0]["name"], "Ember Bear", "{stdout}");
    assert_eq!(hit["indicator"]["value"], "new.ember.example");
    assert_eq!(hit["sources"][0]["source"], "feed");

    let before = dump(&db);
    let bad = tmp.path().join("bad.txt.gz");
    {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&bad).unwrap(),
            flate2::Compression::default(),
        );
        gz.write_all(b"x.ember.example\ny.ember.example\nnot an indicator\n")
            .unwrap();
        gz.finish().unwrap();
    }
    let out = cairn(
        &db,
        &[
            "ingest",
            "--format",
            "list",
            "--source",
            "feed",
            "--actor",
            "Ember Bear",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.txt.gz") && err.contains("line 3"),
        "{err}"
    );
    assert_eq!(dump(&db), before);
}
