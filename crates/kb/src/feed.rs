//! The store as TAXII 2.1 collections: one per source and one holding
//! everything, each a date-ordered, pageable feed of STIX 2.1 objects.
//!
//! What a statement's TAXII `date_added` is: when Cairn last stored a change
//! to it (`updated_at`, the time its current version arrived), at
//! millisecond precision. Pages are ordered by that date, then by table
//! (objects before relationships) and row id, so a `next` cursor — the
//! position of the last row handed out — visits every statement exactly
//! once while the store does not change.
//!
//! Versions: the store keeps the current version of each statement per
//! source (earlier ones live in `history`, which is not served). In a
//! source's collection an id therefore has one version, and `first`, `last`
//! and `all` agree; in the collection holding everything, two sources'
//! copies of one id are two versions, `last` (the default) picking the one
//! with the latest `modified` and `first` the earliest.
//!
//! Every query uses the unqualified table names, so a store narrowed with
//! [`Store::restrict`] serves only what its caller may see — collections
//! included: a source none of whose statements are visible has no
//! collection for that caller.
//!
//! Objects go out as valid STIX 2.1: `spec_version` set, `created` and
//! `modified` present, the properties 2.1 requires of a type filled from the
//! stored columns when the source (STIX 2.0 ATT&CK, MISP, lists) lacked
//! them, and the statement's TLP as a TLP 2.0 marking when none is carried.

use crate::Store;
use crate::errors::KbError;
use cairn_model::{IndicatorKind, Tlp, deterministic_id};
use rusqlite::params_from_iter;
use rusqlite::types::Value as Sql;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The media type of every object a feed serves.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

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
                ts => match parse_ts(ts) {
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
    /// Only these STIX ids (empty: any).
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

/// One object of a feed page.
#[derive(Debug, Clone, Serialize)]
pub struct FeedObject {
    /// STIX id.
    pub id: String,
    /// TAXII date added: when the store got this version (RFC 3339, milliseconds, UTC).
    pub date_added: String,
    /// The version: the object's `modified` (or `created`, or the date added).
    pub version: String,
    /// The STIX 2.1 object.
    pub object: Value,
}

/// One page of a collection.
#[derive(Debug, Clone, Serialize)]
pub struct FeedPage {
    /// Objects in date-added order.
    pub objects: Vec<FeedObject>,
    /// Whether more objects match after these.
    pub more: bool,
    /// The cursor for the next page, when `more`.
    pub next: Option<String>,
}

/// STIX cyber-observable types: no `created`/`modified`.
const SCO_TYPES: &[&str] = &[
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

/// Types STIX 2.1 requires a `name` of.
const NAMED_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "identity",
    "infrastructure",
    "intrusion-set",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

const TS_FMT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

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

fn parse_ts(s: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let d: jiff::civil::Date = s.parse().ok()?;
    d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

fn fmt_ms(t: jiff::Timestamp) -> String {
    t.strftime(TS_FMT).to_string()
}

/// `YYYY-MM-DDTHH:MM:SS[.s+]Z`, as STIX requires its timestamps.
fn is_stix_ts(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return false;
    }
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let head_ok = shape.iter().zip(b).all(|(p, c)| match p {
        b'd' => c.is_ascii_digit(),
        other => other == c,
    });
    let tail = &b[19..b.len() - 1];
    let tail_ok = tail.is_empty()
        || (tail.len() > 1 && tail[0] == b'.' && tail[1..].iter().all(u8::is_ascii_digit));
    head_ok && tail_ok && parse_ts(s).is_some()
}

/// A stored time as a STIX timestamp: kept as written when already one.
fn stix_ts(s: &str) -> Option<String> {
    if is_stix_ts(s) {
        Some(s.to_string())
    } else {
        parse_ts(s).map(fmt_ms)
    }
}

/// A TLP's TLP 2.0 marking-definition id.
fn tlp_marking(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// A position in a collection: date added, table (0 objects, 1 relations), row id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    added: String,
    tag: i64,
    rid: i64,
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
        if !(0..=1).contains(&tag) {
            return Err(bad());
        }
        Ok(Key {
            added: added.to_string(),
            tag,
            rid,
        })
    }
}

/// One stored statement, as the feed query reads it.
struct Row {
    key: Key,
    stix_id: String,
    kind: String,
    first_added: String,
    ver: String,
    raw: String,
    tlp: String,
    name: Option<String>,
    description: Option<String>,
    created: Option<String>,
    modified: Option<String>,
    revoked: bool,
    country: Option<String>,
    confidence: Option<i64>,
    rel_type: Option<String>,
    src_ref: Option<String>,
    tgt_ref: Option<String>,
}

/// `col` at millisecond precision, `YYYY-MM-DDTHH:MM:SS.sssZ` (ordered as text).
fn ms(col: &str) -> String {
    format!("COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', {col}), {col})")
}

fn raw_prop(alias: &str, prop: &str) -> String {
    format!("(CASE WHEN json_valid({alias}.raw) THEN json_extract({alias}.raw, '$.{prop}') END)")
}

fn sco_list() -> String {
    SCO_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The objects branch's columns, in [`read_row`]'s order.
fn object_cols() -> String {
    let added = ms("o.updated_at");
    format!(
        "{added} AS added, 0 AS tag, o.id AS rid, o.stix_id AS stix_id, o.kind AS type, {first} AS first_added, \
         CASE WHEN o.kind IN ({scos}) THEN {added} \
              WHEN o.kind = 'marking-definition' THEN COALESCE(o.created, {rc}, {first}) \
              ELSE COALESCE(o.modified, {rm}, {added}) END AS ver, \
         o.raw AS raw, o.tlp AS tlp, o.name AS name, o.description AS description, o.created AS created, \
         o.modified AS modified, o.revoked AS revoked, o.country AS country, o.confidence AS confidence, \
         NULL AS rel_type, NULL AS src_ref, NULL AS tgt_ref",
        first = ms("o.added_at"),
        scos = sco_list(),
        rc = raw_prop("o", "created"),
        rm = raw_prop("o", "modified"),
    )
}

const REL_TYPE: &str =
    "(CASE WHEN r.rel_type = 'sighting-of' THEN 'sighting' ELSE 'relationship' END)";

fn relation_cols() -> String {
    let added = ms("r.updated_at");
    format!(
        "{added} AS added, 1 AS tag, r.id AS rid, r.stix_id AS stix_id, {REL_TYPE} AS type, {first} AS first_added, \
         COALESCE({rm}, {added}) AS ver, \
         r.raw AS raw, r.tlp AS tlp, NULL AS name, r.description AS description, {rc} AS created, \
         {rm} AS modified, r.revoked AS revoked, NULL AS country, r.confidence AS confidence, \
         r.rel_type AS rel_type, r.src_ref AS src_ref, r.tgt_ref AS tgt_ref",
        first = ms("r.added_at"),
        rc = raw_prop("r", "created"),
        rm = raw_prop("r", "modified"),
    )
}

fn read_row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        key: Key {
            added: r.get(0)?,
            tag: r.get(1)?,
            rid: r.get(2)?,
        },
        stix_id: r.get(3)?,
        kind: r.get(4)?,
        first_added: r.get(5)?,
        ver: text_of(r.get_ref(6)?),
        raw: r.get(7)?,
        tlp: r.get(8)?,
        name: r.get(9)?,
        description: r.get(10)?,
        created: opt_text(r.get_ref(11)?),
        modified: opt_text(r.get_ref(12)?),
        revoked: r.get::<_, Option<i64>>(13)?.unwrap_or(0) != 0,
        country: r.get(14)?,
        confidence: r.get(15)?,
        rel_type: r.get(16)?,
        src_ref: r.get(17)?,
        tgt_ref: r.get(18)?,
    })
}

fn opt_text(v: rusqlite::types::ValueRef) -> Option<String> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        _ => None,
    }
}

fn text_of(v: rusqlite::types::ValueRef) -> String {
    opt_text(v).unwrap_or_default()
}

/// Placeholders for `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The time a client's `added_after` means, as stored (ms text): rows whose
/// date added is `>= bound` are after it.
fn added_after_bound(s: &str) -> Result<String, KbError> {
    let t = parse_ts(s).ok_or_else(|| {
        KbError::Invalid(format!("added_after `{s}` is not an RFC 3339 timestamp"))
    })?;
    // Strictly after t, at the millisecond precision dates are stored with.
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
    Ok(fmt_ms(bound))
}

/// The chosen first and last copies of one id in the collection of everything.
#[derive(Clone)]
struct Chosen {
    first: (i64, i64),
    last: (i64, i64),
}

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
        let stamps: Vec<String> = versions
            .iter()
            .filter_map(|v| match v {
                VersionMatch::At(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        // Only timestamps asked for: the database filters them.
        let sql_stamps = !any_version && stamps.len() == versions.len();
        let pick = !any_version && !sql_stamps;
        // A reader must not learn hidden objects' ids from relationships pointing at them.
        let check_ends = self.ceiling.is_some();
        let bound = query
            .added_after
            .as_deref()
            .map(added_after_bound)
            .transpose()?;
        let mut cursor = query.next.as_deref().map(Key::decode).transpose()?;

        let batch = if pick || check_ends {
            limit + 64
        } else {
            limit + 1
        };
        let mut out: Vec<(Row, Value)> = Vec::with_capacity(limit);
        let mut more = false;
        let mut chosen: HashMap<String, Chosen> = HashMap::new();
        'scan: loop {
            let rows = self.feed_rows(
                source_id,
                &query.ids,
                &query.types,
                bound.as_deref(),
                sql_stamps.then_some(stamps.as_slice()),
                cursor.as_ref(),
                batch,
            )?;
            let exhausted = rows.len() < batch;
            for row in rows {
                cursor = Some(row.key.clone());
                if pick && !self.version_wanted(&row, &versions, &mut chosen)? {
                    continue;
                }
                if check_ends && !self.ends_visible(&row)? {
                    continue;
                }
                if out.len() == limit {
                    more = true;
                    break 'scan;
                }
                let obj = self.to_stix(&row)?;
                out.push((row, obj));
            }
            if exhausted {
                break;
            }
        }
        let next = if more {
            out.last().map(|(r, _)| r.key.encode())
        } else {
            None
        };
        let objects = out
            .into_iter()
            .map(|(row, object)| FeedObject {
                id: row.stix_id.clone(),
                date_added: row.key.added.clone(),
                version: version_of(&object, &row),
                object,
            })
            .collect();
        Ok(Some(FeedPage {
            objects,
            more,
            next,
        }))
    }

    #[allow(clippy::too_many_arguments)]
    fn feed_rows(
        &self,
        source_id: Option<i64>,
        ids: &[String],
        types: &[String],
        bound: Option<&str>,
        stamps: Option<&[String]>,
        cursor: Option<&Key>,
        batch: usize,
    ) -> Result<Vec<Row>, KbError> {
        let wants_rel =
            types.is_empty() || types.iter().any(|t| t == "relationship" || t == "sighting");
        let wants_obj =
            types.is_empty() || types.iter().any(|t| t != "relationship" && t != "sighting");
        let mut branches: Vec<String> = Vec::new();
        let mut params: Vec<Sql> = Vec::new();
        for (alias, table, wanted) in [("o", "objects", wants_obj), ("r", "relations", wants_rel)] {
            if !wanted {
                continue;
            }
            let (cols, type_expr) = if alias == "o" {
                (object_cols(), "o.kind".to_string())
            } else {
                (relation_cols(), REL_TYPE.to_string())
            };
            let added = ms(&format!("{alias}.updated_at"));
            let mut sql =
                format!("SELECT {cols} FROM {table} {alias} WHERE {alias}.withdrawn_at IS NULL");
            if let Some(sid) = source_id {
                sql.push_str(&format!(" AND {alias}.source_id = ?"));
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
            if let Some(b) = bound {
                sql.push_str(&format!(" AND {added} >= ?"));
                params.push(Sql::Text(b.to_string()));
            }
            if let Some(k) = cursor {
                sql.push_str(&format!(" AND ({added}, ?, {alias}.id) > (?, ?, ?)"));
                params.push(Sql::Integer(if alias == "o" { 0 } else { 1 }));
                params.push(Sql::Text(k.added.clone()));
                params.push(Sql::Integer(k.tag));
                params.push(Sql::Integer(k.rid));
            }
            branches.push(sql);
        }
        if branches.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = format!("SELECT * FROM ({})", branches.join(" UNION ALL "));
        if let Some(st) = stamps {
            sql.push_str(&format!(
                " WHERE (ver IN ({m}) OR julianday(ver) IN ({j}))",
                m = marks(st.len()),
                j = vec!["julianday(?)"; st.len()].join(", ")
            ));
            params.extend(st.iter().map(|t| Sql::Text(t.clone())));
            params.extend(st.iter().map(|t| Sql::Text(t.clone())));
        }
        sql.push_str(" ORDER BY added, tag, rid LIMIT ?");
        params.push(Sql::Integer(i64::try_from(batch).unwrap_or(i64::MAX)));
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(params_from_iter(params), read_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the objects a relationship (or sighting) points at are live and
    /// visible to this connection.
    fn ends_visible(&self, row: &Row) -> Result<bool, KbError> {
        if row.key.tag != 1 {
            return Ok(true);
        }
        let mut q = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM objects WHERE stix_id = ?1 AND withdrawn_at IS NULL)",
        )?;
        let mut ends: Vec<&str> = Vec::with_capacity(2);
        if row.rel_type.as_deref() != Some("sighting-of") {
            ends.extend(row.src_ref.as_deref());
        }
        ends.extend(row.tgt_ref.as_deref());
        for end in ends {
            if !q.query_row([end], |r| r.get::<_, bool>(0))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether `row` is one of the versions asked for, in the collection of everything.
    fn version_wanted(
        &self,
        row: &Row,
        versions: &[VersionMatch],
        chosen: &mut HashMap<String, Chosen>,
    ) -> Result<bool, KbError> {
        let at = parse_ts(&row.ver);
        for v in versions {
            match v {
                VersionMatch::All => return Ok(true),
                VersionMatch::At(t) => {
                    if *t == row.ver || (at.is_some() && parse_ts(t) == at) {
                        return Ok(true);
                    }
                }
                VersionMatch::First | VersionMatch::Last => {
                    let c = match chosen.get(&row.stix_id) {
                        Some(c) => c.clone(),
                        None => {
                            let c = self.copies(&row.stix_id)?;
                            if chosen.len() > 10_000 {
                                chosen.clear();
                            }
                            chosen.insert(row.stix_id.clone(), c.clone());
                            c
                        }
                    };
                    let me = (row.key.tag, row.key.rid);
                    let want = if *v == VersionMatch::First {
                        c.first
                    } else {
                        c.last
                    };
                    if want == me {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// Every visible live copy of `stix_id`: which is the first and which the last version.
    fn copies(&self, stix_id: &str) -> Result<Chosen, KbError> {
        let sql = format!(
            "SELECT * FROM (SELECT {oc} FROM objects o WHERE o.withdrawn_at IS NULL AND o.stix_id = ?1 \
             UNION ALL SELECT {rc} FROM relations r WHERE r.withdrawn_at IS NULL \
               AND r.source_id IN (SELECT id FROM sources) AND r.stix_id = ?1) ORDER BY tag, rid",
            oc = object_cols(),
            rc = relation_cols(),
        );
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows: Vec<Row> = q
            .query_map([stix_id], read_row)?
            .collect::<Result<_, _>>()?;
        // Order versions by time when they parse, by text otherwise; ties go to the earlier row.
        let rank = |r: &Row| (parse_ts(&r.ver), r.ver.clone());
        let mut first: Option<&Row> = None;
        let mut last: Option<&Row> = None;
        for r in &rows {
            if first.is_none_or(|f| rank(r) < rank(f)) {
                first = Some(r);
            }
            if last.is_none_or(|l| rank(r) > rank(l)) {
                last = Some(r);
            }
        }
        let key = |r: Option<&Row>| r.map_or((-1, -1), |r| (r.key.tag, r.key.rid));
        Ok(Chosen {
            first: key(first),
            last: key(last),
        })
    }

    /// The stored statement as a valid STIX 2.1 object.
    fn to_stix(&self, row: &Row) -> Result<Value, KbError> {
        let mut pattern = None;
        if row.kind == "indicator" && !raw_has(&row.raw, "pattern") {
            let mut q = self.conn.prepare_cached(
                "SELECT kind, value FROM observables WHERE object_id = ?1 ORDER BY kind, value",
            )?;
            let parts: Vec<String> = q
                .query_map([row.key.rid], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .filter_map(Result::ok)
                .filter_map(|(k, v)| k.parse::<IndicatorKind>().ok().map(|k| k.stix_pattern(&v)))
                .collect();
            if !parts.is_empty() {
                pattern = Some(parts.join(" OR "));
            }
        }
        Ok(stix21(row, pattern))
    }
}

fn raw_has(raw: &str, prop: &str) -> bool {
    serde_json::from_str::<Map<String, Value>>(raw)
        .ok()
        .is_some_and(|m| m.get(prop).is_some_and(|v| !v.is_null()))
}

/// What TAXII calls the object's version.
fn version_of(obj: &Value, row: &Row) -> String {
    obj.get("modified")
        .or_else(|| obj.get("created"))
        .and_then(Value::as_str)
        .map_or_else(|| row.key.added.clone(), str::to_string)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn set_default(m: &mut Map<String, Value>, key: &str, v: impl Into<Value>) {
    if m.get(key).is_none_or(is_empty) {
        m.insert(key.to_string(), v.into());
    }
}

/// Builds the STIX 2.1 object for a stored statement from its raw JSON and columns.
fn stix21(row: &Row, pattern: Option<String>) -> Value {
    let mut m = match serde_json::from_str::<Value>(&row.raw) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    // STIX forbids null and empty lists.
    m.retain(|_, v| !is_empty(v));
    let kind = row.kind.as_str();
    m.insert("type".into(), Value::String(kind.to_string()));
    m.insert("id".into(), Value::String(row.stix_id.clone()));
    m.insert("spec_version".into(), Value::String("2.1".into()));
    let sco = SCO_TYPES.contains(&kind);
    let marking_def = kind == "marking-definition";

    if !sco {
        let from = |key: &str, col: &Option<String>| {
            m.get(key)
                .and_then(Value::as_str)
                .and_then(stix_ts)
                .or_else(|| col.as_deref().and_then(stix_ts))
        };
        let mut created = from("created", &row.created)
            .or_else(|| stix_ts(&row.first_added))
            .unwrap_or_else(|| row.first_added.clone());
        if marking_def {
            m.insert("created".into(), Value::String(created));
        } else {
            let modified = from("modified", &row.modified)
                .or_else(|| stix_ts(&row.ver))
                .unwrap_or_else(|| row.key.added.clone());
            if let (Some(c), Some(md)) = (parse_ts(&created), parse_ts(&modified))
                && c > md
            {
                created = modified.clone();
            }
            m.insert("created".into(), Value::String(created));
            m.insert("modified".into(), Value::String(modified));
        }
    }

    match kind {
        "relationship" => {
            if let Some(t) = &row.rel_type {
                set_default(&mut m, "relationship_type", t.clone());
            }
            if let Some(s) = &row.src_ref {
                set_default(&mut m, "source_ref", s.clone());
            }
            if let Some(t) = &row.tgt_ref {
                set_default(&mut m, "target_ref", t.clone());
            }
        }
        "sighting" => {
            if let Some(t) = &row.tgt_ref {
                set_default(&mut m, "sighting_of_ref", t.clone());
            }
        }
        "indicator" => {
            if let Some(p) = pattern {
                set_default(&mut m, "pattern", p);
            }
            set_default(&mut m, "pattern_type", "stix");
            let from = m.get("created").cloned().unwrap_or(Value::Null);
            set_default(&mut m, "valid_from", from);
        }
        "malware" => {
            set_default(&mut m, "is_family", true);
        }
        "location" => {
            let placed = ["region", "country", "latitude"]
                .iter()
                .any(|k| m.contains_key(*k));
            if !placed && let Some(c) = &row.country {
                m.insert("country".into(), Value::String(c.clone()));
            }
        }
        "report" => {
            let published = m.get("created").cloned().unwrap_or(Value::Null);
            set_default(&mut m, "published", published);
        }
        _ => {}
    }
    let needs_name = NAMED_TYPES.contains(&kind)
        || (kind == "malware" && m.get("is_family") == Some(&Value::Bool(true)));
    if needs_name {
        let name = row.name.clone().unwrap_or_else(|| row.stix_id.clone());
        set_default(&mut m, "name", name);
    }
    if let Some(d) = &row.description
        && !sco
        && !marking_def
    {
        set_default(&mut m, "description", d.clone());
    }
    if !sco && !marking_def {
        if row.revoked {
            set_default(&mut m, "revoked", true);
        }
        if let Some(c) = row.confidence.filter(|c| (0..=100).contains(c)) {
            set_default(&mut m, "confidence", c);
        }
    }
    // The statement's TLP travels with it unless the source marked it already.
    let tlp: Tlp = row.tlp.parse().unwrap_or(Tlp::Red);
    if !marking_def && tlp != Tlp::Clear {
        let refs = m
            .entry("object_marking_refs")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = refs {
            let marked = list
                .iter()
                .filter_map(Value::as_str)
                .any(|r| Tlp::from_marking_ref(r).is_some());
            if !marked {
                list.push(Value::String(tlp_marking(tlp).to_string()));
            }
        } else {
            *refs = Value::Array(vec![Value::String(tlp_marking(tlp).to_string())]);
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Bundle, Object, Observable, Provenance, Relation};
    use std::collections::HashSet;

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

    fn bundle_a() -> Bundle {
        // ATT&CK-style STIX 2.0 raw: no spec_version.
        let mut tech = obj(TECH, "attack-pattern", "Phishing", "a", Tlp::Clear);
        tech.raw = format!(
            r#"{{"type":"attack-pattern","id":"{TECH}","name":"Phishing","created":"2020-01-01T00:00:00.000Z","modified":"2023-05-06T07:08:09.123Z"}}"#
        );
        tech.created = Some("2020-01-01T00:00:00.000Z".into());
        tech.modified = Some("2023-05-06T07:08:09.123Z".into());
        let mut red = obj(RED, "indicator", "evil.example", "a", Tlp::Red);
        red.observables = vec![Observable::new(IndicatorKind::Domain, "evil.example")];
        let mut mal = obj(MAL, "malware", "Wrench", "a", Tlp::Amber);
        mal.raw =
            format!(r#"{{"type":"malware","id":"{MAL}","name":"Wrench","description":null}}"#);
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
        loc.raw = format!(r#"{{"type":"location","id":"{LOC}","name":"Taiwan"}}"#);
        let mut actor = obj(ACTOR, "intrusion-set", "Test Panda", "b", Tlp::Clear);
        actor.modified = Some("2030-01-01T00:00:00.000Z".into());
        Bundle {
            source: "b".into(),
            format: "misp-galaxy".into(),
            objects: vec![actor, loc],
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
    fn paging_visits_every_statement_once_and_objects_are_stix21() {
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
            // 4 + 2 objects, 3 + 1 relations; ACTOR twice (two sources).
            assert_eq!(got.len(), 10, "limit {limit}");
            let keys: HashSet<(String, String)> = got
                .iter()
                .map(|o| (o.id.clone(), o.object.to_string()))
                .collect();
            assert_eq!(keys.len(), 10);
            let dates: Vec<&String> = got.iter().map(|o| &o.date_added).collect();
            let mut sorted = dates.clone();
            sorted.sort();
            assert_eq!(dates, sorted);
        }
        let got = walk(&s, &coll, FeedQuery::default());
        // `last`: one copy of the actor, b's (modified 2030).
        assert_eq!(got.len(), 9);
        let actor: Vec<&FeedObject> = got.iter().filter(|o| o.id == ACTOR).collect();
        assert_eq!(actor.len(), 1);
        assert_eq!(actor[0].version, "2030-01-01T00:00:00.000Z");
        let first = walk(
            &s,
            &coll,
            FeedQuery {
                versions: vec![VersionMatch::First],
                ids: vec![ACTOR.into()],
                ..FeedQuery::default()
            },
        );
        assert_eq!(first.len(), 1);
        assert_ne!(first[0].version, "2030-01-01T00:00:00.000Z");
        for o in &got {
            let v = &o.object;
            assert_eq!(v["spec_version"], "2.1");
            assert_eq!(v["id"], o.id.as_str());
            assert!(v["type"].is_string());
            assert!(is_stix_ts(v["created"].as_str().unwrap()), "{v}");
            assert!(is_stix_ts(v["modified"].as_str().unwrap()), "{v}");
            assert_eq!(v["modified"].as_str().unwrap(), o.version);
            assert!(
                is_stix_ts(&o.date_added) && o.date_added.len() == 24,
                "{}",
                o.date_added
            );
            assert!(v.as_object().unwrap().values().all(|x| !is_empty(x)));
        }
        let by = |id: &str| got.iter().find(|o| o.id == id).unwrap().object.clone();
        assert_eq!(by(TECH)["modified"], "2023-05-06T07:08:09.123Z");
        assert_eq!(by(RED)["pattern"], "[domain-name:value = 'evil.example']");
        assert_eq!(by(RED)["pattern_type"], "stix");
        assert_eq!(
            by(RED)["object_marking_refs"][0],
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
        );
        assert_eq!(by(MAL)["is_family"], true);
        assert!(by(MAL).get("description").is_none());
        assert_eq!(by(LOC)["country"], "TW");
        assert_eq!(by("relationship--1")["relationship_type"], "uses");
        assert_eq!(by("relationship--1")["source_ref"], ACTOR);
    }

    #[test]
    fn match_filters_and_added_after() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_at(&dir.path().join("t.db"));
        let cs = s.feed_collections().unwrap();
        let a = &cs[1].id;
        let ids = |q: FeedQuery| -> Vec<String> {
            let mut v: Vec<String> = walk(&s, a, q).into_iter().map(|o| o.id).collect();
            v.sort();
            v
        };
        assert_eq!(ids(FeedQuery::default()).len(), 7);
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
                ids: vec![TECH.into(), "relationship--2".into(), "nope--1".into()],
                ..FeedQuery::default()
            }),
            vec![TECH.to_string(), "relationship--2".into()]
        );
        // The exact version, and no other.
        let at = |t: &str| FeedQuery {
            versions: VersionMatch::parse_list(t).unwrap(),
            ..FeedQuery::default()
        };
        assert_eq!(ids(at("2023-05-06T07:08:09.123Z")), vec![TECH.to_string()]);
        assert!(ids(at("2023-05-06T07:08:09.124Z")).is_empty());
        assert_eq!(ids(at("first,last")).len(), 7);
        assert!(VersionMatch::parse_list("yesterday").is_err());

        // added_after: everything is after the epoch; nothing after its own last date.
        let all = walk(&s, a, FeedQuery::default());
        let last = all.iter().map(|o| o.date_added.clone()).max().unwrap();
        assert_eq!(
            ids(FeedQuery {
                added_after: Some("1970-01-01T00:00:00Z".into()),
                ..FeedQuery::default()
            })
            .len(),
            7
        );
        assert!(
            ids(FeedQuery {
                added_after: Some(last.clone()),
                ..FeedQuery::default()
            })
            .is_empty()
        );
        // A statement changed later gets a later date and is the only one after `last`.
        std::thread::sleep(std::time::Duration::from_millis(1100));
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
        assert!(
            s.feed_objects(
                a,
                &FeedQuery {
                    next: Some("zz".into()),
                    ..FeedQuery::default()
                }
            )
            .is_err()
        );
        assert!(
            s.feed_objects(
                a,
                &FeedQuery {
                    added_after: Some("soon".into()),
                    ..FeedQuery::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn restricted_store_hides_red_objects_and_their_collections() {
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
        let ids: Vec<&str> = got.iter().map(|o| o.id.as_str()).collect();
        assert!(!ids.contains(&RED), "{ids:?}");
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
}
