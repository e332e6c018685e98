//! From what the user named to the files to read, and reading them.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::analyse;
use crate::archive::{self, Budget};
use crate::errors::ScanError;
use crate::hashes::Hasher;
use crate::report::FileReport;
use crate::yara::Yara;
use crate::{Counters, ScanOptions, ScanSummary, Sink};

/// Something to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or a directory (walked recursively, symbolic links not
    /// followed).
    Path(PathBuf),
    /// Standard input, named `-`.
    Stdin,
}

#[derive(Debug, Clone)]
enum Item {
    File(PathBuf),
    Stdin,
    /// A path that could not be walked: reported, not read.
    Broken(String, String),
}

/// The files a scan will read, in a stable order.
#[derive(Debug, Clone)]
pub struct Plan {
    items: Vec<Item>,
}

impl Plan {
    /// Walks the inputs (directories recursively, entries sorted by name).
    pub fn new(inputs: &[Input]) -> Plan {
        let mut items = Vec::new();
        for input in inputs {
            match input {
                Input::Stdin => items.push(Item::Stdin),
                Input::Path(p) if p.is_dir() => {
                    for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                        match entry {
                            Ok(e) if e.file_type().is_file() => {
                                items.push(Item::File(e.into_path()))
                            }
                            Ok(_) => {}
                            Err(e) => {
                                let at = e.path().unwrap_or(p).display().to_string();
                                items.push(Item::Broken(at, e.to_string()));
                            }
                        }
                    }
                }
                Input::Path(p) => items.push(Item::File(p.clone())),
            }
        }
        Plan { items }
    }

    /// Files and stdin to read (archive entries come on top).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Reads every file in parallel, one report per file and archive entry
    /// to `sink`.
    pub fn run(&self, opts: &ScanOptions, sink: Sink) -> ScanSummary {
        let counters = Counters::default();
        let counted = |r: FileReport| {
            counters.count(&r);
            sink(r);
        };
        // One worker per thread taking the next file in turn: its YARA
        // scanner and buffer live as long as the thread (rayon's
        // `for_each_init` made them again for every split of the work).
        let threads = match opts.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads.min(self.items.len()) {
                s.spawn(|| {
                    let mut w = Worker {
                        yara: Yara::new(opts),
                        buf: Vec::new(),
                    };
                    while let Some(item) = self.items.get(next.fetch_add(1, Ordering::Relaxed)) {
                        read(item, opts, &mut w, &counted);
                    }
                });
            }
        });
        counters.summary()
    }
}

/// What a worker thread keeps between files: its YARA scanner, and one
/// read buffer, so each file does not map and fault in fresh pages.
struct Worker<'r> {
    yara: Yara<'r>,
    buf: Vec<u8>,
}

/// Bytes read (and hashed) at a time: well inside a core's L2 cache.
const CHUNK: u64 = 256 << 10;

/// A buffer grown past this by one large file is not kept for the next.
const KEEP_BUF: usize = 64 << 20;

fn read(item: &Item, opts: &ScanOptions, w: &mut Worker<'_>, sink: Sink) {
    match item {
        Item::Broken(path, why) => sink(FileReport::failed(ScanError::Archive {
            path: path.clone(),
            message: why.clone(),
        })),
        Item::Stdin => read_from("-".into(), std::io::stdin().lock(), None, opts, w, sink),
        Item::File(path) => {
            let name = path.display().to_string();
            match File::open(path) {
                Ok(f) => {
                    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                    read_from(name, f, Some((path, size)), opts, w, sink)
                }
                Err(e) => sink(FileReport::failed(ScanError::Io {
                    path: name,
                    source: e,
                })),
            }
        }
    }
}

/// Reads up to the size limit into memory and analyses it; past the limit,
/// only hashes the rest as it streams by, and reads a file's signatures
/// from its headers and certificate table. `file` is the path and what the
/// file system says of the size, so the buffer is allocated once, not
/// grown by copies.
fn read_from(
    name: String,
    mut reader: impl Read,
    file: Option<(&Path, u64)>,
    opts: &ScanOptions,
    w: &mut Worker<'_>,
    sink: Sink,
) {
    let size = file.map_or(0, |(_, size)| size);
    let cap = size.min(opts.max_file_size.saturating_add(1));
    if w.buf.capacity() > KEEP_BUF {
        w.buf = Vec::new();
    }
    let head = &mut w.buf;
    head.clear();
    head.reserve(usize::try_from(cap).unwrap_or(0));
    let yara = &mut w.yara;
    // Hashed a chunk at a time as it is read, while the chunk is still in
    // the cache: one trip through memory fewer than hashing it afterwards.
    let mut hasher = Hasher::new(opts.hashing);
    let limit = opts.max_file_size.saturating_add(1);
    loop {
        let before = head.len();
        let want = CHUNK.min(limit - before as u64);
        match (&mut reader).take(want).read_to_end(head) {
            Ok(0) => break,
            Ok(_) => hasher.update(&head[before..]),
            Err(e) => {
                sink(FileReport::failed(ScanError::Io {
                    path: name,
                    source: e,
                }));
                return;
            }
        }
        if head.len() as u64 >= limit {
            break;
        }
    }
    if head.len() as u64 <= opts.max_file_size {
        let r = analyse::analyse(name.clone(), head, hasher.finish(), opts.hashing, yara);
        let zip = r.format == "zip";
        sink(r);
        if zip && opts.max_depth > 0 {
            let mut budget = Budget {
                left: opts.max_archive_total,
            };
            archive::expand(&name, head, 1, &mut budget, opts, yara, sink);
        }
        return;
    }
    let mut size = head.len() as u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                sink(FileReport::failed(ScanError::Io {
                    path: name,
                    source: e,
                }));
                return;
            }
        }
    }
    let note = format!(
        "larger than --max-size ({} bytes): hashed, signatures read without checking the digest, not run through YARA, archive entries not read",
        opts.max_file_size
    );
    let mut report = FileReport::hashed_only(name, size, hasher.finish(), note);
    if let Some((path, _)) = file {
        match File::open(path)
            .map_err(Into::into)
            .and_then(cairn_codesign::pe_signatures_from)
        {
            Ok(Some(pe)) => {
                report.format = pe.format;
                report.pe = Some(pe);
            }
            Ok(None) => {}
            Err(e) => report.error = Some(e.to_string()),
        }
    }
    sink(report);
}
