//! `cairn extract` and `cairn eval extraction`.
//!
//! `cairn extract PATH|-` prints a table of indicators (type, value, heading,
//! role, family, first line) and then the values suppressed as benign with
//! their reason. With `--json` it prints one JSON object per line:
//!
//! ```text
//! {"type":"ipv4","value":"1.13.82.101","original":"1.13.82[.]101","line":101,"column":1,
//!  "context":{"heading":"C2 IP Addresses (seen May to June 2023)","table_header":null,
//!             "role":"c2","family":null,"first_seen":"2023-05-01","last_seen":"2023-06-30"},
//!  "occurrences":[{"original":…,"line":…,"column":…,"context":{…}}, …]}
//! ```
//!
//! `original`, `line`, `column`, `page`, `context` and `rule` (present when a
//! rule typed an ambiguous form: "defanged: a domain", "line says imphash")
//! are those of the first occurrence; every indicator line has
//! `"kind":"indicator"`. Suppressed values are printed as the same object
//! plus `"suppressed": "<reason>"`, after the indicators, so a consumer that
//! wants only indicators drops objects that have that key. The report's own
//! TLP label is no indicator: it is printed after the table, or on stderr
//! with `--json`.
//!
//! Then what the prose says (unless `--no-prose`), one line per thing:
//!
//! ```text
//! {"kind":"technique","type":"technique","value":"T1574.001","name":"DLL",
//!  "sentence":"…","line":12,"confidence":0.83,"stance":"asserted","rule":"model",
//!  "mentions":[{"sentence":…,"line":…,"text":…,"confidence":…,"rule":…,"stance":…}, …]}
//! ```
//!
//! `kind` is `technique`, `software`, `group`, `country` or `sector`; the
//! reader is trained on the store's ATT&CK (docs/EXTRACTION.md). Exit
//! status: 0 when anything was found, 1 when nothing, 2 on error.

use crate::Global;
use crate::output::{json_line, table};
use anyhow::Context as _;
use cairn_extract::{Corpus, Document, Extractor, Options, builtin_corpus, evaluate};
use cairn_prose::{Finding, Knowledge, Reader, ReaderOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The report: a text, Markdown, HTML or PDF file, or `-` for stdin.
    #[arg(value_name = "PATH|-")]
    path: String,
    /// One JSON object per indicator (JSON lines).
    #[arg(long)]
    json: bool,
    /// Keep benign values (RFC 1918, example.com, …) among the indicators.
    #[arg(long)]
    keep_benign: bool,
    /// Indicators only: skip the techniques, software, groups and victims
    /// in the prose.
    #[arg(long)]
    no_prose: bool,
}

/// The prose reader trained on the store's ATT&CK, when a store exists
/// (extraction never creates one); without it, countries and sectors only.
fn reader(global: &Global) -> anyhow::Result<Reader> {
    let reader = if crate::db_path(global).exists() {
        cairn_engine::prose_reader(&crate::open_store(global)?)?
    } else {
        Reader::new(&Knowledge::default(), ReaderOptions::default())
    };
    if reader.technique_count() == 0 {
        eprintln!(
            "cairn: note: the store holds no ATT&CK techniques, so only countries and sectors are read from the prose; run `cairn ingest --starter` first"
        );
    }
    Ok(reader)
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let doc = if args.path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
        Document::from_bytes("-", &bytes)?
    } else {
        Document::from_path(std::path::Path::new(&args.path))?
    };
    let ex = Extractor::new(Options {
        keep_benign: args.keep_benign,
        // MISP warninglists the user ingested extend the built-in benign list.
        benign: crate::benign::from_existing_store(global)?,
        ..Options::default()
    });
    let reader = if args.no_prose {
        None
    } else {
        Some(reader(global)?)
    };
    let reading = cairn_engine::read_report(&ex, reader.as_ref(), &doc);
    let (out, findings) = (&reading.extraction, &reading.findings);
    for w in &out.warnings {
        eprintln!("cairn: warning: {w}");
    }
    if args.json
        && let Some(t) = &out.tlp
    {
        eprintln!("cairn: the report is marked TLP:{}", t.to_ascii_uppercase());
    }
    if args.json {
        // One buffered writer for all lines: a large report has 100k+. The
        // lines are the engine's, so the server's are the same bytes.
        let mut w = std::io::BufWriter::new(std::io::stdout().lock());
        cairn_engine::write_report_lines(&mut w, &reading)?;
        w.flush()?;
    } else {
        let dash = || "-".to_string();
        let rows: Vec<Vec<String>> = out
            .indicators
            .iter()
            .filter_map(|i| {
                let o = i.occurrences.first()?;
                let c = &o.context;
                Some(vec![
                    i.kind.to_string(),
                    i.value.clone(),
                    c.heading.clone().unwrap_or_else(dash),
                    c.role.clone().unwrap_or_else(dash),
                    c.family.clone().unwrap_or_else(dash),
                    match o.page {
                        Some(p) => format!("{} (p. {p})", o.line),
                        None => o.line.to_string(),
                    },
                ])
            })
            .collect();
        print!(
            "{}",
            table(
                &["TYPE", "VALUE", "HEADING", "ROLE", "FAMILY", "LINE"],
                &rows
            )
        );
        println!("{} indicators", out.indicators.len());
        if let Some(t) = &out.tlp {
            println!("the report is marked TLP:{}", t.to_ascii_uppercase());
        }
        if !out.suppressed.is_empty() {
            println!("\nsuppressed as benign:");
            let rows: Vec<Vec<String>> = out
                .suppressed
                .iter()
                .map(|s| {
                    vec![
                        s.kind.to_string(),
                        s.value.clone(),
                        s.reason.clone(),
                        s.occurrences
                            .first()
                            .map_or_else(String::new, |o| o.line.to_string()),
                    ]
                })
                .collect();
            print!("{}", table(&["TYPE", "VALUE", "REASON", "LINE"], &rows));
        }
        if !findings.is_empty() {
            println!("\nin the prose:");
            print!("{}", prose_table(findings));
        }
    }
    Ok(if out.indicators.is_empty() && findings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Findings as a table: kind, value, name, confidence, stance, line and
/// the start of the first sentence.
fn prose_table(findings: &[Finding]) -> String {
    let rows: Vec<Vec<String>> = findings
        .iter()
        .filter_map(|f| {
            let m = f.mentions.first()?;
            let sentence: String = m.sentence.chars().take(70).collect();
            Some(vec![
                f.kind.as_str().to_string(),
                f.value.clone(),
                f.name.clone(),
                format!("{:.2}", f.confidence),
                format!("{:?}", f.stance).to_lowercase(),
                m.line.to_string(),
                sentence,
            ])
        })
        .collect();
    table(
        &[
            "KIND", "VALUE", "NAME", "CONF", "STANCE", "LINE", "SENTENCE",
        ],
        &rows,
    )
}

/// Evaluation arguments.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// A corpus folder (documents beside `.expected` files of
    /// `type<TAB>value` lines); default: the corpus built into cairn.
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Floors every kind must meet; CI fails below them.
const MIN_RECALL: f64 = 0.99;
const MIN_PRECISION: f64 = 0.97;

pub fn run_eval(_global: &Global, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let corpus = match &args.corpus {
        Some(dir) => {
            Corpus::from_dir(dir).with_context(|| format!("loading corpus {}", dir.display()))?
        }
        None => builtin_corpus().context("loading the built-in corpus")?,
    };
    let report = evaluate(&Extractor::new(Options::default()), &corpus);
    let failures = report.failures(MIN_RECALL, MIN_PRECISION);
    if args.json {
        json_line(&serde_json::json!({
            "report": report,
            "floors": {"recall": MIN_RECALL, "precision": MIN_PRECISION},
            "failures": failures,
        }))?;
    } else {
        let rows: Vec<Vec<String>> = report
            .kinds
            .iter()
            .map(|k| {
                vec![
                    k.kind.to_string(),
                    k.expected.to_string(),
                    k.found.to_string(),
                    k.correct.to_string(),
                    format!("{:.3}", k.precision),
                    format!("{:.3}", k.recall),
                ]
            })
            .collect();
        print!(
            "{}",
            table(
                &[
                    "TYPE",
                    "EXPECTED",
                    "FOUND",
                    "CORRECT",
                    "PRECISION",
                    "RECALL"
                ],
                &rows
            )
        );
        println!(
            "overall: precision {:.3}, recall {:.3} over {} documents (floors: recall >= {MIN_RECALL}, precision >= {MIN_PRECISION} per type)",
            report.precision, report.recall, report.documents
        );
        for k in &report.kinds {
            for v in &k.false_positives {
                println!("  false positive {}: {v}", k.kind);
            }
            for v in &k.false_negatives {
                println!("  missed {}: {v}", k.kind);
            }
        }
        for f in &failures {
            println!("FAIL {f}");
        }
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Technique evaluation arguments.
#[derive(clap::Args)]
pub struct TechniqueEvalArgs {
    /// The ATT&CK Enterprise bundle (default: $CAIRN_DATASETS/attack/enterprise-attack-18.1.json,
    /// else ../shared/datasets/attack/… from the working directory or its parents).
    #[arg(long, value_name = "PATH")]
    attack: Option<PathBuf>,
    /// Percent of procedure sources (groups, software, campaigns) held out.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=90))]
    test_percent: u64,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Floors from the issue that set them: sentence-level F1, and report-level
/// recall at the same precision.
const MIN_SENTENCE_F1: f64 = 0.6;
const MIN_REPORT: f64 = 0.7;

pub fn run_technique_eval(args: TechniqueEvalArgs) -> anyhow::Result<ExitCode> {
    let Some(path) = args
        .attack
        .clone()
        .or_else(super::attribute::default_attack_path)
    else {
        anyhow::bail!(
            "no ATT&CK bundle found: pass --attack PATH or set CAIRN_DATASETS to the datasets folder"
        );
    };
    let bundle = cairn_intake::parse_path(&path, &cairn_intake::Options::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let knowledge = Knowledge::from_bundle(&bundle);
    let t0 = std::time::Instant::now();
    let e = cairn_prose::evaluate_techniques(
        &knowledge,
        cairn_prose::EvalOptions {
            test_percent: args.test_percent,
            ..cairn_prose::EvalOptions::default()
        },
    );
    let secs = t0.elapsed().as_secs_f64();
    let passed = e.sentence.f1 >= MIN_SENTENCE_F1
        && e.report.recall >= MIN_REPORT
        && e.report.precision >= MIN_REPORT;
    if args.json {
        json_line(&serde_json::json!({
            "attack": path.display().to_string(),
            "seconds": secs,
            "report": e,
            "floors": {"sentence_f1": MIN_SENTENCE_F1, "report_precision": MIN_REPORT, "report_recall": MIN_REPORT},
            "passed": passed,
        }))?;
    } else {
        println!(
            "{} techniques, {} procedure examples; held out: {} sources, {} examples; trained on {}; threshold {:.3}",
            e.techniques,
            e.procedures,
            e.test_sources,
            e.test_examples,
            e.train_procedures,
            e.threshold
        );
        let row = |name: &str, p: &cairn_prose::Prf| {
            vec![
                name.to_string(),
                format!("{:.3}", p.precision),
                format!("{:.3}", p.recall),
                format!("{:.3}", p.f1),
                p.true_positives.to_string(),
                p.false_positives.to_string(),
                p.false_negatives.to_string(),
            ]
        };
        print!(
            "{}",
            table(
                &["LEVEL", "PRECISION", "RECALL", "F1", "TP", "FP", "FN"],
                &[
                    row("sentence (exact)", &e.sentence),
                    row("sentence (parent)", &e.sentence_parent),
                    row(&format!("report ({} groups)", e.report_groups), &e.report),
                ]
            )
        );
        println!(
            "floors: sentence F1 >= {MIN_SENTENCE_F1}; report precision and recall >= {MIN_REPORT}: {}; {secs:.1}s",
            if passed { "met" } else { "NOT met" }
        );
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
