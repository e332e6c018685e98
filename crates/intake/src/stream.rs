//! Lists read line by line, for stores that keep them in compact form: one
//! value at a time, so memory is bounded by a line, not by the file. The
//! values, their kinds and the line errors are exactly those of the
//! [`Format::List`](crate::Format::List) reader that builds a bundle.

use crate::errors::IntakeError;
use crate::lists::{refang_token, truncate};
use crate::{Options, lists, prov};
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One value of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListLine {
    /// Line number, from 1.
    pub line: usize,
    /// The value, typed and normalized.
    pub observable: Observable,
    /// The value as the line wrote it (trimmed).
    pub written: String,
}

/// What a list's values share: its source name and the actor object they
/// indicate (the one the bundle reader would build).
#[derive(Debug, Clone)]
pub struct ListInfo {
    /// Source name.
    pub source: String,
    /// The actor named by [`Options::actor`], as a statement of the source.
    pub actor: Option<Object>,
    /// The provenance every value carries (the caller's reference,
    /// confidence and TLP).
    pub prov: Provenance,
}

/// The source and actor a list at `path` is stored under with `opts`.
pub fn list_info(path: &Path, opts: &Options) -> ListInfo {
    let source = prov::source_name(opts, None, path);
    ListInfo {
        actor: lists::list_actor(opts, &source),
        prov: prov::base(opts, &source),
        source,
    }
}

/// The values of a list, one per `next()`; the first bad line (not an
/// indicator, invalid UTF-8, unreadable) is an error naming it.
pub struct ListLines<R> {
    path: PathBuf,
    reader: R,
    line: usize,
    buf: Vec<u8>,
    failed: bool,
}

/// A list file, gzip or plain, read as it is iterated.
pub fn open_list(path: &Path) -> Result<ListLines<Box<dyn BufRead>>, IntakeError> {
    Ok(list_lines(path, open_reader(path)?))
}

/// A file, gzip or plain, as a buffered reader of its content.
pub fn open_reader(path: &Path) -> Result<Box<dyn BufRead>, IntakeError> {
    let io = |source| IntakeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = BufReader::with_capacity(1 << 16, std::fs::File::open(path).map_err(io)?);
    let gz = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    };
    // A byte-order mark is not content (the whole-file readers drop it too).
    if reader.fill_buf().map_err(io)?.starts_with(b"\xef\xbb\xbf") {
        reader.consume(3);
    }
    Ok(reader)
}

/// The values of a list read from `reader`; `path` names it in errors.
pub fn list_lines<R: BufRead>(path: &Path, reader: R) -> ListLines<R> {
    ListLines {
        path: path.to_path_buf(),
        reader,
        line: 0,
        buf: Vec::new(),
        failed: false,
    }
}

impl<R: BufRead> Iterator for ListLines<R> {
    type Item = Result<ListLine, IntakeError>;

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
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(IntakeError::object(
                        &self.path,
                        format!("line {}, byte offset {}", self.line, e.valid_up_to()),
                        "invalid UTF-8",
                    )));
                }
            };
            let text = if self.line == 1 {
                text.strip_prefix('\u{feff}').unwrap_or(text)
            } else {
                text
            };
            let t = text.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let clean = refang_token(t);
            let Some(kind) = IndicatorKind::detect(&clean) else {
                self.failed = true;
                return Some(Err(IntakeError::object(
                    &self.path,
                    format!("line {}", self.line),
                    format!("`{}` is not a recognisable indicator", truncate(t)),
                )));
            };
            return Some(Ok(ListLine {
                line: self.line,
                observable: Observable::new(kind, &clean),
                written: t.to_string(),
            }));
        }
    }
}

/// Hashes what [`open_list`] reads (decompressed), without keeping it.
pub fn digest_list(path: &Path, mut sink: impl FnMut(&[u8])) -> Result<(), IntakeError> {
    let io = |source| IntakeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = BufReader::with_capacity(1 << 16, std::fs::File::open(path).map_err(io)?);
    let gz = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|e| IntakeError::Format {
            path: path.to_path_buf(),
            message: format!("cannot read it whole: {e}"),
        })?;
        if n == 0 {
            return Ok(());
        }
        sink(&buf[..n]);
    }
}

/// A CSV's first bytes up to and including its first non-empty line (which
/// says the delimiter), put back in front of the rest.
type Rejoined<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, R>;

fn open_csv<R: BufRead>(
    path: &Path,
    mut reader: R,
) -> Result<csv::Reader<Rejoined<R>>, IntakeError> {
    let mut head = Vec::new();
    let first = loop {
        let start = head.len();
        let n = reader
            .read_until(b'\n', &mut head)
            .map_err(|source| IntakeError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let line = String::from_utf8_lossy(&head[start..]);
        if n == 0 || !line.trim().is_empty() {
            break line.into_owned();
        }
    };
    let delim = lists::csv_delimiter(first.trim_start_matches('\u{feff}'));
    let bom = usize::from(head.starts_with(b"\xef\xbb\xbf")) * 3;
    head.drain(..bom);
    Ok(lists::csv_reader(
        delim,
        std::io::Cursor::new(head).chain(reader),
    ))
}

/// The values of a CSV whose rows say nothing but a value (and its kind),
/// read row by row like a list (see [`list_lines`]); `Ok(None)` when its
/// columns give rows more to say (an actor, dates, provenance, roles, a
/// family, a comment), which [`csv_batches`] reads instead.
pub fn csv_values<R: BufRead>(
    path: &Path,
    reader: R,
    opts: &Options,
) -> Result<Option<CsvValues<Rejoined<R>>>, IntakeError> {
    let mut rdr = open_csv(path, reader)?;
    let cols = lists::CsvColumns::from_header(path, &mut rdr, opts)?;
    if cols.per_row() {
        return Ok(None);
    }
    Ok(Some(CsvValues {
        path: path.to_path_buf(),
        rdr,
        cols,
        rec: csv::StringRecord::new(),
        index: 0,
        failed: false,
    }))
}

/// The values of a list-like CSV, one per `next()`; the first bad row is an
/// error naming its line.
pub struct CsvValues<R> {
    path: PathBuf,
    rdr: csv::Reader<R>,
    cols: lists::CsvColumns,
    rec: csv::StringRecord,
    index: usize,
    failed: bool,
}

impl<R: Read> Iterator for CsvValues<R> {
    type Item = Result<ListLine, IntakeError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            let i = self.index;
            self.index += 1;
            let place = || format!("line {}", i + 2);
            match self.rdr.read_record(&mut self.rec) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    self.failed = true;
                    return Some(Err(csv_error(&self.path, i, &e)));
                }
            }
            match self.cols.value(&self.path, &place, &self.rec) {
                Ok(None) => continue,
                Ok(Some((observable, written))) => {
                    return Some(Ok(ListLine {
                        line: i + 2,
                        written: written.to_string(),
                        observable,
                    }));
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// A CSV's statements (rows with their own actor, dates, provenance…),
/// handed to `sink` in bundles of about `size` statements as the rows are
/// read: the indicators and their links first, the actors and families
/// they name last. The first error, the sink's or a row's, ends it. The
/// statements are those [`crate::parse_bytes`] gives, under the source
/// [`list_info`] names.
pub fn csv_batches<R: BufRead, E: From<IntakeError>>(
    path: &Path,
    reader: R,
    opts: &Options,
    size: usize,
    mut sink: impl FnMut(Bundle) -> Result<(), E>,
) -> Result<(), E> {
    let mut rdr = open_csv(path, reader)?;
    let cols = lists::CsvColumns::from_header(path, &mut rdr, opts)?;
    let source = prov::source_name(opts, None, path);
    let mut b = lists::CsvBuilder::new(opts, source, cols);
    let mut rec = csv::StringRecord::new();
    let mut i = 0;
    loop {
        let more = rdr
            .read_record(&mut rec)
            .map_err(|e| csv_error(path, i, &e))?;
        if !more {
            break;
        }
        b.row(path, i, &rec)?;
        i += 1;
        if b.pending() >= size {
            sink(with_format(b.drain()))?;
        }
    }
    sink(with_format(b.finish()))
}

/// A row the CSV reader refused, named by its line.
fn csv_error(path: &Path, i: usize, e: &csv::Error) -> IntakeError {
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => IntakeError::object(
            path,
            format!("line {}", pos.as_ref().map_or(i as u64 + 2, |p| p.line())),
            "invalid UTF-8",
        ),
        _ => IntakeError::object(path, format!("line {}", i + 2), e.to_string()),
    }
}

fn with_format(mut b: Bundle) -> Bundle {
    b.format = crate::Format::Csv.as_str().to_string();
    b
}

/// Up to `limit` bytes of a file's content (decompressed), and whether that
/// is all of it: enough to detect its format without reading it whole.
pub fn read_head(path: &Path, limit: usize) -> Result<(Vec<u8>, bool), IntakeError> {
    let mut reader = open_reader(path)?;
    let mut head = Vec::new();
    (&mut reader)
        .take(limit as u64 + 1)
        .read_to_end(&mut head)
        .map_err(|e| IntakeError::Format {
            path: path.to_path_buf(),
            message: format!("cannot read it: {e}"),
        })?;
    let whole = head.len() <= limit;
    head.truncate(limit);
    Ok((head, whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_the_values_the_bundle_reader_makes() {
        let text = "\u{feff}# c\nkb.dga[.]asia\n\n45.77.153[.]197\nkb.dga.asia\n";
        let opts = Options {
            actor: Some("RedHotel".into()),
            source: Some("s".into()),
            ..Options::default()
        };
        let b = crate::parse_bytes(Path::new("l.txt"), text.as_bytes(), &opts).unwrap();
        let lines: Vec<ListLine> = list_lines(Path::new("l.txt"), text.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].line, 2);
        assert_eq!(lines[0].written, "kb.dga[.]asia");
        for o in b.objects.iter().filter(|o| o.kind == "indicator") {
            assert!(lines.iter().any(|l| l.observable == o.observables[0]));
        }
        let info = list_info(Path::new("l.txt"), &opts);
        let actor = b
            .objects
            .iter()
            .find(|o| o.kind == "intrusion-set")
            .unwrap();
        assert_eq!(info.actor.as_ref().unwrap().id, actor.id);
        assert_eq!(info.actor.unwrap().raw, actor.raw);
    }

    #[test]
    fn a_bad_line_is_named_and_ends_the_stream() {
        let text = b"evil.com\nnot an ioc\nok.example\n";
        let mut it = list_lines(Path::new("l.txt"), &text[..]);
        assert!(it.next().unwrap().is_ok());
        let err = it.next().unwrap().unwrap_err();
        assert!(err.to_string().contains("l.txt: line 2"), "{err}");
        assert!(it.next().is_none());
        let bad = b"a.example\n\xff\xfe\n";
        let err = list_lines(Path::new("b.txt"), &bad[..])
            .find_map(Result::err)
            .unwrap();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
