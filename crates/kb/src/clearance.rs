//! TLP enforcement at the connection: a restricted store sees only
//! statements marked at or below a ceiling, whatever query runs on it.
//!
//! SQLite resolves an unqualified table name in the `temp` schema before
//! `main`, so TEMP views named like the tables shadow them for this
//! connection alone. Every query the store has, and every query added later,
//! is filtered without a `WHERE tlp …` clause that someone could forget.

use crate::Store;
use crate::errors::KbError;
use cairn_model::Tlp;

impl Store {
    /// Hides from this connection every object and relationship marked above
    /// `max` (with `Tlp::Amber`, TLP:AMBER+STRICT and TLP:RED disappear),
    /// with the names, observables and sightings hanging off hidden objects.
    /// The connection becomes read-only. It cannot be undone: open a new
    /// store for a wider view.
    pub fn restrict(&mut self, max: Tlp) -> Result<(), KbError> {
        let hidden: Vec<String> = [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ]
        .into_iter()
        .filter(|t| *t > max)
        .map(|t| format!("'{}'", t.as_str()))
        .collect();
        let list = if hidden.is_empty() {
            "''".to_string()
        } else {
            hidden.join(", ")
        };
        let visible = |alias: &str| {
            format!(
                "EXISTS (SELECT 1 FROM main.objects v WHERE v.id = {alias}.object_id \
                 AND v.tlp NOT IN ({list}))"
            )
        };
        let sql = format!(
            "CREATE TEMP VIEW objects AS SELECT * FROM main.objects WHERE tlp NOT IN ({list});
             CREATE TEMP VIEW relations AS SELECT * FROM main.relations WHERE tlp NOT IN ({list});
             CREATE TEMP VIEW names AS SELECT * FROM main.names n WHERE {names};
             CREATE TEMP VIEW observables AS SELECT * FROM main.observables b WHERE {obs};
             CREATE TEMP VIEW sightings AS SELECT * FROM main.sightings g WHERE {sig};
             PRAGMA query_only = 1;",
            names = visible("n"),
            obs = visible("b"),
            sig = visible("g"),
        );
        self.conn.execute_batch(&sql)?;
        self.ceiling = Some(max);
        Ok(())
    }

    /// The ceiling set by [`Store::restrict`], if any.
    pub fn ceiling(&self) -> Option<Tlp> {
        self.ceiling
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Tlp};

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
}
