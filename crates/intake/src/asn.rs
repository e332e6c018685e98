//! Address → AS tables: `first,last,asn,organisation` rows without a header
//! (the RouteViews/RIR/DB-IP merge published as `@ip-location-db/asn`;
//! iptoasn.com's TSV has the same columns plus a country, which is ignored
//! here). Read row by row, so memory is bounded by a row.

use crate::errors::IntakeError;
use cairn_model::AsnRange;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Whether `text` (the start of a file) looks like an AS table: its first
/// rows are two addresses of one family, then an AS number.
pub(crate) fn looks_like_asn_table(text: &str) -> bool {
    let mut rows = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .take(3)
        .peekable();
    rows.peek().is_some() && rows.all(|l| parse_head(l).is_some())
}

/// The addresses and AS number at the start of a row, and where the
/// organisation starts.
fn parse_head(line: &str) -> Option<(IpAddr, IpAddr, u32, &str)> {
    let delim = if line.contains('\t') { '\t' } else { ',' };
    let mut parts = line.splitn(4, delim);
    let first: IpAddr = parts.next()?.trim().parse().ok()?;
    let last: IpAddr = parts.next()?.trim().parse().ok()?;
    let asn = parts.next()?.trim();
    let asn: u32 = asn
        .strip_prefix("AS")
        .or_else(|| asn.strip_prefix("as"))
        .unwrap_or(asn)
        .parse()
        .ok()?;
    if first.is_ipv4() != last.is_ipv4() || first > last {
        return None;
    }
    Some((first, last, asn, parts.next().unwrap_or("")))
}

/// The organisation column: CSV quoting undone; a trailing country column
/// (iptoasn's TSV) dropped.
fn org(rest: &str, tsv: bool) -> String {
    let rest = rest.trim_end_matches(['\r', '\n']);
    if tsv {
        // iptoasn: `country<TAB>description`.
        return rest
            .split_once('\t')
            .map_or(rest, |(_, d)| d)
            .trim()
            .to_string();
    }
    let t = rest.trim();
    match t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => t.to_string(),
    }
}

/// The ranges of a table, one per `next()`; the first bad row is an error
/// naming the file and line.
pub struct AsnRows<R> {
    path: PathBuf,
    reader: R,
    line: usize,
    buf: Vec<u8>,
    failed: bool,
}

/// An AS table file, gzip or plain, read as it is iterated.
pub fn open_asn_table(path: &Path) -> Result<AsnRows<Box<dyn BufRead>>, IntakeError> {
    Ok(asn_rows(path, crate::stream::open_reader(path)?))
}

/// The ranges of a table read from `reader`; `path` names it in errors.
pub fn asn_rows<R: BufRead>(path: &Path, reader: R) -> AsnRows<R> {
    AsnRows {
        path: path.to_path_buf(),
        reader,
        line: 0,
        buf: Vec::new(),
        failed: false,
    }
}

impl<R: BufRead> Iterator for AsnRows<R> {
    type Item = Result<AsnRange, IntakeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.failed = true;
                    return Some(Err(IntakeError::object(
                        &self.path,
                        format!("after line {}", self.line),
                        format!("read failed: {e}"),
                    )));
                }
            }
            self.line += 1;
            let place = || format!("line {}", self.line);
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                self.failed = true;
                return Some(Err(IntakeError::object(
                    &self.path,
                    place(),
                    "invalid UTF-8",
                )));
            };
            let text = text.trim_start_matches('\u{feff}');
            if text.trim().is_empty() || text.starts_with('#') {
                continue;
            }
            let Some((first, last, asn, rest)) = parse_head(text) else {
                self.failed = true;
                return Some(Err(IntakeError::object(
                    &self.path,
                    place(),
                    "expected `first address,last address,AS number,organisation` \
                     (two addresses of one family, first <= last)",
                )));
            };
            return Some(Ok(AsnRange {
                first,
                last,
                asn,
                org: org(rest, text.contains('\t')),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_families_and_quoted_organisations() {
        let text = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
                    2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n\
                    \n5.188.33.0,5.188.33.255,AS199524,\"G-Core \"\"Labs\"\" S.A.\"\r\n";
        assert!(looks_like_asn_table(text));
        let rows: Vec<_> = asn_rows(Path::new("t.csv"), text.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].org, "Cloudflare, Inc.");
        assert_eq!(rows[1].asn, 2500);
        assert_eq!(rows[2].asn, 199_524);
        assert_eq!(rows[2].org, "G-Core \"Labs\" S.A.");
    }

    #[test]
    fn a_bad_row_names_its_line_and_stops() {
        let text = "1.0.0.0,1.0.0.255,13335,x\n1.0.1.0,::1,5,mixed\n1.0.2.0,1.0.2.9,6,y\n";
        let mut rows = asn_rows(Path::new("t.csv"), text.as_bytes());
        assert!(rows.next().unwrap().is_ok());
        let err = rows.next().unwrap().unwrap_err().to_string();
        assert!(err.contains("t.csv") && err.contains("line 2"), "{err}");
        assert!(rows.next().is_none());
    }

    #[test]
    fn other_csv_is_not_an_as_table() {
        assert!(!looks_like_asn_table("value,type\n1.2.3.4,ipv4\n"));
        assert!(!looks_like_asn_table("1.2.3.4\n5.6.7.8\n"));
        assert!(!looks_like_asn_table(""));
    }
}
