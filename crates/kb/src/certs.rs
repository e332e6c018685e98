//! What the file scanner asks of stored intel beyond an indicator's
//! context: the statement as its source wrote it (a certificate list's
//! `x_cairn_certificate`, a YARA rule file), who uses a malware family, and
//! what is linked to a certificate. All through the caller's connection,
//! so a restricted reader sees only what its clearance allows.

use rusqlite::{OptionalExtension, params};

use crate::errors::KbError;
use crate::{ActorRef, LIST_KEY_BASE, Store};

/// A statement linked to another by a relationship, as the certificate
/// page lists them (samples seen signed with a certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedStatement {
    /// Its key.
    pub key: i64,
    /// Its STIX id.
    pub stix_id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its values (kind, value).
    pub values: Vec<(String, String)>,
    /// Who said so.
    pub source: String,
}

/// A stored rule file (YARA, Sigma): the STIX indicator's pattern, and
/// who said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YaraRuleFile {
    /// The indicator's key.
    pub key: i64,
    /// Its name (the file's).
    pub name: String,
    /// Who said so.
    pub source: String,
    /// The rules' text.
    pub text: String,
}

impl Store {
    /// The JSON an object's source gave (`None` for list values, which keep
    /// no JSON, and for keys the caller cannot see).
    pub fn object_raw(&self, key: i64) -> Result<Option<String>, KbError> {
        if key >= LIST_KEY_BASE {
            return Ok(None);
        }
        Ok(self
            .conn
            .query_row(
                "SELECT raw FROM objects WHERE id = ?1 AND withdrawn_at IS NULL",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The kinds of value (`cert-serial`, `sha256`, …) an indicator holds.
    pub fn indicator_kinds(&self, key: i64) -> Result<Vec<String>, KbError> {
        let sql = if key >= LIST_KEY_BASE {
            "SELECT kind FROM list_values WHERE id = ?1 - ?2"
        } else {
            "SELECT DISTINCT kind FROM observables WHERE object_id = ?1 AND ?2 IS NOT NULL"
        };
        let mut q = self.conn.prepare_cached(sql)?;
        let kinds = q
            .query_map(params![key, LIST_KEY_BASE], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(kinds)
    }

    /// The intrusion sets any source says use a malware family or tool of
    /// this name (compared as normalised names), resolved across sources.
    pub fn family_users(&self, family: &str) -> Result<Vec<ActorRef>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT DISTINCT a.stix_id FROM names n \
             JOIN objects m ON m.id = n.object_id AND m.kind IN ('malware', 'tool') \
               AND m.withdrawn_at IS NULL \
             JOIN relations r ON r.tgt_ref = m.stix_id AND r.rel_type = 'uses' AND r.withdrawn_at IS NULL \
             JOIN objects a ON a.stix_id = r.src_ref AND a.kind = 'intrusion-set' AND a.withdrawn_at IS NULL \
             WHERE n.norm = ?1",
        )?;
        let ids: Vec<String> = q
            .query_map([cairn_model::normalize_name(family)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out: Vec<ActorRef> = Vec::new();
        for id in ids {
            if let Some(a) = self.actor_names(&id)?
                && !out.contains(&a)
            {
                out.push(a);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Indicators that say they are `related-to` the statement `stix_id`
    /// (for a certificate: the samples seen signed with it).
    pub fn linked_to(&self, stix_id: &str, limit: usize) -> Result<Vec<LinkedStatement>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT DISTINCT o.id, o.stix_id, o.name, s.name FROM relations r \
             JOIN objects o ON o.stix_id = r.src_ref AND o.withdrawn_at IS NULL \
             JOIN sources s ON s.id = o.source_id \
             WHERE r.tgt_ref = ?1 AND r.rel_type = 'related-to' AND r.withdrawn_at IS NULL \
             ORDER BY o.id LIMIT ?2",
        )?;
        let rows: Vec<(i64, String, Option<String>, String)> = q
            .query_map(params![stix_id, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut values = self.conn.prepare_cached(
            "SELECT kind, value FROM observables WHERE object_id = ?1 ORDER BY kind, value",
        )?;
        let mut out = Vec::new();
        for (key, stix_id, name, source) in rows {
            let vals = values
                .query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            out.push(LinkedStatement {
                key,
                stix_id,
                name,
                values: vals,
                source,
            });
        }
        Ok(out)
    }

    /// Every certificate a list describes (`x_cairn_certificate` of active
    /// indicators), with its source's name.
    pub fn certificate_records(&self) -> Result<Vec<(String, serde_json::Value)>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT s.name, o.raw FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE o.kind = 'indicator' AND o.withdrawn_at IS NULL \
               AND o.raw LIKE '%\"x_cairn_certificate\"%' ORDER BY o.id",
        )?;
        let rows: Vec<(String, String)> = q
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(source, raw)| {
                let v: serde_json::Value = serde_json::from_str(&raw).ok()?;
                let c = v.get("x_cairn_certificate")?.clone();
                Some((source, c))
            })
            .collect())
    }

    /// Keys of the active objects of one kind with an external id (an
    /// ATT&CK technique's `T1059.001`), from every source that states one.
    pub fn keys_by_external_id(&self, kind: &str, external_id: &str) -> Result<Vec<i64>, KbError> {
        let mut q = self.conn.prepare_cached(
            "SELECT id FROM objects WHERE kind = ?1 AND external_id = ?2 \
               AND withdrawn_at IS NULL AND revoked = 0 ORDER BY id",
        )?;
        let keys = q
            .query_map([kind, external_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(keys)
    }

    /// Every active YARA rule file in the store (STIX indicators with
    /// `pattern_type` `yara`), oldest first.
    pub fn yara_rule_files(&self) -> Result<Vec<YaraRuleFile>, KbError> {
        self.rule_files("yara")
    }

    /// Every active rule file of one pattern language (`yara`, `sigma`):
    /// STIX indicators whose `pattern_type` is that, oldest first.
    pub fn rule_files(&self, pattern_type: &str) -> Result<Vec<YaraRuleFile>, KbError> {
        // The LIKE narrows by the raw JSON's text; the parsed field decides.
        let mut q = self.conn.prepare_cached(
            "SELECT o.id, o.name, s.name, o.raw FROM objects o JOIN sources s ON s.id = o.source_id \
             WHERE o.kind = 'indicator' AND o.withdrawn_at IS NULL AND o.revoked = 0 \
               AND o.raw LIKE '%\"pattern_type\":\"' || ?1 || '\"%' ORDER BY o.id",
        )?;
        let rows: Vec<(i64, Option<String>, String, String)> = q
            .query_map([pattern_type], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for (key, name, source, raw) in rows {
            let v: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
            if v["pattern_type"].as_str() != Some(pattern_type) {
                continue;
            }
            if let Some(text) = v["pattern"].as_str() {
                out.push(YaraRuleFile {
                    key,
                    name: name.unwrap_or_else(|| format!("rules #{key}")),
                    source,
                    text: text.to_string(),
                });
            }
        }
        Ok(out)
    }
}
