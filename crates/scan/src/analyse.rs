//! One file's bytes analysed: hashes, PE signatures, YARA.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::hashes;
use crate::report::{FileReport, is_zip};
use crate::yara::Yara;

/// Hashes `bytes` and reads what their format says.
pub(crate) fn analyse(file: String, bytes: &[u8], yara: &mut Yara<'_>) -> FileReport {
    let mut report = FileReport {
        file,
        size: bytes.len() as u64,
        hashes: Some(hashes::of(bytes)),
        format: if is_zip(bytes) { "zip" } else { "data" },
        pe: None,
        yara: Vec::new(),
        notes: Vec::new(),
        error: None,
    };
    // The PE and CMS parsers are third-party code fed hostile bytes: a
    // panic there must cost one file's signatures, not the run.
    match catch_unwind(AssertUnwindSafe(|| cairn_codesign::pe_signatures(bytes))) {
        Ok(Ok(Some(pe))) => {
            report.format = pe.format;
            report.pe = Some(pe);
        }
        Ok(Ok(None)) => {}
        Ok(Err(e)) => report.error = Some(e.to_string()),
        Err(_) => report.error = Some("the PE parser failed on this file".into()),
    }
    yara.run(bytes, &mut report);
    report
}
