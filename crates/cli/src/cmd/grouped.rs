//! What the observation and registration paths of `cairn ingest` share: the
//! files grouped by the source they are stored under, one fingerprint per
//! group, and one report row per group.

use cairn_intake::Options;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The files of `files` by source: `--source` when given, else `default`.
pub fn by_source<'a, F>(
    files: &'a [(PathBuf, F)],
    opts: &Options,
    default: impl Fn(&(PathBuf, F)) -> String,
) -> BTreeMap<String, Vec<&'a (PathBuf, F)>> {
    let mut groups: BTreeMap<String, Vec<&'a (PathBuf, F)>> = BTreeMap::new();
    for f in files {
        let source = opts.source.clone().unwrap_or_else(|| default(f));
        groups.entry(source).or_default().push(f);
    }
    groups
}

/// The group's formats, each once, joined by `+` (`zeek-dns+zeek-ssl`).
pub fn formats<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.join("+")
}

/// The fingerprint of a group whose file contents are in `h`: the source
/// and the options that shape what is stored are part of its identity.
pub fn seal(mut h: Sha256, source: &str, opts: &Options) -> String {
    h.update(
        format!(
            "\0{source}\0{:?}\0{:?}\0{:?}",
            opts.tlp, opts.confidence, opts.reference
        )
        .as_bytes(),
    );
    format!("{:x}", h.finalize())
}

/// The report row of a group: `unchanged` when `report` is `None` (stored
/// before from exactly these files), else the store's report.
pub fn row(
    file: &str,
    formats: &str,
    source: &str,
    report: Option<cairn_kb::IngestReport>,
) -> anyhow::Result<serde_json::Value> {
    Ok(match report {
        None => serde_json::json!({"file": file, "format": formats,
            "source": source, "status": "unchanged"}),
        Some(r) => {
            let mut v = serde_json::to_value(&r)?;
            v["file"] = file.into();
            v
        }
    })
}
