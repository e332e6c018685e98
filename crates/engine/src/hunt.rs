//! A hunt from start to report: scan, give each hit its context under the
//! caller's clearance, hand the alerts over a batch at a time, count
//! everything, and say what to record as sightings.

use crate::alert::{AlertBatch, HIDDEN};
use crate::context::{Contexts, HitContext, Intel};
use crate::errors::EngineError;
use crate::tally::{KeySeen, Tally, now, sighting_time};
use cairn_hunt::{Hit, Index, Input, LineExtractor, ScanOptions, Scanner, Summary};
use cairn_kb::SightingInput;
use cairn_model::Observable;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Scan options with what both surfaces want: free-text lines read with
/// the report extractor.
pub fn scan_options() -> ScanOptions {
    let extractor: Arc<dyn LineExtractor> = Arc::new(cairn_hunt::ReportExtractor::default());
    ScanOptions {
        extractor,
        ..ScanOptions::default()
    }
}

/// What to do besides matching.
#[derive(Default)]
pub struct HuntOptions {
    /// How to scan.
    pub scan: ScanOptions,
    /// Keep when and where each indicator was seen, for
    /// [`HuntReport::sightings`].
    pub record: bool,
    /// Show every input under this name (an upload's name instead of the
    /// scratch file it was written to).
    pub label: Option<Arc<str>>,
}

/// One actor's share of a hunt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActorCount {
    /// The actor's name.
    pub name: String,
    /// Hits on its indicators (a hit counts once per actor).
    pub hits: u64,
    /// Its indicators that were hit.
    pub indicators: usize,
}

/// One indicator's share of a hunt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorCount {
    /// The indicator's key in the index.
    pub key: u32,
    /// Its value (as first hit).
    pub indicator: Observable,
    /// Hits.
    pub hits: u64,
    /// The actors it indicates.
    pub actors: Vec<String>,
}

/// What a hunt found, every hit counted (whatever a surface shows).
pub struct HuntReport {
    /// The scanner's account: lines, bytes, malformed lines, per input, errors.
    pub summary: Summary,
    /// Hits on indicators the caller may see.
    pub hits: u64,
    tally: Tally,
    per_key: FxHashMap<u32, u64>,
    contexts: Contexts,
    seen: Option<FxHashMap<u32, KeySeen>>,
}

impl HuntReport {
    /// Indicators hit.
    pub fn indicators_hit(&self) -> usize {
        self.per_key.len()
    }

    /// Hits per actor, most first; a hit on indicators of two sources that
    /// name one actor counts once for it. Hits on indicators that name no
    /// actor are under `None`.
    pub fn by_actor(&self) -> Vec<(Option<String>, ActorCount)> {
        let mut hits: BTreeMap<Option<&str>, u64> = BTreeMap::new();
        let mut keys: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        let mut names: Vec<Option<&str>> = Vec::new();
        // Each actor once per context; `None` for a context naming none.
        fn actors_of<'c>(ctx: Option<&'c Arc<HitContext>>, names: &mut Vec<Option<&'c str>>) {
            names.clear();
            if let Some(c) = ctx {
                names.extend(c.actors.iter().map(|a| Some(a.name.as_str())));
            }
            names.sort_unstable();
            names.dedup();
            if names.is_empty() {
                names.push(None);
            }
        }
        for (k, &n) in &self.tally.single {
            actors_of(self.contexts.cached(*k), &mut names);
            for a in &names {
                *hits.entry(*a).or_default() += n;
            }
        }
        let mut merged: Vec<Option<&str>> = Vec::new();
        for (ks, &n) in &self.tally.multi {
            merged.clear();
            for k in ks {
                actors_of(self.contexts.cached(*k), &mut names);
                merged.extend(names.iter().copied().filter(Option::is_some));
            }
            merged.sort_unstable();
            merged.dedup();
            if merged.is_empty() {
                merged.push(None);
            }
            for a in &merged {
                *hits.entry(*a).or_default() += n;
            }
        }
        for k in self.per_key.keys() {
            actors_of(self.contexts.cached(*k), &mut names);
            for a in &names {
                *keys.entry(*a).or_default() += 1;
            }
        }
        let mut rows: Vec<(Option<String>, ActorCount)> = hits
            .into_iter()
            .map(|(name, h)| {
                (
                    name.map(str::to_string),
                    ActorCount {
                        name: name.unwrap_or("(no actor)").to_string(),
                        hits: h,
                        indicators: keys.get(&name).copied().unwrap_or(0),
                    },
                )
            })
            .collect();
        rows.sort_by(|a, b| b.1.hits.cmp(&a.1.hits).then(a.1.name.cmp(&b.1.name)));
        rows
    }

    /// The `n` indicators hit most (ties by value), then how many others
    /// there were and their hits. Only the first `n` are sorted: a full
    /// sort of every key hit sat on the critical path after a big hunt.
    pub fn top_indicators(&self, n: usize) -> (Vec<IndicatorCount>, usize, u64) {
        let mut ranked: Vec<(u32, u64)> = self.per_key.iter().map(|(k, h)| (*k, *h)).collect();
        let value = |k: u32| self.tally.first.get(&k).map_or("", |o| o.value.as_str());
        let order = |a: &(u32, u64), b: &(u32, u64)| {
            b.1.cmp(&a.1)
                .then(value(a.0).cmp(value(b.0)))
                .then(a.0.cmp(&b.0))
        };
        if ranked.len() > n {
            ranked.select_nth_unstable_by(n, order);
            ranked[..n].sort_unstable_by(order);
        } else {
            ranked.sort_unstable_by(order);
        }
        let rest = ranked.get(n..).unwrap_or_default();
        let (rest_n, rest_hits) = (rest.len(), rest.iter().map(|(_, h)| h).sum());
        let top = ranked
            .iter()
            .take(n)
            .filter_map(|(k, hits)| {
                Some(IndicatorCount {
                    key: *k,
                    indicator: self.tally.first.get(k)?.clone(),
                    hits: *hits,
                    actors: self
                        .contexts
                        .cached(*k)
                        .map(|c| c.actors.iter().map(|a| a.name.clone()).collect())
                        .unwrap_or_default(),
                })
            })
            .collect();
        (top, rest_n, rest_hits)
    }

    /// The sightings to record: per indicator hit, its hits, first and last
    /// log time (the hunt's time when the log has none) and the inputs it
    /// was seen in. Empty unless the hunt was run with `record`.
    pub fn sightings(&self) -> Vec<SightingInput> {
        let Some(seen) = &self.seen else {
            return Vec::new();
        };
        let now = now();
        let mut rows: Vec<SightingInput> = seen
            .iter()
            .map(|(k, s)| SightingInput {
                key: i64::from(*k),
                count: self.per_key.get(k).copied().unwrap_or(0),
                first_seen: s.first.clone().unwrap_or_else(|| now.clone()),
                last_seen: s.last.clone().unwrap_or_else(|| now.clone()),
                where_: s.location(),
            })
            .collect();
        rows.sort_by_key(|r| r.key);
        rows
    }
}

/// What the scanning threads share while a hunt runs.
struct Shared<'a> {
    intel: Intel<'a>,
    contexts: Contexts,
    /// Per key: when and where, kept only for `record`.
    seen: Option<FxHashMap<u32, KeySeen>>,
    /// The first store error; later hits are dropped and the hunt fails.
    error: Option<EngineError>,
}

/// A scanning thread's buffers, reused batch after batch (new ones per
/// batch were fresh pages each time).
struct Scratch {
    /// The batch's contexts, each once per run of hits that share it.
    ctxs: Vec<Arc<HitContext>>,
    /// Per hit: its context's place in `ctxs`, or [`HIDDEN`].
    which: Vec<usize>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = const {
        std::cell::RefCell::new(Scratch { ctxs: Vec::new(), which: Vec::new() })
    };
}

/// Hunts `inputs` with `index` and hands every alert to `sink`, a batch at
/// a time, on the scanning threads (within an input, in line order).
/// Hits on indicators `intel` does not let the caller see are neither
/// alerts nor counted. The report counts every hit, however many the sink
/// keeps.
pub fn hunt(
    intel: Intel<'_>,
    index: &Index,
    inputs: &[Input],
    opts: HuntOptions,
    sink: &(dyn Fn(&AlertBatch<'_>) + Sync),
) -> Result<HuntReport, EngineError> {
    let scanner = Scanner::new(index, opts.scan.clone());
    hunt_from(intel, index.len(), opts, sink, |on_hits| {
        scanner.scan_batches(inputs, on_hits)
    })
}

/// [`hunt`] with the hits coming from `source` instead of a local scan:
/// `source` calls the function it is given with each batch of hits (from
/// any thread; within an input, in line order) and returns the scan's
/// summary. A hunt spread over workers hands their hits in here, so its
/// alerts, counts and sightings are made exactly as a local hunt's.
/// `index_len` sizes the tallies.
pub fn hunt_from(
    intel: Intel<'_>,
    index_len: usize,
    opts: HuntOptions,
    sink: &(dyn Fn(&AlertBatch<'_>) + Sync),
    source: impl FnOnce(&(dyn Fn(Vec<Hit>) + Sync)) -> Summary,
) -> Result<HuntReport, EngineError> {
    // Sized for tens of thousands of indicators hit at once: growing there
    // rehashed into fresh pages at every doubling.
    let tallies: Vec<Mutex<Tally>> = (0..=rayon::current_num_threads())
        .map(|_| Mutex::new(Tally::with_capacity(index_len.min(1 << 15))))
        .collect();
    let shared = Mutex::new(Shared {
        intel,
        contexts: Contexts::new(),
        seen: opts.record.then(FxHashMap::default),
        error: None,
    });
    let label = opts.label;
    let summary = source(&|mut hits: Vec<Hit>| {
        if let Some(l) = &label {
            for h in &mut hits {
                h.file = l.clone();
            }
        }
        SCRATCH.with_borrow_mut(|s| batch(&mut hits, s, &shared, &tallies, sink));
    });
    let Shared {
        contexts,
        seen,
        error,
        ..
    } = shared.into_inner().map_err(|_| EngineError::Poisoned)?;
    if let Some(e) = error {
        return Err(e);
    }
    let tally = tallies
        .into_iter()
        .filter_map(|t| t.into_inner().ok())
        .fold(Tally::default(), Tally::merge);
    let per_key = tally.per_key();
    let hits = tally.single.values().sum::<u64>() + tally.multi.values().sum::<u64>();
    Ok(HuntReport {
        summary,
        hits,
        tally,
        per_key,
        contexts,
        seen,
    })
}

/// One batch of hits: contexts looked up (and sightings kept) under the
/// shared lock, then tallied on this thread's own tally and handed to the
/// sink outside the lock.
fn batch(
    hits: &mut [Hit],
    s: &mut Scratch,
    shared: &Mutex<Shared<'_>>,
    tallies: &[Mutex<Tally>],
    sink: &(dyn Fn(&AlertBatch<'_>) + Sync),
) {
    let Ok(mut st) = shared.lock() else { return };
    if st.error.is_some() {
        return;
    }
    s.ctxs.clear();
    s.which.clear();
    for hit in hits.iter_mut() {
        let st = &mut *st;
        match st.contexts.get(&st.intel, &hit.keys) {
            Ok(Some(c)) => {
                if !s.ctxs.last().is_some_and(|l| Arc::ptr_eq(l, c)) {
                    s.ctxs.push(c.clone());
                }
                s.which.push(s.ctxs.len() - 1);
                // A value several indicators carry counts only for those
                // the caller may see.
                if hit.keys.len() > 1 {
                    hit.keys.retain(|k| st.contexts.cached(*k).is_some());
                }
            }
            Ok(None) => {
                s.which.push(HIDDEN);
                continue;
            }
            Err(e) => {
                st.error = Some(e);
                return;
            }
        }
        if let Some(seen) = &mut st.seen {
            let ts = hit.ts.as_deref().map(sighting_time);
            for k in &hit.keys {
                seen.entry(*k).or_default().see(hit, ts.as_deref());
            }
        }
    }
    drop(st);
    let hits = &*hits;
    // This thread's own tally (a thread outside the pool takes the last).
    let last = tallies.len().saturating_sub(1);
    let mine = rayon::current_thread_index().map_or(last, |i| i.min(last));
    if let Some(t) = tallies.get(mine)
        && let Ok(mut t) = t.lock()
    {
        for (hit, &w) in hits.iter().zip(&s.which) {
            if w != HIDDEN {
                t.add(hit);
            }
        }
    }
    sink(&AlertBatch {
        hits,
        contexts: &s.ctxs,
        which: &s.which,
    });
    s.ctxs.clear();
}
