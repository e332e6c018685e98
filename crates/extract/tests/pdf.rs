//! A two-page PDF (text layer, Helvetica) made for this test: values, their
//! headings, and the page each appears on.
#![cfg(feature = "pdf")]

use cairn_extract::{Document, Extractor, Format, IndicatorKind, Options};

#[test]
fn pdf_text_layer_with_pages_and_headings() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.pdf");
    let doc = Document::from_path(&path).unwrap();
    assert_eq!(doc.format(), Format::Pdf);
    let out = Extractor::new(Options::default()).extract(&doc);
    let got: Vec<_> = out
        .indicators
        .iter()
        .map(|i| {
            let o = &i.occurrences[0];
            (
                i.kind,
                i.value.as_str(),
                o.page,
                o.context.heading.as_deref(),
                o.context.family.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                IndicatorKind::Domain,
                "kb.dga.asia",
                Some(1),
                Some("C2 Domains"),
                None
            ),
            (
                IndicatorKind::Domain,
                "video.dga.asia",
                Some(1),
                Some("C2 Domains"),
                None
            ),
            (
                IndicatorKind::Sha256,
                "5861584bb7fa46373c1b1f83b1e066a3d82e9c10ce87539ee1633ef0f567e743",
                Some(2),
                Some("Winnti"),
                Some("Winnti")
            ),
        ]
    );
    assert_eq!(out.indicators[0].occurrences[0].original, "kb.dga[.]asia");
}

#[test]
fn truncated_pdf_is_an_error_not_a_panic() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.pdf");
    let bytes = std::fs::read(path).unwrap();
    let e = Document::from_bytes("cut.pdf", &bytes[..10]).unwrap_err();
    assert!(e.to_string().contains("cut.pdf"), "{e}");
    for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 30] {
        // Either an error naming the file or a (partial) document; never a panic.
        if let Err(e) = Document::from_bytes("cut.pdf", &bytes[..cut]) {
            assert!(e.to_string().contains("cut.pdf"), "{e}");
        }
    }
}
