//! `cairn serve`: the web app, REST API and TAXII 2.1 feed over the store.

use crate::Global;
use std::net::SocketAddr;
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Let callers without a token read what a reader may (TLP:AMBER and below).
    #[arg(long)]
    anonymous_read: bool,
    /// Requests per second per token (or per address without one); 0 = unlimited.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    rate_limit: u32,
    /// Largest request body (uploads), in MiB.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    max_upload: usize,
    /// Largest file `/api/v1/scan` and the scan page accept, in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    max_scan_upload: usize,
    /// Largest report `/api/v1/extract`, `/api/v1/attribute/report` and the
    /// attribution page's report upload accept, in MiB.
    #[arg(long, default_value_t = 16, value_name = "MIB")]
    max_report_upload: usize,
    /// Seconds allowed per request.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    timeout: u64,
    /// Mark the session cookie Secure (when served behind TLS).
    #[arg(long)]
    secure_cookies: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Run due feeds (`cairn feed`) in a background thread with its own store connection.
    #[arg(long)]
    sync: bool,
    /// With --sync: seconds between looks for due feeds.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    sync_check: u64,
}

/// Runs due feeds forever, on its own connection: requests never wait for a
/// download, only (briefly) for a feed's write transaction.
fn feed_loop(
    db: &std::path::Path,
    postgres: Option<&str>,
    pause: std::time::Duration,
    quiet: bool,
) {
    let http = cairn_feeds::http::HttpOptions::default();
    let open = || -> anyhow::Result<Box<dyn cairn_kb::KnowledgeBase>> {
        Ok(match postgres {
            Some(url) => Box::new(cairn_pg::PgStore::connect(url)?),
            None => Box::new(cairn_kb::Store::open_existing(db)?),
        })
    };
    loop {
        match open() {
            Ok(mut store) => {
                let due = cairn_feeds::claim_due(store.as_mut(), &cairn_model::time::now_ms());
                for name in due.unwrap_or_default() {
                    match cairn_feeds::sync(store.as_mut(), &name, &http) {
                        Ok(o) if !quiet => match &o.error {
                            Some(e) => eprintln!("cairn: feed {name}: failed: {e}"),
                            None => eprintln!(
                                "cairn: feed {name}: {}, +{} ~{} -{}",
                                o.status, o.added, o.changed, o.withdrawn
                            ),
                        },
                        Ok(_) => {}
                        Err(e) => eprintln!("cairn: feed {name}: {e}"),
                    }
                }
            }
            Err(e) => eprintln!("cairn: feeds: {e}"),
        }
        std::thread::sleep(pause);
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let db = crate::db_path(global);
    let postgres = crate::postgres_url(global);
    // Opening creates the store (and its folder, or its schema) on first use.
    let tokens = crate::open_kb(global)?
        .tokens()?
        .iter()
        .filter(|t| t.revoked_at.is_none())
        .count();
    let mut config = cairn_serve::Config::new(db.clone());
    config.addr = args.listen;
    config.anonymous_read = args.anonymous_read;
    config.rate_limit = args.rate_limit;
    config.max_body = args.max_upload.saturating_mul(1 << 20);
    config.max_scan_body = args.max_scan_upload.saturating_mul(1 << 20);
    config.max_report_body = args.max_report_upload.saturating_mul(1 << 20);
    config.timeout = std::time::Duration::from_secs(args.timeout.max(1));
    config.secure_cookies = args.secure_cookies;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.enable_all().build()?;
    let app = cairn_serve::App::open(config)?;
    if !global.quiet {
        let shown = match &postgres {
            Some(url) => cairn_pg::redact(url),
            None => db.display().to_string(),
        };
        eprintln!("cairn: serving {shown} on http://{}/", args.listen);
        if postgres.is_some() {
            eprintln!(
                "cairn:   on PostgreSQL: stats, search, actor profiles and pages, sensor \
                 exports, indicator lookup and sightings, hunt, ingest, tokens and metrics; \
                 other routes answer 501 until they run there"
            );
        }
        eprintln!(
            "cairn:   web app  http://{}/   (sign in with a token)",
            args.listen
        );
        eprintln!(
            "cairn:   API      http://{}/api/v1/openapi.json",
            args.listen
        );
        eprintln!("cairn:   TAXII    http://{}/taxii2/", args.listen);
        if tokens == 0 {
            eprintln!(
                "cairn: no tokens yet — create one: cairn token create --name me --role admin"
            );
        }
        if args.anonymous_read {
            eprintln!("cairn: anonymous callers may read TLP:CLEAR, GREEN and AMBER");
        }
    }
    if args.sync {
        let db = db.clone();
        let pause = std::time::Duration::from_secs(args.sync_check.max(1));
        let quiet = global.quiet;
        let postgres = postgres.clone();
        std::thread::Builder::new()
            .name("cairn-feeds".into())
            .spawn(move || feed_loop(&db, postgres.as_deref(), pause, quiet))?;
        if !global.quiet {
            eprintln!(
                "cairn: running due feeds in the background (every {}s)",
                pause.as_secs()
            );
        }
    }
    rt.block_on(cairn_serve::serve(app))?;
    Ok(ExitCode::SUCCESS)
}
