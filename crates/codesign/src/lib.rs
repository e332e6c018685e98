//! Who signed a file: Authenticode signatures of PE images and the X.509
//! certificates in them, read from bytes.
//!
//! [`pe_signatures`] reads a PE image's certificate table into
//! [`Signature`]s — nested and duplicated ones too — each with its signer
//! and chain as [`CertInfo`] (canonical serial, RFC 4514 names, validity,
//! SHA-1/SHA-256 thumbprints, TBS and public-key hashes), the digest it
//! signs compared with the file's own Authenticode digest, and the signing
//! time from an RFC 3161 token or counter-signature. [`CertInfo::from_der`]
//! reads a lone `.cer` file the same way, so a certificate published in a
//! list and one found in a binary compare field by field.
//!
//! Nothing here verifies a chain or a signature value: the question asked
//! is "which certificate is this, and is the file the one it signed", and
//! whether that certificate is known abused is the knowledge base's.
//!
//! ```no_run
//! let bytes = std::fs::read("7z1900-x64_signed.exe")?;
//! if let Some(pe) = cairn_codesign::pe_signatures(&bytes)? {
//!     for sig in &pe.signatures {
//!         let signer = sig.signer.as_ref().map(|c| c.subject.as_str());
//!         println!("{signer:?} digest ok: {:?}", sig.digest_ok);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cert;
pub mod errors;
mod pe;
mod signature;

pub use cert::CertInfo;
pub use errors::CodesignError;
pub use pe::{
    Digests, PeSignatures, authentihashes, pe_signatures, pe_signatures_from, pe_signatures_with,
};
pub use signature::{Signature, SigningTime, TimeSource};
