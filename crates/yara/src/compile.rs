//! Compiling rule sources into one [`Rules`], each source in its own namespace.

use crate::errors::YaraError;
use crate::scan::Scanner;
use serde::Serialize;
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

/// One piece of YARA source text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// A file path, or `store:<name>` for rules kept in the store. Names the
    /// source in every error and warning, and gives its namespace.
    pub origin: String,
    /// The YARA rules themselves.
    pub text: String,
}

impl RuleSource {
    /// A source from its origin and text.
    pub fn new(origin: impl Into<String>, text: impl Into<String>) -> Self {
        RuleSource {
            origin: origin.into(),
            text: text.into(),
        }
    }
}

/// One error (or warning) yara-x raised while compiling a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceError {
    /// The source's [`RuleSource::origin`].
    pub origin: String,
    /// The 1-based line yara-x points at, when it points somewhere.
    pub line: Option<u32>,
    /// yara-x's code (`E001`, `unsatisfiable_expr`, …).
    pub code: String,
    /// yara-x's title and, when it gives one, its note on the place
    /// (`syntax error: expecting …`).
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.origin, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// What compiling a set of sources gave, beside the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// How many sources were given.
    pub sources: usize,
    /// How many rules the compiled set holds (private and global ones included).
    pub loaded_rules: usize,
    /// Every error, in source order. A source appears once per error; rules of
    /// a failing source that compiled on their own are still loaded (yara-x
    /// drops only the rules in error), so check here, not only the count.
    pub failed: Vec<SourceError>,
    /// Every warning (slow patterns, unsatisfiable conditions, …), in source
    /// order. Warnings never stop a rule from loading.
    pub warnings: Vec<SourceError>,
    /// The namespace each source's rules went into, in source order: what
    /// [`RuleMatch::namespace`](crate::RuleMatch) names.
    pub namespaces: Vec<String>,
}

impl LoadReport {
    /// The distinct origins with at least one error, in source order.
    pub fn failed_origins(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.failed
            .iter()
            .map(|e| e.origin.as_str())
            .filter(|o| seen.insert(*o))
            .collect()
    }
}

/// A compiled rule set: compile once, then scan from any number of threads,
/// each with its own [`Scanner`].
pub struct Rules {
    inner: yara_x::Rules,
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules")
            .field("rules", &self.rule_count())
            .finish()
    }
}

impl Rules {
    /// Compiles every source into one rule set. Each source gets its own
    /// namespace (see [`namespace_for`]), so the same rule name in two files
    /// never clashes and one file's rules cannot refer to another's.
    ///
    /// A source that does not compile is listed in [`LoadReport::failed`] and
    /// the others still load; only a set with no rule at all is an `Err`.
    /// `include` directives are refused: a rule from the store must not read
    /// files on the machine that scans.
    pub fn compile(sources: &[RuleSource]) -> Result<(Rules, LoadReport), YaraError> {
        let mut compiler = yara_x::Compiler::new();
        compiler.enable_includes(false);
        let mut report = LoadReport {
            sources: sources.len(),
            ..LoadReport::default()
        };
        // yara-x's first namespace is "default": kept for nobody, so a
        // source named that still gets a namespace of its own.
        let mut taken = HashSet::from(["default".to_owned()]);
        for source in sources {
            let namespace = unique(namespace_for(&source.origin), &mut taken);
            compiler.new_namespace(&namespace);
            report.namespaces.push(namespace.clone());
            let (errors_before, warnings_before) =
                (compiler.errors().len(), compiler.warnings().len());
            let code = yara_x::SourceCode::from(source.text.as_str()).with_origin(&source.origin);
            // The returned error is the first of those kept in
            // `compiler.errors()`; all of them are read below.
            let _ = compiler.add_source(code);
            // Lines are found by binary search over the source's newlines,
            // indexed once: a rule file of a thousand rules can give a
            // warning per rule, and counting newlines for each was a tenth
            // of a whole scan's time.
            let lines = Lines::of(&source.text);
            for e in compiler.errors().get(errors_before..).unwrap_or_default() {
                let label = e.labels().next();
                report.failed.push(diagnostic(
                    source,
                    &lines,
                    (e.code(), e.title()),
                    label.as_ref().map(|l| l.text().to_owned()),
                    label.map(|l| l.span().start()),
                ));
            }
            for w in compiler
                .warnings()
                .get(warnings_before..)
                .unwrap_or_default()
            {
                let label = w.labels().next();
                report.warnings.push(diagnostic(
                    source,
                    &lines,
                    (w.code(), w.title()),
                    label.as_ref().map(|l| l.text().to_owned()),
                    label.map(|l| l.span().start()),
                ));
            }
        }
        let inner = compiler.build();
        report.loaded_rules = inner.iter().len();
        if report.loaded_rules == 0 {
            return Err(YaraError::NoRules {
                sources: sources.len(),
                failed: report.failed,
            });
        }
        Ok((Rules { inner }, report))
    }

    /// How many rules the set holds.
    pub fn rule_count(&self) -> usize {
        self.inner.iter().len()
    }

    /// A scanner over these rules. It holds per-scan state: make one per
    /// thread and reuse it for every input that thread scans.
    pub fn scanner(&self) -> Scanner<'_> {
        Scanner::new(&self.inner)
    }
}

/// The namespace a source's rules go into before deduplication: the file stem
/// of a path (`rules/apt1.yar` → `apt1`), the name after `store:`, with every
/// character that is not a letter, digit or `_` turned into `_` so it reads as
/// a YARA identifier; `rules` when nothing is left.
pub fn namespace_for(origin: &str) -> String {
    let base = match origin.strip_prefix("store:") {
        Some(name) => name.to_owned(),
        None => Path::new(origin)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "rules".to_owned()
    } else {
        clean
    }
}

// `name`, or `name_2`, `name_3`, … when taken.
fn unique(name: String, taken: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    candidate
}

fn diagnostic(
    source: &RuleSource,
    lines: &Lines,
    (code, title): (&str, &str),
    label: Option<String>,
    offset: Option<usize>,
) -> SourceError {
    let message = match label {
        Some(text) if !text.is_empty() && text != title => format!("{title}: {text}"),
        _ => title.to_owned(),
    };
    SourceError {
        origin: source.origin.clone(),
        line: offset.map(|o| lines.line_of(o)),
        code: code.to_owned(),
        message,
    }
}

/// Where a source's newlines are, for line numbers of byte offsets.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(memchr::memchr_iter(b'\n', text.as_bytes()).collect())
    }

    /// 1-based line of a byte offset; an offset past the end counts as the
    /// last line.
    fn line_of(&self, offset: usize) -> u32 {
        let before = self.0.partition_point(|&nl| nl < offset);
        u32::try_from(before + 1).unwrap_or(u32::MAX)
    }
}
