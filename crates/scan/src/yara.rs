//! YARA over a file's bytes, when built with the `yara` feature: one
//! scanner per worker thread, made once and reused.

use crate::ScanOptions;
use crate::report::FileReport;
#[cfg(feature = "yara")]
use crate::report::RuleHit;

/// A worker's YARA scanner, or nothing.
#[cfg(feature = "yara")]
pub(crate) struct Yara<'r>(Option<cairn_yara::Scanner<'r>>);

/// Without the feature there is nothing to run.
#[cfg(not(feature = "yara"))]
pub(crate) struct Yara<'r>(std::marker::PhantomData<&'r ()>);

impl<'r> Yara<'r> {
    #[cfg(feature = "yara")]
    pub(crate) fn new(opts: &'r ScanOptions) -> Yara<'r> {
        // A rule set that runs away on one file must not hold the worker.
        Yara(
            opts.rules
                .as_ref()
                .map(|r| r.scanner().with_timeout(std::time::Duration::from_secs(30))),
        )
    }

    #[cfg(not(feature = "yara"))]
    pub(crate) fn new(_opts: &'r ScanOptions) -> Yara<'r> {
        Yara(std::marker::PhantomData)
    }

    /// Adds the rules that match `bytes` to the report.
    #[cfg(feature = "yara")]
    pub(crate) fn run(&mut self, bytes: &[u8], report: &mut FileReport) {
        let Some(scanner) = &mut self.0 else {
            return;
        };
        match scanner.scan(bytes) {
            Ok(matches) => report.yara.extend(matches.into_iter().map(|m| {
                RuleHit {
                    rule: m.rule,
                    namespace: m.namespace,
                    tags: m.tags,
                    metadata: m
                        .metadata
                        .into_iter()
                        .map(|(k, v)| (k, serde_json::to_value(&v).unwrap_or_default()))
                        .collect(),
                }
            })),
            Err(e) => report.notes.push(format!("YARA: {e}")),
        }
    }

    #[cfg(not(feature = "yara"))]
    pub(crate) fn run(&mut self, _bytes: &[u8], _report: &mut FileReport) {}
}
