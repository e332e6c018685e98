//! `cairn export stix|navigator --actor NAME`: an actor's subgraph as a
//! STIX 2.1 bundle, or its techniques as an ATT&CK Navigator layer.

use crate::Global;
use cairn_model::Tlp;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// What to write.
    #[arg(value_enum)]
    format: Format,
    /// The actor: any vendor's name, an ATT&CK id (G1006) or a STIX id.
    #[arg(long, value_name = "NAME")]
    actor: String,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Leave out everything marked above this TLP (clear, green, amber,
    /// amber+strict, red): with `amber`, TLP:AMBER+STRICT and TLP:RED
    /// statements are not exported.
    #[arg(long, value_name = "TLP", value_parser = parse_tlp)]
    tlp_max: Option<Tlp>,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum Format {
    /// A STIX 2.1 bundle of the actor's subgraph, every source's objects kept apart.
    Stix,
    /// An ATT&CK Navigator layer of the actor's techniques, scored by sources.
    Navigator,
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse()
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut store = crate::open_store(global)?;
    if let Some(max) = args.tlp_max {
        store.restrict(max)?;
    }
    let value = match args.format {
        Format::Stix => store
            .actor_subgraph(&args.actor)?
            .map(|sub| cairn_export::stix_bundle(&sub)),
        Format::Navigator => store
            .actor(&args.actor)?
            .map(|p| cairn_export::navigator_layer(&p)),
    };
    let Some(value) = value else {
        let s = store.suggest(&args.actor, 5)?;
        if s.is_empty() {
            eprintln!(
                "cairn: no actor named `{}` (the store may be empty: try `cairn ingest --starter`)",
                args.actor
            );
        } else {
            eprintln!(
                "cairn: no actor named `{}`. Did you mean: {}?",
                args.actor,
                s.join(", ")
            );
        }
        return Ok(ExitCode::from(1));
    };
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    match &args.output {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            if !global.quiet {
                let what = match args.format {
                    Format::Stix => {
                        let n = value["objects"].as_array().map_or(0, Vec::len);
                        format!("STIX 2.1 bundle, {n} objects")
                    }
                    Format::Navigator => {
                        let n = value["techniques"].as_array().map_or(0, Vec::len);
                        format!("ATT&CK Navigator layer, {n} technique entries")
                    }
                };
                eprintln!("cairn: wrote {} ({what})", path.display());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
