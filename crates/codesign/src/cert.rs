//! One X.509 certificate as analysts compare them: serial, names,
//! validity and the hashes lists use to name it.

use cairn_model::{serial, time};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use md5::Md5;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;

use crate::errors::CodesignError;

const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// A certificate's identifying fields and hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    /// Serial number, canonical hex (see [`cairn_model::serial`]).
    pub serial: String,
    /// Subject as an RFC 4514 string (`CN=…,O=…,C=…`).
    pub subject: String,
    /// Issuer as an RFC 4514 string.
    pub issuer: String,
    /// The subject's common name, when it has one.
    pub subject_cn: Option<String>,
    /// The issuer's common name, when it has one.
    pub issuer_cn: Option<String>,
    /// Start of validity (STIX timestamp).
    pub not_before: Option<String>,
    /// End of validity (STIX timestamp).
    pub not_after: Option<String>,
    /// SHA-1 of the DER certificate: the Windows thumbprint.
    pub thumbprint_sha1: String,
    /// SHA-256 of the DER certificate.
    pub thumbprint_sha256: String,
    /// MD5 of the DER certificate (some datasets name files by it).
    pub md5: String,
    /// SHA-256 of the to-be-signed part: equal for re-signed copies.
    pub tbs_sha256: String,
    /// SHA-1 of the to-be-signed part.
    pub tbs_sha1: String,
    /// SHA-256 of the subject public key info: equal across certificates
    /// issued for one key.
    pub public_key_sha256: String,
    /// Subject equals issuer.
    pub self_signed: bool,
    /// Whether the extended key usage allows code signing; `None` when the
    /// certificate has no such extension (any usage).
    pub code_signing: Option<bool>,
}

impl CertInfo {
    /// Reads a DER-encoded certificate (a `.cer` file).
    pub fn from_der(der_bytes: &[u8]) -> Result<CertInfo, CodesignError> {
        let cert = Certificate::from_der(der_bytes)
            .map_err(|e| CodesignError::Certificate(e.to_string()))?;
        Ok(CertInfo::from_cert(&cert, der_bytes))
    }

    /// Reads a certificate already decoded, given its DER bytes.
    pub(crate) fn from_cert(cert: &Certificate, der_bytes: &[u8]) -> CertInfo {
        let tbs = &cert.tbs_certificate;
        let tbs_der = tbs.to_der().unwrap_or_default();
        let spki_der = tbs.subject_public_key_info.to_der().unwrap_or_default();
        let validity = |t: x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs())
                .ok()
                .and_then(time::from_epoch_seconds)
        };
        CertInfo {
            serial: serial::from_bytes(tbs.serial_number.as_bytes()),
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            subject_cn: common_name(&tbs.subject),
            issuer_cn: common_name(&tbs.issuer),
            not_before: validity(tbs.validity.not_before),
            not_after: validity(tbs.validity.not_after),
            thumbprint_sha1: hex(&Sha1::digest(der_bytes)),
            thumbprint_sha256: hex(&Sha256::digest(der_bytes)),
            md5: hex(&Md5::digest(der_bytes)),
            tbs_sha256: hex(&Sha256::digest(&tbs_der)),
            tbs_sha1: hex(&Sha1::digest(&tbs_der)),
            public_key_sha256: hex(&Sha256::digest(&spki_der)),
            self_signed: tbs.subject == tbs.issuer,
            code_signing: code_signing(cert),
        }
    }
}

fn code_signing(cert: &Certificate) -> Option<bool> {
    let ext = cert
        .tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == EKU)?;
    let eku = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes()).ok()?;
    Some(eku.0.contains(&CODE_SIGNING))
}

/// The last CN of a name, unescaped from its RFC 4514 form.
fn common_name(name: &Name) -> Option<String> {
    let atv = name
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .rfind(|atv| atv.oid == CN)?;
    let shown = atv.to_string();
    let value = shown.split_once('=').map(|(_, v)| v).unwrap_or(&shown);
    Some(unescape(value))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
