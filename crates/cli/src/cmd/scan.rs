//! `cairn scan`: files, folders, zip archives and stdin — who signed each
//! file, whether its hashes, its signers' certificates or YARA rules are
//! known, and to which actors they point. Exit status like grep: 0 when
//! something matched, 1 when nothing did, 2 when a file could not be read.
//! The work is `cairn_scan` (reading) and the engine's `FileMatcher`
//! (judging); this module parses arguments and prints.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use cairn_engine::{FileMatcher, Finding, FindingKind, RuleOrigin, scan_files};
use cairn_scan::{Input, Plan, ScanOptions};

use crate::Global;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Files, folders (read recursively), zip archives (opened) or `-` for stdin.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// JSON lines on stdout, one finding per line (the summary goes to stderr).
    #[arg(long)]
    json: bool,
    /// YARA rule files to run besides the store's (needs a build with `--features yara`).
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Do not run the YARA rules kept in the store.
    #[arg(long)]
    no_store_rules: bool,
    /// Write matches back to the store as sightings.
    #[arg(long)]
    record: bool,
    /// Files and archive entries larger than this are hashed only.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    max_size: u64,
    /// Archives inside archives are opened down to this depth.
    #[arg(long, default_value_t = 3)]
    max_depth: usize,
    /// Bytes inflated out of one archive, all depths together.
    #[arg(long, default_value_t = 4 << 30, value_name = "BYTES")]
    max_archive_total: u64,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Compute MD5, SHA-1 and the Authenticode hash of every file, even
    /// when the store holds no indicator of that kind (by default only
    /// SHA-256 and the hashes the store could match).
    #[arg(long)]
    all_hashes: bool,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut store = crate::open_store(global)?;
    let inputs: Vec<Input> = args
        .paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                Input::Stdin
            } else {
                Input::Path(p.clone())
            }
        })
        .collect();
    let mut opts = ScanOptions {
        max_file_size: args.max_size,
        max_depth: args.max_depth,
        max_archive_total: args.max_archive_total,
        threads: args.threads,
        ..ScanOptions::default()
    };
    let origins = rules(&store, &args, &mut opts)?;
    let plan = Plan::new(&inputs);
    let bar = progress(global, plan.len() as u64);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut broken = false;
    let mut matcher = FileMatcher::new(&store, origins);
    if !args.all_hashes {
        opts.hashing = matcher.hashing()?;
    }
    let outcome = scan_files(&mut matcher, &plan, &opts, &mut |report, findings| {
        if !report.file.contains('!') {
            bar.inc(1);
        }
        if broken {
            return;
        }
        let mut buf = Vec::new();
        for f in &findings {
            if args.json {
                let _ = serde_json::to_writer(&mut buf, f);
                buf.push(b'\n');
            } else {
                human(&mut buf, f);
            }
        }
        if !buf.is_empty() && bar.suspend(|| out.write_all(&buf)).is_err() {
            broken = true;
        }
    })?;
    let _ = out.flush();
    bar.finish_and_clear();
    let sightings = matcher.sightings();
    drop(matcher);
    if args.record && !sightings.is_empty() {
        let n = store.record_sightings(&sightings)?;
        eprintln!("cairn: recorded {n} sighting(s)");
    }
    let s = &outcome.summary;
    eprintln!(
        "cairn: scanned {} file(s), {} bytes: {} signed, {} match(es) in {} file(s), {} unreadable",
        s.files, s.bytes, s.signed, outcome.matches, outcome.files_matched, outcome.unreadable
    );
    Ok(if outcome.unreadable > 0 {
        ExitCode::from(2)
    } else if outcome.matches > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn progress(global: &Global, total: u64) -> indicatif::ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() || total < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(total);
    b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} scanning {pos}/{len} files [{bar:30}] eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b
}

/// YARA rules for the scan: the store's rule files and `--rules`, compiled
/// once; their namespaces mapped to where they came from.
#[cfg(feature = "yara")]
fn rules(
    store: &cairn_kb::Store,
    args: &Args,
    opts: &mut ScanOptions,
) -> anyhow::Result<HashMap<String, RuleOrigin>> {
    let mut sources = Vec::new();
    let mut origins = HashMap::new();
    if !args.no_store_rules {
        for f in store.yara_rule_files()? {
            let ns = format!("store:{}", f.key);
            origins.insert(ns.clone(), RuleOrigin::Store(f.key));
            sources.push(cairn_yara::RuleSource::new(ns, f.text));
        }
    }
    for p in &args.rules {
        let text =
            std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        let origin = p.display().to_string();
        sources.push(cairn_yara::RuleSource::new(origin, text));
    }
    if sources.is_empty() {
        return Ok(origins);
    }
    let (compiled, report) = cairn_yara::Rules::compile(&sources)?;
    // Matches name the namespace a source went into; findings want where
    // the source came from.
    let mut by_namespace = HashMap::new();
    for (ns, src) in report.namespaces.iter().zip(&sources) {
        let origin = match origins.get(&src.origin) {
            Some(o) => o.clone(),
            None => RuleOrigin::File(src.origin.clone()),
        };
        by_namespace.insert(ns.clone(), origin);
    }
    for f in &report.failed {
        eprintln!("cairn: YARA rules not loaded: {f}");
    }
    if !report.warnings.is_empty() {
        eprintln!(
            "cairn: {} YARA rules loaded from {} file(s), {} compiler warning(s)",
            report.loaded_rules,
            sources.len(),
            report.warnings.len()
        );
    }
    opts.rules = Some(std::sync::Arc::new(compiled));
    Ok(by_namespace)
}

#[cfg(not(feature = "yara"))]
fn rules(
    store: &cairn_kb::Store,
    args: &Args,
    _opts: &mut ScanOptions,
) -> anyhow::Result<HashMap<String, RuleOrigin>> {
    if !args.rules.is_empty() {
        anyhow::bail!(
            "this cairn was built without YARA: rebuild with `cargo build --release --features yara` to use --rules"
        );
    }
    if !args.no_store_rules && !store.yara_rule_files()?.is_empty() {
        eprintln!(
            "cairn: the store's YARA rules are not run: this cairn was built without YARA (`--features yara`)"
        );
    }
    Ok(HashMap::new())
}

/// One finding as a line for a person.
fn human(out: &mut Vec<u8>, f: &Finding) {
    let kind = match f.kind {
        FindingKind::Certificate => "CERTIFICATE",
        FindingKind::Hash => "HASH",
        FindingKind::Yara => "YARA",
        FindingKind::Signed => "signed",
        FindingKind::Error => "error",
    };
    let _ = write!(out, "{}  {kind}", f.file);
    if let Some(m) = &f.matched {
        let _ = write!(out, "  {} {}", m.on, m.value);
        if let Some(s) = &m.strength {
            let _ = write!(out, " ({s})");
        }
        if !m.families.is_empty() {
            let _ = write!(out, "  families: {}", m.families.join(", "));
        }
        if let Some(r) = &m.rule {
            let _ = write!(out, "  [{}]", r.namespace);
        }
        if let Some(t) = &m.timing {
            let _ = write!(out, "\n    {t}");
        }
    }
    for s in &f.signatures {
        let who = s
            .subject
            .as_deref()
            .unwrap_or("(signer certificate missing)");
        let digest = match s.digest_ok {
            Some(true) => "digest ok",
            Some(false) => "DIGEST MISMATCH",
            None => "digest not checked",
        };
        let when = match (&s.signing_time, s.signing_time_source) {
            (Some(t), Some(cairn_codesign::TimeSource::Claimed)) => {
                format!("claims {t} (not timestamped)")
            }
            (Some(t), _) => format!("timestamped {t}"),
            (None, _) => "not timestamped".into(),
        };
        let _ = write!(
            out,
            "\n    signature {}: {who}, serial {}, {digest}, {when}",
            s.index,
            s.serial.as_deref().unwrap_or("?")
        );
    }
    if !f.actors.is_empty() {
        let actors: Vec<String> = f
            .actors
            .iter()
            .map(|a| format!("{} ({})", a.name, a.via))
            .collect();
        let _ = write!(out, "\n    actors: {}", actors.join(", "));
    }
    if !f.sources.is_empty() {
        let mut names: Vec<&str> = f.sources.iter().map(|s| s.source.as_str()).collect();
        names.dedup();
        let _ = write!(out, "\n    sources: {}", names.join(", "));
    }
    for n in &f.notes {
        let _ = write!(out, "\n    note: {n}");
    }
    if let Some(e) = &f.error {
        let _ = write!(out, "\n    error: {e}");
    }
    out.push(b'\n');
}
