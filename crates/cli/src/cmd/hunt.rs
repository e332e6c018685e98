//! `cairn hunt`: match the store's active indicators (or an IOC list) against
//! logs, print one alert per hit with whose indicator it is, then a summary.
//! Exit status like grep: 0 hits, 1 none, 2 error. The work is the engine
//! layer's (`cairn_engine::hunt`); this module parses arguments and prints.

use crate::Global;
use crate::output::table;
use anyhow::Context;
use cairn_engine::{
    AlertBatch, HuntIndex, HuntOptions, HuntReport, IndexOptions, IndicatorSource, Intel,
};
use cairn_hunt::{FieldMap, Input, LogFormat, ScanOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Logs: files, folders (read recursively) or `-` for stdin. Zeek TSV or
    /// JSON, JSON lines, CSV, plain text; gzip and zstd; detected from content.
    #[arg(value_name = "PATH", required_unless_present = "follow")]
    paths: Vec<PathBuf>,
    /// JSON lines on stdout, one alert per line (the summary goes to stderr).
    #[arg(long)]
    json: bool,
    /// Also hunt inactive indicators (revoked, withdrawn, past valid_until).
    #[arg(long)]
    all: bool,
    /// Write hits back to the store as sightings.
    #[arg(long)]
    record: bool,
    /// Read a log field as a type: `--field cs_host=domain` (types: domain,
    /// ip, url, email, hash, ja3, jarm, ja4, serial, file-name, mac,
    /// user-agent, file-path, auto, text, ignore).
    #[arg(long = "field", value_name = "NAME=TYPE")]
    fields: Vec<String>,
    /// Force the log format: auto, zeek, json, csv, text.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Rebuild the indicator index instead of using the cached one.
    #[arg(long)]
    no_cache: bool,
    /// Hunt the indicators of this list file instead of the store's (one
    /// value per line, type detected, defanged values accepted).
    #[arg(long, value_name = "FILE")]
    ioc: Option<PathBuf>,
    /// Do not suppress indicators that sit on warninglists.
    #[arg(long)]
    no_warninglists: bool,
    /// Lines longer than this many bytes are skipped and counted malformed.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_line: usize,
    /// Spread the hunt over `cairn worker`s through this NATS JetStream
    /// server (`nats://host:4222`); every worker must see the logs at the
    /// paths given (absolute paths are sent).
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// The queue on the NATS server (its streams and bucket are named after it).
    #[arg(
        long,
        env = "CAIRN_QUEUE",
        default_value = "cairn",
        value_name = "NAME"
    )]
    queue: String,
    /// With --nats: plain files larger than two chunks are cut into chunks of
    /// about this many bytes, each hunted by whichever worker takes it.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    chunk_size: u64,
    /// With --nats: send the logs through NATS (each file one piece) instead
    /// of having the workers read them at their paths; for workers that do
    /// not share this machine's file system.
    #[arg(long, requires = "nats")]
    ship: bool,
    /// With --nats: give up when no worker has answered for this many seconds
    /// (0: wait for workers however long it takes).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    patience: u64,
    /// Match log events as they are published on this NATS subject (Zeek
    /// JSON, ECS, any JSON lines; a message may hold several lines), until
    /// Ctrl-C or SIGTERM. Several hunters on one subject share its events.
    #[arg(
        long,
        value_name = "SUBJECT",
        requires = "nats",
        conflicts_with = "paths"
    )]
    follow: Option<String>,
    /// With --follow: publish each alert, as a --json line, on this subject
    /// [default: <queue>.alerts].
    #[arg(long, value_name = "SUBJECT", requires = "follow")]
    alerts: Option<String>,
    /// With --follow: stop after this many events.
    #[arg(long, value_name = "N", requires = "follow")]
    max_events: Option<u64>,
    /// With --follow: stop after this many seconds.
    #[arg(long = "for", value_name = "SECONDS", requires = "follow")]
    duration: Option<f64>,
    /// With --follow --record: write the sightings every this many seconds.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    record_every: u64,
}

/// Alerts are written out every this many bytes: a batch's alerts can
/// run to megabytes, and a buffer that stays in the core's cache costs
/// no fresh pages (a page touched first is dear in a VM).
const FORMAT_CHUNK: usize = 64 << 10;

thread_local! {
    /// A scanning thread's formatted alerts, up to [`FORMAT_CHUNK`] bytes,
    /// reused batch after batch.
    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Formats one batch on the scanning thread and writes it a chunk at a time.
fn print_batch(
    batch: &AlertBatch<'_>,
    buf: &mut Vec<u8>,
    out: &Mutex<Out>,
    json: bool,
    bar: Option<&indicatif::ProgressBar>,
) {
    buf.clear();
    let mut n = 0u64;
    let total = batch.len();
    for (i, alert) in batch.iter().enumerate() {
        if json {
            alert.write_json(buf);
        } else {
            let _ = alert.write_human(buf);
        }
        n += 1;
        if buf.len() >= FORMAT_CHUNK || i + 1 == total {
            let Ok(mut o) = out.lock() else { break };
            if !o.emit(buf, n, bar) {
                break;
            }
            buf.clear();
            n = 0;
        }
    }
}

struct Out {
    w: std::io::BufWriter<std::io::Stdout>,
    printed: u64,
    broken_pipe: bool,
}

impl Out {
    /// Writes `n` formatted alerts (above the progress bar, if one shows);
    /// false once the reader has gone.
    fn emit(&mut self, alerts: &[u8], n: u64, bar: Option<&indicatif::ProgressBar>) -> bool {
        if self.broken_pipe {
            return false;
        }
        let r = match bar {
            Some(b) => b.suspend(|| self.w.write_all(alerts)),
            None => self.w.write_all(alerts),
        };
        match r {
            Ok(()) => self.printed += n,
            Err(_) => self.broken_pipe = true,
        }
        !self.broken_pipe
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let format: LogFormat = args
        .format
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let mut fields = FieldMap::new();
    for spec in &args.fields {
        fields.add_spec(spec)?;
    }
    let inputs = expand_inputs(&args.paths)?;
    if args.nats.is_some() && args.follow.is_none() && inputs.contains(&Input::Stdin) {
        anyhow::bail!(
            "--nats hunts files the workers can read; stdin cannot be spread over workers"
        );
    }
    if args.record && args.ioc.is_some() {
        anyhow::bail!("--record writes sightings to the store; it cannot be used with --ioc");
    }
    let mut store = match &args.ioc {
        Some(_) => None,
        None => Some(crate::open_kb(global)?),
    };

    let index_opts = IndexOptions {
        include_inactive: args.all,
        warninglists: !args.no_warninglists,
        cache: !args.no_cache,
        list_cache_dir: cache_dir(),
    };
    let index = match (&store, &args.ioc) {
        (Some(s), _) => cairn_engine::load_or_build(IndicatorSource::Store(&**s), &index_opts)?,
        (None, Some(p)) => cairn_engine::load_or_build(IndicatorSource::List(p), &index_opts)?,
        (None, None) => anyhow::bail!("no indicators to hunt"),
    };
    if !global.quiet {
        for w in &index.warnings {
            eprintln!("cairn: warning: {w}");
        }
    }

    let total: u64 = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Stdin => None,
        })
        .sum();
    let bar = if global.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} hunting {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    };
    let bar2 = bar.clone();
    let scan = ScanOptions {
        format,
        fields,
        max_line_len: args.max_line.max(1024),
        progress: Some(Arc::new(move |n| bar2.inc(n))),
        ..cairn_engine::scan_options()
    };
    let intel = match (&mut store, &args.ioc) {
        (Some(s), _) => Intel::Store(&mut **s),
        (None, Some(p)) => Intel::List {
            name: p.display().to_string(),
        },
        (None, None) => anyhow::bail!("no indicators to hunt"),
    };

    // Alerts are formatted on the scanning threads, a batch at a time (a
    // channel to one printing thread cost more CPU than the hunt itself at
    // 100k+ alerts); only the writes take the output lock.
    let t1 = Instant::now();
    let out = Mutex::new(Out {
        // No larger than a chunk: full chunks then go straight to stdout
        // instead of being copied through this buffer too.
        w: std::io::BufWriter::with_capacity(FORMAT_CHUNK, std::io::stdout()),
        printed: 0,
        broken_pipe: false,
    });
    let visible_bar = (!bar.is_hidden()).then_some(&bar);
    if let (Some(url), Some(subject)) = (&args.nats, &args.follow) {
        drop(intel);
        return follow(global, &args, url, subject, store, &index, scan, &out);
    }
    let opts = HuntOptions {
        scan,
        record: args.record,
        label: None,
    };
    let sink = |batch: &AlertBatch<'_>| {
        BUF.with_borrow_mut(|buf| print_batch(batch, buf, &out, args.json, visible_bar));
    };
    let report = match &args.nats {
        None => cairn_engine::hunt(intel, &index.index, &inputs, opts, &sink)?,
        Some(url) => hunt_on_workers(
            global, &args, url, intel, &index, &inputs, opts, &sink, &bar,
        )?,
    };
    let Out { mut w, printed, .. } = out
        .into_inner()
        .map_err(|_| anyhow::anyhow!("hunt output lock poisoned"))?;
    let _ = w.flush();
    drop(w);
    bar.finish_and_clear();
    let scan_time = t1.elapsed();

    if args.record
        && let Some(store) = &mut store
    {
        let n = store
            .record_sightings(&report.sightings())
            .context("recording sightings")?;
        if !global.quiet {
            eprintln!("cairn: recorded {n} sighting(s)");
        }
    }

    let summary = render_summary(&report, &index, scan_time.as_secs_f64());
    if args.json {
        if !global.quiet {
            eprint!("{summary}");
        }
    } else {
        let mut out = std::io::stdout().lock();
        if printed > 0 {
            let _ = writeln!(out);
        }
        let _ = write!(out, "{summary}");
    }
    let s = &report.summary;
    for f in &s.files {
        if f.malformed > 0 && !global.quiet {
            let ex: Vec<String> = f.malformed_examples.iter().map(u64::to_string).collect();
            eprintln!(
                "cairn: {}: {} malformed line(s) skipped (e.g. line {})",
                f.file,
                f.malformed,
                ex.join(", ")
            );
        }
    }
    for e in &s.errors {
        eprintln!("cairn: error: {e}");
    }
    Ok(if !s.errors.is_empty() {
        ExitCode::from(2)
    } else if report.hits > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--nats` without `--follow`: the index sent to the queue, the inputs
/// hunted by its workers, their hits made into alerts here.
#[allow(clippy::too_many_arguments)]
fn hunt_on_workers(
    global: &Global,
    args: &Args,
    url: &str,
    intel: Intel<'_>,
    index: &HuntIndex,
    inputs: &[Input],
    opts: HuntOptions,
    sink: &(dyn Fn(&AlertBatch<'_>) + Sync),
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<HuntReport> {
    let paths: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Path(p) => Some(p.clone()),
            Input::Stdin => None,
        })
        .collect();
    let queue = cairn_queue::Queue::connect(url, &args.queue)?;
    let at = queue.publish_index(&index.index)?;
    let waiting = |done: usize, total: usize| {
        if !global.quiet {
            bar.suspend(|| {
                eprintln!(
                    "cairn: waiting for workers on queue `{}` ({done} of {total} pieces done); start `cairn worker --nats {url}`",
                    args.queue
                );
            });
        }
    };
    let progress = bar.clone();
    let job = cairn_queue::HuntJob {
        index: &at,
        scan: cairn_queue::ScanSpec {
            format: args.format.clone(),
            fields: args.fields.clone(),
            max_line: args.max_line.max(1024),
        },
        chunk_bytes: args.chunk_size.max(opts.scan.block_size as u64),
        block: opts.scan.block_size as u64,
        progress: Some(Arc::new(move |n| progress.inc(n))),
        ship: args.ship,
        patience: (args.patience > 0).then(|| Duration::from_secs(args.patience)),
        on_wait: Some(&waiting),
    };
    let mut failed = None;
    let report = cairn_engine::hunt_from(intel, index.index.len(), opts, sink, |on_hits| {
        queue.hunt(&job, &paths, on_hits).unwrap_or_else(|e| {
            failed = Some(e);
            cairn_hunt::Summary::default()
        })
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(report),
    }
}

/// `--follow`: events published on `subject` matched as they come, in
/// segments of `--record-every` seconds when recording (each segment's
/// sightings written before the next begins), every alert printed and
/// published on the alerts subject.
#[allow(clippy::too_many_arguments)]
fn follow(
    global: &Global,
    args: &Args,
    url: &str,
    subject: &str,
    mut store: Option<Box<dyn cairn_kb::KnowledgeBase>>,
    index: &HuntIndex,
    scan: ScanOptions,
    out: &Mutex<Out>,
) -> anyhow::Result<ExitCode> {
    use cairn_queue::FeedEnd;
    let queue = cairn_queue::Queue::connect(url, &args.queue)?;
    let stop = cairn_queue::Stop::new();
    queue.stop_on_signals(&stop);
    let mut feed = queue.subscribe(subject, Some(&format!("{}-follow", args.queue)))?;
    let alerts_subject = args
        .alerts
        .clone()
        .unwrap_or_else(|| format!("{}.alerts", args.queue));
    let publisher = queue.publisher(&alerts_subject);
    if !global.quiet {
        eprintln!(
            "cairn: matching events on `{subject}`; alerts on `{alerts_subject}` (Ctrl-C ends)"
        );
    }
    let scanner = cairn_hunt::Scanner::new(&index.index, scan.clone());
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut left = args.max_events;
    let (mut events, mut lines, mut hits, mut recorded) = (0u64, 0u64, 0u64, 0usize);
    let t0 = Instant::now();
    let sink = |batch: &AlertBatch<'_>| {
        let mut one = Vec::new();
        for alert in batch.iter() {
            one.clear();
            alert.write_json(&mut one);
            if one.last() == Some(&b'\n') {
                one.pop();
            }
            publisher.send(one.clone());
        }
        BUF.with_borrow_mut(|buf| print_batch(batch, buf, out, args.json, None));
    };
    loop {
        let segment = args
            .record
            .then(|| Instant::now() + Duration::from_secs(args.record_every.max(1)));
        let until = match (segment, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut end = FeedEnd::Closed;
        let mut seen = 0u64;
        let intel = match (&mut store, &args.ioc) {
            (Some(s), _) => Intel::Store(&mut **s),
            (None, Some(p)) => Intel::List {
                name: p.display().to_string(),
            },
            (None, None) => anyhow::bail!("no indicators to hunt"),
        };
        let opts = HuntOptions {
            scan: scan.clone(),
            record: args.record,
            label: None,
        };
        let report = cairn_engine::hunt_from(intel, index.index.len(), opts, &sink, |on_hits| {
            let mut sum = cairn_hunt::Summary::default();
            end = queue.run_feed(&mut feed, until, left, &stop, &mut |payload: &[u8]| {
                seen += 1;
                let fs = scanner.scan_slice(subject, payload, on_hits);
                sum.lines += fs.lines;
                sum.bytes += fs.bytes;
                sum.malformed += fs.malformed;
                sum.hits += fs.hits;
            });
            sum
        })?;
        events += seen;
        lines += report.summary.lines;
        hits += report.hits;
        if let Some(l) = &mut left {
            *l = l.saturating_sub(seen);
        }
        if args.record
            && let Some(s) = &mut store
        {
            recorded += s
                .record_sightings(&report.sightings())
                .context("recording sightings")?;
        }
        let segment_over = end == FeedEnd::Deadline && deadline.is_none_or(|d| Instant::now() < d);
        if !segment_over {
            break;
        }
    }
    if let Ok(mut o) = out.lock() {
        let _ = o.w.flush();
    }
    publisher.close(&queue)?;
    if !global.quiet {
        eprintln!(
            "cairn: {events} event(s), {lines} line(s), {hits} hit(s) in {:.1} s{}",
            t0.elapsed().as_secs_f64(),
            if args.record {
                format!("; recorded {recorded} sighting(s)")
            } else {
                String::new()
            }
        );
    }
    Ok(if hits > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Files, folders (recursively, sorted) and `-`.
fn expand_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    let mut stdin = false;
    for p in paths {
        if p.as_os_str() == "-" {
            if !stdin {
                out.push(Input::Stdin);
                stdin = true;
            }
            continue;
        }
        let meta = std::fs::metadata(p).with_context(|| format!("{}", p.display()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(p, &mut files).with_context(|| format!("{}", p.display()))?;
            files.sort();
            out.extend(files.into_iter().map(Input::Path));
        } else {
            out.push(Input::Path(p.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk(&e.path(), out)?;
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}

fn cache_dir() -> Option<PathBuf> {
    let d = dirs::cache_dir()?.join("cairn");
    std::fs::create_dir_all(&d).ok()?;
    Some(d)
}

/// Indicators listed by name in the summary.
const SUMMARY_INDICATORS: usize = 50;

fn render_summary(report: &HuntReport, index: &HuntIndex, scan_secs: f64) -> String {
    let s = &report.summary;
    let ix = &index.index;
    let mut r = String::new();
    let mb = s.bytes as f64 / 1e6;
    r.push_str(&format!(
        "Hunted {} input(s): {} lines, {:.1} MB in {:.2} s ({:.0} MB/s); {} malformed line(s).\n",
        s.files.len(),
        s.lines,
        mb,
        scan_secs,
        if scan_secs > 0.0 { mb / scan_secs } else { 0.0 },
        s.malformed
    ));
    r.push_str(&format!(
        "Index: {} indicator value(s) ({}, {:.2} s, {:.1} bytes/indicator).\n",
        ix.len(),
        if index.cached { "cached" } else { "built" },
        index.elapsed.as_secs_f64(),
        if ix.is_empty() {
            0.0
        } else {
            ix.heap_bytes() as f64 / ix.len() as f64
        }
    ));
    let st = ix.stats();
    let suppressed: u64 = st.suppressed.iter().map(|x| x.count).sum();
    if suppressed > 0 {
        r.push_str(&format!(
            "Suppressed by warninglists at index build: {suppressed} indicator(s):\n"
        ));
        for x in &st.suppressed {
            r.push_str(&format!("  {:>6}  {}\n", x.count, x.list));
        }
    }
    if report.hits == 0 {
        r.push_str("No hits.\n");
        return r;
    }
    r.push_str(&format!(
        "{} hit(s) on {} indicator(s).\n\n",
        report.hits,
        report.indicators_hit()
    ));
    let rows: Vec<Vec<String>> = report
        .by_actor()
        .into_iter()
        .map(|(_, a)| vec![a.name, a.hits.to_string(), a.indicators.to_string()])
        .collect();
    r.push_str("By actor:\n");
    r.push_str(&indent(&table(&["ACTOR", "HITS", "INDICATORS"], &rows)));
    // The most hit first, the long tail counted (the alerts carry every one).
    let (top, rest, rest_hits) = report.top_indicators(SUMMARY_INDICATORS);
    let rows: Vec<Vec<String>> = top
        .into_iter()
        .map(|c| {
            vec![
                c.indicator.value,
                c.indicator.kind.to_string(),
                c.hits.to_string(),
                if c.actors.is_empty() {
                    "-".into()
                } else {
                    c.actors.join(", ")
                },
            ]
        })
        .collect();
    r.push_str("\nBy indicator:\n");
    r.push_str(&indent(&table(
        &["INDICATOR", "TYPE", "HITS", "ACTORS"],
        &rows,
    )));
    if rest > 0 {
        r.push_str(&format!(
            "  ... and {rest} more indicator(s) with {rest_hits} hit(s) (every hit is in the alerts).\n"
        ));
    }
    r
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}
