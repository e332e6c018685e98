//! How often Sigma detections name the technique an EVTX sample exercises:
//! for every file under `TA…/T…/` folders of the EVTX-to-ATT&CK corpus,
//! whether a detection carries the folder's technique, its parent, or one
//! of its sub-techniques; a Markdown table per tactic on stdout.
//!
//! ```sh
//! cargo run --release -p cairn-detect --example attack_coverage -- \
//!     ../shared/datasets/evtx ../shared/datasets/sigma/rules
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cairn_detect::{DetectOptions, Output, RuleOptions, RuleSet, RuleSource, detect};

fn parent(t: &str) -> &str {
    t.split('.').next().unwrap_or(t)
}

/// Whether a detected technique speaks of the folder's.
fn names(detected: &str, folder: &str) -> bool {
    detected == folder || detected == parent(folder) || parent(detected) == folder
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let corpus = PathBuf::from(
        args.next()
            .ok_or("usage: attack_coverage EVTX_DIR RULES...")?,
    );
    let rule_paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let (sources, unread) = RuleSource::read_paths(&rule_paths);
    if !unread.is_empty() {
        return Err(format!("unreadable rules: {unread:?}").into());
    }
    let (rules, report) = RuleSet::load(&sources, &RuleOptions::default())?;
    eprintln!("{} of {} rules loaded", report.loaded, report.rules);
    // tactic → (files, files whose technique was named, files with any detection)
    let mut table: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut missed = Vec::new();
    for e in walkdir::WalkDir::new(&corpus).sort_by_file_name() {
        let e = e?;
        if e.path().extension().and_then(|x| x.to_str()) != Some("evtx") {
            continue;
        }
        let Some((tactic, technique)) = labels(&corpus, e.path()) else {
            continue;
        };
        let found = Mutex::new(BTreeSet::new());
        let any = Mutex::new(false);
        detect(
            &rules,
            &[e.path().to_path_buf()],
            &DetectOptions::default(),
            &|o| {
                if let Output::Detection(d) = o {
                    if let Ok(mut a) = any.lock() {
                        *a = true;
                    }
                    if let Ok(mut f) = found.lock() {
                        f.extend(d.techniques.iter().cloned());
                    }
                }
            },
        );
        let found = found.into_inner().map_err(|_| "lock")?;
        let hit = found.iter().any(|t| names(t, &technique));
        let row = table.entry(tactic).or_default();
        row.0 += 1;
        row.1 += u32::from(hit);
        row.2 += u32::from(any.into_inner().map_err(|_| "lock")?);
        if !hit {
            missed.push(format!(
                "{} ({technique}): detected {:?}",
                e.path().strip_prefix(&corpus)?.display(),
                found
            ));
        }
    }
    println!("| tactic | files | technique named | any detection |");
    println!("|---|---:|---:|---:|");
    let (mut n, mut h, mut a) = (0, 0, 0);
    for (tactic, (files, hit, any)) in &table {
        println!(
            "| {tactic} | {files} | {hit} ({:.0} %) | {any} ({:.0} %) |",
            100.0 * f64::from(*hit) / f64::from(*files),
            100.0 * f64::from(*any) / f64::from(*files)
        );
        n += files;
        h += hit;
        a += any;
    }
    println!(
        "| **all** | {n} | {h} ({:.0} %) | {a} ({:.0} %) |",
        100.0 * f64::from(h) / f64::from(n),
        100.0 * f64::from(a) / f64::from(n)
    );
    for m in missed {
        eprintln!("missed: {m}");
    }
    Ok(())
}

/// `TA0002-Execution/T1059.001-PowerShell/x.evtx` → ("TA0002-Execution", "T1059.001").
fn labels(root: &Path, file: &Path) -> Option<(String, String)> {
    let rel = file.strip_prefix(root).ok()?;
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let tactic = parts.next()?.to_string();
    let technique = parts.next()?.split('-').next()?.to_string();
    (tactic.starts_with("TA") && technique.starts_with('T')).then_some((tactic, technique))
}
