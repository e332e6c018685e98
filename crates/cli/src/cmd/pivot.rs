//! `cairn pivot VALUE`: walk the observations outwards from a domain,
//! address or certificate; exit 0 when the value is known, 1 when not.

use crate::Global;
use crate::output::table;
use cairn_infra::pivot::{PivotOptions, parse_at};
use cairn_kb::ObsWindow;
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The domain, address or certificate fingerprint to start from.
    value: String,
    /// Hops from the value.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Most values to report.
    #[arg(long, default_value_t = 200)]
    budget: usize,
    /// Neighbours above which a value counts as common (shared hosting, CDN,
    /// sinkhole) and is not expanded.
    #[arg(long, default_value_t = 50)]
    max_fan_out: usize,
    /// Expand common and warninglisted values too.
    #[arg(long)]
    expand_common: bool,
    /// Only edges seen then: YYYY, YYYY-MM or YYYY-MM-DD (UTC).
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
    /// One JSON document: {"nodes", "edges", "damped"}.
    #[arg(long)]
    json: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(global)?;
    let window = match &args.at {
        Some(s) => parse_at(s)?,
        None => ObsWindow::ALL,
    };
    let mut lists = cairn_warninglist::WarningLists::new();
    for w in cairn_engine::store_warninglists(&store, &mut lists)? {
        eprintln!("cairn: warning: {w}");
    }
    let opts = PivotOptions {
        depth: args.depth,
        budget: args.budget.max(1),
        max_fan_out: args.max_fan_out,
        expand_common: args.expand_common,
        window,
    };
    // The walk and its damping as `GET /api/v1/pivot` does them.
    let p = cairn_engine::pivot(&store, &lists, &args.value, &opts)?;
    if args.json {
        crate::output::json_line(&p)?;
    } else if p.nodes.is_empty() {
        eprintln!("cairn: {}: not observed and not an indicator", args.value);
    } else {
        let rows: Vec<Vec<String>> = p
            .nodes
            .iter()
            .map(|n| {
                let depth = n.path.len().saturating_sub(1);
                vec![
                    format!("{}{}", "  ".repeat(depth), n.value),
                    n.kind.clone(),
                    n.actors
                        .iter()
                        .map(|a| format!("{} ({})", a.name, a.sources.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; "),
                    n.first_seen
                        .as_deref()
                        .map_or("-".into(), |t| t[..10].to_string()),
                    n.last_seen
                        .as_deref()
                        .map_or("-".into(), |t| t[..10].to_string()),
                    n.path.join(" > "),
                ]
            })
            .collect();
        print!(
            "{}",
            table(&["VALUE", "TYPE", "ACTORS", "FIRST", "LAST", "PATH"], &rows)
        );
        if !p.damped.is_empty() {
            println!("\nnot expanded (common; --expand-common to walk through):");
            for d in &p.damped {
                println!("  {}  fan-out {}", d.value, d.fan_out);
            }
        }
        if p.truncated {
            println!(
                "\nbudget of {} values reached; raise --budget for more",
                opts.budget
            );
        }
    }
    Ok(if p.nodes.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
