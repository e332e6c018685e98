//! `cairn actor NAME`: the profile of an actor by any vendor's name.

use crate::Global;
use crate::output::{json_line, table};
use cairn_kb::Profile;
use std::fmt::Write as _;
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Any vendor's name ("Charcoal Typhoon", "TAG-22", "earth lusca"), an ATT&CK id (G1006) or a STIX id.
    name: String,
    /// One JSON object (schema: docs/actor-profile.md).
    #[arg(long)]
    json: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_kb(global)?;
    let Some(p) = store.actor(&args.name)? else {
        let s = store.suggest(&args.name, 5)?;
        if s.is_empty() {
            eprintln!(
                "cairn: no actor named `{}` (the store may be empty: try `cairn ingest --starter`)",
                args.name
            );
        } else {
            eprintln!(
                "cairn: no actor named `{}`. Did you mean: {}?",
                args.name,
                s.join(", ")
            );
        }
        return Ok(ExitCode::from(1));
    };
    if args.json {
        json_line(&p)?;
    } else {
        print!("{}", render(&p));
    }
    Ok(ExitCode::SUCCESS)
}

fn sources(s: &[String]) -> String {
    s.join("; ")
}

fn render(p: &Profile) -> String {
    let mut o = String::new();
    let id = p
        .attack_id
        .as_deref()
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    let _ = writeln!(o, "{}{id}", p.name);
    let _ = writeln!(
        o,
        "{}",
        "=".repeat(p.name.chars().count() + id.chars().count())
    );
    if let Some(d) = &p.description {
        let _ = writeln!(
            o,
            "{}\n  — {}\n",
            d.trim(),
            p.description_source.as_deref().unwrap_or("?")
        );
    }
    if !p.origin.is_empty() {
        let origin: Vec<String> = p
            .origin
            .iter()
            .map(|c| format!("{} ({})", c.name, sources(&c.sources)))
            .collect();
        let _ = writeln!(o, "Origin: {}", origin.join(", "));
    }
    if p.first_seen.is_some() || p.last_seen.is_some() {
        let _ = writeln!(
            o,
            "Seen: {} → {}",
            p.first_seen.as_deref().unwrap_or("?"),
            p.last_seen.as_deref().unwrap_or("?")
        );
    }
    if p.sightings > 0 {
        let _ = writeln!(o, "SEEN IN OUR NETWORK: {} sightings recorded", p.sightings);
    }
    let _ = writeln!(o, "\nSources describing this actor ({}):", p.members.len());
    let rows: Vec<Vec<String>> = p
        .members
        .iter()
        .map(|m| {
            vec![
                m.source.clone(),
                m.name.clone(),
                m.external_id.clone().unwrap_or_default(),
                if m.direct {
                    "named".into()
                } else {
                    "linked".into()
                },
                m.tlp.clone(),
            ]
        })
        .collect();
    o.push_str(&indent(&table(
        &["SOURCE", "CALLS IT", "ID", "MATCH", "TLP"],
        &rows,
    )));
    let _ = writeln!(o, "\nNames and who uses them:");
    let rows: Vec<Vec<String>> = p
        .aliases
        .iter()
        .map(|a| vec![a.name.clone(), sources(&a.sources)])
        .collect();
    o.push_str(&indent(&table(&["NAME", "SOURCES"], &rows)));
    if !p.conflicts.is_empty() {
        let _ = writeln!(o, "\nCONFLICTS — sources disagree about what is one actor:");
        for c in &p.conflicts {
            let _ = writeln!(
                o,
                "  ! {} keeps {} ({}) apart from {} ({}),\n    but {} link them through: {}",
                c.kept_apart_by,
                c.name,
                c.other_id,
                c.kept_apart_from,
                c.kept_apart_from_id,
                c.linked_by.join(", "),
                c.linking_names.join(", ")
            );
        }
    }
    if !p.techniques.is_empty() {
        let _ = writeln!(o, "\nTechniques ({}):", p.techniques.len());
        let rows: Vec<Vec<String>> = p
            .techniques
            .iter()
            .map(|t| {
                vec![
                    t.id.clone(),
                    t.name.clone(),
                    t.tactics.join(", "),
                    sources(&t.sources),
                ]
            })
            .collect();
        o.push_str(&indent(&table(
            &["ID", "TECHNIQUE", "TACTICS", "SOURCES"],
            &rows,
        )));
    }
    if !p.software.is_empty() {
        let _ = writeln!(o, "\nSoftware ({}):", p.software.len());
        let rows: Vec<Vec<String>> = p
            .software
            .iter()
            .map(|s| {
                vec![
                    s.id.clone().unwrap_or_default(),
                    s.name.clone(),
                    s.kind.clone(),
                    sources(&s.sources),
                ]
            })
            .collect();
        o.push_str(&indent(&table(&["ID", "NAME", "KIND", "SOURCES"], &rows)));
    }
    if !p.campaigns.is_empty() {
        let _ = writeln!(o, "\nCampaigns:");
        for c in &p.campaigns {
            let _ = writeln!(
                o,
                "  {} {} ({})",
                c.id.as_deref().unwrap_or(""),
                c.name,
                sources(&c.sources)
            );
        }
    }
    if !p.countries.is_empty() {
        let _ = writeln!(o, "\nTargeted countries ({}):", p.countries.len());
        let rows: Vec<Vec<String>> = p
            .countries
            .iter()
            .map(|c| vec![c.value.clone(), c.name.clone(), sources(&c.sources)])
            .collect();
        o.push_str(&indent(&table(&["ISO", "COUNTRY", "SOURCES"], &rows)));
    }
    if !p.sectors.is_empty() {
        let _ = writeln!(o, "\nTargeted sectors ({}):", p.sectors.len());
        let rows: Vec<Vec<String>> = p
            .sectors
            .iter()
            .map(|c| vec![c.name.clone(), sources(&c.sources)])
            .collect();
        o.push_str(&indent(&table(&["SECTOR", "SOURCES"], &rows)));
    }
    if !p.indicator_counts.is_empty() {
        let counts: Vec<String> = p
            .indicator_counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(o, "\nIndicators: {}", counts.join(", "));
    }
    if !p.references.is_empty() {
        let _ = writeln!(o, "\nReferences ({}, first 5):", p.references.len());
        for r in p.references.iter().take(5) {
            let _ = writeln!(o, "  {r}");
        }
    }
    o
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}
