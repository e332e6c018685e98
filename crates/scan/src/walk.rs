//! From what the user named to the files to read, and reading them.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use rayon::prelude::*;

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
        let work = || {
            self.items.par_iter().for_each_init(
                || Yara::new(opts),
                |yara, item| read(item, opts, yara, &counted),
            );
        };
        match rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
        {
            Ok(pool) => pool.install(work),
            // No new pool (threads exhausted): the global one will do.
            Err(_) => work(),
        }
        counters.summary()
    }
}

fn read(item: &Item, opts: &ScanOptions, yara: &mut Yara<'_>, sink: Sink) {
    match item {
        Item::Broken(path, why) => sink(FileReport::failed(ScanError::Archive {
            path: path.clone(),
            message: why.clone(),
        })),
        Item::Stdin => read_from("-".into(), std::io::stdin().lock(), opts, yara, sink),
        Item::File(path) => {
            let name = path.display().to_string();
            match File::open(path) {
                Ok(f) => read_from(name, f, opts, yara, sink),
                Err(e) => sink(FileReport::failed(ScanError::Io {
                    path: name,
                    source: e,
                })),
            }
        }
    }
}

/// Reads up to the size limit into memory and analyses it; past the limit,
/// only hashes the rest as it streams by.
fn read_from(
    name: String,
    mut reader: impl Read,
    opts: &ScanOptions,
    yara: &mut Yara<'_>,
    sink: Sink,
) {
    let mut head = Vec::new();
    if let Err(e) = (&mut reader)
        .take(opts.max_file_size + 1)
        .read_to_end(&mut head)
    {
        sink(FileReport::failed(ScanError::Io {
            path: name,
            source: e,
        }));
        return;
    }
    if head.len() as u64 <= opts.max_file_size {
        let r = analyse::analyse(name.clone(), &head, yara);
        let zip = r.format == "zip";
        sink(r);
        if zip && opts.max_depth > 0 {
            let mut budget = Budget {
                left: opts.max_archive_total,
            };
            archive::expand(&name, &head, 1, &mut budget, opts, yara, sink);
        }
        return;
    }
    let mut hasher = Hasher::default();
    hasher.update(&head);
    let mut size = head.len() as u64;
    drop(head);
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
        "larger than --max-size ({} bytes): hashed only, signatures and archive entries not read",
        opts.max_file_size
    );
    sink(FileReport::hashed_only(name, size, hasher.finish(), note));
}
