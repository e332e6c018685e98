//! `cairn token`: API tokens for `cairn serve`, stored hashed.

use crate::Global;
use crate::output::{json_line, table};
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Create a token; its secret is printed once.
    Create {
        /// Who or what it is for.
        #[arg(long)]
        name: String,
        /// reader (TLP:AMBER and below), analyst (all; ingest, hunt) or admin (tokens).
        #[arg(long, default_value = "reader")]
        role: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their secrets).
    List {
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut store = crate::open_kb(global)?;
    match args.action {
        Action::Create { name, role, json } => {
            let role: cairn_kb::Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let (secret, token) = store.create_token(&name, role)?;
            if json {
                json_line(&serde_json::json!({ "token": secret, "info": token }))?;
            } else {
                println!("{secret}");
                if !global.quiet {
                    eprintln!(
                        "cairn: token `{}` ({}) created; it is shown only now — keep it safe",
                        token.name, token.role
                    );
                }
            }
        }
        Action::List { json } => {
            let tokens = store.tokens()?;
            if json {
                for t in &tokens {
                    json_line(t)?;
                }
            } else {
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.role.to_string(),
                            t.created_at.clone(),
                            t.revoked_at.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                print!("{}", table(&["name", "role", "created", "revoked"], &rows));
            }
        }
        Action::Revoke { name } => {
            if !store.revoke_token(&name)? {
                eprintln!("cairn: no live token called `{name}`");
                return Ok(ExitCode::from(1));
            }
            if !global.quiet {
                eprintln!("cairn: token `{name}` revoked");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
