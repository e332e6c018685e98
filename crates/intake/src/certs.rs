//! Abused code-signing certificate lists as they are published: the Cert
//! Graveyard CSV (one row per signed sample, hex serials), the NDSS 2026
//! XingTuLab dataset (decimal serials, with the `.cer` files in a
//! `certs.zip` beside the CSV) and LOLCerts (colon-separated serials, a
//! compromise timestamp). Each certificate becomes one indicator per
//! source (serial, and thumbprints where known) carrying the certificate's
//! fields in `x_cairn_certificate`; its malware families and the samples
//! seen signed with it are linked to it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use cairn_codesign::CertInfo;
use cairn_model::{
    Bundle, IndicatorKind, Object, Observable, Provenance, Relation, deterministic_id,
    normalize_name, serial, time,
};
use serde_json::{Value, json};

use crate::errors::IntakeError;
use crate::{Options, prov};

/// Which published list a CSV header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertList {
    Graveyard,
    XingTuLab,
    LolCerts,
}

impl CertList {
    /// The source name when the caller gives none. LOLCerts publishes one
    /// CSV per kind (`leaked`, `malicious`): each is a source of its own,
    /// or the second would withdraw the first.
    fn default_source(self, path: &Path) -> String {
        match self {
            CertList::Graveyard => "Cert Graveyard".into(),
            CertList::XingTuLab => "XingTuLab code-signing abuse dataset (NDSS 2026)".into(),
            CertList::LolCerts => match path.file_stem().and_then(|s| s.to_str()) {
                Some(stem) => format!("LOLCerts ({stem})"),
                None => "LOLCerts".into(),
            },
        }
    }
}

/// The list a header row belongs to, if any.
pub(crate) fn detect(first_line: &str) -> Option<CertList> {
    let h = first_line
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase();
    let has = |cols: &[&str]| cols.iter().all(|c| h.split(',').any(|x| x.trim() == *c));
    if has(&[
        "hash",
        "malware",
        "signer",
        "serial",
        "thumbprint",
        "tbs sha256",
    ]) {
        Some(CertList::Graveyard)
    } else if has(&["cert md5", "serial", "subject", "issuer", "abuse type"]) {
        Some(CertList::XingTuLab)
    } else if has(&["name", "status", "source", "issuer", "timestamp", "serial"]) {
        Some(CertList::LolCerts)
    } else {
        None
    }
}

/// One certificate as one row (or several rows) of a list describes it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Record {
    pub(crate) serial: String,
    pub(crate) issuer: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) sha1: Option<String>,
    pub(crate) sha256: Option<String>,
    pub(crate) md5: Option<String>,
    pub(crate) tbs_sha256: Option<String>,
    pub(crate) public_key_sha256: Option<String>,
    pub(crate) not_before: Option<String>,
    pub(crate) not_after: Option<String>,
    pub(crate) country: Option<String>,
    /// From when the list says the certificate is in bad hands.
    pub(crate) compromised_since: Option<String>,
    pub(crate) labels: BTreeSet<String>,
    pub(crate) families: BTreeSet<String>,
    /// (hash kind, value) of samples seen signed with it.
    pub(crate) samples: BTreeSet<(IndicatorKind, String)>,
    pub(crate) description: Option<String>,
    /// The YARA rule it came from.
    pub(crate) rule: Option<String>,
    /// The list's own label for the entry, when it has one.
    pub(crate) title: Option<String>,
    pub(crate) reference: Option<String>,
}

impl Record {
    /// Rows describing the same certificate merge into one record.
    fn key(&self) -> String {
        let issuer = self
            .issuer
            .as_deref()
            .map(normalize_name)
            .unwrap_or_default();
        format!(
            "{}\0{}\0{issuer}",
            self.serial,
            self.sha1.as_deref().unwrap_or("")
        )
    }

    fn absorb(&mut self, other: Record) {
        self.labels.extend(other.labels);
        self.families.extend(other.families);
        self.samples.extend(other.samples);
        for (mine, theirs) in [
            (&mut self.subject, other.subject),
            (&mut self.sha256, other.sha256),
            (&mut self.description, other.description),
            (&mut self.reference, other.reference),
            (&mut self.compromised_since, other.compromised_since),
            (&mut self.rule, other.rule),
            (&mut self.title, other.title),
        ] {
            if mine.is_none() {
                *mine = theirs;
            }
        }
    }
}

/// Reads a certificate list into indicators, families and samples.
pub(crate) fn parse(
    path: &Path,
    text: &str,
    list: CertList,
    opts: &Options,
) -> Result<Bundle, IntakeError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| IntakeError::object(path, "line 1", e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let certs = match list {
        CertList::XingTuLab => cer_files(path)?,
        _ => HashMap::new(),
    };
    let mut records: BTreeMap<String, Record> = BTreeMap::new();
    for (i, row) in rdr.records().enumerate() {
        let place = format!("line {}", i + 2);
        let row = row.map_err(|e| IntakeError::object(path, &place, e.to_string()))?;
        let get = |name: &str| {
            col(name)
                .and_then(|c| row.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "???")
                .map(str::to_string)
        };
        let rec = match list {
            CertList::Graveyard => graveyard(&get),
            CertList::XingTuLab => xingtulab(&get, &certs),
            CertList::LolCerts => lolcerts(&get),
        }
        .map_err(|m| IntakeError::object(path, &place, m))?;
        match records.get_mut(&rec.key()) {
            Some(r) => r.absorb(rec),
            None => {
                records.insert(rec.key(), rec);
            }
        }
    }
    let source = prov::source_name(opts, Some(list.default_source(path)), path);
    Ok(build(records.into_values(), &source, opts))
}

type Get<'a> = dyn Fn(&str) -> Option<String> + 'a;

fn graveyard(get: &Get) -> Result<Record, String> {
    let thumbprint = |len: usize| {
        get("Thumbprint")
            .filter(|t| t.len() == len && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|t| t.to_ascii_lowercase())
    };
    let serial = get("Serial")
        .and_then(|s| serial::canonical_hex(&s))
        .ok_or("no hex `Serial`")?;
    let mut r = Record {
        serial,
        issuer: get("Issuer"),
        subject: get("Signer"),
        // The column holds a SHA-1 thumbprint, on some rows a SHA-256 one.
        sha1: thumbprint(40),
        sha256: thumbprint(64),
        tbs_sha256: get("TBS SHA256").map(|t| t.to_ascii_lowercase()),
        not_before: get("Valid From").and_then(|d| time::stix(&d)),
        not_after: get("Valid To").and_then(|d| time::stix(&d)),
        country: get("Country"),
        ..Record::default()
    };
    r.labels.insert("abused-code-signing".into());
    // `Unknown` is the list's word for no family.
    if let Some(m) = get("Malware").filter(|m| !m.eq_ignore_ascii_case("unknown")) {
        r.families.insert(m);
    }
    if let Some(h) = get("Hash").filter(|h| h.len() == 64) {
        r.samples
            .insert((IndicatorKind::Sha256, h.to_ascii_lowercase()));
    }
    Ok(r)
}

fn xingtulab(get: &Get, certs: &HashMap<String, CertInfo>) -> Result<Record, String> {
    let serial = get("Serial")
        .and_then(|s| serial::from_decimal(&s))
        .ok_or("`Serial` is not a decimal number")?;
    let md5 = get("Cert MD5").map(|m| m.to_ascii_lowercase());
    let mut r = Record {
        serial,
        issuer: get("Issuer"),
        subject: get("Subject"),
        md5: md5.clone(),
        not_before: get("Valid From").and_then(|d| time::stix(&d)),
        not_after: get("Valid To").and_then(|d| time::stix(&d)),
        country: get("Country"),
        ..Record::default()
    };
    // The .cer file, when the zip is beside the CSV, gives what the CSV
    // does not: thumbprints, the TBS and key hashes, exact validity.
    if let Some(c) = md5.as_ref().and_then(|m| certs.get(m)) {
        r.sha1 = Some(c.thumbprint_sha1.clone());
        r.sha256 = Some(c.thumbprint_sha256.clone());
        r.tbs_sha256 = Some(c.tbs_sha256.clone());
        r.public_key_sha256 = Some(c.public_key_sha256.clone());
        r.not_before = c.not_before.clone().or(r.not_before);
        r.not_after = c.not_after.clone().or(r.not_after);
        if c.serial != r.serial {
            return Err(format!(
                "serial {} differs from its .cer file's {}",
                r.serial, c.serial
            ));
        }
    }
    r.labels.insert("abused-code-signing".into());
    if let Some(kind) = get("Abuse Type").filter(|k| k != "Unspecified") {
        r.labels.insert(kind.to_ascii_lowercase().replace(' ', "-"));
    }
    if let Some(md5) = get("Sample").and_then(|u| u.rsplit('/').next().map(str::to_string))
        && md5.len() == 32
        && md5.bytes().all(|b| b.is_ascii_hexdigit())
    {
        r.samples
            .insert((IndicatorKind::Md5, md5.to_ascii_lowercase()));
    }
    Ok(r)
}

fn lolcerts(get: &Get) -> Result<Record, String> {
    let serial = get("serial")
        .and_then(|s| serial::canonical_hex(&s))
        .ok_or("no hex `serial`")?;
    let mut r = Record {
        serial,
        issuer: get("issuer"),
        description: get("description"),
        reference: get("references"),
        compromised_since: get("timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(time::from_epoch_seconds),
        ..Record::default()
    };
    r.labels.insert("abused-code-signing".into());
    for l in [get("source"), get("status")].into_iter().flatten() {
        r.labels.insert(l.to_ascii_lowercase());
    }
    // `name` is the list's label for the entry (`lapsus_nvidia_leaked_certificate`),
    // not the certificate's subject, which LOLCerts does not give.
    r.title = get("name");
    Ok(r)
}

/// The `.cer` files of `certs.zip` beside the CSV, by their MD5 file names.
fn cer_files(csv: &Path) -> Result<HashMap<String, CertInfo>, IntakeError> {
    let Some(zip_path) = csv
        .parent()
        .map(|d| d.join("certs.zip"))
        .filter(|p| p.is_file())
    else {
        return Ok(HashMap::new());
    };
    let bad = |m: String| IntakeError::Format {
        path: zip_path.clone(),
        message: m,
    };
    let file = std::fs::File::open(&zip_path).map_err(|e| bad(e.to_string()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    let mut out = HashMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        let name = entry.name().to_string();
        let Some(stem) = name.rsplit('/').next().and_then(|f| f.strip_suffix(".cer")) else {
            continue;
        };
        let mut der = Vec::new();
        // A certificate is a few kilobytes; a bigger entry is not one.
        (&mut entry)
            .take(1 << 20)
            .read_to_end(&mut der)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        let cert = CertInfo::from_der(&der).map_err(|e| bad(format!("{name}: {e}")))?;
        out.insert(stem.to_ascii_lowercase(), cert);
    }
    Ok(out)
}

pub(crate) fn build(records: impl Iterator<Item = Record>, source: &str, opts: &Options) -> Bundle {
    let mut bundle = Bundle {
        source: source.to_string(),
        ..Bundle::default()
    };
    let mut families: BTreeMap<String, Object> = BTreeMap::new();
    let mut samples: BTreeMap<String, Object> = BTreeMap::new();
    let actor = crate::lists::list_actor(opts, source);
    for r in records {
        let mut p = prov::base(opts, source);
        if r.reference.is_some() {
            p.reference = r.reference.clone();
        }
        let id = deterministic_id("indicator", &[source, "x509", &r.key()]);
        let mut observables = vec![Observable::new(IndicatorKind::CertSerial, &r.serial)];
        if let Some(h) = &r.sha1 {
            observables.push(Observable::new(IndicatorKind::CertSha1, h));
        }
        if let Some(h) = &r.sha256 {
            observables.push(Observable::new(IndicatorKind::CertSha256, h));
        }
        let name = match (&r.title, &r.subject) {
            (Some(t), _) => format!("{t} (code-signing certificate {})", r.serial),
            (None, Some(s)) => format!("{s} (code-signing certificate {})", r.serial),
            (None, None) => format!("code-signing certificate {}", r.serial),
        };
        let labels: Vec<String> = r.labels.iter().cloned().collect();
        let mut raw = json!({
            "type": "indicator", "spec_version": "2.1", "id": id, "name": name,
            "pattern": pattern(&r), "pattern_type": "stix",
            "indicator_types": ["malicious-activity"], "labels": labels,
            "x_cairn_certificate": certificate_json(&r),
        });
        if let Some(d) = &r.description {
            raw["description"] = json!(d);
        }
        if let Some(t) = &r.compromised_since {
            raw["valid_from"] = json!(t);
        }
        bundle.objects.push(Object {
            raw: raw.to_string(),
            id: id.clone(),
            kind: "indicator".into(),
            name: Some(name),
            description: r.description.clone(),
            labels,
            observables,
            prov: p.clone(),
            ..Object::default()
        });
        if let Some(a) = &actor {
            bundle
                .relations
                .push(rel(&id, "indicates", &a.id, None, &p));
        }
        for f in &r.families {
            let fam = families
                .entry(normalize_name(f))
                .or_insert_with(|| family(source, f, &p));
            bundle
                .relations
                .push(rel(&id, "indicates", &fam.id, None, &p));
        }
        for (kind, value) in &r.samples {
            let sid = deterministic_id("indicator", &[source, kind.as_str(), value]);
            samples
                .entry(sid.clone())
                .or_insert_with(|| sample(&sid, *kind, value, &p));
            for f in &r.families {
                if let Some(fam) = families.get(&normalize_name(f)) {
                    bundle
                        .relations
                        .push(rel(&sid, "indicates", &fam.id, None, &p));
                }
            }
            bundle.relations.push(rel(
                &sid,
                "related-to",
                &id,
                Some("signed with this certificate"),
                &p,
            ));
        }
    }
    if let Some(a) = actor {
        for f in families.values() {
            bundle
                .relations
                .push(rel(&a.id, "uses", &f.id, None, &a.prov));
        }
        bundle.objects.push(a);
    }
    bundle.objects.extend(families.into_values());
    bundle.objects.extend(samples.into_values());
    // Rows of one sample under two certificates give the same link twice.
    let mut seen = BTreeSet::new();
    bundle.relations.retain(|r| seen.insert(r.id.clone()));
    bundle
}

/// What the lists say about the certificate itself, kept whole for the
/// scan's comparisons (issuer, dates) and the certificate page.
fn certificate_json(r: &Record) -> Value {
    let mut c = json!({ "serial": r.serial });
    for (k, v) in [
        ("issuer", &r.issuer),
        ("subject", &r.subject),
        ("sha1", &r.sha1),
        ("sha256", &r.sha256),
        ("md5", &r.md5),
        ("tbs_sha256", &r.tbs_sha256),
        ("public_key_sha256", &r.public_key_sha256),
        ("not_before", &r.not_before),
        ("not_after", &r.not_after),
        ("country", &r.country),
        ("compromised_since", &r.compromised_since),
        ("rule", &r.rule),
    ] {
        if let Some(v) = v {
            c[k] = json!(v);
        }
    }
    c
}

/// `[serial AND issuer] OR [SHA-1]`, with the serial colon-separated as
/// STIX examples write it.
fn pattern(r: &Record) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('\'', "\\'");
    let colons: Vec<&str> = (0..r.serial.len())
        .step_by(2)
        .filter_map(|i| r.serial.get(i..i + 2))
        .collect();
    let mut p = format!("[x509-certificate:serial_number = '{}'", colons.join(":"));
    if let Some(i) = &r.issuer {
        p.push_str(&format!(" AND x509-certificate:issuer = '{}'", esc(i)));
    }
    p.push(']');
    if let Some(h) = &r.sha1 {
        p.push_str(&format!(" OR [x509-certificate:hashes.'SHA-1' = '{h}']"));
    }
    p
}

fn family(source: &str, name: &str, p: &Provenance) -> Object {
    let id = deterministic_id("malware", &[source, &normalize_name(name)]);
    Object {
        raw: json!({"type":"malware","spec_version":"2.1","id":id,"name":name,"is_family":true})
            .to_string(),
        id,
        kind: "malware".into(),
        name: Some(name.to_string()),
        prov: p.clone(),
        ..Object::default()
    }
}

fn sample(id: &str, kind: IndicatorKind, value: &str, p: &Provenance) -> Object {
    let name = format!("sample {value}");
    Object {
        raw: json!({"type":"indicator","spec_version":"2.1","id":id,"name":name,
            "pattern":kind.stix_pattern(value),"pattern_type":"stix",
            "indicator_types":["malicious-activity"],"labels":["signed-sample"]})
        .to_string(),
        id: id.to_string(),
        kind: "indicator".into(),
        name: Some(name),
        labels: vec!["signed-sample".into()],
        observables: vec![Observable::new(kind, value)],
        prov: p.clone(),
        ..Object::default()
    }
}

pub(crate) fn rel(
    src: &str,
    t: &str,
    tgt: &str,
    description: Option<&str>,
    p: &Provenance,
) -> Relation {
    let id = deterministic_id("relationship", &[src, t, tgt]);
    let mut raw = json!({"type":"relationship","spec_version":"2.1","id":id,"relationship_type":t,
        "source_ref":src,"target_ref":tgt});
    if let Some(d) = description {
        raw["description"] = json!(d);
    }
    Relation {
        raw: raw.to_string(),
        id,
        rel_type: t.into(),
        source_ref: src.into(),
        target_ref: tgt.into(),
        description: description.map(str::to_string),
        prov: p.clone(),
        ..Relation::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAVEYARD: &str = "Hash,Malware,Malware Type,Malware Notes,Signer,Issuer Short,Issuer,Serial,Thumbprint,Valid From,Valid To,Country,State,Locality,Email,RDN Serial Number,TBS MD5,TBS SHA1,TBS SHA256,TBS SHA384
113290aaa5c0b0793d50de6819f2b2eead5e321e9300d91b9a36d62ba8e5bbc1,NetSupport RAT,Remote access tool,notes,CYNC LIMITED,SSL.com, SSL.com EV Code Signing Intermediate CA RSA R3,0FA27D2553F24DA79D1CC6BD8773EE9A,E9007755CFE5643D18618786DE1995914098307F,2024-07-25,2025-07-25,GB,??? ,London ,??? ,13066343,a0,83,3fd1,a4
223290aaa5c0b0793d50de6819f2b2eead5e321e9300d91b9a36d62ba8e5bbc1,DarkGate,Initial access tool,notes,CYNC LIMITED,SSL.com, SSL.com EV Code Signing Intermediate CA RSA R3,0FA27D2553F24DA79D1CC6BD8773EE9A,E9007755CFE5643D18618786DE1995914098307F,2024-07-25,2025-07-25,GB,,,,,a0,83,3fd1,a4
";

    #[test]
    fn graveyard_rows_of_one_certificate_are_one_indicator() {
        let first = GRAVEYARD.lines().next().unwrap_or_default();
        assert_eq!(detect(first), Some(CertList::Graveyard));
        let b = parse(
            "g.csv".as_ref(),
            GRAVEYARD,
            CertList::Graveyard,
            &Options::default(),
        )
        .expect("parses");
        assert_eq!(b.source, "Cert Graveyard");
        let certs: Vec<&Object> = b
            .objects
            .iter()
            .filter(|o| o.raw.contains("x_cairn_certificate"))
            .collect();
        assert_eq!(certs.len(), 1);
        let kinds: Vec<_> = certs[0]
            .observables
            .iter()
            .map(|o| (o.kind, o.value.as_str()))
            .collect();
        assert!(kinds.contains(&(
            IndicatorKind::CertSerial,
            "0fa27d2553f24da79d1cc6bd8773ee9a"
        )));
        assert!(kinds.contains(&(
            IndicatorKind::CertSha1,
            "e9007755cfe5643d18618786de1995914098307f"
        )));
        let raw: Value = serde_json::from_str(&certs[0].raw).expect("json");
        assert_eq!(
            raw["x_cairn_certificate"]["issuer"],
            "SSL.com EV Code Signing Intermediate CA RSA R3"
        );
        assert_eq!(
            raw["x_cairn_certificate"]["not_before"],
            "2024-07-25T00:00:00.000Z"
        );
        assert!(
            raw["pattern"]
                .as_str()
                .unwrap_or_default()
                .starts_with("[x509-certificate:serial_number = '0f:a2:7d")
        );
        let families = b.objects.iter().filter(|o| o.kind == "malware").count();
        assert_eq!(families, 2);
        let signed_with = b
            .relations
            .iter()
            .filter(|r| r.rel_type == "related-to")
            .count();
        assert_eq!(signed_with, 2, "two samples seen signed with it");
    }

    #[test]
    fn a_bad_serial_names_the_line() {
        let bad = GRAVEYARD.replace("0FA27D2553F24DA79D1CC6BD8773EE9A,E9007755CFE5643D18618786DE1995914098307F,2024-07-25,2025-07-25,GB,,", "zz,E9,2024-07-25,2025-07-25,GB,,");
        let err = parse(
            "g.csv".as_ref(),
            &bad,
            CertList::Graveyard,
            &Options::default(),
        )
        .expect_err("bad serial");
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn lolcerts_compromise_time_and_labels() {
        let text = "name,status,source,description,references,date,author,issuer,timestamp,serial
lapsus_nvidia_leaked_certificate,revoked,leaked,Leaked NVIDIA certificate.,https://example.org/a,31-08-2023,Florian Roth,VeriSign Class 3 Code Signing 2010 CA,1646092800,43:bb:43:7d:60:98:66:28:6d:d8:39:e1:d0:03:09:f5
";
        assert_eq!(
            detect(text.lines().next().unwrap_or_default()),
            Some(CertList::LolCerts)
        );
        let b = parse(
            "leaked.csv".as_ref(),
            text,
            CertList::LolCerts,
            &Options::default(),
        )
        .expect("parses");
        let raw: Value = serde_json::from_str(&b.objects[0].raw).expect("json");
        assert_eq!(raw["valid_from"], "2022-03-01T00:00:00.000Z");
        assert_eq!(
            b.objects[0].prov.reference.as_deref(),
            Some("https://example.org/a")
        );
        assert!(b.objects[0].labels.contains(&"leaked".to_string()));
    }

    #[test]
    fn xingtulab_serials_are_decimal() {
        let text = "\u{feff}Cert MD5,Serial,Subject,Issuer,Country,Valid From,Valid To,Sample,Abuse Type
02712c55889d045b7282ee2f4ece6254,255,Acme,Some CA,CN,2022-03-25 00:00:00,2023-03-23 23:59:59,https://www.virustotal.com/gui/file/6f620710482253c05b68c340a20e0e9a,Steal Certificate Key
";
        assert_eq!(
            detect(text.lines().next().unwrap_or_default()),
            Some(CertList::XingTuLab)
        );
        let b = parse(
            "CS_Dataset.csv".as_ref(),
            text,
            CertList::XingTuLab,
            &Options::default(),
        )
        .expect("parses");
        let cert = &b.objects[0];
        assert_eq!(cert.observables[0].value, "ff");
        assert!(cert.labels.contains(&"steal-certificate-key".to_string()));
        assert!(
            b.objects
                .iter()
                .any(|o| o.observables.iter().any(|v| v.kind == IndicatorKind::Md5))
        );
    }
}
