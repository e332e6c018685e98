//! `cairn hunt`: match the store's active indicators (or an IOC list) against
//! logs, print one alert per hit with whose indicator it is, then a summary.
//! Exit status like grep: 0 hits, 1 none, 2 error.

use crate::Global;
use crate::output::table;
use anyhow::Context;
use cairn_hunt::{
    FieldMap, Hit, Index, IndexBuilder, Input, LineExtractor, LogFormat, ScanOptions, Scanner,
    Summary,
};
use cairn_model::{IndicatorKind, Observable, Provenance};
use cairn_warninglist::WarningLists;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Logs: files, folders (read recursively) or `-` for stdin. Zeek TSV or
    /// JSON, JSON lines, CSV, plain text; gzip and zstd; detected from content.
    #[arg(value_name = "PATH", required = true)]
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
    /// ip, url, email, hash, ja3, jarm, ja4, serial, file-name, auto, text,
    /// ignore).
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
}

/// Who an indicator belongs to, as alerts print it.
#[derive(Debug, Clone, Default, Serialize)]
struct HitContext {
    stix_ids: Vec<String>,
    actors: Vec<ActorOut>,
    families: Vec<String>,
    roles: Vec<String>,
    sources: Vec<Provenance>,
    /// The alert JSON from `"actors"` to the closing brace, the same for
    /// every hit of this context: rendered once, not per alert.
    #[serde(skip)]
    json_tail: String,
}

/// The part of an alert's JSON that depends only on its context.
#[derive(Serialize)]
struct AlertTail<'a> {
    actors: &'a [ActorOut],
    families: &'a [String],
    roles: &'a [String],
    confidence: Option<u8>,
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    sources: &'a [Provenance],
    stix_ids: &'a [String],
}

impl HitContext {
    /// Renders the JSON tail and freezes the context.
    fn sealed(mut self) -> Arc<HitContext> {
        let tail = AlertTail {
            actors: &self.actors,
            families: &self.families,
            roles: &self.roles,
            confidence: self.sources.iter().filter_map(|s| s.confidence).max(),
            first_seen: self
                .sources
                .iter()
                .filter_map(|s| s.first_seen.as_deref())
                .min(),
            last_seen: self
                .sources
                .iter()
                .filter_map(|s| s.last_seen.as_deref())
                .max(),
            sources: &self.sources,
            stix_ids: &self.stix_ids,
        };
        // Serialising plain structs of strings cannot fail.
        let mut json = serde_json::to_string(&tail).unwrap_or_else(|_| "{}".into());
        // `{"actors":...}` without its opening brace.
        json.remove(0);
        self.json_tail = json;
        Arc::new(self)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct ActorOut {
    name: String,
    aliases: Vec<String>,
}

/// Alerts are written out every this many bytes: a batch's alerts can
/// run to megabytes, and a buffer that stays in the core's cache costs
/// no fresh pages (a page touched first is dear in a VM).
const FORMAT_CHUNK: usize = 64 << 10;

/// A scanning thread's buffers for printing a batch of hits, reused batch
/// after batch (new ones per batch were fresh pages each time).
struct Scratch {
    /// The batch's contexts, each once per run of hits that share it.
    ctxs: Vec<Arc<HitContext>>,
    /// Per hit of the batch: its context's place in `ctxs`.
    which: Vec<usize>,
    /// Formatted alerts, up to [`FORMAT_CHUNK`] bytes.
    buf: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = const {
        std::cell::RefCell::new(Scratch {
            ctxs: Vec::new(),
            which: Vec::new(),
            buf: Vec::new(),
        })
    };
}

/// One batch of hits: their contexts looked up and tallied under the
/// shared lock, then formatted outside it and written a chunk at a time.
fn print_batch(
    hits: &[Hit],
    s: &mut Scratch,
    shared: &std::sync::Mutex<Shared<'_>>,
    tallies: &[std::sync::Mutex<Tally>],
    out: &std::sync::Mutex<Out>,
    json: bool,
    bar: Option<&indicatif::ProgressBar>,
) {
    let Ok(mut st) = shared.lock() else { return };
    if st.error.is_some() {
        return;
    }
    s.ctxs.clear();
    s.which.clear();
    for hit in hits {
        match st.context_for(hit) {
            Ok(c) => {
                if !s.ctxs.last().is_some_and(|l| Arc::ptr_eq(l, c)) {
                    s.ctxs.push(c.clone());
                }
                s.which.push(s.ctxs.len() - 1);
            }
            Err(e) => {
                st.error = Some(e);
                return;
            }
        }
        st.see(hit);
    }
    drop(st);
    // This thread's own tally (a thread outside the pool takes the last).
    let last = tallies.len().saturating_sub(1);
    let mine = rayon::current_thread_index().map_or(last, |i| i.min(last));
    if let Some(t) = tallies.get(mine)
        && let Ok(mut t) = t.lock()
    {
        for hit in hits {
            t.add(hit);
        }
    }
    s.buf.clear();
    let mut n = 0u64;
    for (i, (hit, &c)) in hits.iter().zip(&s.which).enumerate() {
        let Some(ctx) = s.ctxs.get(c) else { break };
        if json {
            write_json(&mut s.buf, hit, ctx);
        } else {
            let _ = write_human(&mut s.buf, hit, ctx);
        }
        n += 1;
        if s.buf.len() >= FORMAT_CHUNK || i + 1 == hits.len() {
            let Ok(mut o) = out.lock() else { break };
            if !o.emit(&s.buf, n, bar) {
                break;
            }
            s.buf.clear();
            n = 0;
        }
    }
    s.ctxs.clear();
}

/// Where indicators come from: the store, or a list file.
enum Intel {
    Store(cairn_kb::Store),
    /// The list is parsed only when its index is not cached: reading a 1M-value
    /// list costs more than hunting a gigabyte; hits carry their indicator.
    List {
        name: String,
        path: PathBuf,
    },
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

    let mut intel = match &args.ioc {
        Some(p) => Intel::List {
            name: p.display().to_string(),
            path: p.clone(),
        },
        None => Intel::Store(crate::open_store(global)?),
    };
    if args.record && matches!(intel, Intel::List { .. }) {
        anyhow::bail!("--record writes sightings to the store; it cannot be used with --ioc");
    }

    let t0 = Instant::now();
    let (index, cached) = load_or_build_index(&intel, &args)?;
    let index_time = t0.elapsed();

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
    let extractor: Arc<dyn LineExtractor> = Arc::new(cairn_hunt::ReportExtractor::default());
    let opts = ScanOptions {
        format,
        fields,
        max_line_len: args.max_line.max(1024),
        progress: Some(Arc::new(move |n| bar2.inc(n))),
        extractor,
        ..ScanOptions::default()
    };

    // Alerts are formatted on the scanning threads, a batch at a time (a
    // channel to one printing thread cost more CPU than the hunt itself at
    // 100k+ alerts). Within a file hits arrive in line order; the shared
    // state (contexts, the store, sightings) sits behind one lock, the
    // tallies and the formatting run outside it.
    let t1 = Instant::now();
    // Sized for tens of thousands of indicators hit at once: growing there
    // rehashed into fresh pages at every doubling.
    let tallies: Vec<std::sync::Mutex<Tally>> = (0..=rayon::current_num_threads())
        .map(|_| {
            std::sync::Mutex::new(Tally {
                hits: FxHashMap::with_capacity_and_hasher(
                    index.len().min(1 << 15),
                    Default::default(),
                ),
                first: FxHashMap::default(),
            })
        })
        .collect();
    let shared = std::sync::Mutex::new(Shared {
        intel: &mut intel,
        contexts: FxHashMap::default(),
        merged: HashMap::new(),
        list_context: None,
        seen: args.record.then(FxHashMap::default),
        error: None,
    });
    let out = std::sync::Mutex::new(Out {
        // No larger than a chunk: full chunks then go straight to stdout
        // instead of being copied through this buffer too.
        w: std::io::BufWriter::with_capacity(FORMAT_CHUNK, std::io::stdout()),
        printed: 0,
        broken_pipe: false,
    });
    let visible_bar = !bar.is_hidden();
    let summary = {
        let scanner = Scanner::new(&index, opts);
        scanner.scan_batches(&inputs, &|hits: Vec<Hit>| {
            SCRATCH.with_borrow_mut(|s| {
                print_batch(
                    &hits,
                    s,
                    &shared,
                    &tallies,
                    &out,
                    args.json,
                    visible_bar.then_some(&bar),
                );
            });
        })
    };
    let Out { mut w, printed, .. } = out
        .into_inner()
        .map_err(|_| anyhow::anyhow!("hunt output lock poisoned"))?;
    let _ = w.flush();
    drop(w);
    let Shared {
        contexts,
        seen,
        error,
        ..
    } = shared
        .into_inner()
        .map_err(|_| anyhow::anyhow!("hunt state lock poisoned"))?;
    if let Some(e) = error {
        return Err(e);
    }
    bar.finish_and_clear();
    let scan_time = t1.elapsed();
    let tally = tallies
        .into_iter()
        .filter_map(|t| t.into_inner().ok())
        .fold(Tally::default(), Tally::merge);

    if let Some(seen) = seen
        && let Intel::Store(store) = &mut intel
    {
        let now = now_rfc3339();
        let mut rows: Vec<cairn_kb::SightingInput> = seen
            .iter()
            .map(|(k, t)| cairn_kb::SightingInput {
                key: i64::from(*k),
                count: tally.hits.get(k).copied().unwrap_or(0),
                first_seen: t.first.clone().unwrap_or_else(|| now.clone()),
                last_seen: t.last.clone().unwrap_or_else(|| now.clone()),
                where_: {
                    let mut files: Vec<&str> =
                        t.file.iter().chain(&t.more_files).map(|f| &**f).collect();
                    files.sort_unstable();
                    files.truncate(20);
                    files.join(", ")
                },
            })
            .collect();
        rows.sort_by_key(|r| r.key);
        let n = store
            .record_sightings(&rows)
            .context("recording sightings")?;
        if !global.quiet {
            eprintln!("cairn: recorded {n} sighting(s)");
        }
    }

    let report = render_summary(
        &summary,
        &index,
        &tally,
        &contexts,
        cached,
        index_time.as_secs_f64(),
        scan_time.as_secs_f64(),
    );
    if args.json {
        if !global.quiet {
            eprint!("{report}");
        }
    } else {
        let mut out = std::io::stdout().lock();
        if printed > 0 {
            let _ = writeln!(out);
        }
        let _ = write!(out, "{report}");
    }
    for f in &summary.files {
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
    for e in &summary.errors {
        eprintln!("cairn: error: {e}");
    }
    Ok(if !summary.errors.is_empty() {
        ExitCode::from(2)
    } else if summary.hits > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Hits per key, for the summary. Each scanning thread keeps its own (one
/// shared tally sat under the lock every batch takes, with a cache miss per
/// hit into a table of megabytes); they are merged when the hunt is done.
#[derive(Default)]
struct Tally {
    /// Per key: hits. Small entries, so the table stays in the core's cache.
    hits: FxHashMap<u32, u64>,
    /// Per key: the indicator of its first hit, for the summary's table.
    first: FxHashMap<u32, Observable>,
}

impl Tally {
    fn add(&mut self, hit: &Hit) {
        for k in &hit.keys {
            let n = self.hits.entry(*k).or_insert(0);
            if *n == 0 {
                self.first.insert(*k, hit.indicator.clone());
            }
            *n += 1;
        }
    }

    /// Both tallies in one, the larger one taking the smaller's keys.
    fn merge(self, other: Tally) -> Tally {
        let (mut big, small) = if self.hits.len() >= other.hits.len() {
            (self, other)
        } else {
            (other, self)
        };
        for (k, n) in small.hits {
            *big.hits.entry(k).or_insert(0) += n;
        }
        for (k, o) in small.first {
            big.first.entry(k).or_insert(o);
        }
        big
    }
}

/// When and where a key was seen, for `--record` only: the RFC 3339 stamp
/// and the comparisons per hit were most of the tally's cost.
#[derive(Default)]
struct KeySeen {
    first: Option<String>,
    last: Option<String>,
    /// The inputs it was seen in, as first seen: a key is nearly always in
    /// one, kept in the entry itself (no second cache miss per hit), the
    /// others in a list.
    file: Option<Arc<str>>,
    more_files: Vec<Arc<str>>,
}

/// Sets `slot` to `v` when it is empty or `better(v, current)`, in place:
/// logs run forward in time, so a key's last sighting moves at nearly
/// every hit and a new string each time would be an allocation per hit.
fn set_if(slot: &mut Option<String>, v: &str, better: impl Fn(&str, &str) -> bool) {
    match slot {
        Some(cur) if better(v, cur) => {
            cur.clear();
            cur.push_str(v);
        }
        Some(_) => {}
        None => *slot = Some(v.to_string()),
    }
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

/// One value per line; `#` comments; defanged values refanged; the kind
/// detected from the value.
fn read_ioc_list(path: &Path) -> anyhow::Result<Vec<Observable>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let v = line.trim().trim_start_matches('\u{feff}');
        if v.is_empty() || v.starts_with('#') {
            continue;
        }
        let v = v
            .replace("[.]", ".")
            .replace("(.)", ".")
            .replace("[:]", ":")
            .replace("[@]", "@");
        let v = if let Some(rest) = v.strip_prefix("hxxp") {
            format!("http{rest}")
        } else {
            v
        };
        if let Some(kind) = IndicatorKind::detect(&v) {
            out.push(Observable::new(kind, &v));
        }
    }
    Ok(out)
}

fn cache_dir() -> Option<PathBuf> {
    let d = dirs::cache_dir()?.join("cairn");
    std::fs::create_dir_all(&d).ok()?;
    Some(d)
}

fn load_or_build_index(intel: &Intel, args: &Args) -> anyhow::Result<(Index, bool)> {
    // The cache key: what the index is built from, and how.
    let (cache_path, tag) = match intel {
        Intel::Store(store) => {
            let generation = store.generation()?;
            let tag = format!(
                "store;gen={generation};all={};wl={}",
                args.all, !args.no_warninglists
            );
            let path = store.path().map(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "cairn.db".into());
                p.with_file_name(format!(
                    "{name}.hunt{}{}.idx",
                    if args.all { "-all" } else { "" },
                    if args.no_warninglists { "-nowl" } else { "" }
                ))
            });
            (path, tag)
        }
        Intel::List { path, .. } => {
            let meta = std::fs::metadata(path)?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            let tag = format!(
                "list;{};len={};mtime={mtime};wl={}",
                abs.display(),
                meta.len(),
                !args.no_warninglists
            );
            let mut h = std::hash::DefaultHasher::new();
            tag.hash(&mut h);
            (
                cache_dir().map(|d| d.join(format!("ioc-{:016x}.idx", h.finish()))),
                tag,
            )
        }
    };
    if !args.no_cache
        && let Some(p) = &cache_path
        && p.exists()
    {
        match Index::load(p) {
            Ok(ix) if ix.tag() == tag => return Ok((ix, true)),
            Ok(_) => {}
            Err(e) => eprintln!("cairn: warning: {e}; rebuilding"),
        }
    }
    let mut wl = if args.no_warninglists {
        WarningLists::new()
    } else {
        WarningLists::builtin()
    };
    let mut builder;
    match intel {
        Intel::Store(store) => {
            if !args.no_warninglists {
                for (name, json) in store.warninglist_documents()? {
                    if let Err(e) = wl.add_json(&name, &json) {
                        eprintln!("cairn: warning: {e}; list not applied");
                    }
                }
            }
            builder = IndexBuilder::new().suppress_with(&wl).tag(tag);
            for hi in store.hunt_indicators(args.all)? {
                let key = u32::try_from(hi.key).with_context(|| {
                    format!("indicator key {} does not fit the hunt index", hi.key)
                })?;
                builder.add(&hi.observable, key);
            }
        }
        Intel::List { path, .. } => {
            builder = IndexBuilder::new().suppress_with(&wl).tag(tag);
            for (i, o) in read_ioc_list(path)?.iter().enumerate() {
                let key = u32::try_from(i).context("too many indicators in the list")?;
                builder.add(o, key);
            }
        }
    }
    let index = builder.build();
    if !args.no_cache
        && let Some(p) = &cache_path
        && let Err(e) = index.save(p)
    {
        eprintln!("cairn: warning: {e}");
    }
    Ok((index, false))
}

/// What the scanning threads share while a hunt runs.
struct Shared<'a> {
    intel: &'a mut Intel,
    contexts: FxHashMap<u32, Arc<HitContext>>,
    /// Contexts of values several keys carry, merged once per key set.
    merged: HashMap<Vec<u32>, Arc<HitContext>>,
    /// The one context of an `--ioc` list's indicators.
    list_context: Option<Arc<HitContext>>,
    /// Per key: when and where, kept only for `--record`.
    seen: Option<FxHashMap<u32, KeySeen>>,
    /// The first store error; later hits are dropped and the hunt fails.
    error: Option<anyhow::Error>,
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

impl Shared<'_> {
    /// The context of `hit`'s indicator, built once per key (or set of keys)
    /// and lent out: the caller clones it only when it differs from the
    /// previous hit's (a clone per hit made both scanning threads bounce
    /// the one counter of a list's context).
    fn context_for(&mut self, hit: &Hit) -> anyhow::Result<&Arc<HitContext>> {
        // Every indicator of a list has the same context: the list.
        if matches!(self.intel, Intel::List { .. }) {
            let c = match self.list_context.take() {
                Some(c) => c,
                None => merged_context(self.intel, &hit.keys, &mut self.contexts)?,
            };
            return Ok(self.list_context.insert(c));
        }
        if let [k] = hit.keys.as_slice() {
            return key_context(self.intel, *k, &mut self.contexts);
        }
        if !self.merged.contains_key(&hit.keys) {
            let c = merged_context(self.intel, &hit.keys, &mut self.contexts)?;
            self.merged.insert(hit.keys.clone(), c);
        }
        self.merged
            .get(&hit.keys)
            .ok_or_else(|| anyhow::anyhow!("no context for indicator keys {:?}", hit.keys))
    }

    /// Where and when `hit`'s keys were seen, for `--record`.
    fn see(&mut self, hit: &Hit) {
        let Some(seen) = &mut self.seen else { return };
        let mut stamp = [0u8; 20];
        let ts = hit.ts.as_deref().map(|t| rfc3339_in(t, &mut stamp));
        for k in &hit.keys {
            let t = seen.entry(*k).or_default();
            // One `Arc` per input: its address decides nearly every time.
            let same = |f: &Arc<str>| Arc::ptr_eq(f, &hit.file) || *f == hit.file;
            match &t.file {
                None => t.file = Some(hit.file.clone()),
                Some(f) if same(f) => {}
                Some(_) => {
                    if !t.more_files.iter().any(same) {
                        t.more_files.push(hit.file.clone());
                    }
                }
            }
            if let Some(ts) = &ts {
                set_if(&mut t.first, ts, |new, cur| new < cur);
                set_if(&mut t.last, ts, |new, cur| new > cur);
            }
        }
    }
}

/// The context of one key: built from the store (or the list) the first
/// time it is asked for, then lent from `cache`.
fn key_context<'c>(
    intel: &Intel,
    k: u32,
    cache: &'c mut FxHashMap<u32, Arc<HitContext>>,
) -> anyhow::Result<&'c Arc<HitContext>> {
    let slot = match cache.entry(k) {
        std::collections::hash_map::Entry::Occupied(e) => return Ok(e.into_mut()),
        std::collections::hash_map::Entry::Vacant(v) => v,
    };
    let c = match intel {
        Intel::Store(store) => {
            let ic = store.indicator_context(i64::from(k))?;
            HitContext {
                stix_ids: vec![ic.stix_id],
                actors: ic
                    .actors
                    .into_iter()
                    .map(|a| ActorOut {
                        name: a.name,
                        aliases: a.aliases,
                    })
                    .collect(),
                families: ic.families,
                roles: ic.roles,
                sources: ic.sources,
                json_tail: String::new(),
            }
        }
        Intel::List { name, .. } => HitContext {
            sources: vec![Provenance {
                source: name.clone(),
                ..Provenance::default()
            }],
            ..HitContext::default()
        },
    };
    Ok(slot.insert(c.sealed()))
}

/// The context of a value several keys carry: their contexts merged, each
/// actor, family, role and source once.
fn merged_context(
    intel: &Intel,
    keys: &[u32],
    cache: &mut FxHashMap<u32, Arc<HitContext>>,
) -> anyhow::Result<Arc<HitContext>> {
    let mut merged = HitContext::default();
    for k in keys {
        let c = key_context(intel, *k, cache)?;
        merged.stix_ids.extend(c.stix_ids.iter().cloned());
        for a in &c.actors {
            if !merged.actors.contains(a) {
                merged.actors.push(a.clone());
            }
        }
        for f in &c.families {
            if !merged.families.contains(f) {
                merged.families.push(f.clone());
            }
        }
        for r in &c.roles {
            if !merged.roles.contains(r) {
                merged.roles.push(r.clone());
            }
        }
        for s in &c.sources {
            if !merged.sources.contains(s) {
                merged.sources.push(s.clone());
            }
        }
    }
    Ok(merged.sealed())
}

/// One alert as a JSON line: the per-hit head written here, the context's
/// pre-rendered tail appended (serde per alert cost more than the hunt).
fn write_json(out: &mut Vec<u8>, hit: &Hit, ctx: &HitContext) {
    out.extend_from_slice(b"{\"file\":");
    json_str(out, &hit.file);
    out.extend_from_slice(b",\"line\":");
    out.extend_from_slice(itoa::Buffer::new().format(hit.line).as_bytes());
    out.extend_from_slice(b",\"field\":");
    json_str(out, &hit.field);
    out.extend_from_slice(b",\"value\":");
    json_str(out, &hit.value);
    out.extend_from_slice(b",\"ts\":");
    match &hit.ts {
        Some(ts) => json_str(out, ts),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"indicator\":{\"type\":");
    json_str(out, hit.indicator.kind.as_str());
    out.extend_from_slice(b",\"value\":");
    json_str(out, &hit.indicator.value);
    out.extend_from_slice(b",\"match\":");
    json_str(out, hit.match_kind.as_str());
    out.extend_from_slice(b"},");
    out.extend_from_slice(ctx.json_tail.as_bytes());
    out.push(b'\n');
}

/// Whether `s` holds a byte JSON escapes: a control byte, `"` or `\`.
/// Eight bytes per step (an alert's strings are ~100 bytes; a byte loop
/// was a tenth of formatting it). Exact as a yes/no: the zero-byte and
/// less-than tricks can only misreport bytes above one that truly matched.
/// By hand: `memchr` finds given bytes, not a range like the control bytes.
fn needs_escape(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (chunks, tail) = s.as_chunks::<8>();
    for c in chunks {
        let x = u64::from_le_bytes(*c);
        let quote = x ^ (LO * u64::from(b'"'));
        let slash = x ^ (LO * u64::from(b'\\'));
        let hit = (quote.wrapping_sub(LO) & !quote)
            | (slash.wrapping_sub(LO) & !slash)
            | (x.wrapping_sub(LO * 0x20) & !x);
        if hit & HI != 0 {
            return true;
        }
    }
    tail.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A JSON string, escaped exactly as serde_json escapes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

fn actor_label(ctx: &HitContext) -> String {
    if ctx.actors.is_empty() {
        return "(no actor)".to_string();
    }
    ctx.actors
        .iter()
        .map(|a| {
            if a.aliases.is_empty() {
                a.name.clone()
            } else {
                let shown: Vec<&str> = a.aliases.iter().take(4).map(String::as_str).collect();
                let more = if a.aliases.len() > 4 { ", …" } else { "" };
                format!("{} (aka {}{more})", a.name, shown.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn write_human(out: &mut impl Write, hit: &Hit, ctx: &HitContext) -> std::io::Result<()> {
    let mut extra = Vec::new();
    if !ctx.families.is_empty() {
        extra.push(ctx.families.join(", "));
    }
    if !ctx.roles.is_empty() {
        extra.push(ctx.roles.join(", "));
    }
    let srcs: Vec<String> = ctx
        .sources
        .iter()
        .map(|s| match s.confidence {
            Some(c) => format!("{} ({c})", s.source),
            None => s.source.clone(),
        })
        .collect();
    writeln!(
        out,
        "{}:{}  {}={}  ->  {} {} [{}]  {}{}  via {}",
        hit.file,
        hit.line,
        hit.field,
        hit.value,
        hit.indicator.kind,
        hit.indicator.value,
        hit.match_kind.as_str(),
        actor_label(ctx),
        if extra.is_empty() {
            String::new()
        } else {
            format!("  {}", extra.join("; "))
        },
        if srcs.is_empty() {
            "-".to_string()
        } else {
            srcs.join(", ")
        }
    )
}

fn render_summary(
    s: &Summary,
    index: &Index,
    tally: &Tally,
    contexts: &FxHashMap<u32, Arc<HitContext>>,
    cached: bool,
    index_secs: f64,
    scan_secs: f64,
) -> String {
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
    let st = index.stats();
    r.push_str(&format!(
        "Index: {} indicator value(s) ({}, {:.2} s, {:.1} bytes/indicator).\n",
        index.len(),
        if cached { "cached" } else { "built" },
        index_secs,
        if index.is_empty() {
            0.0
        } else {
            index.heap_bytes() as f64 / index.len() as f64
        }
    ));
    let suppressed: u64 = st.suppressed.iter().map(|x| x.count).sum();
    if suppressed > 0 {
        r.push_str(&format!(
            "Suppressed by warninglists at index build: {suppressed} indicator(s):\n"
        ));
        for x in &st.suppressed {
            r.push_str(&format!("  {:>6}  {}\n", x.count, x.list));
        }
    }
    if s.hits == 0 {
        r.push_str("No hits.\n");
        return r;
    }
    r.push_str(&format!(
        "{} hit(s) on {} indicator(s).\n\n",
        s.hits,
        tally.hits.len()
    ));
    // By actor: hits and keys (each key is met once here; a name twice in
    // one context is one actor).
    let mut actors: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    let mut names: Vec<&str> = Vec::new();
    for (k, &hits) in &tally.hits {
        names.clear();
        if let Some(c) = contexts.get(k) {
            names.extend(c.actors.iter().map(|a| a.name.as_str()));
        }
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            names.push("(no actor)");
        }
        for n in &names {
            let e = actors.entry(n).or_default();
            e.0 += hits;
            e.1 += 1;
        }
    }
    let mut rows: Vec<(&str, u64, usize)> =
        actors.into_iter().map(|(n, (h, ks))| (n, h, ks)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(n, h, k)| vec![n.to_string(), h.to_string(), k.to_string()])
        .collect();
    r.push_str("By actor:\n");
    r.push_str(&indent(&table(&["ACTOR", "HITS", "INDICATORS"], &rows)));
    // By indicator: the most hit first, the long tail counted (the alerts
    // carry every one).
    let mut ranked: Vec<(u32, u64)> = tally.hits.iter().map(|(k, n)| (*k, *n)).collect();
    let value = |k: u32| tally.first.get(&k).map_or("", |o| o.value.as_str());
    let order = |a: &(u32, u64), b: &(u32, u64)| {
        b.1.cmp(&a.1)
            .then(value(a.0).cmp(value(b.0)))
            .then(a.0.cmp(&b.0))
    };
    // Only the first rows are listed: picked, then sorted (a full sort of
    // every key hit sat on the critical path after the scan).
    if ranked.len() > SUMMARY_INDICATORS {
        ranked.select_nth_unstable_by(SUMMARY_INDICATORS, order);
        ranked[..SUMMARY_INDICATORS].sort_unstable_by(order);
    } else {
        ranked.sort_unstable_by(order);
    }
    let rows: Vec<Vec<String>> = ranked
        .iter()
        .take(SUMMARY_INDICATORS)
        .map(|(k, hits)| {
            let (kind, value) = tally
                .first
                .get(k)
                .map(|o| (o.kind.to_string(), o.value.clone()))
                .unwrap_or_default();
            let actors = contexts
                .get(k)
                .map(|c| {
                    c.actors
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            vec![
                value,
                kind,
                hits.to_string(),
                if actors.is_empty() {
                    "-".into()
                } else {
                    actors
                },
            ]
        })
        .collect();
    r.push_str("\nBy indicator:\n");
    r.push_str(&indent(&table(
        &["INDICATOR", "TYPE", "HITS", "ACTORS"],
        &rows,
    )));
    if ranked.len() > SUMMARY_INDICATORS {
        let rest = &ranked[SUMMARY_INDICATORS..];
        r.push_str(&format!(
            "  ... and {} more indicator(s) with {} hit(s) (every hit is in the alerts).\n",
            rest.len(),
            rest.iter().map(|(_, n)| n).sum::<u64>()
        ));
    }
    r
}

/// Indicators listed by name in the summary.
const SUMMARY_INDICATORS: usize = 50;

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

/// Zeek's epoch seconds (`1685577600.123456`) as RFC 3339; other forms as
/// given. Allocates only for years past 9999 (tallying runs once per hit).
fn rfc3339_in<'a>(ts: &'a str, buf: &'a mut [u8; 20]) -> std::borrow::Cow<'a, str> {
    let t = ts.trim();
    let secs = t.split('.').next().unwrap_or("");
    if secs.len() >= 9
        && secs.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = secs.parse::<i64>()
    {
        return epoch_in(n, buf);
    }
    std::borrow::Cow::Borrowed(t)
}

fn now_rfc3339() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    epoch_to_rfc3339(n)
}

fn epoch_to_rfc3339(secs: i64) -> String {
    epoch_in(secs, &mut [0u8; 20]).into_owned()
}

/// Civil date from days since 1970 (Howard Hinnant's algorithm); four-digit
/// years are written into `buf`.
fn epoch_in(secs: i64, buf: &mut [u8; 20]) -> std::borrow::Cow<'_, str> {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let (hh, mm, ss) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    if !(0..=9999).contains(&y) {
        return std::borrow::Cow::Owned(format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"));
    }
    *buf = *b"0000-00-00T00:00:00Z";
    for (at, width, mut v) in [
        (0, 4, y),
        (5, 2, m),
        (8, 2, d),
        (11, 2, hh),
        (14, 2, mm),
        (17, 2, ss),
    ] {
        for slot in buf[at..at + width].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    // All ASCII digits and separators.
    std::borrow::Cow::Borrowed(std::str::from_utf8(buf).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_escape_is_the_bytewise_rule() {
        let slow = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for b in 0..=255u8 {
            for len in [1usize, 7, 8, 9, 16, 23] {
                for at in [0, len / 2, len - 1] {
                    // Neighbours that sit next to the byte in the same word:
                    // plain, high-bit and boundary values.
                    for fill in [b'a', 0x80, 0xff, 0x21, 0x1f] {
                        let mut s = vec![fill; len];
                        s[at] = b;
                        assert_eq!(needs_escape(&s), slow(&s), "{s:?}");
                    }
                }
            }
        }
        // Mixed strings: several borderline bytes in one word.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s: Vec<u8> = (0..(x % 40) as usize)
                .map(|i| {
                    [
                        b'a', 0x20, 0x21, 0x1f, 0x00, 0x80, 0xff, b'"', b'\\', 0x7f, 0x5b, 0x5d,
                    ][((x >> (i % 60)) % 12) as usize]
                })
                .collect();
            assert_eq!(needs_escape(&s), slow(&s), "{s:?}");
        }
    }

    #[test]
    fn epoch_converts() {
        let mut b = [0u8; 20];
        assert_eq!(
            rfc3339_in("1685577600.000000", &mut b),
            "2023-06-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339_in(" 2023-06-01T01:02:03Z", &mut b),
            "2023-06-01T01:02:03Z"
        );
        assert_eq!(epoch_to_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(epoch_to_rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(epoch_to_rfc3339(253_402_300_800), "10000-01-01T00:00:00Z");
    }

    #[test]
    fn alert_json_is_what_serde_writes() {
        let ctx = HitContext {
            actors: vec![ActorOut {
                name: "RedHotel".into(),
                aliases: vec!["TAG-22".into()],
            }],
            sources: vec![Provenance {
                source: "s".into(),
                confidence: Some(80),
                first_seen: Some("2023-01-01T00:00:00Z".into()),
                ..Provenance::default()
            }],
            ..HitContext::default()
        }
        .sealed();
        let hit = Hit {
            file: Arc::from("dns \"q\".log"),
            line: 42,
            field: "query".into(),
            value: "a\\b\tc\u{1}é".into(),
            indicator: Observable::new(IndicatorKind::Domain, "dga.asia"),
            match_kind: cairn_hunt::MatchKind::Subdomain,
            keys: vec![1],
            ts: None,
        };
        let mut out = Vec::new();
        write_json(&mut out, &hit, &ctx);
        let got: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let want = serde_json::json!({
            "file": "dns \"q\".log", "line": 42, "field": "query", "value": "a\\b\tc\u{1}é",
            "ts": null,
            "indicator": {"type": "domain", "value": "dga.asia", "match": "subdomain"},
            "actors": [{"name": "RedHotel", "aliases": ["TAG-22"]}],
            "families": [], "roles": [], "confidence": 80,
            "first_seen": "2023-01-01T00:00:00Z", "last_seen": null,
            "sources": serde_json::to_value(&ctx.sources).expect("sources"),
            "stix_ids": [],
        });
        assert_eq!(got, want);
        assert!(out.ends_with(b"}\n"));
    }

    #[test]
    fn thread_tallies_merge_into_one() {
        let hit = |keys: Vec<u32>, value: &str| Hit {
            file: Arc::from("x.log"),
            line: 1,
            field: "query".into(),
            value: value.into(),
            indicator: Observable::new(IndicatorKind::Domain, value),
            match_kind: cairn_hunt::MatchKind::Exact,
            keys,
            ts: None,
        };
        // Key 1 on both threads, key 2 (shared with 1 by one value) and key
        // 3 on one each; the larger tally is on either side of the merge.
        let (mut a, mut b) = (Tally::default(), Tally::default());
        for _ in 0..3 {
            a.add(&hit(vec![1], "a.example"));
        }
        a.add(&hit(vec![1, 2], "b.example"));
        b.add(&hit(vec![1], "a.example"));
        b.add(&hit(vec![3], "c.example"));
        let small = || {
            let mut t = Tally::default();
            t.add(&hit(vec![3], "c.example"));
            t
        };
        for merged in [a.merge(b), small().merge(Tally::default())] {
            assert!(merged.hits.len() == merged.first.len());
            if merged.hits.len() == 1 {
                assert_eq!(merged.hits.get(&3), Some(&1));
                continue;
            }
            let mut got: Vec<(u32, u64, &str)> = merged
                .hits
                .iter()
                .map(|(k, n)| (*k, *n, merged.first[k].value.as_str()))
                .collect();
            got.sort_unstable();
            assert_eq!(
                got,
                [
                    (1, 5, "a.example"),
                    (2, 1, "b.example"),
                    (3, 1, "c.example")
                ]
            );
        }
        let merged = Tally::default().merge(small()).merge(small());
        assert_eq!(merged.hits.get(&3), Some(&2));
    }
}
