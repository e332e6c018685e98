//! Files through the rules: several files at once, and each file's events
//! in batches spread over the threads, so one large EVTX uses every core
//! and memory stays at a batch per file being read.

use std::path::{Path, PathBuf};

use evtx::{EvtxParser, ParserSettings};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::event::{Normal, normalize};
use crate::logsource::EventSource;
use crate::read::{Item, JsonEvents, Kind, kind_of, log_files};
use crate::rules::{Fired, RuleInfo, RuleSet};
use rsigma_eval::EvaluationResult;

/// Events evaluated together; bounds memory per file being read. An EVTX
/// event as JSON is ~5 kB: 2,048 of them were 10 MB, a third of the
/// detector's heap; 256 still give every thread a share of a large file.
const BATCH: usize = 64;
/// Longest text kept for one field in a detection.
const FIELD_TEXT: usize = 1024;
/// Problems kept per file beyond the count.
const PROBLEMS_KEPT: usize = 5;

/// Fields shown with a detection besides those that matched: what an
/// analyst reads first for each kind of event.
const KEY_FIELDS: &[&str] = &[
    "Image",
    "CommandLine",
    "ParentImage",
    "ParentCommandLine",
    "User",
    "TargetFilename",
    "TargetObject",
    "Details",
    "ImageLoaded",
    "DestinationIp",
    "DestinationPort",
    "DestinationHostname",
    "QueryName",
    "PipeName",
    "ServiceName",
    "ImagePath",
    "ScriptBlockText",
    "SubjectUserName",
    "TargetUserName",
    "IpAddress",
    "LogonType",
    "ProcessName",
    "Hashes",
    "query",
    "uri",
    "host",
];

/// How to run.
#[derive(Debug, Clone)]
pub struct DetectOptions {
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Largest event (a JSON line or document) read; longer ones are skipped.
    pub max_event_bytes: usize,
    /// Rules below this level (`informational` < `low` < `medium` < `high`
    /// < `critical`) report nothing.
    pub min_level: Option<String>,
    /// The log source of events that do not say theirs (JSON without a
    /// Windows channel or Zeek path), as `product[/service[/category]]`:
    /// `linux/auditd` for auditd JSON. Without it such events meet only
    /// rules that name no log source.
    pub assume: Option<String>,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            threads: 0,
            max_event_bytes: 64 << 20,
            min_level: None,
            assume: None,
        }
    }
}

/// A rule matched an event.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// The log file.
    pub file: String,
    /// EVTX `EventRecordID` (or the record id a JSON event carries).
    pub record: Option<u64>,
    /// Line (JSON lines) or document number (concatenated JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// When the event happened, as logged.
    pub time: Option<String>,
    /// The host that logged it.
    pub host: Option<String>,
    /// Windows channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Windows event id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u64>,
    /// The rule.
    pub rule: RuleInfo,
    /// ATT&CK techniques from the rule's tags.
    pub techniques: Vec<String>,
    /// The fields that matched, then the event's key fields.
    pub fields: Map<String, Value>,
}

/// How one file went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileSummary {
    /// The file.
    pub file: String,
    /// `evtx` or `json`, once known.
    pub format: Option<&'static str>,
    /// Its size on disk.
    pub bytes: u64,
    /// Events read.
    pub events: u64,
    /// Detections reported.
    pub detections: u64,
    /// Records or lines that could not be read and were skipped.
    pub skipped: u64,
    /// The first few reasons for skipping.
    pub problems: Vec<String>,
    /// Why the file (or its rest) could not be read.
    pub error: Option<String>,
}

/// What `detect` hands to its sink, from any thread.
#[derive(Debug)]
pub enum Output {
    /// A detection, in the file's order.
    Detection(Box<Detection>),
    /// A file finished.
    File(FileSummary),
}

/// Totals of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// Files read (with or without errors).
    pub files: u64,
    /// Bytes in them.
    pub bytes: u64,
    /// Events read.
    pub events: u64,
    /// Detections.
    pub detections: u64,
    /// Records or lines skipped.
    pub skipped: u64,
    /// Files that could not be read, or not to their end.
    pub failed: u64,
}

fn level_rank(l: &str) -> u8 {
    match l {
        "informational" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => 0,
    }
}

fn clip(v: &Value) -> Value {
    match v {
        Value::String(s) if s.len() > FIELD_TEXT => {
            let mut end = FIELD_TEXT;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Value::String(format!("{}…", &s[..end]))
        }
        other => other.clone(),
    }
}

/// Runs the rules over files and folders. Each detection and each file's
/// summary goes to `sink` as soon as it is known; a file that cannot be
/// read is reported and the others go on.
pub fn detect(
    rules: &RuleSet,
    paths: &[PathBuf],
    opts: &DetectOptions,
    sink: &(dyn Fn(Output) + Sync),
) -> RunSummary {
    let (files, walk_errors) = log_files(paths);
    let mut total = RunSummary::default();
    for (p, e) in walk_errors {
        total.failed += 1;
        sink(Output::File(FileSummary {
            file: p.display().to_string(),
            error: Some(e),
            ..FileSummary::default()
        }));
    }
    let work = || {
        // Fewer files than threads: each file's chunks are parsed in
        // parallel too (evtx keeps at most two chunks per thread in flight).
        let parse_threads = if files.len() < rayon::current_num_threads() {
            0
        } else {
            1
        };
        files
            .par_iter()
            .map(|f| {
                let s = one_file(rules, f, opts, parse_threads, sink);
                let out = RunSummary {
                    files: 1,
                    bytes: s.bytes,
                    events: s.events,
                    detections: s.detections,
                    skipped: s.skipped,
                    failed: u64::from(s.error.is_some()),
                };
                sink(Output::File(s));
                out
            })
            .reduce(RunSummary::default, |a, b| RunSummary {
                files: a.files + b.files,
                bytes: a.bytes + b.bytes,
                events: a.events + b.events,
                detections: a.detections + b.detections,
                skipped: a.skipped + b.skipped,
                failed: a.failed + b.failed,
            })
    };
    let got = match rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    total.files += got.files;
    total.bytes += got.bytes;
    total.events += got.events;
    total.detections += got.detections;
    total.skipped += got.skipped;
    total.failed += got.failed;
    total
}

/// A raw event and where it was in the file.
struct Raw {
    line: Option<u64>,
    value: Value,
}

fn one_file(
    rules: &RuleSet,
    path: &Path,
    opts: &DetectOptions,
    parse_threads: usize,
    sink: &(dyn Fn(Output) + Sync),
) -> FileSummary {
    let mut s = FileSummary {
        file: path.display().to_string(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        ..FileSummary::default()
    };
    let kind = match kind_of(path) {
        Ok(k) => k,
        Err(e) => {
            s.error = Some(e);
            return s;
        }
    };
    let mut batch: Vec<Raw> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<Raw>, s: &mut FileSummary| {
        s.events += batch.len() as u64;
        let judged: Vec<Judged> = batch
            .par_drain(..)
            .map(|raw| judge(rules, &s.file, raw, opts))
            .collect();
        // Correlations need the file's order: fed here, one event at a time.
        for j in judged {
            for d in j.found {
                s.detections += 1;
                sink(Output::Detection(Box::new(d)));
            }
            if let Some((event, results, base)) = j.pending {
                for f in rules.correlate_event(&event, results) {
                    s.detections += 1;
                    sink(Output::Detection(Box::new(fired(f, &base))));
                }
            }
        }
    };
    let note = |s: &mut FileSummary, msg: String| {
        s.skipped += 1;
        if s.problems.len() < PROBLEMS_KEPT {
            s.problems.push(msg);
        }
    };
    match kind {
        Kind::Evtx => {
            s.format = Some("evtx");
            let settings = ParserSettings::new()
                .num_threads(parse_threads)
                .separate_json_attributes(false);
            let mut parser = match EvtxParser::from_path(path) {
                Ok(p) => p.with_configuration(settings),
                Err(e) => {
                    s.error = Some(e.to_string());
                    return s;
                }
            };
            for rec in parser.records_json_value() {
                match rec {
                    Ok(r) => {
                        batch.push(Raw {
                            line: None,
                            value: r.data,
                        });
                        if batch.len() == BATCH {
                            flush(&mut batch, &mut s);
                        }
                    }
                    Err(e) => note(&mut s, e.to_string()),
                }
            }
        }
        Kind::Json => {
            s.format = Some("json");
            let mut events = match JsonEvents::open(path, opts.max_event_bytes) {
                Ok(r) => r,
                Err(e) => {
                    s.error = Some(e);
                    return s;
                }
            };
            loop {
                match events.next_item() {
                    Ok(Some(Item::Event(line, value))) => {
                        batch.push(Raw {
                            line: Some(line),
                            value,
                        });
                        if batch.len() == BATCH {
                            flush(&mut batch, &mut s);
                        }
                    }
                    Ok(Some(Item::Skipped(why))) => note(&mut s, why),
                    Ok(None) => break,
                    Err(e) => {
                        s.error = Some(e);
                        break;
                    }
                }
            }
        }
    }
    flush(&mut batch, &mut s);
    s
}

/// `linux/auditd` → product `linux`, service `auditd`; a third part is
/// the category (`windows//process_creation` leaves the service open).
fn assumed(spec: &str) -> EventSource {
    let mut parts = spec.split('/').map(|p| p.trim().to_ascii_lowercase());
    let mut next = || parts.next().filter(|p| !p.is_empty());
    let product = next();
    let service = next();
    EventSource {
        product,
        service,
        categories: next().into_iter().collect(),
    }
}

/// One event's detections, and — when correlation rules are loaded and a
/// rule matched — the event and rsigma's results to feed them.
struct Judged {
    found: Vec<Detection>,
    pending: Option<(Value, Vec<EvaluationResult>, Detection)>,
}

/// A correlation's firing as a detection of the event that completed it.
fn fired(f: Fired, base: &Detection) -> Detection {
    let mut fields = Map::new();
    fields.insert("correlation_type".into(), Value::String(f.kind));
    fields.insert("aggregated_value".into(), Value::from(f.value));
    fields.insert("timespan_secs".into(), Value::from(f.timespan_secs));
    for (k, v) in f.group {
        fields.entry(k).or_insert(Value::String(v));
    }
    Detection {
        techniques: f.rule.techniques.clone(),
        rule: f.rule,
        fields,
        ..base.clone()
    }
}

fn judge(rules: &RuleSet, file: &str, raw: Raw, opts: &DetectOptions) -> Judged {
    let Normal {
        fields,
        time,
        host,
        record,
        channel,
        event_id,
        zeek_path,
    } = normalize(raw.value);
    let mut src = rules.source_of(channel.as_deref(), event_id, zeek_path.as_deref());
    if channel.is_none()
        && zeek_path.is_none()
        && let Some(a) = &opts.assume
    {
        src = assumed(a);
    }
    let event = Value::Object(fields);
    let mut results = Vec::new();
    let hits = rules.evaluate(&src, &event, &mut results);
    let min = opts.min_level.as_deref().map(level_rank);
    let mut out = Vec::new();
    for (i, matched) in hits {
        let rule = &rules.rules()[i];
        if rules.is_quiet(i) {
            continue;
        }
        if let Some(min) = min
            && level_rank(rule.level.as_deref().unwrap_or("informational")) < min
        {
            continue;
        }
        let mut shown = Map::new();
        for (k, v) in matched {
            shown.entry(k).or_insert_with(|| clip(&v));
        }
        for k in KEY_FIELDS {
            if let Some(v) = event.get(*k) {
                shown.entry(k.to_string()).or_insert_with(|| clip(v));
            }
        }
        out.push(Detection {
            file: file.to_string(),
            record,
            line: raw.line,
            time: time.clone(),
            host: host.clone(),
            channel: channel.clone(),
            event_id,
            techniques: rule.techniques.clone(),
            rule: rule.clone(),
            fields: shown,
        });
    }
    let pending = (!results.is_empty() && rules.has_correlations()).then(|| {
        let base = Detection {
            file: file.to_string(),
            record,
            line: raw.line,
            time,
            host,
            channel,
            event_id,
            rule: RuleInfo::default(),
            techniques: Vec::new(),
            fields: Map::new(),
        };
        (event, results, base)
    });
    Judged {
        found: out,
        pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleOptions, RuleSource};
    use std::sync::Mutex;

    #[test]
    fn json_without_a_log_source_meets_rules_of_the_assumed_one() {
        let rule = RuleSource {
            origin: "a.yml".into(),
            text: "title: Hidden exe\nlogsource: {product: linux, service: auditd}\ndetection:\n  sel: {type: EXECVE, a0|endswith: /.x}\n  condition: sel\n".into(),
        };
        let (rules, _) = RuleSet::load(&[rule], &RuleOptions::default()).expect("load");
        let dir = tempfile::tempdir().expect("tmp");
        let log = dir.path().join("audit.jsonl");
        std::fs::write(&log, "{\"type\":\"EXECVE\",\"a0\":\"/tmp/.x\"}\n").expect("write");
        let count = |assume: Option<&str>| {
            let n = Mutex::new(0);
            let opts = DetectOptions {
                assume: assume.map(str::to_string),
                ..DetectOptions::default()
            };
            detect(&rules, std::slice::from_ref(&log), &opts, &|o| {
                if matches!(o, Output::Detection(_)) {
                    *n.lock().expect("lock") += 1;
                }
            });
            n.into_inner().expect("lock")
        };
        assert_eq!(count(None), 0);
        assert_eq!(count(Some("linux/auditd")), 1);
        assert_eq!(count(Some("windows/security")), 0);
        assert_eq!(
            assumed("windows//process_creation").categories,
            ["process_creation"]
        );
        assert_eq!(assumed("windows//process_creation").service, None);
    }
}
