//! Feeds: intel pulled over HTTP on a schedule, each run stored as one
//! atomic, differential ingest under the feed's name.
//!
//! | kind | fetched | stored |
//! |---|---|---|
//! | `stix`, `file`, `csv`, `list` | one URL, conditional (ETag / Last-Modified: a 304 costs nothing) | the whole source, differentially: what the feed no longer says is withdrawn |
//! | `taxii` | TAXII 2.1: discovery → API root → collection → `objects/` from the saved `added_after`, following `next` | page by page, each page with the cursor in one transaction; nothing withdrawn |
//! | `misp-feed` | `manifest.json`, then only the events whose timestamp changed | the changed events in one transaction; events gone from the manifest (and attributes gone from a changed event) withdrawn |
//!
//! A run that fails (refused, 5xx after retries, truncated, oversize,
//! unparsable) stores nothing of what it was fetching; the error is recorded
//! on the feed ([`KnowledgeBase::record_feed_run`]) for `cairn feed list`, the web
//! app and `/api/v1/feeds`. Library code: nothing is printed.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod catalogue;
mod config;
pub mod errors;
pub mod http;
mod misp;
mod taxii;

pub use config::{FeedConfig, FeedKind, parse_every};

use cairn_kb::{Feed, FeedRun, FeedSave, KnowledgeBase, NewFeed, Withdraw};
use errors::FeedError;
use http::{Client, Fetched, HttpOptions, Request};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// How a run went, for the caller to print.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The feed.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// `ok`, `not-modified` or `failed`.
    pub status: String,
    /// Statements added.
    pub added: usize,
    /// Statements changed.
    pub changed: usize,
    /// Statements withdrawn.
    pub withdrawn: usize,
    /// HTTP requests made.
    pub requests: usize,
    /// Objects (STIX objects, MISP events, list values…) fetched.
    pub fetched: usize,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// What a kind's run produced (its writes are already committed).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) not_modified: bool,
    pub(crate) added: usize,
    pub(crate) changed: usize,
    pub(crate) withdrawn: usize,
    pub(crate) requests: usize,
    pub(crate) fetched: usize,
}

impl Tally {
    pub(crate) fn count(&mut self, r: &cairn_kb::IngestReport) {
        self.added += r.added;
        self.changed += r.changed;
        self.withdrawn += r.withdrawn;
    }
}

/// Subscribes to a feed. The config is checked (kind, interval) but nothing
/// is fetched.
pub fn add(
    store: &mut dyn KnowledgeBase,
    name: &str,
    kind: FeedKind,
    url: &str,
    config: &FeedConfig,
    every: i64,
) -> Result<Feed, FeedError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(FeedError::Config(format!(
            "feed `{name}`: the URL must start with http:// or https:// (got `{url}`)"
        )));
    }
    let config = serde_json::to_value(config)
        .map_err(|e| FeedError::Config(format!("feed `{name}`: {e}")))?;
    Ok(store.add_feed(&NewFeed {
        name: name.to_string(),
        kind: kind.as_str().to_string(),
        url: url.to_string(),
        config,
        every,
        enabled: true,
    })?)
}

/// Feeds due now: enabled, and never run or past their `next_due`.
pub fn due(store: &dyn KnowledgeBase, now: &str) -> Result<Vec<String>, FeedError> {
    Ok(store
        .feeds()?
        .into_iter()
        .filter(|f| f.enabled && f.next_due.as_deref().is_none_or(|d| d <= now))
        .map(|f| f.name)
        .collect())
}

/// How long a claimed run keeps other processes off a feed: a run that
/// dies holds it no longer than this.
pub const LEASE_SECS: i64 = 900;

/// [`due`], each feed claimed for this process: of several servers (or
/// cron jobs) on one store looking at the same moment, one runs each feed.
pub fn claim_due(store: &mut dyn KnowledgeBase, now: &str) -> Result<Vec<String>, FeedError> {
    let mut out = Vec::new();
    for name in due(store, now)? {
        if store.claim_feed(&name, now, LEASE_SECS)? {
            out.push(name);
        }
    }
    Ok(out)
}

/// Runs one feed and records the outcome on it. An `Err` means the feed
/// could not even be looked up or its outcome recorded; a failed fetch is
/// an `Ok` outcome with status `failed`.
pub fn sync(
    store: &mut dyn KnowledgeBase,
    name: &str,
    http: &HttpOptions,
) -> Result<SyncOutcome, FeedError> {
    let feed = store
        .feed(name)?
        .ok_or_else(|| FeedError::Config(format!("no feed called `{name}`")))?;
    let started = cairn_model::time::now_ms();
    let mut tally = Tally::default();
    let result = run(store, &feed, http, &mut tally);
    let (status, error) = match &result {
        Ok(()) if tally.not_modified => ("not-modified", None),
        Ok(()) => ("ok", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    store.record_feed_run(
        name,
        &started,
        &FeedRun {
            status: status.into(),
            added: tally.added,
            changed: tally.changed,
            withdrawn: tally.withdrawn,
            error: error.clone(),
        },
    )?;
    Ok(SyncOutcome {
        name: feed.name,
        kind: feed.kind,
        status: status.into(),
        added: tally.added,
        changed: tally.changed,
        withdrawn: tally.withdrawn,
        requests: tally.requests,
        fetched: tally.fetched,
        error,
    })
}

fn run(
    store: &mut dyn KnowledgeBase,
    feed: &Feed,
    http: &HttpOptions,
    tally: &mut Tally,
) -> Result<(), FeedError> {
    let kind: FeedKind = feed.kind.parse()?;
    let config: FeedConfig = serde_json::from_value(feed.config.clone())
        .map_err(|e| FeedError::Config(format!("feed `{}`: stored config: {e}", feed.name)))?;
    let mut opts = http.clone();
    if let Some(m) = config.max_bytes {
        opts.max_bytes = m;
    }
    let client = Client::new(opts);
    match kind {
        FeedKind::Taxii => taxii::sync(store, feed, &config, &client, tally),
        FeedKind::MispFeed => misp::sync(store, feed, &config, &client, tally),
        FeedKind::Stix | FeedKind::File | FeedKind::Csv | FeedKind::List => {
            whole_file(store, feed, kind, &config, &client, tally)
        }
    }
}

/// The name a URL's content is parsed (and its format detected) under: the
/// URL itself, less a compression suffix.
pub(crate) fn url_path(url: &str) -> &Path {
    let u = url.split(['?', '#']).next().unwrap_or(url);
    let u = u
        .strip_suffix(".gz")
        .or_else(|| u.strip_suffix(".zip"))
        .unwrap_or(u);
    Path::new(u)
}

/// A file by URL, stored whole: what it no longer says is withdrawn.
fn whole_file(
    store: &mut dyn KnowledgeBase,
    feed: &Feed,
    kind: FeedKind,
    config: &FeedConfig,
    client: &Client,
    tally: &mut Tally,
) -> Result<(), FeedError> {
    let auth = config.auth()?;
    tally.requests += 1;
    let fetched = client.get(
        &feed.url,
        &Request {
            auth: auth.as_ref(),
            etag: feed.etag.as_deref(),
            last_modified: feed.last_modified.as_deref(),
            ..Request::default()
        },
    )?;
    let body = match fetched {
        Fetched::NotModified => {
            tally.not_modified = true;
            return Ok(());
        }
        Fetched::Body(b) => b,
    };
    let format = match kind {
        FeedKind::Stix => cairn_intake::Format::Stix,
        FeedKind::Csv => cairn_intake::Format::Csv,
        FeedKind::List => cairn_intake::Format::List,
        _ => cairn_intake::Format::Auto,
    };
    let mut opts = config.intake(&feed.name, format)?;
    // Where a statement that names no reference of its own came from.
    opts.reference = Some(feed.url.clone());
    let bytes = if kind == FeedKind::Csv {
        uncomment_header(&body.bytes)
    } else {
        body.bytes
    };
    // Same bytes under the same options: recognised without a rewrite.
    let mut h = Sha256::new();
    h.update(feed.kind.as_bytes());
    h.update(feed.config.to_string().as_bytes());
    h.update(&bytes);
    let fingerprint = format!("feed:{:x}", h.finalize());
    let save = FeedSave {
        etag: Some(body.etag),
        last_modified: Some(body.last_modified),
        ..FeedSave::default()
    };
    // A list, or a CSV whose rows say only a value and its kind, is kept in
    // compact form, read row by row as it is stored.
    let parse_err = |source| FeedError::Parse {
        url: feed.url.clone(),
        source,
    };
    let values: Option<Box<dyn Iterator<Item = _>>> = match kind {
        FeedKind::List => Some(Box::new(cairn_intake::list_lines(
            url_path(&feed.url),
            &bytes[..],
        ))),
        FeedKind::Csv => cairn_intake::csv_values(url_path(&feed.url), &bytes[..], &opts)
            .map_err(parse_err)?
            .map(|v| Box::new(v) as Box<dyn Iterator<Item = _>>),
        _ => None,
    };
    if let Some(values) = values {
        let mut opts = opts.clone();
        opts.source = Some(feed.name.clone());
        let info = cairn_intake::list_info(url_path(&feed.url), &opts);
        let format = if kind == FeedKind::List {
            cairn_intake::Format::List
        } else {
            cairn_intake::Format::Csv
        };
        let head = cairn_kb::ListHead {
            source: info.source,
            format: format.as_str().to_string(),
            actor: info.actor,
            prov: info.prov,
            labels: Vec::new(),
        };
        // A bad line stops the store's transaction; its own error (with
        // the URL and place) is what the run reports.
        let mut bad: Option<FeedError> = None;
        let result = {
            let mut values = values.map(|l| match l {
                Ok(l) => Ok(cairn_kb::ListValue::new(
                    l.observable.kind,
                    l.observable.value,
                    l.written,
                )),
                Err(e) => {
                    let e = parse_err(e);
                    let said = cairn_kb::errors::KbError::Invalid(e.to_string());
                    bad = Some(e);
                    Err(said)
                }
            });
            store.ingest_feed_list(&feed.name, &head, &mut values, Some(&fingerprint), &save)
        };
        let report = match (result, bad) {
            (Err(_), Some(e)) => return Err(e),
            (r, _) => r?,
        };
        tally.fetched += report.indicators;
        tally.count(&report);
        return Ok(());
    }
    let mut bundle =
        cairn_intake::parse_bytes(url_path(&feed.url), &bytes, &opts).map_err(|source| {
            FeedError::Parse {
                url: feed.url.clone(),
                source,
            }
        })?;
    tally.fetched += bundle.objects.len() + bundle.relations.len() + bundle.documents.len();
    // Whatever the file calls itself, the feed's statements are the feed's.
    bundle.source = feed.name.clone();
    let report = store.ingest_feed(
        &feed.name,
        &bundle,
        Some(&fingerprint),
        Withdraw::Unsaid,
        &save,
    )?;
    tally.count(&report);
    Ok(())
}

/// abuse.ch-style CSV puts its header in a comment (`# "id","ioc",…`) just
/// before the data; that line becomes the header. Any other CSV is left as
/// it is.
fn uncomment_header(bytes: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.to_vec();
    };
    let mut last_comment: Option<(usize, usize)> = None;
    let mut first_data = "";
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('#') {
            last_comment = Some((offset, offset + line.len()));
        } else if !t.is_empty() {
            first_data = t;
            break;
        }
        offset += line.len();
    }
    let commas = |s: &str| s.matches(',').count();
    match last_comment {
        // A header names as many columns as the rows under it have.
        Some((start, end))
            if commas(&text[start..end]) > 0 && commas(&text[start..end]) == commas(first_data) =>
        {
            let header = text[start..end]
                .trim_start()
                .trim_start_matches('#')
                .trim_start();
            let mut out = String::with_capacity(text.len());
            out.push_str(header);
            if !header.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&text[end..]);
            out.into_bytes()
        }
        _ => bytes.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commented_csv_header_is_taken_as_the_header() {
        let csv = b"################\n# abuse.ch export\n#\n# \"id\",\"ioc_value\"\n\"1\",\"evil.example\"\n";
        let out = String::from_utf8(uncomment_header(csv)).unwrap();
        assert_eq!(out, "\"id\",\"ioc_value\"\n\"1\",\"evil.example\"\n");
        let plain = b"value\nevil.example\n";
        assert_eq!(uncomment_header(plain), plain);
    }

    #[test]
    fn url_paths_drop_compression_and_queries() {
        assert_eq!(
            url_path("https://x/a/list.txt.gz?k=1"),
            Path::new("https://x/a/list.txt")
        );
    }
}
