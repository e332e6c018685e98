//! `cairn search TEXT`: ranked matches over names, aliases and descriptions.

use crate::Global;
use crate::output::{json_line, table};
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Words to look for.
    text: Vec<String>,
    /// Most results to show.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// JSON lines, one per hit.
    #[arg(long)]
    json: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_kb(global)?;
    let hits = store.search(&args.text.join(" "), args.limit)?;
    if args.json {
        for h in &hits {
            json_line(h)?;
        }
    } else {
        let rows: Vec<Vec<String>> = hits
            .iter()
            .map(|h| {
                vec![
                    h.kind.clone(),
                    h.name.clone(),
                    h.external_id.clone().unwrap_or_default(),
                    h.sources.join("; "),
                    h.snippet.replace('\n', " ").chars().take(90).collect(),
                ]
            })
            .collect();
        print!(
            "{}",
            table(&["TYPE", "NAME", "ID", "SOURCES", "MATCH"], &rows)
        );
    }
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
