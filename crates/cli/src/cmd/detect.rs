//! `cairn detect`: Sigma rules over event logs (EVTX, JSON lines, Zeek
//! JSON). Exit status like grep: 0 when something was detected, 1 when
//! nothing was, 2 when a file could not be read or no rule loaded. The
//! work is `cairn_detect`; rules come from `--rules` and the store; this
//! module parses arguments and writes the detections, timeline, summary
//! and Navigator layer.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use cairn_detect::{
    DetectOptions, Detection, LoadReport, Output, RuleOptions, RuleSet, RuleSource, detect,
};

use crate::Global;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Log files or folders (read recursively for .evtx, .json, .jsonl, .ndjson, .log, gzipped or not).
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Sigma rule files or folders, besides the rules kept in the store.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Do not use the Sigma rules kept in the store.
    #[arg(long)]
    no_store_rules: bool,
    /// Processing pipelines for logs whose fields are named differently: a pySigma YAML file, or a builtin name (ecs_windows, sysmon, fibratus_windows).
    #[arg(long = "pipeline", value_name = "FILE|NAME")]
    pipelines: Vec<PathBuf>,
    /// A channel → log-source table adding to the builtin one (same shape as crates/detect/data/logsources.yml).
    #[arg(long = "logsources", value_name = "FILE")]
    logsources: Vec<PathBuf>,
    /// The log source of JSON events that do not say theirs, as product[/service[/category]] (e.g. linux/auditd).
    #[arg(long, value_name = "SOURCE")]
    assume: Option<String>,
    /// JSON lines on stdout, one detection per line (the summary goes to stderr).
    #[arg(long)]
    json: bool,
    /// Write a timeline: CSV, or JSON lines when the name ends in .jsonl/.json.
    #[arg(long, value_name = "FILE")]
    timeline: Option<PathBuf>,
    /// Write an ATT&CK Navigator layer of the detected techniques.
    #[arg(long, value_name = "FILE")]
    layer: Option<PathBuf>,
    /// Report only rules at or above this level.
    #[arg(long, value_name = "LEVEL", value_parser = ["informational", "low", "medium", "high", "critical"])]
    min_level: Option<String>,
    /// List every rule not loaded, and why, on stderr.
    #[arg(long)]
    load_report: bool,
    /// Write sightings of the detected techniques to the store (your incident's own record).
    #[arg(long)]
    record: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

fn read(p: &PathBuf) -> anyhow::Result<(String, String)> {
    let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
    Ok((p.display().to_string(), text))
}

/// The rules: `--rules` and, unless told not to, the store's.
fn load(global: &Global, args: &Args) -> anyhow::Result<(RuleSet, LoadReport)> {
    let (mut sources, unread) = RuleSource::read_paths(&args.rules);
    if !args.no_store_rules {
        let path = crate::db_path(global);
        if path.exists() {
            let store = crate::open_store(global)?;
            sources.extend(cairn_engine::sigma_rule_sources(&store)?);
        }
    }
    if sources.is_empty() && unread.is_empty() {
        anyhow::bail!(
            "no Sigma rules: pass --rules PATH or ingest them first (cairn ingest path/to/sigma/rules)"
        );
    }
    let (files, names): (Vec<&PathBuf>, Vec<&PathBuf>) =
        args.pipelines.iter().partition(|p| p.exists());
    let opts = RuleOptions {
        pipelines: files.into_iter().map(read).collect::<Result<_, _>>()?,
        builtin_pipelines: names.iter().map(|p| p.display().to_string()).collect(),
        logsources: args.logsources.iter().map(read).collect::<Result<_, _>>()?,
    };
    let (set, mut report) = RuleSet::load(&sources, &opts)?;
    report.rejected.splice(0..0, unread);
    Ok((set, report))
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let (rules, report) = load(global, &args)?;
    print_load_report(global, &args, &report);
    if rules.is_empty() {
        anyhow::bail!("no Sigma rule loaded");
    }
    let opts = DetectOptions {
        threads: args.threads,
        min_level: args.min_level.clone(),
        assume: args.assume.clone(),
        ..DetectOptions::default()
    };
    let bar = progress(global, &args.paths);
    let mut timeline = match &args.timeline {
        Some(p) => Some(Timeline::create(p)?),
        None => None,
    };
    let state = Mutex::new(State {
        out: std::io::BufWriter::new(std::io::stdout()),
        broken: false,
        tally: Tally::default(),
        timeline: timeline.take(),
        failures: Vec::new(),
    });
    let summary = detect(&rules, &args.paths, &opts, &|o| {
        let Ok(mut st) = state.lock() else { return };
        match o {
            Output::Detection(d) => {
                st.tally.add(&d);
                if let Some(t) = st.timeline.as_mut() {
                    t.write(&d);
                }
                if st.broken {
                    return;
                }
                let mut buf = Vec::new();
                if args.json {
                    let _ = serde_json::to_writer(&mut buf, &d);
                    buf.push(b'\n');
                } else {
                    human(&mut buf, &d);
                }
                if bar.suspend(|| st.out.write_all(&buf)).is_err() {
                    st.broken = true;
                }
            }
            Output::File(f) => {
                bar.inc(f.bytes);
                if let Some(e) = &f.error {
                    st.failures.push(format!("{}: {e}", f.file));
                }
                if f.skipped > 0 {
                    st.failures.push(format!(
                        "{}: {} record(s) skipped{}",
                        f.file,
                        f.skipped,
                        f.problems
                            .first()
                            .map(|p| format!(", first: {p}"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
    });
    bar.finish_and_clear();
    let mut st = state
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker thread panicked"))?;
    let _ = st.out.flush();
    if let Some(t) = st.timeline.take() {
        t.finish()?;
    }
    for f in &st.failures {
        eprintln!("cairn: {f}");
    }
    if let Some(p) = &args.layer {
        write_layer(p, &st.tally)?;
    }
    if args.record && !st.tally.seen.is_empty() {
        record(global, &st.tally)?;
    }
    if !global.quiet {
        eprint!("{}", st.tally.render());
    }
    eprintln!(
        "cairn: {} file(s), {} bytes, {} event(s): {} detection(s) by {} rule(s); {} record(s) skipped, {} file(s) unreadable",
        summary.files,
        summary.bytes,
        summary.events,
        summary.detections,
        st.tally.rules.len(),
        summary.skipped,
        summary.failed
    );
    Ok(if summary.failed > 0 {
        ExitCode::from(2)
    } else if summary.detections > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The load report's summary line, and with `--load-report` every rule not
/// loaded or not routed, on stderr.
fn print_load_report(global: &Global, args: &Args, report: &LoadReport) {
    if !global.quiet || args.load_report {
        eprintln!(
            "cairn: {} of {} Sigma rule(s) loaded from {} file(s); {} not loaded{}",
            report.loaded,
            report.rules,
            report.files,
            report.rejected.len(),
            if report.rejected.is_empty() || args.load_report {
                String::new()
            } else {
                " (--load-report lists them)".into()
            }
        );
    }
    if !args.load_report {
        return;
    }
    for r in &report.rejected {
        eprintln!(
            "  not loaded: {}{}: {}",
            r.origin,
            r.rule
                .as_ref()
                .map(|x| format!(" [{x}]"))
                .unwrap_or_default(),
            r.reason
        );
    }
    for r in &report.unrouted {
        eprintln!(
            "  loaded, but no EVTX channel carries it: {}: {}",
            r.origin, r.reason
        );
    }
    eprintln!(
        "  {} loaded rule(s) hold no literal every match needs: evaluated on every event of their log source",
        report.unfiltered
    );
}

/// `--record`: sightings of the detected techniques in the store.
fn record(global: &Global, tally: &Tally) -> anyhow::Result<()> {
    let mut store = crate::open_store(global)?;
    let seen: Vec<_> = tally.seen.values().cloned().collect();
    let (sightings, missing) = cairn_engine::technique_sightings(&store, &seen)?;
    let n = store.record_sightings(&sightings)?;
    eprintln!(
        "cairn: recorded {n} sighting(s) of {} technique(s)",
        seen.len() - missing.len()
    );
    if !missing.is_empty() {
        eprintln!(
            "cairn: not in the store (ingest ATT&CK to record them): {}",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Bytes the progress bar counts to.
fn inputs_size(paths: &[PathBuf]) -> u64 {
    let (files, _) = cairn_detect::log_files(paths);
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

struct State {
    out: std::io::BufWriter<std::io::Stdout>,
    broken: bool,
    tally: Tally,
    timeline: Option<Timeline>,
    failures: Vec<String>,
}

/// Counts by level, rule and technique, for the summary and the layer.
#[derive(Default)]
struct Tally {
    levels: BTreeMap<String, u64>,
    rules: BTreeMap<String, (String, String, u64)>,
    techniques: BTreeMap<String, (u64, BTreeSet<String>)>,
    seen: BTreeMap<String, cairn_engine::TechniqueSeen>,
}

impl Tally {
    fn add(&mut self, d: &Detection) {
        let level = d.rule.level.clone().unwrap_or_else(|| "none".into());
        *self.levels.entry(level.clone()).or_default() += 1;
        let key = d.rule.id.clone().unwrap_or_else(|| d.rule.title.clone());
        self.rules
            .entry(key)
            .or_insert_with(|| (d.rule.title.clone(), level, 0))
            .2 += 1;
        for t in &d.techniques {
            let e = self.techniques.entry(t.clone()).or_default();
            e.0 += 1;
            e.1.insert(d.rule.title.clone());
            let s = self
                .seen
                .entry(t.clone())
                .or_insert_with(|| cairn_engine::TechniqueSeen {
                    technique: t.clone(),
                    ..Default::default()
                });
            s.count += 1;
            if let Some(time) = &d.time {
                if s.first.as_ref().is_none_or(|f| time < f) {
                    s.first = Some(time.clone());
                }
                if s.last.as_ref().is_none_or(|l| time > l) {
                    s.last = Some(time.clone());
                }
            }
            s.places
                .insert(d.host.clone().unwrap_or_else(|| d.file.clone()));
        }
    }

    fn render(&self) -> String {
        if self.rules.is_empty() {
            return String::new();
        }
        let mut s = String::from("detections by level:");
        for l in ["critical", "high", "medium", "low", "informational", "none"] {
            if let Some(n) = self.levels.get(l) {
                s.push_str(&format!(" {l} {n},"));
            }
        }
        s.pop();
        s.push('\n');
        if !self.techniques.is_empty() {
            s.push_str("techniques:");
            for (t, (n, _)) in &self.techniques {
                s.push_str(&format!(" {t} ({n})"));
            }
            s.push('\n');
        }
        s
    }
}

fn write_layer(path: &PathBuf, t: &Tally) -> anyhow::Result<()> {
    let max = t.techniques.values().map(|v| v.0).max().unwrap_or(1);
    let techniques: Vec<serde_json::Value> = t
        .techniques
        .iter()
        .map(|(id, (n, rules))| {
            serde_json::json!({
                "techniqueID": id,
                "score": n,
                "comment": rules.iter().cloned().collect::<Vec<_>>().join("; "),
                "enabled": true,
            })
        })
        .collect();
    let layer = serde_json::json!({
        "name": "Detected by cairn detect",
        "versions": {"layer": "4.5", "navigator": "5.1.0", "attack": "17"},
        "domain": "enterprise-attack",
        "description": "Techniques of the Sigma rules that fired; score = detections",
        "techniques": techniques,
        "gradient": {"colors": ["#ffe766", "#ff6666"], "minValue": 0, "maxValue": max},
    });
    std::fs::write(path, serde_json::to_vec_pretty(&layer)?)
        .with_context(|| path.display().to_string())?;
    Ok(())
}

/// The timeline file: hayabusa-like columns, CSV or JSON lines.
struct Timeline {
    path: PathBuf,
    csv: Option<csv::Writer<std::fs::File>>,
    jsonl: Option<std::io::BufWriter<std::fs::File>>,
    error: Option<String>,
}

impl Timeline {
    fn create(path: &PathBuf) -> anyhow::Result<Timeline> {
        let f = std::fs::File::create(path).with_context(|| path.display().to_string())?;
        let json = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("jsonl") | Some("json") | Some("ndjson")
        );
        let mut t = Timeline {
            path: path.clone(),
            csv: None,
            jsonl: None,
            error: None,
        };
        if json {
            t.jsonl = Some(std::io::BufWriter::new(f));
        } else {
            let mut w = csv::Writer::from_writer(f);
            w.write_record([
                "Timestamp",
                "Computer",
                "Channel",
                "EventID",
                "Level",
                "RecordID",
                "RuleTitle",
                "RuleID",
                "Techniques",
                "Details",
                "File",
            ])?;
            t.csv = Some(w);
        }
        Ok(t)
    }

    fn write(&mut self, d: &Detection) {
        let r = if let Some(w) = self.csv.as_mut() {
            let details: Vec<String> = d
                .fields
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect();
            w.write_record([
                d.time.as_deref().unwrap_or(""),
                d.host.as_deref().unwrap_or(""),
                d.channel.as_deref().unwrap_or(""),
                &d.event_id.map(|n| n.to_string()).unwrap_or_default(),
                d.rule.level.as_deref().unwrap_or(""),
                &d.record
                    .or(d.line)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                &d.rule.title,
                d.rule.id.as_deref().unwrap_or(""),
                &d.techniques.join(" "),
                &details.join(" ¦ "),
                &d.file,
            ])
            .map_err(|e| e.to_string())
        } else if let Some(w) = self.jsonl.as_mut() {
            serde_json::to_writer(&mut *w, d)
                .map_err(|e| e.to_string())
                .and_then(|_| w.write_all(b"\n").map_err(|e| e.to_string()))
        } else {
            Ok(())
        };
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(e);
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        if let Some(e) = self.error {
            anyhow::bail!("{}: {e}", self.path.display());
        }
        if let Some(mut w) = self.csv {
            w.flush().with_context(|| self.path.display().to_string())?;
        }
        if let Some(mut w) = self.jsonl {
            w.flush().with_context(|| self.path.display().to_string())?;
        }
        Ok(())
    }
}

fn progress(global: &Global, paths: &[PathBuf]) -> indicatif::ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    // Walked here only when a bar can be shown.
    let total = inputs_size(paths);
    if total < (64 << 20) {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(total);
    b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} detecting {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b
}

/// One detection as a line for a person.
fn human(out: &mut Vec<u8>, d: &Detection) {
    let _ = write!(
        out,
        "{}  {}  {}  [{}] {}",
        d.time.as_deref().unwrap_or("-"),
        d.host.as_deref().unwrap_or("-"),
        d.rule.level.as_deref().unwrap_or("-"),
        d.techniques.join(","),
        d.rule.title
    );
    let _ = write!(
        out,
        "\n    {}{}",
        d.file,
        match (d.record, d.line) {
            (Some(r), _) => format!(" record {r}"),
            (None, Some(l)) => format!(" line {l}"),
            _ => String::new(),
        }
    );
    for (k, v) in d.fields.iter().take(6) {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let _ = write!(out, "\n    {k}: {v}");
    }
    out.push(b'\n');
}
