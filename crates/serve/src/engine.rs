//! The work behind pages and API calls alike: indicator lookup, hunting an
//! uploaded log, attribution, ingest. Every function takes the caller's
//! clearance, so what it returns is already what that caller may see.

use crate::errors::ApiError;
use crate::state::{App, Clearance};
use cairn_attribute::{Evidence, Ranking};
use cairn_hunt::{FieldType, Hit, Input, LineExtractor, Match, ScanOptions, Scanner};
use cairn_kb::{ActorRef, IndicatorContext, IngestReport, SightingInput};
use cairn_model::Provenance;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most alerts one hunt request returns (the summary still counts them all).
pub(crate) const MAX_ALERTS: usize = 5_000;

/// One indicator a looked-up value matched, with whose it is.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LookupMatch {
    pub(crate) key: u32,
    pub(crate) indicator: IndicatorOut,
    pub(crate) stix_id: String,
    pub(crate) actors: Vec<ActorRef>,
    pub(crate) families: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) sources: Vec<Provenance>,
}

/// The indicator side of a match.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IndicatorOut {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) value: String,
    #[serde(rename = "match")]
    pub(crate) match_kind: String,
}

/// The answer to "is this value known?".
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Lookup {
    pub(crate) value: String,
    pub(crate) found: bool,
    pub(crate) matches: Vec<LookupMatch>,
}

/// One hunt alert.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Alert {
    pub(crate) file: String,
    pub(crate) line: u64,
    pub(crate) field: String,
    pub(crate) value: String,
    pub(crate) ts: Option<String>,
    pub(crate) indicator: IndicatorOut,
    pub(crate) actors: Vec<ActorRef>,
    pub(crate) families: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) sources: Vec<Provenance>,
    pub(crate) stix_ids: Vec<String>,
}

/// A hunt's alerts and counts.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HuntResult {
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    pub(crate) malformed: u64,
    pub(crate) hits: u64,
    pub(crate) truncated: bool,
    pub(crate) recorded: usize,
    pub(crate) alerts: Vec<Alert>,
    /// Hits per actor name.
    pub(crate) by_actor: BTreeMap<String, u64>,
    pub(crate) errors: Vec<String>,
}

fn indicator_out(m_kind: &str, value: &str, how: &str) -> IndicatorOut {
    IndicatorOut {
        kind: m_kind.to_string(),
        value: value.to_string(),
        match_kind: how.to_string(),
    }
}

/// Merges the contexts of several keys; `None` when the caller sees none of them.
fn merged(ctxs: &[Arc<IndicatorContext>]) -> Option<IndicatorContext> {
    let first = ctxs.first()?;
    let mut out = (**first).clone();
    for c in &ctxs[1..] {
        out.absorb(c);
    }
    Some(out)
}

impl App {
    fn visible_contexts(
        &self,
        clearance: Clearance,
        generation: i64,
        keys: &[u32],
    ) -> Result<Vec<Arc<IndicatorContext>>, ApiError> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(c) = self.context(clearance, generation, *k)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Looks one value up with the hunt's semantics (subdomains, CIDRs, URL
    /// hosts), as the clearance sees the store. Cheap: runs on the caller's thread.
    pub(crate) fn lookup(&self, clearance: Clearance, value: &str) -> Result<Lookup, ApiError> {
        let value = value.trim();
        if value.is_empty() || value.len() > 8192 {
            return Err(ApiError::bad_request(
                "give one indicator value (up to 8 KiB) as ?value=",
            ));
        }
        let engines = self.engines();
        let mut found: Vec<Match> = Vec::new();
        engines
            .index
            .match_value(FieldType::Auto, value, &mut found);
        let mut matches = Vec::new();
        for m in found {
            for key in &m.keys {
                let Some(ctx) = self.context(clearance, engines.generation, *key)? else {
                    continue;
                };
                matches.push(LookupMatch {
                    key: *key,
                    indicator: indicator_out(
                        m.indicator.kind.as_str(),
                        &m.indicator.value,
                        m.match_kind.as_str(),
                    ),
                    stix_id: ctx.stix_id.clone(),
                    actors: ctx.actors.clone(),
                    families: ctx.families.clone(),
                    roles: ctx.roles.clone(),
                    sources: ctx.sources.clone(),
                });
            }
        }
        Ok(Lookup {
            value: value.to_string(),
            found: !matches.is_empty(),
            matches,
        })
    }

    /// Hunts one uploaded log (any format the CLI reads, gzip/zstd included).
    /// With `record`, hits are written back as sightings (analysts only; the
    /// caller checks the role).
    pub(crate) async fn hunt_bytes(
        &self,
        clearance: Clearance,
        name: &str,
        bytes: Vec<u8>,
        record: bool,
    ) -> Result<HuntResult, ApiError> {
        let app = self.clone();
        let name = sanitize_name(name);
        let result =
            tokio::task::spawn_blocking(move || app.hunt_blocking(clearance, &name, &bytes))
                .await
                .map_err(ApiError::internal)??;
        let (mut result, sightings) = result;
        if record && !sightings.is_empty() {
            result.recorded = self
                .write(move |s| Ok(s.record_sightings(&sightings)?))
                .await?;
            self.refresh().await?;
        }
        Ok(result)
    }

    fn hunt_blocking(
        &self,
        clearance: Clearance,
        name: &str,
        bytes: &[u8],
    ) -> Result<(HuntResult, Vec<SightingInput>), ApiError> {
        let dir = tempfile::tempdir().map_err(ApiError::internal)?;
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).map_err(ApiError::internal)?;
        let engines = self.engines();
        let extractor: Arc<dyn LineExtractor> = Arc::new(cairn_hunt::ReportExtractor::default());
        let opts = ScanOptions {
            extractor,
            ..ScanOptions::default()
        };
        let hits: Mutex<Vec<Hit>> = Mutex::new(Vec::new());
        let summary = Scanner::new(&engines.index, opts).scan(&[Input::Path(path)], &|h| {
            if let Ok(mut v) = hits.lock()
                && v.len() < MAX_ALERTS * 4
            {
                v.push(h);
            }
        });
        let mut hits = hits.into_inner().map_err(ApiError::internal)?;
        hits.sort_by_key(|h| h.line);
        let now = cairn_now();
        let mut alerts = Vec::new();
        let mut by_actor: BTreeMap<String, u64> = BTreeMap::new();
        let mut tally: BTreeMap<u32, (u64, String, String)> = BTreeMap::new();
        let mut visible_hits = 0u64;
        for h in hits {
            let ctxs = self.visible_contexts(clearance, engines.generation, &h.keys)?;
            let Some(ctx) = merged(&ctxs) else {
                continue;
            };
            visible_hits += 1;
            for a in &ctx.actors {
                *by_actor.entry(a.name.clone()).or_default() += 1;
            }
            let ts = h.ts.clone().unwrap_or_else(|| now.clone());
            for k in &h.keys {
                let e = tally.entry(*k).or_insert((0, ts.clone(), ts.clone()));
                e.0 += 1;
                if ts < e.1 {
                    e.1 = ts.clone();
                }
                if ts > e.2 {
                    e.2 = ts.clone();
                }
            }
            if alerts.len() < MAX_ALERTS {
                alerts.push(Alert {
                    file: name.to_string(),
                    line: h.line,
                    field: h.field,
                    value: h.value,
                    ts: h.ts,
                    indicator: indicator_out(
                        h.indicator.kind.as_str(),
                        &h.indicator.value,
                        h.match_kind.as_str(),
                    ),
                    stix_ids: ctxs.iter().map(|c| c.stix_id.clone()).collect(),
                    actors: ctx.actors,
                    families: ctx.families,
                    roles: ctx.roles,
                    sources: ctx.sources,
                });
            }
        }
        let sightings = tally
            .into_iter()
            .map(|(k, (count, first, last))| SightingInput {
                key: i64::from(k),
                count,
                first_seen: first,
                last_seen: last,
                where_: format!("upload {name}"),
            })
            .collect();
        Ok((
            HuntResult {
                lines: summary.lines,
                bytes: summary.bytes,
                malformed: summary.malformed,
                hits: visible_hits,
                truncated: visible_hits as usize > alerts.len(),
                recorded: 0,
                alerts,
                by_actor,
                errors: summary.errors.iter().map(|e| e.to_string()).collect(),
            },
            sightings,
        ))
    }

    /// Ranks the actor clusters the clearance may see against `evidence`.
    pub(crate) async fn attribute(
        &self,
        clearance: Clearance,
        evidence: Evidence,
        top: usize,
    ) -> Result<Ranking, ApiError> {
        if evidence.is_empty() {
            return Err(ApiError::bad_request(
                "no evidence: give techniques, software, indicators, countries or sectors",
            ));
        }
        let corpus = self.corpus(clearance).await?;
        tokio::task::spawn_blocking(move || corpus.attribute(&evidence, top.clamp(1, 50)))
            .await
            .map_err(ApiError::internal)
    }

    /// Parses and ingests one uploaded file as `source` (one transaction).
    pub(crate) async fn ingest_bytes(
        &self,
        name: &str,
        bytes: Vec<u8>,
        opts: cairn_intake::Options,
    ) -> Result<IngestReport, ApiError> {
        let name = sanitize_name(name);
        let report = self
            .write(move |store| {
                let path = std::path::Path::new(&name);
                let bundle = cairn_intake::parse_bytes(path, &bytes, &opts)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                Ok(store.ingest(&bundle, Some(&name), None)?)
            })
            .await?;
        self.refresh().await?;
        Ok(report)
    }
}

/// A file name safe to create in a scratch folder and to show back.
fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    let clean = clean.trim_start_matches('.').to_string();
    if clean.is_empty() {
        "upload.log".to_string()
    } else {
        clean
    }
}

fn cairn_now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::sanitize_name;

    #[test]
    fn upload_names_cannot_escape_the_scratch_folder() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("..\\x\\dns.log.gz"), "dns.log.gz");
        assert_eq!(sanitize_name("...."), "upload.log");
        assert_eq!(sanitize_name("a b<script>.log"), "abscript.log");
    }
}
