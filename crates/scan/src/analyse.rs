//! One file's bytes analysed: format, PE signatures, YARA.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::hashes::{Hashes, Hashing};
use crate::report::{FileReport, is_zip};
use crate::yara::Yara;

/// Reads what `bytes` (whose `hashes` the caller computed) say of
/// themselves: format, signatures, YARA matches.
pub(crate) fn analyse(
    file: String,
    bytes: &[u8],
    hashes: Hashes,
    hashing: Hashing,
    yara: &mut Yara<'_>,
) -> FileReport {
    let mut report = FileReport {
        file,
        size: bytes.len() as u64,
        hashes: Some(hashes),
        format: if is_zip(bytes) { "zip" } else { "data" },
        pe: None,
        yara: Vec::new(),
        notes: Vec::new(),
        error: None,
    };
    // The PE and CMS parsers are third-party code fed hostile bytes: a
    // panic there must cost one file's signatures, not the run.
    let digests = cairn_codesign::Digests {
        authentihash: hashing.authentihash,
        verify: true,
    };
    let read = || cairn_codesign::pe_signatures_with(bytes, digests);
    match catch_unwind(AssertUnwindSafe(read)) {
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
