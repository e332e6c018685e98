//! A PE image's Authenticode signatures and its Authenticode hashes.

use std::io::{Read, Seek, SeekFrom};

use std::ops::Range;

use authenticode::{
    AttributeCertificateIterator, PeOffsetError, PeOffsets, PeTrait, authenticode_digest,
};
use md5::Md5;
use object::pe::IMAGE_DIRECTORY_ENTRY_SECURITY;
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
    /// catalogs name a PE by; `None` when [`Digests`] did not ask for it
    /// and no SHA-256 signature check computed it.
    pub authentihash_sha256: Option<String>,
    /// Entries of the certificate table that could not be read; the
    /// others are still reported.
    pub problems: Vec<String>,
}

/// Which Authenticode digests reading a PE image computes. Each is a hash
/// over (nearly) the whole image, so on large files they cost far more
/// than reading the signatures; a caller that needs neither skips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests {
    /// The SHA-256 Authenticode hash of every image, signed or not (a
    /// signed image's SHA-256 signature check computes it anyway).
    pub authentihash: bool,
    /// Each signature's signed digest compared with the image's own
    /// (`digest_ok`); off, `digest_ok` and `file_digest` stay `None`.
    pub verify: bool,
}

impl Digests {
    /// No digest: signatures read, nothing hashed.
    pub const NONE: Digests = Digests {
        authentihash: false,
        verify: false,
    };
}

impl Default for Digests {
    /// Both: what [`pe_signatures`] computes.
    fn default() -> Self {
        Digests {
            authentihash: true,
            verify: true,
        }
    }
}

/// Reads the signatures of a PE image, checks each signed digest and
/// computes the Authenticode hash. `Ok(None)` when the bytes are not a PE
/// image at all; an error when they start like one but do not parse.
pub fn pe_signatures(bytes: &[u8]) -> Result<Option<PeSignatures>, CodesignError> {
    pe_signatures_with(bytes, Digests::default())
}

/// Bytes read from the start of a file for its headers (DOS, NT, section
/// table): far more than any real image's `SizeOfHeaders` (an image whose
/// NT headers lie past this is called malformed here).
const HEAD: u64 = 64 << 10;
/// A certificate table larger than this is refused rather than read
/// (real ones hold a few KB of certificates).
const MAX_TABLE: u32 = 64 << 20;

/// Reads a PE image's signatures from a seekable file without reading the
/// whole file: only its headers and its certificate table. No digest can
/// be computed that way (it covers every byte), so `digest_ok`,
/// `file_digest` and `authentihash_sha256` stay `None`. For files too large
/// to read whole, and for inventories of who signed what.
pub fn pe_signatures_from<R: Read + Seek>(
    mut file: R,
) -> Result<Option<PeSignatures>, CodesignError> {
    let len = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    (&mut file).take(HEAD).read_to_end(&mut head)?;
    if !head.starts_with(b"MZ") {
        return Ok(None);
    }
    let security = |d: Option<&object::pe::ImageDataDirectory>| d.map(|d| d.address_range());
    let (format, table) = match object::FileKind::parse(&head[..]) {
        Ok(object::FileKind::Pe32) => (
            "pe32",
            PeFile32::parse(&head[..])
                .map(|pe| security(pe.data_directory(IMAGE_DIRECTORY_ENTRY_SECURITY))),
        ),
        Ok(object::FileKind::Pe64) => (
            "pe32+",
            PeFile64::parse(&head[..])
                .map(|pe| security(pe.data_directory(IMAGE_DIRECTORY_ENTRY_SECURITY))),
        ),
        Ok(_) => return Ok(None),
        Err(e) => return Err(CodesignError::MalformedPe(e.to_string())),
    };
    let table = table.map_err(|e| CodesignError::MalformedPe(e.to_string()))?;
    let Some((offset, size)) = table.filter(|&(_, size)| size > 0) else {
        return read(&TableOnly(&[]), format, Digests::NONE).map(Some);
    };
    // The security directory's "address" is a file offset.
    let end = u64::from(offset) + u64::from(size);
    if size > MAX_TABLE {
        return Err(CodesignError::CertificateTable(format!(
            "{size} bytes at offset {offset}: larger than {MAX_TABLE} bytes, not read"
        )));
    }
    if end > len {
        return Err(CodesignError::CertificateTable(format!(
            "{size} bytes at offset {offset} run past the end of the file ({len} bytes)"
        )));
    }
    let mut bytes = vec![0u8; size as usize];
    file.seek(SeekFrom::Start(u64::from(offset)))?;
    file.read_exact(&mut bytes)?;
    read(&TableOnly(&bytes), format, Digests::NONE).map(Some)
}

/// A certificate table read alone, seen as an image holding nothing else:
/// enough for the table's entries, and no digest can be asked of it
/// ([`Digests::NONE`]), so the section and offset queries never come.
struct TableOnly<'a>(&'a [u8]);

impl PeTrait for TableOnly<'_> {
    fn data(&self) -> &[u8] {
        self.0
    }

    fn num_sections(&self) -> usize {
        0
    }

    fn section_data_range(&self, _index: usize) -> Result<Range<usize>, PeOffsetError> {
        Err(PeOffsetError)
    }

    fn certificate_table_range(&self) -> Result<Option<Range<usize>>, PeOffsetError> {
        Ok((!self.0.is_empty()).then_some(0..self.0.len()))
    }

    fn offsets(&self) -> Result<PeOffsets, PeOffsetError> {
        Err(PeOffsetError)
    }
}

/// [`pe_signatures`], computing only the digests `digests` asks for.
pub fn pe_signatures_with(
    bytes: &[u8],
    digests: Digests,
) -> Result<Option<PeSignatures>, CodesignError> {
    if bytes.len() < 2 || &bytes[..2] != b"MZ" {
        return Ok(None);
    }
    match object::FileKind::parse(bytes) {
        Ok(object::FileKind::Pe32) => {
            let pe =
                PeFile32::parse(bytes).map_err(|e| CodesignError::MalformedPe(e.to_string()))?;
            read(&pe, "pe32", digests).map(Some)
        }
        Ok(object::FileKind::Pe64) => {
            let pe =
                PeFile64::parse(bytes).map_err(|e| CodesignError::MalformedPe(e.to_string()))?;
            read(&pe, "pe32+", digests).map(Some)
        }
        // A DOS program (MZ without a PE header) has nothing to sign.
        Ok(_) => Ok(None),
        Err(e) => Err(CodesignError::MalformedPe(e.to_string())),
    }
}

fn read(
    pe: &dyn PeTrait,
    format: &'static str,
    want: Digests,
) -> Result<PeSignatures, CodesignError> {
    let mut out = PeSignatures {
        format,
        signatures: Vec::new(),
        authentihash_sha256: None,
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
    // One digest per algorithm, shared by the signatures using it and, for
    // SHA-256, by the Authenticode hash.
    let mut digests: Vec<(String, Option<String>)> = Vec::new();
    if want.authentihash {
        digests.push(("sha256".into(), file_digest(pe, "sha256")));
    }
    if want.verify {
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
    }
    out.authentihash_sha256 = digests
        .into_iter()
        .find(|(a, _)| a == "sha256")
        .and_then(|(_, d)| d);
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
