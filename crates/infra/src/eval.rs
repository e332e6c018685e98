//! Measuring a profile: score held-out infrastructure of the actor mixed
//! with decoys, and report ROC AUC and precision at k beside naive
//! baselines (the top-level domain alone; the /16 alone).

use crate::features::Network;
use crate::model::{Scored, Scorer};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A candidate whose truth is known.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Domain or address.
    pub value: String,
    /// The actor's (held out) or a decoy.
    pub positive: bool,
    /// Where it comes from (`actor`, `popular domains`, `cloud ranges`, …).
    pub group: String,
}

/// One method's figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MethodScore {
    /// The method.
    pub method: String,
    /// ROC AUC (ties count half).
    pub auc: f64,
    /// Precision among the top k, for each k asked.
    pub precision_at: Vec<(usize, f64)>,
}

/// The figures for one kind of candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// `domain` or `address`.
    pub kind: String,
    /// Held-out values of the actor.
    pub positives: usize,
    /// Decoys.
    pub decoys: usize,
    /// The profile and the baselines.
    pub methods: Vec<MethodScore>,
    /// The profile's AUC against each group of decoys alone.
    pub by_group: BTreeMap<String, f64>,
}

/// ROC AUC of `(score, positive)` pairs: the chance a random positive
/// outscores a random negative, ties counting half. `None` without both.
pub fn auc(scored: &[(f64, bool)]) -> Option<f64> {
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut pos, mut neg) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        // Ranks i+1..=j share their mean.
        let mean = (i + 1 + j) as f64 / 2.0;
        for item in &v[i..j] {
            if item.1 {
                rank_sum += mean;
                pos += 1.0;
            } else {
                neg += 1.0;
            }
        }
        i = j;
    }
    (pos > 0.0 && neg > 0.0).then(|| (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Precision among the `k` highest scores (ties broken against the actor,
/// so a constant score earns nothing).
pub fn precision_at(scored: &[(f64, bool)], k: usize) -> f64 {
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let k = k.min(v.len());
    if k == 0 {
        return 0.0;
    }
    v[..k].iter().filter(|x| x.1).count() as f64 / k as f64
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Scores `candidates` (all domains, or all addresses) with `scorer` and
/// with the naive baselines, and reports.
pub fn evaluate(
    kind: &str,
    scorer: &Scorer,
    candidates: &[Labelled],
    net: &dyn Fn(IpAddr) -> Option<Network>,
    ks: &[usize],
) -> Evaluation {
    let scored: Vec<(Scored, &Labelled)> = candidates
        .iter()
        .filter_map(|c| {
            let n = c.value.parse::<IpAddr>().ok().and_then(net);
            scorer.score(&c.value, n.as_ref()).map(|s| (s, c))
        })
        .collect();
    let only = |feature: &str| -> Vec<(f64, bool)> {
        scored
            .iter()
            .map(|(s, c)| {
                let w: f64 = s
                    .contributions
                    .iter()
                    .filter(|x| x.feature == feature)
                    .map(|x| x.weight)
                    .sum();
                (w, c.positive)
            })
            .collect()
    };
    let full: Vec<(f64, bool)> = scored.iter().map(|(s, c)| (s.score, c.positive)).collect();
    let mut methods = vec![("profile (all features)".to_string(), full.clone())];
    if kind == "domain" {
        methods.push(("top-level domain only".into(), only("tld")));
    } else {
        // The naive /16 rule: is it in one of the actor's /16s?
        let in16: Vec<(f64, bool)> = scored
            .iter()
            .map(|(s, c)| {
                let hit = s.contributions.iter().any(|x| x.feature == "/16");
                (f64::from(u8::from(hit)), c.positive)
            })
            .collect();
        methods.push(("same /16 only".into(), in16));
        methods.push(("AS only".into(), only("asn")));
    }
    let methods = methods
        .into_iter()
        .map(|(method, v)| MethodScore {
            method,
            auc: round3(auc(&v).unwrap_or(0.5)),
            precision_at: ks
                .iter()
                .map(|&k| (k, round3(precision_at(&v, k))))
                .collect(),
        })
        .collect();
    let mut by_group = BTreeMap::new();
    for (s, c) in &scored {
        if c.positive {
            continue;
        }
        by_group.entry(c.group.clone()).or_insert_with(|| {
            let v: Vec<(f64, bool)> = scored
                .iter()
                .filter(|(_, d)| d.positive || d.group == c.group)
                .map(|(t, d)| (t.score, d.positive))
                .collect();
            round3(auc(&v).unwrap_or(0.5))
        });
        let _ = s;
    }
    Evaluation {
        kind: kind.into(),
        positives: scored.iter().filter(|(_, c)| c.positive).count(),
        decoys: scored.iter().filter(|(_, c)| !c.positive).count(),
        methods,
        by_group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_pairs_and_ties() {
        assert_eq!(auc(&[(2.0, true), (1.0, false)]), Some(1.0));
        assert_eq!(auc(&[(1.0, true), (2.0, false)]), Some(0.0));
        assert_eq!(auc(&[(1.0, true), (1.0, false)]), Some(0.5));
        let v = [(3.0, true), (2.0, false), (1.0, true), (0.0, false)];
        assert_eq!(auc(&v), Some(0.75));
        assert_eq!(auc(&[(1.0, true)]), None);
    }

    #[test]
    fn precision_breaks_ties_against_the_actor() {
        let v = [(1.0, true), (1.0, false), (0.0, true)];
        assert_eq!(precision_at(&v, 1), 0.0);
        assert_eq!(precision_at(&v, 2), 0.5);
        assert_eq!(precision_at(&[(5.0, true), (1.0, false)], 1), 1.0);
    }
}
