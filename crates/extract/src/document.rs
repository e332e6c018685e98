//! Turning files into text: plain text and Markdown as they are, HTML
//! rendered to lines (headings as `#`, tables as `|` rows, link targets kept),
//! PDF through its text layer with a page number per line. HTML and PDF
//! need the `html` and `pdf` features; without them they are refused.

use crate::errors::ExtractError;
use serde::Serialize;
use std::path::Path;

/// What a document was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plain text.
    Text,
    /// Markdown (read as text; `#` headings and `|` tables give context).
    Markdown,
    /// HTML, rendered to text lines.
    Html,
    /// PDF text layer.
    Pdf,
}

/// A report as text, ready for an [`crate::Extractor`].
///
/// Line numbers in results refer to [`Document::text`]: the file's own lines
/// for text and Markdown, the rendered lines for HTML and PDF.
#[derive(Debug, Clone)]
pub struct Document {
    name: String,
    text: String,
    format: Format,
    /// For PDF: the first line (0-based) of each page, in order.
    page_starts: Vec<u32>,
    warnings: Vec<String>,
}

impl Document {
    /// Reads a file, detecting PDF and HTML by content and extension.
    pub fn from_path(path: &Path) -> Result<Document, ExtractError> {
        let bytes = std::fs::read(path).map_err(|source| ExtractError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Document::from_bytes(&path.display().to_string(), &bytes)
    }

    /// Reads bytes (stdin, an upload); `name` is used in errors and for the
    /// extension hint (`.html`, `.md`, `.pdf`).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Document, ExtractError> {
        let lower = name.to_ascii_lowercase();
        let head = trim_ascii_start(&bytes[..bytes.len().min(1024)]);
        if head.starts_with(b"%PDF-") || (lower.ends_with(".pdf") && bytes.starts_with(b"%PDF")) {
            return pdf_document(name, bytes);
        }
        if lower.ends_with(".pdf") {
            return Err(ExtractError::Pdf {
                name: name.to_string(),
                detail: "no %PDF- header".into(),
            });
        }
        let mut warnings = Vec::new();
        let text = decode(name, bytes, &mut warnings)?;
        let html = lower.ends_with(".html") || lower.ends_with(".htm") || looks_like_html(&text);
        let mut doc = if html {
            let mut d = Document::from_text(name, &html_text(name, &text)?);
            d.format = Format::Html;
            d
        } else {
            let mut d = Document::from_text(name, &text);
            if lower.ends_with(".md") || lower.ends_with(".markdown") {
                d.format = Format::Markdown;
            }
            d
        };
        doc.warnings = warnings;
        Ok(doc)
    }

    /// A document from text already in memory (read as plain text/Markdown).
    pub fn from_text(name: &str, text: &str) -> Document {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Document {
            name: name.to_string(),
            text: text.to_string(),
            format: Format::Text,
            page_starts: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The name given (a path, `-` for stdin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text extraction runs on.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What the document was read as.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Problems met while reading that did not stop it (lossy decoding, …).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The 1-based PDF page of a 1-based line, `None` for other formats.
    pub fn page_of_line(&self, line: u32) -> Option<u32> {
        if self.page_starts.is_empty() {
            return None;
        }
        let idx = self.page_starts.partition_point(|&s| s <= line);
        Some(idx.max(1) as u32)
    }
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || (head.starts_with('<') && (head.contains("<body") || head.contains("<head")))
}

/// Bytes to text: UTF-8 (BOM stripped), UTF-16 with a BOM, otherwise lossy
/// UTF-8 with a warning. Binary data is refused rather than mined for junk.
fn decode(name: &str, bytes: &[u8], warnings: &mut Vec<String>) -> Result<String, ExtractError> {
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return Ok(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return Ok(utf16(rest, u16::from_be_bytes));
    }
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    let nul = memchr::memchr_iter(0, sample).count();
    let ctrl = sample
        .iter()
        .filter(|&&b| b < 0x09 || (0x0e..0x20).contains(&b))
        .count();
    // Reports never carry NULs; a few stray control bytes are tolerated.
    if nul > 0 || ctrl * 20 > sample.len().max(1) {
        return Err(ExtractError::Binary {
            name: name.to_string(),
            detail: format!(
                "{nul} NUL and {ctrl} control bytes in the first {} bytes",
                sample.len()
            ),
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            warnings.push(format!(
                "{name}: not valid UTF-8 (first bad byte at offset {}); decoded lossily",
                e.valid_up_to()
            ));
            Ok(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

fn utf16(b: &[u8], f: fn([u8; 2]) -> u16) -> String {
    let units = b.chunks_exact(2).map(|c| f([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// An HTML document rendered to text lines.
#[cfg(feature = "html")]
fn html_text(_name: &str, html: &str) -> Result<String, ExtractError> {
    Ok(crate::html::to_text(html))
}

/// Without the `html` feature there is no HTML renderer: refused.
#[cfg(not(feature = "html"))]
fn html_text(name: &str, _html: &str) -> Result<String, ExtractError> {
    Err(ExtractError::Unsupported {
        name: name.to_string(),
        format: "HTML",
        feature: "html",
    })
}

/// Without the `pdf` feature there is no PDF parser: refused.
#[cfg(not(feature = "pdf"))]
fn pdf_document(name: &str, _bytes: &[u8]) -> Result<Document, ExtractError> {
    Err(ExtractError::Unsupported {
        name: name.to_string(),
        format: "PDF",
        feature: "pdf",
    })
}

#[cfg(feature = "pdf")]
fn pdf_document(name: &str, bytes: &[u8]) -> Result<Document, ExtractError> {
    // pdf-extract (and lopdf below it) can panic on malformed input instead of
    // returning an error; a corrupt PDF must be an error, never a crash. The
    // default hook would also print the panic to stderr, so it is silenced
    // for the duration of the call.
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| crate::pdf::pages(bytes));
    std::panic::set_hook(prev);
    let pages = match result {
        Ok(Ok(pages)) => pages,
        Ok(Err(detail)) => {
            return Err(ExtractError::Pdf {
                name: name.to_string(),
                detail,
            });
        }
        Err(_) => {
            return Err(ExtractError::Pdf {
                name: name.to_string(),
                detail: "the PDF parser failed on malformed input".into(),
            });
        }
    };
    let mut text = String::new();
    let mut page_starts = Vec::with_capacity(pages.len());
    let mut line = 1u32;
    for page in &pages {
        page_starts.push(line);
        let page = page.trim_end_matches('\n');
        text.push_str(page);
        text.push('\n');
        line += page.matches('\n').count() as u32 + 1;
    }
    if text.trim().is_empty() {
        return Err(ExtractError::Pdf {
            name: name.to_string(),
            detail: "no text layer (scanned image?)".into(),
        });
    }
    Ok(Document {
        name: name.to_string(),
        text,
        format: Format::Pdf,
        page_starts,
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_refused() {
        let e = Document::from_bytes("x.bin", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00").unwrap_err();
        assert!(matches!(e, ExtractError::Binary { .. }), "{e}");
    }

    #[test]
    fn latin1_is_decoded_with_warning() {
        let d = Document::from_bytes("a.txt", b"caf\xe9 evil[.]com\n").unwrap();
        assert_eq!(d.warnings().len(), 1);
        assert!(d.text().contains("evil[.]com"));
    }

    #[cfg(feature = "pdf")]
    #[test]
    fn corrupt_pdf_is_an_error() {
        for bytes in [
            &b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage"[..],
            b"%PDF-",
        ] {
            let e = Document::from_bytes("r.pdf", bytes).unwrap_err();
            assert!(matches!(e, ExtractError::Pdf { .. }), "{e}");
        }
    }

    /// Without their features, PDF and HTML documents are refused with an
    /// error naming the feature (never read as text).
    #[cfg(not(all(feature = "pdf", feature = "html")))]
    #[test]
    fn formats_left_out_are_refused_by_name() {
        let cases: [(&str, &[u8], bool, &str); 2] = [
            (
                "r.pdf",
                b"%PDF-1.7\n",
                cfg!(feature = "pdf"),
                "`pdf` feature",
            ),
            (
                "r.html",
                b"<html><body><h1>C2</h1>evil[.]com</body></html>",
                cfg!(feature = "html"),
                "`html` feature",
            ),
        ];
        for (name, bytes, built, feature) in cases {
            if built {
                continue;
            }
            let e = Document::from_bytes(name, bytes).unwrap_err();
            assert!(matches!(e, ExtractError::Unsupported { .. }), "{e}");
            assert!(e.to_string().contains(feature), "{e}");
        }
    }

    #[test]
    fn utf16_bom() {
        let mut b = vec![0xff, 0xfe];
        for u in "evil[.]com".encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(
            Document::from_bytes("a.txt", &b).unwrap().text(),
            "evil[.]com"
        );
    }

    #[test]
    fn page_of_line() {
        let d = Document {
            name: "x".into(),
            text: String::new(),
            format: Format::Pdf,
            page_starts: vec![1, 10, 20],
            warnings: vec![],
        };
        assert_eq!(d.page_of_line(1), Some(1));
        assert_eq!(d.page_of_line(9), Some(1));
        assert_eq!(d.page_of_line(10), Some(2));
        assert_eq!(d.page_of_line(25), Some(3));
    }
}
