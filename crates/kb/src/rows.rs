//! Reading stored rows back into model objects.

use cairn_model::{Object, Provenance, Tlp};
use rusqlite::Row;

/// Columns `object_from_row` expects, in order; `o` is `objects`, `s` is `sources`.
pub(crate) const OBJECT_COLUMNS: &str = "o.id, s.name, o.stix_id, o.kind, o.name, o.description, o.external_id, \
     o.created, o.modified, o.revoked, o.deprecated, o.country, o.valid_until, o.aliases, o.tactics, o.labels, \
     o.sectors, o.refs, o.reference, o.first_seen, o.last_seen, o.confidence, o.tlp";

fn list(r: &Row, i: usize) -> rusqlite::Result<Vec<String>> {
    let s: String = r.get(i)?;
    Ok(serde_json::from_str(&s).unwrap_or_default())
}

/// Row id and object (without `raw` and observables, which few callers need).
pub(crate) fn object_from_row(r: &Row) -> rusqlite::Result<(i64, Object)> {
    let tlp: String = r.get(22)?;
    Ok((
        r.get(0)?,
        Object {
            prov: Provenance {
                source: r.get(1)?,
                reference: r.get(18)?,
                first_seen: r.get(19)?,
                last_seen: r.get(20)?,
                confidence: r.get(21)?,
                tlp: tlp.parse().unwrap_or(Tlp::Clear),
            },
            id: r.get(2)?,
            kind: r.get(3)?,
            name: r.get(4)?,
            description: r.get(5)?,
            external_id: r.get(6)?,
            created: r.get(7)?,
            modified: r.get(8)?,
            revoked: r.get(9)?,
            deprecated: r.get(10)?,
            country: r.get(11)?,
            valid_until: r.get(12)?,
            aliases: list(r, 13)?,
            tactics: list(r, 14)?,
            labels: list(r, 15)?,
            sectors: list(r, 16)?,
            references: list(r, 17)?,
            ..Object::default()
        },
    ))
}
