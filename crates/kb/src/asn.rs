//! Address → AS tables: which network announced an address, by whose
//! routing table, as of when.
//!
//! A table (RouteViews / RIR / DB-IP style: `first,last,asn,organisation`)
//! is a source like any other. Its ranges are rows keyed by the range; a
//! re-ingest of the same source is differential in one transaction (new
//! ranges added, ranges whose AS or organisation changed updated, ranges no
//! longer listed withdrawn, never deleted). Routing changes, so the table's
//! date (`as_of`) travels with every answer.
//!
//! Both families share one key space: an IPv4 address is stored as its
//! IPv4-mapped IPv6 form (16 bytes, big-endian), so one index answers
//! "the range starting at or before this address" by byte order.

use crate::Store;
use crate::errors::KbError;
use crate::ingest::{Begun, IngestReport, SourceWrite, bump_generation};
use cairn_model::{AsnRange, Tlp};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// What every range of one table shares.
#[derive(Debug, Clone)]
pub struct AsnHead {
    /// Source name.
    pub source: String,
    /// Format it was read as (`asn-table`).
    pub format: String,
    /// The date the routing table describes (`YYYY-MM-DD`), when known.
    pub as_of: Option<String>,
    /// Where the table comes from.
    pub reference: Option<String>,
    /// Marking of the whole table.
    pub tlp: Tlp,
}

/// An address's network according to one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsnInfo {
    /// AS number.
    pub asn: u32,
    /// Organisation.
    pub org: String,
    /// First address of the range that holds it.
    pub range_first: String,
    /// Last address of that range.
    pub range_last: String,
    /// The table (source) that says so.
    pub source: String,
    /// The date the table describes.
    pub as_of: Option<String>,
}

/// Schema step: the tables (see the module notes).
pub(crate) const ASN_DDL: &str = r#"
CREATE TABLE asn_sources(
    source_id INTEGER PRIMARY KEY REFERENCES sources(id),
    as_of TEXT,
    reference TEXT,
    tlp TEXT NOT NULL
);
CREATE TABLE asn_ranges(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL,
    first BLOB NOT NULL,         -- 16 bytes, IPv4 as IPv4-mapped IPv6
    last BLOB NOT NULL,
    asn INTEGER NOT NULL,
    org TEXT NOT NULL,
    added_at INTEGER NOT NULL,   -- milliseconds since the Unix epoch
    updated_at INTEGER NOT NULL,
    withdrawn_at INTEGER
);
CREATE UNIQUE INDEX asn_ranges_key ON asn_ranges(source_id, first, last);
CREATE INDEX asn_ranges_active ON asn_ranges(first) WHERE withdrawn_at IS NULL;
"#;

/// The 16-byte key of an address.
pub(crate) fn key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// An address back from its key.
fn from_key(bytes: &[u8]) -> Option<IpAddr> {
    let b: [u8; 16] = bytes.try_into().ok()?;
    let v6 = std::net::Ipv6Addr::from(b);
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

impl Store {
    /// Stores an address → AS table in one transaction; the first error
    /// from `ranges` (a bad row) rolls everything back. Re-ingest of the
    /// same source is differential (see the module notes). `file` and
    /// `fingerprint` as for [`Store::ingest`].
    pub fn ingest_asn_table<E, I>(
        &mut self,
        head: &AsnHead,
        ranges: I,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, E>
    where
        E: From<KbError>,
        I: IntoIterator<Item = Result<AsnRange, E>>,
    {
        let SourceWrite {
            tx,
            ts_ms,
            source_id,
            mut report,
        } = match self.begin_source_write(&head.source, &head.format, file, fingerprint)? {
            Begun::Unchanged(r) => return Ok(r),
            Begun::Write(w) => w,
        };
        tx.execute(
            "INSERT INTO asn_sources(source_id, as_of, reference, tlp) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(source_id) DO UPDATE SET as_of = ?2, reference = ?3, tlp = ?4",
            params![source_id, head.as_of, head.reference, head.tlp.as_str()],
        )
        .map_err(KbError::from)?;
        let stored = stored_ranges(&tx, source_id)?;
        let mut seen = vec![false; stored.len()];
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO asn_ranges(source_id, first, last, asn, org, added_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                )
                .map_err(KbError::from)?;
            let mut update = tx
                .prepare(
                    "UPDATE asn_ranges SET asn = ?2, org = ?3, updated_at = ?4, withdrawn_at = NULL \
                     WHERE id = ?1",
                )
                .map_err(KbError::from)?;
            for range in ranges {
                let r = range?;
                report.objects += 1;
                let (first, last) = (key(r.first), key(r.last));
                match stored.get(&(first, last)) {
                    Some(&(i, ref row)) => {
                        if seen[i] {
                            continue;
                        }
                        seen[i] = true;
                        if row.asn != r.asn || row.org != r.org || row.withdrawn {
                            update
                                .execute(params![row.id, r.asn, r.org, ts_ms])
                                .map_err(KbError::from)?;
                            report.changed += 1;
                        }
                    }
                    None => {
                        insert
                            .execute(params![source_id, first, last, r.asn, r.org, ts_ms])
                            .map_err(KbError::from)?;
                        report.added += 1;
                    }
                }
            }
            let mut withdraw = tx
                .prepare("UPDATE asn_ranges SET withdrawn_at = ?2, updated_at = ?2 WHERE id = ?1")
                .map_err(KbError::from)?;
            for (i, row) in stored.values() {
                if !seen[*i] && !row.withdrawn {
                    withdraw
                        .execute(params![row.id, ts_ms])
                        .map_err(KbError::from)?;
                    report.withdrawn += 1;
                }
            }
        }
        if report.added + report.changed + report.withdrawn > 0 {
            bump_generation(&tx)?;
        }
        tx.commit().map_err(KbError::from)?;
        Ok(report)
    }

    /// The network of `ip` in every table that covers it, newest table
    /// first.
    pub fn asn_of(&self, ip: IpAddr) -> Result<Vec<AsnInfo>, KbError> {
        let k = key(ip);
        let mut out = Vec::new();
        let mut tables = self.conn.prepare(
            "SELECT a.source_id, s.name, a.as_of FROM asn_sources a \
             JOIN sources s ON s.id = a.source_id ORDER BY a.as_of DESC, s.name",
        )?;
        let tables = tables
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut q = self.conn.prepare_cached(
            "SELECT first, last, asn, org FROM asn_ranges \
             WHERE source_id = ?1 AND first <= ?2 AND withdrawn_at IS NULL \
             ORDER BY first DESC LIMIT 1",
        )?;
        for (id, source, as_of) in tables {
            let hit = q
                .query_row(params![id, &k[..]], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .optional()?;
            let Some((first, last, asn, org)) = hit else {
                continue;
            };
            if last.as_slice() < &k[..] {
                continue;
            }
            let (Some(f), Some(l)) = (from_key(&first), from_key(&last)) else {
                continue;
            };
            out.push(AsnInfo {
                asn: u32::try_from(asn).unwrap_or_default(),
                org,
                range_first: f.to_string(),
                range_last: l.to_string(),
                source: source.clone(),
                as_of: as_of.clone(),
            });
        }
        Ok(out)
    }

    /// IPv4 addresses announced per AS, with the AS's organisation, across
    /// the active ranges of every table the connection may read (tables that
    /// overlap each count), for weighing an AS against the routed space.
    pub fn asn_ipv4_space(&self) -> Result<HashMap<u32, (u64, String)>, KbError> {
        let mut q = self.conn.prepare(
            "SELECT first, last, asn, org FROM asn_ranges WHERE withdrawn_at IS NULL \
             AND first >= ?1 AND first <= ?2",
        )?;
        let lo = key(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let hi = key(IpAddr::V4(std::net::Ipv4Addr::BROADCAST));
        let rows = q.query_map(params![&lo[..], &hi[..]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out: HashMap<u32, (u64, String)> = HashMap::new();
        for row in rows {
            let (f, l, asn, org) = row?;
            if let (Some(IpAddr::V4(f)), Some(IpAddr::V4(l))) = (from_key(&f), from_key(&l)) {
                let size = u64::from(u32::from(l)).saturating_sub(u64::from(u32::from(f))) + 1;
                let e = out
                    .entry(u32::try_from(asn).unwrap_or_default())
                    .or_insert_with(|| (0, org));
                e.0 += size;
            }
        }
        Ok(out)
    }
}

struct StoredRange {
    id: i64,
    asn: u32,
    org: String,
    withdrawn: bool,
}

type RangeKey = ([u8; 16], [u8; 16]);

/// The source's stored ranges by key, each with its position for the
/// seen-bitmap (a table is a few hundred thousand rows).
fn stored_ranges(
    tx: &Transaction,
    source_id: i64,
) -> Result<HashMap<RangeKey, (usize, StoredRange)>, KbError> {
    let mut q = tx.prepare(
        "SELECT id, first, last, asn, org, withdrawn_at IS NOT NULL FROM asn_ranges \
         WHERE source_id = ?1",
    )?;
    let rows = q.query_map([source_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, bool>(5)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, f, l, asn, org, withdrawn) = row?;
        let (Ok(f), Ok(l)) = (<[u8; 16]>::try_from(f), <[u8; 16]>::try_from(l)) else {
            return Err(KbError::Invalid(format!("asn range {id}: malformed key")));
        };
        let i = out.len();
        out.insert(
            (f, l),
            (
                i,
                StoredRange {
                    id,
                    asn: u32::try_from(asn).unwrap_or_default(),
                    org,
                    withdrawn,
                },
            ),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(first: &str, last: &str, asn: u32, org: &str) -> Result<AsnRange, KbError> {
        Ok(AsnRange {
            first: first.parse().unwrap(),
            last: last.parse().unwrap(),
            asn,
            org: org.into(),
        })
    }

    fn head(tlp: Tlp) -> AsnHead {
        AsnHead {
            source: "routeviews".into(),
            format: "asn-table".into(),
            as_of: Some("2026-06-17".into()),
            reference: None,
            tlp,
        }
    }

    #[test]
    fn finds_the_range_and_reingests_differentially() {
        let mut store = Store::open_in_memory().unwrap();
        let v1 = vec![
            range("1.0.0.0", "1.0.0.255", 13335, "Cloudflare, Inc."),
            range(
                "45.76.0.0",
                "45.77.255.255",
                20473,
                "The Constant Company, LLC",
            ),
            range("2001:db8::", "2001:db8::ffff", 64500, "Example v6"),
        ];
        let r = store
            .ingest_asn_table(&head(Tlp::Clear), v1, None, None)
            .unwrap();
        assert_eq!((r.added, r.objects), (3, 3));
        let hit = store.asn_of("45.77.153.197".parse().unwrap()).unwrap();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].asn, 20473);
        assert_eq!(hit[0].as_of.as_deref(), Some("2026-06-17"));
        assert_eq!(hit[0].range_first, "45.76.0.0");
        assert!(store.asn_of("1.0.1.0".parse().unwrap()).unwrap().is_empty());
        assert_eq!(
            store.asn_of("2001:db8::10".parse().unwrap()).unwrap()[0].asn,
            64500
        );
        // A v6 address is never answered by a v4 range that sorts before it.
        assert!(store.asn_of("::1".parse().unwrap()).unwrap().is_empty());
        let space = store.asn_ipv4_space().unwrap();
        assert_eq!(space[&13335], (256, "Cloudflare, Inc.".to_string()));
        assert_eq!(space[&20473].0, 131_072);
        assert!(!space.contains_key(&64500));

        // The organisation of one range changes, another disappears.
        let v2 = vec![
            range("1.0.0.0", "1.0.0.255", 13335, "Cloudflare"),
            range(
                "45.76.0.0",
                "45.77.255.255",
                20473,
                "The Constant Company, LLC",
            ),
        ];
        let r = store
            .ingest_asn_table(&head(Tlp::Clear), v2, None, None)
            .unwrap();
        assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 1));
        assert!(
            store
                .asn_of("2001:db8::10".parse().unwrap())
                .unwrap()
                .is_empty()
        );
        let rows: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM asn_ranges", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 3, "withdrawn, not deleted");
    }

    #[test]
    fn a_bad_row_leaves_the_store_as_it_was() {
        let mut store = Store::open_in_memory().unwrap();
        let rows = vec![
            range("1.0.0.0", "1.0.0.255", 13335, "Cloudflare"),
            Err(KbError::Invalid("line 2: not an address".into())),
        ];
        assert!(
            store
                .ingest_asn_table(&head(Tlp::Clear), rows, None, None)
                .is_err()
        );
        assert!(store.asn_of("1.0.0.1".parse().unwrap()).unwrap().is_empty());
        let sources: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM sources", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sources, 0);
    }

    #[test]
    fn a_restricted_reader_sees_only_tables_at_its_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        store
            .ingest_asn_table(
                &head(Tlp::Red),
                vec![range("1.0.0.0", "1.0.0.255", 13335, "Cloudflare")],
                None,
                None,
            )
            .unwrap();
        let mut reader = Store::open(&path).unwrap();
        reader.restrict(Tlp::Amber).unwrap();
        assert!(
            reader
                .asn_of("1.0.0.1".parse().unwrap())
                .unwrap()
                .is_empty()
        );
        assert!(reader.asn_ipv4_space().unwrap().is_empty());
        assert_eq!(store.asn_of("1.0.0.1".parse().unwrap()).unwrap().len(), 1);
    }
}
