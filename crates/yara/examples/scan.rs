//! Compiles YARA rule files, scans every file under the given paths on a few
//! threads, and prints how many rules matched and how long it took. Used by
//! `bench/yara.sh`.
//!
//! ```text
//! cargo run --release -p cairn-yara --example scan -- \
//!     [-p THREADS] [-v] -r RULES.yar [-r MORE.yar …] PATH…
//! ```
//!
//! `-v` prints each match as `namespace:rule path`.

use cairn_yara::{RuleSource, Rules};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Args {
    rules: Vec<PathBuf>,
    paths: Vec<PathBuf>,
    threads: usize,
    verbose: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rules: Vec::new(),
        paths: Vec::new(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        verbose: false,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("-r" | "--rules") => {
                args.rules
                    .push(it.next().ok_or("-r needs a rule file")?.into());
            }
            Some("-p" | "--threads") => {
                let n = it.next().ok_or("-p needs a number")?;
                args.threads = n
                    .to_str()
                    .and_then(|s| s.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("-p: not a positive number: {n:?}"))?;
            }
            Some("-v" | "--verbose") => args.verbose = true,
            _ => args.paths.push(arg.into()),
        }
    }
    if args.rules.is_empty() || args.paths.is_empty() {
        return Err("usage: scan [-p THREADS] [-v] -r RULES.yar [-r …] PATH…".to_owned());
    }
    Ok(args)
}

// Every regular file under `path`, depth first, in name order.
fn walk(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            walk(&entry, out)?;
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();

    let mut sources = Vec::new();
    for path in &args.rules {
        match std::fs::read_to_string(path) {
            Ok(text) => sources.push(RuleSource::new(path.display().to_string(), text)),
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let (rules, report) = match Rules::compile(&sources) {
        Ok(compiled) => compiled,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for failure in &report.failed {
        eprintln!("{failure}");
    }
    let compiled = started.elapsed();

    let mut files = Vec::new();
    for path in &args.paths {
        if let Err(e) = walk(path, &mut files) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }

    let next = AtomicUsize::new(0);
    let matches = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..args.threads.min(files.len().max(1)) {
            s.spawn(|| {
                let mut scanner = rules.scanner();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = std::fs::read(file)
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| scanner.scan(&bytes).map_err(|e| e.to_string()));
                    match result {
                        Ok(found) => {
                            matches.fetch_add(found.len(), Ordering::Relaxed);
                            if args.verbose {
                                // One lock per file: its lines stay together.
                                let mut out = std::io::stdout().lock();
                                for m in &found {
                                    let _ = writeln!(
                                        out,
                                        "{}:{} {}",
                                        m.namespace,
                                        m.rule,
                                        file.display()
                                    );
                                }
                            }
                        }
                        Err(e) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            eprintln!("{}: {e}", file.display());
                        }
                    }
                }
            });
        }
    });
    let total = started.elapsed();

    println!(
        "rules: {} loaded, {} error(s), {} warning(s); files: {} scanned, {} error(s); matches: {}; \
         threads: {}; compile: {:.3}s, scan: {:.3}s, elapsed: {:.3}s",
        report.loaded_rules,
        report.failed.len(),
        report.warnings.len(),
        files.len(),
        errors.load(Ordering::Relaxed),
        matches.load(Ordering::Relaxed),
        args.threads,
        compiled.as_secs_f64(),
        (total - compiled).as_secs_f64(),
        total.as_secs_f64(),
    );
    ExitCode::SUCCESS
}
