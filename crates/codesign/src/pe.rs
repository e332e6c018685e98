//! A PE image's Authenticode signatures and its Authenticode hashes.

use authenticode::{AttributeCertificateIterator, PeTrait, authenticode_digest};
use md5::Md5;
use object::read::pe::{PeFile32, PeFile64};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::cert::hex;
use crate::errors::CodesignError;
use crate::signature::{self, MAX_NESTING, Signature};

/// What a PE file says about who signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeSignatures {
    /// `pe32` or `pe32+`.
    pub format: &'static str,
    /// Every signature, top-level ones in table order, nested ones after
    /// their parent. Empty for an unsigned file.
    pub signatures: Vec<Signature>,
    /// The file's Authenticode hash (SHA-256), what allow-lists and
    /// catalogs name a PE by.
    pub authentihash_sha256: Option<String>,
    /// Entries of the certificate table that could not be read; the
    /// others are still reported.
    pub problems: Vec<String>,
}

/// Reads the signatures of a PE image. `Ok(None)` when the bytes are not a
/// PE image at all; an error when they start like one but do not parse.
pub fn pe_signatures(bytes: &[u8]) -> Result<Option<PeSignatures>, CodesignError> {
    if bytes.len() < 2 || &bytes[..2] != b"MZ" {
        return Ok(None);
    }
    match object::FileKind::parse(bytes) {
        Ok(object::FileKind::Pe32) => {
            let pe =
                PeFile32::parse(bytes).map_err(|e| CodesignError::MalformedPe(e.to_string()))?;
            read(&pe, "pe32").map(Some)
        }
        Ok(object::FileKind::Pe64) => {
            let pe =
                PeFile64::parse(bytes).map_err(|e| CodesignError::MalformedPe(e.to_string()))?;
            read(&pe, "pe32+").map(Some)
        }
        // A DOS program (MZ without a PE header) has nothing to sign.
        Ok(_) => Ok(None),
        Err(e) => Err(CodesignError::MalformedPe(e.to_string())),
    }
}

fn read(pe: &dyn PeTrait, format: &'static str) -> Result<PeSignatures, CodesignError> {
    let mut out = PeSignatures {
        format,
        signatures: Vec::new(),
        authentihash_sha256: file_digest(pe, "sha256"),
        problems: Vec::new(),
    };
    let table = AttributeCertificateIterator::new(pe)
        .map_err(|e| CodesignError::CertificateTable(e.to_string()))?;
    for (n, entry) in table.into_iter().flatten().enumerate() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.problems
                    .push(format!("certificate table entry {n}: {e}"));
                continue;
            }
        };
        if entry.certificate_type != 2 {
            out.problems.push(format!(
                "certificate table entry {n}: type {} is not PKCS #7 signed data",
                entry.certificate_type
            ));
            continue;
        }
        read_signature(entry.data, None, 0, &mut out);
    }
    let mut digests: Vec<(String, Option<String>)> = Vec::new();
    for sig in &mut out.signatures {
        let computed = match digests.iter().find(|(a, _)| *a == sig.digest_algorithm) {
            Some((_, d)) => d.clone(),
            None => {
                let d = file_digest(pe, &sig.digest_algorithm);
                digests.push((sig.digest_algorithm.clone(), d.clone()));
                d
            }
        };
        sig.digest_ok = computed.as_ref().map(|d| *d == sig.signed_digest);
        sig.file_digest = computed;
    }
    Ok(out)
}

/// Reads one signature and, depth first, those nested in it.
fn read_signature(der: &[u8], parent: Option<usize>, depth: usize, out: &mut PeSignatures) {
    let index = out.signatures.len();
    match signature::parse(der, index, parent) {
        Ok(parsed) => {
            out.signatures.push(parsed.signature);
            for nested in parsed.nested {
                if depth + 1 > MAX_NESTING {
                    out.problems.push(format!(
                        "signature {index}: nested signatures deeper than {MAX_NESTING} not read"
                    ));
                    break;
                }
                read_signature(&nested, Some(index), depth + 1, out);
            }
        }
        Err(e) => out.problems.push(format!("signature {index}: {e}")),
    }
}

/// The Authenticode hash with a named algorithm; `None` for an algorithm
/// not supported or a layout the digest cannot cover.
fn file_digest(pe: &dyn PeTrait, algorithm: &str) -> Option<String> {
    fn run<D: Digest + sha2::digest::Update>(pe: &dyn PeTrait) -> Option<String> {
        let mut d = D::new();
        authenticode_digest(pe, &mut d).ok()?;
        Some(hex(&d.finalize()))
    }
    match algorithm {
        "sha256" => run::<Sha256>(pe),
        "sha1" => run::<Sha1>(pe),
        "md5" => run::<Md5>(pe),
        "sha384" => run::<Sha384>(pe),
        "sha512" => run::<Sha512>(pe),
        _ => None,
    }
}

/// The Authenticode hashes (MD5, SHA-1, SHA-256) of a PE image, as
/// signify and `osslsigncode` print them; `None` when not a PE.
pub fn authentihashes(bytes: &[u8]) -> Option<[String; 3]> {
    let with = |pe: &dyn PeTrait| {
        Some([
            file_digest(pe, "md5")?,
            file_digest(pe, "sha1")?,
            file_digest(pe, "sha256")?,
        ])
    };
    match object::FileKind::parse(bytes).ok()? {
        object::FileKind::Pe32 => with(&PeFile32::parse(bytes).ok()?),
        object::FileKind::Pe64 => with(&PeFile64::parse(bytes).ok()?),
        _ => None,
    }
}
