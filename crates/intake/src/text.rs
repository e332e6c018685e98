//! Free-text reports, through the extractor: each extracted indicator
//! becomes an indicator object carrying its heading's role and dates, linked
//! to the caller's actor and to the malware family its heading names.

use crate::errors::IntakeError;
use crate::lists::Linker;
use crate::{Options, prov};
use cairn_extract::{Document, Extractor};
use cairn_model::{Bundle, Observable};
use std::path::Path;

pub(crate) fn parse(path: &Path, bytes: &[u8], opts: &Options) -> Result<Bundle, IntakeError> {
    let name = path.display().to_string();
    let doc = Document::from_bytes(&name, bytes).map_err(|e| IntakeError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let extractor = Extractor::new(cairn_extract::Options {
        keep_benign: opts.keep_benign,
        benign: opts.benign.clone(),
        ..cairn_extract::Options::default()
    });
    let out = extractor.extract(&doc);
    let source = prov::source_name(opts, None, path);
    let mut linker = Linker::new(opts, &source);
    for ind in &out.indicators {
        let Some(first) = ind.occurrences.first() else {
            continue;
        };
        let ctx = &first.context;
        let mut p = prov::base(opts, &source);
        p.reference = p
            .reference
            .or_else(|| Some(format!("{name}:{}", first.line)));
        p.first_seen = ctx.first_seen.clone();
        p.last_seen = ctx.last_seen.clone();
        let labels: Vec<String> = ctx.role.iter().cloned().collect();
        let description = ctx.heading.as_ref().map(|h| format!("{name}: {h}"));
        linker.add(
            Observable {
                kind: ind.kind,
                value: ind.value.clone(),
            },
            &first.original,
            labels,
            ctx.family.as_deref(),
            description,
            p,
        );
    }
    let mut bundle = linker.finish();
    bundle.warnings.extend(doc.warnings().iter().cloned());
    bundle.warnings.extend(out.warnings);
    if !out.suppressed.is_empty() {
        let list: Vec<String> = out
            .suppressed
            .iter()
            .take(5)
            .map(|s| format!("{} ({})", s.value, s.reason))
            .collect();
        bundle.warnings.push(format!(
            "{} benign values suppressed (use --keep-benign to keep them), e.g. {}",
            out.suppressed.len(),
            list.join(", ")
        ));
    }
    Ok(bundle)
}
