//! What can go wrong: compiling a rule set with no usable rule, or one scan.
//!
//! A single source that does not compile is not an error here: it is listed in
//! [`LoadReport::failed`](crate::LoadReport::failed) and the others still load.

use crate::SourceError;
use std::time::Duration;

/// Compiling or scanning failed.
#[derive(Debug, thiserror::Error)]
pub enum YaraError {
    /// No source gave a single rule: nothing was given, or every source failed.
    #[error("{}", no_rules_message(*.sources, .failed))]
    NoRules {
        /// How many sources were given.
        sources: usize,
        /// Why each failing source failed (empty when the sources compiled but
        /// hold no rule).
        failed: Vec<SourceError>,
    },
    /// The scan of one input ran past the scanner's timeout. yara-x counts
    /// time in whole seconds, so the scan may have run up to a second longer.
    #[error("YARA scan timed out after {}s", .after.as_secs_f64())]
    Timeout {
        /// The timeout that was set.
        after: Duration,
    },
    /// yara-x refused or aborted a scan for another reason.
    #[error("YARA scan failed: {message}")]
    Scan {
        /// yara-x's own words.
        message: String,
    },
}

fn no_rules_message(sources: usize, failed: &[SourceError]) -> String {
    match failed.first() {
        None if sources == 0 => "no YARA rules: no rule source was given".to_owned(),
        None => format!("no YARA rules: {sources} source(s) compiled but hold no rule"),
        Some(first) => format!(
            "no YARA rules: {} error(s) in {sources} source(s), the first: {first}",
            failed.len()
        ),
    }
}
