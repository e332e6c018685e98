//! `cairn export FORMAT`: an actor's subgraph as a STIX 2.1 bundle or its
//! techniques as an ATT&CK Navigator layer (`--actor` needed), or the
//! store's indicators for sensors: a Zeek Intel file, Suricata datasets
//! and rules (a directory), an RPZ zone, CSV, ECS NDJSON.
//!
//! Every file is written under a temporary name in its own directory and
//! renamed into place, so a sensor that reloads it never reads half a file.

use crate::Global;
use cairn_export::sensors::{self, SensorExport, SensorFormat, SensorOptions, SensorRequest};
use cairn_model::Tlp;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// What to write.
    #[arg(value_enum)]
    format: Format,
    /// The actor: any vendor's name, an ATT&CK id (G1006) or a STIX id.
    /// Needed for stix and navigator; for sensor formats, only that actor's
    /// indicators.
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
    /// Write to this file (a directory for suricata-dataset) instead of
    /// standard output.
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Leave out everything marked above this TLP (clear, green, amber,
    /// amber+strict, red). Sensor formats default to amber: TLP:AMBER+STRICT
    /// and TLP:RED never leave unless asked for.
    #[arg(long, value_name = "TLP", value_parser = parse_tlp)]
    tlp_max: Option<Tlp>,
    /// Sensor formats: only indicators added or changed since this time
    /// (RFC 3339, a date, or epoch seconds), for deltas.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Sensor formats: the web app's address, for links back to each
    /// indicator's page.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    url_base: String,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum Format {
    /// A STIX 2.1 bundle of the actor's subgraph, every source's objects kept apart.
    Stix,
    /// An ATT&CK Navigator layer of the actor's techniques, scored by sources.
    Navigator,
    /// A Zeek Intel framework file (Intel::read_files).
    ZeekIntel,
    /// Suricata datasets, datarep and iprep files and cairn.rules, into a directory.
    SuricataDataset,
    /// A DNS response policy zone blocking each domain and its subdomains.
    Rpz,
    /// CSV for SIEM lookups: value,type,actors,roles,sources,confidence,tlp,first_seen,last_seen.
    Csv,
    /// Elastic ECS threat.indicator documents, one JSON a line.
    EcsNdjson,
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse()
}

fn no_actor(store: &dyn cairn_kb::KnowledgeBase, name: &str) -> anyhow::Result<ExitCode> {
    let s = store.suggest(name, 5)?;
    if s.is_empty() {
        eprintln!(
            "cairn: no actor named `{name}` (the store may be empty: try `cairn ingest --starter`)"
        );
    } else {
        eprintln!(
            "cairn: no actor named `{name}`. Did you mean: {}?",
            s.join(", ")
        );
    }
    Ok(ExitCode::from(1))
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let sensor = match args.format {
        Format::Stix | Format::Navigator => None,
        Format::ZeekIntel => Some(SensorFormat::ZeekIntel),
        Format::SuricataDataset => Some(SensorFormat::SuricataDataset),
        Format::Rpz => Some(SensorFormat::Rpz),
        Format::Csv => Some(SensorFormat::Csv),
        Format::EcsNdjson => Some(SensorFormat::EcsNdjson),
    };
    if let Some(f) = sensor {
        return run_sensor(global, &args, f);
    }
    let Some(actor) = args.actor.as_deref() else {
        anyhow::bail!("stix and navigator exports need --actor NAME");
    };
    // A layer needs only the profile, which every backend builds; the
    // STIX subgraph is read from the embedded store.
    let value = match args.format {
        Format::Stix => {
            let mut store = crate::open_store(global)?;
            if let Some(max) = args.tlp_max {
                store.restrict(max)?;
            }
            match cairn_export::actor_bundle(&store, actor)? {
                Some(v) => v,
                None => return no_actor(&store, actor),
            }
        }
        _ => {
            let mut store = crate::open_kb(global)?;
            if let Some(max) = args.tlp_max {
                store.restrict(max)?;
            }
            match store.actor(actor)? {
                Some(p) => cairn_export::navigator_layer(&p),
                None => return no_actor(store.as_ref(), actor),
            }
        }
    };
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    match &args.output {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            if !global.quiet {
                let what = match args.format {
                    Format::Stix => {
                        let n = value["objects"].as_array().map_or(0, Vec::len);
                        format!("STIX 2.1 bundle, {n} objects")
                    }
                    _ => {
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

fn run_sensor(global: &Global, args: &Args, format: SensorFormat) -> anyhow::Result<ExitCode> {
    if format == SensorFormat::SuricataDataset && args.output.is_none() {
        anyhow::bail!("suricata-dataset writes several files: give a directory with -o DIR");
    }
    let mut store = crate::open_kb(global)?;
    let req = SensorRequest {
        tlp_max: args.tlp_max.unwrap_or(Tlp::Amber),
        actor: args.actor.as_deref(),
        since: args.since.as_deref(),
    };
    let Some(collected) = sensors::collect_request(store.as_mut(), &req)? else {
        return no_actor(store.as_ref(), args.actor.as_deref().unwrap_or_default());
    };
    for w in &collected.warnings {
        eprintln!("cairn: warning: {w}");
    }
    let opts = SensorOptions::now(args.url_base.clone());
    let out = sensors::render(format, &collected.indicators, &opts);
    match &args.output {
        Some(path) if format == SensorFormat::SuricataDataset => {
            std::fs::create_dir_all(path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            for f in &out.files {
                write_atomic(&path.join(&f.name), f.content.as_bytes())?;
            }
        }
        Some(path) => write_atomic(path, main_file(&out).as_bytes())?,
        None => {
            let mut o = std::io::stdout().lock();
            match o
                .write_all(main_file(&out).as_bytes())
                .and_then(|()| o.flush())
            {
                // `| head` closing the pipe is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                r => r?,
            }
        }
    }
    if !global.quiet
        && let Some(path) = &args.output
    {
        eprintln!(
            "cairn: wrote {} ({format}: {} values; {} with no place in the format, {} warninglisted left out)",
            path.display(),
            out.written,
            out.skipped,
            collected.warninglisted
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn main_file(out: &SensorExport) -> &str {
    out.files.first().map_or("", |f| f.content.as_str())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old file or the new one, never a part.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{}: not a file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("cannot write {}: {e}", path.display());
    }
    Ok(())
}
