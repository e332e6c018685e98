//! WHOIS and RDAP records through `cairn ingest` (detected, no `--format`)
//! on the real binary: one source version per command, differential
//! re-ingest, and a bad file that leaves the store unchanged.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cairn(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.env("CAIRN_DB", db).arg("--quiet");
    c
}

fn ingest(db: &Path, files: &[PathBuf]) -> Output {
    cairn(db)
        .args(["ingest", "--source", "whois-test", "--json"])
        .args(files)
        .output()
        .unwrap()
}

fn rows(out: &Output) -> Vec<Value> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn whois_and_rdap_files_are_one_differential_source() {
    let Some(ds) = cairn_testkit::dataset("whois-rdap") else {
        println!("SKIPPED: no whois-rdap dataset");
        return;
    };
    let whois = ds.join("python-whois/samples/whois");
    let rdap = ds.join("rdap-conformance-tool/validators/domain/valid.json");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kb.db");
    let all = vec![
        whois.join("google.com"),
        whois.join("titech.ac.jp"),
        whois.join("google.com.br"),
        rdap.clone(),
    ];
    let r = rows(&ingest(&db, &all));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["added"], 4, "{r:?}");
    assert_eq!(r[0]["format"], "whois+rdap");

    let store = cairn_kb::Store::open(&db).unwrap();
    let g = store.registration("google.com").unwrap();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].registrar.as_deref(), Some("MARKMONITOR INC."));
    assert_eq!(g[0].created.as_deref(), Some("1997-09-15T00:00:00Z"));
    assert!(g[0].name_servers.contains(&"ns1.google.com".to_string()));
    let jp = store.registration("titech.ac.jp").unwrap();
    assert_eq!(jp[0].name_servers[0], "ns.fujisawa.wide.ad.jp");
    assert_eq!(jp[0].updated.as_deref(), Some("2025-05-29T01:45:59Z"));
    assert_eq!(
        store
            .registrations_by_name_server("ns1.google.com", 10)
            .unwrap()
            .len(),
        2,
        "google.com and google.com.br"
    );
    drop(store);

    // The same files again: unchanged; one fewer: that domain withdrawn.
    assert_eq!(rows(&ingest(&db, &all))[0]["status"], "unchanged");
    let r = rows(&ingest(&db, &all[..3]));
    assert_eq!(
        (r[0]["added"].clone(), r[0]["withdrawn"].clone()),
        (0.into(), 1.into())
    );

    // A truncated RDAP file among good ones: rejected whole, file named.
    let bad = dir.path().join("truncated.json");
    std::fs::write(
        &bad,
        r#"{"objectClassName": "domain", "ldhName": "new.example", "events": ["#,
    )
    .unwrap();
    let out = ingest(&db, &[whois.join("reddit.com"), bad]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("truncated.json"), "{err}");
    let store = cairn_kb::Store::open(&db).unwrap();
    assert!(store.registration("reddit.com").unwrap().is_empty());
    assert_eq!(store.registration("google.com").unwrap().len(), 1);
}
