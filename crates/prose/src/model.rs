//! The technique classifier: TF-IDF features of words and word pairs, one
//! linear scorer per technique, trained as a multiclass passive-aggressive
//! model with averaged weights.
//!
//! Written here because no maintained Rust crate trains a sparse multiclass
//! linear text model without a dense weight matrix (600 techniques × 100,000
//! features would be 240 MB); the weights here are sparse per feature and the
//! whole model is a few MB. A linear SVM on the same features (scikit-learn's
//! `LinearSVC`, tried while choosing) scores within a point of it on the
//! held-out split; k-nearest-neighbours on TF-IDF was eight points lower.

use crate::text::features;
use std::collections::HashMap;

/// Passes over the training set.
const EPOCHS: usize = 8;

/// One labelled text for training.
#[derive(Debug, Clone)]
pub(crate) struct Example {
    /// The text (already free of ATT&CK markup).
    pub text: String,
    /// Its technique, an index into [`TechniqueModel::classes`].
    pub class: u16,
}

/// A trained technique classifier.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct TechniqueModel {
    vocab: HashMap<String, u32>,
    idf: Vec<f32>,
    /// Per feature: (class, averaged weight), sorted by class.
    weights: Vec<Vec<(u16, f32)>>,
    classes: usize,
}

/// A sparse, L2-normalised TF-IDF vector.
type Sparse = Vec<(u32, f32)>;

impl TechniqueModel {
    /// Trains on `examples` whose classes are below `classes`.
    pub(crate) fn train(examples: &[Example], classes: usize, seed: u64) -> TechniqueModel {
        let docs: Vec<Vec<String>> = examples.iter().map(|e| features(&e.text)).collect();
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        for doc in &docs {
            let mut seen: Vec<u32> = doc
                .iter()
                .map(|f| {
                    let next = u32::try_from(vocab.len()).unwrap_or(u32::MAX);
                    let id = *vocab.entry(f.clone()).or_insert(next);
                    if id as usize == df.len() {
                        df.push(0);
                    }
                    id
                })
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for id in seen {
                df[id as usize] += 1;
            }
        }
        let n = docs.len() as f32;
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        let mut model = TechniqueModel {
            vocab,
            idf,
            weights: Vec::new(),
            classes,
        };
        let vectors: Vec<Sparse> = docs.iter().map(|d| model.vectorise(d)).collect();
        model.weights = fit(&vectors, examples, model.idf.len(), classes, seed);
        model
    }

    /// Why the model's parts do not fit together (a saved model from a
    /// damaged file), so that scoring can never index out of range.
    pub(crate) fn inconsistency(&self) -> Option<&'static str> {
        if self.weights.len() != self.idf.len() {
            return Some("weights and vocabulary differ in length");
        }
        if self.vocab.values().any(|&id| id as usize >= self.idf.len()) {
            return Some("a feature id is out of range");
        }
        if self.classes > usize::from(u16::MAX) + 1
            || self
                .weights
                .iter()
                .flatten()
                .any(|&(c, _)| usize::from(c) >= self.classes)
        {
            return Some("a class is out of range");
        }
        None
    }

    /// Number of classes.
    pub(crate) fn class_count(&self) -> usize {
        self.classes
    }

    /// TF-IDF of known features, sublinear term frequency, unit length.
    fn vectorise(&self, feats: &[String]) -> Sparse {
        let mut counts: HashMap<u32, f32> = HashMap::new();
        for f in feats {
            if let Some(&id) = self.vocab.get(f) {
                *counts.entry(id).or_default() += 1.0;
            }
        }
        let mut v: Sparse = counts
            .into_iter()
            .map(|(id, c)| (id, (1.0 + c.ln()) * self.idf[id as usize]))
            .collect();
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, x) in &mut v {
                *x /= norm;
            }
        }
        v.sort_unstable_by_key(|(id, _)| *id);
        v
    }

    /// Every class's score for `text`, best first, only those above `floor`.
    pub(crate) fn scores(&self, text: &str, floor: f32) -> Vec<(u16, f32)> {
        let v = self.vectorise(&features(text));
        let mut s = vec![0f32; self.classes];
        for (id, x) in v {
            for &(c, w) in &self.weights[id as usize] {
                s[c as usize] += w * x;
            }
        }
        let mut out: Vec<(u16, f32)> = s
            .into_iter()
            .enumerate()
            .filter(|(_, x)| *x > floor)
            .filter_map(|(c, x)| Some((u16::try_from(c).ok()?, x)))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }

    /// Features in the vocabulary.
    #[cfg(test)]
    pub(crate) fn vocabulary_len(&self) -> usize {
        self.vocab.len()
    }
}

/// Multiclass passive-aggressive (PA-I, C = 1) training, returning the
/// averaged weights. Each update moves the true class towards the example
/// and the best wrong class away, by the least step that makes the margin 1.
fn fit(
    vectors: &[Sparse],
    examples: &[Example],
    features: usize,
    classes: usize,
    seed: u64,
) -> Vec<Vec<(u16, f32)>> {
    // Per feature: class → (weight, weighted sum of updates for averaging).
    let mut w: Vec<Vec<(u16, f32, f32)>> = vec![Vec::new(); features];
    let mut order: Vec<usize> = (0..vectors.len()).collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut step = 1f32;
    let mut scores = vec![0f32; classes];
    for _ in 0..EPOCHS {
        rng.shuffle(&mut order);
        for &i in &order {
            let x = &vectors[i];
            if x.is_empty() {
                continue;
            }
            scores.iter_mut().for_each(|s| *s = 0.0);
            for &(f, v) in x {
                for &(c, wt, _) in &w[f as usize] {
                    scores[c as usize] += wt * v;
                }
            }
            let y = examples[i].class;
            let mut rival = None;
            for (c, &s) in scores.iter().enumerate() {
                if c != y as usize && rival.is_none_or(|(_, best)| s > best) {
                    rival = Some((c, s));
                }
            }
            let Some((r, rs)) = rival else { continue };
            let loss = 1.0 - (scores[y as usize] - rs);
            if loss > 0.0 {
                // ‖x‖ = 1, and the update touches two classes: ‖Δ‖² = 2.
                let tau = (loss / 2.0).min(1.0);
                let r = u16::try_from(r).unwrap_or(u16::MAX);
                for &(f, v) in x {
                    bump(&mut w[f as usize], y, tau * v, step);
                    bump(&mut w[f as usize], r, -tau * v, step);
                }
            }
            step += 1.0;
        }
    }
    w.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(c, wt, u)| (c, wt - u / step))
                .filter(|(_, x)| *x != 0.0)
                .collect()
        })
        .collect()
}

/// Adds `delta` to class `c`'s weight in one feature's row (kept sorted by
/// class: common words reach hundreds of classes), keeping the
/// step-weighted sum that averaging needs.
fn bump(row: &mut Vec<(u16, f32, f32)>, c: u16, delta: f32, step: f32) {
    match row.binary_search_by_key(&c, |e| e.0) {
        Ok(i) => {
            row[i].1 += delta;
            row[i].2 += step * delta;
        }
        Err(i) => row.insert(i, (c, delta, step * delta)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, class: u16) -> Example {
        Example {
            text: text.into(),
            class,
        }
    }

    #[test]
    fn learns_which_words_mean_which_class() {
        let train = [
            ex("sent spearphishing emails with malicious attachments", 0),
            ex("phishing email carried a malicious word attachment", 0),
            ex("attachment in a targeted email lure", 0),
            ex("created a scheduled task for persistence", 1),
            ex("schtasks created a task that runs daily", 1),
            ex("a scheduled task launched the payload at logon", 1),
        ];
        let m = TechniqueModel::train(&train, 2, 7);
        let top = |t: &str| m.scores(t, f32::MIN)[0].0;
        assert_eq!(top("victims received an email with an attachment"), 0);
        assert_eq!(top("the implant registers a scheduled task"), 1);
        assert!(m.scores("completely unrelated words", 0.0).is_empty());
        assert!(m.vocabulary_len() > 10);
    }

    #[test]
    fn same_seed_same_model() {
        let train = [
            ex("alpha beta", 0),
            ex("gamma delta", 1),
            ex("alpha gamma", 1),
        ];
        let a = TechniqueModel::train(&train, 2, 1).scores("alpha", f32::MIN);
        let b = TechniqueModel::train(&train, 2, 1).scores("alpha", f32::MIN);
        assert_eq!(a, b);
    }
}
