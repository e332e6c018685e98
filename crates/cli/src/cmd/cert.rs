//! `cairn cert`: one certificate by serial (hex, colons, `0x…` or decimal)
//! or thumbprint — every source's statement about it, the families and
//! actors it points to, and the samples seen signed with it. Statements
//! that share a thumbprint or serial with the ones found are gathered too,
//! so a certificate known under several forms is shown once.

use std::process::ExitCode;

use cairn_engine::{CertReport, certificate_report};

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

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(global)?;
    let report = certificate_report(&store, &args.query, args.samples)?;
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

fn print_human(r: &CertReport) {
    if r.statements.is_empty() {
        println!(
            "{}: no certificate known by this serial or thumbprint",
            r.query
        );
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
            println!(
                "  note: linked to {} groups — a shared or stolen certificate is evidence, not a verdict",
                r.actors.len()
            );
        }
    }
    if !r.related.is_empty() {
        println!("\nrelated certificates ({}):", r.related.len());
        for c in r.related.iter().take(20) {
            println!(
                "  {} {} — {} ({})",
                c.serial,
                c.subject.as_deref().unwrap_or("?"),
                c.why,
                c.source
            );
        }
    }
    if !r.samples.is_empty() {
        println!("\nsamples seen signed with it ({} shown):", r.samples.len());
        for s in &r.samples {
            println!("  {} {} ({})", s.kind, s.value, s.source);
        }
    }
}
