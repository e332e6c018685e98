//! The work behind pages and API calls alike: indicator lookup, hunting an
//! uploaded log, attribution, ingest. Every function takes the caller's
//! clearance, so what it returns is already what that caller may see. The
//! work itself is the engine layer's (`cairn_engine`), shared with the CLI.

use crate::errors::ApiError;
use crate::state::{App, Clearance};
use cairn_attribute::{Evidence, Ranking};
use cairn_engine::{AlertBatch, AlertRecord, HuntOptions, IndicatorRef, Intel};
use cairn_hunt::{FieldType, Input, Match};
use cairn_kb::{ActorRef, IngestReport, SightingInput};
use cairn_model::Provenance;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most alerts one hunt request returns; every hit is still counted.
pub(crate) const MAX_ALERTS: usize = 5_000;

/// One indicator a looked-up value matched, with whose it is.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LookupMatch {
    pub(crate) key: u32,
    pub(crate) indicator: IndicatorRef,
    pub(crate) stix_id: String,
    pub(crate) actors: Vec<ActorRef>,
    pub(crate) families: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) sources: Vec<Provenance>,
}

/// The answer to "is this value known?".
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Lookup {
    pub(crate) value: String,
    pub(crate) found: bool,
    pub(crate) matches: Vec<LookupMatch>,
}

/// A hunt's counts (every hit) and its first alerts.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HuntResult {
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    pub(crate) malformed: u64,
    /// Every hit on an indicator the caller may see.
    pub(crate) hits: u64,
    /// Indicators hit.
    pub(crate) indicators: usize,
    /// Whether `alerts` holds fewer than `hits`.
    pub(crate) truncated: bool,
    /// The most alerts an answer carries.
    pub(crate) alert_limit: usize,
    pub(crate) recorded: usize,
    /// The first `alert_limit` alerts, in line order.
    pub(crate) alerts: Vec<AlertRecord>,
    /// Hits per actor name (a hit counts once per actor).
    pub(crate) by_actor: BTreeMap<String, u64>,
    pub(crate) errors: Vec<String>,
}

impl App {
    /// Sources with nothing the caller may see are left out of a reader's stats.
    pub(crate) async fn stats_for(
        &self,
        clearance: Clearance,
    ) -> Result<cairn_kb::Stats, ApiError> {
        let mut stats = self.read_kb(clearance, |s| Ok(s.stats()?)).await?;
        if clearance == Clearance::Restricted {
            stats.sources.retain(|s| s.objects + s.relations > 0);
        }
        Ok(stats)
    }

    /// Resolves an actor name or answers 404 with suggestions.
    pub(crate) async fn profile(
        &self,
        clearance: Clearance,
        name: String,
    ) -> Result<Arc<cairn_kb::Profile>, ApiError> {
        let key = name.clone();
        self.answer(clearance, "profile", &key, || {
            self.read_kb(clearance, move |s| match s.actor(&name)? {
                Some(p) => Ok(p),
                None => {
                    let near = s.suggest(&name, 5)?;
                    Err(ApiError::not_found(if near.is_empty() {
                        format!("no actor called `{name}`")
                    } else {
                        format!(
                            "no actor called `{name}`; did you mean: {}?",
                            near.join(", ")
                        )
                    }))
                }
            })
        })
        .await
    }

    /// Looks one value up with the hunt's semantics (subdomains, CIDRs, URL
    /// hosts), as the clearance sees the store. Cheap: runs on the caller's thread.
    pub(crate) fn lookup(&self, clearance: Clearance, value: &str) -> Result<Lookup, ApiError> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > crate::openapi::bounds::MAX_VALUE {
            return Err(ApiError::bad_request(
                "give one indicator value (up to 4096 characters) as ?value=",
            ));
        }
        let engines = self.engines();
        let mut found: Vec<Match> = Vec::new();
        engines
            .index
            .match_value(FieldType::Auto, value, &mut found);
        let mut matches = Vec::new();
        for m in found {
            let ctxs = self.contexts(clearance, engines.generation, &m.keys)?;
            for (key, ctx) in m.keys.iter().zip(ctxs) {
                let Some(ctx) = ctx else { continue };
                matches.push(LookupMatch {
                    key: *key,
                    indicator: IndicatorRef {
                        kind: m.indicator.kind.as_str().to_string(),
                        value: m.indicator.value.clone(),
                        match_kind: m.match_kind.as_str().to_string(),
                    },
                    stix_id: ctx.stix_ids.first().cloned().unwrap_or_default(),
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
        let result = tokio::task::spawn_blocking(move || {
            app.hunt_blocking(clearance, &name, &bytes, record)
        })
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
        record: bool,
    ) -> Result<(HuntResult, Vec<SightingInput>), ApiError> {
        let dir = tempfile::tempdir().map_err(ApiError::internal)?;
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).map_err(ApiError::internal)?;
        let engines = self.engines();
        let alerts: Mutex<Vec<AlertRecord>> = Mutex::new(Vec::new());
        let report = self.with_store(clearance, |store| {
            Ok(cairn_engine::hunt(
                Intel::Store(store),
                &engines.index,
                &[Input::Path(path)],
                HuntOptions {
                    scan: cairn_engine::scan_options(),
                    record,
                    label: Some(Arc::from(name)),
                },
                &|batch: &AlertBatch<'_>| {
                    if let Ok(mut kept) = alerts.lock() {
                        let room = MAX_ALERTS.saturating_sub(kept.len());
                        kept.extend(batch.iter().take(room).map(|a| a.to_record()));
                    }
                },
            )?)
        })?;
        let mut alerts = alerts.into_inner().map_err(ApiError::internal)?;
        alerts.sort_by_key(|a| a.line);
        let by_actor = report
            .by_actor()
            .into_iter()
            .filter_map(|(name, count)| Some((name?, count.hits)))
            .collect();
        let s = &report.summary;
        Ok((
            HuntResult {
                lines: s.lines,
                bytes: s.bytes,
                malformed: s.malformed,
                hits: report.hits,
                indicators: report.indicators_hit(),
                truncated: (alerts.len() as u64) < report.hits,
                alert_limit: MAX_ALERTS,
                recorded: 0,
                alerts,
                by_actor,
                errors: s.errors.iter().map(|e| e.to_string()).collect(),
            },
            report.sightings(),
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

    /// Sigma detections in an uploaded event log (EVTX or JSON lines), with
    /// the store's Sigma rules as the caller may see them, as JSON lines
    /// (what `cairn detect --json` prints), and how many rules ran. One
    /// reading thread: a request must not take the server's cores.
    pub(crate) async fn detect_upload(
        &self,
        clearance: Clearance,
        bytes: Vec<u8>,
    ) -> Result<(String, usize), ApiError> {
        self.read(clearance, move |store| {
            let sources = cairn_engine::sigma_rule_sources(store)?;
            if sources.is_empty() {
                return Err(ApiError::bad_request(
                    "the store holds no Sigma rules: ingest them first (cairn ingest path/to/sigma/rules)",
                ));
            }
            let (rules, _) =
                cairn_detect::RuleSet::load(&sources, &cairn_detect::RuleOptions::default())
                    .map_err(ApiError::internal)?;
            let dir = tempfile::tempdir().map_err(ApiError::internal)?;
            let path = dir.path().join("upload.log");
            std::fs::write(&path, &bytes).map_err(ApiError::internal)?;
            let opts = cairn_detect::DetectOptions {
                threads: 1,
                ..cairn_detect::DetectOptions::default()
            };
            let out = Mutex::new((String::new(), None::<String>));
            cairn_detect::detect(&rules, &[path], &opts, &|o| {
                let Ok(mut out) = out.lock() else { return };
                match o {
                    cairn_detect::Output::Detection(d) => {
                        if let Ok(line) = serde_json::to_string(&d) {
                            out.0.push_str(&line);
                            out.0.push('\n');
                        }
                    }
                    cairn_detect::Output::File(f) => out.1 = f.error,
                }
            });
            let (lines, error) = out.into_inner().map_err(|_| ApiError::internal("detect"))?;
            if let Some(e) = error {
                return Err(ApiError::bad_request(format!(
                    "the upload is not an event log Cairn reads: {}",
                    e.replace(&dir.path().display().to_string(), "")
                )));
            }
            Ok((lines, rules.len()))
        })
        .await
    }

    /// Parses and ingests one uploaded file as `source` (one transaction).
    pub(crate) async fn ingest_bytes(
        &self,
        name: &str,
        bytes: Vec<u8>,
        opts: cairn_intake::Options,
    ) -> Result<IngestReport, ApiError> {
        let name = sanitize_name(name);
        let mut opts = opts;
        let report = self
            .write(move |store| {
                // Reports are read with the store's warninglists, as `cairn ingest` reads them.
                if opts.benign.is_none() {
                    let (benign, warnings) = cairn_engine::benign_filter(store)?;
                    for w in warnings {
                        tracing::warn!("{w}");
                    }
                    opts.benign = benign;
                }
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

/// Evidence as Cairn's JSON (`techniques`, `software`, `indicators`,
/// `countries`, `sectors`, `when`) or an ATT&CK Navigator layer.
pub(crate) fn evidence_from_json(body: &[u8]) -> Result<Evidence, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 JSON"))?;
    let v: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let is_layer = v
        .get("techniques")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|t| t.get("techniqueID").is_some()));
    if is_layer {
        return Evidence::from_navigator_layer(text)
            .map_err(|e| ApiError::bad_request(e.to_string()));
    }
    let Value::Object(map) = v else {
        return Err(ApiError::bad_request(
            "evidence is a JSON object: {\"techniques\": [...], \"software\": [...], ...}",
        ));
    };
    let list = |key: &str| -> Result<Vec<String>, ApiError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ApiError::bad_request(format!("`{key}` holds strings")))
                })
                .collect(),
            Some(_) => Err(ApiError::bad_request(format!(
                "`{key}` is a list of strings"
            ))),
        }
    };
    let when = match map.get("when") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("`when` is a date string")),
    };
    Ok(Evidence {
        techniques: list("techniques")?,
        software: list("software")?,
        indicators: list("indicators")?,
        countries: list("countries")?,
        sectors: list("sectors")?,
        when,
        ..Evidence::default()
    })
}

/// Intake options from query or form fields.
pub(crate) fn intake_options(
    source: Option<String>,
    format: Option<String>,
    tlp: Option<String>,
    actor: Option<String>,
    confidence: Option<u8>,
    reference: Option<String>,
) -> Result<cairn_intake::Options, ApiError> {
    let nonempty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
    let format = match nonempty(format) {
        Some(f) => f.parse().map_err(|e: String| ApiError::bad_request(e))?,
        None => cairn_intake::Format::Auto,
    };
    let tlp = match nonempty(tlp) {
        Some(t) => Some(t.parse().map_err(|e: String| ApiError::bad_request(e))?),
        None => None,
    };
    if confidence.is_some_and(|c| c > 100) {
        return Err(ApiError::bad_request("confidence is 0-100"));
    }
    Ok(cairn_intake::Options {
        format,
        source: nonempty(source),
        actor: nonempty(actor),
        tlp,
        confidence,
        reference: nonempty(reference),
        ..cairn_intake::Options::default()
    })
}

/// A file name safe to create in a scratch folder and to show back.
pub(crate) fn sanitize_name(name: &str) -> String {
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
