//! `cairn feed`: subscriptions pulled over HTTP (TAXII 2.1, MISP feeds,
//! STIX and indicator lists), each sync one atomic, differential ingest.

use crate::Global;
use crate::output::table;
use cairn_feeds::http::HttpOptions;
use cairn_feeds::{FeedConfig, FeedKind, catalogue};
use std::process::ExitCode;
use std::time::Duration;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Subscribe to a feed (nothing is fetched until `cairn feed sync`).
    Add(Box<AddArgs>),
    /// Unsubscribe (what the feed stored stays, under its name).
    Remove {
        /// The feed's name.
        name: String,
    },
    /// Resume a disabled feed: `sync` and `serve --sync` run it again.
    Enable {
        /// The feed's name.
        name: String,
    },
    /// Pause a feed: kept with its state, not run until enabled (naming it
    /// to `sync` still runs it once).
    Disable {
        /// The feed's name.
        name: String,
    },
    /// Feeds with their last run: status, counts, validators, error.
    List {
        /// A JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Fetch feeds now; exit 0 if every one succeeded, 2 if any failed.
    Sync(SyncArgs),
    /// Well-known public feeds, not subscribed until added with --from-catalogue.
    Catalogue {
        /// A JSON array.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct AddArgs {
    /// Name; also the source its statements are stored under.
    name: String,
    /// URL (a TAXII discovery URL, a MISP feed directory, a file).
    url: Option<String>,
    /// stix, file, taxii, misp-feed, csv or list.
    #[arg(long)]
    kind: Option<String>,
    /// Take URL and kind from this catalogue entry (`cairn feed catalogue`).
    #[arg(long, value_name = "ID")]
    from_catalogue: Option<String>,
    /// Interval between scheduled runs: 1d, 6h, 30m or seconds.
    #[arg(long)]
    every: Option<String>,
    /// TAXII: the collection's id or title.
    #[arg(long)]
    collection: Option<String>,
    /// TAXII: objects per page to ask for (default 1000; the server may send fewer).
    #[arg(long, value_name = "N")]
    page_size: Option<usize>,
    /// Bearer token: the NAME of the environment variable holding it.
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
    /// Basic auth user.
    #[arg(long)]
    user: Option<String>,
    /// Basic auth: the NAME of the environment variable holding the password.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// CSV: the column holding the indicator.
    #[arg(long, value_name = "COLUMN")]
    value_column: Option<String>,
    /// CSV: the column holding the indicator kind.
    #[arg(long, value_name = "COLUMN")]
    kind_column: Option<String>,
    /// CSV: the column naming the actor.
    #[arg(long, value_name = "COLUMN")]
    actor_column: Option<String>,
    /// CSV: the column holding the first-seen date.
    #[arg(long, value_name = "COLUMN")]
    first_seen_column: Option<String>,
    /// CSV: the column holding a description.
    #[arg(long, value_name = "COLUMN")]
    comment_column: Option<String>,
    /// Marking for statements that carry none (clear, green, amber, amber+strict, red).
    #[arg(long)]
    tlp: Option<String>,
    /// Actor a list's or CSV's indicators belong to.
    #[arg(long)]
    actor: Option<String>,
    /// Confidence (0–100) for statements that carry none.
    #[arg(long)]
    confidence: Option<u8>,
    /// Largest body accepted, in MiB (default 512).
    #[arg(long, value_name = "MIB")]
    max_size: Option<u64>,
    /// Print the feed as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct SyncArgs {
    /// Feeds to run (default: every enabled feed).
    names: Vec<String>,
    /// Only the feeds whose interval has passed, each claimed for this run:
    /// several machines running this at once fetch each feed once.
    #[arg(long)]
    due_only: bool,
    /// Retries after a connect error, 429 or 5xx.
    #[arg(long, default_value_t = 3, value_name = "N")]
    retries: u32,
    /// First backoff between retries, in milliseconds (doubled each time).
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    backoff_ms: u64,
    /// Connect and read timeout, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    timeout: u64,
    /// A JSON array of outcomes.
    #[arg(long)]
    json: bool,
}

fn set_enabled(global: &Global, name: &str, enabled: bool) -> anyhow::Result<ExitCode> {
    let mut store = crate::open_kb(global)?;
    if !store.enable_feed(name, enabled)? {
        eprintln!("cairn: no feed called `{name}`");
        return Ok(ExitCode::from(1));
    }
    if !global.quiet {
        let state = if enabled { "enabled" } else { "disabled" };
        eprintln!("cairn: feed `{name}` {state}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Add(a) => add(global, *a),
        Action::Remove { name } => {
            let mut store = crate::open_kb(global)?;
            if !store.remove_feed(&name)? {
                eprintln!("cairn: no feed called `{name}`");
                return Ok(ExitCode::from(1));
            }
            if !global.quiet {
                eprintln!("cairn: feed `{name}` removed (its statements stay, as source `{name}`)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Action::Enable { name } => set_enabled(global, &name, true),
        Action::Disable { name } => set_enabled(global, &name, false),
        Action::List { json } => list(global, json),
        Action::Sync(a) => sync(global, a),
        Action::Catalogue { json } => {
            if json {
                println!("{}", serde_json::to_string(catalogue::CATALOGUE)?);
            } else {
                let rows: Vec<Vec<String>> = catalogue::CATALOGUE
                    .iter()
                    .map(|e| {
                        vec![
                            e.id.to_string(),
                            e.kind.to_string(),
                            e.every.to_string(),
                            e.licence.to_string(),
                            e.title.to_string(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table(&["ID", "KIND", "EVERY", "LICENCE", "TITLE"], &rows)
                );
                if !global.quiet {
                    eprintln!(
                        "cairn: none is subscribed until added: cairn feed add NAME --from-catalogue ID"
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add(global: &Global, a: AddArgs) -> anyhow::Result<ExitCode> {
    let entry = match &a.from_catalogue {
        Some(id) => Some(catalogue::entry(id).ok_or_else(|| {
            anyhow::anyhow!("no catalogue entry `{id}` (see `cairn feed catalogue`)")
        })?),
        None => None,
    };
    let url = a
        .url
        .clone()
        .or_else(|| entry.map(|e| e.url.to_string()))
        .ok_or_else(|| anyhow::anyhow!("give the feed's URL (or --from-catalogue ID)"))?;
    let kind: FeedKind = match (&a.kind, entry) {
        (Some(k), _) => k.parse()?,
        (None, Some(e)) => e.feed_kind(),
        (None, None) => {
            anyhow::bail!("give the feed's --kind (stix, file, taxii, misp-feed, csv, list)")
        }
    };
    let every = cairn_feeds::parse_every(
        a.every
            .as_deref()
            .or(entry.map(|e| e.every))
            .unwrap_or("1d"),
    )?;
    if let Some(t) = &a.tlp {
        t.parse::<cairn_model::Tlp>()
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    if a.confidence.is_some_and(|c| c > 100) {
        anyhow::bail!("--confidence is 0-100");
    }
    let config = FeedConfig {
        collection: a.collection,
        page_size: a.page_size,
        token_env: a.token_env,
        user: a.user,
        password_env: a.password_env,
        columns: cairn_intake::Columns {
            value: a.value_column,
            kind: a.kind_column,
            actor: a.actor_column,
            first_seen: a.first_seen_column,
            comment: a.comment_column,
        },
        tlp: a.tlp,
        actor: a.actor,
        confidence: a.confidence,
        max_bytes: a.max_size.map(|m| m.saturating_mul(1 << 20)),
        catalogue: a.from_catalogue,
    };
    let mut store = crate::open_kb(global)?;
    let feed = cairn_feeds::add(store.as_mut(), &a.name, kind, &url, &config, every)?;
    if a.json {
        println!("{}", serde_json::to_string(&feed)?);
    } else if !global.quiet {
        eprintln!(
            "cairn: feed `{}` ({}) added, every {}s; run it: cairn feed sync {}",
            feed.name, feed.kind, feed.every, feed.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(global: &Global, json: bool) -> anyhow::Result<ExitCode> {
    let store = crate::open_kb(global)?;
    let feeds = store.feeds()?;
    if json {
        println!("{}", serde_json::to_string(&feeds)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = feeds
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                f.kind.clone(),
                if f.enabled {
                    f.status.clone()
                } else {
                    format!("{} (disabled)", f.status)
                },
                f.last_run.clone().unwrap_or_default(),
                format!("+{} ~{} -{}", f.added, f.changed, f.withdrawn),
                f.next_due.clone().unwrap_or_default(),
                f.error.clone().unwrap_or_else(|| f.url.clone()),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "NAME",
                "KIND",
                "STATUS",
                "LAST RUN",
                "CHANGES",
                "NEXT DUE",
                "URL / ERROR"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn sync(global: &Global, a: SyncArgs) -> anyhow::Result<ExitCode> {
    let mut store = crate::open_kb(global)?;
    let names = if !a.names.is_empty() {
        a.names.clone()
    } else if a.due_only {
        cairn_feeds::claim_due(store.as_mut(), &cairn_model::time::now_ms())?
    } else {
        store
            .feeds()?
            .into_iter()
            .filter(|f| f.enabled)
            .map(|f| f.name)
            .collect()
    };
    let http = HttpOptions {
        connect_timeout: Duration::from_secs(a.timeout.max(1)),
        read_timeout: Duration::from_secs(a.timeout.max(1)),
        retries: a.retries,
        backoff: Duration::from_millis(a.backoff_ms),
        ..HttpOptions::default()
    };
    let mut outcomes = Vec::new();
    let mut failed = false;
    for name in &names {
        let o = cairn_feeds::sync(store.as_mut(), name, &http)?;
        if !global.quiet {
            match &o.error {
                Some(e) => eprintln!("cairn: feed {}: failed: {e}", o.name),
                None => eprintln!(
                    "cairn: feed {}: {}, +{} ~{} -{} ({} fetched, {} requests)",
                    o.name, o.status, o.added, o.changed, o.withdrawn, o.fetched, o.requests
                ),
            }
        }
        failed |= o.status == "failed";
        outcomes.push(o);
    }
    if a.json {
        println!("{}", serde_json::to_string(&outcomes)?);
    } else if names.is_empty() && !global.quiet {
        eprintln!("cairn: no feeds to run");
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
