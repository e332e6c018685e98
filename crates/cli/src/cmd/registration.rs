//! `cairn ingest` of registration records (WHOIS text, RDAP JSON): one file
//! per domain, detected by content; the files of one `--source` are one
//! version of that source, all parsed before anything is written and stored
//! in one transaction.

use anyhow::Context;
use cairn_intake::{Format, Options};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Registration files (with their format) and the other paths.
type Split = (Vec<(PathBuf, Format)>, Vec<PathBuf>);

/// Registration files among `paths` (with their format), and the rest.
pub fn split(paths: &[PathBuf], opts: &Options) -> anyhow::Result<Split> {
    let mut reg = Vec::new();
    let mut rest = Vec::new();
    for p in paths {
        let format = match opts.format {
            Format::Whois | Format::Rdap => Some(opts.format),
            Format::Auto if p.as_os_str() != "-" && p.is_file() => {
                let (head, _) = cairn_intake::read_head(p, 64 * 1024)?;
                Some(cairn_intake::detect_format(p, &head))
                    .filter(|f| matches!(f, Format::Whois | Format::Rdap))
            }
            _ => None,
        };
        match format {
            Some(f) => reg.push((p.clone(), f)),
            None => rest.push(p.clone()),
        }
    }
    Ok((reg, rest))
}

/// One source's records, read and ready to store.
pub struct Parsed {
    source: String,
    files: String,
    formats: String,
    fingerprint: String,
    /// `None`: stored before from exactly these files.
    records: Option<Vec<cairn_kb::Registration>>,
}

/// Reads every file, grouped by source (`--source`, else `whois`/`rdap`);
/// the first bad file stops the command before any write.
pub fn parse(
    store: &cairn_kb::Store,
    files: &[(PathBuf, Format)],
    opts: &Options,
) -> anyhow::Result<Vec<Parsed>> {
    let groups = super::grouped::by_source(files, opts, |f| f.1.as_str().to_string());
    let mut out = Vec::new();
    for (source, group) in groups {
        let mut h = Sha256::new();
        let mut bytes = Vec::with_capacity(group.len());
        for (p, _) in &group {
            let b = cairn_intake::read(p)?;
            h.update(p.display().to_string().as_bytes());
            h.update(b"\0");
            h.update(&b);
            bytes.push(b);
        }
        let fingerprint = super::grouped::seal(h, &source, opts);
        let files: Vec<String> = group.iter().map(|(p, _)| p.display().to_string()).collect();
        let records = if store.source_with_fingerprint(&fingerprint)?.is_some() {
            None
        } else {
            let mut recs = Vec::with_capacity(group.len());
            for ((p, f), b) in group.iter().zip(&bytes) {
                let mut r = cairn_intake::parse_registration(p, b, *f)?;
                r.source.clone_from(&source);
                recs.push(r);
            }
            Some(recs)
        };
        out.push(Parsed {
            source,
            files: files.join(", "),
            formats: super::grouped::formats(group.iter().map(|(_, f)| f.as_str())),
            fingerprint,
            records,
        });
    }
    Ok(out)
}

/// Stores each source's records in its own transaction; one report row per
/// source.
pub fn store(
    store: &mut cairn_kb::Store,
    parsed: Vec<Parsed>,
    opts: &Options,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut rows = Vec::new();
    for p in parsed {
        let file = p.files;
        let report = match p.records {
            None => None,
            Some(records) => {
                let head = cairn_kb::RegHead {
                    source: p.source.clone(),
                    format: p.formats.clone(),
                    reference: opts.reference.clone(),
                    tlp: opts.tlp.unwrap_or_default(),
                };
                let r = store
                    .ingest_registrations::<cairn_kb::errors::KbError, _>(
                        &head,
                        records.into_iter().map(Ok),
                        Some(&file),
                        Some(&p.fingerprint),
                    )
                    .with_context(|| format!("{file}: storing failed; the store is unchanged"))?;
                Some(r)
            }
        };
        rows.push(super::grouped::row(&file, &p.formats, &p.source, report)?);
    }
    Ok(rows)
}
