//! `cairn export` for sensors through the real binary, on the starter pack
//! plus a TLP:RED list, a list holding a warninglisted value and the
//! warninglist: every format parsed back and compared with the store as
//! the actor's indicator listing reads it.

use base64::Engine as _;
use cairn_kb::Store;
use cairn_model::{IndicatorKind, Tlp};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WARNINGLIST: &str = r#"{"name":"Benign CDN","type":"hostname","version":1,
  "description":"A CDN the fixture's list names by mistake","matching_attributes":["domain","hostname"],
  "list":["benignco.net"]}"#;

fn cairn(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--db")
        .arg(db)
        .arg("--quiet")
        .args(args)
        .output()
        .expect("run cairn")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kb.db");
    ok(cairn(&db, &["ingest", "--starter"]));
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "secret-c2.redzone.asia\n").expect("write");
    ok(cairn(
        &db,
        &[
            "ingest",
            "--actor",
            "RedHotel",
            "--tlp",
            "red",
            "--source",
            "Our own IR",
            "--format",
            "list",
            secret.to_str().expect("path"),
        ],
    ));
    let team = dir.path().join("team.txt");
    std::fs::write(&team, "cdn.benignco.net\nfresh-c2.dga.asia\n").expect("write");
    ok(cairn(
        &db,
        &[
            "ingest",
            "--actor",
            "RedHotel",
            "--tlp",
            "green",
            "--source",
            "Team list",
            "--format",
            "list",
            team.to_str().expect("path"),
        ],
    ));
    let wl = dir.path().join("list.json");
    std::fs::write(&wl, WARNINGLIST).expect("write");
    ok(cairn(&db, &["ingest", wl.to_str().expect("path")]));
    Fixture { dir, db }
}

/// RedHotel's indicators at TLP:AMBER and below that no store warninglist
/// names, read through the actor listing (not the export query).
fn expected(db: &Path) -> BTreeSet<(IndicatorKind, String)> {
    let store = Store::open_existing(db).expect("store");
    let p = store.actor("RedHotel").expect("query").expect("RedHotel");
    let ids: Vec<String> = p.members.iter().map(|m| m.stix_id.clone()).collect();
    let (rows, total) = store.actor_indicators(&ids, 100_000).expect("indicators");
    assert_eq!(rows.len(), total);
    let (benign, _) = cairn_engine::benign_filter(&store).expect("lists");
    let benign = benign.expect("the fixture's warninglist");
    rows.into_iter()
        .filter(|r| r.tlp.parse::<Tlp>().is_ok_and(|t| t <= Tlp::Amber))
        .filter_map(|r| Some((r.kind.parse::<IndicatorKind>().ok()?, r.value)))
        .filter(|(k, v)| benign.check(*k, v).is_none())
        .collect()
}

fn assert_no_temp_files(dir: &Path) {
    for e in std::fs::read_dir(dir).expect("dir") {
        let name = e.expect("entry").file_name().to_string_lossy().to_string();
        assert!(!name.contains(".tmp-"), "temporary file left: {name}");
    }
}

#[test]
fn zeek_intel_file_matches_the_store_line_by_line() {
    let f = fixture();
    let want = expected(&f.db);
    assert!(want.iter().any(|(_, v)| v == "fresh-c2.dga.asia"));
    assert!(!want.iter().any(|(_, v)| v == "cdn.benignco.net"));
    let out_dir = f.dir.path().join("zeek");
    std::fs::create_dir_all(&out_dir).expect("dir");
    let path = out_dir.join("redhotel.intel");
    ok(cairn(
        &f.db,
        &[
            "export",
            "zeek-intel",
            "--actor",
            "RedHotel",
            "-o",
            path.to_str().expect("path"),
        ],
    ));
    assert_no_temp_files(&out_dir);
    let names: Vec<_> = std::fs::read_dir(&out_dir).expect("dir").collect();
    assert_eq!(names.len(), 1, "only the file itself");
    let text = std::fs::read_to_string(&path).expect("written");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.do_notice"
        )
    );
    let mut got = BTreeSet::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "{line:?}");
        assert!(f[1].starts_with("Intel::"), "{line:?}");
        assert!(
            f[3].contains("actor: "),
            "RedHotel's name in meta.desc: {line:?}"
        );
        assert!(f[4].starts_with("http://127.0.0.1:8080/indicator?value="));
        assert!(f[5] == "T" || f[5] == "F");
        got.insert((f[0].to_string(), f[1].to_string()));
    }
    let want_zeek: BTreeSet<(String, String)> = want
        .iter()
        .filter_map(|(k, v)| {
            Some((
                cairn_export::sensors::zeek_value(*k, v),
                cairn_export::sensors::zeek_type(*k)?.to_string(),
            ))
        })
        .collect();
    assert_eq!(got, want_zeek);
    assert!(!text.contains("secret-c2"), "TLP:RED exported by default");
    assert!(!text.contains("benignco"), "warninglisted value exported");
}

#[test]
fn suricata_directory_csv_ecs_and_rpz_match_the_store() {
    let f = fixture();
    let want = expected(&f.db);
    let of = |k: IndicatorKind| -> BTreeSet<String> {
        want.iter()
            .filter(|(x, _)| *x == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    // Suricata: a directory of atomically written files.
    let dir = f.dir.path().join("suricata");
    ok(cairn(
        &f.db,
        &[
            "export",
            "suricata-dataset",
            "--actor",
            "RedHotel",
            "-o",
            dir.to_str().expect("path"),
        ],
    ));
    assert_no_temp_files(&dir);
    let read =
        |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
    let b64 = base64::engine::general_purpose::STANDARD;
    let domains: BTreeSet<String> = read("cairn-domains.lst")
        .lines()
        .map(|l| String::from_utf8(b64.decode(l).expect("base64")).expect("utf-8"))
        .collect();
    assert_eq!(domains, of(IndicatorKind::Domain));
    let ipv4: BTreeSet<String> = read("cairn-ipv4.lst").lines().map(String::from).collect();
    assert_eq!(ipv4, of(IndicatorKind::Ipv4));
    let sha256: BTreeSet<String> = read("cairn-sha256.lst").lines().map(String::from).collect();
    assert_eq!(sha256, of(IndicatorKind::Sha256));
    let rules = read("cairn.rules");
    for l in rules.lines().filter(|l| !l.starts_with('#')) {
        for part in l.split("; ") {
            if let Some(load) = part.split(",load ").nth(1) {
                assert!(dir.join(load).is_file(), "{load} missing");
            }
        }
    }
    // Without a directory it is an error, not a half export.
    let out = cairn(&f.db, &["export", "suricata-dataset"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o DIR"));

    // CSV: every value once, with its actor and sources.
    let csv = ok(cairn(&f.db, &["export", "csv", "--actor", "RedHotel"]));
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        r.headers().expect("header").iter().collect::<Vec<_>>(),
        [
            "value",
            "type",
            "actors",
            "roles",
            "sources",
            "confidence",
            "tlp",
            "first_seen",
            "last_seen"
        ]
    );
    let mut got = BTreeSet::new();
    for rec in r.records() {
        let rec = rec.expect("record");
        assert!(!rec[2].is_empty(), "no actor for {}", &rec[0]);
        assert!(rec[6].parse::<Tlp>().is_ok_and(|t| t <= Tlp::Amber));
        got.insert((
            rec[1].parse::<IndicatorKind>().expect("type"),
            rec[0].to_string(),
        ));
    }
    assert_eq!(got, want);

    // ECS: one JSON document a line, for every value ECS has a field for.
    let ecs = ok(cairn(
        &f.db,
        &["export", "ecs-ndjson", "--actor", "RedHotel"],
    ));
    let docs: Vec<serde_json::Value> = ecs
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let carried = want
        .iter()
        .filter(|(k, v)| cairn_export::sensors::ecs_value(*k, v).is_some())
        .count();
    assert_eq!(docs.len(), carried);
    for d in &docs {
        assert!(d["threat"]["indicator"]["type"].is_string());
        assert!(d["threat"]["group"]["name"].is_array());
    }

    // RPZ: each domain and its subdomains.
    let zone = ok(cairn(&f.db, &["export", "rpz", "--actor", "RedHotel"]));
    assert!(zone.lines().any(|l| l.contains(" SOA ")));
    let blocked: BTreeSet<String> = zone
        .lines()
        .filter_map(|l| l.strip_suffix(" CNAME ."))
        .filter(|n| !n.starts_with("*."))
        .map(String::from)
        .collect();
    assert_eq!(blocked, of(IndicatorKind::Domain));
    for d in &blocked {
        assert!(zone.contains(&format!("*.{d} CNAME .")));
    }
}

#[test]
fn red_only_when_asked_and_deltas_since() {
    let f = fixture();
    let csv = ok(cairn(&f.db, &["export", "csv", "--tlp-max", "red"]));
    assert!(csv.contains("secret-c2.redzone.asia"));
    assert!(!csv.contains("benignco"), "warninglisted even at RED");
    let csv = ok(cairn(&f.db, &["export", "csv"]));
    assert!(!csv.contains("secret-c2"));
    let future = ok(cairn(&f.db, &["export", "csv", "--since", "2999-01-01"]));
    assert_eq!(future.lines().count(), 1, "only the header: {future}");
    let past = ok(cairn(&f.db, &["export", "csv", "--since", "2000-01-01"]));
    assert_eq!(past, csv);
    let out = cairn(&f.db, &["export", "csv", "--since", "last tuesday"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cairn(&f.db, &["export", "zeek-intel", "--actor", "Nobody Panda"]);
    assert_eq!(out.status.code(), Some(1));
    // The team's list no longer names fresh-c2: withdrawn, so no longer exported.
    assert!(csv.contains("fresh-c2.dga.asia"));
    let team = f.dir.path().join("team.txt");
    std::fs::write(&team, "cdn.benignco.net\nother-c2.dga.asia\n").expect("write");
    ok(cairn(
        &f.db,
        &[
            "ingest",
            "--actor",
            "RedHotel",
            "--tlp",
            "green",
            "--source",
            "Team list",
            "--format",
            "list",
            team.to_str().expect("path"),
        ],
    ));
    let csv = ok(cairn(&f.db, &["export", "csv"]));
    assert!(!csv.contains("fresh-c2"), "withdrawn indicator exported");
    assert!(csv.contains("other-c2.dga.asia"));
}
