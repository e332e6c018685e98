//! One certificate as every source knows it: the statements that name it
//! by serial or thumbprint, gathered across the forms lists use, with the
//! actors and samples they link to. Shared by `cairn cert` and the server.

use cairn_kb::Store;
use cairn_model::serial;
use serde::Serialize;
use serde_json::Value;

use crate::errors::EngineError;
use crate::files::{ActorLink, add_actor, certificate_record, push_new};

/// One source's statement about the certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertStatement {
    /// The statement's STIX id.
    pub stix_id: String,
    /// Who said so.
    pub source: String,
    /// Where it can be checked.
    pub reference: Option<String>,
    /// Its marking.
    pub tlp: String,
    /// Roles and labels (`leaked`, `abused-code-signing`, …).
    pub labels: Vec<String>,
    /// Families it indicates.
    pub families: Vec<String>,
    /// The certificate's fields as the source gives them.
    pub certificate: Option<Value>,
}

/// A sample a source saw signed with the certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertSample {
    /// The value's kind (`sha256`, `md5`).
    pub kind: String,
    /// The value.
    pub value: String,
    /// Who said so.
    pub source: String,
}

/// Everything known about one certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertReport {
    /// What was asked.
    pub query: String,
    /// Serials the statements give (canonical hex).
    pub serials: Vec<String>,
    /// SHA-1 thumbprints.
    pub thumbprints_sha1: Vec<String>,
    /// SHA-256 thumbprints.
    pub thumbprints_sha256: Vec<String>,
    /// Subjects as the sources write them.
    pub subjects: Vec<String>,
    /// Issuers as the sources write them.
    pub issuers: Vec<String>,
    /// Every source's statement.
    pub statements: Vec<CertStatement>,
    /// Actors it points to.
    pub actors: Vec<ActorLink>,
    /// Samples seen signed with it.
    pub samples: Vec<CertSample>,
    /// Other certificates that share its public key or its subject: the
    /// same signer re-issued, or a look-alike.
    pub related: Vec<RelatedCert>,
}

/// A different certificate (another serial) tied to this one.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedCert {
    /// Its serial.
    pub serial: String,
    /// Its subject as the source writes it.
    pub subject: Option<String>,
    /// Who lists it.
    pub source: String,
    /// `same public key` or `same subject`.
    pub why: String,
}

/// Every statement naming the certificate `query` (a serial in hex,
/// colons, `0x…` or decimal, or a SHA-1/SHA-256 thumbprint), in two rounds:
/// what the query finds, then what those statements add (a thumbprint a
/// serial-only list did not know, and back). At most `max_samples` samples.
pub fn certificate_report(
    store: &Store,
    query: &str,
    max_samples: usize,
) -> Result<CertReport, EngineError> {
    let mut values: Vec<String> = serial::candidates(query);
    let plain = cairn_model::IndicatorKind::CertSha1.normalize(query);
    if matches!(plain.len(), 40 | 64) && !values.contains(&plain) {
        values.push(plain);
    }
    let mut report = CertReport {
        query: query.to_string(),
        serials: Vec::new(),
        thumbprints_sha1: Vec::new(),
        thumbprints_sha256: Vec::new(),
        subjects: Vec::new(),
        issuers: Vec::new(),
        statements: Vec::new(),
        actors: Vec::new(),
        samples: Vec::new(),
        related: Vec::new(),
    };
    let mut keys: Vec<i64> = Vec::new();
    let mut asked: Vec<String> = Vec::new();
    // Two rounds: what the query finds, then what those statements add
    // (a thumbprint a serial-only list did not know, and back).
    for _ in 0..2 {
        let mut found = Vec::new();
        for v in values.iter().filter(|v| !asked.contains(v)) {
            found.extend(store.indicator_keys(v)?);
        }
        asked.extend(values.iter().cloned());
        let mut next = Vec::new();
        for k in found {
            if keys.contains(&k) {
                continue;
            }
            let cert = certificate_record(store, k)?;
            // Only certificate statements: a file hash equal to the query
            // is not this certificate.
            let ctx = store.indicator_context(k)?;
            if cert.is_none() && !is_cert_indicator(store, k)? {
                continue;
            }
            keys.push(k);
            if let Some(c) = &cert {
                for (field, into) in [
                    ("serial", &mut report.serials),
                    ("sha1", &mut report.thumbprints_sha1),
                    ("sha256", &mut report.thumbprints_sha256),
                    ("subject", &mut report.subjects),
                    ("issuer", &mut report.issuers),
                ] {
                    if let Some(v) = c[field].as_str() {
                        push_new(into, [v.to_string()]);
                    }
                }
                for f in ["serial", "sha1", "sha256"] {
                    if let Some(v) = c[f].as_str() {
                        next.push(v.to_string());
                    }
                }
            }
            for a in &ctx.actors {
                add_actor(&mut report.actors, a, "indicated".into());
            }
            for fam in &ctx.families {
                for a in store.family_users(fam)? {
                    add_actor(&mut report.actors, &a, format!("uses {fam}"));
                }
            }
            for p in &ctx.sources {
                report.statements.push(CertStatement {
                    stix_id: ctx.stix_id.clone(),
                    source: p.source.clone(),
                    reference: p.reference.clone(),
                    tlp: p.tlp.as_str().to_string(),
                    labels: ctx.roles.clone(),
                    families: ctx.families.clone(),
                    certificate: cert.clone(),
                });
            }
            for s in store.linked_to(&ctx.stix_id, max_samples)? {
                for (kind, value) in s.values {
                    if report.samples.len() < max_samples
                        && !report.samples.iter().any(|x| x.value == value)
                    {
                        report.samples.push(CertSample {
                            kind,
                            value,
                            source: s.source.clone(),
                        });
                    }
                }
            }
        }
        for v in next {
            push_new(&mut values, [v]);
        }
    }
    report.related = related(store, &report)?;
    Ok(report)
}

/// Certificates with another serial whose public key or subject (compared
/// as a normalised name) is one of this certificate's.
fn related(store: &Store, report: &CertReport) -> Result<Vec<RelatedCert>, EngineError> {
    if report.statements.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<&str> = report
        .statements
        .iter()
        .filter_map(|s| s.certificate.as_ref()?["public_key_sha256"].as_str())
        .collect();
    let subjects: Vec<String> = report
        .subjects
        .iter()
        .map(|s| cairn_model::normalize_name(s))
        .filter(|s| s.len() >= 4)
        .collect();
    let mut out: Vec<RelatedCert> = Vec::new();
    for (source, cert) in store.certificate_records()? {
        let Some(serial) = cert["serial"].as_str() else {
            continue;
        };
        if report.serials.iter().any(|s| s == serial) {
            continue;
        }
        let subject = cert["subject"].as_str().map(str::to_string);
        let why = if cert["public_key_sha256"]
            .as_str()
            .is_some_and(|k| keys.contains(&k))
        {
            "same public key"
        } else if subject
            .as_deref()
            .is_some_and(|s| subjects.contains(&cairn_model::normalize_name(s)))
        {
            "same subject"
        } else {
            continue;
        };
        if !out.iter().any(|r| r.serial == serial && r.source == source) {
            out.push(RelatedCert {
                serial: serial.to_string(),
                subject,
                source,
                why: why.to_string(),
            });
        }
    }
    out.sort_by(|a, b| (&a.why, &a.serial).cmp(&(&b.why, &b.serial)));
    Ok(out)
}

/// Whether the statement `key` (STIX, MISP, a list: no
/// `x_cairn_certificate`) holds a certificate value, not a file hash.
fn is_cert_indicator(store: &Store, key: i64) -> Result<bool, EngineError> {
    Ok(store
        .indicator_kinds(key)?
        .iter()
        .any(|k| k.starts_with("cert-")))
}
