//! Which rules an event can possibly match, from text every match needs.
//!
//! For each compiled rule we derive a set of literals at least one of which
//! is in the values of any event the rule matches (or learn that no such set
//! is known: the rule is then always evaluated). One Aho-Corasick automaton
//! over every rule's literals, run once over an event's values, marks the
//! rules worth evaluating. rsigma's own candidate index does the same job
//! per log-source group with a DFA per field; for SigmaHQ's Windows rules it
//! was ~125 MB, most of the detector's memory. A contiguous NFA over the
//! literals is a few MB, and one pass serves every group the event meets.
//!
//! Soundness rests on how rsigma matches (0.23): string matchers compare
//! a value's text (`to_lowercase` first when case-insensitive), numbers as
//! `i64`/`f64` text and booleans as `true`/`false`; keywords read every
//! string value. So every literal is the longest ASCII run of a matcher's
//! value, lower-cased, and the event side scans every leaf value's text,
//! Unicode-lower-cased when it is not ASCII (lower-casing keeps ASCII runs).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rsigma_eval::{CompiledDetection, CompiledMatcher, CompiledRule, matcher::GroupMode};
use rsigma_parser::{ConditionExpr, Quantifier};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// Literals one of which any matching event holds; `None`: nothing known.
pub(crate) type Need = Option<Vec<String>>;

/// Deeper condition or matcher trees are not analysed (always evaluated).
const MAX_DEPTH: usize = 64;
/// Event values nested deeper are not scanned; rsigma reads 64 levels.
const MAX_EVENT_DEPTH: usize = 128;

/// Literals each rule needs, and the automaton that finds them.
pub(crate) struct Prefilter {
    ac: Option<AhoCorasick>,
    /// Pattern `p`'s rules are `rule_ids[starts[p]..starts[p + 1]]`.
    starts: Vec<u32>,
    rule_ids: Vec<u32>,
    /// Rules with no known need: evaluated on every event of their group.
    always: Vec<u64>,
    words: usize,
}

/// The rules an event may match (a bit per rule).
pub(crate) struct Marks(Vec<u64>);

impl Marks {
    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

impl Prefilter {
    /// The automaton over the rules' needs (from [`need`]; indexes are
    /// positions in `needs`).
    pub(crate) fn build(needs: Vec<Need>) -> Prefilter {
        let words = needs.len().div_ceil(64);
        let mut always = vec![0u64; words];
        // Each literal once: its place in `order`, then its rules.
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut rules_of: Vec<Vec<u32>> = Vec::new();
        for (i, n) in needs.into_iter().enumerate() {
            match n {
                Some(lits) if !lits.is_empty() => {
                    for l in lits {
                        let next = rules_of.len() as u32;
                        let p = *index.entry(l).or_insert(next);
                        if p == next {
                            rules_of.push(Vec::new());
                        }
                        if let Some(ids) = rules_of.get_mut(p as usize)
                            && ids.last() != Some(&(i as u32))
                        {
                            ids.push(i as u32);
                        }
                    }
                }
                _ => always[i / 64] |= 1 << (i % 64),
            }
        }
        let mut order: Vec<(u32, String)> = index.into_iter().map(|(l, p)| (p, l)).collect();
        order.sort_unstable_by_key(|(p, _)| *p);
        let order: Vec<String> = order.into_iter().map(|(_, l)| l).collect();
        let mut starts = Vec::with_capacity(order.len() + 1);
        let mut rule_ids = Vec::new();
        for ids in rules_of {
            starts.push(rule_ids.len() as u32);
            rule_ids.extend_from_slice(&ids);
        }
        starts.push(rule_ids.len() as u32);
        let ac = if order.is_empty() {
            None
        } else {
            // A build failure (it needs more than u32 states) only costs
            // speed: every rule is then evaluated.
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .match_kind(MatchKind::Standard)
                // Dense shallow states cost 1 kB each and did not speed
                // the scan: sparse everywhere is 2.3 MB, not 2.6, built
                // through a 9 MB peak, not 13.
                .dense_depth(0)
                .build(&order)
                .ok()
        };
        if ac.is_none() {
            always.iter_mut().for_each(|w| *w = !0);
        }
        Prefilter {
            ac,
            starts,
            rule_ids,
            always,
            words,
        }
    }

    /// Rules evaluated on every event: no literal was found that all
    /// their matches need.
    pub(crate) fn unfiltered(&self) -> usize {
        self.always.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Marks the rules whose literals are in the event's values.
    pub(crate) fn scan(&self, event: &Value) -> Marks {
        let mut marks = Marks(self.always.clone());
        if let Some(ac) = &self.ac {
            let mut text = String::new();
            self.walk(ac, event, &mut marks, &mut text, 0);
        }
        debug_assert_eq!(marks.0.len(), self.words);
        marks
    }

    fn walk(
        &self,
        ac: &AhoCorasick,
        v: &Value,
        marks: &mut Marks,
        text: &mut String,
        depth: usize,
    ) {
        if depth > MAX_EVENT_DEPTH {
            return;
        }
        match v {
            // Literals are lower case; a case-insensitive automaton would be
            // twice the size.
            Value::String(s) if s.is_ascii() => {
                text.clear();
                text.push_str(s);
                text.make_ascii_lowercase();
                self.find(ac, text, marks);
            }
            Value::String(s) => self.find(ac, &s.to_lowercase(), marks),
            Value::Number(n) => {
                text.clear();
                // As rsigma turns a number into text for string matchers.
                let _ = match n.as_i64() {
                    Some(i) => write!(text, "{i}"),
                    None => write!(text, "{}", n.as_f64().unwrap_or(f64::NAN)),
                };
                self.find(ac, text, marks);
            }
            Value::Bool(b) => self.find(ac, if *b { "true" } else { "false" }, marks),
            Value::Null => {}
            Value::Array(items) => {
                for x in items {
                    self.walk(ac, x, marks, text, depth + 1);
                }
            }
            Value::Object(map) => {
                for x in map.values() {
                    self.walk(ac, x, marks, text, depth + 1);
                }
            }
        }
    }

    fn find(&self, ac: &AhoCorasick, hay: &str, marks: &mut Marks) {
        for m in ac.find_overlapping_iter(hay) {
            let p = m.pattern().as_usize();
            let (Some(&a), Some(&b)) = (self.starts.get(p), self.starts.get(p + 1)) else {
                continue;
            };
            for &r in self.rule_ids.get(a as usize..b as usize).unwrap_or(&[]) {
                marks.set(r as usize);
            }
        }
    }

    /// Whether rule `i` is worth evaluating for the scanned event.
    pub(crate) fn maybe(marks: &Marks, i: usize) -> bool {
        marks.get(i)
    }
}

/// What every match of the rule needs. A rule matches when any of its
/// conditions does.
pub(crate) fn need(rule: &CompiledRule) -> Need {
    if rule.conditions.is_empty() {
        return None;
    }
    union(
        rule.conditions
            .iter()
            .map(|c| cond_need(c, &rule.detections, 0)),
    )
}

fn cond_need(
    expr: &ConditionExpr,
    dets: &HashMap<String, CompiledDetection>,
    depth: usize,
) -> Need {
    if depth > MAX_DEPTH {
        return None;
    }
    match expr {
        ConditionExpr::Identifier(name) => det_need(dets.get(name)?, depth + 1),
        ConditionExpr::And(xs) => best(xs.iter().map(|x| cond_need(x, dets, depth + 1))),
        ConditionExpr::Or(xs) => union(xs.iter().map(|x| cond_need(x, dets, depth + 1))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            // The same detections rsigma's evaluator picks for the pattern.
            let picked = dets
                .iter()
                .filter(|(name, _)| pattern.matches_detection_name(name))
                .map(|(_, d)| det_need(d, depth + 1));
            match quantifier {
                Quantifier::Any => union(picked),
                Quantifier::Count(n) if *n >= 1 => union(picked),
                Quantifier::Count(_) => None,
                Quantifier::All => best(picked),
            }
        }
    }
}

fn det_need(d: &CompiledDetection, depth: usize) -> Need {
    if depth > MAX_DEPTH {
        return None;
    }
    match d {
        CompiledDetection::AllOf(items) => best(items.iter().map(|item| {
            if item.exists.is_some() {
                None
            } else {
                matcher_need(&item.matcher, depth + 1)
            }
        })),
        CompiledDetection::AnyOf(ds) => union(ds.iter().map(|x| det_need(x, depth + 1))),
        CompiledDetection::And(ds) => best(ds.iter().map(|x| det_need(x, depth + 1))),
        CompiledDetection::Keywords(m) => matcher_need(m, depth + 1),
        CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => None,
    }
}

fn matcher_need(m: &CompiledMatcher, depth: usize) -> Need {
    if depth > MAX_DEPTH {
        return None;
    }
    match m {
        CompiledMatcher::Exact { value, .. }
        | CompiledMatcher::Contains { value, .. }
        | CompiledMatcher::StartsWith { value, .. }
        | CompiledMatcher::EndsWith { value, .. } => literal(value).map(|l| vec![l]),
        CompiledMatcher::AhoCorasickSet { needles, .. } => {
            union(needles.iter().map(|n| literal(n).map(|l| vec![l])))
        }
        CompiledMatcher::AnyOf(ms) => union(ms.iter().map(|x| matcher_need(x, depth + 1))),
        CompiledMatcher::AllOf(ms) => best(ms.iter().map(|x| matcher_need(x, depth + 1))),
        CompiledMatcher::CaseInsensitiveGroup { children, mode } => {
            let each = children.iter().map(|x| matcher_need(x, depth + 1));
            match mode {
                GroupMode::Any => union(each),
                GroupMode::All => best(each),
            }
        }
        CompiledMatcher::Regex(re) => regex_need(re.as_str()),
        CompiledMatcher::RegexSetMatch { set, mode } => {
            let each = set.patterns().iter().map(|p| regex_need(p));
            match mode {
                GroupMode::Any => union(each),
                GroupMode::All => best(each),
            }
        }
        // Negations, numbers, CIDRs, field references, existence, templates
        // and time parts: no literal is certain.
        _ => None,
    }
}

/// Literals one of which starts every match of the regex (regex-syntax's
/// prefix extraction). An infinite or empty-literal sequence gives nothing
/// certain.
///
/// rsigma writes a case-insensitive regex as `(?i)` + pattern. Extracting
/// from it as it is yields every case variant, so many that the extractor
/// cuts them to a few bytes; the pattern is read case-sensitively instead
/// (the haystack is lower-cased anyway). Under `(?i)` an `s` also matches
/// `ſ` and a `k` the Kelvin sign, which lower-case to themselves and to
/// `k`: literals are then cut at those letters as at non-ASCII ones.
fn regex_need(pattern: &str) -> Need {
    let (folded, body) = match pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.split_once(')'))
    {
        Some((flags, rest))
            if !flags.is_empty() && flags.chars().all(|c| matches!(c, 'i' | 'm' | 's')) =>
        {
            let kept: String = flags.chars().filter(|&c| c != 'i').collect();
            let body = if kept.is_empty() {
                rest.to_string()
            } else {
                format!("(?{kept}){rest}")
            };
            (flags.contains('i'), body)
        }
        _ => (false, pattern.to_string()),
    };
    // Case flags further in: read the pattern as written, every variant.
    let (folded, body) = if inline_case_flag(&body) {
        (false, pattern.to_string())
    } else {
        (folded, body)
    };
    let hir = regex_syntax::Parser::new().parse(&body).ok()?;
    let seq = regex_syntax::hir::literal::Extractor::new().extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() {
        return None;
    }
    union(lits.iter().map(|l| {
        // A prefix cut short may end inside a character; its ASCII runs
        // are still in every match.
        let text = String::from_utf8_lossy(l.as_bytes());
        let run = if folded {
            longest_run(&text, |c| {
                !c.is_ascii() || matches!(c, 's' | 'S' | 'k' | 'K')
            })
        } else {
            longest_run(&text, |c| !c.is_ascii())
        };
        literal(run).map(|x| vec![x])
    }))
}

/// Whether a `(?flags)` or `(?flags:` group sets or clears `i`.
fn inline_case_flag(pattern: &str) -> bool {
    pattern.match_indices("(?").any(|(at, _)| {
        pattern[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .any(|c| c == 'i')
    })
}

fn longest_run(text: &str, cut: impl Fn(char) -> bool) -> &str {
    text.split(cut).max_by_key(|s| s.len()).unwrap_or("")
}

/// Longest literal kept. Any part of a required literal is required too;
/// 16 bytes is selective enough and keeps the automaton (and its build)
/// small: whole values made it 5 MB, built through a 20 MB peak.
const MAX_LITERAL: usize = 16;

/// The tail of the longest ASCII run of a matcher's value, lower-cased:
/// the end of a path or name is its most telling part.
fn literal(value: &str) -> Option<String> {
    let run = longest_run(value, |c| !c.is_ascii());
    let tail = &run[run.len().saturating_sub(MAX_LITERAL)..];
    (!tail.is_empty()).then(|| tail.to_ascii_lowercase())
}

/// Any of the parts may match: every part must be known, and the need is
/// all their literals. No parts (a selector naming nothing): unknown.
fn union(parts: impl Iterator<Item = Need>) -> Need {
    let mut out = Vec::new();
    let mut any = false;
    for p in parts {
        out.extend(p?);
        any = true;
    }
    any.then_some(out)
}

/// All parts must match: the most selective known part will do. Selective
/// means its shortest literal is long (short ones are found everywhere),
/// then fewer literals.
fn best(parts: impl Iterator<Item = Need>) -> Need {
    parts.flatten().filter(|p| !p.is_empty()).max_by_key(|p| {
        let shortest = p.iter().map(String::len).min().unwrap_or(0).min(24);
        (shortest, usize::MAX - p.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(yaml: &str) -> CompiledRule {
        let coll = rsigma_parser::parse_sigma_yaml(yaml).expect("parse");
        rsigma_eval::compile_rule(&coll.rules[0]).expect("compile")
    }

    fn rule(detection: &str) -> CompiledRule {
        compile(&format!(
            "title: t\nlogsource: {{product: windows}}\ndetection:\n{detection}"
        ))
    }

    fn need_of(detection: &str) -> Option<Vec<String>> {
        super::need(&rule(detection)).map(|mut v| {
            v.sort();
            v
        })
    }

    #[test]
    fn a_conjunction_needs_its_most_selective_part() {
        let n = need_of(
            "  sel:\n    Image|endswith: '\\rundll32.exe'\n    CommandLine|contains: ['.dll,#1', 'javascript:']\n  condition: sel\n",
        );
        assert_eq!(n, Some(vec!["\\rundll32.exe".to_string()]));
    }

    #[test]
    fn a_disjunction_needs_every_part_known() {
        assert_eq!(
            need_of(
                "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    Image|endswith: '\\b.exe'\n  condition: a or b\n"
            ),
            Some(vec!["\\a.exe".to_string(), "\\b.exe".to_string()])
        );
        assert_eq!(
            need_of(
                "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|re: '\\w+y'\n  condition: a or b\n"
            ),
            None
        );
        assert_eq!(
            need_of("  a:\n    Image|endswith: '\\a.exe'\n  condition: not a\n"),
            None
        );
    }

    #[test]
    fn selectors_pick_the_same_detections_as_the_evaluator() {
        let n = need_of(
            "  selection_a:\n    Image|endswith: '\\aa.exe'\n  selection_b:\n    Image|endswith: '\\bbbb.exe'\n  filter:\n    User: SYSTEM\n  condition: 1 of selection_* and not filter\n",
        );
        assert_eq!(
            n,
            Some(vec!["\\aa.exe".to_string(), "\\bbbb.exe".to_string()])
        );
        let all = need_of(
            "  selection_a:\n    Image|endswith: '\\aa.exe'\n  selection_b:\n    Image|endswith: '\\bbbb.exe'\n  condition: all of selection_*\n",
        );
        assert_eq!(all, Some(vec!["\\bbbb.exe".to_string()]));
    }

    #[test]
    fn non_ascii_values_keep_their_longest_ascii_run() {
        assert_eq!(literal("–encodedcommand"), Some("encodedcommand".into()));
        assert_eq!(literal("ÄÖ"), None);
        assert_eq!(literal("CMD.exe"), Some("cmd.exe".into()));
        assert_eq!(
            literal("C:\\Windows\\System32\\rundll32.exe"),
            Some("m32\\rundll32.exe".into())
        );
    }

    #[test]
    fn regexes_need_the_literals_their_matches_start_with() {
        assert_eq!(
            need_of(
                "  sel:\n    CommandLine|re: '(?i)\\\\(certutil|bitsadmin)\\.exe .*-urlcache'\n  condition: sel\n"
            ),
            Some(vec![
                "\\certutil.exe ".to_string(),
                "admin.exe ".to_string()
            ])
        );
        // A match may start anywhere: nothing certain.
        assert_eq!(
            need_of("  sel:\n    CommandLine|re: '[a-z]+\\.exe'\n  condition: sel\n"),
            None
        );
    }

    /// The prefilter never hides a match: every rule that matches an event
    /// is marked for it (including numbers, booleans, nested values and
    /// non-ASCII text whose lower case differs).
    #[test]
    fn every_matching_rule_is_marked() {
        let rules = [
            rule("  sel:\n    CommandLine|contains: 'WhoAmI'\n  condition: sel\n"),
            rule("  sel:\n    EventID: 4688\n    Count: 12\n  condition: sel\n"),
            rule("  sel:\n    Enabled: 'true'\n  condition: sel\n"),
            rule("  keywords:\n    - 'mimikatz'\n  condition: keywords\n"),
            rule("  sel:\n    CommandLine|contains|windash: '-enc'\n  condition: sel\n"),
            rule("  sel:\n    Path|contains: 'İstanbul'\n  condition: sel\n"),
            // The Kelvin sign lower-cases to an ASCII `k`.
            rule("  sel:\n    Tool|contains: 'kit'\n  condition: sel\n"),
            rule("  sel:\n    Tool|re: '(?i)xsat'\n  condition: sel\n"),
            rule("  sel:\n    Tool|re: '(?i)kit[0-9]'\n  condition: sel\n"),
            rule("  sel:\n    Image|endswith: '\\nothere.exe'\n  condition: sel\n"),
        ];
        let pre = Prefilter::build(rules.iter().map(super::need).collect());
        let events = [
            json!({"CommandLine": "cmd /c WHOAMI /all", "EventID": 4688, "Count": 12, "Enabled": true}),
            json!({"a": {"b": ["x", "tool MIMIKATZ.exe"]}}),
            json!({"CommandLine": "powershell —enc AAAA"}),
            json!({"Path": "C:\\İSTANBUL\\x"}),
            json!({"Path": "C:\\İstanbul\\x"}),
            json!({"Tool": "\u{212A}IT"}),
            json!({"Tool": "x\u{212A}IT7"}),
            // The long s matches `s` under `(?i)` and lower-cases to itself.
            json!({"Tool": "X\u{17F}AT"}),
        ];
        let mut matched_somewhere = vec![false; rules.len()];
        for e in &events {
            let marks = pre.scan(e);
            let ev = rsigma_eval::JsonEvent::borrow(e);
            for (i, r) in rules.iter().enumerate() {
                if rsigma_eval::evaluate_rule(r, &ev).is_some() {
                    matched_somewhere[i] = true;
                    assert!(
                        Prefilter::maybe(&marks, i),
                        "rule {i} matches {e} but was not marked"
                    );
                }
            }
        }
        // Every rule but the last matched some event, so the check above
        // was exercised; the last is filtered out everywhere.
        assert_eq!(
            matched_somewhere,
            [true, true, true, true, true, true, true, true, true, false]
        );
        for e in &events {
            assert!(!Prefilter::maybe(&pre.scan(e), 9));
        }
    }
}
