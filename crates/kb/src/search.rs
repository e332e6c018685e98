//! Full-text search over names, aliases and descriptions (SQLite FTS5),
//! with exact name matches ranked first.

use crate::Store;
use crate::errors::KbError;
use cairn_model::normalize_name;
use rusqlite::params;
use serde::Serialize;
use std::collections::BTreeMap;

/// One search result: an object name, grouped across the sources that state it.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// STIX type.
    pub kind: String,
    /// Name.
    pub name: String,
    /// ATT&CK id, when known.
    pub external_id: Option<String>,
    /// Sources describing an object of this name and type.
    pub sources: Vec<String>,
    /// A short excerpt around the match.
    pub snippet: String,
    /// Higher is better.
    pub score: f64,
}

impl Store {
    /// Ranked matches for `text` among actors, campaigns, software and techniques.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, KbError> {
        let tokens: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(|t| format!("\"{}\"*", t.replace('"', "")))
            .collect();
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let qnorm = normalize_name(text);
        let mut q = self.conn.prepare(
            "SELECT o.kind, o.name, o.external_id, s.name, \
                    snippet(fts, 2, '[', ']', '…', 12), bm25(fts, 10.0, 6.0, 1.0), \
                    EXISTS(SELECT 1 FROM names n WHERE n.object_id = o.id AND n.norm = ?2) \
             FROM fts JOIN objects o ON o.id = fts.rowid JOIN sources s ON s.id = o.source_id \
             WHERE fts MATCH ?1 AND o.withdrawn_at IS NULL AND o.revoked = 0 \
             ORDER BY bm25(fts, 10.0, 6.0, 1.0) LIMIT 500",
        )?;
        let rows = q.query_map(params![tokens.join(" "), qnorm], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                r.get::<_, f64>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })?;
        let mut found = Vec::new();
        for row in rows {
            let (kind, name, external_id, source, snippet, bm25, exact) = row?;
            // bm25 is negative, lower is better.
            found.push(TextMatch {
                kind,
                name: name.unwrap_or_default(),
                external_id,
                source,
                snippet,
                score: -bm25,
                exact,
            });
        }
        let hits = rank(found, limit);
        Ok(hits)
    }
}

/// One object a text search matched, as a backend's query gives it.
#[derive(Debug, Clone)]
pub struct TextMatch {
    /// STIX type.
    pub kind: String,
    /// Name.
    pub name: String,
    /// ATT&CK id, when known.
    pub external_id: Option<String>,
    /// The source stating it.
    pub source: String,
    /// An excerpt around the match.
    pub snippet: String,
    /// The text engine's score, higher is better.
    pub score: f64,
    /// Whether a name or alias equals the query.
    pub exact: bool,
}

/// Search hits from a backend's matches: grouped by kind and name across
/// sources, an exact name or alias first, agreement between sources worth
/// a little; the best `limit`.
pub fn rank(matches: impl IntoIterator<Item = TextMatch>, limit: usize) -> Vec<SearchHit> {
    let mut grouped: BTreeMap<(String, String), SearchHit> = BTreeMap::new();
    for m in matches {
        // An exact name or alias match outranks any text match.
        let score = m.score + if m.exact { 1000.0 } else { 0.0 };
        let key = (m.kind.clone(), normalize_name(&m.name));
        let hit = grouped.entry(key).or_insert_with(|| SearchHit {
            kind: m.kind,
            name: m.name,
            external_id: None,
            sources: Vec::new(),
            snippet: String::new(),
            score: f64::MIN,
        });
        if hit.external_id.is_none() {
            hit.external_id = m.external_id;
        }
        if !hit.sources.contains(&m.source) {
            hit.sources.push(m.source);
        }
        if score > hit.score {
            hit.score = score;
            hit.snippet = m.snippet;
        }
    }
    let mut hits: Vec<SearchHit> = grouped.into_values().collect();
    for h in &mut hits {
        h.score += h.sources.len() as f64 * 0.5;
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.name.cmp(&b.name)));
    hits.truncate(limit);
    hits
}
