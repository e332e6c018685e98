//! What one file is and says: hashes, format, signatures.

use cairn_codesign::PeSignatures;
use serde::Serialize;

use crate::errors::ScanError;
use crate::hashes::Hashes;

/// A YARA rule that matched a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleHit {
    /// The rule's name.
    pub rule: String,
    /// Its namespace: which rule file it came from (`store:<key>` for a
    /// file kept in the knowledge base).
    pub namespace: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its metadata, values as JSON.
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// One scanned file or archive entry.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as given, `-` for stdin, `archive.zip!dir/entry.exe` for
    /// an archive's entry.
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// MD5, SHA-1, SHA-256; `None` when the file could not be read.
    #[serde(flatten)]
    pub hashes: Option<Hashes>,
    /// `pe32`, `pe32+`, `zip` or `data`.
    pub format: &'static str,
    /// The PE image's signatures and Authenticode hash.
    pub pe: Option<PeSignatures>,
    /// YARA rules that matched (with the `yara` feature and rules given).
    pub yara: Vec<RuleHit>,
    /// What was not looked at and why (a size or depth limit).
    pub notes: Vec<String>,
    /// Why the file, or a part of it, could not be read.
    pub error: Option<String>,
}

impl FileReport {
    /// A report for a file that could not be read at all.
    pub(crate) fn failed(error: ScanError) -> FileReport {
        let (file, message) = match error {
            ScanError::Io { path, source } => (path, source.to_string()),
            ScanError::Archive { path, message } => (path, message),
        };
        let mut r = FileReport::empty(file);
        r.error = Some(message);
        r
    }

    fn empty(file: String) -> FileReport {
        FileReport {
            file,
            size: 0,
            hashes: None,
            format: "data",
            pe: None,
            yara: Vec::new(),
            notes: Vec::new(),
            error: None,
        }
    }

    /// A file only hashed, with the note saying why.
    pub(crate) fn hashed_only(file: String, size: u64, hashes: Hashes, note: String) -> FileReport {
        let mut r = FileReport::empty(file);
        r.size = size;
        r.hashes = Some(hashes);
        r.notes.push(note);
        r
    }

    /// Whether any signature was found.
    pub fn is_signed(&self) -> bool {
        self.pe.as_ref().is_some_and(|pe| !pe.signatures.is_empty())
    }
}

/// A local file header at the start: what `unzip` would open.
pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}
