//! Lists read line by line, for stores that keep them in compact form: one
//! value at a time, so memory is bounded by a line, not by the file. The
//! values, their kinds and the line errors are exactly those of the
//! [`Format::List`](crate::Format::List) reader that builds a bundle.

use crate::errors::IntakeError;
use crate::lists::{refang_token, truncate};
use crate::{Options, lists, prov};
use cairn_model::{IndicatorKind, Object, Observable, Provenance};
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
    let io = |source| IntakeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = BufReader::with_capacity(1 << 16, std::fs::File::open(path).map_err(io)?);
    let gz = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    };
    Ok(list_lines(path, reader))
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
