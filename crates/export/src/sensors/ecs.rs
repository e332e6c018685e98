//! Elastic Common Schema threat indicators, one JSON document a line, for
//! Elastic's threat-intelligence indicator match rules.
//!
//! `threat.indicator.type` takes ECS's values (`domain-name`, `ipv4-addr`,
//! `url`, `file`, …) and the value goes to the field ECS names for it
//! (`threat.indicator.ip`, `.url.full`, `.url.domain`, `.file.hash.sha256`,
//! `.email.address`, …). Confidence is ECS's word for the STIX 0–100 scale
//! (0 None, 1–29 Low, 30–69 Medium, 70–100 High); the marking is ECS's TLP
//! value. Kinds ECS has no field for (networks, TLS fingerprints, coin
//! addresses) are skipped.

use crate::sensors::indicator::{
    OutputFile, SensorExport, SensorIndicator, SensorOptions, indicator_url,
};
use cairn_model::IndicatorKind;
use serde_json::{Map, Value, json};

/// The file name used when none is given.
pub const ECS_FILE: &str = "cairn.ndjson";

/// ECS's confidence word for a STIX confidence.
pub fn ecs_confidence(c: Option<u8>) -> &'static str {
    match c {
        None => "Not Specified",
        Some(0) => "None",
        Some(1..=29) => "Low",
        Some(30..=69) => "Medium",
        Some(_) => "High",
    }
}

/// The indicator type and the fields carrying the value, or `None`.
pub fn ecs_value(kind: IndicatorKind, value: &str) -> Option<(&'static str, Value)> {
    use IndicatorKind as K;
    let hash = |alg: &str| json!({ "file": { "hash": { alg: value } } });
    Some(match kind {
        K::Domain => ("domain-name", json!({ "url": { "domain": value } })),
        K::Ipv4 => ("ipv4-addr", json!({ "ip": value })),
        K::Ipv6 => ("ipv6-addr", json!({ "ip": value })),
        K::Url => ("url", json!({ "url": { "full": value } })),
        K::Email => ("email-addr", json!({ "email": { "address": value } })),
        K::Md5 => ("file", hash("md5")),
        K::Sha1 => ("file", hash("sha1")),
        K::Sha256 => ("file", hash("sha256")),
        K::Sha512 => ("file", hash("sha512")),
        K::FileName => ("file", json!({ "file": { "name": value } })),
        K::CertSerial => (
            "x509-certificate",
            json!({ "x509": { "serial_number": value } }),
        ),
        K::RegistryKey => (
            "windows-registry-key",
            json!({ "registry": { "key": value } }),
        ),
        K::Asn => {
            let n: u64 = value
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .ok()?;
            ("autonomous-system", json!({ "as": { "number": n } }))
        }
        _ => return None,
    })
}

/// One document.
pub fn ecs_document(i: &SensorIndicator, opts: &SensorOptions) -> Option<Value> {
    let (t, fields) = ecs_value(i.kind, &i.value)?;
    let mut ind = Map::new();
    ind.insert("type".into(), json!(t));
    if let Value::Object(f) = fields {
        ind.extend(f);
    }
    ind.insert("provider".into(), json!(i.sources.join("; ")));
    ind.insert("confidence".into(), json!(ecs_confidence(i.confidence)));
    let tlp = i.tlp.as_str().trim_start_matches("TLP:");
    ind.insert("marking".into(), json!({ "tlp": tlp }));
    let time = |s: &Option<String>| s.as_deref().and_then(cairn_model::time::stix);
    if let Some(f) = time(&i.first_seen) {
        ind.insert("first_seen".into(), json!(f));
    }
    if let Some(l) = time(&i.last_seen) {
        ind.insert("last_seen".into(), json!(l));
    }
    ind.insert(
        "reference".into(),
        json!(indicator_url(&opts.url_base, &i.value)),
    );
    let mut desc = Vec::new();
    if !i.roles.is_empty() {
        desc.push(format!("role: {}", i.roles.join(", ")));
    }
    if !i.families.is_empty() {
        desc.push(format!("family: {}", i.families.join(", ")));
    }
    if !desc.is_empty() {
        ind.insert("description".into(), json!(desc.join("; ")));
    }
    let mut threat = Map::new();
    threat.insert("indicator".into(), Value::Object(ind));
    if !i.actors.is_empty() {
        threat.insert("group".into(), json!({ "name": i.actors }));
    }
    if !i.families.is_empty() {
        threat.insert("software".into(), json!({ "name": i.families }));
    }
    let mut doc = json!({
        "@timestamp": opts.generated,
        "ecs": { "version": "8.11.0" },
        "event": {
            "kind": "enrichment",
            "category": ["threat"],
            "type": ["indicator"],
            "dataset": "cairn.indicator",
        },
        "threat": threat,
    });
    if !i.roles.is_empty() {
        doc["tags"] = json!(i.roles);
    }
    Some(doc)
}

/// The NDJSON file.
pub fn ecs_ndjson(indicators: &[SensorIndicator], opts: &SensorOptions) -> SensorExport {
    let mut text = String::new();
    let (mut written, mut skipped) = (0, 0);
    for i in indicators {
        match ecs_document(i, opts) {
            Some(doc) => {
                text.push_str(&doc.to_string());
                text.push('\n');
                written += 1;
            }
            None => skipped += 1,
        }
    }
    SensorExport {
        files: vec![OutputFile {
            name: ECS_FILE.into(),
            content: text,
        }],
        written,
        skipped,
    }
}
