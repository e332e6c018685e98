//! `cairn stats`: what the store holds.

use crate::Global;
use crate::output::{json_line, table};
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_kb(global)?;
    let s = store.stats()?;
    if args.json {
        json_line(&s)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = s
        .sources
        .iter()
        .map(|x| {
            vec![
                x.name.clone(),
                x.format.clone(),
                x.objects.to_string(),
                x.relations.to_string(),
                x.withdrawn.to_string(),
                x.versions.to_string(),
                x.last_ingested.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "SOURCE",
                "FORMAT",
                "OBJECTS",
                "RELATIONS",
                "WITHDRAWN",
                "VERSIONS",
                "LAST INGESTED"
            ],
            &rows
        )
    );
    let kinds: Vec<String> = s
        .objects_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!("\nObjects: {}", kinds.join(", "));
    let rels: Vec<String> = s
        .relations_by_type
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!("Relationships: {}", rels.join(", "));
    Ok(ExitCode::SUCCESS)
}
