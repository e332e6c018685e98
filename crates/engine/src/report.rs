//! Reports read whole: indicators (cairn-extract) and what the prose says
//! (cairn-prose) from one document, and the report attributed with its
//! sentences as evidence. The CLI and the server both come through here.

use crate::corpus::CORPUS_KINDS;
use crate::errors::EngineError;
use cairn_attribute::{Corpus, Evidence, Ranking};
use cairn_extract::{Document, Extraction, Extractor, IndicatorKind};
use cairn_kb::Store;
use cairn_prose::{Finding, FindingKind, Knowledge, Mention, Reader, ReaderOptions, Stance};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// What the store knows, compiled for reading reports: the prose reader
/// (trained on the store's ATT&CK) and the attribution corpus.
pub struct ReportModels {
    /// The prose reader; `None` when the store holds no ATT&CK techniques.
    /// Shared: a server hands the same reader to extraction and attribution.
    pub reader: Option<Arc<Reader>>,
    /// The attribution corpus.
    pub corpus: Corpus,
}

impl ReportModels {
    /// The models from a reader and a corpus; the reader is left out when
    /// it knows no ATT&CK technique (nothing to attribute by).
    pub fn new(reader: Arc<Reader>, corpus: Corpus) -> ReportModels {
        ReportModels {
            reader: (reader.technique_count() > 0).then_some(reader),
            corpus,
        }
    }
}

/// Builds the reader and the corpus from what `store` lets its caller see.
/// The reader comes from the store's reader cache when it is current.
pub fn report_models(store: &Store) -> Result<ReportModels, EngineError> {
    let bundle = store.snapshot(&CORPUS_KINDS)?;
    // The corpus kinds include every kind the reader learns from, so a
    // reader trained here equals one trained on `KNOWLEDGE_KINDS` alone and
    // both may share the cache.
    let reader = cached_reader(store, || {
        Ok(Reader::new(
            &Knowledge::from_bundle(&bundle),
            ReaderOptions::default(),
        ))
    })?;
    Ok(ReportModels::new(
        Arc::new(reader),
        Corpus::from_bundle(&bundle),
    ))
}

/// The prose reader alone, for what `store` lets its caller see (an empty
/// store gives a reader that still finds countries and sectors): loaded from
/// the store's reader cache when current, else trained and cached.
pub fn prose_reader(store: &Store) -> Result<Reader, EngineError> {
    cached_reader(store, || {
        let bundle = store.snapshot(&cairn_prose::KNOWLEDGE_KINDS)?;
        Ok(Reader::new(
            &Knowledge::from_bundle(&bundle),
            ReaderOptions::default(),
        ))
    })
}

/// Training the reader takes seconds, loading it tens of milliseconds, so a
/// store's reader is saved beside the store (like the hunt index), one file
/// per TLP ceiling, keyed by the store's random id, its generation and the
/// ceiling. The cache only ever saves time: a cache that cannot be read is
/// trained over, one that cannot be written is left alone (a read-only
/// folder must not stop extraction).
fn cached_reader(
    store: &Store,
    train: impl FnOnce() -> Result<Reader, EngineError>,
) -> Result<Reader, EngineError> {
    let Some(path) = reader_cache_path(store) else {
        return train();
    };
    let tag = reader_cache_tag(store)?;
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(Some(reader)) = Reader::from_bytes(&bytes, &tag)
    {
        return Ok(reader);
    }
    let reader = train()?;
    // Written aside and renamed: a concurrent run never reads half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, reader.to_bytes(&tag)).is_ok() && std::fs::rename(&tmp, &path).is_err()
    {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(reader)
}

/// What a cached reader must have been trained from to be used.
fn reader_cache_tag(store: &Store) -> Result<String, EngineError> {
    Ok(format!(
        "store={};gen={};ceiling={:?}",
        store.store_id()?,
        store.generation()?,
        store.ceiling()
    ))
}

/// `cairn.db.prose.rdr` beside `cairn.db` (`cairn.db.prose-amber.rdr` for a
/// connection restricted to TLP:AMBER); `None` for a store in memory.
pub fn reader_cache_path(store: &Store) -> Option<PathBuf> {
    let p = store.path()?;
    let name = p.file_name()?.to_string_lossy().into_owned();
    let ceiling = store
        .ceiling()
        .map(|t| {
            let label = t.as_str().trim_start_matches("TLP:");
            format!("-{}", label.to_ascii_lowercase().replace('+', "-"))
        })
        .unwrap_or_default();
    Some(p.with_file_name(format!("{name}.prose{ceiling}.rdr")))
}

/// One report read: its indicators and its prose findings.
#[derive(Debug, Clone, Serialize)]
pub struct ReportReading {
    /// Indicators, suppressed values and warnings.
    pub extraction: Extraction,
    /// Techniques, software, groups, countries and sectors, in order of
    /// first mention.
    pub findings: Vec<Finding>,
}

/// Reads `doc`: indicators with `extractor`, prose with `reader` when given.
pub fn read_report(
    extractor: &Extractor,
    reader: Option<&Reader>,
    doc: &Document,
) -> ReportReading {
    ReportReading {
        extraction: extractor.extract(doc),
        findings: reader.map(|r| r.read(doc.text())).unwrap_or_default(),
    }
}

/// A group the report itself names.
#[derive(Debug, Clone, Serialize)]
pub struct NamedGroup {
    /// The group's name (ATT&CK's when it has one).
    pub name: String,
    /// Its ATT&CK id, else its name.
    pub value: String,
    /// Whether the report claims it, or only compares or negates.
    pub stance: Stance,
    /// Its rank in the inferred ranking, if it is there.
    pub inferred_rank: Option<usize>,
    /// The sentences naming it.
    pub mentions: Vec<Mention>,
}

/// One piece of evidence the report gave, with where it says so.
#[derive(Debug, Clone, Serialize)]
pub struct ReportEvidence {
    /// `technique`, `software`, `country`, `sector` or an indicator type.
    pub kind: String,
    /// `T1574.002`, `S0596`, `TW`, `government`, `1.2.3.4`.
    pub value: String,
    /// Display name.
    pub name: String,
    /// The reader's confidence (1.0 for an indicator as written).
    pub confidence: f64,
    /// Whether it was given to attribution (asserted, confident enough).
    pub used: bool,
    /// Lines of the sentences (or indicator occurrences), first first.
    pub lines: Vec<u32>,
    /// The first sentence saying it.
    pub sentence: String,
}

/// A report's attribution: the inferred ranking (which never reads the
/// group names in the report), the groups the report names beside it so
/// one can be checked against the other, and the evidence with its lines.
#[derive(Debug, Clone, Serialize)]
pub struct ReportAttribution {
    /// The ranking, as `cairn attribute --json` prints it; each
    /// contribution's `lines` point at the report's sentences.
    #[serde(flatten)]
    pub ranking: Ranking,
    /// Groups the report claims, with the sentences.
    pub named_in_report: Vec<NamedGroup>,
    /// Groups the report only compares with or negates.
    pub mentioned_not_claimed: Vec<NamedGroup>,
    /// Everything read from the report, used or not.
    pub evidence: Vec<ReportEvidence>,
}

/// How confident a technique must be to count as evidence.
pub const MIN_TECHNIQUE_CONFIDENCE: f64 = 0.5;

/// Attributes a report from its techniques (weighted by confidence),
/// software, victim countries and sectors, and its indicators known to the
/// store. Group names in the report are kept apart from the inference.
pub fn attribute_report(corpus: &Corpus, reading: &ReportReading, top: usize) -> ReportAttribution {
    let mut ev = Evidence::default();
    let mut evidence = Vec::new();
    for f in &reading.findings {
        if f.kind == FindingKind::Group {
            continue;
        }
        let used = f.stance == Stance::Asserted
            && (f.kind != FindingKind::Technique || f.confidence >= MIN_TECHNIQUE_CONFIDENCE);
        if used {
            match f.kind {
                FindingKind::Technique => {
                    ev.techniques.push(f.value.clone());
                    ev.technique_weights.insert(f.value.clone(), f.confidence);
                }
                FindingKind::Software => ev.software.push(f.name.clone()),
                FindingKind::Country => ev.countries.push(f.value.clone()),
                FindingKind::Sector => ev.sectors.push(f.value.clone()),
                FindingKind::Group => {}
            }
        }
        evidence.push(ReportEvidence {
            kind: f.kind.as_str().to_string(),
            value: f.value.clone(),
            name: f.name.clone(),
            confidence: f.confidence,
            used,
            lines: f.mentions.iter().map(|m| m.line).collect(),
            sentence: f
                .mentions
                .first()
                .map(|m| m.sentence.clone())
                .unwrap_or_default(),
        });
    }
    for x in &reading.extraction.indicators {
        let lines = x.occurrences.iter().map(|o| o.line).collect();
        if x.kind == IndicatorKind::Technique {
            // Technique ids were read from the prose already.
            continue;
        }
        ev.indicators.push(x.value.clone());
        evidence.push(ReportEvidence {
            kind: x.kind.as_str().to_string(),
            value: x.value.clone(),
            name: x.value.clone(),
            confidence: 1.0,
            used: true,
            lines,
            sentence: String::new(),
        });
    }
    let mut ranking = corpus.attribute(&ev, top);
    for c in &mut ranking.candidates {
        for contribution in &mut c.evidence {
            contribution.lines = lines_for(&contribution.kind, &contribution.value, &evidence);
        }
    }
    let (mut named, mut other) = (Vec::new(), Vec::new());
    for f in reading
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Group)
    {
        let inferred_rank = ranking
            .candidates
            .iter()
            .find(|c| {
                c.attack_id.as_deref() == Some(f.value.as_str())
                    || c.actor.eq_ignore_ascii_case(&f.name)
                    || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(&f.name))
            })
            .map(|c| c.rank);
        let g = NamedGroup {
            name: f.name.clone(),
            value: f.value.clone(),
            stance: f.stance,
            inferred_rank,
            mentions: f.mentions.clone(),
        };
        if f.stance == Stance::Asserted {
            named.push(g);
        } else {
            other.push(g);
        }
    }
    ReportAttribution {
        ranking,
        named_in_report: named,
        mentioned_not_claimed: other,
        evidence,
    }
}

/// The report lines behind one contribution: its value starts with the
/// evidence key (`T1574.002 DLL Side-Loading`, `TW Taiwan`) or names the
/// software (`ShadowPad (S0596)`).
fn lines_for(kind: &str, value: &str, evidence: &[ReportEvidence]) -> Vec<u32> {
    let key = value.split_whitespace().next().unwrap_or(value);
    let mut lines: Vec<u32> = evidence
        .iter()
        .filter(|e| e.used)
        .filter(|e| match kind {
            "technique" => e.kind == "technique" && e.value == key,
            "parent-technique" => e.kind == "technique" && e.value.split('.').next() == Some(key),
            "software" | "software-techniques" => {
                e.kind == "software"
                    && (value.starts_with(&e.name) || value.contains(&format!("({})", e.value)))
            }
            "country" | "sector" => e.kind == kind && e.value.eq_ignore_ascii_case(key),
            "indicator" | "infrastructure" => e.value == key || value.contains(&e.value),
            _ => false,
        })
        .flat_map(|e| e.lines.iter().copied())
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// The group a report's statements are linked to by `--actor auto`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActorChoice {
    /// The group's name.
    pub name: String,
    /// `named in the report (line N)` or `inferred (confidence …, score …)`.
    pub how: String,
    /// Confidence (0–100) for the statements: 90 when the report names the
    /// group; for an inferred one, by the ranking's confidence band
    /// (high 70, moderate 40, low 15).
    pub confidence: u8,
}

/// The group the report names most often (claims only), else the top
/// inferred candidate; `None` when there is neither.
pub fn choose_actor(att: &ReportAttribution) -> Option<ActorChoice> {
    if let Some(g) = att.named_in_report.iter().max_by_key(|g| {
        (
            g.mentions.len(),
            std::cmp::Reverse(g.mentions.first().map(|m| m.line)),
        )
    }) {
        return Some(ActorChoice {
            name: g.name.clone(),
            how: format!(
                "named in the report (line {})",
                g.mentions.first().map_or(0, |m| m.line)
            ),
            confidence: 90,
        });
    }
    let top = att.ranking.candidates.first()?;
    let confidence = match top.confidence.as_str() {
        "high" => 70,
        "moderate" => 40,
        _ => 15,
    };
    Some(ActorChoice {
        name: top.actor.clone(),
        how: format!(
            "inferred (confidence {}, score {:.2})",
            top.confidence.as_str(),
            top.score
        ),
        confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Bundle, Object, Provenance, Tlp};

    fn bundle(source: &str, objects: &[(&str, &str, &str, &str, Tlp)]) -> Bundle {
        Bundle {
            source: source.into(),
            format: "stix".into(),
            objects: objects
                .iter()
                .map(|(id, kind, name, ext, tlp)| Object {
                    id: (*id).into(),
                    kind: (*kind).into(),
                    name: Some((*name).into()),
                    external_id: Some((*ext).into()),
                    prov: Provenance {
                        source: source.into(),
                        tlp: *tlp,
                        ..Provenance::default()
                    },
                    ..Object::default()
                })
                .collect(),
            ..Bundle::default()
        }
    }

    const TEXT: &str = "Earth Lusca and APT41 used DLL Side-Loading (T1574.002) in Taiwan.";

    fn groups(r: &Reader) -> Vec<String> {
        r.read(TEXT)
            .into_iter()
            .filter(|f| f.kind == cairn_prose::FindingKind::Group)
            .map(|f| f.name)
            .collect()
    }

    #[test]
    fn the_reader_cache_is_per_store_generation_and_ceiling() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("kb.db");
        let mut full = Store::open(&db).expect("store");
        full.ingest(
            &bundle(
                "attack",
                &[
                    (
                        "attack-pattern--00000000-0000-4000-8000-000000000001",
                        "attack-pattern",
                        "DLL Side-Loading",
                        "T1574.002",
                        Tlp::Clear,
                    ),
                    (
                        "intrusion-set--00000000-0000-4000-8000-000000000002",
                        "intrusion-set",
                        "APT41",
                        "G0096",
                        Tlp::Red,
                    ),
                ],
            ),
            None,
            None,
        )
        .expect("ingest");

        let path = reader_cache_path(&full).expect("on disk");
        assert!(!path.exists());
        let trained = prose_reader(&full).expect("reader");
        assert_eq!(groups(&trained), ["APT41"]);
        let saved = std::fs::read(&path).expect("cached");
        let loaded = prose_reader(&full).expect("reader");
        assert_eq!(loaded.read(TEXT), trained.read(TEXT));
        // Loaded, not retrained: a cached reader with the current tag is
        // used as it is, even one that knows no groups.
        let blank = Reader::new(&Knowledge::default(), ReaderOptions::default());
        let tag = reader_cache_tag(&full).expect("tag");
        std::fs::write(&path, blank.to_bytes(&tag)).expect("write");
        assert!(groups(&prose_reader(&full).expect("reader")).is_empty());
        std::fs::write(&path, &saved).expect("write");

        // A restricted connection never sees the full store's reader.
        let mut amber = Store::open_existing(&db).expect("store");
        amber.restrict(Tlp::Amber).expect("restrict");
        let amber_path = reader_cache_path(&amber).expect("on disk");
        assert_ne!(amber_path, path);
        assert!(groups(&prose_reader(&amber).expect("reader")).is_empty());
        assert!(amber_path.exists());

        // A new generation retrains: the new group is read.
        full.ingest(
            &bundle(
                "notes",
                &[(
                    "intrusion-set--00000000-0000-4000-8000-000000000003",
                    "intrusion-set",
                    "Earth Lusca",
                    "G1006",
                    Tlp::Green,
                )],
            ),
            None,
            None,
        )
        .expect("ingest");
        let mut g = groups(&prose_reader(&full).expect("reader"));
        g.sort();
        assert_eq!(g, ["APT41", "Earth Lusca"]);
        assert_ne!(std::fs::read(&path).expect("cached"), saved);

        // A damaged cache is trained over.
        std::fs::write(&path, b"CAIRNRDR\x01\x00\x00\x00garbage").expect("write");
        assert_eq!(groups(&prose_reader(&full).expect("reader")).len(), 2);
        assert!(std::fs::read(&path).expect("cached").len() > 100);
    }
}
