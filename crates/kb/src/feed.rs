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

mod listed;

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
mod tests;
