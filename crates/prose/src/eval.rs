//! How well the reader finds techniques, measured on ATT&CK procedure
//! examples it never trained on.
//!
//! The split is by the source of a procedure (a group, a piece of software,
//! a campaign): a stable hash puts a fifth of the sources, with every one of
//! their procedure examples, in the test set. The reader trains on the rest
//! exactly as it does for real use (its own calibration slice included), so
//! the threshold is never tuned on the test set.

use crate::knowledge::Knowledge;
use crate::reader::{Reader, ReaderOptions, bucket};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How the evaluation splits.
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// Percent of procedure sources held out for testing.
    pub test_percent: u64,
    /// The reader's options.
    pub reader: ReaderOptions,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions {
            test_percent: 20,
            reader: ReaderOptions::default(),
        }
    }
}

/// Precision, recall and F1 with their counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    /// Right predictions.
    pub true_positives: usize,
    /// Wrong predictions.
    pub false_positives: usize,
    /// Techniques missed.
    pub false_negatives: usize,
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

impl Prf {
    fn add(&mut self, predicted: &BTreeSet<String>, gold: &BTreeSet<String>) {
        self.true_positives += predicted.intersection(gold).count();
        self.false_positives += predicted.difference(gold).count();
        self.false_negatives += gold.difference(predicted).count();
    }

    fn finish(mut self) -> Prf {
        let (tp, fp, fn_) = (
            self.true_positives as f64,
            self.false_positives as f64,
            self.false_negatives as f64,
        );
        self.precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        self.recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
        self
    }
}

/// The evaluation's figures.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueEval {
    /// Techniques in the knowledge.
    pub techniques: usize,
    /// Procedure examples in the knowledge.
    pub procedures: usize,
    /// Procedure sources held out.
    pub test_sources: usize,
    /// Distinct held-out texts (a text stated for several techniques is one
    /// example with several gold techniques).
    pub test_examples: usize,
    /// Procedure examples the reader could train and calibrate on.
    pub train_procedures: usize,
    /// The model's threshold, set on the calibration slice.
    pub threshold: f32,
    /// Micro scores per held-out example (each read as a short report):
    /// exact technique or sub-technique.
    pub sentence: Prf,
    /// The same, a sub-technique counted right when its parent matches.
    pub sentence_parent: Prf,
    /// Held-out groups, each group's procedure examples read as one report;
    /// micro scores over the set of techniques per report.
    pub report: Prf,
    /// Held-out groups read as reports.
    pub report_groups: usize,
    /// Mean per-report recall (macro).
    pub report_macro_recall: f64,
}

/// Trains a reader without the held-out sources and scores it on them.
pub fn evaluate_techniques(k: &Knowledge, opts: EvalOptions) -> TechniqueEval {
    let held_out = |source: &str| bucket("test", source) < opts.test_percent;
    let reader = Reader::train(k, opts.reader, |p| !held_out(&p.source));
    let mut examples: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    let mut groups: BTreeMap<&str, (Vec<&str>, BTreeSet<String>)> = BTreeMap::new();
    let mut sources = BTreeSet::new();
    let mut train_procedures = 0;
    for p in &k.procedures {
        if !held_out(&p.source) {
            train_procedures += 1;
            continue;
        }
        sources.insert(p.source.as_str());
        let tid = k.techniques[p.technique].id.clone();
        examples
            .entry((p.source.as_str(), p.text.as_str()))
            .or_default()
            .insert(tid.clone());
        if p.source_kind == "intrusion-set" {
            let g = groups.entry(p.source.as_str()).or_default();
            if !g.0.contains(&p.text.as_str()) {
                g.0.push(&p.text);
            }
            g.1.insert(tid);
        }
    }
    let mut sentence = Prf::default();
    let mut parent = Prf::default();
    for ((_, text), gold) in &examples {
        let predicted: BTreeSet<String> = reader
            .techniques(text)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        sentence.add(&predicted, gold);
        let up = |s: &BTreeSet<String>| -> BTreeSet<String> {
            s.iter()
                .map(|t| t.split('.').next().unwrap_or(t).to_string())
                .collect()
        };
        parent.add(&up(&predicted), &up(gold));
    }
    let mut report = Prf::default();
    let mut recalls = Vec::new();
    for (texts, gold) in groups.values() {
        // One procedure per paragraph, as a report would set them.
        let doc = texts.join("\n\n");
        let predicted: BTreeSet<String> = reader
            .techniques(&doc)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        report.add(&predicted, gold);
        recalls.push(predicted.intersection(gold).count() as f64 / gold.len().max(1) as f64);
    }
    TechniqueEval {
        techniques: k.techniques.len(),
        procedures: k.procedures.len(),
        test_sources: sources.len(),
        test_examples: examples.len(),
        train_procedures,
        threshold: reader.threshold().unwrap_or(0.0),
        sentence: sentence.finish(),
        sentence_parent: parent.finish(),
        report: report.finish(),
        report_groups: groups.len(),
        report_macro_recall: if recalls.is_empty() {
            0.0
        } else {
            recalls.iter().sum::<f64>() / recalls.len() as f64
        },
    }
}
