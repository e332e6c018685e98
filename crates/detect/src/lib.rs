//! # cairn-detect
//!
//! Behaviour, not indicators: Sigma rules run over Windows event logs
//! (EVTX, every channel), JSON lines as winlogbeat/Elastic Agent, NXLog or
//! Velociraptor export them, and Zeek JSON logs. Each detection names the
//! file, record, time, host, rule and the ATT&CK techniques of the rule's
//! tags, so attribution can take it as evidence.
//!
//! Three steps:
//!
//! - [`RuleSource`]s (files, folders, or rule texts from the store) are
//!   loaded by [`RuleSet::load`] into a [`RuleSet`] and a [`LoadReport`]
//!   that lists every rule not loaded and why. Parsing and matching are
//!   rsigma's (every value modifier, condition forms, filters, correlation
//!   rules); Cairn adds the grouping of rules by log source and a
//!   prefilter: one Aho-Corasick pass over an event's values finds the
//!   rules whose required literals it holds, and only those are evaluated.
//! - [`detect`] reads files in parallel, brings each event to the flat
//!   field names Sigma's Windows rules use, works out its log source from
//!   its channel and event id (a table kept as data, extendable), and
//!   tests it only against the rules of that log source.
//! - Each [`Detection`] and each file's [`FileSummary`] go to a sink as
//!   they are found; a corrupt record or line is counted and skipped.
//!
//! ```
//! use cairn_detect::{detect, DetectOptions, Output, RuleOptions, RuleSet, RuleSource};
//! use std::sync::Mutex;
//!
//! let rule = RuleSource {
//!     origin: "whoami.yml".into(),
//!     text: "title: Whoami\nlogsource: {product: windows, category: process_creation}\n\
//!            tags: [attack.t1033]\ndetection:\n  sel: {Image|endswith: '\\whoami.exe'}\n  condition: sel\n".into(),
//! };
//! let (rules, report) = RuleSet::load(&[rule], &RuleOptions::default()).unwrap();
//! assert_eq!(report.loaded, 1);
//!
//! let dir = tempfile::tempdir().unwrap();
//! let log = dir.path().join("sysmon.jsonl");
//! std::fs::write(&log, r#"{"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,"event_data":{"Image":"C:\\Windows\\System32\\whoami.exe"}}}"#).unwrap();
//!
//! let found = Mutex::new(Vec::new());
//! detect(&rules, &[log], &DetectOptions::default(), &|o| {
//!     if let Output::Detection(d) = o { found.lock().unwrap().push(d) }
//! });
//! assert_eq!(found.lock().unwrap()[0].techniques, ["T1033"]);
//! ```
#![deny(missing_docs)]

pub mod errors;
mod event;
mod logsource;
mod prefilter;
mod read;
mod rules;
mod run;

pub use errors::DetectError;
pub use logsource::LogSources;
pub use read::log_files;
pub use rules::{LoadReport, Rejected, RuleInfo, RuleOptions, RuleSet, RuleSource};
pub use run::{DetectOptions, Detection, FileSummary, Output, RunSummary, detect};
