//! `cairn attribute` and `cairn eval attribution`.

use crate::Global;
use crate::output::{json_line, table};
use anyhow::Context;
use cairn_attribute::{Corpus, EvalOptions, EvalReport, Evidence};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod render;
mod report;

use render::render;

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
        return report::run(
            global,
            &report::ReportArgs {
                corpus: &args.corpus,
                top: args.top,
                json: args.json,
                explain: args.explain,
            },
            path,
        );
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
        Corpus::from_bundle(&report::corpus_files(&args.corpus)?)
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
