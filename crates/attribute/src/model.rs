//! The scoring model: rarity-weighted overlap, decomposed into contributions.

use crate::corpus::{Corpus, Feature, Profile, ProfileSet, Via};
use crate::evidence::{Evidence, Origin, Recognised, Resolved, Unrecognised};
use crate::util::country_name;
use serde::Serialize;
use std::collections::HashMap;

/// How much the top candidate can be trusted, from its lead over the
/// runner-up; calibrated on the evaluation (docs/ATTRIBUTION.md gives the
/// observed top-1 precision of each band).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Clear lead: right most of the time on the evaluation.
    High,
    /// Some lead: right about half of the time.
    Moderate,
    /// Close call or thin evidence: treat as one of several candidates.
    Low,
}

impl Confidence {
    /// The band's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Moderate => "moderate",
            Confidence::Low => "low",
        }
    }

    /// The band of a top candidate from its relative lead `(s1 - s2) / s1`
    /// and its score `s1`.
    pub fn from_lead(lead: f64, score: f64) -> Confidence {
        if score >= HIGH_MIN_SCORE && lead >= HIGH_MIN_LEAD {
            Confidence::High
        } else if score >= MODERATE_MIN_SCORE && lead >= MODERATE_MIN_LEAD {
            Confidence::Moderate
        } else {
            Confidence::Low
        }
    }
}

/// Relative lead over the runner-up needed for "high".
pub const HIGH_MIN_LEAD: f64 = 0.15;
/// Score needed for "high".
pub const HIGH_MIN_SCORE: f64 = 2.0;
/// Relative lead over the runner-up needed for "moderate".
pub const MODERATE_MIN_LEAD: f64 = 0.05;
/// Score needed for "moderate".
pub const MODERATE_MIN_SCORE: f64 = 1.0;

/// Whether a contribution argues for or against a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Supports the candidate.
    For,
    /// Argues against the candidate.
    Against,
}

/// One piece of evidence's share of a candidate's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// `technique`, `parent-technique`, `software`, `software-techniques`,
    /// `indicator`, `infrastructure`, `country`, `sector` or `time`.
    pub kind: String,
    /// What: `T1059.001 PowerShell`, `Cobalt Strike (S0154)`, `TW Taiwan`.
    pub value: String,
    /// Signed share of the score (negative when against).
    pub weight: f64,
    /// For or against.
    pub for_or_against: Direction,
    /// Why this weight: how the candidate is linked, how rare the item is.
    pub detail: String,
    /// Where the evidence came from in a report read by the caller (its
    /// lines); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u32>,
}

/// Where two candidates' contributions for one item differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distinction {
    /// Evidence kind.
    pub kind: String,
    /// Evidence value.
    pub value: String,
    /// Its weight for this candidate.
    pub this: f64,
    /// Its weight for the other candidate.
    pub other: f64,
}

/// One ranked actor cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// 1-based rank.
    pub rank: usize,
    /// The cluster's primary name.
    pub actor: String,
    /// Other names, including those of attached actors from other sources.
    pub aliases: Vec<String>,
    /// ATT&CK group id, when it has one.
    pub attack_id: Option<String>,
    /// Actors from other sources attached to this cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attached: Vec<String>,
    /// The sum of the contributions.
    pub score: f64,
    /// For the top candidate, how far it can be trusted; "low" below it.
    pub confidence: Confidence,
    /// Every contribution, strongest first.
    pub evidence: Vec<Contribution>,
    /// Versus the runner-up (for #1) or versus #1 (for the others): the
    /// items whose weights differ most.
    pub distinguishing_against: Option<String>,
    /// The differing items.
    pub distinguishing: Vec<Distinction>,
}

/// The answer: candidates best first, and the evidence that could not be used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking {
    /// Candidates with at least one supporting item, best first.
    pub candidates: Vec<Candidate>,
    /// Evidence the corpus did not understand, with reasons.
    pub unrecognised: Vec<Unrecognised>,
    /// Evidence understood, and as what.
    pub recognised: Vec<Recognised>,
    /// How many actor clusters were considered.
    pub considered: usize,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Inverse document frequency of a feature against a profile set.
pub(crate) fn idf(set: &ProfileSet, f: Feature) -> f64 {
    let df = set.df.get(&f).copied().unwrap_or(0.0).max(0.0);
    ((set.n + 1.0) / (df + 0.5)).ln().max(0.0)
}

pub(crate) fn profile_size(p: &Profile) -> f64 {
    p.iter()
        .filter(|(f, _)| !matches!(f, Feature::Ind(_)))
        .map(|(_, (w, _))| w)
        .sum()
}

impl Corpus {
    /// Ranks every actor cluster against the evidence and explains the
    /// `top` best (all when `top` is 0).
    pub fn attribute(&self, evidence: &Evidence, top: usize) -> Ranking {
        let resolved = self.resolve(evidence);
        // Score everyone cheaply, then explain only what will be shown.
        let scored = self.score_resolved(&self.set, &resolved, &|_| false);
        let mut order: Vec<(usize, f64)> = scored
            .iter()
            .enumerate()
            .filter(|(_, (_, has_for, _))| *has_for)
            .map(|(g, (s, _, _))| (g, *s))
            .collect();
        order.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| self.groups[a.0].name.cmp(&self.groups[b.0].name))
        });
        let s1 = order.first().map_or(0.0, |x| x.1);
        let s2 = order.get(1).map_or(0.0, |x| x.1.max(0.0));
        let lead = if s1 > 0.0 { (s1 - s2) / s1 } else { 0.0 };
        let keep = if top == 0 {
            order.len()
        } else {
            top.max(2).min(order.len())
        };
        let shown: std::collections::HashSet<usize> =
            order.iter().take(keep).map(|x| x.0).collect();
        let explained = self.score_resolved(&self.set, &resolved, &|g| shown.contains(&g));
        let mut contributions: HashMap<usize, Vec<Contribution>> = HashMap::new();
        for (g, (_, _, mut c)) in explained.into_iter().enumerate() {
            if shown.contains(&g) {
                c.sort_by(|a, b| {
                    b.weight
                        .abs()
                        .total_cmp(&a.weight.abs())
                        .then_with(|| a.kind.cmp(&b.kind))
                        .then_with(|| a.value.cmp(&b.value))
                        .then_with(|| a.detail.cmp(&b.detail))
                });
                contributions.insert(g, c);
            }
        }
        let empty: Vec<Contribution> = Vec::new();
        let keep = if top == 0 { keep } else { top.min(order.len()) };
        let mut candidates: Vec<Candidate> = Vec::with_capacity(keep);
        for (i, &(g, score)) in order.iter().take(keep).enumerate() {
            let contribs = contributions.get(&g).cloned().unwrap_or_default();
            let grp = &self.groups[g];
            let other = if i == 0 { order.get(1) } else { order.first() };
            let (distinguishing_against, distinguishing) = match other {
                Some((og, _)) => (
                    Some(self.groups[*og].name.clone()),
                    distinctions(&contribs, contributions.get(og).unwrap_or(&empty)),
                ),
                None => (None, Vec::new()),
            };
            candidates.push(Candidate {
                rank: i + 1,
                actor: grp.name.clone(),
                aliases: grp.aliases.clone(),
                attack_id: grp.attack_id.clone(),
                attached: grp.members.clone(),
                score: round3(score),
                confidence: if i == 0 {
                    Confidence::from_lead(lead, s1)
                } else {
                    Confidence::Low
                },
                evidence: contribs,
                distinguishing_against,
                distinguishing,
            });
        }
        Ranking {
            candidates,
            unrecognised: resolved.unrecognised,
            recognised: resolved.recognised,
            considered: self.groups.len(),
        }
    }

    /// Scores every group; contributions are built only when `explain`.
    pub(crate) fn score_resolved(
        &self,
        set: &ProfileSet,
        r: &Resolved,
        explain_group: &dyn Fn(usize) -> bool,
    ) -> Vec<(f64, bool, Vec<Contribution>)> {
        let w = &self.weights;
        // Per-feature rarity is shared by every group.
        let mut feats: Vec<(Feature, f64, Origin, f64)> = r
            .features
            .iter()
            .map(|(f, (ew, o))| (*f, *ew, *o, idf(set, *f)))
            .collect();
        // One order (the features are a HashMap): sums and contributions
        // come out the same on every run.
        feats.sort_unstable_by_key(|x| x.0);
        let alert_idf: Vec<f64> = r
            .alert_links
            .iter()
            .map(|(_, gs)| ((set.n + 1.0) / (gs.len() as f64 + 0.5)).ln().max(0.0))
            .collect();
        let mut out = Vec::with_capacity(set.profiles.len());
        for (g, profile) in set.profiles.iter().enumerate() {
            let explain = explain_group(g);
            let mut has_for = false;
            let size = profile_size(profile);
            let norm = ((set.size_ref + w.size_smoothing) / (size + w.size_smoothing)).sqrt();
            let mut score = 0.0;
            let mut contribs: Vec<Contribution> = Vec::new();
            let mut soft_agg: HashMap<u32, (f64, usize)> = HashMap::new();
            for &(f, ew, origin, rarity) in &feats {
                let is_ind = matches!(f, Feature::Ind(_));
                match profile.get(&f) {
                    Some(&(pw, via)) => {
                        let c = ew * pw * rarity * if is_ind { w.indicator } else { norm };
                        if c <= 0.0 {
                            continue;
                        }
                        score += c;
                        has_for = true;
                        if !explain {
                            continue;
                        }
                        if let Origin::SoftwareTechnique(s) = origin {
                            let e = soft_agg.entry(s).or_default();
                            e.0 += c;
                            e.1 += 1;
                            continue;
                        }
                        contribs.push(self.explain_for(f, origin, via, c, rarity, set));
                    }
                    None => {
                        // Observed directly, rare, and the candidate is not known to use it.
                        if is_ind || ew < 1.0 || w.against <= 0.0 {
                            continue;
                        }
                        let c = -w.against * rarity * norm;
                        score += c;
                        if explain {
                            contribs.push(Contribution {
                                kind: kind_of(f, origin).into(),
                                value: self.label(f),
                                weight: round3(c),
                                for_or_against: Direction::Against,
                                lines: Vec::new(),
                                detail: format!(
                                    "observed, but not known to be used by this actor (rarity {rarity:.2})"
                                ),
                            });
                        }
                    }
                }
            }
            for (s, (c, n)) in soft_agg {
                contribs.push(Contribution {
                    kind: "software-techniques".into(),
                    value: self.label(Feature::Soft(s)),
                    weight: round3(c),
                    for_or_against: Direction::For,
                    lines: Vec::new(),
                    detail: format!(
                        "{n} technique(s) this software is known to use are in the actor's profile"
                    ),
                });
            }
            for ((value, gs), aidf) in r.alert_links.iter().zip(&alert_idf) {
                if gs.contains(&(g as u32)) {
                    let c = aidf * w.indicator;
                    score += c;
                    has_for = true;
                    if explain {
                        contribs.push(Contribution {
                            kind: "infrastructure".into(),
                            value: value.clone(),
                            weight: round3(c),
                            for_or_against: Direction::For,
                            lines: Vec::new(),
                            detail: format!(
                                "hunt alert links this indicator to the actor ({} actor(s) share it)",
                                gs.len()
                            ),
                        });
                    }
                }
            }
            has_for |= self.victimology(g, r, explain, &mut score, &mut contribs);
            self.time(g, r, explain, &mut score, &mut contribs);
            out.push((score, has_for, contribs));
        }
        out
    }

    fn explain_for(
        &self,
        f: Feature,
        origin: Origin,
        via: Via,
        c: f64,
        rarity: f64,
        set: &ProfileSet,
    ) -> Contribution {
        let df = set.df.get(&f).copied().unwrap_or(0.0);
        let link = match via {
            Via::Direct => "the actor is stated to use it".to_string(),
            Via::Parent(t) => format!(
                "the actor uses its sub-technique {}",
                self.techniques[t as usize].attack_id
            ),
            Via::Software(s) => format!(
                "the actor's software {} uses it",
                self.software[s as usize].name
            ),
        };
        let how = match origin {
            Origin::ParentOf(t) => format!(
                "parent of observed {}; ",
                self.techniques[t as usize].attack_id
            ),
            Origin::IndicatorOf(i) => {
                format!("indicated by observed {}; ", self.indicators[i as usize])
            }
            _ => String::new(),
        };
        Contribution {
            kind: kind_of(f, origin).into(),
            value: self.label(f),
            weight: round3(c),
            for_or_against: Direction::For,
            lines: Vec::new(),
            detail: format!(
                "{how}{link}; rarity {rarity:.2} (weighted use by {df:.1} of {} actors)",
                set.n
            ),
        }
    }

    fn victimology(
        &self,
        g: usize,
        r: &Resolved,
        explain: bool,
        score: &mut f64,
        contribs: &mut Vec<Contribution>,
    ) -> bool {
        let mut any_for = false;
        let w = self.weights.victimology;
        let grp = &self.groups[g];
        let lists: [VictimList<'_>; 2] = [
            VictimList {
                kind: "country",
                known: &grp.countries,
                observed: r
                    .countries
                    .iter()
                    .map(|c| (c.clone(), format!("{c} {}", country_name(c))))
                    .collect(),
                df: &self.country_df,
                n: self.groups_with_countries,
            },
            VictimList {
                kind: "sector",
                known: &grp.sectors,
                observed: r.sectors.clone(),
                df: &self.sector_df,
                n: self.groups_with_sectors,
            },
        ];
        for VictimList {
            kind,
            known,
            observed,
            df,
            n,
        } in lists
        {
            if known.is_empty() {
                continue;
            }
            for (key, label) in observed {
                let matched = if kind == "sector" {
                    known
                        .iter()
                        .find(|k| crate::evidence::sector_match(k, &key))
                } else {
                    known.get(&key)
                };
                let (c, dir, detail) = if let Some(m) = matched {
                    let d = df.get(m).copied().unwrap_or(0.0);
                    let rarity = ((n + 1.0) / (d + 0.5)).ln().max(0.0);
                    (
                        w * rarity,
                        Direction::For,
                        format!(
                            "a known victim {kind} ({d:.0} of {n:.0} actors with victim data target it)"
                        ),
                    )
                } else {
                    (
                        -w * 0.5,
                        Direction::Against,
                        format!(
                            "not among the actor's {} known victim {kind}(s)",
                            known.len()
                        ),
                    )
                };
                if c == 0.0 {
                    continue;
                }
                any_for |= c > 0.0;
                *score += c;
                if explain {
                    contribs.push(Contribution {
                        kind: kind.into(),
                        value: label,
                        weight: round3(c),
                        for_or_against: dir,
                        lines: Vec::new(),
                        detail,
                    });
                }
            }
        }
        any_for
    }

    fn time(
        &self,
        g: usize,
        r: &Resolved,
        explain: bool,
        score: &mut f64,
        contribs: &mut Vec<Contribution>,
    ) {
        let Some(when) = r.when else { return };
        let grp = &self.groups[g];
        let w = &self.weights;
        let (gap, what) = match (grp.first_seen, grp.last_seen) {
            (_, Some(last)) if when > last + w.time_grace => (when - last, "last seen"),
            (Some(first), _) if when < first - w.time_grace => (first - when, "first seen"),
            _ => return,
        };
        let c = -w.time_decay * (1.0 + (gap - w.time_grace)).ln();
        if c >= 0.0 {
            return;
        }
        *score += c;
        if explain {
            let year = if what == "last seen" {
                grp.last_seen
            } else {
                grp.first_seen
            };
            contribs.push(Contribution {
                kind: "time".into(),
                value: format!("{what} {:.0}", year.unwrap_or_default().floor()),
                weight: round3(c),
                for_or_against: Direction::Against,
                lines: Vec::new(),
                detail: format!(
                    "the incident is {gap:.1} years away from the actor's known activity"
                ),
            });
        }
    }
}

/// One victimology dimension for one candidate.
struct VictimList<'a> {
    kind: &'static str,
    known: &'a std::collections::BTreeSet<String>,
    observed: Vec<(String, String)>,
    df: &'a HashMap<String, f64>,
    n: f64,
}

fn kind_of(f: Feature, origin: Origin) -> &'static str {
    match (f, origin) {
        (Feature::Tech(_), Origin::ParentOf(_)) => "parent-technique",
        (Feature::Tech(_), Origin::SoftwareTechnique(_)) => "software-techniques",
        (Feature::Tech(_), _) => "technique",
        (Feature::Soft(_), _) => "software",
        (Feature::Ind(_), _) => "indicator",
    }
}

fn distinctions(this: &[Contribution], other: &[Contribution]) -> Vec<Distinction> {
    let mut map: HashMap<(&str, &str), (f64, f64)> = HashMap::new();
    for c in this {
        map.entry((&c.kind, &c.value)).or_default().0 += c.weight;
    }
    for c in other {
        map.entry((&c.kind, &c.value)).or_default().1 += c.weight;
    }
    let mut v: Vec<Distinction> = map
        .into_iter()
        .filter(|(_, (a, b))| (a - b).abs() >= 0.001)
        .map(|((k, val), (a, b))| Distinction {
            kind: k.to_string(),
            value: val.to_string(),
            this: round3(a),
            other: round3(b),
        })
        .collect();
    v.sort_by(|a, b| {
        (b.this - b.other)
            .abs()
            .total_cmp(&(a.this - a.other).abs())
            .then_with(|| a.value.cmp(&b.value))
    });
    v.truncate(6);
    v
}
