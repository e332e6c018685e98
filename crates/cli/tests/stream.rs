//! Streamed ingest through the real binary: STIX bundles and CSV larger
//! than the streaming threshold are read in batches into one transaction,
//! and CSV whose rows say only a value takes the compact list path.

use std::path::{Path, PathBuf};
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
        "meta",
        "list_sources",
        "list_values",
        "list_history",
    ] {
        out.extend(rows(&c, &format!("SELECT * FROM {t} ORDER BY 1"), &[]));
    }
    out
}

/// A query's rows as text, leaving out the columns named in `skip` (row
/// ids and write stamps, which two stores never share).
fn rows(c: &rusqlite::Connection, sql: &str, skip: &[&str]) -> Vec<String> {
    let mut q = c.prepare(sql).unwrap();
    let names: Vec<String> = q.column_names().map(|s| s.to_string()).collect();
    q.query_map([], |r| {
        let mut s = String::new();
        for (i, n) in names.iter().enumerate() {
            if !skip.contains(&n.as_str()) {
                let v: rusqlite::types::Value = r.get(i)?;
                s.push_str(&format!("{v:?}|"));
            }
        }
        Ok(s)
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn rows_of(c: &rusqlite::Connection, sql: &str) -> Vec<String> {
    rows(c, sql, &[])
}

/// What a store says for one source, without row ids and stamps.
fn content(db: &Path, source: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let skip = ["id", "source_id", "object_id", "added_at", "updated_at"];
    let src = format!("(SELECT id FROM sources WHERE name = '{source}')");
    let mut out = Vec::new();
    for sql in [
        format!("SELECT * FROM objects WHERE source_id = {src} ORDER BY stix_id"),
        format!("SELECT * FROM relations WHERE source_id = {src} ORDER BY stix_id"),
        format!(
            "SELECT o.stix_id, n.* FROM names n JOIN objects o ON o.id = n.object_id \
             WHERE o.source_id = {src} ORDER BY o.stix_id, n.norm, n.role"
        ),
        format!(
            "SELECT o.stix_id, v.* FROM observables v JOIN objects o ON o.id = v.object_id \
             WHERE o.source_id = {src} ORDER BY o.stix_id, v.kind, v.value"
        ),
    ] {
        out.extend(rows(&c, &sql, &skip));
    }
    out
}

const ENTERPRISE: &str = "MITRE ATT&CK (enterprise-attack)";

/// The published ATT&CK file (45 MB) is streamed; the store it gives is the
/// one the whole-file reader gives (the starter pack's copy of the same
/// release), and loading it again with a byte changed outside the objects is
/// a differential no-op.
#[test]
fn streamed_attack_gives_the_store_the_whole_file_reader_gives() {
    let Some(attack) = cairn_testkit::dataset("attack/enterprise-attack-18.1.json") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole.db");
    let out = cairn(&whole, &["ingest", "--starter"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let streamed = tmp.path().join("streamed.db");
    let r = json(&cairn(
        &streamed,
        &["ingest", "--json", attack.to_str().unwrap()],
    ));
    assert_eq!(
        (r["source"].as_str(), r["status"].as_str()),
        (Some(ENTERPRISE), Some("new"))
    );
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(&attack).unwrap()).unwrap();
    let n = raw["objects"].as_array().unwrap().len() as u64;
    assert_eq!(
        r["objects"].as_u64().unwrap() + r["relationships"].as_u64().unwrap(),
        n
    );
    assert_eq!(r["added"].as_u64(), Some(n), "{r}");
    let a = content(&whole, ENTERPRISE);
    let b = content(&streamed, ENTERPRISE);
    assert!(a.len() as u64 > n, "{}", a.len());
    assert!(a == b, "the streamed store differs from the whole-file one");

    // Same objects, different bytes (the fingerprint misses): every
    // statement is compared and none is written.
    let copy = tmp.path().join("enterprise-copy.json");
    let mut bytes = std::fs::read(&attack).unwrap();
    bytes.extend_from_slice(b"\n\n");
    std::fs::write(&copy, &bytes).unwrap();
    let r = json(&cairn(
        &streamed,
        &["ingest", "--json", copy.to_str().unwrap()],
    ));
    assert_eq!(r["status"], "unchanged", "{r}");
    assert_eq!(
        (
            r["added"].as_u64(),
            r["changed"].as_u64(),
            r["withdrawn"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert!(
        content(&streamed, ENTERPRISE) == b,
        "an unchanged re-ingest wrote"
    );
}

/// A generated bundle above the streaming threshold: `n` indicators, the
/// `bad`-th (1-based) with an id that does not match its type.
fn bundle(path: &Path, n: usize, bad: Option<usize>, skip: Option<usize>, edit: Option<usize>) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "{{\"type\": \"bundle\", \"id\": \"bundle--1\", \"objects\": ["
    )
    .unwrap();
    let mut first = true;
    for i in 1..=n {
        if Some(i) == skip {
            continue;
        }
        let kind = if Some(i) == bad {
            "malware"
        } else {
            "indicator"
        };
        let desc = if Some(i) == edit {
            "edited"
        } else {
            "generated for the streaming test, long enough to make the file large"
        };
        if !first {
            writeln!(f, ",").unwrap();
        }
        first = false;
        write!(
            f,
            "  {{\"type\": \"{kind}\", \"spec_version\": \"2.1\",\n   \"id\": \"indicator--00000000-0000-4000-8000-{i:012}\",\n   \"created\": \"2024-01-01T00:00:00.000Z\", \"modified\": \"2024-01-01T00:00:00.000Z\",\n   \"name\": \"host{i}.stream.example\", \"description\": \"{desc}\",\n   \"pattern\": \"[domain-name:value = 'host{i}.stream.example']\", \"pattern_type\": \"stix\",\n   \"valid_from\": \"2024-01-01T00:00:00Z\", \"created_by_ref\": \"identity--00000000-0000-4000-8000-000000000001\"}}"
        )
        .unwrap();
    }
    writeln!(
        f,
        ",\n  {{\"type\": \"identity\", \"spec_version\": \"2.1\", \"id\": \"identity--00000000-0000-4000-8000-000000000001\", \"name\": \"Stream Test Vendor\", \"identity_class\": \"organization\"}}\n]}}"
    )
    .unwrap();
}

const N: usize = 16_000;

fn big(
    tmp: &Path,
    name: &str,
    bad: Option<usize>,
    skip: Option<usize>,
    edit: Option<usize>,
) -> PathBuf {
    let p = tmp.join(name);
    bundle(&p, N, bad, skip, edit);
    assert!(
        std::fs::metadata(&p).unwrap().len() > 4 << 20,
        "below the streaming threshold"
    );
    p
}

/// Batches are one transaction: a bad object far beyond the first batch
/// stops the ingest, names the file, the object and its line, and leaves
/// the store as it was. A good version is streamed differentially.
#[test]
fn a_streamed_bundle_is_one_transaction_and_differential() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kb.db");
    let good = big(tmp.path(), "good.json", None, None, None);
    let r = json(&cairn(&db, &["ingest", "--json", good.to_str().unwrap()]));
    assert_eq!(
        (
            r["source"].as_str(),
            r["indicators"].as_u64(),
            r["added"].as_u64()
        ),
        (
            Some("Stream Test Vendor"),
            Some(N as u64),
            Some(N as u64 + 1)
        ),
        "{r}"
    );
    let before = dump(&db);

    let bad = big(tmp.path(), "bad.json", Some(12_345), None, None);
    let out = cairn(&db, &["ingest", "--json", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json")
            && err.contains("object #12345 (indicator--00000000-0000-4000-8000-000000012345)")
            && err.contains("ending at line"),
        "{err}"
    );
    assert!(dump(&db) == before, "a bad bundle changed the store");

    // One object gone, one edited: withdrawn 1, changed 1, nothing else.
    let next = big(tmp.path(), "next.json", None, Some(7), Some(15_000));
    let r = json(&cairn(&db, &["ingest", "--json", next.to_str().unwrap()]));
    assert_eq!(
        (
            r["status"].as_str(),
            r["added"].as_u64(),
            r["changed"].as_u64(),
            r["withdrawn"].as_u64()
        ),
        (Some("updated"), Some(0), Some(1), Some(1)),
        "{r}"
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let kept: Vec<String> = rows(
        &c,
        "SELECT change, stix_id FROM history ORDER BY stix_id",
        &[],
    );
    assert_eq!(
        kept,
        [
            "Text(\"withdrawn\")|Text(\"indicator--00000000-0000-4000-8000-000000000007\")|",
            "Text(\"changed\")|Text(\"indicator--00000000-0000-4000-8000-000000015000\")|",
        ]
    );
}

/// A CSV whose columns say only the value (and kind) is a list: stored in
/// compact form, differentially. A CSV with an actor column still links
/// each row's indicator to its actor, also when streamed.
#[test]
fn csv_without_per_row_columns_is_a_compact_list() {
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
                "--source",
                "csv feed",
                "--actor",
                "Ember Bear",
                p.to_str().unwrap(),
            ],
        ))
    };
    let a = write(
        "a.csv",
        "value,type\nc2.ember.example,domain\n198.51.100[.]23,ipv4\ncdn.ember.example,\n",
    );
    let r = ingest(&a);
    assert_eq!(
        (
            r["format"].as_str(),
            r["status"].as_str(),
            r["added"].as_u64()
        ),
        (Some("csv"), Some("new"), Some(4)),
        "{r}"
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let compact: i64 = c
        .query_row("SELECT COUNT(*) FROM list_values", [], |r| r.get(0))
        .unwrap();
    assert_eq!(compact, 3);
    let b = write(
        "b.csv",
        "value,type\nc2.ember.example,domain\n198.51.100[.]23,ipv4\nnew.ember.example,\n",
    );
    let r = ingest(&b);
    assert_eq!(
        (
            r["added"].as_u64(),
            r["withdrawn"].as_u64(),
            r["changed"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{r}"
    );
    let p = json(&cairn(&db, &["actor", "Ember Bear", "--json"]));
    assert_eq!(p["indicator_counts"]["domain"], 2, "{p}");

    // Per-row actors, above the streaming threshold.
    let mut text = String::from("indicator,actor\n");
    let rows = 120_000;
    for i in 0..rows {
        let actor = if i % 2 == 0 {
            "Alpha Group"
        } else {
            "Beta Group"
        };
        text.push_str(&format!("h{i}.per-row-actor.example,{actor}\n"));
    }
    assert!(text.len() > 4 << 20);
    let per_row = write("actors.csv", &text);
    let r = json(&cairn(
        &db,
        &[
            "ingest",
            "--json",
            "--source",
            "actor csv",
            per_row.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        (
            r["format"].as_str(),
            r["indicators"].as_u64(),
            r["relationships"].as_u64()
        ),
        (Some("csv"), Some(rows), Some(rows)),
        "{r}"
    );
    // Each row's indicator indicates its own row's actor (a profile of
    // 60,000 indicators is slow to build in a debug test: counted here).
    let c = rusqlite::Connection::open(&db).unwrap();
    let linked = rows_of(
        &c,
        "SELECT a.name, COUNT(*) FROM relations r \
         JOIN objects i ON i.stix_id = r.src_ref AND i.kind = 'indicator' \
         JOIN objects a ON a.stix_id = r.tgt_ref AND a.kind = 'intrusion-set' \
         WHERE r.rel_type = 'indicates' AND r.source_id = (SELECT id FROM sources WHERE name = 'actor csv') \
         GROUP BY a.name ORDER BY a.name",
    );
    assert_eq!(
        linked,
        [
            "Text(\"Alpha Group\")|Integer(60000)|",
            "Text(\"Beta Group\")|Integer(60000)|"
        ]
    );
    let again = json(&cairn(
        &db,
        &[
            "ingest",
            "--json",
            "--source",
            "actor csv",
            per_row.to_str().unwrap(),
        ],
    ));
    assert_eq!(again["status"], "unchanged");
}
