//! Broken logs cost their own records, never the run: an EVTX chunk with a
//! damaged body (its checksum no longer matches), a truncated EVTX, and a
//! JSON line over the per-event limit beside good ones.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cairn_detect::{DetectOptions, FileSummary, Output, RuleOptions, RuleSet, RuleSource, detect};

/// Fires on every event with an id, so every readable record is counted.
const ANY: &str =
    "title: Any\nlogsource: {}\ndetection:\n  sel:\n    EventID|gte: 0\n  condition: sel\n";

fn rules() -> RuleSet {
    let src = RuleSource {
        origin: "any.yml".into(),
        text: ANY.into(),
    };
    RuleSet::load(&[src], &RuleOptions::default())
        .expect("load")
        .0
}

fn run(files: &[PathBuf], opts: &DetectOptions) -> (u64, Vec<FileSummary>) {
    let n = Mutex::new(0u64);
    let files_seen = Mutex::new(Vec::new());
    detect(&rules(), files, opts, &|o| match o {
        Output::Detection(_) => *n.lock().expect("lock") += 1,
        Output::File(f) => files_seen.lock().expect("lock").push(f),
    });
    (
        n.into_inner().expect("lock"),
        files_seen.into_inner().expect("lock"),
    )
}

fn sample(root: &Path) -> PathBuf {
    root.join("TA0008-Lateral Movement/T1550-Use Alternate Authentication Material/ID4624-Mimikatz Pass the hash.evtx")
}

#[test]
fn a_damaged_chunk_and_a_truncated_file_are_counted_not_fatal() {
    let Some(root) = cairn_testkit::dataset("evtx") else {
        return;
    };
    let good = sample(&root);
    let bytes = std::fs::read(&good).expect("sample");
    let (whole, _) = run(std::slice::from_ref(&good), &DetectOptions::default());
    assert!(whole > 0);
    let dir = tempfile::tempdir().expect("tmp");
    // The first chunk starts at 4096; its records from 4096 + 512. Overwrite
    // a stretch of record bytes.
    let mut damaged = bytes.clone();
    for b in damaged.iter_mut().skip(4096 + 600).take(400) {
        *b = 0xA5;
    }
    let damaged_path = dir.path().join("damaged.evtx");
    std::fs::write(&damaged_path, &damaged).expect("write");
    let truncated_path = dir.path().join("truncated.evtx");
    std::fs::write(&truncated_path, &bytes[..4096 + 1500]).expect("write");
    let header_only = dir.path().join("header.evtx");
    std::fs::write(&header_only, &bytes[..100]).expect("write");
    let (n, files) = run(
        &[damaged_path, truncated_path, header_only, good.clone()],
        &DetectOptions::default(),
    );
    // The good file's records all still count.
    assert!(n >= whole, "{n} < {whole}");
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f.file.ends_with(name))
            .unwrap_or_else(|| panic!("{name} reported"))
    };
    let d = by_name("damaged.evtx");
    assert!(
        d.skipped > 0 || d.events < whole,
        "damage is visible: {d:?}"
    );
    assert!(by_name("header.evtx").error.is_some() || by_name("header.evtx").events == 0);
    assert_eq!(files.len(), 4);
}

#[test]
fn a_line_over_the_limit_is_skipped_and_the_next_ones_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("big.jsonl");
    let big = format!("{{\"EventID\": 1, \"pad\": \"{}\"}}", "x".repeat(3 << 20));
    std::fs::write(
        &log,
        format!("{{\"EventID\": 1}}\n{big}\n{{\"EventID\": 2}}\n"),
    )
    .expect("write");
    let opts = DetectOptions {
        max_event_bytes: 1 << 20,
        ..DetectOptions::default()
    };
    let (n, files) = run(&[log], &opts);
    assert_eq!(n, 2);
    assert_eq!(files[0].skipped, 1);
    assert!(
        files[0].problems[0].contains("line 2"),
        "{:?}",
        files[0].problems
    );
}
