//! A rule from its parsed form to what evaluation uses: pipelines applied,
//! filters applied through rsigma's own code, rsigma's Aho-Corasick sets
//! rebuilt small; and the deflated text a rule is kept as until then.

use rsigma_eval::{CompiledDetection, CompiledMatcher, CompiledRule, Engine, Pipeline};
use rsigma_parser::{FilterRule, FilterRuleTarget, SigmaRule};

/// A rule compiled with the pipelines applied, or why it does not compile.
pub(super) fn compile(rule: &SigmaRule, pipelines: &[Pipeline]) -> Result<CompiledRule, String> {
    if pipelines.is_empty() {
        return rsigma_eval::compile_rule(rule).map_err(|e| e.to_string());
    }
    // rsigma applies pipelines only on the way into an engine.
    let mut engine = Engine::new();
    for p in pipelines {
        engine.add_pipeline(p.clone());
    }
    engine.add_rule(rule).map_err(|e| e.to_string())?;
    engine
        .rules()
        .first()
        .cloned()
        .ok_or_else(|| "the rule did not compile".to_string())
}

pub(super) fn deflate(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(text.as_bytes());
    z.finish().unwrap_or_default()
}

pub(super) fn inflate(bytes: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(bytes)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// Whether rsigma's `apply_filter` would touch this rule (it compares the
/// filter's references with the rule's id and title).
pub(super) fn targets(filter: &FilterRule, rule: &CompiledRule) -> bool {
    match &filter.rules {
        FilterRuleTarget::Any => true,
        FilterRuleTarget::Specific(refs) => refs
            .iter()
            .any(|r| rule.id.as_deref() == Some(r.as_str()) || rule.title == *r),
    }
}

/// The rule with the filters that name it applied, through rsigma's own
/// filter code on a one-rule engine.
pub(super) fn filtered(rule: &CompiledRule, filters: &[FilterRule]) -> Option<CompiledRule> {
    let mut engine = Engine::new();
    engine.add_compiled_rule(rule.clone());
    for f in filters {
        // A filter whose log source does not cover the rule leaves it be.
        let _ = engine.apply_filter(f);
    }
    engine.rules().first().cloned()
}

/// Drops what a loaded rule does not need to match, and rebuilds rsigma's
/// Aho-Corasick sets as contiguous NFAs: rsigma builds DFAs, ~60 kB per
/// set (16 MB over SigmaHQ's Windows rules); the NFA answers `is_match`
/// the same in a fraction of that.
pub(super) fn slim(mut rule: CompiledRule) -> CompiledRule {
    rule.description = None;
    rule.falsepositives = Vec::new();
    for d in rule.detections.values_mut() {
        slim_detection(d, 0);
    }
    rule
}

fn slim_detection(d: &mut CompiledDetection, depth: usize) {
    if depth > 64 {
        return;
    }
    match d {
        CompiledDetection::AllOf(items) => {
            for i in items {
                slim_matcher(&mut i.matcher, depth + 1);
            }
        }
        CompiledDetection::AnyOf(ds) | CompiledDetection::And(ds) => {
            for x in ds {
                slim_detection(x, depth + 1);
            }
        }
        CompiledDetection::Keywords(m) => slim_matcher(m, depth + 1),
        CompiledDetection::ArrayMatch { body, .. } => slim_detection(body, depth + 1),
        CompiledDetection::Conditional { named, .. } => {
            for x in named.values_mut() {
                slim_detection(x, depth + 1);
            }
        }
    }
}

fn slim_matcher(m: &mut CompiledMatcher, depth: usize) {
    if depth > 64 {
        return;
    }
    match m {
        CompiledMatcher::AhoCorasickSet {
            automaton, needles, ..
        } => {
            // Same needles, same (standard) match kind: same answers.
            if let Ok(nfa) = aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(needles.iter())
            {
                *automaton = nfa;
            }
        }
        CompiledMatcher::Not(inner) => slim_matcher(inner, depth + 1),
        CompiledMatcher::TimestampPart { inner, .. } => slim_matcher(inner, depth + 1),
        CompiledMatcher::AnyOf(ms)
        | CompiledMatcher::AllOf(ms)
        | CompiledMatcher::CaseInsensitiveGroup { children: ms, .. } => {
            for x in ms {
                slim_matcher(x, depth + 1);
            }
        }
        _ => {}
    }
}
