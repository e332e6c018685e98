//! `cairn attribute --report FILE`: a report read (indicators and prose) and
//! attributed, the groups it names shown beside the inferred ranking.

use super::render::render;
use crate::Global;
use crate::output::{json_line, table};
use cairn_attribute::{Corpus, Evidence};
use cairn_engine::{ReportAttribution, ReportModels, attribute_report, read_report};
use cairn_extract::{Document, Extractor, Options};
use cairn_model::Bundle;
use cairn_prose::{Knowledge, Reader, ReaderOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// How the report is attributed: `--corpus` files instead of the store,
/// `--top`, `--json`, `--explain`.
pub(super) struct ReportArgs<'a> {
    pub(super) corpus: &'a [PathBuf],
    pub(super) top: usize,
    pub(super) json: bool,
    pub(super) explain: usize,
}

pub(super) fn run(global: &Global, args: &ReportArgs<'_>, path: &Path) -> anyhow::Result<ExitCode> {
    let doc = Document::from_path(path)?;
    let (models, benign) = if args.corpus.is_empty() {
        let store = crate::open_store(global)?;
        let models = cairn_engine::report_models(&store)
            .map_err(|e| anyhow::anyhow!("reading the knowledge base: {e}"))?;
        (models, crate::benign::from_store(&store)?)
    } else {
        let all = corpus_files(args.corpus)?;
        let models = ReportModels {
            reader: Some(Arc::new(Reader::new(
                &Knowledge::from_bundle(&all),
                ReaderOptions::default(),
            ))),
            corpus: Corpus::from_bundle(&all),
        };
        (models, None)
    };
    if models.corpus.group_count() == 0 || models.reader.is_none() {
        anyhow::bail!(
            "the knowledge base holds no ATT&CK groups and techniques; ingest them first (cairn ingest --starter)"
        );
    }
    let extractor = Extractor::new(Options {
        benign,
        ..Options::default()
    });
    let reading = read_report(&extractor, models.reader.as_deref(), &doc);
    for w in &reading.extraction.warnings {
        eprintln!("cairn: warning: {w}");
    }
    let att = attribute_report(&models.corpus, &reading, args.top);
    if args.json {
        json_line(&att)?;
    } else {
        print!(
            "{}",
            render_report(&att, &path.display().to_string(), args.explain)
        );
    }
    Ok(
        if att.ranking.candidates.is_empty() && att.named_in_report.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// Named groups first, then the inferred ranking with report lines, then
/// what was read and not used.
fn render_report(att: &ReportAttribution, file: &str, explain: usize) -> String {
    let mut s = format!("Report: {file}\n\n");
    if att.named_in_report.is_empty() {
        s.push_str("Named in the report: no group.\n");
    } else {
        s.push_str("Named in the report (not used by the inference below):\n");
        for g in &att.named_in_report {
            let rank = g.inferred_rank.map_or_else(
                || "not among the inferred candidates".to_string(),
                |r| format!("inferred rank #{r}"),
            );
            s.push_str(&format!(
                "  {} ({}) — {rank}; {}\n",
                g.name,
                g.value,
                first_sentence(g)
            ));
        }
    }
    for g in &att.mentioned_not_claimed {
        s.push_str(&format!(
            "  also mentioned ({:?}, not a claim): {} — {}\n",
            g.stance,
            g.name,
            first_sentence(g)
        ));
    }
    s.push_str("\nInferred from the report's techniques, software, victims and indicators:\n");
    let count = |k: &str| {
        att.evidence
            .iter()
            .filter(|e| e.used && e.kind == k)
            .map(|e| e.value.clone())
            .collect::<Vec<_>>()
    };
    let ev = Evidence {
        techniques: count("technique"),
        software: count("software"),
        countries: count("country"),
        sectors: count("sector"),
        indicators: att
            .evidence
            .iter()
            .filter(|e| {
                e.used && !["technique", "software", "country", "sector"].contains(&e.kind.as_str())
            })
            .map(|e| e.value.clone())
            .collect(),
        ..Evidence::default()
    };
    s.push_str(&render(&att.ranking, &ev, explain));
    let prose: Vec<Vec<String>> = att
        .evidence
        .iter()
        .filter(|e| ["technique", "software", "country", "sector"].contains(&e.kind.as_str()))
        .map(|e| {
            vec![
                e.kind.clone(),
                e.value.clone(),
                e.name.clone(),
                format!("{:.2}", e.confidence),
                if e.used { "yes" } else { "no" }.to_string(),
                e.lines.first().map_or_else(String::new, u32::to_string),
                short(&e.sentence),
            ]
        })
        .collect();
    if !prose.is_empty() {
        s.push_str("\nRead from the prose:\n");
        s.push_str(&table(
            &["KIND", "VALUE", "NAME", "CONF", "USED", "LINE", "SENTENCE"],
            &prose,
        ));
    }
    s
}

/// `line N: <the first sentence naming the group, shortened>`.
fn first_sentence(g: &cairn_engine::NamedGroup) -> String {
    let first = g.mentions.first();
    format!(
        "line {}: {}",
        first.map_or(0, |m| m.line),
        first.map(|m| short(&m.sentence)).unwrap_or_default()
    )
}

fn short(sentence: &str) -> String {
    let mut t: String = sentence.chars().take(90).collect();
    if t.len() < sentence.len() {
        t.push('…');
    }
    t
}

/// The intel files given with `--corpus`, as one bundle.
pub(super) fn corpus_files(paths: &[PathBuf]) -> anyhow::Result<Bundle> {
    let mut all = Bundle::default();
    for p in paths {
        let b = cairn_intake::parse_path(p, &cairn_intake::Options::default())
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        all.objects.extend(b.objects);
        all.relations.extend(b.relations);
    }
    Ok(all)
}
