//! Reading logs and matching them: inputs are decompressed, cut into blocks
//! at line boundaries, blocks are matched in parallel, hits come back in
//! file order with absolute line numbers.

use crate::clean::{self, CleanCache};
use crate::errors::HuntError;
use crate::fields::{FieldMap, FieldType, from_zeek_type};
use crate::index::{Index, Match, MatchKind, Probe};
use crate::normalize;
use crate::ranges;
use cairn_model::{IndicatorKind, Observable};
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A log to hunt through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file (plain, gzip or zstd; detected by magic bytes).
    Path(PathBuf),
    /// Standard input (plain, gzip or zstd).
    Stdin,
}

impl Input {
    /// The name hits and errors use (`-` for stdin).
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
        }
    }
}

/// A log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Decide from the content.
    Auto,
    /// Zeek's tab-separated logs with `#fields` headers.
    ZeekTsv,
    /// One JSON object per line (Zeek JSON, ECS, Suricata EVE …).
    Json,
    /// Comma-, tab- or semicolon-separated values with a header line.
    Csv,
    /// Free text: indicators anywhere in the line.
    Text,
}

impl LogFormat {
    /// Name as accepted by `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Auto => "auto",
            LogFormat::ZeekTsv => "zeek",
            LogFormat::Json => "json",
            LogFormat::Csv => "csv",
            LogFormat::Text => "text",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => LogFormat::Auto,
            "zeek" | "zeek-tsv" | "bro" => LogFormat::ZeekTsv,
            "json" | "jsonl" | "ndjson" | "zeek-json" | "ecs" => LogFormat::Json,
            "csv" | "tsv" => LogFormat::Csv,
            "text" | "txt" | "plain" => LogFormat::Text,
            _ => {
                return Err(format!(
                    "unknown log format `{s}` (expected auto, zeek, json, csv or text)"
                ));
            }
        })
    }
}

/// Finds indicators in free text, for plain-text logs. Cairn's report
/// extractor plugs in here; a small built-in tokenizer is the default.
pub trait LineExtractor: Send + Sync {
    /// Typed, refanged indicator values found in `line`.
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)>;
}

/// The report extractor for plain-text logs (defangs, types, public-suffix
/// checks), as the CLI and server hunt them, with benign values kept (the
/// index decides what matters). Built on first use: most hunts read no
/// plain-text line, and building it costs more than scanning a small log.
#[derive(Default)]
pub struct ReportExtractor(std::sync::OnceLock<cairn_extract::Extractor>);

impl LineExtractor for ReportExtractor {
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)> {
        let ex = self.0.get_or_init(|| {
            cairn_extract::Extractor::new(cairn_extract::Options {
                keep_benign: true,
                ..cairn_extract::Options::default()
            })
        });
        LineExtractor::extract(ex, line)
    }
}

/// Plain-text logs read with the report extractor's rules.
impl LineExtractor for cairn_extract::Extractor {
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)> {
        self.extract_line(line)
            .into_iter()
            .map(|f| (f.kind, f.value))
            .collect()
    }
}

/// The built-in tokenizer: splits on separators, refangs `[.]`, `hxxp`,
/// strips ports, and types each token with [`IndicatorKind::detect`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SimpleTokenizer;

impl LineExtractor for SimpleTokenizer {
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)> {
        let refanged;
        let line = if line.contains('[') || line.contains("hxxp") || line.contains("(.)") {
            refanged = line
                .replace("[.]", ".")
                .replace("(.)", ".")
                .replace("[:]", ":")
                .replace("[@]", "@")
                .replace("hxxp", "http");
            refanged.as_str()
        } else {
            line
        };
        let mut out = Vec::new();
        for tok in line.split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\'' | '<' | '>' | ',' | ';' | '|' | '{' | '}' | '`'
                )
        }) {
            if let Some(i) = tok.find("://") {
                // The scheme starts after the last non-scheme character (`c2=https://…`).
                let start = tok[..i]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
                    .map_or(0, |j| j + 1);
                let t = tok[start..].trim_end_matches(['.', ')', ']', ':']);
                let t = t.trim_start_matches(['(', '[']);
                if IndicatorKind::detect(t) == Some(IndicatorKind::Url) {
                    out.push((IndicatorKind::Url, t.to_string()));
                }
                continue;
            }
            for part in tok.split('=') {
                let t = part.trim_matches(|c: char| {
                    matches!(c, '(' | ')' | '[' | ']' | '.' | ':' | '!' | '?')
                });
                if t.len() < 4 {
                    continue;
                }
                let kind = IndicatorKind::detect(t).or_else(|| {
                    // `1.2.3.4:443`, `evil.com:8080`
                    let (h, p) = t.rsplit_once(':')?;
                    (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| IndicatorKind::detect(h))
                        .flatten()
                        .filter(|k| matches!(k, IndicatorKind::Ipv4 | IndicatorKind::Domain))
                });
                if let Some(k) = kind {
                    out.push((k, t.to_string()));
                }
            }
        }
        out
    }
}

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

struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads a stream into blocks of about `block` bytes that end at line
/// boundaries (a longer line makes its block longer). A line longer than
/// `max_line` is replaced by a one-byte NUL line (counted malformed by the
/// matcher) without ever being held in memory.
struct Blocks<R> {
    r: R,
    carry: Vec<u8>,
    block: usize,
    max_line: usize,
    eof: bool,
    skipping: bool,
    /// A read error held back until the lines before it are handed out.
    pending: Option<io::Error>,
    /// Buffers of blocks already matched, for reuse.
    spare: Vec<Vec<u8>>,
    /// How many buffers to keep (two batches are in flight).
    max_spare: usize,
}

impl<R: Read> Blocks<R> {
    /// Gives read blocks back for reuse: a reused buffer is overwritten in
    /// place, so the next blocks cost neither fresh pages nor zeroing.
    fn recycle(&mut self, bufs: Vec<Vec<u8>>) {
        for b in bufs {
            if self.spare.len() < self.max_spare {
                self.spare.push(b);
            }
        }
    }

    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        // `buf[..len]` is the block so far; a recycled buffer keeps its
        // (initialised) length beyond `len`, stale bytes that reads
        // overwrite, so only growth is zero-filled.
        let mut buf = self.spare.pop().unwrap_or_default();
        let mut len = self.carry.len();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        // `buf[..no_newline]` is known to hold no line end (a long line being
        // read on), so each read is searched once.
        let mut no_newline = 0;
        loop {
            if self.eof {
                buf.truncate(len);
                return Ok((len > 0).then_some(buf));
            }
            let want = self.block.saturating_sub(len).max(MIN_READ);
            if buf.len() < len + want {
                buf.resize(len + want, 0);
            }
            let n = match self.r.read(&mut buf[len..len + want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                Err(e) => {
                    // Hand out the complete lines read before the damage first.
                    if let Some(i) = memchr::memrchr(b'\n', &buf[..len]) {
                        buf.truncate(i + 1);
                        self.pending = Some(e);
                        self.eof = true;
                        return Ok(Some(buf));
                    }
                    return Err(e);
                }
            };
            let fresh = len;
            len += n;
            if n == 0 {
                self.eof = true;
                continue;
            }
            if self.skipping {
                // Discard the rest of an overlong line.
                match memchr::memchr(b'\n', &buf[fresh..len]) {
                    Some(i) => {
                        self.skipping = false;
                        buf.copy_within(fresh + i + 1..len, fresh);
                        len -= i + 1;
                    }
                    None => {
                        len = fresh;
                        continue;
                    }
                }
            }
            if len >= self.block {
                match memchr::memrchr(b'\n', &buf[no_newline..len]) {
                    Some(i) => {
                        let i = no_newline + i;
                        self.carry.extend_from_slice(&buf[i + 1..len]);
                        buf.truncate(i + 1);
                        return Ok(Some(buf));
                    }
                    // The whole block is one partial line, already overlong.
                    None if len > self.max_line => {
                        self.skipping = true;
                        buf.clear();
                        buf.extend_from_slice(b"\0\n");
                        len = 2;
                        no_newline = 0;
                    }
                    None => no_newline = len,
                }
            }
        }
    }
}

/// The smallest read into a block, and the buffer size in front of the
/// decompressors.
const MIN_READ: usize = 64 << 10;

/// Blocks per worker thread in a batch: a batch ends in a barrier (all its
/// blocks matched, the next batch read), and with fewer blocks the workers
/// measured 10-20 % idle there on one large file.
const BLOCKS_PER_THREAD: usize = 8;

/// [`BLOCKS_PER_THREAD`] for files read as blocks ([`Scanner::scan_ranges`]):
/// there a batch holds no buffers (each worker reads into its own), only
/// results, so it can be long and its barrier rare.
const RANGE_BLOCKS_PER_THREAD: usize = 32;

/// Per-file reading context shared by its blocks.
#[derive(Debug, Clone)]
enum Schema {
    Zeek(ZeekSchema),
    Json,
    Csv(CsvSchema),
    Text,
}

#[derive(Debug, Clone)]
struct ZeekSchema {
    sep: u8,
    set_sep: u8,
    unset: Vec<u8>,
    empty: Vec<u8>,
    names: Vec<String>,
    /// Per column: type, and whether it is a set/vector.
    cols: Vec<Option<(FieldType, bool)>>,
    last_wanted: usize,
    /// Bit i set: column i is read by the prefilter pass ([`split_wanted`]);
    /// `None` when a wanted column lies past the 64th.
    wanted: Option<u64>,
    ts: Option<usize>,
    http_host_uri: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct CsvSchema {
    delim: u8,
    names: Vec<String>,
    cols: Vec<Option<FieldType>>,
    ts: Option<usize>,
}

fn unescape_zeek_sep(v: &str) -> u8 {
    let v = v.trim_end_matches('\r');
    if let Some(h) = v.strip_prefix("\\x")
        && let Ok(b) = u8::from_str_radix(h, 16)
    {
        return b;
    }
    v.bytes().next().unwrap_or(b'\t')
}

/// The schema of a Zeek log from its header; columns of types `usable`
/// rejects are left out.
fn parse_zeek_header(
    head: &[u8],
    fields: &FieldMap,
    usable: impl Fn(FieldType) -> bool,
) -> ZeekSchema {
    let mut z = ZeekSchema {
        sep: b'\t',
        set_sep: b',',
        unset: b"-".to_vec(),
        empty: b"(empty)".to_vec(),
        names: Vec::new(),
        cols: Vec::new(),
        last_wanted: 0,
        wanted: None,
        ts: None,
        http_host_uri: None,
    };
    let mut types: Vec<String> = Vec::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(rest) = line.strip_prefix(b"#") else {
            if !line.is_empty() {
                break;
            }
            continue;
        };
        let text = String::from_utf8_lossy(rest);
        let text = text.trim_end_matches('\r');
        if let Some(v) = text.strip_prefix("separator ") {
            z.sep = unescape_zeek_sep(v.trim());
            continue;
        }
        let sep = z.sep as char;
        let mut parts = text.split(sep);
        let key = parts.next().unwrap_or("");
        let vals: Vec<String> = parts.map(str::to_string).collect();
        match key {
            "set_separator" => {
                if let Some(v) = vals.first() {
                    z.set_sep = unescape_zeek_sep(v);
                }
            }
            "unset_field" => {
                if let Some(v) = vals.first() {
                    z.unset = v.as_bytes().to_vec();
                }
            }
            "empty_field" => {
                if let Some(v) = vals.first() {
                    z.empty = v.as_bytes().to_vec();
                }
            }
            "fields" => z.names = vals,
            "types" => types = vals,
            _ => {}
        }
    }
    z.cols = z
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let ty = types.get(i).map(String::as_str).unwrap_or("");
            let is_set = ty.starts_with("set[") || ty.starts_with("vector[");
            fields
                .lookup(n)
                .or_else(|| from_zeek_type(ty))
                .filter(|t| usable(*t))
                .map(|t| (t, is_set))
        })
        .collect();
    z.last_wanted = z.cols.iter().rposition(Option::is_some).unwrap_or(0);
    z.ts = z.names.iter().position(|n| n == "ts");
    let host = z.names.iter().position(|n| n == "host");
    let uri = z.names.iter().position(|n| n == "uri");
    if let (Some(h), Some(u)) = (host, uri) {
        z.http_host_uri = Some((h, u));
        z.last_wanted = z.last_wanted.max(u);
    }
    if z.last_wanted < 64 {
        let mut w = 0u64;
        for (i, c) in z.cols.iter().enumerate().take(64) {
            if c.is_some() {
                w |= 1 << i;
            }
        }
        if let Some((h, u)) = z.http_host_uri {
            w |= (1 << h) | (1 << u);
        }
        z.wanted = Some(w | 1 << z.last_wanted);
    }
    z
}

/// Splits one CSV line (RFC 4180 quoting within the line).
fn split_csv(line: &[u8], delim: u8, out: &mut Vec<Vec<u8>>) {
    out.clear();
    let mut cur = Vec::new();
    let mut i = 0;
    let mut quoted = false;
    while i < line.len() {
        let b = line[i];
        if quoted {
            if b == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                cur.push(b);
            }
        } else if b == b'"' && cur.is_empty() {
            quoted = true;
        } else if b == delim {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(b);
        }
        i += 1;
    }
    out.push(cur);
}

fn is_ts_name(n: &str) -> bool {
    matches!(
        n.to_ascii_lowercase().as_str(),
        "ts" | "@timestamp" | "timestamp" | "time" | "date" | "datetime" | "event.created"
    )
}

fn csv_schema(
    first_line: &[u8],
    delim: u8,
    fields: &FieldMap,
    usable: impl Fn(FieldType) -> bool,
) -> CsvSchema {
    let mut cells = Vec::new();
    split_csv(first_line, delim, &mut cells);
    let names: Vec<String> = cells
        .iter()
        .map(|c| String::from_utf8_lossy(c).trim().to_string())
        .collect();
    let cols = names
        .iter()
        .map(|n| fields.lookup(n).filter(|t| usable(*t)))
        .collect();
    let ts = names.iter().position(|n| is_ts_name(n));
    CsvSchema {
        delim,
        names,
        cols,
        ts,
    }
}

fn first_line(block: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', block).unwrap_or(block.len());
    let l = &block[..end];
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// Decides the format from the first block.
fn detect(block: &[u8], fields: &FieldMap) -> LogFormat {
    let start = block
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(block.len());
    let b = &block[start..];
    if b.starts_with(b"#separator") {
        return LogFormat::ZeekTsv;
    }
    if b.starts_with(b"{") {
        return LogFormat::Json;
    }
    let line = first_line(b);
    for delim in [b'\t', b',', b';'] {
        if memchr::memchr(delim, line).is_none() {
            continue;
        }
        let mut cells = Vec::new();
        split_csv(line, delim, &mut cells);
        let names: Vec<String> = cells
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .collect();
        let plausible = names
            .iter()
            .all(|n| n.len() <= 64 && !normalize::is_ip(n.as_bytes()) && !n.contains("://"));
        if plausible && names.iter().any(|n| fields.lookup(n).is_some()) {
            return LogFormat::Csv;
        }
    }
    LogFormat::Text
}

fn schema_for(format: LogFormat, block: &[u8], fields: &FieldMap, index: &Index) -> Schema {
    let usable = |ty: FieldType| can_match(index, ty);
    match format {
        LogFormat::ZeekTsv => {
            let end = block.len().min(1 << 20);
            Schema::Zeek(parse_zeek_header(&block[..end], fields, usable))
        }
        LogFormat::Json => Schema::Json,
        LogFormat::Csv => {
            let line = first_line(block);
            let delim = [b'\t', b',', b';']
                .into_iter()
                .max_by_key(|d| memchr::memchr_iter(*d, line).count())
                .unwrap_or(b',');
            Schema::Csv(csv_schema(line, delim, fields, usable))
        }
        LogFormat::Text | LogFormat::Auto => Schema::Text,
    }
}

/// A hit before its line number is made absolute.
struct RelHit {
    line: u64,
    field: String,
    value: String,
    m: Match,
    ts: Option<String>,
}

#[derive(Default)]
struct BlockResult {
    lines: u64,
    malformed: u64,
    malformed_examples: Vec<u64>,
    hits: Vec<RelHit>,
}

/// Matches one value of a typed field.
pub(crate) fn match_field(index: &Index, ty: FieldType, raw: &[u8], out: &mut Vec<Match>) {
    let v = raw.trim_ascii();
    if v.is_empty() {
        return;
    }
    match ty {
        FieldType::Domain => index.match_host_or_ip(v, false, out),
        FieldType::Ip => {
            if let Some(ip) = normalize::parse_ip(v) {
                index.match_ip(ip, false, out);
            }
        }
        FieldType::Url => {
            if let Ok(s) = std::str::from_utf8(v) {
                index.match_url(s, out);
            }
        }
        FieldType::Email => index.match_email(v, out),
        FieldType::Hash | FieldType::Serial | FieldType::Ja3 | FieldType::Jarm => {
            let mut buf = [0u8; 256];
            if let Some(h) = normalize::hex_stack(v, &mut buf) {
                index.match_hex(h, |k| hex_kind_fits(ty, k), out);
            }
        }
        FieldType::Ja4 => index.match_simple(IndicatorKind::Ja4, v, out),
        FieldType::FileName => index.match_simple(IndicatorKind::FileName, v, out),
        FieldType::Auto => {
            // What `IndicatorKind::detect` would call an IPv4 address, without
            // the detour through `str` (DNS answers are mostly addresses).
            if let Some(a) = normalize::parse_ipv4_strict(v) {
                index.match_ip(std::net::IpAddr::V4(a), false, out);
                return;
            }
            let Ok(s) = std::str::from_utf8(v) else {
                return;
            };
            match IndicatorKind::detect(s) {
                Some(IndicatorKind::Ipv4 | IndicatorKind::Ipv6) => {
                    match_field(index, FieldType::Ip, v, out)
                }
                Some(IndicatorKind::Url) => index.match_url(s, out),
                Some(IndicatorKind::Email) => index.match_email(v, out),
                Some(k) if k.is_hex() || k == IndicatorKind::Jarm => {
                    match_field(index, FieldType::Hash, v, out)
                }
                Some(IndicatorKind::Domain) => index.match_host_or_ip(v, false, out),
                _ => {}
            }
        }
        FieldType::Text => {
            if let Ok(s) = std::str::from_utf8(v) {
                for (k, val) in crate::scan::SimpleTokenizer.extract(s) {
                    match_typed(index, k, &val, out);
                }
            }
        }
        FieldType::Ignore => {}
    }
}

/// Whether a hex indicator of `kind` may match a value of a hex column
/// of type `ty`: TLS client/server fingerprints only in their own columns.
fn hex_kind_fits(ty: FieldType, kind: IndicatorKind) -> bool {
    use IndicatorKind as K;
    match ty {
        FieldType::Ja3 => matches!(kind, K::Ja3 | K::Ja3s),
        FieldType::Jarm => kind == K::Jarm,
        _ => true,
    }
}

/// Whether any indicator of `index` can match a value of type `ty`. A
/// column none can match is not read at all.
fn can_match(index: &Index, ty: FieldType) -> bool {
    use IndicatorKind as K;
    match ty {
        FieldType::Ja3 => index.has_kind(K::Ja3) || index.has_kind(K::Ja3s),
        FieldType::Jarm => index.has_kind(K::Jarm),
        FieldType::Ja4 => index.has_kind(K::Ja4),
        FieldType::Email => index.has_kind(K::Email),
        FieldType::FileName => index.has_kind(K::FileName),
        FieldType::Ignore => false,
        _ => true,
    }
}

/// Matches a value whose indicator kind is known (from an extractor).
fn match_typed(index: &Index, kind: IndicatorKind, val: &str, out: &mut Vec<Match>) {
    let ty = match kind {
        IndicatorKind::Domain => FieldType::Domain,
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => FieldType::Ip,
        IndicatorKind::Url => FieldType::Url,
        IndicatorKind::Email => FieldType::Email,
        IndicatorKind::Ja4 => FieldType::Ja4,
        IndicatorKind::FileName => FieldType::FileName,
        IndicatorKind::Ja3 | IndicatorKind::Ja3s => FieldType::Ja3,
        IndicatorKind::Jarm => FieldType::Jarm,
        k if k.is_hex() => FieldType::Hash,
        _ => return,
    };
    if ty == FieldType::Domain {
        // `evil.com:8080` from text.
        index.match_host_or_ip(val.as_bytes(), false, out);
    } else {
        match_field(index, ty, val.as_bytes(), out);
    }
}

/// The prefilter half of [`match_field`]: pushes deferred probes for what
/// `match_field` would look up, and returns true, when a probe-free "no"
/// or probes decide whether the value can match; false when only the full
/// match can tell (the caller then matches the whole line).
pub(crate) fn gather_field(
    index: &Index,
    ty: FieldType,
    raw: &[u8],
    slot: u32,
    probes: &mut Vec<Probe>,
) -> bool {
    let v = raw.trim_ascii();
    if v.is_empty() {
        return true;
    }
    match ty {
        FieldType::Domain => index.gather_host(v, slot, probes),
        // Internal addresses, most of a log's, are ruled out unparsed.
        FieldType::Ip if index.v4_lead_absent(v) => true,
        FieldType::Ip => match normalize::parse_ipv4_strict(v) {
            Some(a) => index.gather_v4(a, slot, probes),
            None => match normalize::parse_ip(v) {
                Some(IpAddr::V4(a)) => index.gather_v4(a, slot, probes),
                Some(IpAddr::V6(a)) => index.gather_v6(a, slot, probes),
                None => true,
            },
        },
        FieldType::Hash | FieldType::Serial | FieldType::Ja3 | FieldType::Jarm => {
            if !can_match(index, ty) {
                return true;
            }
            // Hashes in logs are nearly always canonical already: no buffer.
            if normalize::is_canonical_hex(v) {
                index.gather_hex(v, slot, probes);
                return true;
            }
            let mut buf = [0u8; 256];
            if let Some(h) = normalize::hex_stack(v, &mut buf) {
                index.gather_hex(h, slot, probes);
            }
            true
        }
        // `match_field` reads a dotted quad here as an address; the rest
        // (names, URLs, hashes by shape) goes the full way.
        FieldType::Auto => match normalize::parse_ipv4_strict(v) {
            Some(a) => index.gather_v4(a, slot, probes),
            None => false,
        },
        FieldType::Email | FieldType::Ja4 | FieldType::FileName => !can_match(index, ty),
        FieldType::Url | FieldType::Text => false,
        FieldType::Ignore => true,
    }
}

/// A probe's slot: the line's place in its batch and the column the value
/// came from, so that a confirmed value sends only its column to be matched.
#[inline]
fn probe_slot(line: u32, col: usize) -> u32 {
    line << 6 | (col & 63) as u32
}

/// The line's place and the column's bit of a [`probe_slot`].
#[inline]
fn slot_parts(slot: u32) -> (usize, u64) {
    ((slot >> 6) as usize, 1 << (slot & 63))
}

/// Lines of a block gathered for [`BlockCtx::zeek_flush`].
#[derive(Default)]
struct ZeekBatch {
    /// (start, end, line number) of each line.
    lines: Vec<(usize, usize, u64)>,
    /// Per line: the columns to read in full (bit `i`: column `i`), all
    /// of them (`u64::MAX`) for a line its probes cannot decide.
    full: Vec<u64>,
    probes: Vec<Probe>,
    /// The probes that passed their filter (places in `probes`).
    passed: Vec<u32>,
    /// Column bounds of the line being gathered.
    cols: Vec<(usize, usize)>,
    /// (column, start, end) of its wanted columns.
    wcols: Vec<(usize, usize, usize)>,
    /// Names whose probes were gathered (probe slot, cache key): the ones
    /// the probes turn away go into the thread's [`CleanCache`].
    names: Vec<(u32, clean::Key)>,
}

impl ZeekBatch {
    /// Adds the line at `start` (`len` bytes, number `lno`), to be read in
    /// full unless its probes `decided` it; true when the batch is full.
    fn push(&mut self, start: usize, len: usize, lno: u64, decided: bool) -> bool {
        self.lines.push((start, start + len, lno));
        self.full.push(if decided { 0 } else { u64::MAX });
        self.lines.len() == ZEEK_BATCH
    }
}

/// Column bounds of `line` cut at `sep`, at most `max` columns (the rest of
/// the line is not looked at): what iterating `memchr_iter(sep, line)` gives,
/// sixteen bytes per step since Zeek columns are short.
///
/// Returns whether a backslash (a Zeek escape) may be in the columns
/// returned: exact for the chunks scanned, so true can also mean one sits a
/// few bytes past the last column returned.
fn split_columns(line: &[u8], sep: u8, max: usize, out: &mut Vec<(usize, usize)>) -> bool {
    out.clear();
    if max == 0 {
        return false;
    }
    let mut escapes = 0u32;
    let mut start = 0usize;
    let (chunks, tail) = line.as_chunks::<16>();
    for (ci, c) in chunks.iter().enumerate() {
        let (mut m, bs, _) = byte_masks16(c, sep, b'\\', sep);
        escapes |= bs;
        while m != 0 {
            let pos = ci * 16 + m.trailing_zeros() as usize;
            out.push((start, pos));
            if out.len() == max {
                return escapes != 0;
            }
            start = pos + 1;
            m &= m - 1;
        }
    }
    let base = chunks.len() * 16;
    for (j, &b) in tail.iter().enumerate() {
        escapes |= u32::from(b == b'\\');
        if b == sep {
            out.push((start, base + j));
            if out.len() == max {
                return escapes != 0;
            }
            start = base + j + 1;
        }
    }
    out.push((start, line.len()));
    escapes != 0
}

/// What [`split_wanted`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Split {
    /// A backslash (a Zeek escape) may be in the columns returned.
    escapes: bool,
    /// Column `last` exists.
    complete: bool,
    /// Where the line ends: its newline, or the end of the input.
    end: usize,
}

/// Bounds `(column, start, end)` of the wanted columns of the line that
/// starts `rest` (those whose bit is set in `wanted`, column `last` among
/// them), in order, stopping at the end of column `last` or of the line.
///
/// One pass finds columns and the line's end together (a separate newline
/// search first would read every byte twice), and a chunk of 64 bytes in
/// which no wanted column ends costs one mask test, whatever its
/// separators: most columns of a Zeek line are not read.
fn split_wanted(
    rest: &[u8],
    sep: u8,
    wanted: u64,
    last: usize,
    out: &mut Vec<(usize, usize, usize)>,
) -> Split {
    split_wanted_by::<false>(
        rest,
        wanted,
        last,
        out,
        |_, _| 0,
        |c| {
            let mut masks = (0u64, 0u64, 0u64);
            for (i, q) in c.as_chunks::<16>().0.iter().enumerate() {
                let (m, bs, nl) = byte_masks16(q, sep, b'\\', b'\n');
                masks.0 |= u64::from(m) << (16 * i);
                masks.1 |= u64::from(bs) << (16 * i);
                masks.2 |= u64::from(nl) << (16 * i);
            }
            masks
        },
    )
}

/// [`split_wanted`] with AVX2 compares (and the bit instructions that came
/// with it: `popcnt`, `lzcnt`, BMI). With `PDEP`, BMI2's `pdep` goes
/// straight to the separators ending wanted columns instead of walking the
/// ones before them: only where [`has_fast_pdep`] says it is quick.
///
/// # Safety
/// The CPU must have AVX2, BMI1, BMI2, POPCNT and LZCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt,lzcnt")]
unsafe fn split_wanted_avx2<const PDEP: bool>(
    rest: &[u8],
    sep: u8,
    wanted: u64,
    last: usize,
    out: &mut Vec<(usize, usize, usize)>,
) -> Split {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
        _pdep_u64,
    };
    // Safe to call here: BMI2 is among this function's enabled features.
    let deposit = |x: u64, m: u64| _pdep_u64(x, m);
    split_wanted_by::<PDEP>(rest, wanted, last, out, deposit, |c| {
        // SAFETY: this function only runs on CPUs with AVX2 (its contract);
        // each load reads 32 of the 64 bytes of `c` (unaligned loads are
        // allowed), the rest works on registers.
        unsafe {
            let lo = _mm256_loadu_si256(c.as_ptr().cast::<__m256i>());
            let hi = _mm256_loadu_si256(c.as_ptr().add(32).cast::<__m256i>());
            let m = |b: u8| {
                let b = _mm256_set1_epi8(b as i8);
                let l = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, b)) as u32;
                let h = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, b)) as u32;
                u64::from(l) | u64::from(h) << 32
            };
            (m(sep), m(b'\\'), m(b'\n'))
        }
    })
}

/// The body of [`split_wanted`], 64 bytes per chunk, with `masks` giving
/// the separator, backslash and newline bits of a chunk. With `PDEP`,
/// `deposit` is BMI2's `pdep` (bit `i` of its first argument moved to the
/// place of the `i`-th set bit of the second); without, it is not called.
#[inline(always)]
fn split_wanted_by<const PDEP: bool>(
    rest: &[u8],
    wanted: u64,
    last: usize,
    out: &mut Vec<(usize, usize, usize)>,
    deposit: impl Fn(u64, u64) -> u64,
    masks: impl Fn(&[u8; 64]) -> (u64, u64, u64),
) -> Split {
    const W: usize = 64;
    out.clear();
    let is_wanted = |col: usize| col < 64 && wanted & (1 << col) != 0;
    let n = rest.len();
    // The chunk at `base`; the last few bytes zero-padded to a chunk with
    // the padding's bits masked off (whatever the separator byte). Padding
    // is built only when a line runs into them, at a block's end.
    let chunk = |base: usize| -> (u64, u64, u64) {
        match rest.get(base..base + W) {
            Some(c) => masks(&c.as_chunks::<W>().0[0]),
            None => {
                let tail = &rest[base..];
                let mut padded = [0u8; W];
                padded[..tail.len()].copy_from_slice(tail);
                let (m, bs, nl) = masks(&padded);
                let valid = (1u64 << tail.len()) - 1;
                (m & valid, bs & valid, nl & valid)
            }
        }
    };
    let mut escapes = 0u64;
    // `col` is the index of the column starting at `start`.
    let mut col = 0usize;
    let mut start = 0usize;
    let mut base = 0usize;
    while base < n {
        let (mut m, bs, nl) = chunk(base);
        // Bits below the first newline (all of them without one); the
        // newline bits above it that it keeps are no separator or backslash.
        let keep = nl.wrapping_sub(1);
        m &= keep;
        escapes |= bs & keep;
        if m != 0 {
            let k = m.count_ones();
            // Columns col..col+k end in this chunk; `last` is wanted, so this
            // never skips past it. (`k` is 64 for a chunk of separators only.)
            let mut ending = if col < 64 {
                (wanted >> col) & 1u64.checked_shl(k).unwrap_or(0).wrapping_sub(1)
            } else {
                0
            };
            // Straight to the separators ending wanted columns (a chunk holds
            // up to a few dozen separators and a line two to five wanted
            // columns). With `pdep`: separator `j` ends column `col + j`, so
            // `ends` holds the separators ending wanted columns and `befores`
            // the ones just before them (column `col` starts at `start`).
            // Without: walking the separators once, `sm`'s lowest bit is
            // separator `j`, `from` the start of column `col + j`.
            let (mut ends, mut befores) = if PDEP {
                (deposit(ending, m), deposit(ending >> 1, m))
            } else {
                (0, 0)
            };
            let mut sm = m;
            let mut j = 0u32;
            let mut from = start;
            while ending != 0 {
                let want = ending.trailing_zeros();
                let pos;
                if PDEP {
                    j = want;
                    if want > 0 {
                        from = base + befores.trailing_zeros() as usize + 1;
                        befores &= befores.wrapping_sub(1);
                    }
                    pos = base + ends.trailing_zeros() as usize;
                    ends &= ends.wrapping_sub(1);
                } else {
                    while j < want {
                        from = base + sm.trailing_zeros() as usize + 1;
                        sm &= sm - 1;
                        j += 1;
                    }
                    pos = base + sm.trailing_zeros() as usize;
                }
                out.push((col + j as usize, from, pos));
                if col + j as usize == last {
                    let mut end_base = base;
                    let mut nl = nl;
                    // The line's end, from the newline masks alone.
                    while nl == 0 {
                        end_base += W;
                        if end_base >= n {
                            return Split {
                                escapes: escapes != 0,
                                complete: true,
                                end: n,
                            };
                        }
                        nl = chunk(end_base).2;
                    }
                    return Split {
                        escapes: escapes != 0,
                        complete: true,
                        end: end_base + nl.trailing_zeros() as usize,
                    };
                }
                ending &= ending - 1;
            }
            col += k as usize;
            start = base + (63 - m.leading_zeros()) as usize + 1;
        }
        if nl != 0 {
            let end = base + nl.trailing_zeros() as usize;
            if is_wanted(col) {
                out.push((col, start, end));
            }
            return Split {
                escapes: escapes != 0,
                complete: col >= last,
                end,
            };
        }
        base += W;
    }
    // No newline: the line ends with the input.
    if is_wanted(col) {
        out.push((col, start, n));
    }
    Split {
        escapes: escapes != 0,
        complete: col >= last,
        end: n,
    }
}

/// Whether this CPU can run [`split_wanted_avx2`] (detected once, cached
/// by the standard library).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("lzcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether BMI2's `pdep` is quick on this CPU (given BMI2): on Intel, and
/// on AMD from Zen 3 (family 0x19) on; earlier AMD cores run it in
/// microcode, hundreds of cycles for the masks a Zeek line makes.
fn has_fast_pdep() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static FAST: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *FAST.get_or_init(|| {
            use std::arch::x86_64::__cpuid;
            let v = __cpuid(0);
            let vendor = [v.ebx, v.edx, v.ecx];
            let intel = vendor == [0x756e_6547, 0x4965_6e69, 0x6c65_746e]; // "GenuineIntel"
            let amd = vendor == [0x6874_7541, 0x6974_6e65, 0x444d_4163]; // "AuthenticAMD"
            let eax = __cpuid(1).eax;
            let base = (eax >> 8) & 0xf;
            let family = if base == 0xf {
                base + ((eax >> 20) & 0xff)
            } else {
                base
            };
            intel || (amd && family >= 0x19)
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Bit `i` of the first mask is set where `chunk[i] == a`, of the second
/// where `chunk[i] == b`, of the third where `chunk[i] == c`.
#[inline]
fn byte_masks16(chunk: &[u8; 16], a: u8, b: u8, c: u8) -> (u32, u32, u32) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: `byte_masks16_sse2` only needs SSE2, which this cfg
        // guarantees is enabled for the whole build (it is part of the
        // x86_64 baseline), so every CPU that runs this code has it. The
        // function reads nothing but its by-reference array argument.
        unsafe { byte_masks16_sse2(chunk, a, b, c) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        byte_masks16_swar(chunk, a, b, c)
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
fn byte_masks16_sse2(chunk: &[u8; 16], a: u8, b: u8, c: u8) -> (u32, u32, u32) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8};
    let (lo, hi) = chunk.as_chunks::<8>().0.split_at(1);
    let lo = i64::from_le_bytes(lo[0]);
    let hi = i64::from_le_bytes(hi[0]);
    // Compiles to one unaligned 16-byte load.
    let v = _mm_set_epi64x(hi, lo);
    let ma = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(a as i8))) as u32;
    let mb = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32;
    let mc = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32;
    (ma, mb, mc)
}

/// Portable [`byte_masks16`]: eight bytes per step in a `u64`.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn byte_masks16_swar(chunk: &[u8; 16], a: u8, b: u8, c: u8) -> (u32, u32, u32) {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // High bit of each byte set exactly where the byte of `x` is zero (no
    // carries cross bytes: 0x7f + 0x7f < 0x100), then gathered into 8 bits.
    fn zero_mask(x: u64) -> u32 {
        let m = !(((x & LO7) + LO7) | x | LO7) >> 7;
        (m.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
    }
    let (mut ma, mut mb, mut mc) = (0u32, 0u32, 0u32);
    for (i, w) in chunk.as_chunks::<8>().0.iter().enumerate() {
        let w = u64::from_le_bytes(*w);
        ma |= zero_mask(w ^ u64::from_ne_bytes([a; 8])) << (8 * i);
        mb |= zero_mask(w ^ u64::from_ne_bytes([b; 8])) << (8 * i);
        mc |= zero_mask(w ^ u64::from_ne_bytes([c; 8])) << (8 * i);
    }
    (ma, mb, mc)
}

/// Calls `f` on each element of a Zeek set or vector cut at `sep` while it
/// returns true; whether all did. Sixteen bytes per step and no call: the
/// values are short, where a `memchr` call costs more than the search.
#[inline]
fn split_set<'a>(col: &'a [u8], sep: u8, mut f: impl FnMut(&'a [u8]) -> bool) -> bool {
    let mut from = 0;
    let (chunks, tail) = col.as_chunks::<16>();
    for (ci, c) in chunks.iter().enumerate() {
        let (mut m, _, _) = byte_masks16(c, sep, sep, sep);
        while m != 0 {
            let to = ci * 16 + m.trailing_zeros() as usize;
            if !f(&col[from..to]) {
                return false;
            }
            from = to + 1;
            m &= m - 1;
        }
    }
    let base = chunks.len() * 16;
    for (j, &b) in tail.iter().enumerate() {
        if b == sep {
            if !f(&col[from..base + j]) {
                return false;
            }
            from = base + j + 1;
        }
    }
    f(&col[from..])
}

/// Lines gathered before their probes are tested together.
const ZEEK_BATCH: usize = 64;

struct BlockCtx<'a> {
    index: &'a Index,
    fields: &'a FieldMap,
    max_line: usize,
    extractor: &'a dyn LineExtractor,
}

impl BlockCtx<'_> {
    fn run(&self, schema: &Schema, data: &[u8], skip_first: bool) -> BlockResult {
        if let Schema::Zeek(z) = schema
            && let Some(wanted) = z.wanted
            && !skip_first
        {
            return self.run_zeek(z, wanted, data);
        }
        let mut res = BlockResult::default();
        let mut ms: Vec<Match> = Vec::new();
        let mut cells: Vec<Vec<u8>> = Vec::new();
        let mut json_cache: HashMap<String, Option<FieldType>> = HashMap::new();
        let mut unesc: Vec<u8> = Vec::new();
        let mut batch = ZeekBatch::default();
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
            let Some(line) = self.content(line, lno, &mut res) else {
                continue;
            };
            match schema {
                Schema::Zeek(z) => {
                    if line[0] == b'#' {
                        continue;
                    }
                    let slot = batch.lines.len() as u32;
                    // Only schemas with wanted columns past the 64th get here.
                    let decided =
                        self.zeek_gather_all(z, line, slot, &mut batch.cols, &mut batch.probes);
                    if batch.push(line_start, line.len(), lno, decided) {
                        self.zeek_flush(z, data, &mut batch, None, &mut ms, &mut unesc, &mut res);
                    }
                }
                Schema::Json => self.json_line(line, lno, &mut ms, &mut json_cache, &mut res),
                Schema::Csv(c) => self.csv_line(c, line, lno, &mut ms, &mut cells, &mut res),
                Schema::Text => self.text_line(line, lno, &mut ms, &mut res),
            }
        }
        if let Schema::Zeek(z) = schema {
            self.zeek_flush(z, data, &mut batch, None, &mut ms, &mut unesc, &mut res);
        }
        res
    }

    /// A line without its `\r`; `None` for an empty line and for an overlong
    /// one or the reader's overlong-line marker (counted malformed).
    fn content<'l>(&self, line: &'l [u8], lno: u64, res: &mut BlockResult) -> Option<&'l [u8]> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.max_line || line == b"\0" {
            res.bad(lno);
            return None;
        }
        (!line.is_empty()).then_some(line)
    }

    /// [`BlockCtx::run`] for Zeek logs whose wanted columns are all among
    /// the first 64 (all real ones): each line's columns and its end are
    /// found in one pass.
    fn run_zeek(&self, z: &ZeekSchema, wanted: u64, data: &[u8]) -> BlockResult {
        clean::with(self.index.id(), |clean| {
            self.run_zeek_with(z, wanted, data, clean)
        })
    }

    /// [`BlockCtx::run_zeek`] with this thread's cache of clean names, if
    /// it is free.
    fn run_zeek_with(
        &self,
        z: &ZeekSchema,
        wanted: u64,
        data: &[u8],
        mut clean: Option<&mut CleanCache>,
    ) -> BlockResult {
        let mut res = BlockResult::default();
        let mut ms: Vec<Match> = Vec::new();
        let mut unesc: Vec<u8> = Vec::new();
        let mut batch = ZeekBatch::default();
        let avx2 = has_avx2();
        let pdep = avx2 && has_fast_pdep();
        let mut pos = 0usize;
        while pos < data.len() {
            let rest = &data[pos..];
            // Comments, empty lines and the reader's overlong-line marker
            // take the plain path.
            let split = match rest[0] {
                b'#' | b'\n' | b'\r' | 0 => None,
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `avx2` (and so `pdep`) is true only when `has_avx2`
                // detected every feature `split_wanted_avx2` is compiled for
                // on this CPU.
                _ if pdep => Some(unsafe {
                    split_wanted_avx2::<true>(rest, z.sep, wanted, z.last_wanted, &mut batch.wcols)
                }),
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                _ if avx2 => Some(unsafe {
                    split_wanted_avx2::<false>(rest, z.sep, wanted, z.last_wanted, &mut batch.wcols)
                }),
                _ => Some(split_wanted(
                    rest,
                    z.sep,
                    wanted,
                    z.last_wanted,
                    &mut batch.wcols,
                )),
            };
            let end = match split {
                Some(sp) => pos + sp.end,
                None => memchr::memchr(b'\n', rest).map_or(data.len(), |i| pos + i),
            };
            let line_start = pos;
            let line = &data[pos..end];
            pos = end + 1;
            res.lines += 1;
            let lno = res.lines;
            let Some(line) = self.content(line, lno, &mut res) else {
                continue;
            };
            if line[0] == b'#' {
                continue;
            }
            let slot = batch.lines.len() as u32;
            let decided = match split {
                Some(sp) => self.zeek_probe(z, line, sp, slot, clean.as_deref(), &mut batch),
                None => false,
            };
            if batch.push(line_start, line.len(), lno, decided) {
                let c = clean.as_deref_mut();
                self.zeek_flush(z, data, &mut batch, c, &mut ms, &mut unesc, &mut res);
            }
        }
        self.zeek_flush(z, data, &mut batch, clean, &mut ms, &mut unesc, &mut res);
        res
    }

    /// Tests a batch's gathered probes together (their cache misses overlap),
    /// then reads in full, in order, the lines that may hold a match. Names
    /// the probes turned away go into `clean`.
    #[allow(clippy::too_many_arguments)]
    fn zeek_flush(
        &self,
        z: &ZeekSchema,
        data: &[u8],
        batch: &mut ZeekBatch,
        clean: Option<&mut CleanCache>,
        ms: &mut Vec<Match>,
        unesc: &mut Vec<u8>,
        res: &mut BlockResult,
    ) {
        // Stage 1: the cache-resident filters, all loads independent. Few
        // pass (a few in a hundred), so only those are kept for stage 2.
        for (i, p) in batch.probes.iter().enumerate() {
            if self.index.probe_passes(p) {
                self.index.prefetch_confirm(p);
                batch.passed.push(i as u32);
            }
        }
        // Stage 2, for the few that pass: the exact table and tries. Only a
        // value that really meets an indicator sends its line to be read in full.
        // A schema with wanted columns past the 64th numbers none: a
        // confirmed value there sends the whole line.
        let whole = if z.wanted.is_some() { 0 } else { u64::MAX };
        for &i in &batch.passed {
            let Some(p) = batch.probes.get(i as usize) else {
                continue;
            };
            let (line, col) = slot_parts(p.slot);
            if let Some(f) = batch.full.get_mut(line)
                && *f & col == 0
                && self.index.probe_confirms(p)
            {
                *f |= col | whole;
            }
        }
        batch.passed.clear();
        if let Some(clean) = clean {
            for &(slot, key) in &batch.names {
                let (line, col) = slot_parts(slot);
                // None of this column's probes confirmed, and the line was
                // decided by probes (a line read in full for want of them
                // has had its names dropped already: checked all the same).
                if batch
                    .full
                    .get(line)
                    .is_some_and(|f| *f != u64::MAX && f & col == 0)
                {
                    clean.insert(key);
                }
            }
        }
        batch.names.clear();
        for (&(start, end, lno), &full) in batch.lines.iter().zip(&batch.full) {
            if full != 0 {
                self.zeek_line(z, &data[start..end], lno, full, ms, unesc, res);
            }
        }
        batch.lines.clear();
        batch.full.clear();
        batch.probes.clear();
    }

    /// The prefilter pass over one Zeek line of a schema without wanted
    /// columns past the 64th: the same columns and values
    /// [`BlockCtx::zeek_line`] would match, turned into deferred probes.
    /// False: the line cannot be decided by probes (escapes, a malformed
    /// line, a field type without a prefilter); read it in full.
    fn zeek_probe(
        &self,
        z: &ZeekSchema,
        line: &[u8],
        split: Split,
        slot: u32,
        clean: Option<&CleanCache>,
        batch: &mut ZeekBatch,
    ) -> bool {
        if split.escapes || (!split.complete && !z.names.is_empty()) {
            return false;
        }
        let ZeekBatch {
            wcols,
            probes,
            names,
            ..
        } = batch;
        // A column ending the line ends before a stripped `\r`.
        let col_of = |s: usize, e: usize| &line[s.min(line.len())..e.min(line.len())];
        let before = (probes.len(), names.len());
        // False: the line cannot be decided by probes, so what it gathered
        // is dropped (it is read in full).
        let decided = 'line: {
            for &(i, s, e) in wcols.iter() {
                let col = col_of(s, e);
                let Some(Some((ty, is_set))) = z.cols.get(i) else {
                    continue;
                };
                // Most of a log's addresses are internal, ruled out by their
                // first octet before anything else is looked at (as in
                // `gather_field`, which would come to the same answer).
                if *ty == FieldType::Ip && !*is_set {
                    if self.index.v4_lead_absent(col) {
                        continue;
                    }
                    // One address as Zeek writes it (nothing to trim): straight
                    // to its probes, where `gather_field` comes after its checks.
                    if let Some(a) = normalize::parse_ipv4_strict(col)
                        && col != z.unset.as_slice()
                        && col != z.empty.as_slice()
                    {
                        if !self.index.gather_v4(a, probe_slot(slot, i), probes) {
                            break 'line false;
                        }
                        continue;
                    }
                }
                if col == z.unset.as_slice() || col == z.empty.as_slice() {
                    continue;
                }
                // A name met before and turned away by its probes then.
                let name = match (clean, *ty, *is_set) {
                    (Some(_), FieldType::Domain, false) => clean::key(col),
                    _ => None,
                };
                if let Some(k) = &name
                    && clean.is_some_and(|c| c.contains(k))
                {
                    continue;
                }
                if !self.gather_col(*ty, *is_set, z.set_sep, col, probe_slot(slot, i), probes) {
                    break 'line false;
                }
                if let Some(k) = name {
                    names.push((probe_slot(slot, i), k));
                }
            }
            if let Some((h, u)) = z.http_host_uri
                && self.index.has_kind(IndicatorKind::Url)
            {
                let find = |c: usize| wcols.iter().find(|w| w.0 == c).map(|w| col_of(w.1, w.2));
                if let (Some(host), Some(uri)) = (find(h), find(u))
                    && host != z.unset.as_slice()
                    && uri != z.unset.as_slice()
                    && uri.starts_with(b"/")
                {
                    break 'line false;
                }
            }
            true
        };
        if !decided {
            probes.truncate(before.0);
            names.truncate(before.1);
        }
        decided
    }

    /// One typed column's values turned into probes (false: read the line
    /// in full).
    #[inline]
    fn gather_col(
        &self,
        ty: FieldType,
        is_set: bool,
        set_sep: u8,
        col: &[u8],
        slot: u32,
        probes: &mut Vec<Probe>,
    ) -> bool {
        if ty == FieldType::Hash && !set_sep.is_ascii_hexdigit() && normalize::is_canonical_hex(col)
        {
            // A canonical hash, so no set separator either: one value.
            self.index.gather_hex(col, slot, probes);
            true
        } else if is_set || matches!(ty, FieldType::Auto | FieldType::Hash) {
            // Each value of a set (a certificate chain, DNS answers) written
            // as logs nearly always write them, a canonical hash or a dotted
            // quad, straight to its probes, as `gather_field` would after its
            // trim and dispatch; anything else through it.
            split_set(col, set_sep, |v| match ty {
                FieldType::Hash if normalize::is_canonical_hex(v) => {
                    self.index.gather_hex(v, slot, probes);
                    true
                }
                FieldType::Auto | FieldType::Ip => match normalize::parse_ipv4_strict(v) {
                    Some(a) => self.index.gather_v4(a, slot, probes),
                    None => gather_field(self.index, ty, v, slot, probes),
                },
                _ => gather_field(self.index, ty, v, slot, probes),
            })
        } else {
            gather_field(self.index, ty, col, slot, probes)
        }
    }

    /// [`BlockCtx::zeek_probe`] for schemas with wanted columns past the
    /// 64th: every column split.
    fn zeek_gather_all(
        &self,
        z: &ZeekSchema,
        line: &[u8],
        slot: u32,
        cols: &mut Vec<(usize, usize)>,
        probes: &mut Vec<Probe>,
    ) -> bool {
        let escapes = split_columns(line, z.sep, z.last_wanted + 1, cols);
        if escapes || (cols.len() <= z.last_wanted && !z.names.is_empty()) {
            return false;
        }
        for (i, &(s, e)) in cols.iter().enumerate() {
            let col = &line[s..e];
            if let Some(Some((ty, is_set))) = z.cols.get(i)
                && col != z.unset.as_slice()
                && col != z.empty.as_slice()
            {
                if *is_set || *ty == FieldType::Auto || *ty == FieldType::Hash {
                    for v in col.split(|b| *b == z.set_sep) {
                        if !gather_field(self.index, *ty, v, probe_slot(slot, 0), probes) {
                            return false;
                        }
                    }
                } else if !gather_field(self.index, *ty, col, probe_slot(slot, 0), probes) {
                    return false;
                }
            }
        }
        if let Some((h, u)) = z.http_host_uri
            && let (Some(&(hs, he)), Some(&(us, ue))) = (cols.get(h), cols.get(u))
            && line[hs..he] != *z.unset.as_slice()
            && line[us..ue] != *z.unset.as_slice()
            && line[us..ue].starts_with(b"/")
            && self.index.has_kind(IndicatorKind::Url)
        {
            return false;
        }
        true
    }

    /// Matches the columns of `line` set in `only` (bit `i`: column `i`;
    /// `u64::MAX`: every column) and its URL, if any.
    #[allow(clippy::too_many_arguments)]
    fn zeek_line(
        &self,
        z: &ZeekSchema,
        line: &[u8],
        lno: u64,
        only: u64,
        ms: &mut Vec<Match>,
        unesc: &mut Vec<u8>,
        res: &mut BlockResult,
    ) {
        if line[0] == b'#' {
            return;
        }
        let before = res.hits.len();
        let mut host_uri: (Option<&[u8]>, Option<&[u8]>) = (None, None);
        let mut ncols = 0usize;
        let mut start = 0usize;
        let mut seps = memchr::memchr_iter(z.sep, line);
        for i in 0.. {
            if start > line.len() {
                break;
            }
            let end = seps.next().unwrap_or(line.len());
            let col = &line[start..end];
            let last = end == line.len();
            start = end + 1;
            ncols = i + 1;
            if let Some((h, u)) = z.http_host_uri {
                if i == h {
                    host_uri.0 = Some(col);
                } else if i == u {
                    host_uri.1 = Some(col);
                }
            }
            let asked = only == u64::MAX || (i < 64 && only & (1 << i) != 0);
            if asked
                && let Some(Some((ty, is_set))) = z.cols.get(i)
                && col != z.unset.as_slice()
                && col != z.empty.as_slice()
            {
                let col = if memchr::memchr(b'\\', col).is_some() {
                    unescape_zeek(col, unesc);
                    &unesc[..]
                } else {
                    col
                };
                let name = || z.names[i].clone();
                if *is_set || *ty == FieldType::Auto || *ty == FieldType::Hash {
                    let mut from = 0;
                    for to in memchr::memchr_iter(z.set_sep, col).chain([col.len()]) {
                        self.check(*ty, &col[from..to], lno, &name, ms, res);
                        from = to + 1;
                    }
                } else {
                    self.check(*ty, col, lno, &name, ms, res);
                }
            }
            if i >= z.last_wanted || last || (only != u64::MAX && only >> i <= 1) {
                break;
            }
        }
        // A line its probes decided was whole when split.
        if only == u64::MAX && ncols <= z.last_wanted && !z.names.is_empty() {
            res.bad(lno);
            return;
        }
        if let (Some(h), Some(u)) = host_uri
            && h != z.unset.as_slice()
            && u != z.unset.as_slice()
            && u.starts_with(b"/")
        {
            let url = format!(
                "http://{}{}",
                String::from_utf8_lossy(h),
                String::from_utf8_lossy(u)
            );
            ms.clear();
            if let Some(norm) = normalize::url(&url) {
                self.index.match_url_only(&norm, ms);
                for m in ms.drain(..) {
                    res.hits.push(RelHit {
                        line: lno,
                        field: "host+uri".into(),
                        value: url.clone(),
                        m,
                        ts: None,
                    });
                }
            }
        }
        if res.hits.len() > before
            && let Some(t) = z.ts
            && let Some(ts) = line.split(|b| *b == z.sep).nth(t)
        {
            let ts = String::from_utf8_lossy(ts).into_owned();
            // Nearly every hit line has one hit: it takes the string itself.
            if let Some((last, others)) = res.hits[before..].split_last_mut() {
                for h in others {
                    h.ts = Some(ts.clone());
                }
                last.ts = Some(ts);
            }
        }
    }

    fn check(
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

    fn json_line(
        &self,
        line: &[u8],
        lno: u64,
        ms: &mut Vec<Match>,
        cache: &mut HashMap<String, Option<FieldType>>,
        res: &mut BlockResult,
    ) {
        let v: serde_json::Value = match serde_json::from_slice(line) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => {
                res.bad(lno);
                return;
            }
        };
        let before = res.hits.len();
        let mut path = String::new();
        let mut ts = None;
        self.walk(&v, &mut path, lno, ms, cache, res, &mut ts);
        if res.hits.len() > before {
            for h in &mut res.hits[before..] {
                h.ts = ts.clone();
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        v: &serde_json::Value,
        path: &mut String,
        lno: u64,
        ms: &mut Vec<Match>,
        cache: &mut HashMap<String, Option<FieldType>>,
        res: &mut BlockResult,
        ts: &mut Option<String>,
    ) {
        use serde_json::Value;
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(child, path, lno, ms, cache, res, ts);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(item, path, lno, ms, cache, res, ts);
                }
            }
            Value::String(s) => {
                if ts.is_none() && is_ts_name(path) {
                    *ts = Some(s.clone());
                }
                let ty = match cache.get(path.as_str()) {
                    Some(t) => *t,
                    None => {
                        let t = self.fields.lookup(path);
                        cache.insert(path.clone(), t);
                        t
                    }
                };
                if let Some(ty) = ty {
                    // The name is copied only for a hit.
                    let p: &String = path;
                    self.check(ty, s.as_bytes(), lno, &|| p.clone(), ms, res);
                }
            }
            Value::Number(n) if ts.is_none() && is_ts_name(path) => {
                *ts = Some(n.to_string());
            }
            _ => {}
        }
    }

    fn csv_line(
        &self,
        c: &CsvSchema,
        line: &[u8],
        lno: u64,
        ms: &mut Vec<Match>,
        cells: &mut Vec<Vec<u8>>,
        res: &mut BlockResult,
    ) {
        split_csv(line, c.delim, cells);
        if cells.len() != c.names.len() {
            res.bad(lno);
            return;
        }
        let before = res.hits.len();
        for (i, cell) in cells.iter().enumerate() {
            if let Some(Some(ty)) = c.cols.get(i) {
                let name = || c.names[i].clone();
                self.check(*ty, cell, lno, &name, ms, res);
            }
        }
        if res.hits.len() > before
            && let Some(t) = c.ts
        {
            let ts = String::from_utf8_lossy(&cells[t]).into_owned();
            for h in &mut res.hits[before..] {
                h.ts = Some(ts.clone());
            }
        }
    }

    fn text_line(&self, line: &[u8], lno: u64, ms: &mut Vec<Match>, res: &mut BlockResult) {
        let s = String::from_utf8_lossy(line);
        for (kind, val) in self.extractor.extract(&s) {
            ms.clear();
            match_typed(self.index, kind, &val, ms);
            for m in ms.drain(..) {
                res.hits.push(RelHit {
                    line: lno,
                    field: "text".into(),
                    value: val.clone(),
                    m,
                    ts: None,
                });
            }
        }
    }
}

impl BlockResult {
    fn bad(&mut self, lno: u64) {
        self.malformed += 1;
        if self.malformed_examples.len() < 5 {
            self.malformed_examples.push(lno);
        }
    }
}

/// Decodes Zeek's `\xHH` escapes.
fn unescape_zeek(v: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\'
            && v.get(i + 1) == Some(&b'x')
            && let Some(h) = v.get(i + 2..i + 4)
            && let Ok(s) = std::str::from_utf8(h)
            && let Ok(b) = u8::from_str_radix(s, 16)
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
}

enum Codec {
    None,
    Gzip,
    Zstd,
}

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
        let name = input.name();
        let io_err = |source| HuntError::Io {
            file: name.clone(),
            source,
        };
        let raw: Box<dyn Read + Send> = match input {
            Input::Path(p) => {
                let f = std::fs::File::open(p).map_err(io_err)?;
                if let Some(len) = self.range_readable(&f) {
                    return self.scan_ranges(&f, len, &name, on_hits);
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
        let magic = br.fill_buf().map_err(io_err)?;
        let codec = if magic.starts_with(&[0x1f, 0x8b]) {
            Codec::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Codec::Zstd
        } else {
            Codec::None
        };
        let (reader, codec_name): (Box<dyn Read + Send>, &'static str) = match codec {
            Codec::None => (Box::new(br), "none"),
            Codec::Gzip => (Box::new(flate2::bufread::MultiGzDecoder::new(br)), "gzip"),
            Codec::Zstd => (
                Box::new(zstd::stream::read::Decoder::with_buffer(br).map_err(io_err)?),
                "zstd",
            ),
        };
        let batch = rayon::current_num_threads().max(1) * BLOCKS_PER_THREAD;
        let mut blocks = Blocks {
            r: reader,
            carry: Vec::new(),
            block: self.opts.block_size.max(1 << 12),
            max_line: self.opts.max_line_len,
            eof: false,
            skipping: false,
            pending: None,
            spare: self
                .spare
                .lock()
                .map(|mut s| {
                    let from = s.len().saturating_sub(2 * batch);
                    s.split_off(from)
                })
                .unwrap_or_default(),
            max_spare: 2 * batch,
        };
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
    fn empty(file: &str, format: LogFormat, compression: &'static str) -> FileSummary {
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
fn absorb(
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
        let meta = file.metadata().ok()?;
        let size = self.block_size() as u64;
        if !meta.is_file() || meta.len() < 2 * size {
            return None;
        }
        let mut magic = [0u8; 4];
        #[cfg(unix)]
        std::os::unix::fs::FileExt::read_exact_at(file, &mut magic, 0).ok()?;
        #[cfg(windows)]
        std::os::windows::fs::FileExt::seek_read(file, &mut magic, 0).ok()?;
        let compressed = magic.starts_with(&[0x1f, 0x8b]) || magic == [0x28, 0xb5, 0x2f, 0xfd];
        (!compressed).then_some(meta.len())
    }

    fn block_size(&self) -> usize {
        self.opts.block_size.max(1 << 12)
    }

    /// What every block of an input is matched with.
    fn block_ctx(&self) -> BlockCtx<'_> {
        BlockCtx {
            index: self.index,
            fields: &self.opts.fields,
            max_line: self.opts.max_line_len,
            extractor: self.opts.extractor.as_ref(),
        }
    }

    /// An input's format (detected unless forced) and schema, from its
    /// first block.
    fn schema_of(&self, first: &[u8]) -> (LogFormat, Schema) {
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
    fn scan_ranges(
        &self,
        f: &std::fs::File,
        len: u64,
        name: &str,
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> Result<FileSummary, HuntError> {
        let io_err = |source| HuntError::Io {
            file: name.to_string(),
            source,
        };
        let size = self.block_size() as u64;
        let max_line = self.opts.max_line_len;
        // Block 0 decides the format, and is matched from this buffer.
        let mut first = ranges::BlockBuf::default();
        ranges::read_block(f, len, size, 0, max_line, &mut first).map_err(io_err)?;
        let (format, schema) = self.schema_of(first.lines());
        let skip_header = matches!(schema, Schema::Csv(_));
        let ctx = self.block_ctx();
        let file: Arc<str> = Arc::from(name);
        let mut fs = FileSummary::empty(name, format, "none");
        let blocks = ranges::block_count(len, size);
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
        let mut next = 0u64;
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
    use crate::IndexBuilder;

    fn blocks(data: &[u8], block: usize) -> Vec<Vec<u8>> {
        let mut b = Blocks {
            r: data,
            carry: Vec::new(),
            block,
            max_line: 200_000,
            eof: false,
            skipping: false,
            pending: None,
            spare: Vec::new(),
            max_spare: 8,
        };
        let mut out = Vec::new();
        while let Some(x) = b.next_block().unwrap() {
            out.push(x.clone());
            // Reuse every other buffer, as the scanner does.
            if out.len() % 2 == 0 {
                b.recycle(vec![x]);
            }
        }
        out
    }

    #[test]
    fn blocks_end_at_lines_and_overlong_lines_become_markers() {
        let data = b"aaa\nbbb\nccc\nddd";
        let bs = blocks(data, 5);
        assert_eq!(bs.concat(), data.to_vec());
        assert!(bs[..bs.len() - 1].iter().all(|b| b.ends_with(b"\n")));
        let mut long = b"ok\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', 300_000));
        long.extend_from_slice(b"\nafter\n");
        let bs = blocks(&long, 65536);
        let joined = bs.concat();
        assert_eq!(joined, b"ok\n\0\nafter\n".to_vec());
        // Reused buffers never leak stale bytes into later blocks.
        let mut data = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        while data.len() < 600_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 3000) as usize;
            data.extend(std::iter::repeat_n(b'a' + (x % 26) as u8, n));
            data.push(b'\n');
        }
        data.extend_from_slice(b"tail without newline");
        for block in [5, 4096, 65536, 100_000] {
            let bs = blocks(&data, block);
            assert_eq!(bs.concat(), data, "{block}");
            assert!(bs[..bs.len() - 1].iter().all(|b| b.ends_with(b"\n")));
        }
    }

    #[test]
    fn byte_masks_agree() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut c = [0u8; 16];
            for (j, b) in c.iter_mut().enumerate() {
                *b = [b'\t', b'\\', 0x89, 0x09 ^ 0x80, 0, 0xff, b'a', 0x5c ^ 0x80]
                    [(x >> (j * 3)) as usize % 8];
            }
            let want_a = (0..16)
                .filter(|j| c[*j] == b'\t')
                .fold(0u32, |m, j| m | 1 << j);
            let want_b = (0..16)
                .filter(|j| c[*j] == b'\\')
                .fold(0u32, |m, j| m | 1 << j);
            let want_c = (0..16).filter(|j| c[*j] == 0).fold(0u32, |m, j| m | 1 << j);
            let want = (want_a, want_b, want_c);
            assert_eq!(byte_masks16(&c, b'\t', b'\\', 0), want, "{c:?}");
            assert_eq!(byte_masks16_swar(&c, b'\t', b'\\', 0), want, "{c:?}");
        }
    }

    #[test]
    fn split_set_agrees_with_split() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 80) as usize;
            let col: Vec<u8> = (0..len)
                .map(|j| {
                    if (x >> (j % 60)).is_multiple_of(5) {
                        b','
                    } else {
                        b'a' + (j % 26) as u8
                    }
                })
                .collect();
            let want: Vec<&[u8]> = col.split(|b| *b == b',').collect();
            let mut got = Vec::new();
            assert!(split_set(&col, b',', |v| {
                got.push(v);
                true
            }));
            assert_eq!(got, want, "{col:?}");
            // Stops at the first false.
            let mut n = 0;
            let all = split_set(&col, b',', |_| {
                n += 1;
                n < 2
            });
            assert_eq!(all, want.len() < 2);
            assert_eq!(n, want.len().min(2));
        }
    }

    #[test]
    fn split_columns_agrees_with_memchr() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut out = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 70) as usize;
            let line: Vec<u8> = (0..len)
                .map(|j| [b'\t', b'a', 0x89, 0x09 ^ 0x80, b'\\', 0][(x >> (j % 60)) as usize % 6])
                .collect();
            let mut want = Vec::new();
            let mut start = 0;
            for end in memchr::memchr_iter(b'\t', &line).chain([line.len()]) {
                want.push((start, end));
                start = end + 1;
            }
            for max in [1, 2, 3, 7, 100] {
                let escapes = split_columns(&line, b'\t', max, &mut out);
                let n = want.len().min(max);
                assert_eq!(out, want[..n], "{line:?} max {max}");
                let seen = out.last().map_or(0, |c| c.1);
                if line[..seen].contains(&b'\\') {
                    assert!(escapes, "{line:?} max {max}");
                }
            }
            assert_eq!(
                split_columns(&line, b'\t', 100, &mut out),
                line.contains(&b'\\')
            );
        }
    }

    #[test]
    fn split_wanted_agrees_with_memchr() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 200) as usize;
            // Dense and sparse separators alike: chunks with none, one, many;
            // the line ends at a newline (followed by more lines) or at the
            // end of the input.
            let mut input: Vec<u8> = (0..len)
                .map(|j| {
                    let r = (x >> (j % 50)) as usize;
                    if r.is_multiple_of(7) {
                        b'\t'
                    } else {
                        [b'a', 0x89, b'\\', b'.', 0][r % 5]
                    }
                })
                .collect();
            if x & 1 == 1 {
                input.extend_from_slice(b"\nnext\tline\\\t\n");
            }
            let line_len = memchr::memchr(b'\n', &input).unwrap_or(input.len());
            let line = &input[..line_len];
            let all: Vec<(usize, usize)> = {
                let mut v = Vec::new();
                let mut start = 0;
                for end in memchr::memchr_iter(b'\t', line).chain([line.len()]) {
                    v.push((start, end));
                    start = end + 1;
                }
                v
            };
            for last in [0usize, 1, 5, 17, 40, 63] {
                let wanted = (x.rotate_left(last as u32) & ((1u64 << last) - 1).max(1)) | 1 << last;
                let sp = split_wanted(&input, b'\t', wanted, last, &mut out);
                #[cfg(target_arch = "x86_64")]
                if has_avx2() {
                    let mut wide = Vec::new();
                    // SAFETY: the features were just detected.
                    let walked = unsafe {
                        split_wanted_avx2::<false>(&input, b'\t', wanted, last, &mut wide)
                    };
                    let mut deposited = Vec::new();
                    // SAFETY: as above (BMI2 is among them).
                    let sp3 = unsafe {
                        split_wanted_avx2::<true>(&input, b'\t', wanted, last, &mut deposited)
                    };
                    // `escapes` may differ past the last column (each
                    // looks at whole chunks); it is checked below for both.
                    for (sp2, cols) in [(walked, &wide), (sp3, &deposited)] {
                        assert_eq!(
                            (sp2.complete, sp2.end, cols),
                            (sp.complete, sp.end, &out),
                            "{input:?} last {last}"
                        );
                        let seen = all.get(last).map_or(line.len(), |c| c.1);
                        if line[..seen].contains(&b'\\') {
                            assert!(sp2.escapes, "{input:?} last {last}");
                        }
                    }
                }
                let want: Vec<(usize, usize, usize)> = all
                    .iter()
                    .enumerate()
                    .take(last + 1)
                    .filter(|(i, _)| wanted & (1 << i) != 0)
                    .map(|(i, &(s, e))| (i, s, e))
                    .collect();
                assert_eq!(out, want, "{input:?} last {last} wanted {wanted:b}");
                assert_eq!(sp.complete, all.len() > last, "{input:?} last {last}");
                // Either the line's end, or stopped at a separator ending `last`.
                assert_eq!(sp.end, line_len, "{input:?} last {last}");
                let seen = all.get(last).map_or(line.len(), |c| c.1);
                if line[..seen].contains(&b'\\') {
                    assert!(sp.escapes, "{input:?} last {last}");
                }
            }
        }
    }

    /// A chunk of nothing but separators (64 empty columns) still ends the
    /// wanted ones among them.
    #[test]
    fn split_wanted_reads_a_chunk_of_separators() {
        let line = [b'\t'; 100];
        for last in [3usize, 10, 40, 63] {
            let wanted = 1u64 << last | 1 << 1;
            let want = vec![(1, 1, 1), (last, last, last)];
            let mut out = Vec::new();
            split_wanted(&line, b'\t', wanted, last, &mut out);
            assert_eq!(out, want, "last {last}");
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the features were just detected.
                unsafe { split_wanted_avx2::<false>(&line, b'\t', wanted, last, &mut out) };
                assert_eq!(out, want, "last {last}");
                // SAFETY: as above.
                unsafe { split_wanted_avx2::<true>(&line, b'\t', wanted, last, &mut out) };
                assert_eq!(out, want, "last {last}");
            }
        }
    }

    /// The prefilter never turns away a value `match_field` would match.
    #[test]
    fn gather_is_sound_for_every_field_type() {
        use IndicatorKind as K;
        let items: Vec<(K, String)> = [
            (K::Domain, "dga.asia"),
            (K::Domain, "Evil.COM"),
            (K::Domain, "1.2.3"),
            (K::Domain, "cafe.de"),
            (K::Ipv4, "45.77.153.197"),
            (K::Ipv6, "2001:db8::1"),
            (K::Cidr, "10.1.0.0/16"),
            (K::Cidr, "2001:db8:1::/48"),
            (K::Sha256, "AA:BB"),
            (K::Md5, "0123456789abcdef0123456789abcdef"),
            (K::Email, "bad@evil.com"),
            (K::Url, "http://evil.com/x"),
            (K::Ja4, "t13d1516h2_8daaf6152771_b186095e22b6"),
            (K::FileName, "Evil.EXE"),
        ]
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .chain((0..5000u32).map(|i| (K::Ipv4, format!("20.{}.{}.1", i / 256, i % 256))))
        .chain([
            (K::Cidr, "30.1.2.16/28".to_string()),
            (K::Cidr, "60.0.0.0/8".to_string()),
        ])
        .collect();
        let values = [
            "dga.asia",
            "KB.DGA.ASIA.",
            "kb.dga.asia..",
            "notdga.asia",
            "dga.asia.evil.net",
            "evil.com:443",
            "EVIL.com",
            "www.bücher.de",
            "cafe.de",
            "x.cafe.de",
            "1.2.3",
            "a.1.2.3",
            "45.77.153.197",
            "045.77.153.197",
            "45.77.153.197.",
            "[45.77.153.197]",
            "::ffff:45.77.153.197",
            "45.77.153.197:80",
            "45.77.153.198",
            "10.1.2.3",
            "10.2.0.0",
            "10.1.2.3%eth0",
            "45.77.153.197%eth0",
            "11.1.2.3",
            "192.168.1.1",
            "0.0.0.0",
            "2001:DB8::1",
            "2001:db8:1::9",
            "fe80::1%eth0",
            "20.0.5.1",
            "20.0.5.2",
            "20.19.135.1",
            "30.1.2.20",
            "30.1.2.40",
            "60.200.1.1",
            "61.0.0.1",
            "aabb",
            "AA:BB",
            "aa-bb",
            "0123456789ABCDEF0123456789ABCDEF",
            "bad@evil.com",
            "Someone <BAD@evil.com>",
            "http://evil.com/x",
            "evil.com/x",
            "t13d1516h2_8daaf6152771_b186095e22b6",
            "evil.exe",
            "a b.com",
            "x/y.com",
            "",
            " ",
            "-",
            "(empty)",
            "\\x41",
            "😀.com",
            "a@b",
        ];
        let types = [
            FieldType::Domain,
            FieldType::Ip,
            FieldType::Url,
            FieldType::Email,
            FieldType::Hash,
            FieldType::Ja3,
            FieldType::Jarm,
            FieldType::Ja4,
            FieldType::Serial,
            FieldType::FileName,
            FieldType::Auto,
            FieldType::Text,
            FieldType::Ignore,
        ];
        for big in [false, true] {
            let mut b = IndexBuilder::new();
            for (i, (k, v)) in items.iter().enumerate() {
                if big || i < 14 {
                    b.add(&Observable::new(*k, v), i as u32);
                }
            }
            let ix = b.build();
            let mut checked = 0;
            for ty in types {
                for v in values {
                    let mut ms = Vec::new();
                    match_field(&ix, ty, v.as_bytes(), &mut ms);
                    let mut probes = Vec::new();
                    let decided = gather_field(&ix, ty, v.as_bytes(), 0, &mut probes);
                    let flagged = !decided
                        || probes
                            .iter()
                            .any(|p| ix.probe_passes(p) && ix.probe_confirms(p));
                    if !ms.is_empty() {
                        checked += 1;
                        assert!(flagged, "{ty:?} {v:?} matches {ms:?} but was turned away");
                    }
                }
            }
            assert!(checked > 20, "{checked}");
            if big {
                // The second look is exact for addresses: a neighbour of an
                // exact value, or of a narrow network, is turned away there.
                for v in ["20.0.5.2", "30.1.2.40"] {
                    let mut probes = Vec::new();
                    assert!(gather_field(
                        &ix,
                        FieldType::Ip,
                        v.as_bytes(),
                        0,
                        &mut probes
                    ));
                    assert!(
                        probes.iter().all(|p| !ix.probe_confirms(p)),
                        "{v} confirmed"
                    );
                }
            }
        }
    }

    #[test]
    fn zeek_batches_match_like_lines() {
        // More lines than one batch, with escapes, sets, unset and empty
        // values and a short (malformed) line at batch boundaries; an
        // address column with internal addresses (ruled out by their first
        // octet), exact and CIDR hits and a near miss in a hit's /24.
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Ipv4, "45.77.153.197"), 1);
        b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 2);
        b.add(&Observable::new(IndicatorKind::Sha256, "aabb"), 3);
        b.add(&Observable::new(IndicatorKind::Cidr, "203.0.113.0/25"), 4);
        let ix = b.build();
        let mut log = String::from(
            "#separator \\x09\n#set_separator\t,\n#fields\tts\tquery\tanswers\tcert_chain_fps\tid.resp_h\n#types\ttime\tstring\tvector[string]\tset[string]\taddr\n",
        );
        let mut want = Vec::new();
        let mut lno = 4;
        for i in 0..300u64 {
            lno += 1;
            let line = match i % 7 {
                0 => {
                    want.push((lno, "query"));
                    format!("{i}\tkb.dga.asia\t-\t(empty)\t10.0.0.1\n")
                }
                1 => {
                    want.push((lno, "answers"));
                    want.push((lno, "id.resp_h"));
                    format!("{i}\tx.org\t1.1.1.1,45.77.153.197\t-\t45.77.153.197\n")
                }
                2 => {
                    want.push((lno, "query"));
                    format!("{i}\tkb\\x2edga.asia\t-\t-\t-\n")
                }
                3 => {
                    want.push((lno, "cert_chain_fps"));
                    want.push((lno, "id.resp_h"));
                    format!("{i}\tnotdga.asia\t45.77.153.19\tcc,AABB\t203.0.113.9\n")
                }
                4 => format!("{i}\tonlyone\n"),
                // A comment and an empty line between records.
                5 => {
                    lno += 1;
                    format!("#comment {i}\n\n")
                }
                // CRLF: the last column ends before the `\r`.
                6 if i % 2 == 0 => {
                    want.push((lno, "cert_chain_fps"));
                    want.push((lno, "id.resp_h"));
                    format!("{i}\tx.org\t-\taabb\t203.0.113.127\r\n")
                }
                _ => format!("{i}\tdga.asia.evil.net\t45.77.153.198\tccdd\t203.0.113.128\n"),
            };
            log.push_str(&line);
        }
        want.sort();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dns.log");
        std::fs::write(&p, log).unwrap();
        for block_size in [1 << 16, 4 << 20] {
            let hits = std::sync::Mutex::new(Vec::new());
            let opts = ScanOptions {
                block_size,
                ..ScanOptions::default()
            };
            let s = Scanner::new(&ix, opts).scan(&[Input::Path(p.clone())], &|h| {
                hits.lock().unwrap().push((h.line, h.field))
            });
            let mut got = hits.into_inner().unwrap();
            got.sort();
            let got: Vec<(u64, &str)> = got.iter().map(|(l, f)| (*l, f.as_str())).collect();
            assert_eq!(got, want);
            assert_eq!(s.malformed, 300 / 7 + 1);
        }
    }

    /// The per-thread cache of names that met nothing: a name that is an
    /// indicator is never cached (however often it comes back), and names
    /// cached while hunting with one index do not answer for another.
    #[test]
    fn clean_names_never_hide_a_hit() {
        let index = |domain: &str| {
            let mut b = IndexBuilder::new();
            b.add(&Observable::new(IndicatorKind::Domain, domain), 1);
            // Enough other names that a log name's probes are not all
            // turned away by the parent filter alone.
            for i in 0..2000 {
                b.add(
                    &Observable::new(IndicatorKind::Domain, &format!("n{i}.example.org")),
                    2,
                );
            }
            b.build()
        };
        let mut log = String::from(
            "#separator \\x09\n#fields\tts\tquery\tid.resp_h\n#types\ttime\tstring\taddr\n",
        );
        let mut want = Vec::new();
        for i in 0..3000u64 {
            let name =
                ["kb.dga.asia", "x.org", "n7.example.org.evil", "kb.dga.asia"][i as usize % 4];
            if name == "kb.dga.asia" {
                want.push(i + 4);
            }
            log.push_str(&format!("{i}\t{name}\t10.0.0.1\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dns.log");
        std::fs::write(&p, log).unwrap();
        let hunt = |ix: &Index| {
            let hits = std::sync::Mutex::new(Vec::new());
            let opts = ScanOptions {
                block_size: 1 << 12,
                ..ScanOptions::default()
            };
            Scanner::new(ix, opts).scan(&[Input::Path(p.clone())], &|h| {
                hits.lock().unwrap().push(h.line)
            });
            let mut got = hits.into_inner().unwrap();
            got.sort();
            got
        };
        // Every thread's cache first learns that kb.dga.asia meets nothing...
        assert!(hunt(&index("other.example")).is_empty());
        // ...which must not carry over to an index where it does.
        let ix = index("dga.asia");
        assert_eq!(hunt(&ix), want);
        assert_eq!(hunt(&ix), want);
        // On this thread: the clean names are kept, the hit is not.
        let scanner = Scanner::new(&ix, ScanOptions::default());
        let data = std::fs::read(&p).unwrap();
        let (_, schema) = scanner.schema_of(&data);
        let res = scanner.block_ctx().run(&schema, &data, false);
        assert_eq!(res.hits.len(), want.len());
        clean::with(ix.id(), |c| {
            let c = c.expect("cache free");
            let kept = |v: &[u8]| c.contains(&clean::key(v).expect("short"));
            assert!(kept(b"x.org") && kept(b"n7.example.org.evil"));
            assert!(!kept(b"kb.dga.asia"));
        });
    }

    /// Hashes in a set column (a certificate chain) are each matched, first,
    /// last or alone, canonical or not.
    #[test]
    fn every_hash_of_a_chain_is_matched() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Sha256, "aabb"), 1);
        let ix = b.build();
        let mut log = String::from(
            "#separator \\x09\n#set_separator\t,\n#fields\tts\tcert_chain_fps\n#types\ttime\tvector[string]\n",
        );
        let chains = [
            "ccdd,aabb",
            "aabb,ccdd",
            "ccdd,eeff",
            "aabb",
            "ccdd,AABB",
            "ccdd,,aabb",
        ];
        for (i, c) in chains.iter().enumerate() {
            log.push_str(&format!("{i}\t{c}\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ssl.log");
        std::fs::write(&p, log).unwrap();
        let hits = std::sync::Mutex::new(Vec::new());
        Scanner::new(&ix, ScanOptions::default()).scan(&[Input::Path(p)], &|h| {
            hits.lock().unwrap().push((h.line, h.value))
        });
        let mut got = hits.into_inner().unwrap();
        got.sort();
        let want: Vec<(u64, String)> = [
            (5, "aabb"),
            (6, "aabb"),
            (8, "aabb"),
            (9, "AABB"),
            (10, "aabb"),
        ]
        .iter()
        .map(|(l, v)| (*l, v.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn detects_formats() {
        let f = FieldMap::new();
        assert_eq!(
            detect(b"#separator \\x09\n#fields\tts", &f),
            LogFormat::ZeekTsv
        );
        assert_eq!(detect(b"\n{\"query\":\"a\"}\n", &f), LogFormat::Json);
        assert_eq!(detect(b"time,src_ip,domain\n1,2,3\n", &f), LogFormat::Csv);
        assert_eq!(
            detect(b"Jun 1 sshd: from 1.2.3.4, bad\n", &f),
            LogFormat::Text
        );
    }

    #[test]
    fn tokenizer_finds_defanged_and_ported_values() {
        let got = SimpleTokenizer
            .extract("c2=hxxps://kb[.]dga[.]asia/x conn to 45.77.153.197:443 (evil.com).");
        let vals: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            vals,
            ["https://kb.dga.asia/x", "45.77.153.197:443", "evil.com"]
        );
    }

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

    #[test]
    fn scans_zeek_with_set_fields_and_escapes() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Ipv4, "45.77.153.197"), 1);
        b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 2);
        let ix = b.build();
        let log = "#separator \\x09\n#set_separator\t,\n#fields\tts\tquery\tanswers\n#types\ttime\tstring\tvector[string]\n1.0\tkb.dga.asia\t1.1.1.1,45.77.153.197\n2.0\tnotdga.asia\t-\n3.0\tonlyone\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dns.log");
        std::fs::write(&p, log).unwrap();
        let hits = std::sync::Mutex::new(Vec::new());
        let s = Scanner::new(&ix, ScanOptions::default())
            .scan(&[Input::Path(p)], &|h| hits.lock().unwrap().push(h));
        let hits = hits.into_inner().unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].line, hits[0].field.as_str()), (5, "query"));
        assert_eq!(hits[0].ts.as_deref(), Some("1.0"));
        assert_eq!((hits[1].line, hits[1].field.as_str()), (5, "answers"));
        assert_eq!(s.malformed, 1);
        assert_eq!(s.files[0].malformed_examples, vec![7]);
    }

    /// TLS fingerprints match only in their own columns: an MD5 file hash
    /// that happens to equal a JA3 value is not a hit there, a JA3 indicator
    /// is, and a certificate hash column still takes any hex indicator.
    #[test]
    fn tls_fingerprints_match_in_their_own_columns() {
        let md5 = "e7d705a3286e19ea42f587b344ee6865";
        let other = "0123456789abcdef0123456789abcdef";
        let log = format!(
            "#separator \\x09\n#fields\tts\tserver_name\tcert_chain_fps\tja3\tja3s\n\
             #types\ttime\tstring\tvector[string]\tstring\tstring\n\
             1.0\ta.example\t{md5}\t{md5}\t{other}\n2.0\tb.example\t-\t{other}\t{md5}\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ssl.log");
        std::fs::write(&p, log).unwrap();
        let hunt = |items: &[(IndicatorKind, &str)]| {
            let mut b = IndexBuilder::new();
            for (i, (k, v)) in items.iter().enumerate() {
                b.add(&Observable::new(*k, v), i as u32);
            }
            let ix = b.build();
            let hits = std::sync::Mutex::new(Vec::new());
            Scanner::new(&ix, ScanOptions::default()).scan(&[Input::Path(p.clone())], &|h| {
                hits.lock()
                    .unwrap()
                    .push((h.line, h.field, h.indicator.kind))
            });
            let mut hits = hits.into_inner().unwrap();
            hits.sort();
            hits
        };
        // A file hash: only the certificate column, never ja3/ja3s.
        assert_eq!(
            hunt(&[(IndicatorKind::Md5, md5)]),
            [(4, "cert_chain_fps".to_string(), IndicatorKind::Md5)]
        );
        // A JA3 value: the ja3 and ja3s columns (and any hex column).
        assert_eq!(
            hunt(&[(IndicatorKind::Ja3, other)]),
            [
                (4, "ja3s".to_string(), IndicatorKind::Ja3),
                (5, "ja3".to_string(), IndicatorKind::Ja3),
            ]
        );
    }
}
