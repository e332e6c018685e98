//! Registration records (WHOIS, RDAP): who registered a domain, with which
//! registrar and name servers, when, and whether the registrant is hidden.
//!
//! A source's records are one version: a re-ingest of the same source is
//! differential in one transaction (new domains added, changed records
//! updated, domains no longer given withdrawn, never deleted), TLP per
//! source like the AS tables. Name servers sit in a side table so that
//! "which domains share this name server" is an index lookup; they mirror
//! the record's current list.

use crate::Store;
use crate::errors::KbError;
use crate::ingest::{Begun, IngestReport, SourceWrite, bump_generation};
use cairn_model::Tlp;
use rusqlite::{Transaction, params};
use std::collections::HashMap;

/// What every record of one ingest shares.
#[derive(Debug, Clone)]
pub struct RegHead {
    /// Source name.
    pub source: String,
    /// Format (`whois`, `rdap`, or `registration` when mixed).
    pub format: String,
    /// Where the records come from.
    pub reference: Option<String>,
    /// Marking of the whole source.
    pub tlp: Tlp,
}

pub use cairn_model::Registration;

/// Schema step: registrations found by registrant e-mail (active ones).
pub(crate) fn v8_to_v9_registrant_index(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(
        "CREATE INDEX registrations_email ON registrations(registrant_email) \
         WHERE withdrawn_at IS NULL AND registrant_email IS NOT NULL;",
    )?;
    Ok(())
}

/// A record in short: domain, registrar, name servers.
pub type RegSummary = (String, Option<String>, Vec<String>);

/// A registrar name as a pivot key: lower case, letters and digits only,
/// legal suffixes dropped (`NameCheap, Inc.` → `namecheap`).
pub fn registrar_key(name: &str) -> String {
    const SUFFIXES: &[&str] = &[
        "inc",
        "llc",
        "ltd",
        "limited",
        "gmbh",
        "corp",
        "corporation",
        "co",
        "sa",
        "sas",
        "ag",
        "bv",
        "pty",
        "plc",
        "ehf",
        "srl",
        "ab",
        "as",
        "oy",
    ];
    let words: Vec<String> = name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.trim_matches('.').replace('.', ""))
        .filter(|w| !w.is_empty())
        .collect();
    let mut end = words.len();
    while end > 1 && SUFFIXES.contains(&words[end - 1].as_str()) {
        end -= 1;
    }
    words[..end].concat()
}

pub(crate) const REG_DDL: &str = r#"
CREATE TABLE reg_sources(
    source_id INTEGER PRIMARY KEY REFERENCES sources(id),
    reference TEXT,
    tlp TEXT NOT NULL
);
CREATE TABLE registrations(
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL,
    domain TEXT NOT NULL,
    registrar TEXT,
    registrar_key TEXT,          -- registrar_key(registrar), for pivots
    iana_id TEXT,
    registrar_url TEXT,
    created TEXT,
    updated TEXT,
    expires TEXT,
    status TEXT NOT NULL,        -- JSON array
    registrant_org TEXT,
    registrant_email TEXT,
    redacted INTEGER NOT NULL,
    added_at INTEGER NOT NULL,   -- milliseconds since the Unix epoch
    updated_at INTEGER NOT NULL,
    withdrawn_at INTEGER
);
CREATE UNIQUE INDEX registrations_key ON registrations(source_id, domain);
CREATE INDEX registrations_domain ON registrations(domain);
CREATE INDEX registrations_registrar ON registrations(registrar_key) WHERE withdrawn_at IS NULL;
CREATE TABLE reg_name_servers(
    registration_id INTEGER NOT NULL REFERENCES registrations(id),
    pos INTEGER NOT NULL,        -- order as the record lists them
    name TEXT NOT NULL,
    PRIMARY KEY(registration_id, pos)
) WITHOUT ROWID;
CREATE INDEX reg_name_servers_name ON reg_name_servers(name);
"#;

/// Schema step 7 (from 6): registration records.
pub(crate) fn v6_to_v7_registrations(tx: &Transaction) -> Result<(), KbError> {
    tx.execute_batch(REG_DDL)?;
    Ok(())
}

const COLUMNS: &str = "r.domain, s.name, r.registrar, r.iana_id, r.registrar_url, r.created, \
     r.updated, r.expires, r.status, r.registrant_org, r.registrant_email, r.redacted, r.id";

fn read_row(r: &rusqlite::Row) -> rusqlite::Result<(Registration, i64)> {
    let status: String = r.get(8)?;
    Ok((
        Registration {
            domain: r.get(0)?,
            source: r.get(1)?,
            registrar: r.get(2)?,
            registrar_iana_id: r.get(3)?,
            registrar_url: r.get(4)?,
            created: r.get(5)?,
            updated: r.get(6)?,
            expires: r.get(7)?,
            status: serde_json::from_str(&status).unwrap_or_default(),
            name_servers: Vec::new(),
            registrant_org: r.get(9)?,
            registrant_email: r.get(10)?,
            redacted: r.get(11)?,
        },
        r.get(12)?,
    ))
}

impl Store {
    /// Stores one source's registration records in one transaction; the
    /// first error from `records` rolls everything back. Re-ingest of the
    /// same source is differential (see the module notes); a domain given
    /// twice keeps its first record.
    pub fn ingest_registrations<E, I>(
        &mut self,
        head: &RegHead,
        records: I,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, E>
    where
        E: From<KbError>,
        I: IntoIterator<Item = Result<Registration, E>>,
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
            "INSERT INTO reg_sources(source_id, reference, tlp) VALUES (?1, ?2, ?3) \
             ON CONFLICT(source_id) DO UPDATE SET reference = ?2, tlp = ?3",
            params![source_id, head.reference, head.tlp.as_str()],
        )
        .map_err(KbError::from)?;
        let stored = stored(&tx, source_id)?;
        let mut seen: HashMap<String, ()> = HashMap::new();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO registrations(source_id, domain, registrar, registrar_key, iana_id, \
                     registrar_url, created, updated, expires, status, registrant_org, \
                     registrant_email, redacted, added_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
                )
                .map_err(KbError::from)?;
            let mut update = tx
                .prepare(
                    "UPDATE registrations SET registrar = ?2, registrar_key = ?3, iana_id = ?4, \
                     registrar_url = ?5, created = ?6, updated = ?7, expires = ?8, status = ?9, \
                     registrant_org = ?10, registrant_email = ?11, redacted = ?12, \
                     updated_at = ?13, withdrawn_at = NULL WHERE id = ?1",
                )
                .map_err(KbError::from)?;
            let mut clear_ns = tx
                .prepare("DELETE FROM reg_name_servers WHERE registration_id = ?1")
                .map_err(KbError::from)?;
            let mut add_ns = tx
                .prepare(
                    "INSERT INTO reg_name_servers(registration_id, pos, name) VALUES (?1, ?2, ?3)",
                )
                .map_err(KbError::from)?;
            for rec in records {
                let mut r = rec?;
                r.domain = r.domain.to_ascii_lowercase();
                if r.domain.is_empty() {
                    return Err(
                        KbError::Invalid("a registration record without a domain".into()).into(),
                    );
                }
                report.objects += 1;
                if seen.insert(r.domain.clone(), ()).is_some() {
                    continue;
                }
                r.source = head.source.clone();
                for ns in &mut r.name_servers {
                    *ns = ns.trim_end_matches('.').to_ascii_lowercase();
                }
                let status = serde_json::to_string(&r.status)
                    .map_err(|e| KbError::Invalid(e.to_string()))?;
                let key = r.registrar.as_deref().map(registrar_key);
                let cols: [&dyn rusqlite::ToSql; 12] = [
                    &r.registrar,
                    &key,
                    &r.registrar_iana_id,
                    &r.registrar_url,
                    &r.created,
                    &r.updated,
                    &r.expires,
                    &status,
                    &r.registrant_org,
                    &r.registrant_email,
                    &r.redacted,
                    &ts_ms,
                ];
                let id = match stored.get(&r.domain) {
                    Some((old, id, withdrawn)) => {
                        if old == &r && !withdrawn {
                            continue;
                        }
                        let mut v: Vec<&dyn rusqlite::ToSql> = vec![id];
                        v.extend(cols);
                        update.execute(&v[..]).map_err(KbError::from)?;
                        clear_ns.execute([id]).map_err(KbError::from)?;
                        report.changed += 1;
                        *id
                    }
                    None => {
                        let mut v: Vec<&dyn rusqlite::ToSql> = vec![&source_id, &r.domain];
                        v.extend(cols);
                        insert.execute(&v[..]).map_err(KbError::from)?;
                        report.added += 1;
                        tx.last_insert_rowid()
                    }
                };
                for (pos, ns) in r.name_servers.iter().enumerate() {
                    add_ns
                        .execute(params![id, pos as i64, ns])
                        .map_err(KbError::from)?;
                }
            }
            let mut withdraw = tx
                .prepare(
                    "UPDATE registrations SET withdrawn_at = ?2, updated_at = ?2 WHERE id = ?1",
                )
                .map_err(KbError::from)?;
            for (domain, (_, id, withdrawn)) in &stored {
                if !seen.contains_key(domain) && !withdrawn {
                    withdraw
                        .execute(params![id, ts_ms])
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

    /// The active registration records of `domain`, one per source the
    /// connection may read.
    pub fn registration(&self, domain: &str) -> Result<Vec<Registration>, KbError> {
        self.registrations_where("r.domain = ?1", &domain.to_ascii_lowercase(), usize::MAX)
    }

    /// Active records whose registrar normalises like `registrar`
    /// (`NameCheap, Inc.` and `namecheap` alike), at most `limit`.
    pub fn registrations_by_registrar(
        &self,
        registrar: &str,
        limit: usize,
    ) -> Result<Vec<Registration>, KbError> {
        self.registrations_where("r.registrar_key = ?1", &registrar_key(registrar), limit)
    }

    /// Active records that list `name_server`, at most `limit`.
    pub fn registrations_by_name_server(
        &self,
        name_server: &str,
        limit: usize,
    ) -> Result<Vec<Registration>, KbError> {
        let ns = name_server.trim_end_matches('.').to_ascii_lowercase();
        self.registrations_where(
            "r.id IN (SELECT registration_id FROM reg_name_servers WHERE name = ?1)",
            &ns,
            limit,
        )
    }

    /// Every active record's domain, registrar and name servers (the
    /// population an actor's registration habits are compared with), in
    /// domain order.
    pub fn registration_summaries(&self) -> Result<Vec<RegSummary>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT r.domain, r.registrar, \
               (SELECT group_concat(name, ' ') FROM (SELECT name FROM reg_name_servers \
                WHERE registration_id = r.id ORDER BY pos)) \
             FROM registrations r WHERE r.withdrawn_at IS NULL ORDER BY r.domain, r.id",
        )?;
        let rows = q.query_map([], |r| {
            let ns: Option<String> = r.get(2)?;
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                ns.map(|n| n.split(' ').map(str::to_string).collect())
                    .unwrap_or_default(),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Active records whose registrant e-mail is `email`, at most `limit`.
    pub fn registrations_by_email(
        &self,
        email: &str,
        limit: usize,
    ) -> Result<Vec<Registration>, KbError> {
        self.registrations_where(
            "r.registrant_email = ?1",
            &email.trim().to_ascii_lowercase(),
            limit,
        )
    }

    /// How many active records give `email` as the registrant's, counted up
    /// to `cap`.
    pub fn email_fan_out(&self, email: &str, cap: usize) -> Result<usize, KbError> {
        self.count_where(
            "registrant_email = ?1",
            &email.trim().to_ascii_lowercase(),
            cap,
        )
    }

    /// How many active records name a registrar that normalises like
    /// `registrar`, counted up to `cap` (a hub is known to be one without
    /// reading it).
    pub fn registrar_fan_out(&self, registrar: &str, cap: usize) -> Result<usize, KbError> {
        self.count_where("registrar_key = ?1", &registrar_key(registrar), cap)
    }

    /// How many active records list `name_server`, counted up to `cap`.
    pub fn name_server_fan_out(&self, name_server: &str, cap: usize) -> Result<usize, KbError> {
        let ns = name_server.trim_end_matches('.').to_ascii_lowercase();
        self.count_where(
            "id IN (SELECT registration_id FROM reg_name_servers WHERE name = ?1)",
            &ns,
            cap,
        )
    }

    fn count_where(&self, cond: &str, arg: &str, cap: usize) -> Result<usize, KbError> {
        let cap = i64::try_from(cap).unwrap_or(i64::MAX);
        let n: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM registrations WHERE {cond} \
                 AND withdrawn_at IS NULL LIMIT ?2)"
            ))?
            .query_row(params![arg, cap], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn registrations_where(
        &self,
        cond: &str,
        arg: &str,
        limit: usize,
    ) -> Result<Vec<Registration>, KbError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM registrations r JOIN sources s ON s.id = r.source_id \
             WHERE {cond} AND r.withdrawn_at IS NULL ORDER BY r.domain, s.name LIMIT ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q
            .query_map(params![arg, limit], read_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut ns = self.conn.prepare_cached(
            "SELECT name FROM reg_name_servers WHERE registration_id = ?1 ORDER BY pos",
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (mut reg, id) in rows {
            reg.name_servers = ns
                .query_map([id], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            out.push(reg);
        }
        Ok(out)
    }
}

/// The source's stored records by domain: the record, its row id, withdrawn.
fn stored(
    tx: &Transaction,
    source_id: i64,
) -> Result<HashMap<String, (Registration, i64, bool)>, KbError> {
    let mut q = tx.prepare(&format!(
        "SELECT {COLUMNS}, r.withdrawn_at IS NOT NULL FROM registrations r \
         JOIN sources s ON s.id = r.source_id WHERE r.source_id = ?1"
    ))?;
    let rows = q
        .query_map([source_id], |r| Ok((read_row(r)?, r.get::<_, bool>(13)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut ns =
        tx.prepare("SELECT name FROM reg_name_servers WHERE registration_id = ?1 ORDER BY pos")?;
    let mut out = HashMap::with_capacity(rows.len());
    for ((mut reg, id), withdrawn) in rows {
        reg.name_servers = ns
            .query_map([id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(reg.domain.clone(), (reg, id, withdrawn));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
