#![no_main]
//! The report extractor (refanging, candidate scan, context) on text.
use cairn_extract::{Document, Extractor, Options};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static EX: OnceLock<Extractor> = OnceLock::new();
    let ex = EX.get_or_init(|| Extractor::new(Options::default()));
    let text = String::from_utf8_lossy(data);
    let doc = Document::from_text("report.md", &text);
    let _ = ex.extract(&doc);
    if let Some(line) = text.lines().next() {
        let _ = ex.extract_line(line);
    }
    if let Ok(doc) = Document::from_bytes("report.txt", data) {
        let _ = ex.extract(&doc);
    }
});
