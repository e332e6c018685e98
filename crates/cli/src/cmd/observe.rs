//! `cairn ingest` of observation logs (Zeek dns/ssl/x509/conn, passive-DNS COF):
//! detected by content, read as a stream and aggregated per source (the
//! files of one `--source` are one set of observations, stored in one
//! transaction), parsed whole before anything is written.

use anyhow::Context;
use cairn_intake::{ObsFormat, Options};
use cairn_model::observe::Observations;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Observation files among `paths` (with their format), and the rest.
/// Only detected when no format is forced.
pub fn split(paths: &[PathBuf], opts: &Options) -> (Vec<(PathBuf, ObsFormat)>, Vec<PathBuf>) {
    let mut obs = Vec::new();
    let mut rest = Vec::new();
    for p in paths {
        let f = (opts.format == cairn_intake::Format::Auto && p.as_os_str() != "-")
            .then(|| cairn_intake::observation_format(p))
            .flatten();
        match f {
            Some(f) => obs.push((p.clone(), f)),
            None => rest.push(p.clone()),
        }
    }
    (obs, rest)
}

/// One source's observations, read and ready to store.
pub struct Parsed {
    source: String,
    files: Vec<String>,
    formats: String,
    fingerprint: String,
    /// `None`: stored before from exactly these files.
    obs: Option<Observations>,
}

/// Reads every observation file, grouped by source (`--source`, else the
/// file's name); the first bad line stops the command before any write.
pub fn parse(
    store: &cairn_kb::Store,
    files: &[(PathBuf, ObsFormat)],
    opts: &Options,
) -> anyhow::Result<Vec<Parsed>> {
    let groups = super::grouped::by_source(files, opts, |f| {
        f.0.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut out = Vec::new();
    for (source, group) in groups {
        let mut h = Sha256::new();
        for (p, _) in &group {
            digest(p, &mut h)?;
        }
        let fingerprint = super::grouped::seal(h, &source, opts);
        let files: Vec<String> = group.iter().map(|(p, _)| p.display().to_string()).collect();
        let obs = if store.source_with_fingerprint(&fingerprint)?.is_some() {
            None
        } else {
            let mut o = Observations::new();
            for (p, f) in &group {
                cairn_intake::read_observations(p, *f, &mut o)?;
            }
            Some(o)
        };
        out.push(Parsed {
            source,
            files,
            formats: super::grouped::formats(group.iter().map(|(_, f)| f.as_str())),
            fingerprint,
            obs,
        });
    }
    Ok(out)
}

/// The raw bytes of a file into the fingerprint.
fn digest(p: &Path, h: &mut Sha256) -> anyhow::Result<()> {
    let mut f = std::fs::File::open(p).with_context(|| format!("{}: cannot read", p.display()))?;
    std::io::copy(&mut f, h).with_context(|| format!("{}: cannot read", p.display()))?;
    Ok(())
}

/// Stores each source's observations in its own transaction; one report row
/// per source.
pub fn store(
    store: &mut cairn_kb::Store,
    parsed: Vec<Parsed>,
    opts: &Options,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut rows = Vec::new();
    for p in parsed {
        let file = p.files.join(", ");
        let report = match p.obs {
            None => None,
            Some(obs) => {
                let head = cairn_kb::ObsHead {
                    source: p.source.clone(),
                    format: p.formats.clone(),
                    prov: cairn_model::Provenance {
                        source: p.source.clone(),
                        reference: opts.reference.clone(),
                        confidence: opts.confidence,
                        tlp: opts.tlp.unwrap_or_default(),
                        ..Default::default()
                    },
                };
                let r = store
                    .ingest_observations(&head, &obs, Some(&file), Some(&p.fingerprint))
                    .with_context(|| format!("{file}: storing failed; the store is unchanged"))?;
                Some(r)
            }
        };
        rows.push(super::grouped::row(&file, &p.formats, &p.source, report)?);
    }
    Ok(rows)
}
