//! Feed subscriptions on PostgreSQL, with the embedded store's rules (see
//! `cairn_kb`'s feeds): a delivery's statements and the feed's new state
//! are written in ONE transaction, so a TAXII cursor can never run ahead
//! of (or fall behind) what is stored — whichever server ran the feed.
//! Readers' connections see no subscriptions, as on the embedded store.

use crate::PgStore;
use crate::errors::PgError;
use cairn_kb::backend::check_feed_source;
use cairn_kb::errors::KbError;
use cairn_kb::{Feed, FeedRun, FeedSave, IngestReport, ListHead, ListValue, NewFeed, Withdraw};
use cairn_model::Bundle;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};

const FEED_COLS: &str = "name, kind, url, last_run, status, added, changed, withdrawn, error, every, \
     next_due, enabled, etag, last_modified, cursor, config, created_at, state";

fn feed_row(r: &PgRow) -> Result<Feed, PgError> {
    let json = |i: usize| -> Result<serde_json::Value, PgError> {
        let s: String = r.try_get(i)?;
        serde_json::from_str(&s).map_err(|e| PgError::Invalid(format!("feeds: column {i}: {e}")))
    };
    Ok(Feed {
        name: r.try_get(0)?,
        kind: r.try_get(1)?,
        url: r.try_get(2)?,
        last_run: r.try_get(3)?,
        status: r.try_get(4)?,
        added: r.try_get(5)?,
        changed: r.try_get(6)?,
        withdrawn: r.try_get(7)?,
        error: r.try_get(8)?,
        every: r.try_get(9)?,
        next_due: r.try_get(10)?,
        enabled: r.try_get(11)?,
        etag: r.try_get(12)?,
        last_modified: r.try_get(13)?,
        cursor: r.try_get(14)?,
        config: json(15)?,
        created_at: r.try_get(16)?,
        state: json(17)?,
    })
}

/// Writes `s` on feed `feed` inside the caller's transaction.
pub(crate) async fn save_state(
    tx: &mut PgConnection,
    feed: &str,
    s: &FeedSave,
) -> Result<(), PgError> {
    let done = sqlx::query(
        "UPDATE feeds SET \
           etag = CASE WHEN $2 THEN $3 ELSE etag END, \
           last_modified = CASE WHEN $4 THEN $5 ELSE last_modified END, \
           cursor = CASE WHEN $6 THEN $7 ELSE cursor END, \
           state = COALESCE($8, state) \
         WHERE name = $1",
    )
    .bind(feed)
    .bind(s.etag.is_some())
    .bind(s.etag.clone().flatten())
    .bind(s.last_modified.is_some())
    .bind(s.last_modified.clone().flatten())
    .bind(s.cursor.is_some())
    .bind(s.cursor.clone().flatten())
    .bind(s.state.as_ref().map(|v| v.to_string()))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(PgError::Invalid(format!("no feed called `{feed}`")));
    }
    Ok(())
}

/// [`save_state`] in a transaction of its own (a delivery found unchanged
/// stores nothing else).
pub(crate) async fn save_state_alone(
    conn: &mut PgConnection,
    feed: &str,
    s: &FeedSave,
) -> Result<(), PgError> {
    let mut tx = conn.begin().await?;
    save_state(&mut tx, feed, s).await?;
    tx.commit().await?;
    Ok(())
}

impl PgStore {
    /// Adds a subscription; a name already taken is an error.
    pub fn add_feed(&mut self, f: &NewFeed) -> Result<Feed, PgError> {
        self.writable()?;
        f.check().map_err(PgError::Input)?;
        let added = self.run(async |c| {
            Ok(sqlx::query(
                "INSERT INTO feeds(name, kind, url, config, every, enabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
            )
            .bind(&f.name)
            .bind(&f.kind)
            .bind(&f.url)
            .bind(f.config.to_string())
            .bind(f.every)
            .bind(f.enabled)
            .bind(cairn_model::time::now_ms())
            .execute(&mut *c)
            .await?
            .rows_affected())
        })?;
        if added == 0 {
            return Err(PgError::Invalid(format!(
                "a feed called `{}` exists already (remove it first)",
                f.name
            )));
        }
        self.feed(&f.name)?
            .ok_or_else(|| PgError::Invalid(format!("feed `{}` vanished", f.name)))
    }

    /// Removes a subscription (its statements stay, under its source name).
    pub fn remove_feed(&mut self, name: &str) -> Result<bool, PgError> {
        self.writable()?;
        self.run(async |c| {
            Ok(sqlx::query("DELETE FROM feeds WHERE name = $1")
                .bind(name)
                .execute(&mut *c)
                .await?
                .rows_affected()
                > 0)
        })
    }

    /// Every subscription, by name; none on a restricted connection.
    pub fn feeds(&self) -> Result<Vec<Feed>, PgError> {
        if self.ceiling().is_some() {
            return Ok(Vec::new());
        }
        let rows = self.run(async |c| {
            Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {FEED_COLS} FROM feeds ORDER BY name COLLATE \"C\""
            )))
            .fetch_all(&mut *c)
            .await?)
        })?;
        rows.iter().map(feed_row).collect()
    }

    /// One subscription.
    pub fn feed(&self, name: &str) -> Result<Option<Feed>, PgError> {
        if self.ceiling().is_some() {
            return Ok(None);
        }
        let row = self.run(async |c| {
            Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {FEED_COLS} FROM feeds WHERE name = $1"
            )))
            .bind(name)
            .fetch_optional(&mut *c)
            .await?)
        })?;
        row.as_ref().map(feed_row).transpose()
    }

    /// Stores a delivery of `feed` and `state` in one transaction.
    pub fn ingest_feed(
        &mut self,
        feed: &str,
        bundle: &Bundle,
        fingerprint: Option<&str>,
        withdraw: Withdraw<'_>,
        state: &FeedSave,
    ) -> Result<IngestReport, PgError> {
        check_feed_source(feed, &bundle.source, "statements").map_err(PgError::Input)?;
        self.ingest_with(bundle, None, fingerprint, withdraw, Some((feed, state)))
    }

    /// A list-kind feed's values in compact form, with its validators in
    /// the same transaction.
    pub fn ingest_feed_list(
        &mut self,
        feed: &str,
        head: &ListHead,
        values: &mut dyn Iterator<Item = Result<ListValue, KbError>>,
        fingerprint: Option<&str>,
        state: &FeedSave,
    ) -> Result<IngestReport, PgError> {
        check_feed_source(feed, &head.source, "values").map_err(PgError::Input)?;
        self.ingest_list_with(head, values, None, fingerprint, Some((feed, state)))
    }

    /// Saves a feed's state alone (nothing to store, e.g. an empty page).
    pub fn save_feed_state(&mut self, feed: &str, state: &FeedSave) -> Result<(), PgError> {
        self.writable()?;
        self.run(async |c| save_state_alone(c, feed, state).await)
    }

    /// Records how a run ended and schedules the next one `every` seconds
    /// after `at`; statements are untouched (no new generation).
    pub fn record_feed_run(&mut self, feed: &str, at: &str, run: &FeedRun) -> Result<(), PgError> {
        self.writable()?;
        self.run(async |c| {
            let every: i64 = sqlx::query_scalar("SELECT every FROM feeds WHERE name = $1")
                .bind(feed)
                .fetch_optional(&mut *c)
                .await?
                .ok_or_else(|| PgError::Invalid(format!("no feed called `{feed}`")))?;
            let next = cairn_kb::backend::next_due(at, every);
            sqlx::query(
                "UPDATE feeds SET last_run = $2, next_due = $3, status = $4, added = $5, \
                 changed = $6, withdrawn = $7, error = $8 WHERE name = $1",
            )
            .bind(feed)
            .bind(at)
            .bind(next)
            .bind(&run.status)
            .bind(run.added as i64)
            .bind(run.changed as i64)
            .bind(run.withdrawn as i64)
            .bind(&run.error)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
    }

    /// Takes a due feed's next run for the caller (a lease of `hold`
    /// seconds): of several servers looking at once, one gets it.
    pub fn claim_feed(&mut self, name: &str, now: &str, hold: i64) -> Result<bool, PgError> {
        self.writable()?;
        let until = cairn_kb::backend::next_due(now, hold)
            .ok_or_else(|| PgError::Invalid(format!("`{now}` is not a timestamp")))?;
        self.run(async |c| {
            Ok(sqlx::query(
                "UPDATE feeds SET next_due = $3 WHERE name = $1 AND enabled \
                 AND (next_due IS NULL OR next_due <= $2)",
            )
            .bind(name)
            .bind(now)
            .bind(&until)
            .execute(&mut *c)
            .await?
            .rows_affected()
                == 1)
        })
    }

    /// Turns scheduled runs of a feed on or off; false when there is none.
    pub fn enable_feed(&mut self, name: &str, enabled: bool) -> Result<bool, PgError> {
        self.writable()?;
        self.run(async |c| {
            Ok(sqlx::query("UPDATE feeds SET enabled = $2 WHERE name = $1")
                .bind(name)
                .bind(enabled)
                .execute(&mut *c)
                .await?
                .rows_affected()
                > 0)
        })
    }
}
