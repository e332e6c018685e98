//! Built-in evaluation: held-out ATT&CK campaigns and leave-out rounds,
//! for the model and two plain baselines side by side.

use crate::corpus::{Corpus, Feature, ProfileSet, Support};
use crate::evidence::{Origin, Resolved};
use crate::model::Confidence;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};

/// How to run the evaluation.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Leave-out rounds (each hides a different random half of every group).
    pub rounds: usize,
    /// Base seed of the leave-out rounds.
    pub seed: u64,
    /// Groups need at least this many techniques to enter leave-out.
    pub min_techniques: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            rounds: 5,
            seed: 0x0ca1_2026,
            min_techniques: 10,
        }
    }
}

/// Top-k accuracy and mean reciprocal rank of one method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodScore {
    /// `cairn`, `jaccard` or `cosine`.
    pub method: String,
    /// Share of cases with the true group first.
    pub top1: f64,
    /// Share of cases with the true group in the first three.
    pub top3: f64,
    /// Share of cases with the true group in the first five.
    pub top5: f64,
    /// Mean reciprocal rank of the true group.
    pub mrr: f64,
}

/// One protocol's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtocolReport {
    /// `campaigns` or `leave-out`.
    pub protocol: String,
    /// Number of held-out incidents.
    pub cases: usize,
    /// One row per method.
    pub methods: Vec<MethodScore>,
}

/// Observed top-1 precision of a confidence band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandReport {
    /// Protocol the cases come from.
    pub protocol: String,
    /// The band.
    pub band: Confidence,
    /// Cases whose top candidate got this band.
    pub cases: usize,
    /// Share of those where the top candidate was the true group.
    pub top1_precision: f64,
}

/// One held-out campaign and where each method ranked its true group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignCase {
    /// Campaign name and ATT&CK id.
    pub campaign: String,
    /// The group it is attributed to.
    pub group: String,
    /// Evidence items (techniques + software) the campaign gives.
    pub evidence: usize,
    /// Rank of the true group under Cairn's model.
    pub cairn_rank: usize,
    /// Cairn's top candidate.
    pub cairn_top: String,
    /// Rank under Jaccard.
    pub jaccard_rank: usize,
    /// Rank under cosine.
    pub cosine_rank: usize,
}

/// Whether the campaign floors hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Floors {
    /// Jaccard's top-1 on campaigns.
    pub jaccard_top1: f64,
    /// Cairn's top-1 on campaigns; must be ≥ Jaccard's + 0.15.
    pub cairn_top1: f64,
    /// Cairn's top-5 on campaigns; must be ≥ 0.5.
    pub cairn_top5: f64,
    /// Both floors hold.
    pub passed: bool,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Candidate actor clusters.
    pub groups: usize,
    /// Per-protocol results.
    pub protocols: Vec<ProtocolReport>,
    /// Calibration of the confidence bands.
    pub bands: Vec<BandReport>,
    /// Campaign-by-campaign ranks.
    pub campaigns: Vec<CampaignCase>,
    /// The floors.
    pub floors: Floors,
}

#[derive(Default)]
struct Tally {
    n: usize,
    top1: usize,
    top3: usize,
    top5: usize,
    rr: f64,
}

impl Tally {
    fn add(&mut self, rank: usize) {
        self.n += 1;
        self.top1 += usize::from(rank == 1);
        self.top3 += usize::from(rank <= 3);
        self.top5 += usize::from(rank <= 5);
        self.rr += 1.0 / rank as f64;
    }
    fn score(&self, method: &str) -> MethodScore {
        let n = self.n.max(1) as f64;
        let r = |x: f64| (x * 1000.0).round() / 1000.0;
        MethodScore {
            method: method.into(),
            top1: r(self.top1 as f64 / n),
            top3: r(self.top3 as f64 / n),
            top5: r(self.top5 as f64 / n),
            mrr: r(self.rr / n),
        }
    }
}

#[derive(Default)]
struct Bands {
    counts: [(usize, usize); 3],
}

impl Bands {
    fn add(&mut self, band: Confidence, hit: bool) {
        let i = band as usize;
        self.counts[i].0 += 1;
        self.counts[i].1 += usize::from(hit);
    }
    fn report(&self, protocol: &str) -> Vec<BandReport> {
        [Confidence::High, Confidence::Moderate, Confidence::Low]
            .into_iter()
            .map(|b| {
                let (n, h) = self.counts[b as usize];
                BandReport {
                    protocol: protocol.into(),
                    band: b,
                    cases: n,
                    top1_precision: if n == 0 {
                        0.0
                    } else {
                        ((h as f64 / n as f64) * 1000.0).round() / 1000.0
                    },
                }
            })
            .collect()
    }
}

/// Rank of `truth` with ties counted against it.
fn rank_of(scores: &[f64], truth: usize) -> usize {
    let t = scores[truth];
    1 + scores
        .iter()
        .enumerate()
        .filter(|&(i, s)| i != truth && *s >= t)
        .count()
}

fn jaccard(a: &HashSet<Feature>, b: &HashSet<Feature>) -> f64 {
    let inter = a.iter().filter(|x| b.contains(x)).count() as f64;
    let union = a.len() as f64 + b.len() as f64 - inter;
    if union == 0.0 { 0.0 } else { inter / union }
}

fn cosine(a: &HashSet<Feature>, b: &HashSet<Feature>) -> f64 {
    let inter = a.iter().filter(|x| b.contains(x)).count() as f64;
    let d = (a.len() as f64 * b.len() as f64).sqrt();
    if d == 0.0 { 0.0 } else { inter / d }
}

/// splitmix64: a small, fixed, portable generator for reproducible rounds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

impl Corpus {
    fn direct_set(&self, g: usize, keep: &dyn Fn(Feature, &Support) -> bool) -> HashSet<Feature> {
        self.groups[g]
            .items
            .iter()
            .filter(|(f, s)| !matches!(f, Feature::Ind(_)) && s.iter().any(|x| keep(**f, x)))
            .map(|(f, _)| *f)
            .collect()
    }

    fn resolved_from(&self, items: &BTreeSet<Feature>) -> Resolved {
        let mut r = Resolved::default();
        for &f in items {
            match f {
                Feature::Tech(t) => {
                    r.put(f, 1.0, Origin::Given);
                    if let Some(p) = self.techniques[t as usize].parent {
                        r.put(Feature::Tech(p), self.weights.parent, Origin::ParentOf(t));
                    }
                }
                Feature::Soft(s) => self.put_software(&mut r, s, Origin::Given),
                Feature::Ind(_) => r.put(f, 1.0, Origin::Given),
            }
        }
        r
    }

    /// Scores one held-out case for the three methods; returns the ranks
    /// and the model's (top group, band).
    fn run_case(
        &self,
        set: &mut ProfileSet,
        direct: &mut [HashSet<Feature>],
        g: usize,
        evidence: &BTreeSet<Feature>,
        keep: &dyn Fn(Feature, &Support) -> bool,
    ) -> ([usize; 3], usize, Confidence) {
        let new_profile = self.profile_of(g as u32, keep);
        let old_profile = set.profiles[g].clone();
        set.replace(g, new_profile);
        let old_direct = std::mem::replace(&mut direct[g], self.direct_set(g, keep));

        let resolved = self.resolved_from(evidence);
        let model: Vec<f64> = self
            .score_resolved(set, &resolved, &|_| false)
            .into_iter()
            .map(|(s, _, _)| s)
            .collect();
        let ev_set: HashSet<Feature> = evidence.iter().copied().collect();
        let jac: Vec<f64> = direct.iter().map(|d| jaccard(&ev_set, d)).collect();
        let cos: Vec<f64> = direct.iter().map(|d| cosine(&ev_set, d)).collect();

        let mut order: Vec<usize> = (0..model.len()).collect();
        order.sort_by(|&a, &b| model[b].total_cmp(&model[a]));
        let top = order.first().copied().unwrap_or(0);
        let s1 = model.get(top).copied().unwrap_or(0.0);
        let s2 = order.get(1).map_or(0.0, |&i| model[i].max(0.0));
        let lead = if s1 > 0.0 { (s1 - s2) / s1 } else { 0.0 };
        let ranks = [rank_of(&model, g), rank_of(&jac, g), rank_of(&cos, g)];

        set.replace(g, old_profile);
        direct[g] = old_direct;
        (ranks, top, Confidence::from_lead(lead, s1))
    }

    /// Runs both protocols. Needs a corpus built from ATT&CK (campaigns
    /// with `attributed-to` relations, groups with techniques).
    pub fn evaluate(&self, opts: &EvalOptions) -> EvalReport {
        let mut set = self.set.clone();
        let mut direct: Vec<HashSet<Feature>> = (0..self.groups.len())
            .map(|g| self.direct_set(g, &|_, _| true))
            .collect();
        let methods = ["cairn", "jaccard", "cosine"];
        let mut protocols = Vec::new();
        let mut bands_out = Vec::new();

        // Campaigns.
        let mut tallies: [Tally; 3] = Default::default();
        let mut bands = Bands::default();
        let mut cases = Vec::new();
        for (ci, camp) in self.campaigns.iter().enumerate() {
            let Some(g) = camp.group else { continue };
            let evidence: BTreeSet<Feature> = camp
                .items
                .iter()
                .copied()
                .filter(|f| !matches!(f, Feature::Ind(_)))
                .collect();
            if evidence.is_empty() {
                continue;
            }
            let ci = ci as u32;
            let keep = |f: Feature, s: &Support| {
                if s.campaign == Some(ci) {
                    return false;
                }
                // A statement of the group's own that only cites the
                // campaign's sources came from the campaign: drop it too.
                !(s.campaign.is_none()
                    && camp.items.contains(&f)
                    && s.citations.iter().all(|c| camp.citations.contains(c)))
            };
            let (ranks, top, band) =
                self.run_case(&mut set, &mut direct, g as usize, &evidence, &keep);
            for (t, r) in tallies.iter_mut().zip(ranks) {
                t.add(r);
            }
            bands.add(band, ranks[0] == 1);
            cases.push(CampaignCase {
                campaign: match &camp.attack_id {
                    Some(id) => format!("{} ({id})", camp.name),
                    None => camp.name.clone(),
                },
                group: self.groups[g as usize].name.clone(),
                evidence: evidence.len(),
                cairn_rank: ranks[0],
                cairn_top: self.groups[top].name.clone(),
                jaccard_rank: ranks[1],
                cosine_rank: ranks[2],
            });
        }
        let camp_scores: Vec<MethodScore> = tallies
            .iter()
            .zip(methods)
            .map(|(t, m)| t.score(m))
            .collect();
        let floors = Floors {
            jaccard_top1: camp_scores[1].top1,
            cairn_top1: camp_scores[0].top1,
            cairn_top5: camp_scores[0].top5,
            passed: !cases.is_empty()
                && camp_scores[0].top1 >= camp_scores[1].top1 + 0.15 - 1e-9
                && camp_scores[0].top5 >= 0.5,
        };
        protocols.push(ProtocolReport {
            protocol: "campaigns".into(),
            cases: tallies[0].n,
            methods: camp_scores,
        });
        bands_out.extend(bands.report("campaigns"));

        // Leave-out.
        let mut tallies: [Tally; 3] = Default::default();
        let mut bands = Bands::default();
        for round in 0..opts.rounds {
            for g in 0..self.groups.len() {
                let mut techs: Vec<Feature> = direct[g]
                    .iter()
                    .copied()
                    .filter(|f| matches!(f, Feature::Tech(_)))
                    .collect();
                if techs.len() < opts.min_techniques {
                    continue;
                }
                let mut softs: Vec<Feature> = direct[g]
                    .iter()
                    .copied()
                    .filter(|f| matches!(f, Feature::Soft(_)))
                    .collect();
                techs.sort_unstable();
                softs.sort_unstable();
                let mut rng = Rng(opts
                    .seed
                    .wrapping_add((round as u64) << 32)
                    .wrapping_add(g as u64));
                rng.shuffle(&mut techs);
                rng.shuffle(&mut softs);
                let hidden: BTreeSet<Feature> = techs[..techs.len() / 2]
                    .iter()
                    .chain(softs[..softs.len() / 2].iter())
                    .copied()
                    .collect();
                let keep = |f: Feature, _: &Support| !hidden.contains(&f);
                let (ranks, _, band) = self.run_case(&mut set, &mut direct, g, &hidden, &keep);
                for (t, r) in tallies.iter_mut().zip(ranks) {
                    t.add(r);
                }
                bands.add(band, ranks[0] == 1);
            }
        }
        protocols.push(ProtocolReport {
            protocol: "leave-out".into(),
            cases: tallies[0].n,
            methods: tallies
                .iter()
                .zip(methods)
                .map(|(t, m)| t.score(m))
                .collect(),
        });
        bands_out.extend(bands.report("leave-out"));

        // Leave-out by report: hide the statements of a random half of the
        // group's cited sources; the incident is what those sources reported.
        let mut tallies: [Tally; 3] = Default::default();
        let mut bands = Bands::default();
        for round in 0..opts.rounds {
            for g in 0..self.groups.len() {
                let techs = direct[g]
                    .iter()
                    .filter(|f| matches!(f, Feature::Tech(_)))
                    .count();
                if techs < opts.min_techniques {
                    continue;
                }
                let mut sources: Vec<&str> = self.groups[g]
                    .items
                    .values()
                    .flatten()
                    .flat_map(|s| s.citations.iter().map(String::as_str))
                    .collect::<BTreeSet<&str>>()
                    .into_iter()
                    .collect();
                if sources.len() < 2 {
                    continue;
                }
                let mut rng = Rng(opts
                    .seed
                    .wrapping_add((round as u64) << 32)
                    .wrapping_add(g as u64)
                    .wrapping_mul(31));
                rng.shuffle(&mut sources);
                let hidden: HashSet<&str> = sources[..sources.len() / 2].iter().copied().collect();
                let evidence: BTreeSet<Feature> = self.groups[g]
                    .items
                    .iter()
                    .filter(|(f, sup)| {
                        !matches!(f, Feature::Ind(_))
                            && sup
                                .iter()
                                .any(|s| s.citations.iter().any(|c| hidden.contains(c.as_str())))
                    })
                    .map(|(f, _)| *f)
                    .collect();
                if evidence.is_empty() {
                    continue;
                }
                let keep = |_: Feature, s: &Support| {
                    s.citations.iter().any(|c| !hidden.contains(c.as_str()))
                };
                let (ranks, _, band) = self.run_case(&mut set, &mut direct, g, &evidence, &keep);
                for (t, r) in tallies.iter_mut().zip(ranks) {
                    t.add(r);
                }
                bands.add(band, ranks[0] == 1);
            }
        }
        protocols.push(ProtocolReport {
            protocol: "leave-out-reports".into(),
            cases: tallies[0].n,
            methods: tallies
                .iter()
                .zip(methods)
                .map(|(t, m)| t.score(m))
                .collect(),
        });
        bands_out.extend(bands.report("leave-out-reports"));

        EvalReport {
            groups: self.groups.iter().filter(|g| !g.items.is_empty()).count(),
            protocols,
            bands: bands_out,
            campaigns: cases,
            floors,
        }
    }
}
