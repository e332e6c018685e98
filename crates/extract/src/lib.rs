//! Report intake: typed, refanged indicators with their context, from threat
//! reports as published (plain text, Markdown, HTML, PDF).
//!
//! # Data flow
//!
//! ```text
//! bytes ──Document::from_bytes/from_path──▶ Document (text, page per line)
//!        ──Extractor::extract──▶ Extraction { indicators, suppressed, warnings }
//! ```
//!
//! 1. [`Document`] turns a file into text: HTML is rendered to lines
//!    (headings as `#`, tables as `|` rows, link targets and `<code>` kept),
//!    PDF is read through its text layer; binary junk is refused. HTML and
//!    PDF need the `html` and `pdf` cargo features (both on by default);
//!    without them such a document is [`errors::ExtractError::Unsupported`],
//!    and the rest of the crate (the text extractor) builds without their
//!    parsers.
//! 2. [`Extractor`] (built once, `Send + Sync`) refangs the whole text in one
//!    Aho-Corasick pass, keeping a map back to the original offsets, then runs
//!    one multi-pattern lazy DFA over it. Each candidate is validated (public
//!    suffix list for domains, checksums for Bitcoin addresses, address
//!    parsers for IPs) and typed; a bare hex string takes its kind from the
//!    words nearest to it — the same line, the table header, the lead-in
//!    sentence, the headings above.
//! 3. The nearest heading (and table header) gives each occurrence its
//!    [`Context`]: role, malware family, first/last-seen dates.
//! 4. Values are deduplicated per (kind, value) with every occurrence kept;
//!    benign infrastructure (built-in list plus an optional
//!    [`BenignFilter`], e.g. MISP warninglists) goes to
//!    [`Extraction::suppressed`] with its reason.
//!
//! ```
//! use cairn_extract::{Document, Extractor, Options};
//! use cairn_model::IndicatorKind;
//!
//! let doc = Document::from_text(
//!     "appendix.txt",
//!     "C2 IP Addresses (seen May to June 2023)\n\n1.13.82[.]101\n10.0.0.1\n\nWinnti\n\n\
//!      5861584bb7fa46373c1b1f83b1e066a3d82e9c10ce87539ee1633ef0f567e743\n",
//! );
//! let ex = Extractor::new(Options::default());
//! let out = ex.extract(&doc);
//! let ip = &out.indicators[0];
//! assert_eq!((ip.kind, ip.value.as_str()), (IndicatorKind::Ipv4, "1.13.82.101"));
//! let occ = &ip.occurrences[0];
//! assert_eq!((occ.original.as_str(), occ.line), ("1.13.82[.]101", 3));
//! assert_eq!(occ.context.role.as_deref(), Some("c2"));
//! assert_eq!(occ.context.first_seen.as_deref(), Some("2023-05-01"));
//! assert_eq!(out.indicators[1].kind, IndicatorKind::Sha256);
//! assert_eq!(out.indicators[1].occurrences[0].context.family.as_deref(), Some("Winnti"));
//! assert_eq!(out.suppressed[0].value, "10.0.0.1"); // RFC 1918
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod benign;
mod cues;
mod document;
pub mod errors;
mod eval;
mod extractor;
#[cfg(feature = "html")]
mod html;
#[cfg(feature = "pdf")]
mod pdf;
mod refang;
mod scan;

pub use cairn_model::IndicatorKind;
pub use document::{Document, Format};
pub use eval::{Corpus, CorpusCase, EvalReport, KindScore, builtin_corpus, evaluate};
pub use extractor::Extractor;

use serde::Serialize;
use std::sync::Arc;

/// A source of "this value is benign" verdicts beyond the built-in list,
/// e.g. MISP warninglists.
pub trait BenignFilter: Send + Sync {
    /// Why `value` (normalized, of `kind`) is benign — a list name — or `None`.
    fn check(&self, kind: IndicatorKind, value: &str) -> Option<String>;
}

/// How an [`Extractor`] behaves.
#[derive(Clone)]
pub struct Options {
    /// Keep benign values among the indicators instead of suppressing them.
    pub keep_benign: bool,
    /// An extra benign filter, consulted after the built-in one.
    pub benign: Option<Arc<dyn BenignFilter>>,
    /// Suppress a security vendor's own domain when the report names the
    /// vendor ("Recorded Future" → recordedfuture.com). On by default.
    pub vendor_domains: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            keep_benign: false,
            benign: None,
            vendor_domains: true,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("keep_benign", &self.keep_benign)
            .field("benign", &self.benign.as_ref().map(|_| "dyn BenignFilter"))
            .field("vendor_domains", &self.vendor_domains)
            .finish()
    }
}

/// Everything one document yielded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Extraction {
    /// Indicators, one per (kind, value), in order of first appearance.
    pub indicators: Vec<Extracted>,
    /// Values recognised but judged benign, with the reason.
    pub suppressed: Vec<Suppressed>,
    /// Problems met that did not stop extraction.
    pub warnings: Vec<String>,
    /// The document's own marking: the strictest TLP label it carries
    /// (`TLP:AMBER`, `TLP: RED`, `tlp-green` …), as `clear`, `green`,
    /// `amber`, `amber+strict` or `red` (TLP 1.0's WHITE is `clear`).
    /// Labels mark the document, not an indicator: none is among
    /// [`Extraction::indicators`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlp: Option<String>,
}

/// One indicator and every place it appears.
#[derive(Debug, Clone, Serialize)]
pub struct Extracted {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: IndicatorKind,
    /// Refanged and normalized with [`IndicatorKind::normalize`].
    pub value: String,
    /// Where it appears, in document order.
    pub occurrences: Vec<Occurrence>,
}

/// A recognised value kept out of the indicators as benign.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: IndicatorKind,
    /// Refanged and normalized.
    pub value: String,
    /// Why (the built-in rule or the filter's list name).
    pub reason: String,
    /// Where it appears.
    pub occurrences: Vec<Occurrence>,
}

/// One place a value appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    /// The text as written (`kb.dga[.]asia`).
    pub original: String,
    /// 1-based line in [`Document::text`].
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// 1-based PDF page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// What the document says around it.
    pub context: Context,
    /// The rule that typed an ambiguous form ("defanged: a domain",
    /// "heading says domain", "line says imphash", "path on a code
    /// line"); `None` when the form has one reading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// What the headings and tables around an occurrence say about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Context {
    /// The nearest heading above.
    pub heading: Option<String>,
    /// The header of the table column it sits in.
    pub table_header: Option<String>,
    /// c2, reconnaissance, exploitation, delivery, payload, certificate,
    /// compromised, exfiltration.
    pub role: Option<String>,
    /// Malware family named by the heading ("Cobalt Strike Loaders" →
    /// "Cobalt Strike").
    pub family: Option<String>,
    /// First-seen date stated in the heading (YYYY-MM-DD).
    pub first_seen: Option<String>,
    /// Last-seen date stated in the heading (YYYY-MM-DD).
    pub last_seen: Option<String>,
}

/// A value found by [`Extractor::extract_line`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: IndicatorKind,
    /// Refanged and normalized.
    pub value: String,
    /// Byte offset of the original text in the line.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}
