//! Reading logs and matching them: inputs are decompressed, cut into
//! blocks at line boundaries, blocks are matched in parallel, hits come
//! back in file order with absolute line numbers.
//!
//! - [`input`]: files and stdin, gzip/zstd by magic bytes, blocks cut at
//!   line ends; [`ranges`]: plain files read as positioned blocks, each by
//!   the worker that matches it.
//! - [`format`](mod@format): the format (detected or forced) and per-input schema
//!   (Zeek header, CSV header).
//! - [`field`]: one typed value against the index (full match and
//!   prefilter probes); [`text`]: indicators in free text.
//! - [`block`]: what a block is matched with and yields; [`lines`]: its
//!   lines by format (JSON, CSV, text); [`zeek`]: Zeek lines, their
//!   probes tested a batch at a time; [`columns`]: cutting Zeek columns;
//!   [`clean`]: names a thread has seen meet nothing.
//! - [`driver`]: [`driver::Scanner`], its options, hits and summaries;
//!   [`chunk`]: inputs cut into pieces scanned elsewhere, and events
//!   scanned from memory.

pub(crate) mod block;
pub(crate) mod chunk;
pub(crate) mod clean;
pub(crate) mod columns;
pub(crate) mod driver;
pub(crate) mod field;
pub(crate) mod format;
pub(crate) mod input;
pub(crate) mod lines;
pub(crate) mod ranges;
pub(crate) mod text;
pub(crate) mod zeek;
