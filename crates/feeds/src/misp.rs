//! MISP feeds: a directory with `manifest.json` (event uuid → info and
//! timestamp) and one `<uuid>.json` per event (MISP's feed format; the
//! `hashes.csv` beside them is MISP's lookup index and not needed here:
//! every value is in its event).
//!
//! The feed's state keeps, per event, the manifest timestamp last stored
//! and the statement ids the event produced. A run fetches only the events
//! whose timestamp changed, and stores them in ONE transaction that also
//! withdraws the statements of events gone from the manifest and those a
//! changed event no longer carries — unless another event still says them.

use crate::errors::FeedError;
use crate::http::{Client, Fetched, Request};
use crate::{FeedConfig, Tally};
use cairn_kb::{Feed, FeedSave, KnowledgeBase, Withdraw};
use cairn_model::Bundle;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// What the feed keeps per event between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Seen {
    /// The manifest's timestamp when it was stored.
    ts: String,
    /// Statement ids the event produced.
    ids: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    events: BTreeMap<String, Seen>,
}

/// A manifest timestamp as text, whether the feed wrote it as a string or a number.
fn stamp(entry: &Value) -> Option<String> {
    match entry.get("timestamp")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Event uuids become file names: nothing but hex digits and dashes.
fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

pub(crate) fn sync(
    store: &mut dyn KnowledgeBase,
    feed: &Feed,
    config: &FeedConfig,
    client: &Client,
    tally: &mut Tally,
) -> Result<(), FeedError> {
    let auth = config.auth()?;
    let base = if feed.url.ends_with('/') {
        feed.url.clone()
    } else {
        format!("{}/", feed.url)
    };
    let manifest_url = format!("{base}manifest.json");
    tally.requests += 1;
    let body = match client.get(
        &manifest_url,
        &Request {
            auth: auth.as_ref(),
            etag: feed.etag.as_deref(),
            last_modified: feed.last_modified.as_deref(),
            ..Request::default()
        },
    )? {
        Fetched::NotModified => {
            tally.not_modified = true;
            return Ok(());
        }
        Fetched::Body(b) => b,
    };
    let manifest: serde_json::Map<String, Value> =
        serde_json::from_slice(&body.bytes).map_err(|e| FeedError::Content {
            url: manifest_url.clone(),
            message: format!(
                "not a MISP feed manifest (an object of events): line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
        })?;
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for (uuid, entry) in &manifest {
        if !is_uuid(uuid) {
            return Err(FeedError::Content {
                url: manifest_url.clone(),
                message: format!("`{uuid}` is not an event uuid"),
            });
        }
        let ts = stamp(entry).ok_or_else(|| FeedError::Content {
            url: manifest_url.clone(),
            message: format!("event {uuid} has no timestamp"),
        })?;
        listed.insert(uuid.to_ascii_lowercase(), ts);
    }
    let old: State = serde_json::from_value(feed.state.clone()).unwrap_or_default();

    let opts = config.intake(&feed.name, cairn_intake::Format::MispEvent)?;
    let mut bundle = Bundle {
        source: feed.name.clone(),
        format: "misp-event".into(),
        ..Bundle::default()
    };
    let mut new = State::default();
    let mut changed_any = false;
    for (uuid, ts) in &listed {
        match old.events.get(uuid) {
            Some(seen) if seen.ts == *ts => {
                new.events.insert(uuid.clone(), seen.clone());
            }
            _ => {
                let url = format!("{base}{uuid}.json");
                tally.requests += 1;
                let event = match client.get(
                    &url,
                    &Request {
                        auth: auth.as_ref(),
                        ..Request::default()
                    },
                )? {
                    Fetched::Body(b) => b,
                    Fetched::NotModified => {
                        return Err(FeedError::Content {
                            url,
                            message: "304 Not Modified to a request without validators".into(),
                        });
                    }
                };
                let b = cairn_intake::parse_bytes(Path::new(&url), &event.bytes, &opts).map_err(
                    |source| FeedError::Parse {
                        url: url.clone(),
                        source,
                    },
                )?;
                tally.fetched += 1;
                let ids: Vec<String> = b
                    .objects
                    .iter()
                    .map(|o| o.id.clone())
                    .chain(b.relations.iter().map(|r| r.id.clone()))
                    .collect();
                bundle.objects.extend(b.objects);
                bundle.relations.extend(b.relations);
                new.events.insert(
                    uuid.clone(),
                    Seen {
                        ts: ts.clone(),
                        ids,
                    },
                );
                changed_any = true;
            }
        }
    }
    // What the events said before and no event in the manifest says now.
    let still: HashSet<&str> = new
        .events
        .values()
        .flat_map(|s| s.ids.iter().map(String::as_str))
        .collect();
    let gone: HashSet<String> = old
        .events
        .iter()
        .filter(|(uuid, seen)| new.events.get(*uuid).is_none_or(|n| n.ts != seen.ts))
        .flat_map(|(_, seen)| seen.ids.iter())
        .filter(|id| !still.contains(id.as_str()))
        .cloned()
        .collect();
    let state = serde_json::to_value(&new).map_err(|e| FeedError::Content {
        url: manifest_url.clone(),
        message: e.to_string(),
    })?;
    let save = FeedSave {
        etag: Some(body.etag),
        last_modified: Some(body.last_modified),
        state: Some(state),
        ..FeedSave::default()
    };
    if !changed_any && gone.is_empty() {
        store.save_feed_state(&feed.name, &save)?;
        return Ok(());
    }
    let report = store.ingest_feed(&feed.name, &bundle, None, Withdraw::Only(&gone), &save)?;
    tally.count(&report);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_stamps_and_uuids() {
        assert_eq!(
            stamp(&serde_json::json!({"timestamp": "1510922435"})).as_deref(),
            Some("1510922435")
        );
        assert_eq!(
            stamp(&serde_json::json!({"timestamp": 1510922435})).as_deref(),
            Some("1510922435")
        );
        assert!(is_uuid("5a0a9aa9-23a4-4607-b6df-41a9950d210f"));
        assert!(!is_uuid("../../etc/passwd-aaaaaaaaaaaaaaaaaaaaaaaaa"));
    }
}
