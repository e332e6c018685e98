//! YARA rules compiled once with [yara-x](https://virustotal.github.io/yara-x/)
//! and run over file bytes.
//!
//! - [`RuleSource`]: one rule file's text and where it came from (a path, or
//!   `store:<name>`).
//! - [`Rules::compile`] puts every source into one rule set, each in its own
//!   namespace ([`namespace_for`]: the file stem, deduplicated), so two files
//!   may both define `rule evil`. A source that does not compile is listed in
//!   the [`LoadReport`] with its origin and line, and the rest still load;
//!   only a set with no rule at all is an error ([`errors::YaraError::NoRules`]).
//! - [`Rules`] is `Send + Sync`: share one across a thread pool and give each
//!   thread its own [`Scanner`] ([`Rules::scanner`], optionally
//!   [`Scanner::with_timeout`]).
//! - [`Scanner::scan`] returns each matching rule as a [`RuleMatch`]: name,
//!   namespace, tags and metadata ([`MetaValue`], serialised as plain JSON
//!   values). A timeout is an error value ([`errors::YaraError::Timeout`]) to
//!   report for that input, not a panic.
//!
//! yara-x's modules are all there; `pe` gives the Authenticode signatures
//! (`pe.number_of_signatures`, `pe.signatures[i].serial`, …).
//!
//! ```
//! use cairn_yara::{MetaValue, RuleSource, Rules};
//!
//! let source = RuleSource::new(
//!     "store:demo",
//!     r#"rule greeting : demo { meta: score = 7 strings: $a = "hello" condition: $a }"#,
//! );
//! let (rules, report) = Rules::compile(&[source])?;
//! assert_eq!(report.loaded_rules, 1);
//! assert!(report.failed.is_empty());
//!
//! let mut scanner = rules.scanner();
//! let matches = scanner.scan(b"well, hello there")?;
//! assert_eq!(matches.len(), 1);
//! assert_eq!(matches[0].rule, "greeting");
//! assert_eq!(matches[0].namespace, "demo");
//! assert_eq!(matches[0].tags, ["demo"]);
//! assert_eq!(matches[0].metadata, [("score".to_owned(), MetaValue::Integer(7))]);
//! assert!(scanner.scan(b"goodbye")?.is_empty());
//! # Ok::<(), cairn_yara::errors::YaraError>(())
//! ```
#![deny(missing_docs)]

mod compile;
pub mod errors;
mod scan;

pub use compile::{LoadReport, RuleSource, Rules, SourceError, namespace_for};
pub use errors::YaraError;
pub use scan::{MetaValue, RuleMatch, Scanner};

#[cfg(test)]
mod tests;
