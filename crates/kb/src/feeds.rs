//! Feed subscriptions: what `cairn feed` pulls, how each run went, and
//! what a feed keeps between runs (validators, a TAXII cursor, a MISP
//! feed's event timestamps).
//!
//! Fetching is `cairn-feeds`' job; the store only keeps the subscriptions
//! and writes what a run brings. [`Store::ingest_feed`] stores a delivery's
//! statements and the feed's new state in ONE transaction: a crash between
//! a TAXII page and its cursor can neither lose the page (cursor advanced,
//! page not stored) nor leave the cursor behind what is stored.

use crate::errors::KbError;
use crate::ingest::IngestReport;
use crate::withdraw::Withdraw;
use crate::{Store, now};
use cairn_model::Bundle;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

/// A subscription as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Feed {
    /// Unique name; also the source name its statements are stored under.
    pub name: String,
    /// `stix`, `file`, `taxii`, `misp-feed`, `csv` or `list`.
    pub kind: String,
    /// Where it is fetched from.
    pub url: String,
    /// When the last run started (RFC 3339).
    pub last_run: Option<String>,
    /// `ok`, `not-modified`, `failed` or `never`.
    pub status: String,
    /// Statements the last run added.
    pub added: i64,
    /// Statements the last run changed.
    pub changed: i64,
    /// Statements the last run withdrew.
    pub withdrawn: i64,
    /// The last run's error, if it failed.
    pub error: Option<String>,
    /// Seconds between runs.
    pub every: i64,
    /// When the next run is due (absent: at once).
    pub next_due: Option<String>,
    /// Whether `cairn feed sync --due-only` and `cairn serve --sync` run it.
    pub enabled: bool,
    /// The last `ETag` the server sent.
    pub etag: Option<String>,
    /// The last `Last-Modified` the server sent.
    pub last_modified: Option<String>,
    /// The TAXII `added_after` cursor.
    pub cursor: Option<String>,
    /// Kind-specific options (collection, column mapping, auth variable names).
    pub config: serde_json::Value,
    /// When it was added.
    pub created_at: String,
    /// What the kind keeps between runs (not serialised: it can be large).
    #[serde(skip)]
    pub state: serde_json::Value,
}

/// A subscription to add.
#[derive(Debug, Clone)]
pub struct NewFeed {
    /// Unique name (and source name).
    pub name: String,
    /// Feed kind.
    pub kind: String,
    /// URL.
    pub url: String,
    /// Kind-specific options.
    pub config: serde_json::Value,
    /// Seconds between runs.
    pub every: i64,
    /// Enabled for scheduled runs.
    pub enabled: bool,
}

/// What a run leaves for the next one; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct FeedSave {
    /// New `ETag` (`Some(None)` clears it).
    pub etag: Option<Option<String>>,
    /// New `Last-Modified`.
    pub last_modified: Option<Option<String>>,
    /// New TAXII cursor.
    pub cursor: Option<Option<String>>,
    /// New kind state (replaces the old whole).
    pub state: Option<serde_json::Value>,
}

/// How a run ended, for `cairn feed list`.
#[derive(Debug, Clone)]
pub struct FeedRun {
    /// `ok`, `not-modified` or `failed`.
    pub status: String,
    /// Statements added over the whole run.
    pub added: usize,
    /// Statements changed.
    pub changed: usize,
    /// Statements withdrawn.
    pub withdrawn: usize,
    /// The error, when it failed.
    pub error: Option<String>,
}

const FEED_COLS: &str = "name, kind, url, last_run, status, added, changed, withdrawn, error, every, \
     next_due, enabled, etag, last_modified, cursor, config, created_at, state";

fn feed_row(r: &rusqlite::Row) -> rusqlite::Result<Feed> {
    let json = |i: usize| -> rusqlite::Result<serde_json::Value> {
        let s: String = r.get(i)?;
        serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    Ok(Feed {
        name: r.get(0)?,
        kind: r.get(1)?,
        url: r.get(2)?,
        last_run: r.get(3)?,
        status: r.get(4)?,
        added: r.get(5)?,
        changed: r.get(6)?,
        withdrawn: r.get(7)?,
        error: r.get(8)?,
        every: r.get(9)?,
        next_due: r.get(10)?,
        enabled: r.get(11)?,
        etag: r.get(12)?,
        last_modified: r.get(13)?,
        cursor: r.get(14)?,
        config: json(15)?,
        created_at: r.get(16)?,
        state: json(17)?,
    })
}

fn save(tx: &Transaction, feed: &str, s: &FeedSave) -> Result<(), KbError> {
    let n = tx.execute(
        "UPDATE feeds SET \
           etag = CASE WHEN ?2 THEN ?3 ELSE etag END, \
           last_modified = CASE WHEN ?4 THEN ?5 ELSE last_modified END, \
           cursor = CASE WHEN ?6 THEN ?7 ELSE cursor END, \
           state = COALESCE(?8, state) \
         WHERE name = ?1",
        params![
            feed,
            s.etag.is_some(),
            s.etag.clone().flatten(),
            s.last_modified.is_some(),
            s.last_modified.clone().flatten(),
            s.cursor.is_some(),
            s.cursor.clone().flatten(),
            s.state.as_ref().map(|v| v.to_string()),
        ],
    )?;
    if n == 0 {
        return Err(KbError::Invalid(format!("no feed called `{feed}`")));
    }
    Ok(())
}

impl NewFeed {
    /// What every backend asks of a subscription before storing it.
    pub fn check(&self) -> Result<(), KbError> {
        if self.name.trim().is_empty() {
            return Err(KbError::Invalid("a feed needs a name".into()));
        }
        if self.every <= 0 {
            return Err(KbError::Invalid(format!(
                "feed `{}`: the interval must be positive",
                self.name
            )));
        }
        Ok(())
    }
}

/// A feed's deliveries are stored under its own name as source (`what`:
/// `statements` or `values`), on every backend.
pub fn check_feed_source(feed: &str, source: &str, what: &str) -> Result<(), KbError> {
    if source == feed {
        return Ok(());
    }
    Err(KbError::Invalid(format!(
        "feed `{feed}`: its {what} must be stored under its own name, not `{source}`"
    )))
}

impl Store {
    /// Adds a subscription; a name already taken is an error.
    pub fn add_feed(&mut self, f: &NewFeed) -> Result<Feed, KbError> {
        f.check()?;
        let taken: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM feeds WHERE name = ?1)",
            [&f.name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(KbError::Invalid(format!(
                "a feed called `{}` exists already (remove it first)",
                f.name
            )));
        }
        self.conn.execute(
            "INSERT INTO feeds(name, kind, url, config, every, enabled, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                f.name,
                f.kind,
                f.url,
                f.config.to_string(),
                f.every,
                f.enabled,
                now()
            ],
        )?;
        self.feed(&f.name)?
            .ok_or_else(|| KbError::Invalid(format!("feed `{}` vanished", f.name)))
    }

    /// Removes a subscription (its statements stay, under its source name).
    /// False when there was none.
    pub fn remove_feed(&mut self, name: &str) -> Result<bool, KbError> {
        Ok(self
            .conn
            .execute("DELETE FROM feeds WHERE name = ?1", [name])?
            > 0)
    }

    /// Every subscription, by name.
    pub fn feeds(&self) -> Result<Vec<Feed>, KbError> {
        let mut q = self
            .conn
            .prepare(&format!("SELECT {FEED_COLS} FROM feeds ORDER BY name"))?;
        let rows = q.query_map([], feed_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One subscription.
    pub fn feed(&self, name: &str) -> Result<Option<Feed>, KbError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {FEED_COLS} FROM feeds WHERE name = ?1"),
                [name],
                feed_row,
            )
            .optional()?)
    }

    /// Stores a delivery of feed `feed` (its statements under the feed's
    /// name as source) and `save`, in one transaction: both or neither.
    pub fn ingest_feed(
        &mut self,
        feed: &str,
        bundle: &Bundle,
        fingerprint: Option<&str>,
        withdraw: Withdraw,
        state: &FeedSave,
    ) -> Result<IngestReport, KbError> {
        check_feed_source(feed, &bundle.source, "statements")?;
        self.ingest_with(bundle, None, fingerprint, withdraw, &mut |tx| {
            save(tx, feed, state)
        })
    }

    /// A list-kind feed's values in compact form ([`Store::ingest_list`]),
    /// with the feed's validators saved in the same transaction.
    pub fn ingest_feed_list<E, I>(
        &mut self,
        feed: &str,
        head: &crate::ListHead,
        values: I,
        fingerprint: Option<&str>,
        state: &FeedSave,
    ) -> Result<IngestReport, E>
    where
        E: From<KbError>,
        I: IntoIterator<Item = Result<crate::ListValue, E>>,
    {
        check_feed_source(feed, &head.source, "values")?;
        self.ingest_list_with(head, values, None, fingerprint, &mut |tx| {
            save(tx, feed, state)
        })
    }

    /// Saves a feed's state alone (nothing to store, e.g. an empty page).
    pub fn save_feed_state(&mut self, feed: &str, state: &FeedSave) -> Result<(), KbError> {
        let tx = self.conn.transaction()?;
        save(&tx, feed, state)?;
        tx.commit()?;
        Ok(())
    }

    /// Records how a run ended and schedules the next one `every` seconds
    /// after `at` (the run's start). Statements are untouched: the store's
    /// generation does not move.
    pub fn record_feed_run(&mut self, feed: &str, at: &str, run: &FeedRun) -> Result<(), KbError> {
        let every: i64 = self
            .conn
            .query_row("SELECT every FROM feeds WHERE name = ?1", [feed], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| KbError::Invalid(format!("no feed called `{feed}`")))?;
        let next = crate::shared::next_due(at, every);
        self.conn.execute(
            "UPDATE feeds SET last_run = ?2, next_due = ?3, status = ?4, added = ?5, changed = ?6, \
             withdrawn = ?7, error = ?8 WHERE name = ?1",
            params![
                feed,
                at,
                next,
                run.status,
                run.added as i64,
                run.changed as i64,
                run.withdrawn as i64,
                run.error
            ],
        )?;
        Ok(())
    }

    /// Takes a due feed's next run for the caller: its `next_due` moves
    /// `hold` seconds past `now` (a lease; the run's record then sets the
    /// real one), so a server looking at the same moment finds it not due.
    /// False when the feed is disabled, not due, or was taken first.
    pub fn claim_feed(&mut self, name: &str, now: &str, hold: i64) -> Result<bool, KbError> {
        let until = crate::shared::next_due(now, hold)
            .ok_or_else(|| KbError::Invalid(format!("`{now}` is not a timestamp")))?;
        Ok(self.conn.execute(
            "UPDATE feeds SET next_due = ?3 WHERE name = ?1 AND enabled \
             AND (next_due IS NULL OR next_due <= ?2)",
            params![name, now, until],
        )? > 0)
    }

    /// Turns scheduled runs of a feed on or off. False when there is no such feed.
    pub fn enable_feed(&mut self, name: &str, enabled: bool) -> Result<bool, KbError> {
        Ok(self.conn.execute(
            "UPDATE feeds SET enabled = ?2 WHERE name = ?1",
            params![name, enabled],
        )? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Object, Provenance};
    use std::collections::HashSet;

    fn obj(id: &str, name: &str) -> Object {
        Object {
            id: id.into(),
            kind: "intrusion-set".into(),
            name: Some(name.into()),
            raw: format!(r#"{{"type":"intrusion-set","id":"{id}","name":"{name}"}}"#),
            prov: Provenance {
                source: "f".into(),
                ..Default::default()
            },
            ..Object::default()
        }
    }

    fn bundle(objs: Vec<Object>) -> Bundle {
        Bundle {
            source: "f".into(),
            format: "stix".into(),
            objects: objs,
            ..Bundle::default()
        }
    }

    fn new_feed(s: &mut Store) {
        s.add_feed(&NewFeed {
            name: "f".into(),
            kind: "taxii".into(),
            url: "http://127.0.0.1:1/taxii2/".into(),
            config: serde_json::json!({"collection": "x"}),
            every: 3600,
            enabled: true,
        })
        .unwrap();
    }

    #[test]
    fn feeds_are_added_listed_and_removed() {
        let mut s = Store::open_in_memory().unwrap();
        new_feed(&mut s);
        let again = s.add_feed(&NewFeed {
            name: "f".into(),
            kind: "list".into(),
            url: "http://x/".into(),
            config: serde_json::json!({}),
            every: 1,
            enabled: true,
        });
        assert!(again.unwrap_err().to_string().contains("exists already"));
        let f = s.feed("f").unwrap().unwrap();
        assert_eq!(f.status, "never");
        assert_eq!(f.config["collection"], "x");
        let gen0 = s.generation().unwrap();
        s.record_feed_run(
            "f",
            "2026-01-01T00:00:00.000Z",
            &FeedRun {
                status: "failed".into(),
                added: 0,
                changed: 0,
                withdrawn: 0,
                error: Some("boom".into()),
            },
        )
        .unwrap();
        let f = &s.feeds().unwrap()[0];
        assert_eq!(f.error.as_deref(), Some("boom"));
        assert_eq!(f.next_due.as_deref(), Some("2026-01-01T01:00:00.000Z"));
        assert_eq!(s.generation().unwrap(), gen0, "a run record is no content");
        assert!(s.remove_feed("f").unwrap());
        assert!(!s.remove_feed("f").unwrap());
    }

    #[test]
    fn a_partial_delivery_withdraws_only_what_it_is_told() {
        let mut s = Store::open_in_memory().unwrap();
        new_feed(&mut s);
        let none = HashSet::new();
        let save1 = FeedSave {
            cursor: Some(Some("c1".into())),
            ..FeedSave::default()
        };
        let r = s
            .ingest_feed(
                "f",
                &bundle(vec![
                    obj("intrusion-set--a", "A"),
                    obj("intrusion-set--b", "B"),
                ]),
                None,
                Withdraw::Only(&none),
                &save1,
            )
            .unwrap();
        assert_eq!(r.added, 2);
        // A second page carrying only C withdraws nothing.
        let r = s
            .ingest_feed(
                "f",
                &bundle(vec![obj("intrusion-set--c", "C")]),
                None,
                Withdraw::Only(&none),
                &FeedSave::default(),
            )
            .unwrap();
        assert_eq!((r.added, r.withdrawn), (1, 0));
        assert_eq!(s.feed("f").unwrap().unwrap().cursor.as_deref(), Some("c1"));
        // Scoped withdrawal: A named, B not, C named but carried again.
        let scope: HashSet<String> = ["intrusion-set--a", "intrusion-set--c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = s
            .ingest_feed(
                "f",
                &bundle(vec![obj("intrusion-set--c", "C")]),
                None,
                Withdraw::Only(&scope),
                &FeedSave::default(),
            )
            .unwrap();
        assert_eq!(r.withdrawn, 1);
        assert!(s.actor("A").unwrap().is_none());
        assert!(s.actor("B").unwrap().is_some());
        assert!(s.actor("C").unwrap().is_some());
    }

    #[test]
    fn a_failed_delivery_keeps_the_old_cursor() {
        let mut s = Store::open_in_memory().unwrap();
        new_feed(&mut s);
        let none = HashSet::new();
        // Stored under another source name: refused before anything is written.
        let mut b = bundle(vec![obj("intrusion-set--a", "A")]);
        b.source = "other".into();
        let save = FeedSave {
            cursor: Some(Some("late".into())),
            ..FeedSave::default()
        };
        assert!(
            s.ingest_feed("f", &b, None, Withdraw::Only(&none), &save)
                .is_err()
        );
        // The state write fails (no such feed) after the statements: both roll back.
        let b = bundle(vec![obj("intrusion-set--a", "A")]);
        s.remove_feed("f").unwrap();
        assert!(
            s.ingest_feed("f", &b, None, Withdraw::Only(&none), &save)
                .is_err()
        );
        assert!(s.actor("A").unwrap().is_none(), "statements rolled back");
    }
}
