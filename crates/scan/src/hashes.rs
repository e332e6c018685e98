//! MD5, SHA-1 and SHA-256 of a file in one pass.

use md5::Md5;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The three file hashes indicator lists use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Hashes {
    /// MD5 (lower-case hex).
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256.
    pub sha256: String,
}

/// Feeds the three hashes at once.
#[derive(Default)]
pub(crate) struct Hasher {
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
}

impl Hasher {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.sha1.update(bytes);
        self.sha256.update(bytes);
    }

    pub(crate) fn finish(self) -> Hashes {
        Hashes {
            md5: hex(&self.md5.finalize()),
            sha1: hex(&self.sha1.finalize()),
            sha256: hex(&self.sha256.finalize()),
        }
    }
}

/// The hashes of bytes in memory.
pub(crate) fn of(bytes: &[u8]) -> Hashes {
    let mut h = Hasher::default();
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
        let h = super::of(b"abc");
        assert_eq!(h.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(h.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            h.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
