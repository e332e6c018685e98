use crate::Global;
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

/// Evaluation arguments.
#[derive(clap::Args)]
pub struct EvalArgs {}

pub fn run_eval(_global: &Global, _args: EvalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
