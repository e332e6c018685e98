//! A block's matching context and result, shared by every line loop:
//! the index, field names and extractor a block is matched with, the
//! hits and malformed lines it found (line numbers relative to the block),
//! and the steps every format takes per line and per value.

use super::field::match_field;
use super::text::LineExtractor;
use crate::fields::{FieldMap, FieldType};
use crate::index::{Index, Match};

/// A hit before its line number is made absolute.
pub(super) struct RelHit {
    pub(super) line: u64,
    pub(super) field: String,
    pub(super) value: String,
    pub(super) m: Match,
    pub(super) ts: Option<String>,
}

/// What one block yielded.
#[derive(Default)]
pub(super) struct BlockResult {
    pub(super) lines: u64,
    pub(super) malformed: u64,
    pub(super) malformed_examples: Vec<u64>,
    pub(super) hits: Vec<RelHit>,
}

/// What every block of an input is matched with.
pub(super) struct BlockCtx<'a> {
    pub(super) index: &'a Index,
    pub(super) fields: &'a FieldMap,
    pub(super) max_line: usize,
    pub(super) extractor: &'a dyn LineExtractor,
}

impl BlockCtx<'_> {
    /// Walks the lines of `data`, counting each: the first is skipped if
    /// asked (a CSV header), empty and overlong ones are dropped (see
    /// [`BlockCtx::content`]), and `f` gets each other line (without its
    /// `\r`), where it starts in `data`, and its number.
    #[inline]
    pub(super) fn each_line(
        &self,
        data: &[u8],
        skip_first: bool,
        res: &mut BlockResult,
        mut f: impl FnMut(&[u8], usize, u64, &mut BlockResult),
    ) {
        let mut pos = 0usize;
        while pos < data.len() {
            let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
            let line_start = pos;
            let line = &data[pos..end];
            pos = end + 1;
            res.lines += 1;
            let lno = res.lines;
            if skip_first && lno == 1 {
                continue;
            }
            let Some(line) = self.content(line, lno, res) else {
                continue;
            };
            f(line, line_start, lno, res);
        }
    }

    /// A line without its `\r`; `None` for an empty line and for an overlong
    /// one or the reader's overlong-line marker (counted malformed).
    pub(super) fn content<'l>(
        &self,
        line: &'l [u8],
        lno: u64,
        res: &mut BlockResult,
    ) -> Option<&'l [u8]> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.max_line || line == b"\0" {
            res.bad(lno);
            return None;
        }
        (!line.is_empty()).then_some(line)
    }

    /// Matches one value of a column of type `ty` named by `name`, its hits
    /// added to `res`.
    pub(super) fn check(
        &self,
        ty: FieldType,
        value: &[u8],
        lno: u64,
        name: &dyn Fn() -> String,
        ms: &mut Vec<Match>,
        res: &mut BlockResult,
    ) {
        ms.clear();
        match_field(self.index, ty, value, ms);
        for m in ms.drain(..) {
            res.hits.push(RelHit {
                line: lno,
                field: name(),
                value: String::from_utf8_lossy(value.trim_ascii()).into_owned(),
                m,
                ts: None,
            });
        }
    }
}

impl BlockResult {
    pub(super) fn bad(&mut self, lno: u64) {
        self.malformed += 1;
        if self.malformed_examples.len() < 5 {
            self.malformed_examples.push(lno);
        }
    }
}
