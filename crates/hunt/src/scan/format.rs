//! What a log is: its format (forced or detected from the first block)
//! and, per input, the schema every block is read with: a Zeek header's
//! separators and typed columns, a CSV header's columns, or none (JSON
//! objects name their fields, text has none).

use super::field::can_match;
use crate::fields::{FieldMap, FieldType, from_zeek_type};
use crate::index::Index;
use crate::normalize;
use std::fmt;
use std::str::FromStr;

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

/// Per-input reading context shared by its blocks.
#[derive(Debug, Clone)]
pub(super) enum Schema {
    Zeek(ZeekSchema),
    Json,
    Csv(CsvSchema),
    Text,
}

#[derive(Debug, Clone)]
pub(super) struct ZeekSchema {
    pub(super) sep: u8,
    pub(super) set_sep: u8,
    pub(super) unset: Vec<u8>,
    pub(super) empty: Vec<u8>,
    pub(super) names: Vec<String>,
    /// Per column: type, and whether it is a set/vector.
    pub(super) cols: Vec<Option<(FieldType, bool)>>,
    pub(super) last_wanted: usize,
    /// Bit i set: column i is read by the prefilter pass
    /// ([`ColumnSplitter::split_wanted`](crate::simd::ColumnSplitter::split_wanted));
    /// `None` when a wanted column lies past the 64th.
    pub(super) wanted: Option<u64>,
    pub(super) ts: Option<usize>,
    pub(super) http_host_uri: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub(super) struct CsvSchema {
    pub(super) delim: u8,
    pub(super) names: Vec<String>,
    pub(super) cols: Vec<Option<FieldType>>,
    pub(super) ts: Option<usize>,
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
pub(super) fn split_csv(line: &[u8], delim: u8, out: &mut Vec<Vec<u8>>) {
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

pub(super) fn is_ts_name(n: &str) -> bool {
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
pub(super) fn detect(block: &[u8], fields: &FieldMap) -> LogFormat {
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

pub(super) fn schema_for(
    format: LogFormat,
    block: &[u8],
    fields: &FieldMap,
    index: &Index,
) -> Schema {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
