//! Free-text reports, through the extractor: each extracted indicator
//! becomes an indicator object carrying its heading's role and dates, linked
//! to the caller's actor and to the malware family its heading names.

use crate::errors::IntakeError;
use crate::lists::Linker;
use crate::{Options, prov};
use cairn_model::Bundle;
use std::path::Path;

pub(crate) fn parse(path: &Path, bytes: &[u8], opts: &Options) -> Result<Bundle, IntakeError> {
    let _ = (bytes, opts, prov::base, Linker::new);
    Err(IntakeError::Format {
        path: path.to_path_buf(),
        message: "free-text reports are not readable yet".into(),
    })
}
