#![no_main]
//! HTML to text (then extraction over the text).
use cairn_extract::{Document, Extractor, Options};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static EX: OnceLock<Extractor> = OnceLock::new();
    let ex = EX.get_or_init(|| Extractor::new(Options::default()));
    if let Ok(doc) = Document::from_bytes("report.html", data) {
        let _ = ex.extract(&doc);
    }
});
