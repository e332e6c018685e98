//! TLP enforcement at the connection: a restricted store sees only
//! statements marked at or below a ceiling, whatever query runs on it.
//!
//! SQLite resolves an unqualified table name in the `temp` schema before
//! `main`, so TEMP views named like the tables shadow them for this
//! connection alone. Every query the store has, and every query added later,
//! is filtered without a `WHERE tlp …` clause that someone could forget.
//!
//! Every table of the schema is either shadowed here ([`SHADOWED`]) or
//! declared free of statement content ([`FREE_OF_CONTENT`]);
//! [`Store::restrict`] refuses a store holding any other, so a table added
//! later without a decision fails loudly instead of leaking.

use crate::Store;
use crate::errors::KbError;
use cairn_model::Tlp;

/// Tables that say nothing about any statement: the version and change
/// counter, API token hashes, and SQLite's index statistics (numbers only).
pub(crate) const FREE_OF_CONTENT: &[&str] = &["meta", "tokens", "sqlite_stat1"];

/// Tables a restricted connection reads through a filtering view, with the
/// view's condition; `{v}` is the list of visible TLP labels.
///
/// FTS5 reads its own shadow tables (`fts_data`, …) by their qualified
/// names (`"main"."fts_data"`), so empty views only stop direct reads of
/// the index; the `fts` view keeps the hidden `fts` column so `MATCH`,
/// `snippet()` and `bm25()` still reach the virtual table, and SQLite
/// flattens the view into the query. bm25() still weighs terms over the
/// whole index, so a restricted reader's scores (never the rows or their
/// text) are shaped by hidden rows too.
pub(crate) const SHADOWED: &[(&str, &str)] = &[
    ("objects", "SELECT * FROM main.objects WHERE tlp IN ({v})"),
    (
        "relations",
        "SELECT * FROM main.relations WHERE tlp IN ({v})",
    ),
    (
        "names",
        "SELECT * FROM main.names n WHERE EXISTS (SELECT 1 FROM main.objects o \
         WHERE o.id = n.object_id AND o.tlp IN ({v}))",
    ),
    (
        "observables",
        "SELECT * FROM main.observables b WHERE EXISTS (SELECT 1 FROM main.objects o \
         WHERE o.id = b.object_id AND o.tlp IN ({v}))",
    ),
    (
        "sightings",
        "SELECT * FROM main.sightings g WHERE EXISTS (SELECT 1 FROM main.objects o \
         WHERE o.id = g.object_id AND o.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.list_values lv JOIN main.list_sources ls \
           ON ls.source_id = lv.source_id WHERE lv.id = g.object_id - 2147483648 AND ls.tlp IN ({v}))",
    ),
    // A list's values have the marking the list was ingested under.
    (
        "list_sources",
        "SELECT * FROM main.list_sources WHERE tlp IN ({v})",
    ),
    (
        "list_values",
        "SELECT * FROM main.list_values lv WHERE EXISTS (SELECT 1 FROM main.list_sources ls \
         WHERE ls.source_id = lv.source_id AND ls.tlp IN ({v}))",
    ),
    (
        "list_history",
        "SELECT * FROM main.list_history h WHERE EXISTS (SELECT 1 FROM main.list_values lv \
         JOIN main.list_sources ls ON ls.source_id = lv.source_id \
         WHERE lv.id = h.value_id AND ls.tlp IN ({v}))",
    ),
    // An address → AS table's ranges have the marking it was ingested under.
    (
        "asn_sources",
        "SELECT * FROM main.asn_sources WHERE tlp IN ({v})",
    ),
    (
        "asn_ranges",
        "SELECT * FROM main.asn_ranges r WHERE EXISTS (SELECT 1 FROM main.asn_sources a \
         WHERE a.source_id = r.source_id AND a.tlp IN ({v}))",
    ),
    // Observations have the marking their source was ingested under; a
    // value is visible while a visible observation names it.
    (
        "obs_sources",
        "SELECT * FROM main.obs_sources WHERE tlp IN ({v})",
    ),
    (
        "observations",
        "SELECT * FROM main.observations o WHERE EXISTS (SELECT 1 FROM main.obs_sources b \
         WHERE b.source_id = o.source_id AND b.tlp IN ({v}))",
    ),
    (
        "obs_values",
        "SELECT * FROM main.obs_values x WHERE EXISTS (SELECT 1 FROM main.observations o \
           JOIN main.obs_sources b ON b.source_id = o.source_id \
           WHERE o.subject = x.id AND b.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.observations o JOIN main.obs_sources b ON b.source_id = o.source_id \
           WHERE o.object = x.id AND b.tlp IN ({v}))",
    ),
    // Connection summaries, like their edges, by their source's marking.
    (
        "obs_conns",
        "SELECT * FROM main.obs_conns c WHERE EXISTS (SELECT 1 FROM main.obs_sources b \
         WHERE b.source_id = c.source_id AND b.tlp IN ({v}))",
    ),
    // Registration records have the marking their source was ingested
    // under; name servers through their record.
    (
        "reg_sources",
        "SELECT * FROM main.reg_sources WHERE tlp IN ({v})",
    ),
    (
        "registrations",
        "SELECT * FROM main.registrations r WHERE EXISTS (SELECT 1 FROM main.reg_sources g \
         WHERE g.source_id = r.source_id AND g.tlp IN ({v}))",
    ),
    (
        "reg_name_servers",
        "SELECT * FROM main.reg_name_servers n WHERE EXISTS (SELECT 1 FROM main.registrations r \
         JOIN main.reg_sources g ON g.source_id = r.source_id \
         WHERE r.id = n.registration_id AND g.tlp IN ({v}))",
    ),
    ("history", "SELECT * FROM main.history WHERE tlp IN ({v})"),
    (
        "documents",
        "SELECT * FROM main.documents WHERE tlp IN ({v})",
    ),
    (
        "sources",
        "SELECT * FROM main.sources s WHERE \
         EXISTS (SELECT 1 FROM main.objects o WHERE o.source_id = s.id AND o.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.relations r WHERE r.source_id = s.id AND r.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.documents d WHERE d.source_id = s.id AND d.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.list_sources l WHERE l.source_id = s.id AND l.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.asn_sources a WHERE a.source_id = s.id AND a.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.obs_sources b WHERE b.source_id = s.id AND b.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.reg_sources g WHERE g.source_id = s.id AND g.tlp IN ({v})) \
         OR EXISTS (SELECT 1 FROM main.history h WHERE h.source_id = s.id AND h.tlp IN ({v}))",
    ),
    (
        "fts",
        "SELECT rowid AS rowid, name, aliases, description, fts AS fts FROM main.fts f \
         WHERE EXISTS (SELECT 1 FROM main.objects o WHERE o.id = f.rowid AND o.tlp IN ({v}))",
    ),
    ("fts_data", "SELECT * FROM main.fts_data WHERE 0"),
    ("fts_idx", "SELECT * FROM main.fts_idx WHERE 0"),
    ("fts_content", "SELECT * FROM main.fts_content WHERE 0"),
    ("fts_docsize", "SELECT * FROM main.fts_docsize WHERE 0"),
    ("fts_config", "SELECT * FROM main.fts_config WHERE 0"),
    // Feed subscriptions hold no statement text, but their URLs, errors and
    // per-event state (MISP event uuids, statement ids) describe where intel
    // of any marking comes from; only unrestricted connections (analysts
    // and admins) see them at all.
    ("feeds", "SELECT * FROM main.feeds WHERE 0"),
];

impl Store {
    /// Hides from this connection every statement marked above `max` (with
    /// `Tlp::Amber`, TLP:AMBER+STRICT and TLP:RED disappear): objects,
    /// relationships, the names, observables, sightings and search entries
    /// hanging off hidden objects, past versions in `history`, whole
    /// documents, and sources with nothing visible left. Rows whose marking
    /// is not one of the five TLP labels are hidden too.
    /// The connection becomes read-only. It cannot be undone: open a new
    /// store for a wider view.
    pub fn restrict(&mut self, max: Tlp) -> Result<(), KbError> {
        let undecided = self.undecided_tables()?;
        if !undecided.is_empty() {
            return Err(KbError::Invalid(format!(
                "cannot restrict this store: table(s) {} are neither filtered by TLP \
                 nor declared free of statement content (clearance.rs)",
                undecided.join(", ")
            )));
        }
        let visible = [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ]
        .into_iter()
        .filter(|t| *t <= max)
        .map(|t| format!("'{}'", t.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
        let mut sql = String::new();
        for (table, select) in SHADOWED {
            sql.push_str(&format!(
                "CREATE TEMP VIEW {table} AS {};\n",
                select.replace("{v}", &visible)
            ));
        }
        sql.push_str("PRAGMA query_only = 1;");
        self.conn.execute_batch(&sql)?;
        self.ceiling = Some(max);
        Ok(())
    }

    /// The ceiling set by [`Store::restrict`], if any.
    pub fn ceiling(&self) -> Option<Tlp> {
        self.ceiling
    }

    /// Tables of the store that are neither shadowed nor declared free.
    fn undecided_tables(&self) -> Result<Vec<String>, KbError> {
        let mut q = self.conn.prepare(
            "SELECT name FROM main.sqlite_schema WHERE type IN ('table', 'view') ORDER BY name",
        )?;
        let names = q.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for name in names {
            let name = name?;
            if !FREE_OF_CONTENT.contains(&name.as_str())
                && !SHADOWED.iter().any(|(t, _)| *t == name)
            {
                out.push(name);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{FREE_OF_CONTENT, SHADOWED};
    use crate::{SightingInput, Store};
    use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation, Tlp};
    use rusqlite::types::Value;

    fn obj(id: &str, kind: &str, name: &str, tlp: Tlp) -> Object {
        Object {
            id: id.into(),
            kind: kind.into(),
            name: Some(name.into()),
            prov: Provenance {
                source: "s".into(),
                tlp,
                ..Default::default()
            },
            ..Object::default()
        }
    }

    #[test]
    fn restricted_connection_hides_red_and_amber_strict_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        let mut red = obj(
            "intrusion-set--red",
            "intrusion-set",
            "Crimson Actor",
            Tlp::Red,
        );
        red.aliases = vec!["Scarlet".into()];
        let mut ind = obj("indicator--s", "indicator", "strict ind", Tlp::AmberStrict);
        ind.observables = vec![Observable::new(IndicatorKind::Domain, "secret.example")];
        let open = obj(
            "intrusion-set--g",
            "intrusion-set",
            "Green Actor",
            Tlp::Green,
        );
        let b = Bundle {
            source: "s".into(),
            format: "stix".into(),
            objects: vec![red, ind, open],
            ..Bundle::default()
        };
        store.ingest(&b, None, None).unwrap();
        assert!(store.actor("Scarlet").unwrap().is_some());

        let mut reader = Store::open(&path).unwrap();
        reader.restrict(Tlp::Amber).unwrap();
        assert_eq!(reader.ceiling(), Some(Tlp::Amber));
        assert!(reader.actor("Crimson Actor").unwrap().is_none());
        assert!(reader.actor("Scarlet").unwrap().is_none());
        assert!(reader.suggest("Crimson", 5).unwrap().is_empty());
        assert!(reader.search("Crimson", 5).unwrap().is_empty());
        assert!(reader.actor("Green Actor").unwrap().is_some());
        // Search still reaches the FTS5 table through its view.
        let hits = reader.search("green", 5).unwrap();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].name, "Green Actor");
        assert_eq!(
            reader.suggest("Green Actr", 5).unwrap(),
            vec!["Green Actor"]
        );
        assert!(reader.hunt_indicators(true).unwrap().is_empty());
        let kinds: Vec<String> = reader
            .stats()
            .unwrap()
            .objects_by_kind
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(kinds, vec!["intrusion-set".to_string()]);
        // Read-only: nothing can be written through a restricted view.
        assert!(reader.ingest(&b, None, None).is_err());
    }

    /// Every table and view of the schema named in `main`.
    fn schema_tables(store: &Store) -> Vec<String> {
        let mut q = store
            .conn
            .prepare(
                "SELECT name FROM main.sqlite_schema WHERE type IN ('table', 'view') ORDER BY name",
            )
            .unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn temp_views(store: &Store) -> Vec<String> {
        let mut q = store
            .conn
            .prepare("SELECT name FROM temp.sqlite_schema WHERE type = 'view'")
            .unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn check_every_table_decided(path: &std::path::Path) {
        let mut reader = Store::open(path).unwrap();
        let tables = schema_tables(&reader);
        // FTS5 and its shadow tables are part of the schema being checked.
        for t in [
            "fts",
            "fts_data",
            "fts_content",
            "fts_idx",
            "fts_docsize",
            "fts_config",
        ] {
            assert!(
                tables.contains(&t.to_string()),
                "{t} missing from {tables:?}"
            );
        }
        reader.restrict(Tlp::Amber).unwrap();
        let views = temp_views(&reader);
        for t in &tables {
            assert!(
                views.contains(t) || FREE_OF_CONTENT.contains(&t.as_str()),
                "table `{t}` is neither shadowed on a restricted connection nor declared \
                 free of statement content in clearance.rs"
            );
        }
        // No stale entries: every shadowed name is a table of the schema.
        for (t, _) in SHADOWED {
            assert!(
                tables.contains(&t.to_string()),
                "SHADOWED names `{t}`, not in the schema"
            );
        }
    }

    #[test]
    fn every_table_is_shadowed_or_declared_free() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.db");
        drop(Store::open(&fresh).unwrap());
        check_every_table_decided(&fresh);
        let migrated = dir.path().join("v1.db");
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.db"),
            &migrated,
        )
        .unwrap();
        check_every_table_decided(&migrated);
    }

    #[test]
    fn restrict_refuses_a_table_nobody_decided_about() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path).unwrap();
        store
            .conn
            .execute_batch("CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('x');")
            .unwrap();
        drop(store);
        let mut reader = Store::open(&path).unwrap();
        let err = reader.restrict(Tlp::Amber).expect_err("refused");
        assert!(err.to_string().contains("notes"), "{err}");
        assert_eq!(reader.ceiling(), None);
    }

    /// Markers that only the TLP:RED statements, document and source carry.
    const MARKERS: &[&str] = &[
        "vermilionmarker",
        "zqsecretdesc",
        "zqsecretraw",
        "zqsecretdoc",
        "zqsecretsource",
        "zqsecretsighting",
        "zqsecretrel",
        "zqsecretlist",
    ];

    /// Which tables give back any marker to `SELECT * FROM <table>` (every
    /// column, as text or bytes, compared without case: FTS5 stores terms
    /// lower-cased).
    fn tables_leaking(store: &Store) -> Vec<String> {
        let mut leaking = Vec::new();
        for t in schema_tables(store) {
            let mut q = store
                .conn
                .prepare(&format!("SELECT * FROM \"{t}\""))
                .unwrap();
            let n = q.column_count();
            let mut rows = q.query([]).unwrap();
            let mut found = false;
            while let Some(r) = rows.next().unwrap() {
                for i in 0..n {
                    let bytes = match r.get::<_, Value>(i).unwrap() {
                        Value::Text(s) => s.into_bytes(),
                        Value::Blob(b) => b,
                        Value::Integer(v) => v.to_string().into_bytes(),
                        Value::Real(v) => v.to_string().into_bytes(),
                        Value::Null => Vec::new(),
                    };
                    let lower = bytes.to_ascii_lowercase();
                    if MARKERS
                        .iter()
                        .any(|m| lower.windows(m.len()).any(|w| w == m.as_bytes()))
                    {
                        found = true;
                    }
                }
            }
            if found {
                leaking.push(t);
            }
        }
        leaking
    }

    #[test]
    fn no_table_gives_back_red_content_to_a_restricted_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        let red_actor = |desc: &str| {
            let mut o = obj(
                "intrusion-set--red",
                "intrusion-set",
                "Vermilionmarker Group",
                Tlp::Red,
            );
            o.aliases = vec!["ZqSecretAlias".into()];
            o.description = Some(desc.into());
            o.raw = format!("{{\"zqsecretraw\":\"{desc}\"}}");
            o.prov.source = "zqsecretsource".into();
            o
        };
        let mut ind = obj(
            "indicator--red",
            "indicator",
            "zqsecretsighting ind",
            Tlp::Red,
        );
        ind.observables = vec![Observable::new(
            IndicatorKind::Domain,
            "zqsecretsighting.example",
        )];
        ind.prov.source = "zqsecretsource".into();
        let rel = Relation {
            id: "relationship--red".into(),
            rel_type: "indicates".into(),
            source_ref: "indicator--red".into(),
            target_ref: "intrusion-set--red".into(),
            description: Some("zqsecretrel".into()),
            prov: Provenance {
                source: "zqsecretsource".into(),
                tlp: Tlp::Red,
                ..Default::default()
            },
            raw: "{\"zqsecretrel\":1}".into(),
            ..Relation::default()
        };
        let secret = |desc: &str| Bundle {
            source: "zqsecretsource".into(),
            format: "stix".into(),
            objects: vec![red_actor(desc), ind.clone()],
            relations: vec![rel.clone()],
            documents: vec![("zqsecretdoc".into(), "{\"zqsecretdoc\": []}".into())],
            documents_tlp: Tlp::Red,
            ..Bundle::default()
        };
        let open = Bundle {
            source: "open".into(),
            format: "stix".into(),
            objects: vec![obj(
                "intrusion-set--g",
                "intrusion-set",
                "Green Actor",
                Tlp::Green,
            )],
            ..Bundle::default()
        };
        store.ingest(&open, None, None).unwrap();
        store
            .ingest(&secret("zqsecretdesc one"), None, None)
            .unwrap();
        // A second version: the first goes to `history`.
        store
            .ingest(&secret("zqsecretdesc two"), None, None)
            .unwrap();
        let key = store
            .hunt_indicators(false)
            .unwrap()
            .into_iter()
            .find(|h| h.observable.value.starts_with("zqsecretsighting"))
            .unwrap()
            .key;
        store
            .record_sightings(&[SightingInput {
                key,
                count: 1,
                first_seen: "2024-01-01T00:00:00Z".into(),
                last_seen: "2024-01-01T00:00:00Z".into(),
                where_: "zqsecretsighting.log".into(),
            }])
            .unwrap();

        // A RED list in compact form: its values, its shared provenance, a
        // value withdrawn and re-listed (history) and a sighting by list key.
        let list = crate::ListHead {
            source: "zqsecretlist feed".into(),
            format: "list".into(),
            prov: Provenance {
                source: "zqsecretlist feed".into(),
                tlp: Tlp::Red,
                reference: Some("https://zqsecretlist.example/ref".into()),
                ..Default::default()
            },
            ..crate::ListHead::default()
        };
        let value = |v: &str| {
            Ok::<_, crate::errors::KbError>(crate::ListValue {
                kind: IndicatorKind::Domain,
                value: v.into(),
                written: Some(format!("{v} (zqsecretlist line)")),
            })
        };
        for vs in [
            &["zqsecretlist-a.example", "zqsecretlist-b.example"][..],
            &["zqsecretlist-a.example"],
            &["zqsecretlist-a.example", "zqsecretlist-b.example"],
        ] {
            store
                .ingest_list(&list, vs.iter().map(|v| value(v)), None, None)
                .unwrap();
        }
        let list_key = store
            .hunt_indicators(false)
            .unwrap()
            .into_iter()
            .find(|h| h.observable.value == "zqsecretlist-b.example")
            .unwrap()
            .key;
        assert!(list_key >= crate::LIST_KEY_BASE);
        assert_eq!(
            crate::LIST_KEY_BASE,
            2_147_483_648,
            "the sightings view spells it out"
        );
        store
            .record_sightings(&[SightingInput {
                key: list_key,
                count: 1,
                first_seen: "2024-01-01T00:00:00Z".into(),
                last_seen: "2024-01-01T00:00:00Z".into(),
                where_: "zqsecretlist.log".into(),
            }])
            .unwrap();
        let history: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM list_history", [], |r| r.get(0))
            .unwrap();
        assert_eq!(history, 1);

        // The unrestricted connection finds the markers everywhere they are
        // stored: the check below can see a leak.
        let full = tables_leaking(&store);
        for t in [
            "objects",
            "relations",
            "names",
            "observables",
            "sightings",
            "history",
            "documents",
            "sources",
            "fts",
            "fts_content",
            "fts_data",
            "list_values",
            "list_sources",
        ] {
            assert!(full.contains(&t.to_string()), "{t} not in {full:?}");
        }

        for max in [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
            let mut reader = Store::open(&path).unwrap();
            reader.restrict(max).unwrap();
            assert_eq!(tables_leaking(&reader), Vec::<String>::new(), "at {max}");
            // list_history holds only ids and stamps: check it by row.
            let rows: i64 = reader
                .conn
                .query_row("SELECT COUNT(*) FROM list_history", [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, 0, "at {max}");
            assert!(reader.sightings_of(list_key).unwrap().is_empty());
        }
        // TLP:RED itself sees them: the views filter, they do not blank.
        let mut red = Store::open(&path).unwrap();
        red.restrict(Tlp::Red).unwrap();
        assert!(tables_leaking(&red).contains(&"history".to_string()));
        assert_eq!(red.search("vermilionmarker", 5).unwrap().len(), 1);
    }

    #[test]
    fn history_and_documents_keep_their_own_marking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        let version = |tlp: Tlp, desc: &str| {
            let mut o = obj("intrusion-set--x", "intrusion-set", "Shifting Actor", tlp);
            o.description = Some(desc.into());
            Bundle {
                source: "s".into(),
                format: "stix".into(),
                objects: vec![o],
                documents: vec![("list".into(), "{}".into())],
                documents_tlp: tlp,
                ..Bundle::default()
            }
        };
        // RED, then CLEAR, then GREEN: each kept version has its own marking,
        // so the RED one stays hidden and the CLEAR one does not.
        for (tlp, desc) in [
            (Tlp::Red, "first"),
            (Tlp::Clear, "second"),
            (Tlp::Green, "third"),
        ] {
            store.ingest(&version(tlp, desc), None, None).unwrap();
        }
        let history: Vec<String> = store
            .conn
            .prepare("SELECT tlp FROM history ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(history, vec!["TLP:RED", "TLP:CLEAR"]);
        let doc: String = store
            .conn
            .query_row("SELECT tlp FROM documents", [], |r| r.get(0))
            .unwrap();
        assert_eq!(doc, "TLP:GREEN");
        let mut reader = Store::open(&path).unwrap();
        reader.restrict(Tlp::Amber).unwrap();
        let count = |t: &str| -> i64 {
            reader
                .conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count("history"), 1);
        assert_eq!(count("documents"), 1);
        assert_eq!(count("objects"), 1);
        assert_eq!(reader.warninglist_documents().unwrap().len(), 1);
    }
}
