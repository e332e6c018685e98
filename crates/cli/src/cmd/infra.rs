//! `cairn infra`: an actor's infrastructure profile (its distinctive
//! habits against the store's population), and candidates scored against it.

use crate::Global;
use crate::output::{json_line, table};
use anyhow::Context;
use cairn_engine::InfraModel;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// The actor whose infrastructure to profile (any name, alias or ATT&CK id).
    actor: Option<String>,
    /// Show every habit (default: the strongest 30).
    #[arg(long)]
    all: bool,
    /// One JSON object: the actor's values and habits.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Rank candidate domains and addresses (one per line; `-` for stdin) by
    /// how much they look like an actor's; exit 0 if any scored above 0,
    /// 1 if none did, 2 on error.
    Score(ScoreArgs),
}

#[derive(clap::Args)]
struct ScoreArgs {
    /// Files of candidates (lists: defanged values, URLs and comments allowed).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// The actor to compare with.
    #[arg(long)]
    actor: String,
    /// Show only the best N.
    #[arg(long)]
    top: Option<usize>,
    /// One JSON line per candidate, highest first.
    #[arg(long)]
    json: bool,
}

fn model(store: &cairn_kb::Store, actor: &str) -> anyhow::Result<InfraModel> {
    cairn_engine::infra_model(store, actor)?.with_context(|| {
        let near = store.suggest(actor, 3).unwrap_or_default();
        if near.is_empty() {
            format!("no actor named `{actor}` in the store")
        } else {
            format!(
                "no actor named `{actor}`; did you mean {}?",
                near.join(", ")
            )
        }
    })
}

/// Runs `cairn infra`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(Action::Score(a)) => score(global, a),
        None => {
            let actor = args
                .actor
                .context("name an actor (`cairn infra RedHotel`) or `cairn infra score`")?;
            profile(global, &actor, args.all, args.json)
        }
    }
}

fn profile(global: &Global, actor: &str, all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(global)?;
    let m = model(&store, actor)?;
    if json {
        // The one serialisation, shared with `GET /api/v1/infra/{actor}`.
        json_line(&m.summary())?;
        return Ok(ExitCode::SUCCESS);
    }
    let habits = m.habits();
    let (domains, addresses) = m.profile.sizes();
    println!(
        "{}: {domains} registered domains, {addresses} addresses (compared with {})\n",
        m.infra.actor,
        m.population.describe()
    );
    let shown = if all {
        habits.len()
    } else {
        habits.len().min(30)
    };
    if m.population.ordinary_names() == 0 {
        println!(
            "(no popularity list in the store: ingest one, e.g. misp-warninglists' tranco10k, \
             for naming habits to mean something)\n"
        );
    }
    let rows: Vec<Vec<String>> = habits[..shown]
        .iter()
        .map(|h| {
            vec![
                h.feature.clone(),
                h.value.clone(),
                format!("{} ({:.0} %)", h.count, h.share * 100.0),
                format!("{:.3} %", h.population_share * 100.0),
                format!("{:+.2}", h.weight),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!(
            "no habit stands out (too few values, or none more common than in the population)"
        );
    } else {
        print!(
            "{}",
            table(
                &["FEATURE", "VALUE", "ACTOR", "POPULATION", "WEIGHT"],
                &rows
            )
        );
        if shown < habits.len() {
            println!("… {} more (--all)", habits.len() - shown);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn candidates(path: &Path) -> anyhow::Result<Vec<String>> {
    let lines: Box<dyn Iterator<Item = Result<cairn_intake::ListLine, _>>> =
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                .context("reading stdin")?;
            Box::new(cairn_intake::list_lines(
                Path::new("<stdin>"),
                std::io::Cursor::new(bytes),
            ))
        } else {
            Box::new(cairn_intake::open_list(path)?)
        };
    let mut out = Vec::new();
    for l in lines {
        let o = l?.observable;
        match o.kind.as_str() {
            "domain" | "ipv4" | "ipv6" => out.push(o.value),
            "url" => {
                if let Some(h) = cairn_model::url_host(&o.value) {
                    out.push(h.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn score(global: &Global, a: ScoreArgs) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(global)?;
    let m = model(&store, &a.actor)?;
    let mut values = Vec::new();
    for f in &a.files {
        values.extend(candidates(f)?);
    }
    // Ranked as `POST /api/v1/infra/{actor}/score` ranks them.
    let mut scored = m.score_all(&store, &values)?;
    let any = scored.iter().any(|s| s.score > 0.0);
    scored.truncate(a.top.unwrap_or(usize::MAX));
    if a.json {
        for s in &scored {
            json_line(s)?;
        }
    } else {
        let rows: Vec<Vec<String>> = scored
            .iter()
            .map(|s| {
                let why: Vec<String> = s
                    .contributions
                    .iter()
                    .filter(|c| c.weight > 0.0)
                    .take(3)
                    .map(|c| format!("{} {} {:+.1}", c.feature, c.value, c.weight))
                    .collect();
                vec![
                    format!("{:.2}", s.score),
                    s.kind.clone(),
                    s.value.clone(),
                    why.join("; "),
                ]
            })
            .collect();
        print!("{}", table(&["SCORE", "TYPE", "VALUE", "WHY"], &rows));
    }
    Ok(if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
