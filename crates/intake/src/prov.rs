//! Provenance defaults: what a statement carries when its file says nothing.

use crate::Options;
use cairn_model::{Provenance, Tlp};
use std::path::Path;

/// The source name: forced by the caller, else what the file says, else the
/// file's name.
pub(crate) fn source_name(opts: &Options, from_file: Option<String>, path: &Path) -> String {
    opts.source.clone().or(from_file).unwrap_or_else(|| {
        path.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    })
}

/// A provenance record with the caller's defaults filled in.
pub(crate) fn base(opts: &Options, source: &str) -> Provenance {
    Provenance {
        source: source.to_string(),
        reference: opts.reference.clone(),
        first_seen: None,
        last_seen: None,
        confidence: opts.confidence,
        tlp: opts.tlp.unwrap_or(Tlp::Clear),
    }
}
