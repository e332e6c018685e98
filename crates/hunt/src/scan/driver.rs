//! The scanner: inputs matched in parallel (one input per task; its
//! blocks across the pool), hits handed over a batch at a time in line
//! order, and the summaries.

use super::block::{BlockCtx, BlockResult};
use super::format::{LogFormat, Schema, detect, schema_for};
use super::input::{Blocks, Codec, CountingReader, Input, MIN_READ};
use super::ranges;
use super::text::{LineExtractor, SimpleTokenizer};
use crate::errors::HuntError;
use crate::fields::FieldMap;
use crate::index::{Index, MatchKind};
use cairn_model::Observable;
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A progress callback: called with the number of input bytes (as stored on
/// disk, compressed or not) consumed since the last call.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// How to scan.
#[derive(Clone)]
pub struct ScanOptions {
    /// Log format; [`LogFormat::Auto`] detects per file.
    pub format: LogFormat,
    /// Field names to types.
    pub fields: FieldMap,
    /// Lines longer than this are skipped and counted as malformed.
    pub max_line_len: usize,
    /// Bytes per block matched by one worker (256 KB by default: a block
    /// should sit in a core's cache while matched, and every block in
    /// flight is memory the kernel must zero first). Lines may be longer:
    /// a block stretches to hold one.
    pub block_size: usize,
    /// Progress hook.
    pub progress: Option<Progress>,
    /// Text extractor for plain-text logs.
    pub extractor: Arc<dyn LineExtractor>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            format: LogFormat::Auto,
            fields: FieldMap::new(),
            max_line_len: 1 << 20,
            block_size: 256 << 10,
            progress: None,
            extractor: Arc::new(SimpleTokenizer),
        }
    }
}

impl fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanOptions")
            .field("format", &self.format)
            .field("max_line_len", &self.max_line_len)
            .field("block_size", &self.block_size)
            .finish_non_exhaustive()
    }
}

/// One indicator hit in one log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The input's name (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u64,
    /// The field the value was in (`text` for plain text, `host+uri` for
    /// Zeek HTTP URLs rebuilt from two columns).
    pub field: String,
    /// The value as logged.
    pub value: String,
    /// The indicator matched (for CIDR matches, the network).
    pub indicator: Observable,
    /// How it matched.
    pub match_kind: MatchKind,
    /// The caller's keys for the indicator.
    pub keys: Vec<u32>,
    /// The line's timestamp as logged (`ts`, `@timestamp`, `timestamp`), if any.
    pub ts: Option<String>,
}

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// The input's name.
    pub file: String,
    /// The format it was read as.
    pub format: LogFormat,
    /// `gzip`, `zstd` or `none`.
    pub compression: &'static str,
    /// Lines read.
    pub lines: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Lines that could not be read (bad JSON, too few columns, too long).
    pub malformed: u64,
    /// First malformed line numbers (up to 5), for the report.
    pub malformed_examples: Vec<u64>,
    /// Hits reported.
    pub hits: u64,
}

/// The totals of a scan.
#[derive(Debug, Default)]
pub struct Summary {
    /// Per input, in input order (inputs that failed to open are absent).
    pub files: Vec<FileSummary>,
    /// Lines read, all inputs.
    pub lines: u64,
    /// Bytes read (decompressed), all inputs.
    pub bytes: u64,
    /// Malformed lines, all inputs.
    pub malformed: u64,
    /// Hits, all inputs.
    pub hits: u64,
    /// Hits per key.
    pub hits_per_key: HashMap<u32, u64>,
    /// Inputs that could not be (fully) read. Hits before the failure were reported.
    pub errors: Vec<HuntError>,
}

/// Scans logs against an [`Index`].
pub struct Scanner<'i> {
    index: &'i Index,
    opts: ScanOptions,
    /// Read buffers of finished inputs, for the next ones (fresh memory is
    /// dear: the kernel zeroes every new page).
    spare: std::sync::Mutex<Vec<Vec<u8>>>,
}

/// Blocks per worker thread in a batch: a batch ends in a barrier (all its
/// blocks matched, the next batch read), and with fewer blocks the workers
/// measured 10-20 % idle there on one large file.
const BLOCKS_PER_THREAD: usize = 8;

/// [`BLOCKS_PER_THREAD`] for files read as blocks ([`Scanner::scan_ranges`]):
/// there a batch holds no buffers (each worker reads into its own), only
/// results, so it can be long and its barrier rare.
const RANGE_BLOCKS_PER_THREAD: usize = 32;

impl<'i> Scanner<'i> {
    /// A scanner over `index`.
    pub fn new(index: &'i Index, opts: ScanOptions) -> Scanner<'i> {
        Scanner {
            index,
            opts,
            spare: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Scans every input (in parallel), calling `on_hit` for each hit as
    /// results come in: in line order within an input, interleaved between
    /// inputs. `on_hit` runs on worker threads.
    pub fn scan(&self, inputs: &[Input], on_hit: &(dyn Fn(Hit) + Sync)) -> Summary {
        self.scan_batches(inputs, &|hits: Vec<Hit>| hits.into_iter().for_each(on_hit))
    }

    /// Like [`Scanner::scan`], handing over hits a batch at a time (those of
    /// a few blocks of one input, in line order), so that a caller that
    /// takes a lock per call takes it once per batch, not once per hit.
    pub fn scan_batches(&self, inputs: &[Input], on_hits: &(dyn Fn(Vec<Hit>) + Sync)) -> Summary {
        let results: Vec<Result<FileSummary, HuntError>> = inputs
            .par_iter()
            .with_max_len(1)
            .map(|inp| self.scan_one(inp, on_hits))
            .collect();
        let mut s = Summary::default();
        let _ = &mut s;
        for r in results {
            match r {
                Ok(f) => {
                    s.lines += f.lines;
                    s.bytes += f.bytes;
                    s.malformed += f.malformed;
                    s.hits += f.hits;
                    s.files.push(f);
                }
                Err(e) => s.errors.push(e),
            }
        }
        s
    }

    /// Like [`Scanner::scan`], also counting hits per key in the summary.
    pub fn scan_counting(&self, inputs: &[Input], on_hit: &(dyn Fn(Hit) + Sync)) -> Summary {
        let counts = std::sync::Mutex::new(HashMap::<u32, u64>::new());
        let mut s = self.scan(inputs, &|h: Hit| {
            if let Ok(mut c) = counts.lock() {
                for k in &h.keys {
                    *c.entry(*k).or_insert(0) += 1;
                }
            }
            on_hit(h);
        });
        s.hits_per_key = counts.into_inner().unwrap_or_default();
        s
    }

    fn scan_one(
        &self,
        input: &Input,
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> Result<FileSummary, HuntError> {
        self.scan_named(input, input.name(), on_hits)
    }

    /// [`Scanner::scan_one`] with hits and errors naming the input `name`.
    pub(super) fn scan_named(
        &self,
        input: &Input,
        name: String,
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> Result<FileSummary, HuntError> {
        let io_err = |source| HuntError::Io {
            file: name.clone(),
            source,
        };
        let raw: Box<dyn Read + Send> = match input {
            Input::Path(p) => {
                let f = std::fs::File::open(p).map_err(io_err)?;
                if let Some(len) = self.range_readable(&f) {
                    let size = self.block_size() as u64;
                    let blocks = 0..ranges::block_count(len, size);
                    return self.scan_ranges(&f, len, &name, size, blocks, on_hits);
                }
                Box::new(f)
            }
            Input::Stdin => Box::new(io::stdin()),
        };
        let consumed = Arc::new(AtomicU64::new(0));
        // Block reads of plain files are at least this large, so they
        // bypass the buffer instead of being copied through it.
        let mut br = BufReader::with_capacity(
            MIN_READ,
            CountingReader {
                inner: raw,
                count: consumed.clone(),
            },
        );
        let codec = Codec::sniff(br.fill_buf().map_err(io_err)?);
        let codec_name = codec.name();
        let reader = codec.decode(br).map_err(io_err)?;
        let batch = rayon::current_num_threads().max(1) * BLOCKS_PER_THREAD;
        let spare = self
            .spare
            .lock()
            .map(|mut s| {
                let from = s.len().saturating_sub(2 * batch);
                s.split_off(from)
            })
            .unwrap_or_default();
        let mut blocks = Blocks::new(
            reader,
            self.opts.block_size.max(1 << 12),
            self.opts.max_line_len,
            spare,
            2 * batch,
        );
        let file: Arc<str> = Arc::from(name.as_str());
        let mut fs = FileSummary::empty(&name, self.opts.format, codec_name);
        let ctx = self.block_ctx();
        let mut reported = 0u64;
        let report = |reported: &mut u64| {
            if let Some(p) = &self.opts.progress {
                let now = consumed.load(Ordering::Relaxed);
                if now > *reported {
                    p(now - *reported);
                    *reported = now;
                }
            }
        };
        let read_err = |e: io::Error, lines: u64, codec: &'static str| -> HuntError {
            if codec == "none" {
                HuntError::Io {
                    file: name.clone(),
                    source: e,
                }
            } else {
                HuntError::Truncated {
                    file: name.clone(),
                    codec,
                    line: lines,
                    offset: consumed.load(Ordering::Relaxed),
                    reason: e.to_string(),
                }
            }
        };
        let read_batch =
            |blocks: &mut Blocks<Box<dyn Read + Send>>| -> (Vec<Vec<u8>>, Option<io::Error>) {
                let mut v = Vec::with_capacity(batch);
                while v.len() < batch {
                    match blocks.next_block() {
                        Ok(Some(b)) => v.push(b),
                        Ok(None) => break,
                        Err(e) => return (v, Some(e)),
                    }
                }
                (v, None)
            };

        let (mut cur, mut err) = read_batch(&mut blocks);
        let Some(first) = cur.first() else {
            if let Some(e) = err {
                return Err(read_err(e, 0, codec_name));
            }
            return Ok(fs);
        };
        let (format, schema) = self.schema_of(first);
        fs.format = format;
        let skip_header = matches!(schema, Schema::Csv(_));
        let mut first_batch = true;
        // Hits of the previous batch, handed over while the next is matched:
        // a caller's slow formatting then overlaps the matching instead of
        // stalling this input's pipeline.
        let mut pending: Vec<Hit> = Vec::new();
        let hand_over = |hits: Vec<Hit>| {
            if !hits.is_empty() {
                on_hits(hits);
            }
        };
        loop {
            let process = |cur: &Vec<Vec<u8>>| -> Vec<BlockResult> {
                cur.par_iter()
                    .enumerate()
                    .map(|(i, b)| ctx.run(&schema, b, first_batch && i == 0 && skip_header))
                    .collect()
            };
            let done = err.is_some();
            let handed = std::mem::take(&mut pending);
            let (results, next) = if done {
                hand_over(handed);
                (process(&cur), (Vec::new(), None))
            } else {
                rayon::join(
                    || process(&cur),
                    || {
                        hand_over(handed);
                        read_batch(&mut blocks)
                    },
                )
            };
            // Sized once: a growing vector takes fresh pages at every doubling.
            pending.reserve(results.iter().map(|r| r.hits.len()).sum());
            for (b, r) in cur.iter().zip(results) {
                absorb(&mut fs, &file, b.len() as u64, r, &mut pending);
            }
            report(&mut reported);
            first_batch = false;
            if let Some(e) = err {
                hand_over(pending);
                return Err(read_err(e, fs.lines, codec_name));
            }
            let done = std::mem::replace(&mut cur, next.0);
            err = next.1;
            blocks.recycle(done);
            if cur.is_empty() {
                hand_over(std::mem::take(&mut pending));
                match err {
                    Some(e) => return Err(read_err(e, fs.lines, codec_name)),
                    None => break,
                }
            }
        }
        if let Ok(mut s) = self.spare.lock() {
            s.append(&mut blocks.spare);
        }
        Ok(fs)
    }
}

impl FileSummary {
    /// The summary of an input before its first block.
    pub(super) fn empty(file: &str, format: LogFormat, compression: &'static str) -> FileSummary {
        FileSummary {
            file: file.to_string(),
            format,
            compression,
            lines: 0,
            bytes: 0,
            malformed: 0,
            malformed_examples: Vec::new(),
            hits: 0,
        }
    }
}

/// Adds one block's result (the block held `bytes` bytes of the input) to
/// its input's summary, its hits made absolute and queued in `pending`.
pub(super) fn absorb(
    fs: &mut FileSummary,
    file: &Arc<str>,
    bytes: u64,
    r: BlockResult,
    pending: &mut Vec<Hit>,
) {
    fs.bytes += bytes;
    let base = fs.lines;
    for h in r.hits {
        fs.hits += 1;
        pending.push(Hit {
            file: file.clone(),
            line: base + h.line,
            field: h.field,
            value: h.value,
            indicator: h.m.indicator,
            match_kind: h.m.match_kind,
            keys: h.m.keys,
            ts: h.ts,
        });
    }
    fs.malformed += r.malformed;
    for l in r.malformed_examples {
        if fs.malformed_examples.len() < 5 {
            fs.malformed_examples.push(base + l);
        }
    }
    fs.lines += r.lines;
}

thread_local! {
    /// Each worker's buffer for the blocks it reads itself, reused block
    /// after block: it stays in that core's cache and costs no fresh pages.
    static RANGE_BUF: std::cell::RefCell<ranges::BlockBuf> =
        std::cell::RefCell::new(ranges::BlockBuf::default());
}

impl Scanner<'_> {
    /// The length of `file` if it is read as independent blocks: a regular,
    /// uncompressed file of at least two blocks.
    fn range_readable(&self, file: &std::fs::File) -> Option<u64> {
        ranges::plain_len(file, self.block_size() as u64)
    }

    pub(super) fn block_size(&self) -> usize {
        self.opts.block_size.max(1 << 12)
    }

    /// What every block of an input is matched with.
    pub(super) fn block_ctx(&self) -> BlockCtx<'_> {
        BlockCtx {
            index: self.index,
            fields: &self.opts.fields,
            max_line: self.opts.max_line_len,
            extractor: self.opts.extractor.as_ref(),
        }
    }

    /// An input's format (detected unless forced) and schema, from its
    /// first block.
    pub(super) fn schema_of(&self, first: &[u8]) -> (LogFormat, Schema) {
        let format = match self.opts.format {
            LogFormat::Auto => detect(first, &self.opts.fields),
            f => f,
        };
        let schema = schema_for(format, first, &self.opts.fields, self.index);
        (format, schema)
    }

    /// [`Scanner::scan_one`] for a file [`Scanner::range_readable`] accepts:
    /// each worker reads the blocks it matches (a batch at a time, in
    /// order), and the previous batch's hits are handed over meanwhile.
    /// Only the blocks `wanted` (of `size` bytes) are matched, their lines
    /// numbered from the first of them; block 0 is read in any case, for
    /// the format.
    pub(super) fn scan_ranges(
        &self,
        f: &std::fs::File,
        len: u64,
        name: &str,
        size: u64,
        wanted: std::ops::Range<u64>,
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> Result<FileSummary, HuntError> {
        let io_err = |source| HuntError::Io {
            file: name.to_string(),
            source,
        };
        let max_line = self.opts.max_line_len;
        // Block 0 decides the format, and is matched from this buffer.
        let mut first = ranges::BlockBuf::default();
        ranges::read_block(f, len, size, 0, max_line, &mut first).map_err(io_err)?;
        let (format, schema) = self.schema_of(first.lines());
        let skip_header = matches!(schema, Schema::Csv(_));
        let ctx = self.block_ctx();
        let file: Arc<str> = Arc::from(name);
        let mut fs = FileSummary::empty(name, format, "none");
        let blocks = wanted.end.min(ranges::block_count(len, size));
        let batch = (rayon::current_num_threads().max(1) * RANGE_BLOCKS_PER_THREAD) as u64;
        let match_block = |i: u64| -> io::Result<BlockResult> {
            if i == 0 {
                return Ok(ctx.run(&schema, first.lines(), skip_header));
            }
            RANGE_BUF.with_borrow_mut(|buf| {
                ranges::read_block(f, len, size, i, max_line, buf)?;
                Ok(ctx.run(&schema, buf.lines(), false))
            })
        };
        let hand_over = |hits: Vec<Hit>| {
            if !hits.is_empty() {
                on_hits(hits);
            }
        };
        let mut pending: Vec<Hit> = Vec::new();
        let mut next = wanted.start;
        while next < blocks {
            let end = (next + batch).min(blocks);
            let handed = std::mem::take(&mut pending);
            let (results, ()) = rayon::join(
                || {
                    (next..end)
                        .into_par_iter()
                        .map(match_block)
                        .collect::<Vec<_>>()
                },
                || hand_over(handed),
            );
            pending.reserve(results.iter().flatten().map(|r| r.hits.len()).sum());
            for (i, r) in (next..end).zip(results) {
                let bytes = ((i + 1) * size).min(len) - i * size;
                match r {
                    Ok(r) => absorb(&mut fs, &file, bytes, r, &mut pending),
                    Err(e) => {
                        // The hits of the lines before the damage first.
                        hand_over(pending);
                        return Err(io_err(e));
                    }
                }
            }
            if let Some(p) = &self.opts.progress {
                p((end * size).min(len) - next * size);
            }
            next = end;
        }
        hand_over(pending);
        Ok(fs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::build::IndexBuilder;
    use cairn_model::IndicatorKind;

    /// What a scan of one file reported: hits (line, field, value), lines,
    /// malformed lines and the first of their line numbers.
    type Outcome = (Vec<(u64, String, String)>, u64, u64, Vec<u64>);

    /// The hits (line, field, value), lines and malformed lines of `log`
    /// scanned as a file at `block` bytes per block, once read as blocks
    /// (plain) and once streamed (gzip).
    fn plain_and_streamed(ix: &Index, log: &[u8], block: usize, max_line: usize) -> [Outcome; 2] {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("x.log");
        std::fs::write(&plain, log).unwrap();
        let gz = dir.path().join("x.log.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(log).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let opts = ScanOptions {
            block_size: block,
            max_line_len: max_line,
            ..ScanOptions::default()
        };
        [plain, gz].map(|p| {
            let hits = std::sync::Mutex::new(Vec::new());
            let s = Scanner::new(ix, opts.clone()).scan(&[Input::Path(p)], &|h| {
                hits.lock().unwrap().push((h.line, h.field, h.value))
            });
            assert!(s.errors.is_empty(), "{:?}", s.errors);
            let f = &s.files[0];
            (
                hits.into_inner().unwrap(),
                s.lines,
                s.malformed,
                f.malformed_examples.clone(),
            )
        })
    }

    #[test]
    fn files_read_as_blocks_match_like_streams() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Cidr, "45.77.0.0/16"), 1);
        b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 2);
        let ix = b.build();
        let mut zeek = String::from(
            "#separator \\x09\n#set_separator\t,\n#fields\tts\tquery\tanswers\n#types\ttime\tstring\tvector[string]\n",
        );
        for i in 0..3000u32 {
            match i % 7 {
                0 => zeek.push_str(&format!("{i}.0\tkb{i}.dga.asia\t1.1.1.1\n")),
                1 => zeek.push_str(&format!("{i}.0\tx.notdga.asia\t45.77.{}.9\r\n", i % 250)),
                2 => zeek.push_str(&format!("{i}.0\t{}\t-\n", "a".repeat(5000 + i as usize))),
                3 => zeek.push('\n'),
                _ => zeek.push_str(&format!(
                    "{i}.0\texample.com\t8.8.8.8,45.77.1.{}\n",
                    i % 200
                )),
            }
        }
        zeek.push_str("9.0\tlast.dga.asia\t-");
        let csv = {
            let mut c = String::from("ts,query,dst_ip\n");
            for i in 0..4000u32 {
                c.push_str(&format!("{i},n{i}.dga.asia,45.77.0.{}\n", i % 250));
            }
            c
        };
        for (log, max_line) in [
            (zeek.as_bytes(), 6000),
            (zeek.as_bytes(), 1 << 20),
            (csv.as_bytes(), 1 << 20),
        ] {
            for block in [4096, 10_000, 65_536] {
                let [plain, streamed] = plain_and_streamed(&ix, log, block, max_line);
                assert!(!plain.0.is_empty());
                assert_eq!(plain, streamed, "block {block}, max_line {max_line}");
            }
        }
    }
}
