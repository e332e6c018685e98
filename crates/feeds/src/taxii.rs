//! TAXII 2.1 client: discovery → API root → collection → objects, from the
//! saved `added_after` cursor, following `next`.
//!
//! Each page is stored with the feed's state in one transaction. Mid-run the
//! state keeps the page's `next` and the `added_after` it belongs to, so an
//! interrupted run resumes at the page after the last one stored (a server
//! that refuses the old `next` is asked again from that `added_after`:
//! pages already stored come again and change nothing). Only the last page
//! moves the cursor, to `X-TAXII-Date-Added-Last` (or, from a server that
//! sends no date headers, the newest `date_added` in the page's manifest):
//! objects that share a date across a page boundary are never skipped.

use crate::errors::FeedError;
use crate::http::{Auth, Client, Fetched, Request};
use crate::{FeedConfig, Tally, url_path};
use cairn_kb::{Feed, FeedSave, KnowledgeBase, Withdraw};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashSet;

const ACCEPT: &str = "application/taxii+json;version=2.1";
/// Characters left as they are in a query value or path segment.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// A run stops after this many pages (a server that never says `more: false`).
const MAX_PAGES: usize = 100_000;

/// Objects per page asked for when the feed names no size: servers cap it
/// themselves, and each page is one transaction, so small pages (the usual
/// server default is 100) cost more in commits than in transfer.
const DEFAULT_PAGE: usize = 1000;

struct Session<'a> {
    client: &'a Client,
    auth: Option<Auth>,
}

impl Session<'_> {
    fn get(&self, url: &str, tally: &mut Tally) -> Result<crate::http::Body, FeedError> {
        tally.requests += 1;
        match self.client.get(
            url,
            &Request {
                accept: Some(ACCEPT),
                auth: self.auth.as_ref(),
                ..Request::default()
            },
        )? {
            Fetched::Body(b) => Ok(b),
            Fetched::NotModified => Err(FeedError::Content {
                url: url.into(),
                message: "304 Not Modified to a request without validators".into(),
            }),
        }
    }

    fn json(&self, url: &str, tally: &mut Tally) -> Result<Value, FeedError> {
        let body = self.get(url, tally)?;
        serde_json::from_slice(&body.bytes).map_err(|e| json_error(url, &e))
    }
}

fn json_error(url: &str, e: &serde_json::Error) -> FeedError {
    FeedError::Content {
        url: url.into(),
        message: format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    }
}

/// `reference` resolved against `base` (absolute URL, absolute path, or relative), ending in `/`.
pub(crate) fn resolve(base: &str, reference: &str) -> String {
    let mut out = if reference.starts_with("http://") || reference.starts_with("https://") {
        reference.to_string()
    } else if let Some(path) = reference.strip_prefix('/') {
        // scheme://host[:port] of the base.
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        let host_end = base[after_scheme..]
            .find('/')
            .map_or(base.len(), |i| after_scheme + i);
        format!("{}/{path}", &base[..host_end])
    } else {
        let dir = base.rfind('/').map_or(base, |i| &base[..=i]);
        format!("{dir}{reference}")
    };
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(borrow, default)]
    objects: Option<Vec<&'a RawValue>>,
}

pub(crate) fn sync(
    store: &mut dyn KnowledgeBase,
    feed: &Feed,
    config: &FeedConfig,
    client: &Client,
    tally: &mut Tally,
) -> Result<(), FeedError> {
    let s = Session {
        client,
        auth: config.auth()?,
    };
    let discovery = s.json(&feed.url, tally)?;
    let root_ref = discovery
        .get("default")
        .and_then(Value::as_str)
        .or_else(|| {
            discovery
                .get("api_roots")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
        })
        .ok_or_else(|| FeedError::Content {
            url: feed.url.clone(),
            message: "the discovery document names no API root (`default`, `api_roots`)".into(),
        })?;
    let root = resolve(&feed.url, root_ref);
    let info = s.json(&root, tally)?;
    let speaks_21 = info
        .get("versions")
        .and_then(Value::as_array)
        .is_none_or(|v| {
            v.iter()
                .any(|v| v.as_str().is_some_and(|v| v.contains("2.1")))
        });
    if !speaks_21 {
        return Err(FeedError::Content {
            url: root,
            message: "the API root does not offer TAXII 2.1".into(),
        });
    }
    let collections_url = format!("{root}collections/");
    let list = s.json(&collections_url, tally)?;
    let id = pick_collection(&collections_url, &list, config.collection.as_deref())?;
    let objects_url = format!(
        "{collections_url}{}/objects/",
        utf8_percent_encode(&id, KEEP)
    );
    let opts = config.intake(&feed.name, cairn_intake::Format::Stix)?;
    let none = HashSet::new();

    // Where to start: a run cut short resumes at its pending page.
    let pending_next = feed
        .state
        .get("next")
        .and_then(Value::as_str)
        .map(str::to_string);
    let pending_after = feed
        .state
        .get("after")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (mut after, mut next) = match pending_next {
        Some(n) => (pending_after, Some(n)),
        None => (feed.cursor.clone(), None),
    };
    let mut resumed = next.is_some();
    for _ in 0..MAX_PAGES {
        let mut params: Vec<String> = Vec::new();
        if let Some(a) = &after {
            params.push(format!("added_after={}", utf8_percent_encode(a, KEEP)));
        }
        if let Some(n) = &next {
            params.push(format!("next={}", utf8_percent_encode(n, KEEP)));
        }
        params.push(format!(
            "limit={}",
            config.page_size.unwrap_or(DEFAULT_PAGE)
        ));
        let url = if params.is_empty() {
            objects_url.clone()
        } else {
            format!("{objects_url}?{}", params.join("&"))
        };
        let body = match s.get(&url, tally) {
            // The server no longer knows the saved `next`: start the same query over.
            Err(FeedError::Status {
                status: 400 | 404, ..
            }) if resumed => {
                resumed = false;
                next = None;
                continue;
            }
            other => other?,
        };
        resumed = false;
        let page: Page = serde_json::from_slice(&body.bytes).map_err(|e| json_error(&url, &e))?;
        let objects = page.objects.unwrap_or_default();
        let last = match body.header("x-taxii-date-added-last") {
            Some(l) => Some(l.to_string()),
            // A server that sends no date headers: the page's newest
            // `date_added`, from the manifest of the same query.
            None if !objects.is_empty() => {
                let manifest = url.replacen("/objects/", "/manifest/", 1);
                newest_date_added(&s.json(&manifest, tally)?)
            }
            None => None,
        };
        tally.fetched += objects.len();
        let more = page.more;
        let save = match (&more, &page.next) {
            (true, Some(n)) => FeedSave {
                state: Some(serde_json::json!({"next": n, "after": after})),
                ..FeedSave::default()
            },
            (true, None) => {
                // No `next`: page on by date, as TAXII allows.
                let Some(l) = &last else {
                    return Err(FeedError::Content {
                        url,
                        message: "`more` is true but the page has neither `next` nor \
                                  X-TAXII-Date-Added-Last to go on from"
                            .into(),
                    });
                };
                FeedSave {
                    cursor: Some(Some(l.clone())),
                    state: Some(serde_json::json!({})),
                    ..FeedSave::default()
                }
            }
            (false, _) => FeedSave {
                cursor: Some(last.clone().or_else(|| after.clone())),
                state: Some(serde_json::json!({})),
                ..FeedSave::default()
            },
        };
        if objects.is_empty() {
            store.save_feed_state(&feed.name, &save)?;
        } else {
            let raw: Vec<&str> = objects.iter().map(|o| o.get()).collect();
            let bytes = format!("{{\"type\":\"bundle\",\"objects\":[{}]}}", raw.join(","));
            let mut bundle = cairn_intake::parse_bytes(url_path(&url), bytes.as_bytes(), &opts)
                .map_err(|source| FeedError::Parse {
                    url: url.clone(),
                    source,
                })?;
            bundle.source = feed.name.clone();
            let report =
                store.ingest_feed(&feed.name, &bundle, None, Withdraw::Only(&none), &save)?;
            tally.count(&report);
        }
        if !more {
            return Ok(());
        }
        match page.next {
            Some(n) => next = Some(n),
            None => {
                after = last;
                next = None;
            }
        }
    }
    Err(FeedError::Content {
        url: objects_url,
        message: format!("still `more` after {MAX_PAGES} pages; stopped"),
    })
}

/// The latest `date_added` in a TAXII manifest (by time, not by text).
fn newest_date_added(manifest: &Value) -> Option<String> {
    manifest
        .get("objects")?
        .as_array()?
        .iter()
        .filter_map(|o| o.get("date_added")?.as_str())
        .filter_map(|d| Some((cairn_model::time::parse(d)?, d)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, d)| d.to_string())
}

/// The collection named by id or title; with none named, the only readable one.
fn pick_collection(url: &str, list: &Value, wanted: Option<&str>) -> Result<String, FeedError> {
    let cols: Vec<&Value> = list
        .get("collections")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let field = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
    let readable: Vec<&Value> = cols
        .iter()
        .copied()
        .filter(|c| c.get("can_read").and_then(Value::as_bool) != Some(false))
        .collect();
    let found = match wanted {
        Some(w) => readable
            .iter()
            .find(|c| field(c, "id").as_deref() == Some(w))
            .or_else(|| {
                readable
                    .iter()
                    .find(|c| field(c, "title").is_some_and(|t| t.eq_ignore_ascii_case(w)))
            }),
        None if readable.len() == 1 => readable.first(),
        None => None,
    };
    found.and_then(|c| field(c, "id")).ok_or_else(|| {
        let titles: Vec<String> = readable
            .iter()
            .map(|c| {
                format!(
                    "{} ({})",
                    field(c, "title").unwrap_or_default(),
                    field(c, "id").unwrap_or_default()
                )
            })
            .collect();
        FeedError::Content {
            url: url.into(),
            message: match wanted {
                Some(w) => format!(
                    "no readable collection with id or title `{w}`; there are: {}",
                    titles.join(", ")
                ),
                None => format!(
                    "name a collection (--collection); there are: {}",
                    titles.join(", ")
                ),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_roots_resolve_against_the_discovery_url() {
        let d = "http://127.0.0.1:8080/taxii2/";
        assert_eq!(
            resolve(d, "/taxii2/cairn/"),
            "http://127.0.0.1:8080/taxii2/cairn/"
        );
        assert_eq!(resolve(d, "cairn"), "http://127.0.0.1:8080/taxii2/cairn/");
        assert_eq!(resolve(d, "https://other/api1/"), "https://other/api1/");
    }

    #[test]
    fn the_newest_date_added_by_time() {
        let m = serde_json::json!({"objects": [
            {"id": "a", "date_added": "2024-01-01T00:00:00.5Z"},
            {"id": "b", "date_added": "2024-01-01T00:00:01Z"},
            {"id": "c", "date_added": "not a date"}]});
        assert_eq!(
            newest_date_added(&m).as_deref(),
            Some("2024-01-01T00:00:01Z")
        );
        assert_eq!(newest_date_added(&serde_json::json!({})), None);
    }

    #[test]
    fn collections_by_id_title_or_the_only_one() {
        let list = serde_json::json!({"collections": [
            {"id": "a1", "title": "Everything", "can_read": true},
            {"id": "b2", "title": "Insikt", "can_read": true},
            {"id": "c3", "title": "Hidden", "can_read": false}]});
        assert_eq!(pick_collection("u", &list, Some("b2")).unwrap(), "b2");
        assert_eq!(pick_collection("u", &list, Some("insikt")).unwrap(), "b2");
        let none = pick_collection("u", &list, None).unwrap_err().to_string();
        assert!(none.contains("Everything (a1)"), "{none}");
        assert!(pick_collection("u", &list, Some("Hidden")).is_err());
    }
}
