//! `cairn`: the command-line surface. Thin by design: every command parses
//! its arguments, calls the library crates, and prints.
#![forbid(unsafe_code)]

mod alloc;
mod benign;
mod cmd;
mod output;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Threat intelligence for people who hunt state-sponsored intrusion groups.
#[derive(Parser)]
#[command(name = "cairn", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand accepts.
#[derive(clap::Args, Clone, Debug)]
pub struct Global {
    /// The knowledge base: a file (default: cairn.db in the user's data
    /// directory) or a PostgreSQL database (`postgres://user@host/db`).
    #[arg(long, global = true, env = "CAIRN_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Load intel files (STIX, MISP galaxy/event/warninglist, CSV, lists, reports) into the store.
    ///
    /// Each file is stored in its own transaction, in the order given. Every file is
    /// checked whole before anything is written, so one bad file stops the command with
    /// the store unchanged. Large STIX bundles and CSV files are streamed: checked in a
    /// first pass, then stored in batches of 5,000 statements, memory bounded by a batch.
    /// One-per-line lists, and CSV whose columns give only the value (and its kind), are
    /// stored in compact form.
    Ingest(cmd::ingest::Args),
    /// Show an actor's profile by any vendor's name, ATT&CK id or STIX id.
    Actor(cmd::actor::Args),
    /// Search names, aliases and descriptions.
    Search(cmd::search::Args),
    /// Extract typed, refanged indicators from a report (text, Markdown, HTML, PDF).
    Extract(cmd::extract::Args),
    /// Match known indicators against logs; exit 0 on hits, 1 on none, 2 on error.
    Hunt(cmd::hunt::Args),
    /// Take pieces of distributed hunts (`hunt --nats`) from a NATS JetStream queue.
    Worker(cmd::worker::Args),
    /// Who signed files, and whether their hashes, signers' certificates or YARA rules are known; exit 0 on matches, 1 on none, 2 on unreadable files.
    Scan(cmd::scan::Args),
    /// Run Sigma rules over event logs (EVTX, JSON lines, Zeek JSON); exit 0 on detections, 1 on none, 2 on unreadable files.
    Detect(cmd::detect::Args),
    /// One certificate by serial or thumbprint: every source's word on it, its actors and samples.
    Cert(cmd::cert::Args),
    /// Rank the groups that could be behind an intrusion, with reasons.
    Attribute(cmd::attribute::Args),
    /// Measure Cairn's engines against held-out truth.
    Eval(cmd::eval::Args),
    /// What the store holds, by source.
    Stats(cmd::stats::Args),
    /// Serve the web app, REST API and TAXII 2.1 feed (127.0.0.1:8080).
    Serve(cmd::serve::Args),
    /// Create, list and revoke API tokens for `cairn serve`.
    Token(cmd::token::Args),
    /// Export an actor (STIX 2.1, ATT&CK Navigator) or indicators for sensors (Zeek, Suricata, RPZ, CSV, ECS).
    Export(cmd::export::Args),
    /// Walk passive DNS and TLS observations outwards from a domain, address or certificate.
    Pivot(cmd::pivot::Args),
    /// Subscribe to feeds (TAXII 2.1, MISP feeds, STIX, CSV, lists) and sync them.
    Feed(cmd::feed::Args),
    /// An actor's infrastructure habits, and candidates scored against them.
    Infra(cmd::infra::Args),
}

/// The knowledge-base file named by `--db`, `CAIRN_DB`, or the default in
/// the user's data directory.
pub fn db_path(global: &Global) -> PathBuf {
    match &global.db {
        Some(p) => p.clone(),
        None => dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("cairn")
            .join("cairn.db"),
    }
}

/// The PostgreSQL store `--db`/`CAIRN_DB` names, if it names one.
pub fn postgres_url(global: &Global) -> Option<String> {
    global
        .db
        .as_ref()
        .and_then(|p| p.to_str())
        .filter(|s| cairn_pg::is_url(s))
        .map(String::from)
}

/// Opens the knowledge base on whichever backend `--db` names: a file (the
/// embedded store, created on first use) or a `postgres://` database.
pub fn open_kb(global: &Global) -> anyhow::Result<Box<dyn cairn_kb::KnowledgeBase>> {
    match postgres_url(global) {
        Some(url) => Ok(Box::new(cairn_pg::PgStore::connect(&url)?)),
        None => Ok(Box::new(open_store(global)?)),
    }
}

/// What runs on a PostgreSQL store so far; every other command needs the
/// embedded one.
pub const ON_POSTGRES: &str = "ingest (STIX, MISP, CSV and lists), stats, search, actor, export (sensor formats and navigator), feed, hunt, worker, token and serve";

/// Opens the embedded knowledge base (created on first use).
pub fn open_store(global: &Global) -> anyhow::Result<cairn_kb::Store> {
    if let Some(url) = postgres_url(global) {
        anyhow::bail!(
            "--db {url}: this command runs on the embedded store only so far; \
             on PostgreSQL: {ON_POSTGRES}"
        );
    }
    let path = db_path(global);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    cairn_kb::Store::open(&path).map_err(|e| {
        // Most store errors name the file already.
        let shown = path.display().to_string();
        let msg = e.to_string();
        if msg.contains(&shown) {
            anyhow::anyhow!(msg)
        } else {
            anyhow::anyhow!("{shown}: {msg}")
        }
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Detect(_)) {
        alloc::restart_lean();
    }
    // `cairn hunt … | head` must end quietly like grep, not panic on the
    // closed pipe; the server keeps Rust's default (a client that hangs up
    // is an error on that connection only).
    if !matches!(cli.command, Command::Serve(_)) {
        sigpipe::reset();
    }
    let result = match cli.command {
        Command::Ingest(a) => cmd::ingest::run(&cli.global, a),
        Command::Actor(a) => cmd::actor::run(&cli.global, a),
        Command::Search(a) => cmd::search::run(&cli.global, a),
        Command::Extract(a) => cmd::extract::run(&cli.global, a),
        Command::Hunt(a) => cmd::hunt::run(&cli.global, a),
        Command::Worker(a) => cmd::worker::run(&cli.global, a),
        Command::Scan(a) => cmd::scan::run(&cli.global, a),
        Command::Detect(a) => cmd::detect::run(&cli.global, a),
        Command::Cert(a) => cmd::cert::run(&cli.global, a),
        Command::Attribute(a) => cmd::attribute::run(&cli.global, a),
        Command::Eval(a) => cmd::eval::run(&cli.global, a),
        Command::Stats(a) => cmd::stats::run(&cli.global, a),
        Command::Serve(a) => cmd::serve::run(&cli.global, a),
        Command::Token(a) => cmd::token::run(&cli.global, a),
        Command::Export(a) => cmd::export::run(&cli.global, a),
        Command::Feed(a) => cmd::feed::run(&cli.global, a),
        Command::Infra(a) => cmd::infra::run(&cli.global, a),
        Command::Pivot(a) => cmd::pivot::run(&cli.global, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cairn: error: {}", error_chain(&e));
            // Hunting follows grep: 2 means trouble. Other commands use 2 as well,
            // keeping 1 for "nothing found".
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once: library errors that name their
/// cause in their own message are not followed by it again.
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn causes_already_said_are_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(cairn_intake::errors::IntakeError::Io {
            path: "x.json".into(),
            source: io,
        })
        .context("ingest");
        assert_eq!(
            super::error_chain(&e),
            "ingest: x.json: cannot read: no such file"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(super::error_chain(&plain), "outer: inner");
    }
}
