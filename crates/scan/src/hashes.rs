//! A file's hashes in one pass: SHA-256 always, MD5 and SHA-1 when asked.

use md5::Md5;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The file hashes indicator lists use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Hashes {
    /// MD5 (lower-case hex); `None` when [`Hashing`] did not ask for it.
    pub md5: Option<String>,
    /// SHA-1; `None` when not asked for.
    pub sha1: Option<String>,
    /// SHA-256, always: a file's name in findings and sightings.
    pub sha256: String,
}

/// Which hashes a scan computes beyond SHA-256. MD5 is the slowest hash
/// by far (no hardware help: ~0.6 GB/s against SHA-256's ~1.5–2 GB/s with
/// SHA-NI), so a scan that matches no MD5 indicator should not pay for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashing {
    /// MD5 of every file.
    pub md5: bool,
    /// SHA-1 of every file.
    pub sha1: bool,
    /// The SHA-256 Authenticode hash of every PE image (a signed image
    /// whose signature is SHA-256 gets it from the signature check anyway).
    pub authentihash: bool,
}

impl Hashing {
    /// Every hash.
    pub const ALL: Hashing = Hashing {
        md5: true,
        sha1: true,
        authentihash: true,
    };
}

impl Default for Hashing {
    fn default() -> Self {
        Hashing::ALL
    }
}

/// Feeds the asked hashes at once.
pub(crate) struct Hasher {
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    sha256: Sha256,
}

impl Hasher {
    pub(crate) fn new(with: Hashing) -> Hasher {
        Hasher {
            md5: with.md5.then(Md5::new),
            sha1: with.sha1.then(Sha1::new),
            sha256: Sha256::new(),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.md5 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(bytes);
        }
        self.sha256.update(bytes);
    }

    pub(crate) fn finish(self) -> Hashes {
        Hashes {
            md5: self.md5.map(|h| hex(&h.finalize())),
            sha1: self.sha1.map(|h| hex(&h.finalize())),
            sha256: hex(&self.sha256.finalize()),
        }
    }
}

/// The hashes of bytes in memory.
pub(crate) fn of(bytes: &[u8], with: Hashing) -> Hashes {
    let mut h = Hasher::new(with);
    h.update(bytes);
    h.finish()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        // Python: hashlib.md5(b"abc").hexdigest() etc.
        let h = super::of(b"abc", super::Hashing::ALL);
        assert_eq!(h.md5.as_deref(), Some("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(
            h.sha1.as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(h.sha256, abc);
        // Leaving MD5 and SHA-1 out changes nothing else.
        let lean = super::Hashing {
            md5: false,
            sha1: false,
            authentihash: false,
        };
        let h = super::of(b"abc", lean);
        assert_eq!((h.md5, h.sha1, h.sha256.as_str()), (None, None, abc));
    }
}
