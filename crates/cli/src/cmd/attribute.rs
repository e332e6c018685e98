//! `cairn attribute` and `cairn eval attribution`.

use crate::Global;
use crate::output::{json_line, table};
use anyhow::Context;
use cairn_attribute::{Candidate, Corpus, Direction, EvalOptions, EvalReport, Evidence, Ranking};
use cairn_model::Bundle;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod report {
    //! `cairn attribute --report FILE`: a report read (indicators and prose) and
    //! attributed, the groups it names shown beside the inferred ranking.

    use super::{Args, corpus_files, render};
    use crate::Global;
    use crate::output::{json_line, table};
    use cairn_attribute::{Corpus, Evidence};
    use cairn_engine::{ReportAttribution, ReportModels, attribute_report, read_report};
    use cairn_extract::{Document, Extractor, Options};
    use cairn_prose::{Knowledge, Reader, ReaderOptions};
    use std::path::Path;
    use std::process::ExitCode;

    pub(super) fn run(global: &Global, args: &Args, path: &Path) -> anyhow::Result<ExitCode> {
        let doc = Document::from_path(path)?;
        let (models, benign) = if args.corpus.is_empty() {
            let store = crate::open_store(global)?;
            let models = cairn_engine::report_models(&store)
                .map_err(|e| anyhow::anyhow!("reading the knowledge base: {e}"))?;
            (models, crate::benign::from_store(&store)?)
        } else {
            let all = corpus_files(&args.corpus)?;
            let models = ReportModels {
                reader: Some(Reader::new(
                    &Knowledge::from_bundle(&all),
                    ReaderOptions::default(),
                )),
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
        let reading = read_report(&extractor, models.reader.as_ref(), &doc);
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
                    e.used
                        && !["technique", "software", "country", "sector"]
                            .contains(&e.kind.as_str())
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
}

/// Rank the groups that could be behind an intrusion from what was observed.
///
/// Exit 0 when there are candidates, 1 when none, 2 on error.
#[derive(clap::Args)]
pub struct Args {
    /// An ATT&CK technique seen (repeatable, or comma-separated): T1059.001; revoked ids such as T1086 are mapped.
    #[arg(
        long = "technique",
        short = 't',
        value_name = "ID",
        value_delimiter = ','
    )]
    techniques: Vec<String>,
    /// Malware or tool seen, by any name or alias (repeatable).
    #[arg(long = "software", short = 's', value_name = "NAME")]
    software: Vec<String>,
    /// An indicator seen: domain, IP, hash, certificate fingerprint; defanged is fine (repeatable).
    #[arg(long = "indicator", short = 'i', value_name = "VALUE")]
    indicators: Vec<String>,
    /// Victim country, ISO code or name (repeatable).
    #[arg(long = "country", value_name = "COUNTRY")]
    countries: Vec<String>,
    /// Victim sector (repeatable).
    #[arg(long = "sector", value_name = "SECTOR")]
    sectors: Vec<String>,
    /// When the incident happened: 2023, 2023-06 or 2023-06-14.
    #[arg(long, value_name = "DATE")]
    when: Option<String>,
    /// Techniques from an ATT&CK Navigator layer (JSON).
    #[arg(long, value_name = "PATH")]
    layer: Option<PathBuf>,
    /// Techniques, software, indicators and victims from a STIX bundle of incident data.
    #[arg(long, value_name = "PATH")]
    stix: Option<PathBuf>,
    /// Evidence from `cairn hunt --json` alerts or `cairn scan --json` findings (JSON lines).
    #[arg(long, value_name = "PATH")]
    alerts: Option<PathBuf>,
    /// Techniques from `cairn detect --json` detections (JSON lines), weighted by rule level and spread.
    #[arg(long, value_name = "PATH")]
    detections: Option<PathBuf>,
    /// A threat report (text, Markdown, HTML or PDF): its techniques,
    /// software, victims and known indicators are the evidence; the groups it
    /// names are listed beside the inferred ranking, never used by it.
    #[arg(long, value_name = "PATH", conflicts_with_all = [
        "techniques", "software", "indicators", "countries", "sectors",
        "layer", "stix", "alerts", "detections",
    ])]
    report: Option<PathBuf>,
    /// Build the corpus from these intel files (e.g. the ATT&CK bundle) instead of the store.
    #[arg(long = "corpus", value_name = "PATH")]
    corpus: Vec<PathBuf>,
    /// How many candidates to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// How many of the top candidates get their reasons printed.
    #[arg(long, default_value_t = 3)]
    explain: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.report {
        return report::run(global, &args, path);
    }
    let evidence = gather_evidence(&args)?;
    if evidence.is_empty() {
        anyhow::bail!(
            "no evidence given: use --technique, --software, --indicator, --country, --sector, --layer, --stix, --alerts or --detections"
        );
    }
    let corpus = if args.corpus.is_empty() {
        let store = crate::open_store(global)?;
        cairn_engine::corpus(&store)
            .map_err(|e| anyhow::anyhow!("reading the knowledge base: {e}"))?
    } else {
        Corpus::from_bundle(&corpus_files(&args.corpus)?)
    };
    if corpus.group_count() == 0 {
        anyhow::bail!(
            "the knowledge base holds no actors with techniques or software; ingest the ATT&CK bundle first (cairn ingest enterprise-attack.json)"
        );
    }
    let ranking = corpus.attribute(&evidence, args.top);
    if args.json {
        json_line(&ranking)?;
    } else {
        print!("{}", render(&ranking, &evidence, args.explain));
    }
    Ok(if ranking.candidates.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The intel files given with `--corpus`, as one bundle.
fn corpus_files(paths: &[PathBuf]) -> anyhow::Result<Bundle> {
    let mut all = Bundle::default();
    for p in paths {
        let b = cairn_intake::parse_path(p, &cairn_intake::Options::default())
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        all.objects.extend(b.objects);
        all.relations.extend(b.relations);
    }
    Ok(all)
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn gather_evidence(args: &Args) -> anyhow::Result<Evidence> {
    let mut ev = Evidence {
        techniques: args.techniques.clone(),
        software: args.software.clone(),
        indicators: args.indicators.clone(),
        countries: args.countries.clone(),
        sectors: args.sectors.clone(),
        when: None,
        ..Evidence::default()
    };
    if let Some(p) = &args.layer {
        ev.merge(
            Evidence::from_navigator_layer(&read(p)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        );
    }
    if let Some(p) = &args.stix {
        ev.merge(
            Evidence::from_stix_json(&read(p)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        );
    }
    if let Some(p) = &args.alerts {
        ev.merge(
            Evidence::from_alerts_jsonl(&read(p)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        );
    }
    if let Some(p) = &args.detections {
        ev.merge(
            Evidence::from_detections_jsonl(&read(p)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        );
    }
    if args.when.is_some() {
        ev.when = args.when.clone();
    }
    Ok(ev)
}

fn signed(w: f64) -> String {
    format!("{w:+.2}")
}

fn render(r: &Ranking, ev: &Evidence, explain: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Evidence: {} technique(s), {} software, {} indicator(s), {} alert(s), {} country(ies), {} sector(s){}; {} actor clusters considered.\n\n",
        ev.techniques.len(),
        ev.software.len(),
        ev.indicators.len(),
        ev.infrastructure.len(),
        ev.countries.len(),
        ev.sectors.len(),
        ev.when
            .as_deref()
            .map(|w| format!(", incident date {w}"))
            .unwrap_or_default(),
        r.considered
    ));
    if r.candidates.is_empty() {
        s.push_str("No candidate: no known actor shares any of this evidence.\n");
    } else {
        let rows: Vec<Vec<String>> = r
            .candidates
            .iter()
            .map(|c| {
                vec![
                    c.rank.to_string(),
                    c.actor.clone(),
                    c.attack_id.clone().unwrap_or_else(|| "-".into()),
                    format!("{:.2}", c.score),
                    if c.rank == 1 {
                        c.confidence.as_str().to_string()
                    } else {
                        String::new()
                    },
                    strongest(c),
                ]
            })
            .collect();
        s.push_str(&table(
            &[
                "#",
                "actor",
                "ATT&CK",
                "score",
                "confidence",
                "strongest evidence",
            ],
            &rows,
        ));
        for c in r.candidates.iter().take(explain) {
            s.push('\n');
            s.push_str(&reasons(c));
        }
    }
    let notes: Vec<_> = r.recognised.iter().filter(|x| x.note.is_some()).collect();
    if !notes.is_empty() {
        s.push_str("\nInterpreted:\n");
        for n in notes {
            s.push_str(&format!(
                "  {} {:?} → {} ({})\n",
                n.kind,
                n.input,
                n.resolved_as,
                n.note.as_deref().unwrap_or_default()
            ));
        }
    }
    if !r.unrecognised.is_empty() {
        s.push_str("\nNot used (unrecognised):\n");
        for u in &r.unrecognised {
            s.push_str(&format!("  {} {:?}: {}\n", u.kind, u.value, u.reason));
        }
    }
    s
}

fn strongest(c: &Candidate) -> String {
    c.evidence
        .iter()
        .filter(|e| e.for_or_against == Direction::For)
        .take(3)
        .map(|e| format!("{} {}", e.value, signed(e.weight)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn reasons(c: &Candidate) -> String {
    let mut s = format!(
        "#{} {}{} — score {:.2}{}\n",
        c.rank,
        c.actor,
        c.attack_id
            .as_deref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default(),
        c.score,
        if c.rank == 1 {
            format!(", confidence {}", c.confidence.as_str())
        } else {
            String::new()
        }
    );
    if !c.aliases.is_empty() {
        s.push_str(&format!("  also known as: {}\n", c.aliases.join(", ")));
    }
    if !c.attached.is_empty() {
        s.push_str(&format!("  attached actors: {}\n", c.attached.join(", ")));
    }
    for (dir, title) in [(Direction::For, "for"), (Direction::Against, "against")] {
        let items: Vec<_> = c
            .evidence
            .iter()
            .filter(|e| e.for_or_against == dir)
            .collect();
        if items.is_empty() {
            continue;
        }
        s.push_str(&format!("  {title}:\n"));
        for e in items.iter().take(12) {
            let lines = if e.lines.is_empty() {
                String::new()
            } else {
                let l: Vec<String> = e.lines.iter().take(5).map(u32::to_string).collect();
                format!(" [report line {}]", l.join(", "))
            };
            s.push_str(&format!(
                "    {:>6}  {:<19} {}  — {}{lines}\n",
                signed(e.weight),
                e.kind,
                e.value,
                e.detail
            ));
        }
        if items.len() > 12 {
            let rest: f64 = items[12..].iter().map(|e| e.weight).sum();
            s.push_str(&format!(
                "    {:>6}  ({} more)\n",
                signed(rest),
                items.len() - 12
            ));
        }
    }
    if let Some(other) = &c.distinguishing_against
        && !c.distinguishing.is_empty()
    {
        s.push_str(&format!("  versus {other}:\n"));
        for d in &c.distinguishing {
            s.push_str(&format!(
                "    {:<19} {}: {} here, {} there\n",
                d.kind,
                d.value,
                signed(d.this),
                signed(d.other)
            ));
        }
    }
    s
}

/// Measure attribution on ATT&CK: held-out campaigns and leave-out rounds,
/// beside Jaccard and cosine baselines. Exits 1 when the campaign floors
/// (top-1 ≥ Jaccard + 0.15, top-5 ≥ 0.5) are not met.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// The ATT&CK Enterprise bundle (default: $CAIRN_DATASETS/attack/enterprise-attack-18.1.json,
    /// else ../shared/datasets/attack/… from the working directory or its parents).
    #[arg(long, value_name = "PATH")]
    attack: Option<PathBuf>,
    /// Leave-out rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Print the full report as JSON.
    #[arg(long)]
    json: bool,
}

const ATTACK_FILE: &str = "attack/enterprise-attack-18.1.json";

/// Where the published datasets are, if anywhere.
pub(crate) fn default_attack_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CAIRN_DATASETS") {
        return Some(PathBuf::from(d).join(ATTACK_FILE));
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .flat_map(|a| [a.join("shared/datasets"), a.join("../shared/datasets")])
        .map(|d| d.join(ATTACK_FILE))
        .find(|p| p.is_file())
}

pub fn run_eval(_global: &Global, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let path = match args.attack.clone().or_else(default_attack_path) {
        Some(p) => p,
        None => anyhow::bail!(
            "no ATT&CK bundle found: pass --attack PATH or set CAIRN_DATASETS to the datasets folder"
        ),
    };
    let t0 = Instant::now();
    let bundle = cairn_intake::parse_path(&path, &cairn_intake::Options::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let corpus = Corpus::from_bundle(&bundle);
    let t_load = t0.elapsed();
    let t1 = Instant::now();
    let report = corpus.evaluate(&EvalOptions {
        rounds: args.rounds,
        ..EvalOptions::default()
    });
    let t_eval = t1.elapsed();
    if args.json {
        json_line(&serde_json::json!({
            "attack": path.display().to_string(),
            "load_seconds": t_load.as_secs_f64(),
            "eval_seconds": t_eval.as_secs_f64(),
            "report": report,
        }))?;
    } else {
        print!("{}", render_eval(&report, &path));
        println!(
            "\nLoaded in {:.2}s, evaluated in {:.2}s.",
            t_load.as_secs_f64(),
            t_eval.as_secs_f64()
        );
    }
    Ok(if report.floors.passed {
        ExitCode::SUCCESS
    } else {
        if !args.json {
            eprintln!("cairn: attribution floors not met");
        }
        ExitCode::from(1)
    })
}

fn render_eval(r: &EvalReport, path: &Path) -> String {
    let mut s = format!(
        "Attribution evaluation on {} ({} candidate groups)\n\n",
        path.display(),
        r.groups
    );
    let rows: Vec<Vec<String>> = r
        .protocols
        .iter()
        .flat_map(|p| {
            p.methods.iter().map(move |m| {
                vec![
                    p.protocol.clone(),
                    p.cases.to_string(),
                    m.method.clone(),
                    format!("{:.3}", m.top1),
                    format!("{:.3}", m.top3),
                    format!("{:.3}", m.top5),
                    format!("{:.3}", m.mrr),
                ]
            })
        })
        .collect();
    s.push_str(&table(
        &[
            "protocol", "cases", "method", "top-1", "top-3", "top-5", "MRR",
        ],
        &rows,
    ));
    s.push_str("\nConfidence bands (top-1 precision of Cairn's first candidate):\n");
    let rows: Vec<Vec<String>> = r
        .bands
        .iter()
        .map(|b| {
            vec![
                b.protocol.clone(),
                b.band.as_str().to_string(),
                b.cases.to_string(),
                format!("{:.3}", b.top1_precision),
            ]
        })
        .collect();
    s.push_str(&table(
        &["protocol", "band", "cases", "top-1 precision"],
        &rows,
    ));
    s.push_str("\nCampaigns:\n");
    let rows: Vec<Vec<String>> = r
        .campaigns
        .iter()
        .map(|c| {
            vec![
                c.campaign.clone(),
                c.group.clone(),
                c.evidence.to_string(),
                c.cairn_rank.to_string(),
                c.cairn_top.clone(),
                c.jaccard_rank.to_string(),
                c.cosine_rank.to_string(),
            ]
        })
        .collect();
    s.push_str(&table(
        &[
            "campaign", "group", "items", "cairn", "cairn #1", "jaccard", "cosine",
        ],
        &rows,
    ));
    s.push_str(&format!(
        "\nFloors on campaigns: top-1 {:.3} ≥ Jaccard {:.3} + 0.15, top-5 {:.3} ≥ 0.5: {}\n",
        r.floors.cairn_top1,
        r.floors.jaccard_top1,
        r.floors.cairn_top5,
        if r.floors.passed { "met" } else { "NOT MET" }
    ));
    s
}
