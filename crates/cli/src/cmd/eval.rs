use crate::Global;
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Precision and recall of report extraction on a labelled corpus.
    Extraction(super::extract::EvalArgs),
    /// Top-k accuracy of attribution on ATT&CK campaigns and leave-out rounds.
    Attribution(super::attribute::EvalArgs),
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Extraction(a) => super::extract::run_eval(global, a),
        What::Attribution(a) => super::attribute::run_eval(global, a),
    }
}
