//! `cairn cert`: one certificate by serial (hex, colons, `0x…` or decimal)
//! or thumbprint — every source's statement about it, the families and
//! actors it points to, and the samples seen signed with it. Statements
//! that share a thumbprint or serial with the ones found are gathered too,
//! so a certificate known under several forms is shown once.

use std::process::ExitCode;

use cairn_kb::{ActorRef, Store};
use cairn_model::serial;
use serde::Serialize;
use serde_json::Value;

use crate::Global;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// A serial number (hex, colon-separated, 0x…, or decimal) or a SHA-1 /
    /// SHA-256 thumbprint.
    query: String,
    /// JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Samples to list at most.
    #[arg(long, default_value_t = 20)]
    samples: usize,
}

#[derive(Serialize)]
struct Statement {
    stix_id: String,
    source: String,
    reference: Option<String>,
    tlp: String,
    labels: Vec<String>,
    families: Vec<String>,
    certificate: Option<Value>,
}

#[derive(Serialize)]
struct Sample {
    kind: String,
    value: String,
    source: String,
}

#[derive(Serialize)]
struct Actor {
    name: String,
    aliases: Vec<String>,
    via: String,
}

#[derive(Serialize)]
struct Report {
    query: String,
    serials: Vec<String>,
    thumbprints_sha1: Vec<String>,
    thumbprints_sha256: Vec<String>,
    subjects: Vec<String>,
    issuers: Vec<String>,
    statements: Vec<Statement>,
    actors: Vec<Actor>,
    samples: Vec<Sample>,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(global)?;
    let report = gather(&store, &args.query, args.samples)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    Ok(if report.statements.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn gather(store: &Store, query: &str, max_samples: usize) -> anyhow::Result<Report> {
    let mut values: Vec<String> = serial::candidates(query);
    let plain = cairn_model::IndicatorKind::CertSha1.normalize(query);
    if matches!(plain.len(), 40 | 64) && !values.contains(&plain) {
        values.push(plain);
    }
    let mut report = Report {
        query: query.to_string(),
        serials: Vec::new(),
        thumbprints_sha1: Vec::new(),
        thumbprints_sha256: Vec::new(),
        subjects: Vec::new(),
        issuers: Vec::new(),
        statements: Vec::new(),
        actors: Vec::new(),
        samples: Vec::new(),
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
            let raw = store.object_raw(k)?;
            let cert = raw
                .as_deref()
                .and_then(|r| serde_json::from_str::<Value>(r).ok())
                .map(|v| v["x_cairn_certificate"].clone())
                .filter(|v| !v.is_null());
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
                        push_new(into, v.to_string());
                    }
                }
                for f in ["serial", "sha1", "sha256"] {
                    if let Some(v) = c[f].as_str() {
                        next.push(v.to_string());
                    }
                }
            }
            for a in &ctx.actors {
                add_actor(&mut report.actors, a, "indicated");
            }
            for fam in &ctx.families {
                for a in store.family_users(fam)? {
                    add_actor(&mut report.actors, &a, &format!("uses {fam}"));
                }
            }
            for p in &ctx.sources {
                report.statements.push(Statement {
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
                        report.samples.push(Sample {
                            kind,
                            value,
                            source: s.source.clone(),
                        });
                    }
                }
            }
        }
        for v in next {
            push_new(&mut values, v);
        }
    }
    Ok(report)
}

/// Whether the statement `key` (STIX, MISP, a list: no
/// `x_cairn_certificate`) holds a certificate value, not a file hash.
fn is_cert_indicator(store: &Store, key: i64) -> anyhow::Result<bool> {
    Ok(store.indicator_kinds(key)?.iter().any(|k| k.starts_with("cert-")))
}

fn push_new(into: &mut Vec<String>, v: String) {
    if !into.contains(&v) {
        into.push(v);
    }
}

fn add_actor(into: &mut Vec<Actor>, a: &ActorRef, via: &str) {
    if !into.iter().any(|x| x.name == a.name) {
        into.push(Actor {
            name: a.name.clone(),
            aliases: a.aliases.clone(),
            via: via.to_string(),
        });
    }
}

fn print_human(r: &Report) {
    if r.statements.is_empty() {
        println!("{}: no certificate known by this serial or thumbprint", r.query);
        return;
    }
    let line = |label: &str, v: &[String]| {
        if !v.is_empty() {
            println!("{label:<12} {}", v.join(" | "));
        }
    };
    line("serial", &r.serials);
    line("sha1", &r.thumbprints_sha1);
    line("sha256", &r.thumbprints_sha256);
    line("subject", &r.subjects);
    line("issuer", &r.issuers);
    println!("\nstatements ({}):", r.statements.len());
    for s in &r.statements {
        let since = s
            .certificate
            .as_ref()
            .and_then(|c| c["compromised_since"].as_str())
            .map(|t| format!(", compromised since {t}"))
            .unwrap_or_default();
        let fam = if s.families.is_empty() {
            String::new()
        } else {
            format!(", families: {}", s.families.join(", "))
        };
        println!(
            "  {} [{}] {}{fam}{since}",
            s.source,
            s.tlp,
            s.labels.join(", ")
        );
        if let Some(r) = &s.reference {
            println!("    {r}");
        }
    }
    if !r.actors.is_empty() {
        println!("\nactors:");
        for a in &r.actors {
            println!("  {} ({})", a.name, a.via);
        }
        if r.actors.len() > 1 {
            println!("  note: linked to {} groups — a shared or stolen certificate is evidence, not a verdict", r.actors.len());
        }
    }
    if !r.samples.is_empty() {
        println!("\nsamples seen signed with it ({} shown):", r.samples.len());
        for s in &r.samples {
            println!("  {} {} ({})", s.kind, s.value, s.source);
        }
    }
}
