//! The store as TAXII 2.1 collections: one per source and one holding
//! everything, each a date-ordered, pageable feed of stored statements.
//! This module is storage only: it picks and orders statements; turning
//! them into STIX 2.1 is `cairn-export`'s job (the one emitter bundles and
//! TAXII share).
//!
//! What a statement's TAXII `date_added` is: when Cairn last stored a change
//! to it (`updated_at`, the time its current version arrived). Every write
//! transaction stamps its statements to the millisecond and strictly later
//! than anything already stored (`ingest::stamp`), so a client polling with
//! `added_after` = the last date it saw gets every later write exactly once.
//! Pages are ordered by that stamp, then by table (objects before
//! relationships) and row id, so a `next` cursor — the position of the last
//! item handed out — visits every statement exactly once while the store
//! does not change. The order is the stored text's, which the stamp rule
//! keeps equal to time order, so pages come straight off the `updated_at`
//! indexes.
//!
//! Versions: the store keeps the current version of each statement per
//! source (earlier ones live in `history`, which is not served). In a
//! source's collection an id therefore has one version, and `first`, `last`
//! and `all` agree; in the collection holding everything, two sources'
//! copies of one id are two versions, `last` (the default) picking the one
//! with the latest `modified` and `first` the earliest.
//!
//! TLP marking definitions: statements reference the standard TLP marking
//! definitions (the source's own references, or the one the emitter adds
//! for the statement's TLP), which no source stores. A collection serves the
//! TLP 2.0 definition of every TLP level its statements are stored under,
//! and the TLP 1.0 definition of every 1.0 id their JSON names, each dated
//! like the earliest such statement, withdrawn ones included (so a poller
//! meets it no later than the first object that needs it, and once) —
//! [`FeedItem::Marking`]. Statements whose id
//! is a standard TLP definition's are left out in favour of those.
//!
//! Compact lists (`lists.rs`): each active value is served as the
//! indicator and, when its list names an actor, the `indicates`
//! relationship list intake gave it (derived ids, derived statements),
//! dated by the value's `updated_at`; its position's table is 2 (the
//! indicator) or 3 (the relationship), the row id the `list_values` one.
//! The list branch walks `list_values_updated` with integer milliseconds
//! and is merged with the text-stamped tables in Rust.
//!
//! Ids: STIX ids whose UUID is not a v4 or v5 one are published under
//! [`cairn_model::canonical_stix_id`]; `match[id]` accepts either.
//!
//! Every query uses the unqualified table names, so a store narrowed with
//! [`Store::restrict`] serves only what its caller may see — collections
//! included: a source none of whose statements are visible has no
//! collection for that caller.

use crate::errors::KbError;
use crate::export::{OBJ_COLS, REL_COLS, Row, listed_relation_row, listed_row, read_row};
use crate::lists::{
    LIST_KEY_BASE, LIST_SOURCE_COLS, Listed, indicates_id, indicator_id, list_source_row, ms,
    ms_text,
};
use crate::{Statement, Store};
use cairn_model::{
    IndicatorKind, Observable, Tlp, canonical_stix_id, deterministic_id, has_v4_or_v5_uuid, time,
};
use rusqlite::params_from_iter;
use rusqlite::types::Value as Sql;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// Position tag of a list value's derived indicator.
const TAG_LIST_IND: i64 = 2;
/// Position tag of a list value's derived `indicates` relationship.
const TAG_LIST_REL: i64 = 3;

/// Largest page [`Store::feed_objects`] returns.
pub const FEED_MAX_PAGE: usize = 1000;

/// One TAXII collection.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FeedCollection {
    /// A UUID, stable for the source's name (UUIDv5).
    pub id: String,
    /// Human title.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// The source whose statements it holds; `None` for the collection of everything.
    pub source: Option<String>,
}

/// One value of TAXII's `match[version]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionMatch {
    /// The latest version of each object (the default).
    Last,
    /// The earliest.
    First,
    /// Every version.
    All,
    /// The version whose `modified` (or `created`, or date added) is this timestamp.
    At(String),
}

impl VersionMatch {
    /// Parses a comma-separated `match[version]` value.
    pub fn parse_list(s: &str) -> Result<Vec<VersionMatch>, KbError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out.push(match part {
                "last" => VersionMatch::Last,
                "first" => VersionMatch::First,
                "all" => VersionMatch::All,
                ts => match time::parse(ts) {
                    Some(_) => VersionMatch::At(ts.to_string()),
                    None => {
                        return Err(KbError::Invalid(format!(
                            "match[version] `{ts}` is not `first`, `last`, `all` or an RFC 3339 timestamp"
                        )));
                    }
                },
            });
        }
        Ok(out)
    }
}

/// What to take from a collection.
#[derive(Debug, Clone)]
pub struct FeedQuery {
    /// Only statements added (stored in their current version) strictly after this RFC 3339 time.
    pub added_after: Option<String>,
    /// Only these STIX ids (empty: any); published (canonical) or stored ids.
    pub ids: Vec<String>,
    /// Only these STIX types (empty: any).
    pub types: Vec<String>,
    /// Which versions (empty: the last).
    pub versions: Vec<VersionMatch>,
    /// Page size, 1 to [`FEED_MAX_PAGE`] (clamped).
    pub limit: usize,
    /// The cursor a previous page returned.
    pub next: Option<String>,
}

impl Default for FeedQuery {
    fn default() -> FeedQuery {
        FeedQuery {
            added_after: None,
            ids: Vec::new(),
            types: Vec::new(),
            versions: Vec::new(),
            limit: 100,
            next: None,
        }
    }
}

/// What one position of a feed holds.
#[derive(Debug, Clone)]
pub enum FeedItem {
    /// A stored statement, as [`Store::actor_subgraph`] gives them.
    Statement(Box<Statement>),
    /// A standard TLP marking definition (its id) that the collection's
    /// statements reference; see [`Tlp::marking_definition`].
    Marking(&'static str),
}

/// One item of a feed page.
#[derive(Debug, Clone)]
pub struct FeedObject {
    /// TAXII date added: when the store got this version (RFC 3339, milliseconds, UTC).
    pub date_added: String,
    /// The statement or marking definition.
    pub item: FeedItem,
}

impl FeedObject {
    /// The id as stored (publish it through [`cairn_model::canonical_stix_id`]).
    pub fn stix_id(&self) -> &str {
        match &self.item {
            FeedItem::Statement(st) => &st.stix_id,
            FeedItem::Marking(id) => id,
        }
    }
}

/// One page of a collection.
#[derive(Debug, Clone)]
pub struct FeedPage {
    /// Items in date-added order.
    pub objects: Vec<FeedObject>,
    /// Whether more items match after these.
    pub more: bool,
    /// The cursor for the next page, when `more`.
    pub next: Option<String>,
}

/// STIX cyber-observable types: no `created`/`modified`, so their TAXII
/// version is their date added.
pub(crate) const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

fn collection_uuid(parts: &[&str]) -> String {
    let id = deterministic_id("x-cairn-taxii-collection", parts);
    id.rsplit("--").next().unwrap_or_default().to_string()
}

fn all_collection() -> FeedCollection {
    FeedCollection {
        id: collection_uuid(&["all"]),
        title: "Cairn: everything".into(),
        description: "Every statement of every source the caller may see, as STIX 2.1".into(),
        source: None,
    }
}

fn source_collection(name: &str, format: &str) -> FeedCollection {
    FeedCollection {
        id: collection_uuid(&["source", name]),
        title: name.to_string(),
        description: format!("What the source `{name}` ({format}) states, as STIX 2.1"),
        source: Some(name.to_string()),
    }
}

/// A position in a collection: date added (the stored text), row id
/// (markings: their place in [`standard_markings`] less 100, so they come
/// first), table (-1 a TLP marking definition, 0 objects, 1 relations,
/// 2 a list value's indicator, 3 its `indicates` relationship).
/// Ordered in that order: each table's `updated_at` index is ordered by
/// (stamp, row id) already, so the branches merge without a sort even when
/// one ingest stamped a whole ATT&CK release alike.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    added: String,
    rid: i64,
    tag: i64,
}

impl Key {
    fn encode(&self) -> String {
        let plain = format!("{}|{}|{}", self.added, self.tag, self.rid);
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn decode(s: &str) -> Result<Key, KbError> {
        let bad = || KbError::Invalid("`next` is not a cursor this server issued".into());
        if !s.len().is_multiple_of(2) || s.len() > 256 {
            return Err(bad());
        }
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.split('|');
        let (Some(added), Some(tag), Some(rid), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let tag: i64 = tag.parse().map_err(|_| bad())?;
        let rid: i64 = rid.parse().map_err(|_| bad())?;
        if !(-1..=TAG_LIST_REL).contains(&tag) {
            return Err(bad());
        }
        Ok(Key {
            added: added.to_string(),
            tag,
            rid,
        })
    }
}

/// Positions a branch found, and the last one it scanned when it stopped
/// at its limit (more may follow).
type Scanned = (Vec<Key>, Option<Key>);

/// The standard TLP marking definitions a feed can serve: each level's 2.0
/// definition, then the 1.0 ones.
fn standard_markings() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Tlp::ALL.iter().map(|t| t.marking_id()).collect();
    v.extend(Tlp::ALL.iter().filter_map(|t| t.marking_id_v1()));
    v
}

/// Placeholders for `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A client's `added_after` as a lower bound on stored stamps: `(b, x)`
/// where a stored stamp `s` is strictly after the client's time exactly
/// when `s >= b AND s <> x` as text. `b` is the first millisecond after the
/// time; `x` is that second in the whole-second form older stores hold,
/// which sorts after `b` as text but is earlier when `b` has milliseconds.
fn added_after_bound(s: &str) -> Result<(String, String), KbError> {
    let t = time::parse(s).ok_or_else(|| {
        KbError::Invalid(format!("added_after `{s}` is not an RFC 3339 timestamp"))
    })?;
    let floor = jiff::Timestamp::from_millisecond(t.as_millisecond())
        .map_err(|e| KbError::Invalid(format!("added_after `{s}`: {e}")))?;
    let step = if floor <= t {
        jiff::SignedDuration::from_millis(1)
    } else {
        jiff::SignedDuration::ZERO
    };
    let bound = floor
        .checked_add(step)
        .map_err(|e| KbError::Invalid(format!("added_after `{s}`: {e}")))?;
    let b = time::format_ms(bound);
    let x = if b.ends_with(".000Z") {
        String::new()
    } else {
        format!("{}Z", &b[..19])
    };
    Ok((b, x))
}

/// The stored stamp `added` as TAXII's millisecond `date_added`.
fn date_added(added: &str) -> String {
    time::stix_ms(added).unwrap_or_else(|| added.to_string())
}

/// What TAXII calls a statement's version: its `modified` (STIX
/// cyber-observables: the date added; marking definitions, which are not
/// versioned: `created`), to the millisecond, as the emitter writes it.
pub(crate) fn statement_version(st: &Statement, added: &str) -> String {
    let raw_ts = |k: &str| {
        st.raw
            .get(k)
            .and_then(|v| v.as_str())
            .and_then(time::stix_ms)
    };
    let col = |v: &Option<String>| v.as_deref().and_then(time::stix_ms);
    let kind = st
        .raw
        .get("type")
        .and_then(|v| v.as_str())
        .unwrap_or(&st.kind);
    let found = if SCO_TYPES.contains(&kind) {
        None
    } else if kind == "marking-definition" {
        raw_ts("created")
            .or_else(|| col(&st.created))
            .or_else(|| time::stix_ms(&st.added_at))
    } else {
        raw_ts("modified")
            .or_else(|| col(&st.modified))
            .or_else(|| time::stix_ms(&st.updated_at))
    };
    found.unwrap_or_else(|| date_added(added))
}

/// Whether two version strings name the same millisecond.
fn same_version(a: &str, b: &str) -> bool {
    a == b
        || matches!((time::parse(a), time::parse(b)),
            (Some(x), Some(y)) if x.as_millisecond() == y.as_millisecond())
}

/// The first and last copies of one id in the collection of everything.
#[derive(Clone, Copy)]
struct Chosen {
    first: (i64, i64),
    last: (i64, i64),
}

/// Facts about a collection that take a scan of the whole store, kept per
/// store (its random id: a store re-created at the same path starts again
/// at generation 0) and content generation (and clearance and source).
type MarkingsKey = (String, i64, Option<Tlp>, Option<i64>);
type IdsKey = (String, i64);
type Markings = Arc<Vec<(Key, &'static str)>>;
type Aliases = Arc<HashMap<String, Vec<String>>>;

struct Caches {
    markings: HashMap<MarkingsKey, Markings>,
    aliases: HashMap<IdsKey, Aliases>,
}

/// A server asks for the same collection's facts on every page; they change
/// only with the store's generation. Bounded: cleared when it grows.
fn caches() -> &'static Mutex<Caches> {
    static CACHES: OnceLock<Mutex<Caches>> = OnceLock::new();
    CACHES.get_or_init(|| {
        Mutex::new(Caches {
            markings: HashMap::new(),
            aliases: HashMap::new(),
        })
    })
}

const CACHE_LIMIT: usize = 256;

impl Store {
    /// The TAXII collections this connection may see: everything first, then
    /// one per source that has a statement the connection can see, by name.
    pub fn feed_collections(&self) -> Result<Vec<FeedCollection>, KbError> {
        let mut out = vec![all_collection()];
        for (_, c) in self.feed_sources()? {
            out.push(c);
        }
        Ok(out)
    }

    /// The collection with this id, if this connection may see it.
    pub fn feed_collection(&self, id: &str) -> Result<Option<FeedCollection>, KbError> {
        Ok(self.resolve_collection(id)?.map(|(c, _)| c))
    }

    fn feed_sources(&self) -> Result<Vec<(i64, FeedCollection)>, KbError> {
        let mut q = self.conn.prepare(
            "SELECT s.id, s.name, s.format FROM sources s \
             WHERE EXISTS (SELECT 1 FROM objects o WHERE o.source_id = s.id) \
                OR EXISTS (SELECT 1 FROM relations r WHERE r.source_id = s.id) \
                OR EXISTS (SELECT 1 FROM list_values v WHERE v.source_id = s.id) \
             ORDER BY s.name",
        )?;
        let rows = q.query_map([], |r| {
            let name: String = r.get(1)?;
            let format: String = r.get(2)?;
            Ok((r.get(0)?, source_collection(&name, &format)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The collection and, for a source's, the source's row id.
    fn resolve_collection(
        &self,
        id: &str,
    ) -> Result<Option<(FeedCollection, Option<i64>)>, KbError> {
        let all = all_collection();
        if id.eq_ignore_ascii_case(&all.id) {
            return Ok(Some((all, None)));
        }
        Ok(self
            .feed_sources()?
            .into_iter()
            .find(|(_, c)| c.id.eq_ignore_ascii_case(id))
            .map(|(sid, c)| (c, Some(sid))))
    }

    /// One page of collection `collection` (see the module notes for what
    /// `date_added` and versions mean), or `None` when this connection has
    /// no such collection. Withdrawn statements are never served.
    pub fn feed_objects(
        &self,
        collection: &str,
        query: &FeedQuery,
    ) -> Result<Option<FeedPage>, KbError> {
        let Some((_, source_id)) = self.resolve_collection(collection)? else {
            return Ok(None);
        };
        let limit = query.limit.clamp(1, FEED_MAX_PAGE);
        let versions = if query.versions.is_empty() {
            vec![VersionMatch::Last]
        } else {
            query.versions.clone()
        };
        let any_version = versions.contains(&VersionMatch::All)
            // A source's collection holds one version per id.
            || (source_id.is_some()
                && versions
                    .iter()
                    .any(|v| matches!(v, VersionMatch::First | VersionMatch::Last)));
        // A reader must not learn hidden objects' ids from relationships pointing at them.
        let check_ends = self.ceiling.is_some();
        let bound = query
            .added_after
            .as_deref()
            .map(added_after_bound)
            .transpose()?;
        let cursor = query.next.as_deref().map(Key::decode).transpose()?;
        let ids = self.stored_ids(&query.ids)?;
        // Derived ids cannot be looked up: find the list values they name.
        let list_ids = if ids.is_empty() {
            None
        } else {
            Some(self.listed_matching(source_id, &ids)?)
        };

        let mut markings: Vec<(Key, &'static str)> = Vec::new();
        let wants_markings =
            query.types.is_empty() || query.types.iter().any(|t| t == "marking-definition");
        if wants_markings {
            for (k, id) in self.feed_markings(source_id)?.iter() {
                let after_bound = bound.as_ref().is_none_or(|(b, x)| {
                    k.added.as_str() >= b.as_str() && k.added.as_str() != x.as_str()
                });
                let after_cursor = cursor.as_ref().is_none_or(|c| k > c);
                let id_ok = ids.is_empty() || ids.iter().any(|i| i == id);
                let version_ok = any_version
                    || versions.iter().any(|v| match v {
                        VersionMatch::At(t) => Tlp::marking_definition(id)
                            .and_then(|d| d["created"].as_str().map(|c| same_version(c, t)))
                            .unwrap_or(false),
                        _ => true,
                    });
                if after_bound && after_cursor && id_ok && version_ok {
                    markings.push((k.clone(), *id));
                }
            }
        }
        let mut pending = markings.into_iter().peekable();

        // Filters drop few rows (a second source's copy, a relationship to
        // a hidden object) unless only exact versions are asked for.
        let only_stamps = versions.iter().all(|v| matches!(v, VersionMatch::At(_)));
        let batch = if !any_version && only_stamps {
            (limit + 64).max(500)
        } else if !any_version || check_ends {
            limit + 16
        } else {
            limit + 1
        };
        let mut out: Vec<(Key, FeedObject)> = Vec::with_capacity(limit);
        let mut more = false;
        let mut chosen: HashMap<String, Chosen> = HashMap::new();
        let mut scan_from = cursor.clone();
        // Pushes `item` unless the page is full, in which case there is more.
        let take = |k: Key, item: FeedObject, out: &mut Vec<(Key, FeedObject)>| -> bool {
            if out.len() == limit {
                return false;
            }
            out.push((k, item));
            true
        };
        'scan: loop {
            let (keys, horizon) = self.feed_keys(
                source_id,
                &ids,
                list_ids.as_deref(),
                &query.types,
                bound.as_ref(),
                scan_from.as_ref(),
                batch,
            )?;
            let exhausted = horizon.is_none();
            let mut rows = self.load_rows(&keys)?;
            if !any_version {
                self.choose_copies(&rows, &mut chosen)?;
            }
            for key in keys {
                while let Some((mk, _)) = pending.peek()
                    && *mk < key
                {
                    let Some((mk, id)) = pending.next() else {
                        break;
                    };
                    let item = FeedObject {
                        date_added: date_added(&mk.added),
                        item: FeedItem::Marking(id),
                    };
                    if !take(mk, item, &mut out) {
                        more = true;
                        break 'scan;
                    }
                }
                let Some(row) = rows.remove(&(key.tag, key.rid)) else {
                    continue;
                };
                if Tlp::from_marking_ref(&row.st.stix_id).is_some() {
                    continue;
                }
                let ver = statement_version(&row.st, &key.added);
                if !any_version && !version_wanted(&row, &key, &ver, &versions, &chosen) {
                    continue;
                }
                if check_ends && !self.ends_visible(&row, key.tag == TAG_LIST_REL)? {
                    continue;
                }
                let item = FeedObject {
                    date_added: date_added(&key.added),
                    item: FeedItem::Statement(Box::new(row.st)),
                };
                if !take(key, item, &mut out) {
                    more = true;
                    break 'scan;
                }
            }
            if exhausted {
                for (mk, id) in pending.by_ref() {
                    let item = FeedObject {
                        date_added: date_added(&mk.added),
                        item: FeedItem::Marking(id),
                    };
                    if !take(mk, item, &mut out) {
                        more = true;
                        break;
                    }
                }
                break;
            }
            // Everything up to the horizon was scanned (filtered keys included).
            scan_from = horizon;
        }
        let next = if more {
            out.last().map(|(k, _)| k.encode())
        } else {
            None
        };
        Ok(Some(FeedPage {
            objects: out.into_iter().map(|(_, o)| o).collect(),
            more,
            next,
        }))
    }

    /// The ids to look for: those asked for, and the stored ids published
    /// under them (see [`canonical_stix_id`]).
    fn stored_ids(&self, asked: &[String]) -> Result<Vec<String>, KbError> {
        if asked.is_empty() {
            return Ok(Vec::new());
        }
        let mut out: Vec<String> = asked.to_vec();
        if asked.iter().any(|i| has_v4_or_v5_uuid(i)) {
            let aliases = self.id_aliases()?;
            for i in asked {
                if let Some(orig) = aliases.get(i) {
                    out.extend(orig.iter().cloned());
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The list positions (row id, tag) whose derived id is one of `ids`.
    /// Derived ids are hashes: one pass over the active values of the lists
    /// in scope, computing each value's ids, in bounded memory (only what
    /// matches is kept); skipped unless an indicator or relationship id is
    /// asked for.
    fn listed_matching(
        &self,
        source_id: Option<i64>,
        ids: &[String],
    ) -> Result<Vec<(i64, i64)>, KbError> {
        let wants_ind = ids.iter().any(|i| i.starts_with("indicator--"));
        let wants_rel = ids.iter().any(|i| i.starts_with("relationship--"));
        let mut out = Vec::new();
        if !wants_ind && !wants_rel {
            return Ok(out);
        }
        let asked: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut lq = self.conn.prepare(
            "SELECT ls.source_id, s.name, ls.actor_ref FROM list_sources ls \
             JOIN sources s ON s.id = ls.source_id",
        )?;
        let lists: Vec<(i64, String, Option<String>)> = lq
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut vq = self.conn.prepare(
            "SELECT id, kind, value FROM list_values WHERE source_id = ?1 AND withdrawn_at IS NULL",
        )?;
        for (sid, name, actor) in lists {
            if source_id.is_some_and(|s| s != sid) || (!wants_ind && actor.is_none()) {
                continue;
            }
            let mut rows = vq.query([sid])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(1)?;
                let value: String = r.get(2)?;
                let ind = indicator_id(&name, &kind, &value);
                if asked.contains(ind.as_str()) {
                    out.push((r.get(0)?, TAG_LIST_IND));
                }
                if wants_rel
                    && let Some(a) = &actor
                    && asked.contains(indicates_id(&ind, a).as_str())
                {
                    out.push((r.get(0)?, TAG_LIST_REL));
                }
            }
        }
        Ok(out)
    }

    /// Stored ids that are published under another id: published → stored.
    fn id_aliases(&self) -> Result<Aliases, KbError> {
        let key = match &self.path {
            Some(_) => Some((self.store_id()?, self.generation()?)),
            None => None,
        };
        if let Some(k) = &key
            && let Ok(c) = caches().lock()
            && let Some(v) = c.aliases.get(k)
        {
            return Ok(v.clone());
        }
        // Only ids whose version digit is not 4 or 5 (or of the wrong shape)
        // can be published differently; the covering indexes answer this.
        let odd = |t: &str| {
            format!(
                "SELECT DISTINCT stix_id FROM {t} WHERE NOT (length(stix_id) = instr(stix_id, '--') + 37 \
                 AND substr(stix_id, instr(stix_id, '--') + 16, 1) IN ('4', '5'))"
            )
        };
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for t in ["objects", "relations"] {
            let mut q = self.conn.prepare(&odd(t))?;
            let rows = q.query_map([], |r| r.get::<_, String>(0))?;
            for id in rows {
                let id = id?;
                if !has_v4_or_v5_uuid(&id) {
                    let published = canonical_stix_id(&id).into_owned();
                    map.entry(published).or_default().push(id);
                }
            }
        }
        let map = Arc::new(map);
        if let Some(k) = key
            && let Ok(mut c) = caches().lock()
        {
            if c.aliases.len() > CACHE_LIMIT {
                c.aliases.clear();
            }
            c.aliases.insert(k, map.clone());
        }
        Ok(map)
    }

    /// The standard TLP marking definitions collection `source_id` serves
    /// (see the module notes), each at its position.
    fn feed_markings(&self, source_id: Option<i64>) -> Result<Markings, KbError> {
        let key = match &self.path {
            Some(_) => Some((
                self.store_id()?,
                self.generation()?,
                self.ceiling,
                source_id,
            )),
            None => None,
        };
        if let Some(k) = &key
            && let Ok(c) = caches().lock()
            && let Some(v) = c.markings.get(k)
        {
            return Ok(v.clone());
        }
        let all = standard_markings();
        let v1: Vec<&'static str> = Tlp::ALL.iter().filter_map(|t| t.marking_id_v1()).collect();
        // Earliest stamp per marking id, as stored text (which orders as
        // time). Withdrawn statements count: their stamps stay put, so a
        // marking's date never moves when the statement it was dated by is
        // withdrawn (it moves, to a later date, only when that statement
        // changes: a second delivery, never a missed one, since every new
        // stamp is later than all stored ones).
        let mut first: HashMap<&'static str, String> = HashMap::new();
        let mut note = |id: &'static str, at: String| {
            let e = first.entry(id).or_insert_with(|| at.clone());
            if at < *e {
                *e = at;
            }
        };
        for t in ["objects", "relations"] {
            let v1_cols: Vec<String> = (0..v1.len())
                .map(|i| {
                    format!(
                        "MIN(CASE WHEN instr(raw, ?{}) > 0 THEN updated_at END)",
                        i + 1
                    )
                })
                .collect();
            let mut sql = format!(
                "SELECT tlp, MIN(updated_at), {} FROM {t} WHERE 1",
                v1_cols.join(", ")
            );
            let mut params: Vec<Sql> = v1.iter().map(|m| Sql::Text(m.to_string())).collect();
            if let Some(sid) = source_id {
                sql.push_str(&format!(" AND source_id = ?{}", v1.len() + 1));
                params.push(Sql::Integer(sid));
            }
            sql.push_str(" GROUP BY tlp");
            let mut q = self.conn.prepare(&sql)?;
            let mut rows = q.query(params_from_iter(params))?;
            while let Some(r) = rows.next()? {
                let tlp: String = r.get(0)?;
                if let (Ok(t), Some(at)) = (tlp.parse::<Tlp>(), r.get::<_, Option<String>>(1)?) {
                    note(t.marking_id(), at);
                }
                for (i, id) in v1.iter().enumerate() {
                    if let Some(at) = r.get::<_, Option<String>>(i + 2)? {
                        note(id, at);
                    }
                }
            }
        }
        // List values: their list's TLP, dated by the earliest value's stamp.
        let mut sql = String::from(
            "SELECT ls.tlp, MIN(v.updated_at) FROM list_values v \
             JOIN list_sources ls ON ls.source_id = v.source_id",
        );
        let mut params: Vec<Sql> = Vec::new();
        if let Some(sid) = source_id {
            sql.push_str(" WHERE v.source_id = ?1");
            params.push(Sql::Integer(sid));
        }
        sql.push_str(" GROUP BY ls.tlp");
        let mut q = self.conn.prepare(&sql)?;
        let mut rows = q.query(params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            let tlp: String = r.get(0)?;
            if let (Ok(t), Some(at)) = (tlp.parse::<Tlp>(), r.get::<_, Option<i64>>(1)?) {
                note(t.marking_id(), ms_text(at));
            }
        }
        let mut out: Vec<(Key, &'static str)> = all
            .iter()
            .enumerate()
            .filter_map(|(i, id)| {
                first.get(id).map(|at| {
                    let key = Key {
                        added: at.clone(),
                        rid: i64::try_from(i).unwrap_or(0) - 100,
                        tag: -1,
                    };
                    (key, *id)
                })
            })
            .collect();
        out.sort();
        let out = Arc::new(out);
        if let Some(k) = key
            && let Ok(mut c) = caches().lock()
        {
            if c.markings.len() > CACHE_LIMIT {
                c.markings.clear();
            }
            c.markings.insert(k, out.clone());
        }
        Ok(out)
    }

    /// The next positions after `cursor`, in feed order, and how far the
    /// scan got (`None`: nothing matches after these). Only keys: each
    /// branch walks its `updated_at` index for at most `batch` rows (its own
    /// `ORDER BY … LIMIT`), and the branches are merged, so a page costs what
    /// it returns, not what the collection holds. `list_ids`: when ids were
    /// asked for, the list positions that have them.
    #[allow(clippy::too_many_arguments)]
    fn feed_keys(
        &self,
        source_id: Option<i64>,
        ids: &[String],
        list_ids: Option<&[(i64, i64)]>,
        types: &[String],
        bound: Option<&(String, String)>,
        cursor: Option<&Key>,
        batch: usize,
    ) -> Result<(Vec<Key>, Option<Key>), KbError> {
        let limit = i64::try_from(batch).unwrap_or(i64::MAX);
        let wants_rel =
            types.is_empty() || types.iter().any(|t| t == "relationship" || t == "sighting");
        let wants_obj =
            types.is_empty() || types.iter().any(|t| t != "relationship" && t != "sighting");
        let mut branches: Vec<String> = Vec::new();
        let mut params: Vec<Sql> = Vec::new();
        for (alias, table, tag, wanted) in [
            ("o", "objects", 0, wants_obj),
            ("r", "relations", 1, wants_rel),
        ] {
            if !wanted {
                continue;
            }
            let type_expr = if alias == "o" {
                "o.kind"
            } else {
                "(CASE WHEN r.rel_type = 'sighting-of' THEN 'sighting' ELSE 'relationship' END)"
            };
            let mut sql = format!(
                "SELECT * FROM (SELECT {alias}.updated_at AS added, {tag} AS tag, {alias}.id AS rid \
                 FROM {table} {alias} WHERE {alias}.withdrawn_at IS NULL"
            );
            if let Some(sid) = source_id {
                // `+`: not through the (source, id) index, which would sort
                // a whole source per page; the stamp index walks in order.
                sql.push_str(&format!(" AND +{alias}.source_id = ?"));
                params.push(Sql::Integer(sid));
            }
            if !ids.is_empty() {
                sql.push_str(&format!(" AND {alias}.stix_id IN ({})", marks(ids.len())));
                params.extend(ids.iter().map(|i| Sql::Text(i.clone())));
            }
            if !types.is_empty() {
                sql.push_str(&format!(" AND {type_expr} IN ({})", marks(types.len())));
                params.extend(types.iter().map(|t| Sql::Text(t.clone())));
            }
            if let Some((b, x)) = bound {
                sql.push_str(&format!(
                    " AND {alias}.updated_at >= ? AND {alias}.updated_at <> ?"
                ));
                params.push(Sql::Text(b.clone()));
                params.push(Sql::Text(x.clone()));
            }
            if let Some(k) = cursor {
                // Spelled so the index serves the range: at or after the
                // cursor's stamp, and past the cursor within it.
                sql.push_str(&format!(
                    " AND {alias}.updated_at >= ? AND ({alias}.updated_at > ? OR {alias}.id > ? \
                     OR ({alias}.id = ? AND {tag} > ?))"
                ));
                params.push(Sql::Text(k.added.clone()));
                params.push(Sql::Text(k.added.clone()));
                params.push(Sql::Integer(k.rid));
                params.push(Sql::Integer(k.rid));
                params.push(Sql::Integer(k.tag));
            }
            sql.push_str(&format!(
                " ORDER BY {alias}.updated_at, {alias}.id LIMIT ?)"
            ));
            params.push(Sql::Integer(limit));
            branches.push(sql);
        }
        let mut keys: Vec<Key> = Vec::new();
        let mut horizon: Option<Key> = None;
        // A full branch may hold more after its last key: the merge is
        // complete only up to the earliest such last key.
        let mut cut = |last: Key| {
            if horizon.as_ref().is_none_or(|h| last < *h) {
                horizon = Some(last);
            }
        };
        if !branches.is_empty() {
            let mut sql = branches.join(" UNION ALL ");
            // (stamp, row id, table): the order of each `updated_at` index.
            sql.push_str(" ORDER BY 1, 3, 2 LIMIT ?");
            params.push(Sql::Integer(limit));
            let mut q = self.conn.prepare_cached(&sql)?;
            let rows = q.query_map(params_from_iter(params), |r| {
                Ok(Key {
                    added: r.get(0)?,
                    tag: r.get(1)?,
                    rid: r.get(2)?,
                })
            })?;
            keys = rows.collect::<Result<_, _>>()?;
            if keys.len() >= batch
                && let Some(last) = keys.last()
            {
                cut(last.clone());
            }
        }
        if let Some((listed, last)) =
            self.list_keys(source_id, list_ids, types, bound, cursor, limit)?
        {
            keys.extend(listed);
            if let Some(last) = last {
                cut(last);
            }
        }
        keys.sort();
        if let Some(h) = &horizon {
            keys.retain(|k| k <= h);
        }
        Ok((keys, horizon))
    }

    /// The list branch of [`Store::feed_keys`]: positions of active list
    /// values after `cursor` (at most `limit` values, each one or two
    /// positions), and the last position scanned when the limit was
    /// reached. `None` when no list position can match.
    fn list_keys(
        &self,
        source_id: Option<i64>,
        list_ids: Option<&[(i64, i64)]>,
        types: &[String],
        bound: Option<&(String, String)>,
        cursor: Option<&Key>,
        limit: i64,
    ) -> Result<Option<Scanned>, KbError> {
        let tag_ok = |tag: i64, ty: &str| {
            (types.is_empty() || types.iter().any(|t| t == ty))
                && list_ids.is_none_or(|l| l.iter().any(|(_, t)| *t == tag))
        };
        let (want_ind, want_rel) = (
            tag_ok(TAG_LIST_IND, "indicator"),
            tag_ok(TAG_LIST_REL, "relationship"),
        );
        if !want_ind && !want_rel {
            return Ok(None);
        }
        // Lists in scope, and whether each names an actor. None in scope:
        // no scan (a STIX source's collection must not walk a big list's index).
        let mut aq = self
            .conn
            .prepare_cached("SELECT source_id, actor_ref IS NOT NULL FROM list_sources")?;
        let lists: HashMap<i64, bool> = aq
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let in_scope = match source_id {
            Some(sid) => lists.contains_key(&sid),
            None => !lists.is_empty(),
        };
        if !in_scope {
            return Ok(None);
        }
        let mut sql = String::from(
            "SELECT v.updated_at, v.id, v.source_id FROM list_values v \
             WHERE v.withdrawn_at IS NULL",
        );
        let mut params: Vec<Sql> = Vec::new();
        if let Some(sid) = source_id {
            sql.push_str(" AND +v.source_id = ?");
            params.push(Sql::Integer(sid));
        }
        if !want_ind {
            sql.push_str(
                " AND +v.source_id IN (SELECT source_id FROM list_sources WHERE actor_ref IS NOT NULL)",
            );
        }
        if let Some(l) = list_ids {
            let mut rids: Vec<i64> = l.iter().map(|(rid, _)| *rid).collect();
            rids.sort_unstable();
            rids.dedup();
            if rids.is_empty() {
                return Ok(None);
            }
            sql.push_str(&format!(" AND v.id IN ({})", marks(rids.len())));
            params.extend(rids.into_iter().map(Sql::Integer));
        }
        if let Some((b, _)) = bound {
            // `b` is the first millisecond after the client's time.
            sql.push_str(" AND v.updated_at >= ?");
            params.push(Sql::Integer(ms(b)?));
        }
        // Each part one index range: the rest of the cursor's stamp from its
        // row id on (a whole list shares one stamp: a deep page must not
        // walk the rows before it), then later stamps. The exact key
        // comparison below drops what is not after the cursor.
        let mut parts: Vec<(String, Vec<Sql>)> = Vec::new();
        match cursor {
            Some(k) => {
                let at = ms(&k.added).map_err(|_| {
                    KbError::Invalid("`next` is not a cursor this server issued".into())
                })?;
                parts.push((
                    " AND v.updated_at = ? AND v.id >= ?".into(),
                    vec![Sql::Integer(at), Sql::Integer(k.rid)],
                ));
                parts.push((" AND v.updated_at > ?".into(), vec![Sql::Integer(at)]));
            }
            None => parts.push((String::new(), Vec::new())),
        }
        let mut rows: Vec<(i64, i64, i64)> = Vec::new();
        for (cond, extra) in parts {
            let left = limit - i64::try_from(rows.len()).unwrap_or(i64::MAX);
            if left <= 0 {
                break;
            }
            let sql = format!("{sql}{cond} ORDER BY v.updated_at, v.id LIMIT ?");
            let mut p = params.clone();
            p.extend(extra);
            p.push(Sql::Integer(left));
            let mut q = self.conn.prepare_cached(&sql)?;
            let got = q.query_map(params_from_iter(p), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            for row in got {
                rows.push(row?);
            }
        }
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit;
        let mut keys = Vec::with_capacity(rows.len() * 2);
        let mut last = None;
        for (at, rid, sid) in rows {
            let added = ms_text(at);
            let wanted = |tag: i64| list_ids.is_none_or(|l| l.contains(&(rid, tag)));
            for (tag, on) in [
                (TAG_LIST_IND, want_ind),
                (
                    TAG_LIST_REL,
                    want_rel && lists.get(&sid).copied().unwrap_or(false),
                ),
            ] {
                let key = Key {
                    added: added.clone(),
                    rid,
                    tag,
                };
                if on && wanted(tag) && cursor.is_none_or(|c| key > *c) {
                    keys.push(key);
                }
            }
            if full {
                last = Some(Key {
                    added,
                    rid,
                    tag: TAG_LIST_REL,
                });
            }
        }
        Ok(Some((keys, last)))
    }

    /// The statements at these positions, by (table, row id).
    fn load_rows(&self, keys: &[Key]) -> Result<HashMap<(i64, i64), Row>, KbError> {
        let mut out = HashMap::with_capacity(keys.len());
        for (tag, table, alias, cols) in [
            (0, "objects", "o", OBJ_COLS),
            (1, "relations", "r", REL_COLS),
        ] {
            let rids: Vec<i64> = keys
                .iter()
                .filter(|k| k.tag == tag)
                .map(|k| k.rid)
                .collect();
            for chunk in rids.chunks(400) {
                let sql = format!(
                    "SELECT {cols} FROM {table} {alias} JOIN sources s ON s.id = {alias}.source_id \
                     WHERE {alias}.id IN ({})",
                    marks(chunk.len())
                );
                let mut q = self.conn.prepare(&sql)?;
                let rows =
                    q.query_map(params_from_iter(chunk.iter()), |r| read_row(r, tag == 1))?;
                let mut got: Vec<Row> = rows.collect::<Result<_, _>>()?;
                if tag == 0 {
                    self.fill_observables(&mut got)?;
                }
                for row in got {
                    out.insert((tag, row.rowid), row);
                }
            }
        }
        self.load_listed(keys, &mut out)?;
        Ok(out)
    }

    /// The derived statements at list positions (tags 2 and 3), built as
    /// the actor bundle export builds them.
    fn load_listed(&self, keys: &[Key], out: &mut HashMap<(i64, i64), Row>) -> Result<(), KbError> {
        let mut rids: Vec<i64> = keys
            .iter()
            .filter(|k| k.tag >= TAG_LIST_IND)
            .map(|k| k.rid)
            .collect();
        rids.sort_unstable();
        rids.dedup();
        let wanted: HashSet<(i64, i64)> = keys.iter().map(|k| (k.tag, k.rid)).collect();
        for chunk in rids.chunks(400) {
            let sql = format!(
                "SELECT v.id, v.kind, v.value, v.name, v.added_at, v.updated_at, {LIST_SOURCE_COLS} \
                 FROM list_values v JOIN list_sources ls ON ls.source_id = v.source_id \
                 JOIN sources s ON s.id = v.source_id WHERE v.id IN ({})",
                marks(chunk.len())
            );
            let mut q = self.conn.prepare(&sql)?;
            let mut rows = q.query(params_from_iter(chunk.iter()))?;
            while let Some(r) = rows.next()? {
                let rid: i64 = r.get(0)?;
                let kind: String = r.get(1)?;
                let Ok(kind) = kind.parse::<IndicatorKind>() else {
                    continue;
                };
                let list = list_source_row(r, 6)?;
                let listed = Listed {
                    list: &list,
                    key: LIST_KEY_BASE + rid,
                    observable: Observable {
                        kind,
                        value: r.get(2)?,
                    },
                    written: r.get(3)?,
                    added_at: r.get(4)?,
                    updated_at: r.get(5)?,
                };
                let added = ms_text(listed.added_at);
                let updated = ms_text(listed.updated_at);
                if wanted.contains(&(TAG_LIST_IND, rid)) {
                    let row = listed_row(&listed.indicator(), listed.key, &added, &updated);
                    out.insert((TAG_LIST_IND, rid), row);
                }
                if wanted.contains(&(TAG_LIST_REL, rid))
                    && let Some(rel) = listed.indicates()
                {
                    let row = listed_relation_row(&rel, listed.key, &added, &updated);
                    out.insert((TAG_LIST_REL, rid), row);
                }
            }
        }
        Ok(())
    }

    /// Notes, for each id among `rows` not seen yet, which live visible copy
    /// is its first and which its last version.
    fn choose_copies(
        &self,
        rows: &HashMap<(i64, i64), Row>,
        chosen: &mut HashMap<String, Chosen>,
    ) -> Result<(), KbError> {
        // List values' derived ids are theirs alone: one copy each.
        let mut fresh: Vec<&str> = rows
            .iter()
            .filter(|((tag, _), _)| *tag < TAG_LIST_IND)
            .map(|(_, r)| r.st.stix_id.as_str())
            .filter(|id| !chosen.contains_key(*id))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        if chosen.len() > 10_000 {
            chosen.clear();
        }
        // Most ids have one copy: find the few with more (withdrawn ones
        // counted, so the id indexes answer alone) before reading any copy.
        let mut wanted: Vec<&str> = Vec::new();
        for chunk in fresh.chunks(400) {
            let sql = format!(
                "SELECT stix_id FROM (SELECT stix_id FROM objects WHERE stix_id IN ({m}) \
                 UNION ALL SELECT stix_id FROM relations WHERE stix_id IN ({m})) \
                 GROUP BY stix_id HAVING COUNT(*) > 1",
                m = marks(chunk.len())
            );
            let mut q = self.conn.prepare(&sql)?;
            let params = chunk.iter().chain(chunk.iter());
            let found = q.query_map(params_from_iter(params), |r| r.get::<_, String>(0))?;
            for id in found {
                let id = id?;
                if let Some(w) = chunk.iter().find(|c| **c == id) {
                    wanted.push(w);
                }
            }
        }
        // Per id: each copy's (table, row id) and version.
        type Copies = Vec<((i64, i64), String)>;
        let mut copies: HashMap<String, Copies> = HashMap::new();
        for (tag, table, alias, cols) in [
            (0, "objects", "o", OBJ_COLS),
            (1, "relations", "r", REL_COLS),
        ] {
            for chunk in wanted.chunks(400) {
                let sql = format!(
                    "SELECT {cols} FROM {table} {alias} JOIN sources s ON s.id = {alias}.source_id \
                     WHERE {alias}.withdrawn_at IS NULL AND {alias}.stix_id IN ({})",
                    marks(chunk.len())
                );
                let mut q = self.conn.prepare(&sql)?;
                let found =
                    q.query_map(params_from_iter(chunk.iter()), |r| read_row(r, tag == 1))?;
                for row in found {
                    let row = row?;
                    let ver = statement_version(&row.st, &row.st.updated_at);
                    copies
                        .entry(row.st.stix_id.clone())
                        .or_default()
                        .push(((tag, row.rowid), ver));
                }
            }
        }
        for (id, mut list) in copies {
            list.sort_by_key(|(k, _)| *k);
            // By time when versions parse, by text otherwise; ties go to the earlier row.
            let rank = |v: &String| (time::parse(v), v.clone());
            let mut first = &list[0];
            let mut last = &list[0];
            for c in &list {
                if rank(&c.1) < rank(&first.1) {
                    first = c;
                }
                if rank(&c.1) > rank(&last.1) {
                    last = c;
                }
            }
            chosen.insert(
                id,
                Chosen {
                    first: first.0,
                    last: last.0,
                },
            );
        }
        Ok(())
    }

    /// Whether the objects a relationship (or sighting) points at are live and
    /// visible to this connection. `listed`: a list value's relationship,
    /// whose source end is the (visible) value itself.
    fn ends_visible(&self, row: &Row, listed: bool) -> Result<bool, KbError> {
        let Some((src, tgt)) = &row.ends else {
            return Ok(true);
        };
        let mut q = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM objects WHERE stix_id = ?1 AND withdrawn_at IS NULL)",
        )?;
        let mut ends: Vec<&str> = Vec::with_capacity(2);
        if row.st.kind != "sighting-of" && !listed {
            ends.push(src);
        }
        ends.push(tgt);
        for end in ends {
            if !q.query_row([end], |r| r.get::<_, bool>(0))? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Whether `row` (at `key`, of version `ver`) is one of the versions asked
/// for, in the collection of everything.
fn version_wanted(
    row: &Row,
    key: &Key,
    ver: &str,
    versions: &[VersionMatch],
    chosen: &HashMap<String, Chosen>,
) -> bool {
    versions.iter().any(|v| match v {
        VersionMatch::All => true,
        VersionMatch::At(t) => same_version(t, ver),
        VersionMatch::First | VersionMatch::Last => {
            let me = (key.tag, key.rid);
            chosen.get(&row.st.stix_id).is_none_or(|c| {
                if *v == VersionMatch::First {
                    c.first == me
                } else {
                    c.last == me
                }
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ListHead, ListValue};
    use cairn_model::{Bundle, Object, Provenance, Relation};

    fn obj(id: &str, kind: &str, name: &str, src: &str, tlp: Tlp) -> Object {
        Object {
            id: id.into(),
            kind: kind.into(),
            name: Some(name.into()),
            prov: Provenance {
                source: src.into(),
                tlp,
                ..Default::default()
            },
            ..Object::default()
        }
    }

    fn rel(id: &str, t: &str, s: &str, g: &str, src: &str) -> Relation {
        Relation {
            id: id.into(),
            rel_type: t.into(),
            source_ref: s.into(),
            target_ref: g.into(),
            prov: Provenance {
                source: src.into(),
                ..Default::default()
            },
            ..Relation::default()
        }
    }

    const ACTOR: &str = "intrusion-set--00000000-0000-4000-8000-000000000001";
    const TECH: &str = "attack-pattern--00000000-0000-4000-8000-000000000002";
    const RED: &str = "indicator--00000000-0000-4000-8000-000000000003";
    const MAL: &str = "malware--00000000-0000-4000-8000-000000000004";
    const LOC: &str = "location--00000000-0000-4000-8000-000000000005";
    /// A MISP galaxy's UUIDv7: published under another id.
    const V7: &str = "intrusion-set--019514dc-c894-751f-8b49-5dcd3c8b6f3a";

    fn bundle_a() -> Bundle {
        let mut tech = obj(TECH, "attack-pattern", "Phishing", "a", Tlp::Clear);
        tech.raw = format!(
            r#"{{"type":"attack-pattern","id":"{TECH}","name":"Phishing","created":"2020-01-01T00:00:00.000Z","modified":"2023-05-06T07:08:09.123Z"}}"#
        );
        tech.modified = Some("2023-05-06T07:08:09.123Z".into());
        let mut red = obj(RED, "indicator", "evil.example", "a", Tlp::Red);
        red.observables = vec![Observable::new(IndicatorKind::Domain, "evil.example")];
        let mal = obj(MAL, "malware", "Wrench", "a", Tlp::Amber);
        Bundle {
            source: "a".into(),
            format: "stix".into(),
            objects: vec![
                obj(ACTOR, "intrusion-set", "Test Panda", "a", Tlp::Clear),
                tech,
                red,
                mal,
            ],
            relations: vec![
                rel("relationship--1", "uses", ACTOR, TECH, "a"),
                rel("relationship--2", "uses", ACTOR, MAL, "a"),
                // CLEAR itself, but it names the RED indicator.
                rel("relationship--4", "indicates", RED, ACTOR, "a"),
            ],
            ..Bundle::default()
        }
    }

    fn bundle_b() -> Bundle {
        let mut loc = obj(LOC, "location", "Taiwan", "b", Tlp::Green);
        loc.country = Some("TW".into());
        let mut actor = obj(ACTOR, "intrusion-set", "Test Panda", "b", Tlp::Clear);
        actor.modified = Some("2030-01-01T00:00:00.000Z".into());
        Bundle {
            source: "b".into(),
            format: "misp-galaxy".into(),
            objects: vec![
                actor,
                loc,
                obj(V7, "intrusion-set", "Seven", "b", Tlp::Clear),
            ],
            relations: vec![rel("relationship--3", "targets", ACTOR, LOC, "b")],
            ..Bundle::default()
        }
    }

    fn store_at(path: &std::path::Path) -> Store {
        let mut s = Store::open(path).unwrap();
        s.ingest(&bundle_a(), None, None).unwrap();
        s.ingest(&bundle_b(), None, None).unwrap();
        s
    }

    fn all_id(s: &Store) -> String {
        s.feed_collections().unwrap()[0].id.clone()
    }

    fn page(s: &Store, coll: &str, q: &FeedQuery) -> FeedPage {
        s.feed_objects(coll, q).unwrap().expect("collection exists")
    }

    fn walk(s: &Store, coll: &str, mut q: FeedQuery) -> Vec<FeedObject> {
        let mut out = Vec::new();
        loop {
            let p = page(s, coll, &q);
            assert!(p.objects.len() <= q.limit);
            out.extend(p.objects);
            if !p.more {
                assert!(p.next.is_none());
                return out;
            }
            q.next = p.next;
            assert!(q.next.is_some());
        }
    }

    fn statements(items: &[FeedObject]) -> Vec<&Statement> {
        items
            .iter()
            .filter_map(|o| match &o.item {
                FeedItem::Statement(st) => Some(st.as_ref()),
                FeedItem::Marking(_) => None,
            })
            .collect()
    }

    fn marking_ids(items: &[FeedObject]) -> Vec<&'static str> {
        items
            .iter()
            .filter_map(|o| match &o.item {
                FeedItem::Marking(id) => Some(*id),
                FeedItem::Statement(_) => None,
            })
            .collect()
    }

    #[test]
    fn collections_per_source_with_stable_ids() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_at(&dir.path().join("t.db"));
        let cs = s.feed_collections().unwrap();
        assert_eq!(cs.len(), 3);
        assert_eq!(cs[0].source, None);
        assert_eq!(cs[1].source.as_deref(), Some("a"));
        assert_eq!(cs[2].source.as_deref(), Some("b"));
        assert_eq!(cs[1].id, collection_uuid(&["source", "a"]));
        assert_eq!(cs[1].id.len(), 36);
        assert_eq!(s.feed_collection(&cs[2].id).unwrap(), Some(cs[2].clone()));
        assert_eq!(s.feed_collection("nope").unwrap(), None);
        assert!(
            s.feed_objects("nope", &FeedQuery::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn paging_visits_every_statement_once_with_the_markings_they_need() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_at(&dir.path().join("t.db"));
        let coll = all_id(&s);
        for limit in [1, 2, 3, 100] {
            let q = FeedQuery {
                versions: vec![VersionMatch::All],
                limit,
                ..FeedQuery::default()
            };
            let got = walk(&s, &coll, q);
            // 4 + 3 objects, 3 + 1 relations (ACTOR twice: two sources), and
            // the TLP 2.0 definitions of CLEAR, GREEN, AMBER and RED.
            assert_eq!(statements(&got).len(), 11, "limit {limit}");
            let mut m = marking_ids(&got);
            m.sort();
            let mut want: Vec<&str> = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::Red]
                .iter()
                .map(|t| t.marking_id())
                .collect();
            want.sort();
            assert_eq!(m, want, "limit {limit}");
            let keys: HashSet<(String, String)> = statements(&got)
                .iter()
                .map(|st| (st.stix_id.clone(), st.source.clone()))
                .collect();
            assert_eq!(keys.len(), 11);
            let dates: Vec<&String> = got.iter().map(|o| &o.date_added).collect();
            let mut sorted = dates.clone();
            sorted.sort();
            assert_eq!(dates, sorted);
            for d in dates {
                assert!(time::is_stix_ms(d) && d.len() == 24, "{d}");
            }
        }
        // `last`: one copy of the actor, b's (modified 2030).
        let got = walk(&s, &coll, FeedQuery::default());
        assert_eq!(statements(&got).len(), 10);
        let actor: Vec<&Statement> = statements(&got)
            .into_iter()
            .filter(|st| st.stix_id == ACTOR)
            .collect();
        assert_eq!(actor.len(), 1);
        assert_eq!(actor[0].source, "b");
        let first = walk(
            &s,
            &coll,
            FeedQuery {
                versions: vec![VersionMatch::First],
                ids: vec![ACTOR.into()],
                ..FeedQuery::default()
            },
        );
        assert_eq!(statements(&first).len(), 1);
        assert_eq!(statements(&first)[0].source, "a");
        // Statements carry what the emitter needs.
        let by = |id: &str| {
            statements(&got)
                .into_iter()
                .find(|st| st.stix_id == id)
                .unwrap()
                .clone()
        };
        assert_eq!(by(RED).observables.len(), 1);
        assert_eq!(by("relationship--1").target_ref.as_deref(), Some(TECH));
        assert_eq!(by("relationship--1").kind, "uses");
        assert_eq!(by(LOC).country.as_deref(), Some("TW"));
    }

    #[test]
    fn match_filters_added_after_and_published_ids() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_at(&dir.path().join("t.db"));
        let cs = s.feed_collections().unwrap();
        let a = &cs[1].id;
        let ids = |q: FeedQuery| -> Vec<String> {
            let mut v: Vec<String> = walk(&s, a, q)
                .iter()
                .map(|o| o.stix_id().to_string())
                .collect();
            v.sort();
            v
        };
        // 4 objects, 3 relationships, CLEAR/AMBER/RED definitions.
        assert_eq!(ids(FeedQuery::default()).len(), 10);
        assert_eq!(
            ids(FeedQuery {
                types: vec!["malware".into(), "relationship".into()],
                ..FeedQuery::default()
            }),
            vec![
                MAL.to_string(),
                "relationship--1".into(),
                "relationship--2".into(),
                "relationship--4".into()
            ]
        );
        assert_eq!(
            ids(FeedQuery {
                types: vec!["marking-definition".into()],
                ..FeedQuery::default()
            })
            .len(),
            3
        );
        assert_eq!(
            ids(FeedQuery {
                ids: vec![TECH.into(), "relationship--2".into(), "nope--1".into()],
                ..FeedQuery::default()
            }),
            vec![TECH.to_string(), "relationship--2".into()]
        );
        // The exact version, and no other.
        let at = |t: &str| FeedQuery {
            versions: VersionMatch::parse_list(t).unwrap(),
            types: vec!["attack-pattern".into(), "intrusion-set".into()],
            ..FeedQuery::default()
        };
        assert_eq!(ids(at("2023-05-06T07:08:09.123Z")), vec![TECH.to_string()]);
        assert!(ids(at("2023-05-06T07:08:09.124Z")).is_empty());
        assert_eq!(ids(at("first,last")).len(), 2);
        assert!(VersionMatch::parse_list("yesterday").is_err());

        // A stored id without a v4/v5 UUID is found by the id it is published under.
        let b = &cs[2].id;
        let published = canonical_stix_id(V7).into_owned();
        assert_ne!(published, V7);
        let got = walk(
            &s,
            b,
            FeedQuery {
                ids: vec![published],
                ..FeedQuery::default()
            },
        );
        assert_eq!(statements(&got).len(), 1);
        assert_eq!(statements(&got)[0].stix_id, V7);

        // added_after: everything is after the epoch; nothing after its own last date.
        let all = walk(&s, a, FeedQuery::default());
        let last = all.iter().map(|o| o.date_added.clone()).max().unwrap();
        assert_eq!(
            ids(FeedQuery {
                added_after: Some("1970-01-01T00:00:00Z".into()),
                ..FeedQuery::default()
            })
            .len(),
            10
        );
        assert!(
            ids(FeedQuery {
                added_after: Some(last.clone()),
                ..FeedQuery::default()
            })
            .is_empty()
        );
        // A statement changed later gets a later date and is the only one after `last`.
        let mut s2 = Store::open(&dir.path().join("t.db")).unwrap();
        let mut b = bundle_a();
        b.objects[0].description = Some("changed".into());
        s2.ingest(&b, None, None).unwrap();
        assert_eq!(
            ids(FeedQuery {
                added_after: Some(last),
                ..FeedQuery::default()
            }),
            vec![ACTOR.to_string()]
        );
        // Withdrawn statements are left out.
        let mut b = bundle_a();
        b.relations.retain(|r| r.id != "relationship--2");
        s2.ingest(&b, None, None).unwrap();
        assert!(
            !ids(FeedQuery::default()).contains(&"relationship--2".to_string()),
            "withdrawn relationship served"
        );
        for bad in [
            FeedQuery {
                next: Some("zz".into()),
                ..FeedQuery::default()
            },
            FeedQuery {
                added_after: Some("soon".into()),
                ..FeedQuery::default()
            },
        ] {
            assert!(s.feed_objects(a, &bad).is_err());
        }
    }

    #[test]
    fn restricted_store_hides_red_objects_their_markings_and_collections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let mut s = store_at(&path);
            let secret = Bundle {
                source: "secret".into(),
                format: "stix".into(),
                objects: vec![obj(
                    "intrusion-set--00000000-0000-4000-8000-0000000000ff",
                    "intrusion-set",
                    "Hush",
                    "secret",
                    Tlp::AmberStrict,
                )],
                ..Bundle::default()
            };
            s.ingest(&secret, None, None).unwrap();
            assert_eq!(s.feed_collections().unwrap().len(), 4);
        }
        let mut reader = Store::open(&path).unwrap();
        reader.restrict(Tlp::Amber).unwrap();
        let cs = reader.feed_collections().unwrap();
        assert_eq!(cs.len(), 3, "the secret source's collection is hidden");
        assert!(
            reader
                .feed_collection(&collection_uuid(&["source", "secret"]))
                .unwrap()
                .is_none()
        );
        let got = walk(
            &reader,
            &cs[0].id,
            FeedQuery {
                versions: vec![VersionMatch::All],
                limit: 2,
                ..FeedQuery::default()
            },
        );
        let ids: Vec<&str> = got.iter().map(FeedObject::stix_id).collect();
        assert!(!ids.contains(&RED), "{ids:?}");
        assert!(!ids.contains(&Tlp::Red.marking_id()), "{ids:?}");
        assert!(!ids.contains(&Tlp::AmberStrict.marking_id()), "{ids:?}");
        assert!(
            !ids.contains(&"relationship--4"),
            "a relationship naming RED: {ids:?}"
        );
        assert!(ids.contains(&"relationship--1"));
        assert!(ids.contains(&MAL), "amber stays visible");
        let by_id = reader
            .feed_objects(
                &cs[1].id,
                &FeedQuery {
                    ids: vec![RED.into()],
                    versions: vec![VersionMatch::All],
                    ..FeedQuery::default()
                },
            )
            .unwrap()
            .unwrap();
        assert!(by_id.objects.is_empty());
    }

    /// The bug this guards: stamps had whole seconds, so an ingest in the
    /// same second as a poll was dated like what the poll had already seen
    /// and `added_after` skipped it for good.
    #[test]
    fn polling_with_added_after_gets_every_object_exactly_once() {
        let mut s = Store::open_in_memory().unwrap();
        let all = all_id(&s);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut last: Option<String> = None;
        let mut poll = |s: &Store, last: &mut Option<String>| {
            let items = walk(
                s,
                &all,
                FeedQuery {
                    added_after: last.clone(),
                    limit: 7,
                    ..FeedQuery::default()
                },
            );
            for o in &items {
                *seen.entry(o.stix_id().to_string()).or_default() += 1;
            }
            // What a TAXII server sends as X-TAXII-Date-Added-Last.
            if let Some(o) = items.last() {
                *last = Some(o.date_added.clone());
            }
        };
        let rounds = 1000;
        for i in 0..rounds {
            // Each round's ingest states one new indicator (the source's
            // earlier ones are withdrawn, which a feed does not serve again).
            let id = deterministic_id("indicator", &["round", &i.to_string()]);
            let mut o = obj(
                &id,
                "indicator",
                &format!("n{i}.example"),
                "poller",
                Tlp::Clear,
            );
            o.observables = vec![Observable::new(
                IndicatorKind::Domain,
                &format!("n{i}.example"),
            )];
            let b = Bundle {
                source: "poller".into(),
                format: "stix".into(),
                objects: vec![o],
                ..Bundle::default()
            };
            s.ingest(&b, None, None).unwrap();
            poll(&s, &mut last);
        }
        let objects = seen.len() - 1;
        assert_eq!(objects, rounds, "every object arrived");
        let twice: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "served more than once: {twice:?}");
        assert_eq!(seen.get(Tlp::Clear.marking_id()), Some(&1));
    }

    const LIST: &str = "l";

    fn list_head(source: &str, actor: bool, tlp: Tlp) -> ListHead {
        let prov = Provenance {
            source: source.into(),
            tlp,
            ..Provenance::default()
        };
        ListHead {
            source: source.into(),
            format: "list".into(),
            actor: actor.then(|| {
                let mut a = obj(
                    &list_actor(source),
                    "intrusion-set",
                    "List Panda",
                    source,
                    tlp,
                );
                a.raw = serde_json::json!({"type":"intrusion-set","id":a.id,"name":"List Panda"})
                    .to_string();
                a
            }),
            prov,
            labels: vec!["c2".into()],
        }
    }

    fn list_actor(source: &str) -> String {
        deterministic_id("intrusion-set", &[source, "List Panda"])
    }

    fn ingest_list(s: &mut Store, head: &ListHead, values: &[String]) {
        let vals = values
            .iter()
            .map(|v| Ok::<_, KbError>(ListValue::new(IndicatorKind::Domain, v.clone(), v.clone())));
        s.ingest_list(head, vals, None, None).unwrap();
    }

    fn domains(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("v{i}.example")).collect()
    }

    /// The derived ids of `value` in list `source` (indicator, indicates).
    fn derived(source: &str, value: &str) -> (String, String) {
        let ind = indicator_id(source, "domain", value);
        let rel = indicates_id(&ind, &list_actor(source));
        (ind, rel)
    }

    /// Statement positions as (id, source, date added).
    fn seen(items: &[FeedObject]) -> Vec<(String, String, String)> {
        items
            .iter()
            .filter_map(|o| match &o.item {
                FeedItem::Statement(st) => {
                    Some((st.stix_id.clone(), st.source.clone(), o.date_added.clone()))
                }
                FeedItem::Marking(_) => None,
            })
            .collect()
    }

    #[test]
    fn compact_list_values_are_paged_with_the_statements_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut s = store_at(&path);
        ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &domains(0..10));
        // A list naming no actor: indicators only.
        ingest_list(&mut s, &list_head("m", false, Tlp::Green), &domains(0..3));
        let coll = all_id(&s);
        let all = |limit: usize| FeedQuery {
            versions: vec![VersionMatch::All],
            limit,
            ..FeedQuery::default()
        };
        let whole = seen(&walk(&s, &coll, all(1000)));
        // 11 statements of the bundles, l's actor, 10 + 10 of l, 3 of m.
        assert_eq!(whole.len(), 11 + 1 + 20 + 3);
        for limit in [1, 2, 3, 7] {
            let got = walk(&s, &coll, all(limit));
            assert_eq!(seen(&got), whole, "limit {limit}: same items, same order");
            let dates: Vec<&String> = got.iter().map(|o| &o.date_added).collect();
            let mut sorted = dates.clone();
            sorted.sort();
            assert_eq!(dates, sorted, "limit {limit}");
        }
        let keys: HashSet<(String, String)> = whole
            .iter()
            .map(|(i, s, _)| (i.clone(), s.clone()))
            .collect();
        assert_eq!(keys.len(), whole.len(), "each once");
        for v in domains(0..10) {
            let (ind, rel) = derived(LIST, &v);
            assert!(keys.contains(&(ind, LIST.into())), "{v}");
            assert!(keys.contains(&(rel, LIST.into())), "{v}");
        }
        for v in domains(0..3) {
            assert!(keys.contains(&(indicator_id("m", "domain", &v), "m".into())));
        }
        // The derived statements carry what the emitter needs.
        let items = walk(&s, &coll, all(1000));
        let (ind, rel) = derived(LIST, "v4.example");
        let by = |id: &str| {
            statements(&items)
                .into_iter()
                .find(|st| st.stix_id == id)
                .unwrap()
                .clone()
        };
        assert_eq!(by(&ind).observables.len(), 1);
        assert_eq!(by(&ind).kind, "indicator");
        assert_eq!(by(&rel).kind, "indicates");
        assert_eq!(by(&rel).source_ref.as_deref(), Some(ind.as_str()));
        assert_eq!(
            by(&rel).target_ref.as_deref(),
            Some(list_actor(LIST).as_str())
        );
        // The green list brings the GREEN definition; l's collection holds its own.
        let cs = s.feed_collections().unwrap();
        let l = cs
            .iter()
            .find(|c| c.source.as_deref() == Some(LIST))
            .unwrap()
            .id
            .clone();
        let m = cs
            .iter()
            .find(|c| c.source.as_deref() == Some("m"))
            .expect("a list with no actor has a collection")
            .id
            .clone();
        let got = walk(&s, &l, FeedQuery::default());
        assert_eq!(statements(&got).len(), 21);
        assert_eq!(marking_ids(&got), vec![Tlp::Clear.marking_id()]);
        assert_eq!(
            marking_ids(&walk(&s, &m, FeedQuery::default())),
            vec![Tlp::Green.marking_id()]
        );

        // match[type], match[id], match[version].
        let count = |q: FeedQuery| statements(&walk(&s, &l, q)).len();
        let typed = |t: &str| FeedQuery {
            types: vec![t.into()],
            limit: 3,
            ..FeedQuery::default()
        };
        assert_eq!(count(typed("indicator")), 10);
        assert_eq!(count(typed("relationship")), 10);
        assert_eq!(count(typed("intrusion-set")), 1);
        assert_eq!(statements(&walk(&s, &m, typed("relationship"))).len(), 0);
        let (ind5, _) = derived(LIST, "v5.example");
        let (_, rel6) = derived(LIST, "v6.example");
        for coll in [&l, &coll] {
            let got = walk(
                &s,
                coll,
                FeedQuery {
                    ids: vec![ind5.clone(), rel6.clone(), RED.into()],
                    limit: 1,
                    ..FeedQuery::default()
                },
            );
            let mut ids: Vec<String> = statements(&got)
                .iter()
                .map(|st| st.stix_id.clone())
                .collect();
            ids.retain(|i| i != RED);
            ids.sort();
            let mut want = vec![ind5.clone(), rel6.clone()];
            want.sort();
            assert_eq!(ids, want);
        }
        let stamp = by(&ind).updated_at.clone();
        let at = |t: &str| FeedQuery {
            versions: VersionMatch::parse_list(t).unwrap(),
            types: vec!["indicator".into()],
            ..FeedQuery::default()
        };
        assert_eq!(
            count(at(&stamp)),
            10,
            "one version per value: its updated_at"
        );
        assert_eq!(count(at("2001-01-01T00:00:00.000Z")), 0);
        assert_eq!(count(at("first")), 10);

        // Withdrawn values leave; a re-listed one comes back, dated later.
        let last = whole.iter().map(|(_, _, d)| d.clone()).max().unwrap();
        let mut fewer = domains(0..10);
        fewer.retain(|v| v != "v3.example");
        ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &fewer);
        let (ind3, rel3) = derived(LIST, "v3.example");
        let now: Vec<String> = seen(&walk(&s, &coll, all(2)))
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(now.len(), whole.len() - 2);
        assert!(!now.contains(&ind3) && !now.contains(&rel3));
        let after = |s: &Store, after: &str| {
            seen(&walk(
                s,
                &coll,
                FeedQuery {
                    added_after: Some(after.into()),
                    limit: 1,
                    ..FeedQuery::default()
                },
            ))
        };
        assert!(
            after(&s, &last).is_empty(),
            "a withdrawal serves nothing new"
        );
        ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &domains(0..11));
        let new = after(&s, &last);
        let mut ids: Vec<String> = new.iter().map(|x| x.0.clone()).collect();
        ids.sort();
        let (ind10, rel10) = derived(LIST, "v10.example");
        let mut want = vec![ind3, rel3, ind10, rel10];
        want.sort();
        assert_eq!(ids, want, "only the re-listed and the new value");
        assert!(new.iter().all(|x| x.2 > last));
        // Cursors name tags -1 to 3 only.
        let cursor = |tag: i64| FeedQuery {
            next: Some(
                Key {
                    added: last.clone(),
                    rid: 1,
                    tag,
                }
                .encode(),
            ),
            ..FeedQuery::default()
        };
        assert!(s.feed_objects(&coll, &cursor(TAG_LIST_REL)).is_ok());
        assert!(s.feed_objects(&coll, &cursor(4)).is_err());
    }

    #[test]
    fn polling_a_growing_list_gets_every_value_exactly_once() {
        let mut s = Store::open_in_memory().unwrap();
        s.ingest(&bundle_a(), None, None).unwrap();
        let all = all_id(&s);
        let mut seen_ids: HashMap<String, usize> = HashMap::new();
        let mut last: Option<String> = None;
        let rounds = 60;
        for i in 0..rounds {
            ingest_list(
                &mut s,
                &list_head(LIST, true, Tlp::Clear),
                &domains(0..(i + 1) * 3),
            );
            let items = walk(
                &s,
                &all,
                FeedQuery {
                    added_after: last.clone(),
                    limit: 4,
                    ..FeedQuery::default()
                },
            );
            for o in &items {
                *seen_ids.entry(o.stix_id().to_string()).or_default() += 1;
            }
            if let Some(o) = items.last() {
                last = Some(o.date_added.clone());
            }
        }
        for v in domains(0..rounds * 3) {
            let (ind, rel) = derived(LIST, &v);
            assert_eq!(seen_ids.get(&ind), Some(&1), "{v}");
            assert_eq!(seen_ids.get(&rel), Some(&1), "{v}");
        }
        let twice: Vec<_> = seen_ids.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "served more than once: {twice:?}");
    }

    #[test]
    fn restricted_reader_gets_only_the_lists_it_may_see() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let mut s = store_at(&path);
            ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &domains(0..4));
            ingest_list(&mut s, &list_head("hush", true, Tlp::Red), &domains(0..4));
        }
        let mut reader = Store::open(&path).unwrap();
        reader.restrict(Tlp::Amber).unwrap();
        let coll = all_id(&reader);
        let got = walk(
            &reader,
            &coll,
            FeedQuery {
                limit: 3,
                ..FeedQuery::default()
            },
        );
        let ids: HashSet<String> = statements(&got)
            .iter()
            .map(|st| st.stix_id.clone())
            .collect();
        for v in domains(0..4) {
            let (ind, rel) = derived(LIST, &v);
            assert!(ids.contains(&ind) && ids.contains(&rel), "{v}");
            let (ind, rel) = derived("hush", &v);
            assert!(!ids.contains(&ind) && !ids.contains(&rel), "{v}");
        }
        assert!(
            reader
                .feed_collection(&collection_uuid(&["source", "hush"]))
                .unwrap()
                .is_none()
        );
    }
}
