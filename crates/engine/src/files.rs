//! Files against the store: a scanned file's hashes, its signers'
//! certificates and its YARA matches looked up in what the caller may see,
//! each match with the actors it points to (directly, or through a malware
//! family an actor uses), its sources, and for certificates how strongly it
//! matched and whether the signature was made before or after the stated
//! compromise.

use std::collections::{BTreeMap, HashMap};

use cairn_codesign::{Signature, TimeSource};
use cairn_kb::{ActorRef, IndicatorContext, SightingInput, Store};
use cairn_model::{IndicatorKind, Provenance};
use cairn_scan::{FileReport, RuleHit};
use serde::Serialize;
use serde_json::Value;

use crate::errors::EngineError;

/// What kind of evidence a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A signer's certificate is known abused, stolen or revoked.
    Certificate,
    /// The file's hash (or Authenticode hash) is a known indicator.
    Hash,
    /// A YARA rule matched.
    Yara,
    /// Signed, nothing known about it: reported so every signature is seen.
    Signed,
    /// The file could not be read or parsed.
    Error,
}

/// A signature as findings show it: the signer certificate's identifying
/// fields and the digest and time checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureSummary {
    /// Position among the file's signatures.
    pub index: usize,
    /// The signature it is nested in.
    pub nested_in: Option<usize>,
    /// Signer certificate serial (canonical hex).
    pub serial: Option<String>,
    /// SHA-1 thumbprint.
    pub thumbprint_sha1: Option<String>,
    /// SHA-256 thumbprint.
    pub thumbprint_sha256: Option<String>,
    /// Signer subject (RFC 4514).
    pub subject: Option<String>,
    /// Signer issuer (RFC 4514).
    pub issuer: Option<String>,
    /// Validity start.
    pub not_before: Option<String>,
    /// Validity end.
    pub not_after: Option<String>,
    /// When it was signed.
    pub signing_time: Option<String>,
    /// How that time is known: `rfc3161`, `counter-signature`, `claimed`.
    pub signing_time_source: Option<TimeSource>,
    /// Authenticode digest algorithm.
    pub digest_algorithm: String,
    /// Whether the file's digest equals the signed one.
    pub digest_ok: Option<bool>,
    /// Whether the certificate allows code signing (`None`: no EKU).
    pub code_signing: Option<bool>,
}

impl SignatureSummary {
    fn of(s: &Signature) -> SignatureSummary {
        let c = s.signer.as_ref();
        SignatureSummary {
            index: s.index,
            nested_in: s.nested_in,
            serial: c.map(|c| c.serial.clone()),
            thumbprint_sha1: c.map(|c| c.thumbprint_sha1.clone()),
            thumbprint_sha256: c.map(|c| c.thumbprint_sha256.clone()),
            subject: c.map(|c| c.subject.clone()),
            issuer: c.map(|c| c.issuer.clone()),
            not_before: c.and_then(|c| c.not_before.clone()),
            not_after: c.and_then(|c| c.not_after.clone()),
            signing_time: s.signing_time.as_ref().map(|t| t.time.clone()),
            signing_time_source: s.signing_time.as_ref().map(|t| t.source),
            digest_algorithm: s.digest_algorithm.clone(),
            digest_ok: s.digest_ok,
            code_signing: c.and_then(|c| c.code_signing),
        }
    }
}

/// An actor a finding points to, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActorLink {
    /// Display name of the resolved actor.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// `indicated` (a source links the value to the actor) or
    /// `uses <family>` (the value indicates a family the actor uses).
    pub via: String,
}

/// What matched and on whose word.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The value looked up (hash, thumbprint, serial) or the rule name.
    pub value: String,
    /// Where in the file: `file sha256`, `authentihash`, `signature 0`.
    pub on: String,
    /// For certificates: `thumbprint`, `serial+issuer`, `serial+subject`,
    /// `serial` (issuer unknown) or `serial, issuer differs`.
    pub strength: Option<String>,
    /// 0–100: how much the match itself says (not the sources' confidence).
    pub confidence: u8,
    /// For certificates: when it was signed against the stated compromise
    /// date and the certificate's validity.
    pub timing: Option<String>,
    /// What the sources say about the certificate (`x_cairn_certificate`).
    pub certificates: Vec<Value>,
    /// Families the matched statements indicate.
    pub families: Vec<String>,
    /// Roles and labels (`leaked`, `abused-code-signing`, …).
    pub roles: Vec<String>,
    /// The statements' STIX ids.
    pub stix_ids: Vec<String>,
    /// For YARA: the rule's namespace, tags and metadata.
    pub rule: Option<RuleHit>,
}

/// One line of `cairn scan --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The file (`archive.zip!entry` inside archives).
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
    /// SHA-1.
    pub sha1: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// `pe32`, `pe32+`, `zip` or `data`.
    pub format: &'static str,
    /// What kind of evidence this is.
    pub kind: FindingKind,
    /// Every signature of the file.
    pub signatures: Vec<SignatureSummary>,
    /// What matched (`None` for `signed` and `error`).
    #[serde(rename = "match")]
    pub matched: Option<Match>,
    /// Actors the match points to.
    pub actors: Vec<ActorLink>,
    /// Who said so.
    pub sources: Vec<Provenance>,
    /// Limits hit, several groups linked, digest mismatches.
    pub notes: Vec<String>,
    /// Why the file could not be read or parsed.
    pub error: Option<String>,
}

/// Where a YARA rule came from, so its matches have sources and actors.
#[derive(Debug, Clone)]
pub enum RuleOrigin {
    /// A rule file kept in the store (its indicator's key).
    Store(i64),
    /// A file given on the command line.
    File(String),
}

/// Looks files up in a store, remembering what it already asked.
pub struct FileMatcher<'s> {
    store: &'s Store,
    keys: HashMap<String, Vec<i64>>,
    contexts: HashMap<i64, Option<(IndicatorContext, Option<Value>)>>,
    users: HashMap<String, Vec<ActorRef>>,
    rule_origins: HashMap<String, RuleOrigin>,
    sightings: BTreeMap<i64, SightingInput>,
    now: String,
}

impl<'s> FileMatcher<'s> {
    /// A matcher over `store` as the caller may see it; `rule_origins` maps
    /// YARA namespaces to where their rules came from.
    pub fn new(store: &'s Store, rule_origins: HashMap<String, RuleOrigin>) -> FileMatcher<'s> {
        FileMatcher {
            store,
            keys: HashMap::new(),
            contexts: HashMap::new(),
            users: HashMap::new(),
            rule_origins,
            sightings: BTreeMap::new(),
            now: cairn_model::time::format_s(jiff::Timestamp::now()),
        }
    }

    /// The hashes worth computing against this store: SHA-256 always (it
    /// names the file), MD5, SHA-1 and the Authenticode hash only when
    /// some live indicator holds a value of that kind.
    pub fn hashing(&self) -> Result<cairn_scan::Hashing, EngineError> {
        Ok(cairn_scan::Hashing {
            md5: self
                .store
                .holds_indicator_kind(IndicatorKind::Md5.as_str())?,
            sha1: self
                .store
                .holds_indicator_kind(IndicatorKind::Sha1.as_str())?,
            authentihash: self
                .store
                .holds_indicator_kind(IndicatorKind::Authentihash.as_str())?,
        })
    }

    /// The findings for one scanned file: one per match, a `signed` one
    /// when the file is signed and nothing matched, an `error` one when it
    /// could not be read; none for an unsigned file nothing matched.
    pub fn judge(&mut self, report: &FileReport) -> Result<Vec<Finding>, EngineError> {
        let signatures: Vec<SignatureSummary> = report
            .pe
            .iter()
            .flat_map(|pe| pe.signatures.iter().map(SignatureSummary::of))
            .collect();
        let mut notes = report.notes.clone();
        if let Some(pe) = &report.pe {
            notes.extend(pe.problems.iter().cloned());
            for s in &pe.signatures {
                if s.digest_ok == Some(false) {
                    notes.push(format!(
                        "signature {}: the file's digest does not match the signed one (modified after signing)",
                        s.index
                    ));
                }
            }
        }
        let base = Finding {
            file: report.file.clone(),
            sha256: report.hashes.as_ref().map(|h| h.sha256.clone()),
            sha1: report.hashes.as_ref().and_then(|h| h.sha1.clone()),
            md5: report.hashes.as_ref().and_then(|h| h.md5.clone()),
            size: report.size,
            format: report.format,
            kind: FindingKind::Signed,
            signatures,
            matched: None,
            actors: Vec::new(),
            sources: Vec::new(),
            notes,
            error: report.error.clone(),
        };
        let mut out = Vec::new();
        if let Some(h) = &report.hashes {
            let mut hashes = vec![("file sha256", h.sha256.as_str())];
            hashes.extend(h.sha1.as_deref().map(|v| ("file sha1", v)));
            hashes.extend(h.md5.as_deref().map(|v| ("file md5", v)));
            if let Some(a) = report
                .pe
                .as_ref()
                .and_then(|p| p.authentihash_sha256.as_deref())
            {
                hashes.push(("authentihash", a));
            }
            for (on, value) in hashes {
                let keys = self.lookup(value)?;
                if let Some(f) =
                    self.finding(&base, FindingKind::Hash, on, value, &keys, None, 95)?
                {
                    out.push(f);
                }
            }
        }
        if let Some(pe) = &report.pe {
            for sig in &pe.signatures {
                if let Some(f) = self.certificate(&base, sig)? {
                    out.push(f);
                }
            }
        }
        for hit in &report.yara {
            let keys = match self.rule_origins.get(&hit.namespace) {
                Some(RuleOrigin::Store(k)) => vec![*k],
                _ => Vec::new(),
            };
            let mut f = self
                .finding(&base, FindingKind::Yara, "file", &hit.rule, &keys, None, 70)?
                .unwrap_or_else(|| {
                    let mut f = base.clone();
                    f.kind = FindingKind::Yara;
                    f.matched = Some(empty_match(&hit.rule, "file", 70));
                    f
                });
            if let Some(RuleOrigin::File(path)) = self.rule_origins.get(&hit.namespace) {
                f.sources.push(Provenance {
                    source: path.clone(),
                    ..Provenance::default()
                });
            }
            if let Some(m) = &mut f.matched {
                m.rule = Some(hit.clone());
            }
            out.push(f);
        }
        // Nothing matched: a signed file is still shown, and so is one
        // that could not be read or parsed.
        if out.is_empty() && (!base.signatures.is_empty() || base.error.is_some()) {
            let mut f = base;
            if f.error.is_some() && f.signatures.is_empty() {
                f.kind = FindingKind::Error;
            }
            out.push(f);
        }
        for f in &mut out {
            if f.actors.len() > 1 {
                f.notes.push(format!(
                    "linked to {} groups: a shared or stolen certificate, tool or sample is evidence with a confidence, not a verdict",
                    f.actors.len()
                ));
            }
        }
        Ok(out)
    }

    /// Sightings of every matched indicator, to record with `--record`.
    pub fn sightings(&self) -> Vec<SightingInput> {
        self.sightings.values().cloned().collect()
    }

    fn lookup(&mut self, value: &str) -> Result<Vec<i64>, EngineError> {
        if let Some(k) = self.keys.get(value) {
            return Ok(k.clone());
        }
        let k = self.store.indicator_keys(value)?;
        self.keys.insert(value.to_string(), k.clone());
        Ok(k)
    }

    fn context(
        &mut self,
        key: i64,
    ) -> Result<Option<(IndicatorContext, Option<Value>)>, EngineError> {
        if let Some(c) = self.contexts.get(&key) {
            return Ok(c.clone());
        }
        let c = match self.store.indicator_context(key) {
            Ok(ctx) => {
                let cert = certificate_record(self.store, key)?;
                Some((ctx, cert))
            }
            Err(cairn_kb::errors::KbError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        self.contexts.insert(key, c.clone());
        Ok(c)
    }

    fn family_users(&mut self, family: &str) -> Result<Vec<ActorRef>, EngineError> {
        if let Some(u) = self.users.get(family) {
            return Ok(u.clone());
        }
        let u = self.store.family_users(family)?;
        self.users.insert(family.to_string(), u.clone());
        Ok(u)
    }

    /// A finding for `keys` (merged across sources), or `None` when the
    /// caller can see none of them.
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &mut self,
        base: &Finding,
        kind: FindingKind,
        on: &str,
        value: &str,
        keys: &[i64],
        strength: Option<String>,
        confidence: u8,
    ) -> Result<Option<Finding>, EngineError> {
        let mut m = empty_match(value, on, confidence);
        m.strength = strength;
        let mut f = base.clone();
        f.kind = kind;
        let mut seen = false;
        for &key in keys {
            let Some((ctx, cert)) = self.context(key)? else {
                continue;
            };
            seen = true;
            self.sighting(key, &base.file);
            push_new(&mut m.stix_ids, [ctx.stix_id.clone()]);
            push_new(&mut m.families, ctx.families.iter().cloned());
            push_new(&mut m.roles, ctx.roles.iter().cloned());
            push_new(&mut f.sources, ctx.sources.iter().cloned());
            if let Some(c) = cert {
                push_new(&mut m.certificates, [c]);
            }
            for a in &ctx.actors {
                add_actor(&mut f.actors, a, "indicated".into());
            }
            for fam in &ctx.families {
                for a in self.family_users(fam)? {
                    add_actor(&mut f.actors, &a, format!("uses {fam}"));
                }
            }
        }
        if !seen {
            return Ok(None);
        }
        f.matched = Some(m);
        Ok(Some(f))
    }

    fn sighting(&mut self, key: i64, file: &str) {
        let now = self.now.clone();
        let s = self.sightings.entry(key).or_insert_with(|| SightingInput {
            key,
            count: 0,
            first_seen: now.clone(),
            last_seen: now,
            where_: String::new(),
        });
        s.count += 1;
        if s.where_.len() < 512 && !s.where_.split(", ").any(|w| w == file) {
            if !s.where_.is_empty() {
                s.where_.push_str(", ");
            }
            s.where_.push_str(file);
        }
    }

    /// The signer certificate of one signature against the store.
    fn certificate(
        &mut self,
        base: &Finding,
        sig: &Signature,
    ) -> Result<Option<Finding>, EngineError> {
        let Some(cert) = &sig.signer else {
            return Ok(None);
        };
        let mut strong: Vec<i64> = Vec::new();
        for t in [&cert.thumbprint_sha1, &cert.thumbprint_sha256] {
            for k in self.lookup(t)? {
                if !strong.contains(&k) {
                    strong.push(k);
                }
            }
        }
        let mut keys = strong.clone();
        let mut strength = (!strong.is_empty()).then(|| ("thumbprint".to_string(), 90u8));
        for k in self.lookup(&cert.serial)? {
            if keys.contains(&k) {
                continue;
            }
            let Some((_, record)) = self.context(k)? else {
                continue;
            };
            let (s, conf) = serial_strength(cert, record.as_ref());
            // Short serials (old CAs counted up) say nothing on their own.
            if conf < 60 && cert.serial.len() < 16 {
                continue;
            }
            keys.push(k);
            if strength.as_ref().is_none_or(|(_, c)| *c < conf) {
                strength = Some((s, conf));
            }
        }
        let Some((strength, confidence)) = strength else {
            return Ok(None);
        };
        let on = match sig.nested_in {
            Some(p) => format!("signature {} (nested in {p}) signer", sig.index),
            None => format!("signature {} signer", sig.index),
        };
        let value = if strength == "thumbprint" {
            cert.thumbprint_sha1.clone()
        } else {
            cert.serial.clone()
        };
        let Some(mut f) = self.finding(
            base,
            FindingKind::Certificate,
            &on,
            &value,
            &keys,
            Some(strength),
            confidence,
        )?
        else {
            return Ok(None);
        };
        if let Some(m) = &mut f.matched {
            m.timing = Some(timing(sig, &m.certificates));
        }
        Ok(Some(f))
    }
}

fn empty_match(value: &str, on: &str, confidence: u8) -> Match {
    Match {
        value: value.to_string(),
        on: on.to_string(),
        strength: None,
        confidence,
        timing: None,
        certificates: Vec::new(),
        families: Vec::new(),
        roles: Vec::new(),
        stix_ids: Vec::new(),
        rule: None,
    }
}

pub(crate) fn push_new<T: PartialEq>(into: &mut Vec<T>, from: impl IntoIterator<Item = T>) {
    for x in from {
        if !into.contains(&x) {
            into.push(x);
        }
    }
}

pub(crate) fn add_actor(into: &mut Vec<ActorLink>, a: &ActorRef, via: String) {
    if into.iter().any(|l| l.name == a.name) {
        return;
    }
    into.push(ActorLink {
        name: a.name.clone(),
        aliases: a.aliases.clone(),
        via,
    });
}

/// How a serial match is confirmed by what the source says of the
/// certificate: its thumbprint, issuer or subject.
fn serial_strength(cert: &cairn_codesign::CertInfo, record: Option<&Value>) -> (String, u8) {
    let Some(r) = record else {
        return ("serial".into(), 50);
    };
    let said = |k: &str| r[k].as_str().map(str::to_lowercase);
    if let Some(t) = said("sha1")
        && t != cert.thumbprint_sha1
    {
        return ("serial, thumbprint differs".into(), 30);
    }
    let near = |said: &str, ours: &str, cn: Option<&str>| {
        let ours = ours.to_lowercase();
        let cn = cn.map(str::to_lowercase).unwrap_or_default();
        let said = said.trim();
        !said.is_empty() && (ours.contains(said) || (!cn.is_empty() && said.contains(&cn)))
    };
    if let Some(i) = said("issuer") {
        return if near(&i, &cert.issuer, cert.issuer_cn.as_deref()) {
            ("serial+issuer".into(), 80)
        } else {
            ("serial, issuer differs".into(), 30)
        };
    }
    if let Some(s) = said("subject") {
        let s = s.trim_start_matches("*.");
        if near(s, &cert.subject, cert.subject_cn.as_deref()) {
            return ("serial+subject".into(), 70);
        }
    }
    ("serial".into(), 50)
}

/// The signature's time against the compromise date the sources state
/// and the certificate's validity.
fn timing(sig: &Signature, records: &[Value]) -> String {
    let Some(t) = &sig.signing_time else {
        return "not timestamped: when it was signed is unknown".into();
    };
    let how = match t.source {
        TimeSource::Claimed => "claims to be signed",
        _ => "timestamped",
    };
    let since = records
        .iter()
        .filter_map(|r| r["compromised_since"].as_str())
        .min();
    let cert = sig.signer.as_ref();
    let before = cert.and_then(|c| c.not_before.as_deref());
    let after = cert.and_then(|c| c.not_after.as_deref());
    let outside =
        before.is_some_and(|b| t.time.as_str() < b) || after.is_some_and(|a| t.time.as_str() > a);
    let mut out = match since {
        Some(s) if t.time.as_str() >= s => {
            format!("{how} {}, after the stated compromise date {s}", t.time)
        }
        Some(s) => format!(
            "{how} {}, before the stated compromise date {s}: may be a legitimate signature",
            t.time
        ),
        None => format!("{how} {}; no compromise date stated", t.time),
    };
    if outside {
        out.push_str(", outside the certificate's validity");
    }
    out
}

/// What a scan found, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOutcome {
    /// What the scanner read.
    pub summary: cairn_scan::ScanSummary,
    /// Findings of kind certificate, hash or YARA.
    pub matches: u64,
    /// Files with at least one such finding.
    pub files_matched: u64,
    /// Files that could not be read at all.
    pub unreadable: u64,
}

/// Scans `plan` under `opts` and judges every file against `store` as the
/// caller may see it, handing each file's findings to `on_file` (on the
/// calling thread, in completion order). The scanner reads in parallel;
/// store lookups stay on this thread, since a store connection is not
/// shared between threads.
pub fn scan_files(
    matcher: &mut FileMatcher<'_>,
    plan: &cairn_scan::Plan,
    opts: &cairn_scan::ScanOptions,
    on_file: &mut dyn FnMut(&FileReport, Vec<Finding>),
) -> Result<ScanOutcome, EngineError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<FileReport>(256);
    let mut outcome = ScanOutcome::default();
    let mut failed = None;
    let summary = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let summary = plan.run(opts, &|r| {
                // The receiver only goes away on a store error; the rest
                // of the files are then read for nothing, but read safely.
                let _ = tx.send(r);
            });
            drop(tx);
            summary
        });
        for report in rx.iter() {
            if failed.is_some() {
                continue;
            }
            match matcher.judge(&report) {
                Ok(findings) => {
                    let n = findings.iter().filter(|f| f.matched.is_some()).count() as u64;
                    outcome.matches += n;
                    outcome.files_matched += u64::from(n > 0);
                    outcome.unreadable += u64::from(report.hashes.is_none());
                    on_file(&report, findings);
                }
                Err(e) => failed = Some(e),
            }
        }
        reader.join()
    });
    if let Some(e) = failed {
        return Err(e);
    }
    outcome.summary = summary.map_err(|_| EngineError::Poisoned)?;
    Ok(outcome)
}

/// What a certificate list says of the certificate behind statement `key`
/// (its `x_cairn_certificate`), if it is one.
pub(crate) fn certificate_record(store: &Store, key: i64) -> Result<Option<Value>, EngineError> {
    Ok(store
        .object_raw(key)?
        .and_then(|raw| serde_json::from_str::<Value>(&raw).ok())
        .map(|mut v| v["x_cairn_certificate"].take())
        .filter(|v| !v.is_null()))
}
