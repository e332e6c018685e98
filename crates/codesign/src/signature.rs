//! One Authenticode signature (a CMS SignedData): who signed, with which
//! certificates, over which digest, and when a timestamp says it was signed.
//!
//! The `authenticode` crate checks the structure and gives the signed
//! digest; certificates, counter-signatures, RFC 3161 tokens and nested
//! signatures are read here from the CMS structure through `cms`, because
//! that crate exposes none of them (and its certificate accessor panics on
//! a signature without certificates).

use authenticode::AuthenticodeSignature;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::{GeneralizedTime, Int};
use der::{Decode, Encode, Reader, SliceReader, Tagged};
use serde::Serialize;
use x509_cert::Certificate;

use crate::cert::{CertInfo, hex};

const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const COUNTER_SIGNATURE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.6");
const MS_TIMESTAMP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.3.3.1");
const NESTED_SIGNATURE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.4.1");
const PROGRAM_NAME_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.12");

/// Nested signatures deeper than this are reported as a problem, not read:
/// real files nest once, a crafted one could nest until the stack ends.
pub(crate) const MAX_NESTING: usize = 4;

/// How a signing time is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// An RFC 3161 time-stamp token (a TSA's signed statement).
    Rfc3161,
    /// A PKCS #9 counter-signature's signing time (a TSA's older form).
    CounterSignature,
    /// The signer's own signed attribute: claimed, not attested.
    Claimed,
}

/// When a signature was made, and who says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningTime {
    /// The time (STIX timestamp).
    pub time: String,
    /// How it is known.
    pub source: TimeSource,
    /// The time-stamping authority's certificate, when present.
    pub authority: Option<CertInfo>,
}

/// One Authenticode signature of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// Position among the file's signatures, depth first (0 = the first
    /// attribute certificate's signature).
    pub index: usize,
    /// The signature this one is nested in (`None` for a top-level one).
    pub nested_in: Option<usize>,
    /// Digest algorithm of the Authenticode hash (`sha256`, `sha1`, `md5`,
    /// `sha384`, `sha512`, or the OID when unknown).
    pub digest_algorithm: String,
    /// The digest the signature covers (hex).
    pub signed_digest: String,
    /// The file's Authenticode digest computed with that algorithm.
    pub file_digest: Option<String>,
    /// Whether the two agree (`None` when the algorithm is not supported).
    pub digest_ok: Option<bool>,
    /// The signer's certificate (matched by issuer and serial).
    pub signer: Option<CertInfo>,
    /// Every certificate the signature carries (signer and chain).
    pub certificates: Vec<CertInfo>,
    /// When it was signed, best source first (RFC 3161, counter-signature,
    /// then the signer's claim).
    pub signing_time: Option<SigningTime>,
    /// The program name the signer gave (`SpcSpOpusInfo`), when present.
    pub program_name: Option<String>,
}

/// A signature as read, before the file digest is compared with it.
pub(crate) struct Parsed {
    pub signature: Signature,
    /// DER of nested signatures, read by the caller (depth first).
    pub nested: Vec<Vec<u8>>,
}

/// Reads one signature from DER bytes (trailing padding allowed).
pub(crate) fn parse(
    bytes: &[u8],
    index: usize,
    nested_in: Option<usize>,
) -> Result<Parsed, String> {
    let auth = AuthenticodeSignature::from_bytes(bytes).map_err(|e| e.to_string())?;
    let signed = signed_data(bytes).ok_or("CMS SignedData does not decode")?;
    let certs: Vec<(Certificate, CertInfo)> = certificates(&signed);
    let signer_info = auth.signer_info();
    let signer = find_cert(&certs, &signer_info.sid).cloned();

    let mut nested = Vec::new();
    let mut stamps = Vec::new();
    for attr in signer_info.unsigned_attrs.iter().flat_map(|a| a.iter()) {
        for value in attr.values.iter() {
            if attr.oid == NESTED_SIGNATURE {
                if let Ok(der) = value.to_der() {
                    nested.push(der);
                }
            } else if attr.oid == MS_TIMESTAMP {
                if let Some(t) = value.to_der().ok().and_then(|d| rfc3161_time(&d)) {
                    stamps.push(t);
                }
            } else if attr.oid == COUNTER_SIGNATURE
                && let Ok(counter) = value.decode_as::<SignerInfo>()
                && let Some(time) = signed_time(&counter)
            {
                stamps.push(SigningTime {
                    time,
                    source: TimeSource::CounterSignature,
                    authority: find_cert(&certs, &counter.sid).cloned(),
                });
            }
        }
    }
    if let Some(time) = signed_time(signer_info) {
        stamps.push(SigningTime {
            time,
            source: TimeSource::Claimed,
            authority: None,
        });
    }
    stamps.sort_by_key(|s| s.source as u8);

    let signature = Signature {
        index,
        nested_in,
        digest_algorithm: algorithm_name(&auth.digest_algorithm().oid),
        signed_digest: hex(auth.digest()),
        file_digest: None,
        digest_ok: None,
        signer,
        certificates: certs.into_iter().map(|(_, info)| info).collect(),
        signing_time: stamps.into_iter().next(),
        program_name: program_name(signer_info),
    };
    Ok(Parsed { signature, nested })
}

fn signed_data(bytes: &[u8]) -> Option<SignedData> {
    let mut reader = SliceReader::new(bytes).ok()?;
    let content = ContentInfo::decode(&mut reader).ok()?;
    content.content.decode_as::<SignedData>().ok()
}

fn certificates(signed: &SignedData) -> Vec<(Certificate, CertInfo)> {
    let Some(set) = &signed.certificates else {
        return Vec::new();
    };
    set.0
        .iter()
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => {
                let der = c.to_der().ok()?;
                Some((c.clone(), CertInfo::from_cert(c, &der)))
            }
            _ => None,
        })
        .collect()
}

fn find_cert<'a>(
    certs: &'a [(Certificate, CertInfo)],
    sid: &SignerIdentifier,
) -> Option<&'a CertInfo> {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => certs
            .iter()
            .find(|(c, _)| {
                c.tbs_certificate.serial_number == isn.serial_number
                    && c.tbs_certificate.issuer == isn.issuer
            })
            .map(|(_, info)| info),
        SignerIdentifier::SubjectKeyIdentifier(_) => None,
    }
}

/// The PKCS #9 signing time among a signer's signed attributes.
fn signed_time(info: &SignerInfo) -> Option<String> {
    let attr = info
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == SIGNING_TIME)?;
    let der = attr.values.iter().next()?.to_der().ok()?;
    let t = x509_cert::time::Time::from_der(&der).ok()?;
    epoch(t.to_unix_duration())
}

/// The `genTime` of an RFC 3161 token, and the TSA's certificate.
fn rfc3161_time(token: &[u8]) -> Option<SigningTime> {
    let signed = signed_data(token)?;
    let tst = signed.encap_content_info.econtent.as_ref()?;
    let tst = der::asn1::OctetString::from_der(&tst.to_der().ok()?).ok()?;
    let gen_time = tst_gen_time(tst.as_bytes())?;
    let certs = certificates(&signed);
    let authority = signed
        .signer_infos
        .0
        .iter()
        .next()
        .and_then(|si| find_cert(&certs, &si.sid).cloned());
    Some(SigningTime {
        time: epoch(gen_time.to_unix_duration())?,
        source: TimeSource::Rfc3161,
        authority,
    })
}

/// `TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber,
/// genTime, … }`: read up to `genTime`, skip the rest.
fn tst_gen_time(bytes: &[u8]) -> Option<GeneralizedTime> {
    let mut reader = SliceReader::new(bytes).ok()?;
    reader
        .sequence(|r| {
            let _version: Int = r.decode()?;
            let _policy: ObjectIdentifier = r.decode()?;
            let _imprint: der::Any = r.decode()?;
            let _serial: Int = r.decode()?;
            let time: GeneralizedTime = r.decode()?;
            let rest = r.remaining_len();
            r.read_slice(rest)?;
            Ok(time)
        })
        .ok()
}

/// `SpcSpOpusInfo ::= SEQUENCE { programName [0] EXPLICIT SpcString OPTIONAL, … }`
/// with `SpcString ::= CHOICE { unicode [0] IMPLICIT BMPString, ascii [1] IMPLICIT IA5String }`.
fn program_name(info: &SignerInfo) -> Option<String> {
    let attr = info
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == PROGRAM_NAME_INFO)?;
    let opus = attr.values.iter().next()?.to_der().ok()?;
    let mut reader = SliceReader::new(&opus).ok()?;
    let inner: der::Any = reader.decode().ok()?; // the SEQUENCE
    let mut fields = SliceReader::new(inner.value()).ok()?;
    let first: der::Any = fields.decode().ok()?;
    let explicit0 = der::Tag::ContextSpecific {
        constructed: true,
        number: der::TagNumber::N0,
    };
    if first.tag() != explicit0 {
        return None;
    }
    let choice: der::Any = der::Any::from_der(first.value()).ok()?;
    let raw = choice.value();
    let text = match choice.tag() {
        der::Tag::ContextSpecific {
            number: der::TagNumber::N0,
            ..
        } => {
            let units: Vec<u16> = raw
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        der::Tag::ContextSpecific {
            number: der::TagNumber::N1,
            ..
        } => String::from_utf8_lossy(raw).into_owned(),
        _ => return None,
    };
    let text = text.trim_end_matches('\0').trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn epoch(d: std::time::Duration) -> Option<String> {
    i64::try_from(d.as_secs())
        .ok()
        .and_then(cairn_model::time::from_epoch_seconds)
}

fn algorithm_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.14.3.2.26" => "sha1".into(),
        "2.16.840.1.101.3.4.2.1" => "sha256".into(),
        "2.16.840.1.101.3.4.2.2" => "sha384".into(),
        "2.16.840.1.101.3.4.2.3" => "sha512".into(),
        "1.2.840.113549.2.5" => "md5".into(),
        other => other.to_string(),
    }
}
