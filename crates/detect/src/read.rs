//! Log files in: folders walked, EVTX told from JSON by content, gzip
//! opened, JSON read as one event per line or as concatenated (pretty)
//! documents. Nothing here holds more than one event beyond a bounded
//! buffer: a 1 GB line is skipped with a note, not read into memory.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Evtx,
    Json,
}

/// The files `detect` reads: explicit files as given, folders walked
/// (sorted) for log-looking names (`.evtx`, `.json`, `.jsonl`, `.ndjson`,
/// `.log`, each possibly `.gz`). Unreadable folders come back as errors.
pub fn log_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        for e in walkdir::WalkDir::new(p).sort_by_file_name() {
            match e {
                Ok(e) if e.file_type().is_file() && log_like(e.path()) => files.push(e.into_path()),
                Ok(_) => {}
                Err(err) => errors.push((p.clone(), err.to_string())),
            }
        }
    }
    (files, errors)
}

fn log_like(p: &Path) -> bool {
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".evtx", ".json", ".jsonl", ".ndjson", ".log"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// EVTX by its magic, JSON by its first byte (after gzip, when gzipped).
pub(crate) fn kind_of(path: &Path) -> Result<Kind, String> {
    let mut f = File::open(path).map_err(|e| e.to_string())?;
    let mut head = [0u8; 8];
    let n = read_full(&mut f, &mut head).map_err(|e| e.to_string())?;
    if n == 8 && &head == b"ElfFile\0" {
        return Ok(Kind::Evtx);
    }
    let mut r = open_text(path).map_err(|e| e.to_string())?;
    let buf = r.fill_buf().map_err(|e| e.to_string())?;
    if buf.starts_with(b"#separator") {
        return Ok(Kind::Json);
    }
    match buf.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => Ok(Kind::Json),
        None if buf.is_empty() => Ok(Kind::Json),
        _ => Err("neither EVTX (no `ElfFile` header), JSON events nor a Zeek log".into()),
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A reader of the file's text, through gzip when it starts with gzip's magic.
pub(crate) fn open_text(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let mut f = File::open(path)?;
    let mut magic = [0u8; 2];
    let n = read_full(&mut f, &mut magic)?;
    let f = File::open(path)?;
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(BufReader::new(f)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, f))
    })
}

/// What reading one JSON value gave.
pub(crate) enum Item {
    /// An event, with its line (JSON lines) or its position (documents).
    Event(u64, Value),
    /// A value that could not be used; the rest of the file goes on.
    Skipped(String),
}

/// JSON events from a reader, one per line or as concatenated documents.
pub(crate) struct JsonEvents {
    mode: Mode,
    cap: usize,
    done: bool,
}

enum Mode {
    /// One event per line: JSON, or Zeek's tab-separated rows when the
    /// file opens with a Zeek header.
    Lines {
        src: LineSource,
        zeek: Option<ZeekHeader>,
    },
    Documents {
        values: std::vec::IntoIter<Value>,
        index: u64,
    },
}

/// Lines of a reader, numbered, each at most `cap` bytes kept.
struct LineSource {
    reader: Box<dyn BufRead + Send>,
    line: u64,
    buf: Vec<u8>,
}

enum Step {
    /// `buf` holds this line.
    Line(u64),
    /// This line was over the cap and was skipped.
    TooLong(u64),
    End,
}

impl LineSource {
    fn next(&mut self, cap: usize) -> Result<Step, String> {
        self.buf.clear();
        self.line += 1;
        let at = self.line;
        match read_line_capped(self.reader.as_mut(), &mut self.buf, cap) {
            Ok(Line::Eof) => Ok(Step::End),
            Ok(Line::TooLong) => Ok(Step::TooLong(at)),
            Ok(Line::Ok) => Ok(Step::Line(at)),
            Err(e) => Err(format!("line {at}: {e}")),
        }
    }
}

/// What Zeek's `#` header lines say: the log's path (its Sigma service),
/// column names, and the unset and empty markers.
struct ZeekHeader {
    path: String,
    fields: Vec<String>,
    unset: Vec<u8>,
    empty: Vec<u8>,
}

impl ZeekHeader {
    /// A header line updates the header; a row becomes an object named by
    /// `#fields`, with `_path` so Zeek rules find their service.
    fn line(&mut self, raw: &[u8], at: u64) -> Option<Item> {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches('\r');
        if let Some(h) = text.strip_prefix('#') {
            let mut parts = h.split('\t');
            match parts.next() {
                Some("path") => self.path = parts.next().unwrap_or_default().to_string(),
                Some("fields") => self.fields = parts.map(str::to_string).collect(),
                Some("unset_field") => self.unset = parts.next().unwrap_or("-").as_bytes().to_vec(),
                Some("empty_field") => {
                    self.empty = parts.next().unwrap_or("(empty)").as_bytes().to_vec()
                }
                _ => {}
            }
            return None;
        }
        if text.is_empty() {
            return None;
        }
        if self.fields.is_empty() {
            return Some(Item::Skipped(format!(
                "line {at}: a row before the #fields header"
            )));
        }
        let mut obj = serde_json::Map::new();
        obj.insert("_path".into(), Value::String(self.path.clone()));
        for (name, v) in self.fields.iter().zip(text.split('\t')) {
            if v.as_bytes() == self.unset.as_slice() {
                continue;
            }
            let v = if v.as_bytes() == self.empty.as_slice() {
                ""
            } else {
                v
            };
            obj.insert(name.clone(), Value::String(v.to_string()));
        }
        Some(Item::Event(at, Value::Object(obj)))
    }
}

/// A JSON line as an event, a skip, or nothing (blank).
fn json_line(raw: &[u8], at: u64) -> Option<Item> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(match serde_json::from_slice::<Value>(raw) {
        Ok(v) => Item::Event(at, v),
        Err(e) => Item::Skipped(format!("line {at}: {e}")),
    })
}

impl JsonEvents {
    /// Chooses the mode from the first line: a complete JSON value there
    /// means one event per line. Documents (pretty-printed, or an array)
    /// are read whole up to `cap` bytes, the limit of one event.
    pub(crate) fn open(path: &Path, cap: usize) -> Result<JsonEvents, String> {
        let mut reader = open_text(path).map_err(|e| e.to_string())?;
        let buf = reader.fill_buf().map_err(|e| e.to_string())?;
        if buf.starts_with(b"#separator") {
            return Ok(JsonEvents {
                mode: Mode::Lines {
                    src: LineSource {
                        reader,
                        line: 0,
                        buf: Vec::new(),
                    },
                    zeek: Some(ZeekHeader {
                        path: String::new(),
                        fields: Vec::new(),
                        unset: b"-".to_vec(),
                        empty: b"(empty)".to_vec(),
                    }),
                },
                cap,
                done: false,
            });
        }
        let first_line = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => &buf[..i],
            None => buf,
        };
        let complete = first_line.len() == buf.len() && !buf.is_empty()
            || serde_json::from_slice::<serde::de::IgnoredAny>(first_line).is_ok();
        let mode = if complete {
            Mode::Lines {
                src: LineSource {
                    reader,
                    line: 0,
                    buf: Vec::new(),
                },
                zeek: None,
            }
        } else {
            Mode::Documents {
                values: documents(reader, cap)?.into_iter(),
                index: 0,
            }
        };
        Ok(JsonEvents {
            mode,
            cap,
            done: false,
        })
    }

    /// The next event, a skipped one, or the end; `Err` ends the file (an
    /// I/O error such as truncated gzip).
    pub(crate) fn next_item(&mut self) -> Result<Option<Item>, String> {
        if self.done {
            return Ok(None);
        }
        match &mut self.mode {
            Mode::Lines { src, zeek } => loop {
                let at = match src.next(self.cap) {
                    Ok(Step::Line(at)) => at,
                    Ok(Step::TooLong(at)) => {
                        return Ok(Some(Item::Skipped(format!(
                            "line {at}: longer than {} bytes, skipped",
                            self.cap
                        ))));
                    }
                    Ok(Step::End) => {
                        self.done = true;
                        return Ok(None);
                    }
                    Err(e) => {
                        self.done = true;
                        return Err(e);
                    }
                };
                let item = match zeek {
                    Some(z) => z.line(&src.buf, at),
                    None => json_line(&src.buf, at),
                };
                if item.is_some() {
                    return Ok(item);
                }
            },
            Mode::Documents { values, index } => match values.next() {
                Some(v) => {
                    *index += 1;
                    Ok(Some(Item::Event(*index, v)))
                }
                None => {
                    self.done = true;
                    Ok(None)
                }
            },
        }
    }
}

enum Line {
    Ok,
    TooLong,
    Eof,
}

/// One line into `buf`, or `TooLong` after consuming a line over `cap`
/// bytes without keeping it.
fn read_line_capped(r: &mut dyn BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<Line> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(if !any {
                Line::Eof
            } else if too_long {
                Line::TooLong
            } else {
                Line::Ok
            });
        }
        any = true;
        let (chunk, end) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..i], Some(i + 1)),
            None => (avail, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > cap {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = end.unwrap_or(avail.len());
        r.consume(used);
        if end.is_some() {
            return Ok(if too_long { Line::TooLong } else { Line::Ok });
        }
    }
}

/// Counts bytes read since the last value boundary and refuses to go past
/// the cap, so a huge document fails instead of filling memory.
struct Capped<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    boundary: Rc<Cell<u64>>,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read.get() - self.boundary.get() > self.cap {
            return Err(io::Error::other(format!(
                "one JSON document is larger than {} bytes",
                self.cap
            )));
        }
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Concatenated documents (SigmaHQ's regression files, `evtx_dump -o
/// json`), or one array of events. Each document is capped; a broken one
/// ends the file with its byte offset.
fn documents(reader: Box<dyn BufRead + Send>, cap: usize) -> Result<Vec<Value>, String> {
    let read = Rc::new(Cell::new(0));
    let boundary = Rc::new(Cell::new(0));
    let capped = Capped {
        inner: reader,
        read: read.clone(),
        boundary: boundary.clone(),
        cap: cap as u64,
    };
    let mut stream = serde_json::Deserializer::from_reader(capped).into_iter::<Value>();
    let mut out = Vec::new();
    loop {
        match stream.next() {
            None => break,
            Some(Ok(Value::Array(items))) => out.extend(items),
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => {
                return Err(format!(
                    "JSON document ending at byte {}: {e}",
                    stream.byte_offset()
                ));
            }
        }
        boundary.set(stream.byte_offset() as u64);
        // Documents are events; holding them is bounded by the file, which
        // the cap per document and this count keep in check.
        if out.len() > 1_000_000 {
            return Err(
                "more than 1,000,000 pretty-printed documents: write one event per line".into(),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(content: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("tmp");
        f.write_all(content).expect("write");
        f
    }

    fn all(path: &Path, cap: usize) -> (Vec<(u64, Value)>, Vec<String>) {
        let mut r = JsonEvents::open(path, cap).expect("open");
        let mut ev = Vec::new();
        let mut skipped = Vec::new();
        while let Some(i) = r.next_item().expect("item") {
            match i {
                Item::Event(n, v) => ev.push((n, v)),
                Item::Skipped(s) => skipped.push(s),
            }
        }
        (ev, skipped)
    }

    #[test]
    fn json_lines_with_a_bad_and_a_huge_line() {
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(5000));
        let text = format!("{{\"a\":1}}\nnot json\n\n{big}\n{{\"a\":2}}\n");
        let f = file(text.as_bytes());
        let (ev, skipped) = all(f.path(), 1000);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[1].0, 5, "line numbers count blank lines too");
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped[0].starts_with("line 2"));
        assert!(skipped[1].contains("longer than 1000"));
    }

    #[test]
    fn concatenated_pretty_documents_and_arrays() {
        let f = file(b"{\n \"a\": 1\n}\n{\n \"a\": 2\n}\n");
        assert_eq!(all(f.path(), 1 << 20).0.len(), 2);
        let f = file(b"[\n{\"a\": 1}, {\"a\": 2}, {\"a\": 3}\n]");
        assert_eq!(all(f.path(), 1 << 20).0.len(), 3);
        let f = file(b"{\n \"a\": 1\n}\n{\n \"a\": ");
        assert!(JsonEvents::open(f.path(), 1 << 20).is_err());
        let f = file(format!("{{\n\"a\": \"{}\"}}", "y".repeat(10_000)).as_bytes());
        let e = JsonEvents::open(f.path(), 1000).err().expect("too big");
        assert!(e.contains("larger than 1000"), "{e}");
    }

    #[test]
    fn gzip_and_truncated_gzip() {
        use flate2::{Compression, write::GzEncoder};
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        for i in 0..2000 {
            writeln!(enc, "{{\"i\":{i},\"pad\":\"{}\"}}", "z".repeat(i % 50)).expect("w");
        }
        let gz = enc.finish().expect("gz");
        let f = file(&gz);
        assert_eq!(kind_of(f.path()).expect("kind"), Kind::Json);
        assert_eq!(all(f.path(), 1 << 20).0.len(), 2000);
        let cut = file(&gz[..gz.len() / 2]);
        let mut r = JsonEvents::open(cut.path(), 1 << 20).expect("open");
        let mut n = 0;
        let end = loop {
            match r.next_item() {
                Ok(Some(_)) => n += 1,
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        assert!(n > 0 && n < 2000);
        assert!(
            end.is_some(),
            "a truncated gzip is an error, not a quiet end"
        );
    }

    #[test]
    fn zeek_tsv_rows_are_objects_with_their_path() {
        let log = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\tts\tquery\tqtype_name\tanswers\n#types\ttime\tstring\tstring\tvector[string]\n1.5\tevil.example\t-\t(empty)\n#close\t2024\n";
        let f = file(log.as_bytes());
        assert_eq!(kind_of(f.path()).expect("kind"), Kind::Json);
        let (ev, skipped) = all(f.path(), 1 << 20);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(ev.len(), 1);
        let v = &ev[0].1;
        assert_eq!(v["_path"], "dns");
        assert_eq!(v["query"], "evil.example");
        assert!(v.get("qtype_name").is_none(), "unset fields are absent");
        assert_eq!(v["answers"], "");
    }

    #[test]
    fn kinds_by_content() {
        assert_eq!(
            kind_of(file(b"ElfFile\0rest").path()).expect("evtx"),
            Kind::Evtx
        );
        assert!(kind_of(file(b"MZ\x90\x00").path()).is_err());
    }
}
