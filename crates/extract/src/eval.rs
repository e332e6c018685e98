//! Precision and recall on a labelled corpus: documents beside `.expected`
//! files of `type<TAB>value` lines (blank lines and `#` comments ignored);
//! a `tlp<TAB>amber` line gives the document's own TLP label, which is no
//! indicator (a document without one must read as unmarked).
//! The corpus in `crates/extract/corpus` is compiled into the library so an
//! installed `cairn` can evaluate itself.

use crate::errors::CorpusError;
use crate::{Document, Extractor, IndicatorKind};
use include_dir::{Dir, include_dir};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/corpus");

/// One labelled document.
#[derive(Debug, Clone)]
pub struct CorpusCase {
    /// File name.
    pub name: String,
    /// The document.
    pub document: Document,
    /// What extraction must return (kind, normalized value).
    pub expected: BTreeSet<(IndicatorKind, String)>,
    /// The TLP label [`crate::Extraction::tlp`] must read (`amber`, …).
    pub tlp: Option<String>,
}

/// A labelled corpus.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Its documents.
    pub cases: Vec<CorpusCase>,
}

fn is_doc(name: &str) -> bool {
    [".txt", ".md", ".html", ".htm", ".pdf"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// Labelled values and the TLP label of one `.expected` file.
type Expected = (BTreeSet<(IndicatorKind, String)>, Option<String>);

fn parse_expected(file: &str, text: &str) -> Result<Expected, CorpusError> {
    let mut set = BTreeSet::new();
    let mut tlp = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |detail: String| CorpusError::Expected {
            file: file.to_string(),
            line: i + 1,
            detail,
        };
        let (k, v) = line
            .split_once('\t')
            .ok_or_else(|| err("expected `type<TAB>value`".into()))?;
        if k.trim() == "tlp" {
            tlp = Some(v.trim().to_ascii_lowercase());
            continue;
        }
        let kind: IndicatorKind = k.trim().parse().map_err(err)?;
        set.insert((kind, kind.normalize(v)));
    }
    Ok((set, tlp))
}

impl Corpus {
    /// Reads every `*.txt|md|html|pdf` with its `*.expected` from a folder.
    pub fn from_dir(dir: &Path) -> Result<Corpus, CorpusError> {
        let io = |source| CorpusError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_doc(n))
            .collect();
        names.sort();
        let mut cases = Vec::new();
        for name in names {
            let path = dir.join(&name);
            let exp_path = path.with_extension("expected");
            let exp = std::fs::read_to_string(&exp_path).map_err(|source| CorpusError::Io {
                path: exp_path.clone(),
                source,
            })?;
            let (expected, tlp) = parse_expected(&exp_path.display().to_string(), &exp)?;
            cases.push(CorpusCase {
                expected,
                tlp,
                document: Document::from_path(&path)?,
                name,
            });
        }
        if cases.is_empty() {
            return Err(CorpusError::Layout(format!(
                "{}: no documents",
                dir.display()
            )));
        }
        Ok(Corpus { cases })
    }
}

/// The corpus compiled into this library.
pub fn builtin_corpus() -> Result<Corpus, CorpusError> {
    let mut files: Vec<_> = BUILTIN.files().collect();
    files.sort_by_key(|f| f.path());
    let mut cases = Vec::new();
    for f in files {
        let name = f.path().display().to_string();
        if !is_doc(&name) {
            continue;
        }
        let exp_name = f.path().with_extension("expected");
        let exp = BUILTIN
            .get_file(&exp_name)
            .and_then(|e| e.contents_utf8())
            .ok_or_else(|| CorpusError::Layout(format!("{name}: no .expected file")))?;
        let (expected, tlp) = parse_expected(&exp_name.display().to_string(), exp)?;
        cases.push(CorpusCase {
            expected,
            tlp,
            document: Document::from_bytes(&name, f.contents())?,
            name,
        });
    }
    Ok(Corpus { cases })
}

/// Scores for one kind.
#[derive(Debug, Clone, Serialize)]
pub struct KindScore {
    /// The kind.
    #[serde(rename = "type")]
    pub kind: IndicatorKind,
    /// Labelled values.
    pub expected: usize,
    /// Values extracted.
    pub found: usize,
    /// Extracted and labelled.
    pub correct: usize,
    /// correct / found (1 when nothing was found).
    pub precision: f64,
    /// correct / expected (1 when nothing was expected).
    pub recall: f64,
    /// Extracted but not labelled: `case: value`.
    pub false_positives: Vec<String>,
    /// Labelled but missed: `case: value`.
    pub false_negatives: Vec<String>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Documents evaluated.
    pub documents: usize,
    /// Per kind, in [`IndicatorKind::all`] order.
    pub kinds: Vec<KindScore>,
    /// Micro-averaged precision over all kinds.
    pub precision: f64,
    /// Micro-averaged recall over all kinds.
    pub recall: f64,
    /// Documents whose TLP label was read wrong: `case: expected …, read …`.
    pub tlp_errors: Vec<String>,
}

impl EvalReport {
    /// Kinds under the floors, or with no labelled value at all (the corpus
    /// must cover every kind), with the reason.
    pub fn failures(&self, min_recall: f64, min_precision: f64) -> Vec<String> {
        let mut f: Vec<String> = self
            .tlp_errors
            .iter()
            .map(|e| format!("TLP label {e}"))
            .collect();
        for k in &self.kinds {
            if k.expected == 0 {
                f.push(format!("{}: no labelled value in the corpus", k.kind));
            } else if k.recall < min_recall {
                f.push(format!("{}: recall {:.3} < {min_recall}", k.kind, k.recall));
            } else if k.precision < min_precision {
                f.push(format!(
                    "{}: precision {:.3} < {min_precision}",
                    k.kind, k.precision
                ));
            }
        }
        f
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Runs `ex` on every case and scores it against the labels.
pub fn evaluate(ex: &Extractor, corpus: &Corpus) -> EvalReport {
    let mut per: BTreeMap<IndicatorKind, KindScore> = IndicatorKind::all()
        .iter()
        .map(|&kind| {
            (
                kind,
                KindScore {
                    kind,
                    expected: 0,
                    found: 0,
                    correct: 0,
                    precision: 1.0,
                    recall: 1.0,
                    false_positives: Vec::new(),
                    false_negatives: Vec::new(),
                },
            )
        })
        .collect();
    let mut tlp_errors = Vec::new();
    for case in &corpus.cases {
        let out = ex.extract(&case.document);
        if out.tlp != case.tlp {
            let show = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".into());
            tlp_errors.push(format!(
                "{}: expected {}, read {}",
                case.name,
                show(&case.tlp),
                show(&out.tlp)
            ));
        }
        let got: BTreeSet<(IndicatorKind, String)> = out
            .indicators
            .into_iter()
            .map(|i| (i.kind, i.value))
            .collect();
        for item in &case.expected {
            if let Some(s) = per.get_mut(&item.0) {
                s.expected += 1;
                if got.contains(item) {
                    s.correct += 1;
                } else {
                    s.false_negatives.push(format!("{}: {}", case.name, item.1));
                }
            }
        }
        for item in &got {
            if let Some(s) = per.get_mut(&item.0) {
                s.found += 1;
                if !case.expected.contains(item) {
                    s.false_positives.push(format!("{}: {}", case.name, item.1));
                }
            }
        }
    }
    let (mut e, mut f, mut c) = (0, 0, 0);
    let kinds: Vec<KindScore> = per
        .into_values()
        .map(|mut s| {
            s.precision = ratio(s.correct, s.found);
            s.recall = ratio(s.correct, s.expected);
            e += s.expected;
            f += s.found;
            c += s.correct;
            s
        })
        .collect();
    EvalReport {
        documents: corpus.cases.len(),
        kinds,
        precision: ratio(c, f),
        recall: ratio(c, e),
        tlp_errors,
    }
}
