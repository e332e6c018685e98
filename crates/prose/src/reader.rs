//! The reader: sentences in, findings out, each with its sentence, the rule
//! that found it, a confidence and a stance.

use crate::knowledge::{Knowledge, NameKind, Procedure};
use crate::model::{Example, TechniqueModel};
use crate::names::{Lexicon, alias_rule, country_lexicon, sector_lexicon};
use crate::stance::{Stance, is_targeting, is_victim_country, stance};
use crate::text::{prose_words, sentences};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What a finding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// An ATT&CK technique or sub-technique.
    Technique,
    /// Malware or a tool.
    Software,
    /// An intrusion group.
    Group,
    /// A victim country.
    Country,
    /// A victim sector.
    Sector,
}

impl FindingKind {
    /// The name used in JSON (`technique`, `software`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Technique => "technique",
            FindingKind::Software => "software",
            FindingKind::Group => "group",
            FindingKind::Country => "country",
            FindingKind::Sector => "sector",
        }
    }
}

/// One sentence that names something.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// The sentence, lines joined.
    pub sentence: String,
    /// 1-based line where the sentence starts.
    pub line: u32,
    /// The words that named it (empty when the model inferred a technique
    /// from the whole sentence).
    pub text: String,
    /// How sure: 1.0 for an explicit id; for the model, the precision its
    /// score band had on procedure examples held out from its training.
    pub confidence: f64,
    /// Which rule found it: `technique id`, `technique name`, `model`,
    /// `alias`, `country name`, `sector word`.
    pub rule: &'static str,
    /// Whether the sentence claims it.
    pub stance: Stance,
}

/// Something a report names, with every sentence that names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// Its key: `T1574.002`, the ATT&CK id of software or a group when
    /// known (else its name), an ISO country code, a STIX sector.
    pub value: String,
    /// Display name: `DLL Side-Loading`, `ShadowPad`, `Taiwan`.
    pub name: String,
    /// The highest confidence among asserted mentions (or among all when
    /// none is asserted).
    pub confidence: f64,
    /// [`Stance::Asserted`] when any mention asserts it.
    pub stance: Stance,
    /// Every mention, in document order.
    pub mentions: Vec<Mention>,
}

/// A sentence's second technique counts when it scores at least this share
/// of the first's.
const RUNNER_UP_RATIO: f32 = 0.7;

/// Words of letters a sentence needs before the model reads it, or a
/// technique name in it counts.
const MIN_PROSE_WORDS: usize = 4;

/// The technique model with its threshold and confidence bands, both
/// measured on a calibration slice of procedure examples it never trained on.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Calibrated {
    pub(crate) model: TechniqueModel,
    /// Model class → index into the reader's techniques.
    pub(crate) classes: Vec<usize>,
    pub(crate) threshold: f32,
    /// (lowest score of the band, precision in it), ascending.
    pub(crate) bands: Vec<(f32, f64)>,
}

/// How a [`Reader`] is built.
#[derive(Debug, Clone, Copy)]
pub struct ReaderOptions {
    /// Seed of the training order (same seed, same model).
    pub seed: u64,
    /// Percent of procedure sources kept out of training to set the
    /// threshold and confidence bands.
    pub calibration_percent: u64,
}

impl Default for ReaderOptions {
    fn default() -> ReaderOptions {
        ReaderOptions {
            seed: 0x00ca_1e5e,
            calibration_percent: 10,
        }
    }
}

/// Reads report prose: techniques (ids, names, and descriptions through a
/// model trained on ATT&CK's procedure examples), software and groups by
/// every alias, victim countries and sectors. Build once, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Reader {
    pub(crate) techniques: Vec<(String, String)>,
    pub(crate) technique_ids: HashMap<String, usize>,
    pub(crate) technique_names: Lexicon<usize>,
    pub(crate) model: Option<Calibrated>,
    pub(crate) named: Vec<(NameKind, String, Option<String>)>,
    pub(crate) names: Lexicon<usize>,
    pub(crate) countries: Lexicon<&'static str>,
    pub(crate) sectors: Lexicon<&'static str>,
}

/// A stable bucket 0..100 for a procedure source, per purpose: the same
/// group always falls on the same side of a split.
pub(crate) fn bucket(purpose: &str, source: &str) -> u64 {
    let h = Sha256::new()
        .chain_update(purpose)
        .chain_update([0])
        .chain_update(source)
        .finalize();
    u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % 100
}

impl Reader {
    /// A reader trained on every procedure example in `knowledge` (except
    /// the calibration slice).
    pub fn new(knowledge: &Knowledge, opts: ReaderOptions) -> Reader {
        Reader::train(knowledge, opts, |_| true)
    }

    /// A reader whose model trains only on the procedures `keep` accepts
    /// (evaluation holds the rest out).
    pub(crate) fn train(
        k: &Knowledge,
        opts: ReaderOptions,
        keep: impl Fn(&Procedure) -> bool,
    ) -> Reader {
        let techniques: Vec<(String, String)> = k
            .techniques
            .iter()
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect();
        let technique_ids = techniques
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect();
        let technique_names = technique_name_lexicon(&techniques, k);
        let mut named = Vec::new();
        let mut alias_entries = Vec::new();
        for (i, n) in k.named.iter().enumerate() {
            named.push((n.kind, n.name.clone(), n.external_id.clone()));
            for a in &n.aliases {
                if let Some(exact) = alias_rule(a) {
                    alias_entries.push((a.clone(), exact, i));
                }
            }
        }
        Reader {
            model: calibrate(k, opts, &keep),
            techniques,
            technique_ids,
            technique_names,
            named,
            names: Lexicon::new(alias_entries),
            countries: country_lexicon(),
            sectors: sector_lexicon(),
        }
    }

    /// Techniques the reader knows (0 when the store holds no ATT&CK).
    pub fn technique_count(&self) -> usize {
        self.techniques.len()
    }

    /// The model's decision threshold (a score), if a model was trained.
    pub fn threshold(&self) -> Option<f32> {
        self.model.as_ref().map(|m| m.threshold)
    }

    /// Everything `text` names, one [`Finding`] per thing, in order of
    /// first mention.
    pub fn read(&self, text: &str) -> Vec<Finding> {
        let mut found: Vec<Finding> = Vec::new();
        let mut index: HashMap<(FindingKind, String), usize> = HashMap::new();
        for s in sentences(text) {
            for (kind, value, name, m) in self.read_sentence(&s.text, s.line) {
                let key = (kind, value.clone());
                let i = *index.entry(key).or_insert_with(|| {
                    found.push(Finding {
                        kind,
                        value,
                        name,
                        confidence: 0.0,
                        stance: m.stance,
                        mentions: Vec::new(),
                    });
                    found.len() - 1
                });
                found[i].mentions.push(m);
            }
        }
        for f in &mut found {
            let asserted: Vec<&Mention> = f
                .mentions
                .iter()
                .filter(|m| m.stance == Stance::Asserted)
                .collect();
            if !asserted.is_empty() {
                f.stance = Stance::Asserted;
            }
            let pool: Vec<&Mention> = if asserted.is_empty() {
                f.mentions.iter().collect()
            } else {
                asserted
            };
            f.confidence = pool.iter().map(|m| m.confidence).fold(0.0, f64::max);
        }
        found
    }

    /// The techniques `text` names or describes, with the best confidence,
    /// asserted only (what evaluation scores).
    pub fn techniques(&self, text: &str) -> Vec<(String, f64)> {
        self.read(text)
            .into_iter()
            .filter(|f| f.kind == FindingKind::Technique && f.stance == Stance::Asserted)
            .map(|f| (f.value, f.confidence))
            .collect()
    }

    fn read_sentence(&self, s: &str, line: u32) -> Vec<(FindingKind, String, String, Mention)> {
        let mut out = Vec::new();
        let mention = |text: &str, confidence: f64, rule: &'static str, st: Stance| Mention {
            sentence: s.to_string(),
            line,
            text: text.to_string(),
            confidence,
            rule,
            stance: st,
        };
        let mut explicit = Vec::new();
        for (start, end, id) in technique_ids_in(s) {
            if let Some(&t) = self.technique_ids.get(&id) {
                explicit.push(t);
                let (id, name) = &self.techniques[t];
                let m = mention(&s[start..end], 1.0, "technique id", stance(s, start, end));
                out.push((FindingKind::Technique, id.clone(), name.clone(), m));
            }
        }
        let prose = prose_words(s);
        let names = if prose >= MIN_PROSE_WORDS {
            self.technique_names.find(s)
        } else {
            Vec::new()
        };
        for h in names {
            let t = *h.value;
            if explicit.contains(&t) {
                continue;
            }
            explicit.push(t);
            let (id, name) = &self.techniques[t];
            let m = mention(
                &s[h.start..h.end],
                0.9,
                "technique name",
                stance(s, h.start, h.end),
            );
            out.push((FindingKind::Technique, id.clone(), name.clone(), m));
        }
        // Headings and fragments ("Initial access") name a tactic or a
        // topic, not something done: the model reads sentences only.
        if let Some(cal) = &self.model
            && prose >= MIN_PROSE_WORDS
        {
            // A sentence often does two things ("dumped credentials with
            // Mimikatz and moved laterally"): the runner-up counts too when
            // it scores near the best (measured: report recall +4 points,
            // precision −5, docs/EXTRACTION.md).
            let scores = cal.model.scores(s, cal.threshold);
            let best = scores.first().map_or(0.0, |x| x.1);
            for &(class, score) in scores
                .iter()
                .take(2)
                .filter(|(_, x)| *x >= best * RUNNER_UP_RATIO)
            {
                let Some(&t) = cal.classes.get(class as usize) else {
                    continue;
                };
                if explicit.contains(&t) {
                    continue;
                }
                let (id, name) = &self.techniques[t];
                let st = if negated_sentence(s) {
                    Stance::Negated
                } else {
                    Stance::Asserted
                };
                let m = mention("", cal.confidence(score), "model", st);
                out.push((FindingKind::Technique, id.clone(), name.clone(), m));
            }
        }
        for h in self.names.find(s) {
            let (kind, name, ext) = &self.named[*h.value];
            let kind = match kind {
                NameKind::Group => FindingKind::Group,
                NameKind::Software => FindingKind::Software,
            };
            let value = ext.clone().unwrap_or_else(|| name.clone());
            let m = mention(&s[h.start..h.end], 0.95, "alias", stance(s, h.start, h.end));
            out.push((kind, value, name.clone(), m));
        }
        for h in self.countries.find(s) {
            if !is_victim_country(s, h.start, h.end) {
                continue;
            }
            let code = *h.value;
            let name = cairn_model::country_name(code).unwrap_or_else(|| code.to_string());
            let m = mention(
                &s[h.start..h.end],
                0.8,
                "country name",
                stance(s, h.start, h.end),
            );
            out.push((FindingKind::Country, code.to_string(), name, m));
        }
        if is_targeting(s) {
            for h in self.sectors.find(s) {
                let v = *h.value;
                let m = mention(
                    &s[h.start..h.end],
                    0.7,
                    "sector word",
                    stance(s, h.start, h.end),
                );
                out.push((FindingKind::Sector, v.to_string(), v.to_string(), m));
            }
        }
        out
    }
}

/// A sentence the model reads as a whole is negated when it opens with a
/// negation ("No persistence mechanism was found").
fn negated_sentence(s: &str) -> bool {
    let lower = s.to_lowercase();
    [
        "no ",
        "not ",
        "we did not",
        "there is no",
        "there was no",
        "we found no",
        "never ",
    ]
    .iter()
    .any(|c| lower.starts_with(c))
        || lower.contains(" did not ")
        || lower.contains(" was not observed")
}

/// Technique names met in prose, in any case and in the plural ("Windows
/// services"). A name two techniques share ("Local Account") is left to the
/// model, and so are the sub-techniques of reconnaissance and resource
/// development, whose names are a report's ordinary nouns ("IP Addresses",
/// "Domains", "Virtual Private Server").
fn technique_name_lexicon(techniques: &[(String, String)], k: &Knowledge) -> Lexicon<usize> {
    let mut count: HashMap<String, usize> = HashMap::new();
    for (_, n) in techniques {
        *count.entry(n.to_lowercase()).or_default() += 1;
    }
    Lexicon::new(
        techniques
            .iter()
            .enumerate()
            .filter(|(i, (id, n))| {
                count.get(&n.to_lowercase()) == Some(&1)
                    && distinctive_name(id, n)
                    && !(id.contains('.') && k.techniques[*i].preparatory())
            })
            .map(|(i, (_, n))| (n.clone(), false, i))
            .collect(),
    )
    .with_plurals()
}

/// Whether a technique name is specific enough to mean the technique when
/// a report uses it: several words ("Scheduled Task"), or one word with a
/// digit or an inner capital ("PowerShell", "Rundll32"), or a parent
/// technique's one long word ("Masquerading"). Sub-technique names such as
/// "Credentials", "Domains" or "Malware" are ordinary words in a report.
fn distinctive_name(id: &str, name: &str) -> bool {
    let words = name.split_whitespace().count();
    // CamelCase ("PowerShell"), not an acronym ("DLL" is any DLL).
    let inner_capital =
        name.chars().skip(1).any(char::is_uppercase) && name.chars().any(char::is_lowercase);
    let digit = name.chars().any(|c| c.is_ascii_digit());
    words >= 2 || inner_capital || digit || (!id.contains('.') && name.len() >= 8)
}

/// `T1059`, `T1059.001` (any case) as whole words, with byte ranges.
fn technique_ids_in(s: &str) -> Vec<(usize, usize, String)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if boundary
            && matches!(b[i], b'T' | b't')
            && b.len() >= i + 5
            && b[i + 1..i + 5].iter().all(u8::is_ascii_digit)
        {
            let mut end = i + 5;
            if b.get(end) == Some(&b'.')
                && b.len() >= end + 4
                && b[end + 1..end + 4].iter().all(u8::is_ascii_digit)
            {
                end += 4;
            }
            if !b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                out.push((i, end, s[i..end].to_ascii_uppercase()));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

impl Calibrated {
    /// The precision of the band `score` falls in.
    fn confidence(&self, score: f32) -> f64 {
        self.bands
            .iter()
            .rev()
            .find(|(lo, _)| score >= *lo)
            .or(self.bands.first())
            .map_or(0.5, |(_, p)| *p)
    }
}

/// Trains the model on the kept procedures outside the calibration slice
/// (plus every technique's own name and summary), sets the threshold that
/// maximises F1 on the slice and measures precision per score band, then
/// trains again with the slice included.
fn calibrate(
    k: &Knowledge,
    opts: ReaderOptions,
    keep: &impl Fn(&Procedure) -> bool,
) -> Option<Calibrated> {
    let mut class_of: HashMap<usize, u16> = HashMap::new();
    let mut classes: Vec<usize> = Vec::new();
    let mut class = |t: usize| -> Option<u16> {
        if let Some(&c) = class_of.get(&t) {
            return Some(c);
        }
        let c = u16::try_from(classes.len()).ok()?;
        classes.push(t);
        class_of.insert(t, c);
        Some(c)
    };
    let mut train = Vec::new();
    let mut calib: Vec<(&str, usize)> = Vec::new();
    for p in k.procedures.iter().filter(|p| keep(p)) {
        if bucket("calibration", &p.source) < opts.calibration_percent {
            calib.push((&p.text, p.technique));
        } else if let Some(c) = class(p.technique) {
            train.push(Example {
                text: p.text.clone(),
                class: c,
            });
        }
    }
    if train.is_empty() {
        return None;
    }
    for (i, t) in k.techniques.iter().enumerate() {
        if let Some(c) = class(i) {
            train.push(Example {
                text: format!("{}. {}. {}", t.name, t.name, t.summary),
                class: c,
            });
        }
    }
    let model = TechniqueModel::train(&train, classes.len(), opts.seed);
    // Each calibration text's top score and whether it was right; a text
    // told of several techniques (several relationships) counts once.
    let mut gold: HashMap<&str, Vec<usize>> = HashMap::new();
    for (text, t) in &calib {
        gold.entry(text).or_default().push(*t);
    }
    let mut scored: Vec<(f32, bool)> = gold
        .iter()
        .filter_map(|(text, ts)| {
            let (c, s) = *model.scores(text, f32::MIN).first()?;
            Some((s, ts.contains(classes.get(c as usize)?)))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total = gold.len().max(1) as f64;
    let (mut tp, mut best) = (0f64, (0f64, 0.25f32));
    for (i, (s, ok)) in scored.iter().enumerate() {
        tp += f64::from(u8::from(*ok));
        let p = tp / (i + 1) as f64;
        let r = tp / total;
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        if f1 > best.0 {
            best = (f1, *s);
        }
    }
    let threshold = best.1;
    let bands = bands(&scored, threshold);
    // The threshold and bands are set; the slice now trains too (measured:
    // report recall +1 point at the same precision).
    for (text, t) in &calib {
        if let Some(&c) = class_of.get(t) {
            train.push(Example {
                text: text.to_string(),
                class: c,
            });
        }
    }
    let model = TechniqueModel::train(&train, classes.len(), opts.seed);
    Some(Calibrated {
        model,
        classes,
        threshold,
        bands,
    })
}

/// Precision per score band above the threshold, smoothed, made to rise
/// with the score.
fn bands(scored: &[(f32, bool)], threshold: f32) -> Vec<(f32, f64)> {
    let edges = [0.0f32, 0.1, 0.2, 0.3, 0.5, 0.8];
    let mut out: Vec<(f32, f64)> = Vec::new();
    for (i, e) in edges.iter().enumerate() {
        let lo = threshold + e;
        let hi = edges.get(i + 1).map_or(f32::MAX, |n| threshold + n);
        let in_band: Vec<bool> = scored
            .iter()
            .filter(|(s, _)| *s >= lo && *s < hi)
            .map(|(_, ok)| *ok)
            .collect();
        let hits = in_band.iter().filter(|ok| **ok).count() as f64;
        let p = (hits + 1.0) / (in_band.len() as f64 + 2.0);
        let p = out.last().map_or(p, |(_, prev)| p.max(*prev));
        out.push((lo, (p * 100.0).round() / 100.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_ids_any_case_whole_words() {
        let ids: Vec<String> = technique_ids_in("T1059.001, t1566 and T15660 or AT1234 T1027.")
            .into_iter()
            .map(|(_, _, id)| id)
            .collect();
        assert_eq!(ids, ["T1059.001", "T1566", "T1027"]);
    }

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(
            bucket("x", "intrusion-set--1"),
            bucket("x", "intrusion-set--1")
        );
        let low = (0..1000)
            .filter(|i| bucket("test", &format!("malware--{i}")) < 20)
            .count();
        assert!((150..250).contains(&low), "{low}");
    }

    #[test]
    fn bands_rise_with_score() {
        let scored = [
            (0.9, true),
            (0.6, false),
            (0.45, true),
            (0.31, false),
            (0.3, false),
        ];
        let b = bands(&scored, 0.3);
        assert!(b.windows(2).all(|w| w[0].1 <= w[1].1), "{b:?}");
        assert_eq!(b[0].0, 0.3);
    }
}
