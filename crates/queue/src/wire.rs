//! What travels through the queue: work items (one input or one chunk of
//! one) and the parts of a chunk's result, as JSON (readable with `nats`
//! tools when something goes wrong; a part is a few hundred kilobytes).

use cairn_hunt::{Chunk, FileSummary, Hit, LogFormat, MatchKind};
use cairn_model::Observable;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One piece of work: scan `path` (or a chunk of it) with the index
/// `tag`, name it `name` in hits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WorkItem {
    /// The hunt this belongs to.
    pub run: String,
    /// The piece's number in the hunt.
    pub seq: u32,
    /// Where the worker reads the file (absolute).
    pub path: String,
    /// The input's name, as the hunt's user wrote it.
    pub name: String,
    /// The part of the file; none for all of it.
    pub chunk: Option<Chunk>,
    /// The file shipped through the queue's data bucket (this object)
    /// instead of read at `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The index: its tag (store id and generation) and its object.
    pub tag: String,
    /// The object-store name of the index.
    pub object: String,
    /// Scan settings.
    pub scan: ScanSpec,
}

/// The scan options a hunt passes to its workers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScanSpec {
    /// `auto`, `zeek`, `json`, `csv` or `text`.
    pub format: String,
    /// `--field name=type` specifications.
    pub fields: Vec<String>,
    /// Longest line read, in bytes.
    pub max_line: usize,
}

/// One part of a chunk's result. Parts are cut deterministically, so
/// every attempt at a chunk yields the same parts; the hunt keeps the
/// first copy of each.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ResultPart {
    pub run: String,
    pub seq: u32,
    pub part: u32,
    pub parts: u32,
    /// The chunk's counts (every part carries them).
    pub summary: Option<SummaryWire>,
    /// Why the chunk could not be scanned (all or in part).
    pub error: Option<String>,
    pub hits: Vec<HitWire>,
}

/// A [`FileSummary`] without its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SummaryWire {
    pub format: String,
    pub compression: String,
    pub lines: u64,
    pub bytes: u64,
    pub malformed: u64,
    pub malformed_examples: Vec<u64>,
    pub hits: u64,
}

impl SummaryWire {
    pub fn from_summary(s: &FileSummary) -> SummaryWire {
        SummaryWire {
            format: s.format.to_string(),
            compression: s.compression.to_string(),
            lines: s.lines,
            bytes: s.bytes,
            malformed: s.malformed,
            malformed_examples: s.malformed_examples.clone(),
            hits: s.hits,
        }
    }

    /// The summary of input `file`, its lines moved on by `base`.
    pub fn to_summary(&self, file: &str, base: u64) -> FileSummary {
        FileSummary {
            file: file.to_string(),
            format: self.format.parse().unwrap_or(LogFormat::Auto),
            compression: match self.compression.as_str() {
                "gzip" => "gzip",
                "zstd" => "zstd",
                _ => "none",
            },
            lines: self.lines,
            bytes: self.bytes,
            malformed: self.malformed,
            malformed_examples: self.malformed_examples.iter().map(|l| l + base).collect(),
            hits: self.hits,
        }
    }
}

/// A [`Hit`] without its file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HitWire {
    pub line: u64,
    pub field: String,
    pub value: String,
    pub indicator: Observable,
    pub match_kind: MatchKind,
    pub keys: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ts: Option<String>,
}

impl HitWire {
    pub fn from_hit(h: Hit) -> HitWire {
        HitWire {
            line: h.line,
            field: h.field,
            value: h.value,
            indicator: h.indicator,
            match_kind: h.match_kind,
            keys: h.keys,
            ts: h.ts,
        }
    }

    /// The hit in input `file`, its line moved on by `base`.
    pub fn into_hit(self, file: &Arc<str>, base: u64) -> Hit {
        Hit {
            file: file.clone(),
            line: self.line + base,
            field: self.field,
            value: self.value,
            indicator: self.indicator,
            match_kind: self.match_kind,
            keys: self.keys,
            ts: self.ts,
        }
    }
}

/// Cuts a chunk's result into parts of about `budget` bytes of JSON each
/// (at least one part, every part whole JSON).
pub(crate) fn into_parts(
    run: &str,
    seq: u32,
    summary: Option<SummaryWire>,
    error: Option<String>,
    hits: Vec<HitWire>,
    budget: usize,
) -> Vec<Vec<u8>> {
    let mut groups: Vec<Vec<HitWire>> = vec![Vec::new()];
    let mut size = 0usize;
    for h in hits {
        let n = serde_json::to_vec(&h).map_or(0, |v| v.len()) + 1;
        if size + n > budget && groups.last().is_some_and(|g| !g.is_empty()) {
            groups.push(Vec::new());
            size = 0;
        }
        size += n;
        if let Some(g) = groups.last_mut() {
            g.push(h);
        }
    }
    let parts = groups.len() as u32;
    groups
        .into_iter()
        .enumerate()
        .map(|(i, hits)| {
            let p = ResultPart {
                run: run.to_string(),
                seq,
                part: i as u32,
                parts,
                summary: summary.clone(),
                error: error.clone(),
                hits,
            };
            serde_json::to_vec(&p).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::IndicatorKind;

    fn hit(line: u64, value: &str) -> HitWire {
        HitWire {
            line,
            field: "query".into(),
            value: value.into(),
            indicator: Observable::new(IndicatorKind::Domain, "dga.asia"),
            match_kind: MatchKind::Subdomain,
            keys: vec![1],
            ts: None,
        }
    }

    #[test]
    fn parts_are_whole_bounded_and_the_same_every_time() {
        let hits: Vec<HitWire> = (0..500)
            .map(|i| hit(i, &format!("h{i}.kb.dga.asia")))
            .collect();
        let a = into_parts("r", 3, None, None, hits.clone(), 4096);
        let b = into_parts("r", 3, None, None, hits, 4096);
        assert_eq!(a, b);
        assert!(a.len() > 5);
        let mut lines = Vec::new();
        for (i, p) in a.iter().enumerate() {
            assert!(p.len() < 4096 + 512, "part {i}: {} bytes", p.len());
            let r: ResultPart = serde_json::from_slice(p).unwrap();
            assert_eq!((r.part, r.parts), (i as u32, a.len() as u32));
            lines.extend(r.hits.iter().map(|h| h.line));
        }
        assert_eq!(lines, (0..500).collect::<Vec<_>>());
        // No hits is still one part, carrying the counts.
        assert_eq!(into_parts("r", 0, None, None, Vec::new(), 10).len(), 1);
    }
}
