//! Schema versions on real files: a store made by the previous release
//! (`fixtures/v1.db`, rebuilt by `fixtures/make-v1.sh`) migrates to the
//! current version with every row intact; newer, foreign and broken files are
//! refused with errors naming them; a failed migration changes nothing.

use cairn_kb::Store;
use cairn_kb::errors::KbError;
use cairn_model::Tlp;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

const CURRENT: i64 = 10;

fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.db");
    std::fs::copy(&src, &path).unwrap();
    (dir, path)
}

fn version(path: &Path) -> String {
    let c = Connection::open(path).unwrap();
    c.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn columns(c: &Connection, table: &str) -> Vec<String> {
    let mut q = c
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap();
    q.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every row of every version-1 table (only the columns version 1 had),
/// `meta`'s version row aside, keyed by table and rowid.
fn v1_rows(path: &Path, v1_columns: &[(String, Vec<String>)]) -> Vec<String> {
    let c = Connection::open(path).unwrap();
    let mut out = Vec::new();
    for (table, cols) in v1_columns {
        let key = if table == "meta" { "key" } else { "rowid" };
        let mut q = c
            .prepare(&format!(
                "SELECT {key}, {} FROM main.\"{table}\" ORDER BY {key}",
                cols.iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .unwrap();
        let n = q.column_count();
        let rows = q
            .query_map([], |r| {
                let mut s = format!("{table}:");
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    s.push_str(&format!("{v:?}|"));
                }
                Ok(s)
            })
            .unwrap();
        // The version moves and the id is new; every other row stays.
        out.extend(rows.map(Result::unwrap).filter(|s| {
            !s.starts_with("meta:Text(\"schema_version\")")
                && !s.starts_with("meta:Text(\"store_id\")")
        }));
    }
    out
}

fn v1_tables(path: &Path) -> Vec<(String, Vec<String>)> {
    let c = Connection::open(path).unwrap();
    let mut q = c
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'fts_%' \
             ORDER BY name",
        )
        .unwrap();
    let names: Vec<String> = q
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
        .into_iter()
        .map(|t| {
            let cols = columns(&c, &t);
            (t, cols)
        })
        .collect()
}

#[test]
fn previous_release_store_migrates_with_every_row_intact() {
    let (_dir, path) = fixture();
    assert_eq!(version(&path), "1");
    let tables = v1_tables(&path);
    let names: Vec<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    for t in [
        "objects",
        "history",
        "documents",
        "sightings",
        "tokens",
        "fts",
    ] {
        assert!(names.contains(&t), "fixture lacks {t}: {names:?}");
    }
    let before = v1_rows(&path, &tables);
    assert!(before.iter().any(|r| r.starts_with("history:")));
    assert!(before.iter().any(|r| r.starts_with("sightings:")));

    let store = Store::open(&path).unwrap();
    assert_eq!(version(&path), CURRENT.to_string());
    // Version 3: feed subscriptions, none yet.
    assert!(store.feeds().unwrap().is_empty());
    // Version 10: the inward observation index covers subject and times.
    let c = Connection::open(&path).unwrap();
    let cols: Vec<String> = c
        .prepare("SELECT name FROM pragma_index_info('observations_object') ORDER BY seqno")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        cols,
        [
            "object",
            "subject",
            "relation",
            "source_id",
            "first_seen",
            "last_seen",
            "withdrawn_at"
        ]
    );
    let id = store.store_id().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(&id[14..15], "4", "a version-4 UUID: {id}");
    let after = v1_rows(&path, &tables);
    if let Some((a, b)) = before.iter().zip(&after).find(|(a, b)| a != b) {
        panic!("row changed:\n before {a}\n after  {b}");
    }
    assert_eq!(after.len(), before.len());

    // Everything is still reachable through the store's own queries.
    let ember = store.actor("Ember Bear").unwrap().expect("list actor");
    assert_eq!(ember.name, "Ember Bear");
    assert!(store.actor("Crimson Walrus").unwrap().is_some());
    let hits = store.search("Lazarus", 5).unwrap();
    assert!(
        hits.iter()
            .any(|h| h.sources.iter().any(|s| s.contains("360"))),
        "{hits:?}"
    );
    let values: Vec<String> = store
        .hunt_indicators(false)
        .unwrap()
        .into_iter()
        .map(|h| h.observable.value)
        .collect();
    for v in [
        "ember-c2.ember-fixture.net",
        "cdn-ember.ember-fixture.net",
        "crimson-drop.crimson-fixture.net",
    ] {
        assert!(values.contains(&v.to_string()), "{v} not in {values:?}");
    }
    // Withdrawn ones stay out of an active hunt.
    assert!(!values.contains(&"update-ember.ember-fixture.net".to_string()));
    let secret = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1-token.txt"),
    )
    .unwrap();
    let grant = store.verify_token(secret.trim()).unwrap().expect("token");
    assert_eq!(grant.name, "analyst");
    let key = store
        .hunt_indicators(false)
        .unwrap()
        .into_iter()
        .find(|h| h.observable.value == "ember-c2.ember-fixture.net")
        .unwrap()
        .key;
    let seen = store.sightings_of(key).unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].location.contains("dns.log"), "{:?}", seen[0]);
    assert_eq!(store.warninglist_documents().unwrap().len(), 1);

    // Markings added by the migration: history from the statements, raised by
    // a RED marking in the kept JSON; documents (never marked in v1) RED.
    let c = Connection::open(&path).unwrap();
    let marks: Vec<(String, String, String)> = c
        .prepare(
            "SELECT s.name, h.change, h.tlp FROM history h JOIN sources s ON s.id = h.source_id \
             ORDER BY h.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(marks.len(), 7);
    for (source, change, tlp) in &marks {
        let want = match source.as_str() {
            "ember feed" => "TLP:GREEN",
            "red feed" => "TLP:RED",
            // Now published CLEAR; the kept version was marked RED.
            "heron vendor" => "TLP:RED",
            other => panic!("unexpected history source {other}"),
        };
        assert_eq!(tlp, want, "{source} {change}");
    }
    let doc_tlp: String = c
        .query_row("SELECT tlp FROM documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(doc_tlp, Tlp::Red.as_str());
    drop(c);
    drop(store);

    // A second open changes nothing, not a byte.
    let bytes = std::fs::read(&path).unwrap();
    let again = Store::open(&path).unwrap();
    assert_eq!(again.store_id().unwrap(), id);
    drop(again);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_migrated_store_reads_the_same_restricted() {
    let (_dir, path) = fixture();
    drop(Store::open(&path).unwrap());
    let mut reader = Store::open_existing(&path).unwrap();
    reader.restrict(Tlp::Amber).unwrap();
    assert!(reader.actor("Ember Bear").unwrap().is_some());
    assert!(reader.actor("Crimson Walrus").unwrap().is_none());
    assert!(reader.actor("Vermilion Heron").unwrap().is_some());
    let values: Vec<String> = reader
        .hunt_indicators(true)
        .unwrap()
        .into_iter()
        .map(|h| h.observable.value)
        .collect();
    assert!(values.iter().any(|v| v.ends_with("ember-fixture.net")));
    assert!(!values.iter().any(|v| v.ends_with("crimson-fixture.net")));
    // The warninglist's marking was not recorded by version 1: hidden.
    assert!(reader.warninglist_documents().unwrap().is_empty());
    let sources: Vec<String> = reader
        .stats()
        .unwrap()
        .sources
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(sources.contains(&"ember feed".to_string()), "{sources:?}");
    assert!(!sources.contains(&"red feed".to_string()), "{sources:?}");
    assert!(
        !sources.iter().any(|s| s.contains("warninglist")),
        "{sources:?}"
    );
}

#[test]
fn open_existing_refuses_a_store_not_yet_migrated() {
    let (_dir, path) = fixture();
    let err = Store::open_existing(&path).err().expect("refused");
    assert!(
        matches!(
            err,
            KbError::SchemaOutdated {
                found: 1,
                current: CURRENT,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        msg.contains("version 1") && msg.contains(&format!("version {CURRENT}")),
        "{msg}"
    );
    assert_eq!(version(&path), "1", "open_existing must not migrate");
    drop(Store::open(&path).unwrap());
    assert!(Store::open_existing(&path).is_ok());
}

#[test]
fn a_newer_store_is_refused_by_both_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    for err in [
        Store::open(&path).err().expect("open refused"),
        Store::open_existing(&path)
            .err()
            .expect("open_existing refused"),
    ] {
        assert!(
            matches!(
                err,
                KbError::Schema {
                    found: 99,
                    supported: CURRENT,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(
            msg.contains("99") && msg.contains(&CURRENT.to_string()),
            "{msg}"
        );
    }
    assert_eq!(version(&path), "99");
}

#[test]
fn files_that_are_not_stores_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "these are notes, not a database\n".repeat(64)).unwrap();
    let foreign = dir.path().join("other-program.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE things(x); INSERT INTO things VALUES (1);")
        .unwrap();
    let versionless = dir.path().join("versionless.db");
    drop(Store::open(&versionless).unwrap());
    Connection::open(&versionless)
        .unwrap()
        .execute("DELETE FROM meta WHERE key = 'schema_version'", [])
        .unwrap();
    let garbled = dir.path().join("garbled.db");
    drop(Store::open(&garbled).unwrap());
    Connection::open(&garbled)
        .unwrap()
        .execute(
            "UPDATE meta SET value = 'two' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    for (path, why) in [
        (&text, "file is not a database"),
        (&foreign, "not a Cairn store"),
        (&versionless, "no schema_version"),
        (&garbled, "`two` is not a version number"),
    ] {
        let before = std::fs::read(path).unwrap();
        for err in [
            Store::open(path).err().expect("open refused"),
            Store::open_existing(path)
                .err()
                .expect("open_existing refused"),
        ] {
            assert!(matches!(err, KbError::Unreadable { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(why), "{msg}");
        }
        assert_eq!(std::fs::read(path).unwrap(), before, "{}", path.display());
    }
}

#[test]
fn a_migration_failing_midway_leaves_the_file_as_it_was() {
    let (_dir, path) = fixture();
    // The step adds history.tlp, fills it, then adds documents.tlp: a column
    // already there makes that last part fail after the first has run.
    Connection::open(&path)
        .unwrap()
        .execute("ALTER TABLE documents ADD COLUMN tlp TEXT", [])
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("migration fails");
    assert!(
        matches!(
            err,
            KbError::Migration {
                from: 1,
                to: CURRENT,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let c = Connection::open(&path).unwrap();
    assert!(!columns(&c, "history").contains(&"tlp".to_string()));
    assert_eq!(version(&path), "1");
}

#[test]
fn every_new_store_gets_its_own_id_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb.db");
    let first = Store::open(&path).unwrap().store_id().unwrap();
    assert_eq!(Store::open(&path).unwrap().store_id().unwrap(), first);
    assert_eq!(
        Store::open_existing(&path).unwrap().store_id().unwrap(),
        first
    );
    // Deleted and re-created at the same path: generation restarts at 0,
    // the id does not repeat.
    std::fs::remove_file(&path).unwrap();
    let recreated = Store::open(&path).unwrap();
    assert_eq!(recreated.generation().unwrap(), 0);
    assert_ne!(recreated.store_id().unwrap(), first);
    assert_eq!(version(&path), CURRENT.to_string());
    let a = Store::open_in_memory().unwrap().store_id().unwrap();
    let b = Store::open_in_memory().unwrap().store_id().unwrap();
    assert_ne!(a, b);
}
