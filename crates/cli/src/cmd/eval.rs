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
    /// Precision and recall of techniques read from prose, on ATT&CK
    /// procedure examples held out from training.
    Techniques(super::extract::TechniqueEvalArgs),
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Extraction(a) => super::extract::run_eval(global, a),
        What::Attribution(a) => super::attribute::run_eval(global, a),
        What::Techniques(a) => super::extract::run_technique_eval(a),
    }
}
