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
//! are those of the first occurrence. Suppressed values are printed as the
//! same object plus `"suppressed": "<reason>"`, after the indicators, so a
//! consumer that wants only indicators drops objects that have that key.
//! The report's own TLP label is no indicator: it is printed after the
//! table, or on stderr with `--json`. Exit status: 0 when indicators were
//! found, 1 when none, 2 on error.

use crate::Global;
use crate::output::{json_line, table};
use anyhow::Context as _;
use cairn_extract::{Corpus, Document, Extractor, Occurrence, Options, builtin_corpus, evaluate};
use serde::Serialize;
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
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    value: &'a str,
    #[serde(flatten)]
    first: &'a Occurrence,
    occurrences: &'a [Occurrence],
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<&'a str>,
}

fn put(w: &mut impl Write, l: &Line<'_>) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *w, l)?;
    w.write_all(b"\n")?;
    Ok(())
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
    let out = ex.extract(&doc);
    for w in &out.warnings {
        eprintln!("cairn: warning: {w}");
    }
    if args.json
        && let Some(t) = &out.tlp
    {
        eprintln!("cairn: the report is marked TLP:{}", t.to_ascii_uppercase());
    }
    if args.json {
        // One buffered writer for all lines: a large report has 100k+.
        let mut w = std::io::BufWriter::new(std::io::stdout().lock());
        for i in &out.indicators {
            if let Some(first) = i.occurrences.first() {
                put(
                    &mut w,
                    &Line {
                        kind: i.kind.as_str(),
                        value: &i.value,
                        first,
                        occurrences: &i.occurrences,
                        suppressed: None,
                    },
                )?;
            }
        }
        for s in &out.suppressed {
            if let Some(first) = s.occurrences.first() {
                put(
                    &mut w,
                    &Line {
                        kind: s.kind.as_str(),
                        value: &s.value,
                        first,
                        occurrences: &s.occurrences,
                        suppressed: Some(&s.reason),
                    },
                )?;
            }
        }
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
    }
    Ok(if out.indicators.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
