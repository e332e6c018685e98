//! The knowledge base as engines and surfaces use it, whichever database
//! holds it: the embedded [`Store`] (SQLite) or a shared one (PostgreSQL,
//! in the `cairn-pg` crate). Each backend keeps the same semantics; a test
//! suite runs the same checks on both.
//!
//! Besides the trait, the rules a backend must apply exactly as the
//! embedded store does, so that the two cannot drift apart.

use crate::errors::KbError;
use crate::{
    ExportIndicator, ExportQuery, Feed, FeedRun, FeedSave, HuntIndicator, IndicatorContext,
    IndicatorRow, IngestReport, ListHead, ListValue, NewFeed, Role, SearchHit, SightingInput,
    SightingRow, Stats, Store, Token, TokenGrant, Withdraw,
};
use cairn_model::{Bundle, Tlp};

pub use crate::actor_rows::{
    ActorQuery, ActorRows, CampaignRow, IndicatorCountRow, TargetRow, UsesRow,
};
pub use crate::export_rows::{
    ExportAssembly, IndicatesRow, IndicatorValueRow, ListExportHead, ListTake,
};
pub use crate::feeds::check_feed_source;
pub use crate::profile::{actor_ref, build_profile, suggest};
pub use crate::search::{TextMatch, rank as rank_search};
pub use crate::shared::{
    add_count, content_hash, latest, new_token_secret, next_due, object_names, revoked_token_name,
    token_digest, token_name,
};

/// What every backend of the knowledge base answers. Actor profiles come
/// with it: a backend answers the few reads of [`ActorRows`], and the
/// resolution and the profile are computed from them the same for all.
pub trait KnowledgeBase: ActorRows + Send {
    /// Where the store lives: a file path or a database address.
    fn location(&self) -> String;
    /// The store's file, when it is one (caches are kept beside it).
    fn path(&self) -> Option<&std::path::Path> {
        None
    }
    /// Whether the store outlives this process (a throw-away store in
    /// memory does not, and nothing derived from it is worth caching).
    fn persistent(&self) -> bool {
        true
    }
    /// MISP warninglists the user ingested: (name, list.json text).
    fn warninglist_documents(&self) -> Result<Vec<(String, String)>, KbError>;
    /// Stores everything a source said, in one transaction (see [`Store::ingest`]).
    fn ingest(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError>;
    /// Stores a list in compact form, in one transaction (see [`Store::ingest_list`]).
    fn ingest_list(
        &mut self,
        head: &ListHead,
        values: &mut dyn Iterator<Item = Result<ListValue, KbError>>,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError>;
    /// The source last ingested from exactly this input (name, format).
    fn source_with_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, KbError>;
    /// A number that changes whenever the content changes (cache key).
    fn generation(&self) -> Result<i64, KbError>;
    /// A random id written once per store (cache key).
    fn store_id(&self) -> Result<String, KbError>;
    /// Counts by kind, relationship type and source.
    fn stats(&self) -> Result<Stats, KbError>;
    /// Ranked matches among actors, campaigns, software and techniques.
    fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, KbError>;
    /// Every indicator value to hunt, one by one (see [`Store::for_each_hunt_indicator`]).
    fn for_each_hunt_indicator(
        &self,
        include_inactive: bool,
        f: &mut dyn FnMut(HuntIndicator),
    ) -> Result<(), KbError>;
    /// The actors, families, roles and provenance behind one indicator key.
    fn indicator_context(&self, key: i64) -> Result<IndicatorContext, KbError>;
    /// Writes hits back as sightings (one transaction); rows written.
    fn record_sightings(&mut self, hits: &[SightingInput]) -> Result<usize, KbError>;
    /// Hits recorded for indicator `key`, newest first.
    fn sightings_of(&self, key: i64) -> Result<Vec<SightingRow>, KbError>;
    /// An actor's indicators, most sighted first, up to `limit`, and how
    /// many in all (see [`Store::actor_indicators`]).
    fn actor_indicators(
        &self,
        member_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<IndicatorRow>, usize), KbError>;
    /// Caps this connection at a TLP ceiling for every read; no way back.
    fn restrict(&mut self, ceiling: Tlp) -> Result<(), KbError>;
    /// Creates an API token; its secret (shown once) and its listing.
    fn create_token(&mut self, name: &str, role: Role) -> Result<(String, Token), KbError>;
    /// The grant for `secret`, if it is a live token.
    fn verify_token(&self, secret: &str) -> Result<Option<TokenGrant>, KbError>;
    /// Every token, revoked ones included.
    fn tokens(&self) -> Result<Vec<Token>, KbError>;
    /// Revokes the live token called `name`; false when there is none.
    fn revoke_token(&mut self, name: &str) -> Result<bool, KbError>;
    /// Active indicators matching `q` with their actors, families and
    /// roles, for sensors (see [`Store::export_indicators`]).
    fn export_indicators(&self, q: &ExportQuery) -> Result<Vec<ExportIndicator>, KbError>;
    /// Adds a feed subscription (see [`Store::add_feed`]).
    fn add_feed(&mut self, f: &NewFeed) -> Result<Feed, KbError>;
    /// Removes a subscription; false when there was none.
    fn remove_feed(&mut self, name: &str) -> Result<bool, KbError>;
    /// Every subscription, by name (none on a restricted connection).
    fn feeds(&self) -> Result<Vec<Feed>, KbError>;
    /// One subscription.
    fn feed(&self, name: &str) -> Result<Option<Feed>, KbError>;
    /// A feed's delivery and its new state, in one transaction (see
    /// [`Store::ingest_feed`]).
    fn ingest_feed(
        &mut self,
        feed: &str,
        bundle: &Bundle,
        fingerprint: Option<&str>,
        withdraw: Withdraw<'_>,
        state: &FeedSave,
    ) -> Result<IngestReport, KbError>;
    /// A list-kind feed's values and its validators, in one transaction.
    fn ingest_feed_list(
        &mut self,
        feed: &str,
        head: &ListHead,
        values: &mut dyn Iterator<Item = Result<ListValue, KbError>>,
        fingerprint: Option<&str>,
        state: &FeedSave,
    ) -> Result<IngestReport, KbError>;
    /// Saves a feed's state alone.
    fn save_feed_state(&mut self, feed: &str, state: &FeedSave) -> Result<(), KbError>;
    /// Records how a run ended and when the next is due.
    fn record_feed_run(&mut self, feed: &str, at: &str, run: &FeedRun) -> Result<(), KbError>;
    /// Turns scheduled runs on or off; false when there is no such feed.
    fn enable_feed(&mut self, name: &str, enabled: bool) -> Result<bool, KbError>;
    /// Takes a due feed's next run for the caller, leased for `hold`
    /// seconds (see [`Store::claim_feed`]); false when it is not to run.
    fn claim_feed(&mut self, name: &str, now: &str, hold: i64) -> Result<bool, KbError>;
    /// Resolves `query` (any vendor's name, an ATT&CK id, a STIX id) and
    /// builds the profile (see [`Store::actor`]).
    fn actor(&self, query: &str) -> Result<Option<crate::Profile>, KbError> {
        build_profile(self, query, true)
    }
    /// Closest known actor names to an unknown one.
    fn suggest(&self, query: &str, limit: usize) -> Result<Vec<String>, KbError> {
        suggest(self, query, limit)
    }
}

impl KnowledgeBase for Store {
    fn location(&self) -> String {
        self.path()
            .map_or_else(|| ":memory:".into(), |p| p.display().to_string())
    }
    fn path(&self) -> Option<&std::path::Path> {
        Store::path(self)
    }
    fn persistent(&self) -> bool {
        Store::path(self).is_some()
    }
    fn warninglist_documents(&self) -> Result<Vec<(String, String)>, KbError> {
        Store::warninglist_documents(self)
    }
    fn ingest(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError> {
        Store::ingest(self, bundle, file, fingerprint)
    }
    fn ingest_list(
        &mut self,
        head: &ListHead,
        values: &mut dyn Iterator<Item = Result<ListValue, KbError>>,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError> {
        Store::ingest_list(self, head, values, file, fingerprint)
    }
    fn source_with_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, KbError> {
        Store::source_with_fingerprint(self, fingerprint)
    }
    fn generation(&self) -> Result<i64, KbError> {
        Store::generation(self)
    }
    fn store_id(&self) -> Result<String, KbError> {
        Store::store_id(self)
    }
    fn stats(&self) -> Result<Stats, KbError> {
        Store::stats(self)
    }
    fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, KbError> {
        Store::search(self, text, limit)
    }
    fn for_each_hunt_indicator(
        &self,
        include_inactive: bool,
        f: &mut dyn FnMut(HuntIndicator),
    ) -> Result<(), KbError> {
        Store::for_each_hunt_indicator(self, include_inactive, f)
    }
    fn indicator_context(&self, key: i64) -> Result<IndicatorContext, KbError> {
        Store::indicator_context(self, key)
    }
    fn record_sightings(&mut self, hits: &[SightingInput]) -> Result<usize, KbError> {
        Store::record_sightings(self, hits)
    }
    fn sightings_of(&self, key: i64) -> Result<Vec<SightingRow>, KbError> {
        Store::sightings_of(self, key)
    }
    fn restrict(&mut self, ceiling: Tlp) -> Result<(), KbError> {
        Store::restrict(self, ceiling)
    }
    fn create_token(&mut self, name: &str, role: Role) -> Result<(String, Token), KbError> {
        Store::create_token(self, name, role)
    }
    fn verify_token(&self, secret: &str) -> Result<Option<TokenGrant>, KbError> {
        Store::verify_token(self, secret)
    }
    fn tokens(&self) -> Result<Vec<Token>, KbError> {
        Store::tokens(self)
    }
    fn revoke_token(&mut self, name: &str) -> Result<bool, KbError> {
        Store::revoke_token(self, name)
    }
    fn export_indicators(&self, q: &ExportQuery) -> Result<Vec<ExportIndicator>, KbError> {
        Store::export_indicators(self, q)
    }
    fn actor_indicators(
        &self,
        member_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<IndicatorRow>, usize), KbError> {
        Store::actor_indicators(self, member_ids, limit)
    }
    fn add_feed(&mut self, f: &NewFeed) -> Result<Feed, KbError> {
        Store::add_feed(self, f)
    }
    fn remove_feed(&mut self, name: &str) -> Result<bool, KbError> {
        Store::remove_feed(self, name)
    }
    fn feeds(&self) -> Result<Vec<Feed>, KbError> {
        Store::feeds(self)
    }
    fn feed(&self, name: &str) -> Result<Option<Feed>, KbError> {
        Store::feed(self, name)
    }
    fn ingest_feed(
        &mut self,
        feed: &str,
        bundle: &Bundle,
        fingerprint: Option<&str>,
        withdraw: Withdraw<'_>,
        state: &FeedSave,
    ) -> Result<IngestReport, KbError> {
        Store::ingest_feed(self, feed, bundle, fingerprint, withdraw, state)
    }
    fn ingest_feed_list(
        &mut self,
        feed: &str,
        head: &ListHead,
        values: &mut dyn Iterator<Item = Result<ListValue, KbError>>,
        fingerprint: Option<&str>,
        state: &FeedSave,
    ) -> Result<IngestReport, KbError> {
        Store::ingest_feed_list::<KbError, _>(self, feed, head, values, fingerprint, state)
    }
    fn save_feed_state(&mut self, feed: &str, state: &FeedSave) -> Result<(), KbError> {
        Store::save_feed_state(self, feed, state)
    }
    fn record_feed_run(&mut self, feed: &str, at: &str, run: &FeedRun) -> Result<(), KbError> {
        Store::record_feed_run(self, feed, at, run)
    }
    fn enable_feed(&mut self, name: &str, enabled: bool) -> Result<bool, KbError> {
        Store::enable_feed(self, name, enabled)
    }
    fn claim_feed(&mut self, name: &str, now: &str, hold: i64) -> Result<bool, KbError> {
        Store::claim_feed(self, name, now, hold)
    }
}
