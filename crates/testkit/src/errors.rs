//! What a test can find missing.

use thiserror::Error;

/// A prerequisite a test needs and could not find: a dataset file or folder,
/// chromedriver or Chromium. Its text is the tail of the `SKIPPED` line and of
/// the failure message, so it says what, where it was looked for, and how to
/// provide it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} not found {looked} ({hint})")]
pub struct Missing {
    /// What is missing, e.g. `attack/enterprise-attack-18.1.json`.
    pub what: String,
    /// Where it was looked for, e.g. `at /x/datasets/attack/…` or `on PATH`.
    pub looked: String,
    /// How to provide it, e.g. `set CAIRN_DATASETS`.
    pub hint: String,
}
