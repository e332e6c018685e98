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

/// What the store knows, compiled for reading reports: the prose reader
/// (trained on the store's ATT&CK) and the attribution corpus, from one
/// snapshot.
pub struct ReportModels {
    /// The prose reader; `None` when the store holds no ATT&CK techniques.
    pub reader: Option<Reader>,
    /// The attribution corpus.
    pub corpus: Corpus,
}

/// Builds the reader and the corpus from what `store` lets its caller see.
pub fn report_models(store: &Store) -> Result<ReportModels, EngineError> {
    let bundle = store.snapshot(&CORPUS_KINDS)?;
    let knowledge = Knowledge::from_bundle(&bundle);
    let reader = (knowledge.technique_count() > 0)
        .then(|| Reader::new(&knowledge, ReaderOptions::default()));
    Ok(ReportModels {
        reader,
        corpus: Corpus::from_bundle(&bundle),
    })
}

/// The prose reader alone, trained on what `store` lets its caller see (an
/// empty store gives a reader that still finds countries and sectors).
pub fn prose_reader(store: &Store) -> Result<Reader, EngineError> {
    let bundle = store.snapshot(&cairn_prose::KNOWLEDGE_KINDS)?;
    Ok(Reader::new(
        &Knowledge::from_bundle(&bundle),
        ReaderOptions::default(),
    ))
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
