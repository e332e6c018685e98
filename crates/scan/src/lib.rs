//! Cairn's file scanner: walks files, directories, zip archives and stdin,
//! and says what each file is — its hashes and, for PE images, who signed
//! it ([`cairn_codesign`]).
//!
//! A [`Plan`] is made from [`Input`]s (directories walked recursively,
//! nothing read yet, so a caller can show progress against its length);
//! [`Plan::run`] reads the files in parallel under [`ScanOptions`]' limits
//! and hands one [`FileReport`] per file or archive entry to the caller's
//! sink, in completion order. A file that cannot be read is a report with
//! an `error`, never the end of the run. Whether a hash or a certificate is
//! known bad is the knowledge base's question (`cairn-engine` asks it).
//!
//! ```
//! use cairn_scan::{Input, Plan, ScanOptions};
//! use std::sync::Mutex;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("a.txt"), b"abc")?;
//! let plan = Plan::new(&[Input::Path(dir.path().to_path_buf())]);
//! assert_eq!(plan.len(), 1);
//! let reports = Mutex::new(Vec::new());
//! let summary = plan.run(&ScanOptions::default(), &|r| reports.lock().unwrap().push(r));
//! let reports = reports.into_inner().unwrap();
//! assert_eq!(reports[0].hashes.as_ref().unwrap().sha256,
//!            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
//! assert_eq!(summary.files, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod analyse;
mod archive;
pub mod errors;
mod hashes;
mod report;
mod walk;
mod yara;

use std::sync::atomic::{AtomicU64, Ordering};

pub use errors::ScanError;
pub use hashes::{Hashes, Hashing};
pub use report::{FileReport, RuleHit};
pub use walk::{Input, Plan};

/// Where reports go: called from worker threads, once per file or entry.
pub type Sink<'a> = &'a (dyn Fn(FileReport) + Sync);

/// Limits that keep memory bounded on hostile input.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files (and archive entries) up to this size are read into memory
    /// and parsed; larger files are only hashed, streaming.
    pub max_file_size: u64,
    /// Archives inside archives are opened down to this depth (1: only
    /// the archives given).
    pub max_depth: usize,
    /// Entries read per archive.
    pub max_entries: usize,
    /// Bytes inflated out of one archive given, all depths together.
    pub max_archive_total: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Hashes computed beyond SHA-256 (default: all).
    pub hashing: Hashing,
    /// YARA rules run over every file read into memory.
    #[cfg(feature = "yara")]
    pub rules: Option<std::sync::Arc<cairn_yara::Rules>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: 256 << 20,
            max_depth: 3,
            max_entries: 100_000,
            max_archive_total: 4 << 30,
            threads: 0,
            hashing: Hashing::ALL,
            #[cfg(feature = "yara")]
            rules: None,
        }
    }
}

/// What a run read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanSummary {
    /// Reports made (files and archive entries).
    pub files: u64,
    /// Bytes hashed.
    pub bytes: u64,
    /// Reports carrying an error.
    pub errors: u64,
    /// Reports with at least one signature.
    pub signed: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    signed: AtomicU64,
}

impl Counters {
    fn count(&self, r: &FileReport) {
        self.files.fetch_add(1, Ordering::Relaxed);
        if r.hashes.is_some() {
            self.bytes.fetch_add(r.size, Ordering::Relaxed);
        }
        if r.error.is_some() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if r.is_signed() {
            self.signed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn summary(&self) -> ScanSummary {
        ScanSummary {
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            signed: self.signed.load(Ordering::Relaxed),
        }
    }
}
