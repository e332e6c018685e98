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
    /// List every value with its infrastructure type and the reasons for it.
    #[arg(long)]
    tiers: bool,
    /// One JSON object: the actor's values, habits and tiers.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Rank candidate domains and addresses (one per line; `-` for stdin) by
    /// how much they look like an actor's; exit 0 if any scored above 0,
    /// 1 if none did, 2 on error.
    Score(ScoreArgs),
    /// Group domains and addresses by the pivots they share (an address, a
    /// certificate, a name server, a registrant e-mail), hubs left out; by
    /// default the store's unattributed indicators. Exit 0 if any cluster
    /// formed, 1 if none, 2 on error.
    Cluster(ClusterArgs),
}

#[derive(clap::Args)]
struct ClusterArgs {
    /// Files of values (lists); none: every domain and address the store's
    /// indicators name without an actor.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Neighbours above which a shared value is a hub that links no one.
    #[arg(long, default_value_t = 50)]
    max_fan_out: usize,
    /// Only edges seen then: a year, a month (2023-06) or a day.
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    /// One JSON object: clusters, values alone, hubs damped.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ScoreArgs {
    /// Files of candidates (lists: defanged values, URLs and comments allowed).
    #[arg(value_name = "FILE", required_unless_present = "since")]
    files: Vec<PathBuf>,
    /// Also score every domain the store's observations (passive DNS) first
    /// saw at or after this time: a year, a month (2023-06) or a day.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
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
        Some(Action::Cluster(a)) => cluster(global, a),
        None => {
            let actor = args
                .actor
                .clone()
                .context("name an actor (`cairn infra RedHotel`) or `cairn infra score`")?;
            profile(global, &actor, &args)
        }
    }
}

fn profile(global: &Global, actor: &str, args: &Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(global)?;
    let m = model(&store, actor)?;
    let habits = m.habits();
    let tiered = m.tiers(&store)?;
    let (domains, addresses) = m.profile.sizes();
    if args.json {
        json_line(&serde_json::json!({
            "actor": m.infra.actor,
            "registered_domains": domains,
            "addresses": addresses,
            "habits": habits,
            "registered": m.profile.registered(),
            "registrars": m.profile.shares("registrar", &m.population),
            "name_servers": m.profile.shares("name-server", &m.population),
            "values": m.profile.values,
            "tiers": tiered,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.tiers {
        print!("{}", tiers_table(&tiered));
        return Ok(ExitCode::SUCCESS);
    }
    let all = args.all;
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
    print!("{}", registrations(&m));
    println!("\nTiers (STIX infrastructure types; every value with its reasons: --tiers)\n");
    print!("{}", tier_summary(&tiered));
    Ok(ExitCode::SUCCESS)
}

/// Registrar and name-server shares among the actor's domains that have a
/// registration record in the store.
fn registrations(m: &InfraModel) -> String {
    let (domains, _) = m.profile.sizes();
    let n = m.profile.registered();
    if n == 0 {
        return format!(
            "\nRegistrations: none of the {domains} registered domains has a WHOIS/RDAP record \
             in the store (`cairn ingest whois/*.txt rdap/*.json`)\n"
        );
    }
    let mut out =
        format!("\nRegistrations ({n} of {domains} registered domains have a record)\n\n");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for feature in ["registrar", "name-server"] {
        for h in m.profile.shares(feature, &m.population).iter().take(5) {
            rows.push(vec![
                feature.to_string(),
                h.value.clone(),
                format!("{} ({:.0} %)", h.count, h.share * 100.0),
                format!("{:.1} %", h.population_share * 100.0),
                format!("{:+.2}", h.weight),
            ]);
        }
    }
    out.push_str(&table(
        &["FEATURE", "VALUE", "ACTOR", "POPULATION", "WEIGHT"],
        &rows,
    ));
    out
}

fn tier_summary(tiered: &[cairn_infra::Tiered]) -> String {
    let rows: Vec<Vec<String>> = cairn_infra::group(tiered)
        .iter()
        .map(|t| {
            let mut examples: Vec<&str> =
                t.values.iter().take(3).map(|v| v.value.as_str()).collect();
            if t.values.len() > 3 {
                examples.push("…");
            }
            let why = t
                .values
                .iter()
                .flat_map(|v| &v.reasons)
                .find(|r| r.infrastructure_type == t.infrastructure_type)
                .map_or_else(
                    || "no source or observation says".to_string(),
                    |r| r.reason.clone(),
                );
            let long = t
                .values
                .iter()
                .filter(|v| v.lifetime == Some("long-lived"))
                .count();
            vec![
                t.infrastructure_type.clone(),
                t.values.len().to_string(),
                long.to_string(),
                examples.join(", "),
                why,
            ]
        })
        .collect();
    table(
        &["TYPE", "VALUES", "LONG-LIVED", "EXAMPLES", "E.G. WHY"],
        &rows,
    )
}

fn tiers_table(tiered: &[cairn_infra::Tiered]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for t in tiered {
        let seen = match (&t.first_seen, &t.last_seen) {
            (Some(a), Some(b)) => format!("{} – {}", &a[..a.len().min(10)], &b[..b.len().min(10)]),
            _ => "-".into(),
        };
        let why = match t.reasons.first() {
            None => "-".to_string(),
            Some(r) if t.reasons.len() == 1 => format!("{}: {}", r.basis, r.reason),
            Some(r) => format!("{}: {} (+{} more)", r.basis, r.reason, t.reasons.len() - 1),
        };
        rows.push(vec![
            t.value.clone(),
            t.types.join(", "),
            t.lifetime.unwrap_or("-").to_string(),
            seen,
            t.tlp.as_str().to_string(),
            why,
        ]);
    }
    table(
        &["VALUE", "TYPE", "LIFETIME", "OBSERVED", "TLP", "WHY"],
        &rows,
    )
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
    let mut seen = std::collections::HashSet::new();
    let mut scored = Vec::new();
    let mut all: Vec<String> = Vec::new();
    for f in &a.files {
        all.extend(candidates(f)?);
    }
    if let Some(when) = &a.since {
        let from = cairn_infra::pivot::parse_at(when)?.from_ms;
        all.extend(
            store
                .domains_first_seen_since(from)?
                .into_iter()
                .map(|(d, _)| d),
        );
    }
    for v in all {
        if seen.insert(v.clone())
            && let Some(s) = m.score(&store, &v)?
        {
            scored.push(s);
        }
    }
    scored.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.value.cmp(&y.value)));
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

fn cluster(global: &Global, a: ClusterArgs) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(global)?;
    let mut values = Vec::new();
    for f in &a.files {
        values.extend(candidates(f)?);
    }
    if a.files.is_empty() {
        values = cairn_infra::unattributed(&store)?;
    }
    let mut lists = cairn_warninglist::WarningLists::new();
    for w in cairn_engine::store_warninglists(&store, &mut lists)? {
        eprintln!("cairn: warning: {w}");
    }
    let common = |value: &str, kind: &str| {
        matches!(kind, "domain" | "address")
            && cairn_model::IndicatorKind::detect(value)
                .is_some_and(|k| lists.check(k, value).is_some())
    };
    let opts = cairn_infra::ClusterOptions {
        max_fan_out: a.max_fan_out,
        window: match &a.at {
            Some(s) => cairn_infra::pivot::parse_at(s)?,
            None => cairn_kb::ObsWindow::ALL,
        },
    };
    let c = cairn_infra::cluster(&store, &values, &opts, &common)?;
    if a.json {
        json_line(&c)?;
    } else {
        for (i, cl) in c.clusters.iter().enumerate() {
            println!(
                "cluster {} ({} values): {}",
                i + 1,
                cl.values.len(),
                cl.values.join(", ")
            );
            let rows: Vec<Vec<String>> = cl
                .shared
                .iter()
                .map(|s| {
                    vec![
                        s.value.clone(),
                        s.kind.clone(),
                        s.relations.join(", "),
                        s.members.join(", "),
                        s.sources.join(", "),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(&["SHARED", "TYPE", "HOW", "BY", "SOURCES"], &rows)
            );
            println!();
        }
        println!(
            "{} clusters; {} of {} values share nothing with the others",
            c.clusters.len(),
            c.alone.len(),
            values.len()
        );
        if !c.damped.is_empty() {
            let hubs: Vec<String> = c
                .damped
                .iter()
                .map(|d| format!("{} (fan-out {})", d.value, d.fan_out))
                .collect();
            println!("hubs not used as links: {}", hubs.join(", "));
        }
    }
    Ok(if c.clusters.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
