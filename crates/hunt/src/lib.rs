//! Hunting: match every known indicator against logs at line rate, and say
//! which indicator (and so, through the caller's keys, which group) each hit
//! belongs to.
//!
//! Data flow:
//! 1. [`IndexBuilder`] takes indicators ([`cairn_model::Observable`]s) with an
//!    opaque `u32` key each, optionally leaving out those on
//!    [`cairn_warninglist::WarningLists`], and compiles an [`Index`]:
//!    64-bit fingerprints in a sorted array with a radix directory (domains
//!    hashed per label suffix so `dga.asia` matches `kb.dga.asia` but never
//!    `notdga.asia`), sorted address ranges (IPv4) and a prefix trie (IPv6)
//!    for CIDRs (longest prefix wins). An index
//!    is saved and loaded as a versioned, checksummed cache file.
//! 2. A [`Scanner`] reads [`Input`]s (files or stdin; gzip and zstd detected
//!    by magic bytes) in any [`LogFormat`] (Zeek TSV, JSON lines, CSV, text;
//!    detected from content), maps fields to [`FieldType`]s through a
//!    [`FieldMap`], matches blocks of lines in parallel and reports each
//!    [`Hit`] through a callback, then returns a [`Summary`]. A plain file
//!    is cut into blocks that each worker reads for itself (positioned
//!    reads, so a block is matched while still in that core's cache);
//!    stdin and compressed inputs are read in order and their blocks
//!    handed out. Each scanning thread remembers the short names of name
//!    columns that met no indicator (per index), so a log's repeated DNS
//!    queries and TLS server names skip the index after the first time.
//!
//! Malformed lines are counted, never fatal; a truncated compressed file is a
//! [`errors::HuntError::Truncated`] naming the file and line.
//!
//! Layout (each file uses only files listed before it or beside it,
//! never in a cycle: `tests/layout.rs` checks that, and that `unsafe`
//! stays in `simd`):
//! - `simd`: every `unsafe` of the crate: the vector kernels (SSE2 byte
//!   masks, the AVX2/BMI2 Zeek column walk, SSSE3 dotted quads, SSE2 host
//!   byte classes) and the prefetch hint, behind safe functions and
//!   CPU-detection tokens, each with a portable twin.
//! - `normalize`: canonical forms both sides meet on; `fields`: field
//!   names to [`FieldType`]s.
//! - `index/`: `table` (fingerprints, directory), `prefilter` and `filters`
//!   (Bloom and bit filters), `lpm` (IPv4 networks), `build`
//!   ([`IndexBuilder`]), `probe` (the deferred prefilter pass), `lookup`
//!   (full matches), `persist` (the cache file).
//! - `scan/`: `input` (inputs, codecs, blocks) and `ranges` (positioned
//!   blocks), `format` (detection, Zeek and CSV schemas), `text` (free-text
//!   extractors), `field` (one typed value: full match and probes), `block`
//!   (a block's context and result), `zeek` (Zeek batches), `columns`
//!   (cutting Zeek columns), `clean` (names seen to meet nothing), `lines`
//!   (JSON, CSV, text and the per-schema dispatch), `driver` ([`Scanner`]
//!   and its summaries).
//!
//! The report extractor ([`ReportExtractor`]) comes from `cairn-extract`
//! built without its PDF and HTML readers.
//!
//! ```
//! use cairn_hunt::{IndexBuilder, Input, ScanOptions, Scanner, MatchKind};
//! use cairn_model::{IndicatorKind, Observable};
//!
//! let mut b = IndexBuilder::new();
//! b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 1);
//! b.add(&Observable::new(IndicatorKind::Cidr, "45.77.153.0/24"), 2);
//! let index = b.build();
//!
//! let dir = tempfile::tempdir().unwrap();
//! let log = dir.path().join("dns.jsonl");
//! std::fs::write(&log, concat!(
//!     r#"{"query":"kb.dga.asia","id.resp_h":"45.77.153.197"}"#, "\n",
//!     r#"{"query":"notdga.asia","id.resp_h":"8.8.8.8"}"#, "\n",
//! )).unwrap();
//!
//! let hits = std::sync::Mutex::new(Vec::new());
//! let summary = Scanner::new(&index, ScanOptions::default())
//!     .scan(&[Input::Path(log)], &|h| hits.lock().unwrap().push(h));
//! let hits = hits.into_inner().unwrap();
//! assert_eq!(summary.lines, 2);
//! assert_eq!(hits.len(), 2);
//! assert!(hits.iter().any(|h| h.match_kind == MatchKind::Subdomain && h.keys == [1]));
//! assert!(hits.iter().any(|h| h.match_kind == MatchKind::Cidr && h.keys == [2]));
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod errors;
mod fields;
// Entry points for the fuzz targets in `fuzz/`; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod index;
mod normalize;
mod scan;
// The crate's one home of `unsafe`: vector kernels behind safe wrappers.
#[allow(unsafe_code)]
mod simd;

pub use fields::{FieldMap, FieldType};
pub use index::build::IndexBuilder;
pub use index::{Index, IndexStats, Match, MatchKind, Suppressed};
pub use scan::chunk::{Chunk, plan_chunks};
pub use scan::driver::{FileSummary, Hit, Progress, ScanOptions, Scanner, Summary};
pub use scan::format::LogFormat;
pub use scan::input::Input;
pub use scan::text::{LineExtractor, ReportExtractor, SimpleTokenizer};
