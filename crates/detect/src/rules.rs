//! Sigma rules in, compiled and grouped by the log source they read; every
//! rule that does not load is in the report with its reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex, OnceLock};

use rsigma_eval::{
    CompiledRule, CorrelationConfig, CorrelationEngine, Engine, EvaluationResult, JsonEvent,
    Pipeline, TimestampFallback,
};
use rsigma_parser::{FilterRule, FilterRuleTarget, SigmaRule, parse_sigma_yaml};
use serde::Serialize;
use serde_json::Value;

use cairn_model::attack::technique_of_tag;

use crate::errors::DetectError;
use crate::logsource::{EventSource, LogSources};
use crate::prefilter::{Prefilter, need};

mod compile;
use compile::{compile, deflate, filtered, inflate, slim, targets};

/// One rule file's text and where it came from (a path, or the store's
/// name for it).
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// Where the text came from, for reports and detections.
    pub origin: String,
    /// The YAML, one or several documents.
    pub text: String,
}

impl RuleSource {
    /// Reads rule files: each path a `.yml`/`.yaml` file or a folder walked
    /// for them (sorted, so load order and duplicate handling are stable).
    /// A file that cannot be read is a rejection, not a failure.
    pub fn read_paths(paths: &[PathBuf]) -> (Vec<RuleSource>, Vec<Rejected>) {
        let mut sources = Vec::new();
        let mut rejected = Vec::new();
        for p in paths {
            let files: Vec<PathBuf> = if p.is_dir() {
                walkdir::WalkDir::new(p)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_map(|e| match e {
                        Ok(e) => Some(e.into_path()),
                        Err(err) => {
                            rejected.push(Rejected::new(
                                &p.display().to_string(),
                                None,
                                err.to_string(),
                            ));
                            None
                        }
                    })
                    .filter(|f| f.is_file() && is_yaml(f))
                    .collect()
            } else {
                vec![p.clone()]
            };
            for f in files {
                let origin = f.display().to_string();
                match std::fs::read(&f) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => sources.push(RuleSource { origin, text }),
                        Err(e) => rejected.push(Rejected::new(
                            &origin,
                            None,
                            format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
                        )),
                    },
                    Err(e) => rejected.push(Rejected::new(&origin, None, e.to_string())),
                }
            }
        }
        (sources, rejected)
    }
}

fn is_yaml(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yml") | Some("yaml")
    )
}

/// What a detection says about its rule.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleInfo {
    /// The rule's `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its title.
    pub title: String,
    /// `informational`, `low`, `medium`, `high` or `critical`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// `stable`, `test`, `experimental`, `deprecated` or `unsupported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The rule's tags as written (`attack.t1059.001`, `attack.execution`).
    pub tags: Vec<String>,
    /// ATT&CK technique ids from the tags (`T1059.001`).
    #[serde(skip)]
    pub techniques: Vec<String>,
    /// The file (or store entry) it came from.
    #[serde(skip)]
    pub origin: String,
    /// Its `name`, by which correlations and filters may refer to it.
    #[serde(skip)]
    pub name: Option<String>,
}

/// A rule (or a whole file) that was not loaded, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// The file or store entry.
    pub origin: String,
    /// The rule's id or title, when it got that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Why.
    pub reason: String,
}

impl Rejected {
    fn new(origin: &str, rule: Option<String>, reason: impl Into<String>) -> Rejected {
        Rejected {
            origin: origin.to_string(),
            rule,
            reason: reason.into(),
        }
    }
}

/// What loading found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// Rule files read.
    pub files: usize,
    /// Rules (detection documents) found in them.
    pub rules: usize,
    /// Rules loaded.
    pub loaded: usize,
    /// Rules or files not loaded, with reasons.
    pub rejected: Vec<Rejected>,
    /// Loaded rules whose log source no known channel carries: they can
    /// match JSON that names its own fields, never an EVTX event.
    pub unrouted: Vec<Rejected>,
    /// Loaded rules in which no literal is certain (a regex, a number, a
    /// negation only): the prefilter cannot skip them, so they are
    /// evaluated on every event of their log source.
    pub unfiltered: usize,
}

/// Options for loading.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// Processing pipelines (pySigma format) as (origin, YAML): field
    /// renames and conditions for logs that name fields their own way.
    pub pipelines: Vec<(String, String)>,
    /// rsigma's builtin pipelines by name (`ecs_windows`: Sigma's Windows
    /// field names to ECS ones, for Elastic Agent's native events;
    /// `sysmon`; `fibratus_windows`).
    pub builtin_pipelines: Vec<String>,
    /// Log-source tables as (origin, YAML), added to the builtin one.
    pub logsources: Vec<(String, String)>,
}

/// A rule's log source, lower-cased: (product, service, category).
type SourceKey = (Option<String>, Option<String>, Option<String>);

/// The rules of one log source (indexes into `RuleSet::rules`), so an
/// event is tested only against rules that read its kind of event.
struct Bucket {
    product: Option<String>,
    service: Option<String>,
    category: Option<String>,
    members: Vec<usize>,
}

impl Bucket {
    fn reads(&self, src: &EventSource) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| match (want, have) {
            (None, _) => true,
            (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
            (Some(_), None) => false,
        };
        eq(&self.product, &src.product)
            && eq(&self.service, &src.service)
            && self
                .category
                .as_ref()
                .is_none_or(|c| src.categories.iter().any(|e| e.eq_ignore_ascii_case(c)))
    }
}

/// Compiled rules, grouped by log source so that an event is tested only
/// against rules that read its kind of event, and among those only against
/// rules whose literals its values hold (see `prefilter`).
pub struct RuleSet {
    buckets: Vec<Bucket>,
    rules: Vec<RuleInfo>,
    /// Each rule's text, compiled when first needed; same index as `rules`.
    lazy: Vec<Lazy>,
    prefilter: Prefilter,
    logsources: LogSources,
    pipelines: Vec<Pipeline>,
    filters: Vec<FilterRule>,
    /// Sigma correlation rules, fed the detections of the rules they name
    /// in each file's order (one shared window state).
    correlations: Option<Correlations>,
}

/// A rule kept as text and compiled the first time the prefilter lets an
/// event through to it. On a varied EVTX corpus only a third of SigmaHQ's
/// rules ever get that far, and compiled rules (regexes above all, ~90 kB
/// each) were most of what the detector kept: 23 MB for the Windows rules,
/// against 3.8 MB of text, 1 MB deflated.
struct Lazy {
    /// The rule's file, deflated, shared by the rules it holds.
    text: Arc<[u8]>,
    /// Its place among the file's detection rules.
    doc: usize,
    compiled: OnceLock<Option<Box<CompiledRule>>>,
}

/// The correlation engine and what its results say about their rules.
struct Correlations {
    engine: Mutex<CorrelationEngine>,
    /// Correlation id (or `title:` title) → its `RuleInfo`.
    rules: HashMap<String, RuleInfo>,
    /// Detection rules (indexes into `RuleSet::rules`) that only feed a
    /// correlation (`generate: false`, the default): not reported alone.
    quiet: Vec<bool>,
}

/// A correlation that fired.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    pub rule: RuleInfo,
    pub kind: String,
    pub group: Vec<(String, String)>,
    pub value: f64,
    pub timespan_secs: u64,
}

fn key(id: Option<&str>, title: &str) -> String {
    match id {
        Some(id) => id.to_ascii_lowercase(),
        None => format!("title:{title}"),
    }
}

fn info(rule: &SigmaRule, origin: &str) -> RuleInfo {
    RuleInfo {
        id: rule.id.clone(),
        title: rule.title.clone(),
        level: rule.level.map(|l| l.as_str().to_string()),
        status: rule.status.map(status_name),
        tags: rule.tags.clone(),
        techniques: rule
            .tags
            .iter()
            .filter_map(|t| technique_of_tag(t))
            .collect(),
        origin: origin.to_string(),
        name: rule.name.clone(),
    }
}

fn status_name(s: rsigma_parser::Status) -> String {
    use rsigma_parser::Status::*;
    match s {
        Stable => "stable",
        Test => "test",
        Experimental => "experimental",
        Deprecated => "deprecated",
        Unsupported => "unsupported",
    }
    .to_string()
}

fn lower(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|x| x.to_ascii_lowercase())
}

/// The caller's pipelines (files, then rsigma's builtin ones by name), in
/// priority order.
fn pipelines(opts: &RuleOptions) -> Result<Vec<Pipeline>, DetectError> {
    let failed = |origin: &str, message: String| DetectError::Pipeline {
        origin: origin.to_string(),
        message,
    };
    let mut out = Vec::new();
    for (origin, text) in &opts.pipelines {
        out.push(rsigma_eval::parse_pipeline(text).map_err(|e| failed(origin, e.to_string()))?);
    }
    for name in &opts.builtin_pipelines {
        let p = rsigma_eval::resolve_builtin_pipeline(name)
            .ok_or_else(|| {
                failed(
                    name,
                    format!(
                        "no such builtin pipeline (builtin: {})",
                        rsigma_eval::builtin_pipeline_names().join(", ")
                    ),
                )
            })?
            .map_err(|e| failed(name, e.to_string()))?;
        out.push(p);
    }
    out.sort_by_key(|p| p.priority);
    Ok(out)
}

impl RuleSet {
    /// Adds a loaded rule to its log source's group (a new group for a new
    /// log source); says why no EVTX channel can reach it, if none can.
    fn admit(
        &mut self,
        rule: &SigmaRule,
        origin: &str,
        lazy: Lazy,
        bucket_of: &mut HashMap<SourceKey, usize>,
    ) -> Option<String> {
        let ls = &rule.logsource;
        let g = (lower(&ls.product), lower(&ls.service), lower(&ls.category));
        let b = *bucket_of.entry(g).or_insert_with_key(|g| {
            self.buckets.push(Bucket {
                product: g.0.clone(),
                service: g.1.clone(),
                category: g.2.clone(),
                members: Vec::new(),
            });
            self.buckets.len() - 1
        });
        self.buckets[b].members.push(self.rules.len());
        self.rules.push(info(rule, origin));
        self.lazy.push(lazy);
        self.unroutable(&self.buckets[b])
    }

    /// A filter must compile and name a loaded rule (or all rules).
    fn check_filter(&self, f: &FilterRule) -> Result<(), String> {
        let mut probe = Engine::new();
        probe.apply_filter(f).map_err(|e| e.to_string())?;
        match &f.rules {
            FilterRuleTarget::Any => Ok(()),
            FilterRuleTarget::Specific(names) => {
                let known = names.iter().any(|n| {
                    self.rules.iter().any(|r| {
                        r.id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(n))
                            || r.title == *n
                            || r.name.as_deref() == Some(n.as_str())
                    })
                });
                if known {
                    Ok(())
                } else {
                    Err(format!(
                        "filter names no loaded rule ({})",
                        names.join(", ")
                    ))
                }
            }
        }
    }

    /// Parses and compiles the sources. Broken rules and files go to the
    /// report; only an unreadable pipeline or log-source table is an error.
    pub fn load(
        sources: &[RuleSource],
        opts: &RuleOptions,
    ) -> Result<(RuleSet, LoadReport), DetectError> {
        let mut logsources = LogSources::builtin();
        for (origin, text) in &opts.logsources {
            logsources.extend_from_yaml(origin, text)?;
        }
        let pipelines = pipelines(opts)?;
        let mut report = LoadReport {
            files: sources.len(),
            ..LoadReport::default()
        };
        let mut set = RuleSet {
            buckets: Vec::new(),
            rules: Vec::new(),
            lazy: Vec::new(),
            prefilter: Prefilter::build(Vec::new()),
            logsources,
            pipelines,
            filters: Vec::new(),
            correlations: None,
        };
        // One file at a time, each rule compiled as it is parsed (to check
        // it and learn what its matches need) and then dropped: the parsed
        // form of every rule at once was 16 MB for SigmaHQ's Windows rules,
        // their compiled form 23 MB.
        let mut needs = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut bucket_of: HashMap<SourceKey, usize> = HashMap::new();
        let mut filters = Vec::new();
        let mut correlations = Vec::new();
        for (si, src) in sources.iter().enumerate() {
            let coll = match parse_sigma_yaml(&src.text) {
                Ok(c) => c,
                Err(e) => {
                    report
                        .rejected
                        .push(Rejected::new(&src.origin, None, e.to_string()));
                    continue;
                }
            };
            for e in &coll.errors {
                report.rules += 1;
                report
                    .rejected
                    .push(Rejected::new(&src.origin, None, e.clone()));
            }
            report.rules += coll.correlations.len() + coll.rules.len();
            correlations.extend(coll.correlations.into_iter().map(|c| (c, si)));
            filters.extend(coll.filters.into_iter().map(|f| (f, si)));
            let text: Arc<[u8]> = Arc::from(deflate(&src.text));
            for (doc, rule) in coll.rules.into_iter().enumerate() {
                let shown = || Some(rule.id.clone().unwrap_or_else(|| rule.title.clone()));
                let k = key(rule.id.as_deref(), &rule.title);
                if let Some(&first) = seen.get(&k) {
                    report.rejected.push(Rejected::new(
                        &src.origin,
                        shown(),
                        format!(
                            "duplicate rule id (first loaded from {})",
                            sources[first].origin
                        ),
                    ));
                    continue;
                }
                seen.insert(k, si);
                let compiled = match compile(&rule, &set.pipelines) {
                    Ok(c) => c,
                    Err(reason) => {
                        report
                            .rejected
                            .push(Rejected::new(&src.origin, shown(), reason));
                        continue;
                    }
                };
                // Filters only narrow a rule: what it needs without them
                // it needs with them.
                needs.push(need(&compiled));
                let lazy = Lazy {
                    text: text.clone(),
                    doc,
                    compiled: OnceLock::new(),
                };
                if let Some(why) = set.admit(&rule, &src.origin, lazy, &mut bucket_of) {
                    report
                        .unrouted
                        .push(Rejected::new(&src.origin, shown(), why));
                }
                report.loaded += 1;
            }
        }
        for (f, si) in filters {
            match set.check_filter(&f) {
                Ok(()) => set.filters.push(f),
                Err(reason) => report.rejected.push(Rejected::new(
                    &sources[si].origin,
                    Some(f.title.clone()),
                    reason,
                )),
            }
        }
        set.prefilter = Prefilter::build(needs);
        report.unfiltered = set.prefilter.unfiltered();
        if !correlations.is_empty() {
            set.correlations = set.correlate(&correlations, sources, &mut report);
        }
        Ok((set, report))
    }

    /// Compiles the correlation rules. References by `name` are turned into
    /// the named rule's id, the key detections carry.
    fn correlate(
        &self,
        correlations: &[(rsigma_parser::CorrelationRule, usize)],
        sources: &[RuleSource],
        report: &mut LoadReport,
    ) -> Option<Correlations> {
        let mut engine = CorrelationEngine::new(CorrelationConfig {
            timestamp_fields: [
                "TimeCreated",
                "@timestamp",
                "timestamp",
                "EventTime",
                "UtcTime",
                "ts",
            ]
            .map(String::from)
            .to_vec(),
            timestamp_fallback: TimestampFallback::Skip,
            ..CorrelationConfig::default()
        });
        let by_name: HashMap<&str, String> = self
            .rules
            .iter()
            .filter_map(|r| {
                let name = r.name.as_deref()?;
                Some((name, key(r.id.as_deref(), &r.title)))
            })
            .collect();
        let key_of: HashMap<String, usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (key(r.id.as_deref(), &r.title), i))
            .collect();
        let mut rules = HashMap::new();
        let mut quiet = vec![false; self.rules.len()];
        for (c, si) in correlations {
            let origin = &sources[*si].origin;
            let shown = c.id.clone().unwrap_or_else(|| c.title.clone());
            let mut c = c.clone();
            let mut missing = Vec::new();
            for r in &mut c.rules {
                let k = by_name
                    .get(r.as_str())
                    .cloned()
                    .unwrap_or_else(|| r.to_ascii_lowercase());
                match key_of.get(&k) {
                    Some(&i) => {
                        // rsigma matches detections by their rule's id.
                        if let Some(id) = &self.rules[i].id {
                            *r = id.clone();
                        }
                        if !c.generate {
                            quiet[i] = true;
                        }
                    }
                    None => missing.push(r.clone()),
                }
            }
            if !missing.is_empty() {
                report.rejected.push(Rejected::new(
                    origin,
                    Some(shown),
                    format!("correlation names rules not loaded: {}", missing.join(", ")),
                ));
                continue;
            }
            if let Err(e) = engine.add_correlation(&c) {
                report
                    .rejected
                    .push(Rejected::new(origin, Some(shown), e.to_string()));
                continue;
            }
            let info = RuleInfo {
                id: c.id.clone(),
                title: c.title.clone(),
                level: c.level.map(|l| l.as_str().to_string()),
                status: c.status.map(status_name),
                tags: c.tags.clone(),
                techniques: c.tags.iter().filter_map(|t| technique_of_tag(t)).collect(),
                origin: origin.clone(),
                name: c.name.clone(),
            };
            rules.insert(key(c.id.as_deref(), &c.title), info);
            report.loaded += 1;
        }
        (!rules.is_empty()).then(|| Correlations {
            engine: Mutex::new(engine),
            rules,
            quiet,
        })
    }

    /// Whether correlation rules are loaded (callers then keep matched
    /// events for `correlate`).
    pub(crate) fn has_correlations(&self) -> bool {
        self.correlations.is_some()
    }

    /// Whether a detection rule only feeds correlations.
    pub(crate) fn is_quiet(&self, rule: usize) -> bool {
        self.correlations
            .as_ref()
            .is_some_and(|c| c.quiet.get(rule).copied().unwrap_or(false))
    }

    /// Feeds one event's detections (as rsigma results) to the correlation
    /// rules; returns those that fired.
    pub(crate) fn correlate_event(
        &self,
        event: &Value,
        results: Vec<EvaluationResult>,
    ) -> Vec<Fired> {
        let Some(c) = &self.correlations else {
            return Vec::new();
        };
        let Ok(mut engine) = c.engine.lock() else {
            return Vec::new();
        };
        let ev = JsonEvent::borrow(event);
        let mut out = Vec::new();
        for r in engine.correlate_detections(&ev, results) {
            let Some(body) = r.as_correlation() else {
                continue;
            };
            let Some(rule) = c
                .rules
                .get(&key(r.header.rule_id.as_deref(), &r.header.rule_title))
            else {
                continue;
            };
            out.push(Fired {
                rule: rule.clone(),
                kind: body.correlation_type.as_str().to_string(),
                group: body.group_key.clone(),
                value: body.aggregated_value,
                timespan_secs: body.timespan_secs,
            });
        }
        out
    }

    /// Why no event of a known channel can reach this bucket's rules, if so.
    fn unroutable(&self, b: &Bucket) -> Option<String> {
        // Only Windows rules come through channels; others read JSON
        // whose own fields decide.
        let product = b.product.as_deref();
        if product == Some("windows") {
            if let Some(s) = &b.service
                && !self.logsources.knows_service(product, s)
            {
                return Some(format!("no channel known for service `{s}`"));
            }
            if let Some(c) = &b.category
                && !self.logsources.knows_category(product, c)
            {
                return Some(format!("no channel and event id known for category `{c}`"));
            }
        }
        None
    }

    /// The loaded rules.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// Number of loaded rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no rule loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The log source of an event.
    pub(crate) fn source_of(
        &self,
        channel: Option<&str>,
        event_id: Option<u64>,
        zeek_path: Option<&str>,
    ) -> EventSource {
        if let Some(p) = zeek_path {
            return EventSource {
                product: Some("zeek".into()),
                service: Some(p.to_string()),
                categories: Vec::new(),
            };
        }
        match channel {
            Some(c) => self.logsources.route(c, event_id),
            None => EventSource::default(),
        }
    }

    /// Rule `i` compiled (pipelines and filters applied), compiled now if
    /// it was not yet. It compiled at load, from the same text with the
    /// same pipelines; `None` only if that somehow changed.
    fn compiled(&self, i: usize) -> Option<&CompiledRule> {
        let lazy = self.lazy.get(i)?;
        lazy.compiled
            .get_or_init(|| {
                let rule = parse_sigma_yaml(&inflate(&lazy.text)?)
                    .ok()?
                    .rules
                    .into_iter()
                    .nth(lazy.doc)?;
                let mut c = compile(&rule, &self.pipelines).ok()?;
                if self.filters.iter().any(|f| targets(f, &c)) {
                    c = filtered(&c, &self.filters)?;
                }
                Some(Box::new(slim(c)))
            })
            .as_deref()
    }

    /// Every rule of the event's log source that matches, with no
    /// prefilter: what `evaluate` must return.
    #[cfg(test)]
    pub(crate) fn evaluate_every_rule(&self, src: &EventSource, event: &Value) -> Vec<usize> {
        let ev = JsonEvent::borrow(event);
        self.buckets
            .iter()
            .filter(|b| b.reads(src))
            .flat_map(|b| b.members.iter().copied())
            .filter(|&i| {
                self.compiled(i)
                    .and_then(|r| rsigma_eval::evaluate_rule(r, &ev))
                    .is_some()
            })
            .collect()
    }

    /// Rules (indexes into `rules()`) that match the event, with the fields
    /// that made them match.
    pub(crate) fn evaluate(
        &self,
        src: &EventSource,
        event: &Value,
        keep: &mut Vec<EvaluationResult>,
    ) -> Vec<(usize, Vec<(String, Value)>)> {
        let ev = JsonEvent::borrow(event);
        let mut marks = None;
        let mut out = Vec::new();
        for b in &self.buckets {
            if !b.reads(src) {
                continue;
            }
            let marks = marks.get_or_insert_with(|| self.prefilter.scan(event));
            for &i in &b.members {
                if !Prefilter::maybe(marks, i) {
                    continue;
                }
                let Some(m) = self
                    .compiled(i)
                    .and_then(|r| rsigma_eval::evaluate_rule(r, &ev))
                else {
                    continue;
                };
                let fields = m
                    .as_detection()
                    .map(|d| {
                        d.matched_fields
                            .iter()
                            .map(|f| (f.field.clone(), f.value.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push((i, fields));
                if self.correlations.is_some() {
                    keep.push(m);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
