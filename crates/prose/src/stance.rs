//! Whether a sentence claims what it names: "unlike APT41, …" compares,
//! "there is no evidence that APT41 …" negates, and neither is a claim that
//! APT41 did it. Also whether a country is a victim or the actor's own.

use serde::Serialize;

/// What a sentence does with a name it contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stance {
    /// Stated as part of what happened.
    Asserted,
    /// Named as a comparison ("unlike", "similar to", "overlaps with").
    Compared,
    /// Named under a negation ("not", "no evidence", "ruled out").
    Negated,
}

const COMPARISON: &[&str] = &[
    "unlike",
    // Bare "like" also introduces examples ("tools like Mimikatz").
    "much like",
    "just like",
    "similar to",
    "similarly to",
    "resembl",
    "compared to",
    "compared with",
    "in contrast",
    "contrary to",
    "as opposed to",
    "differ",
    "distinct from",
    "rather than",
    "overlap",
    "reminiscent",
    "akin to",
    "previously attributed",
    "other than",
    "as with",
    "such as those",
];

const NEGATION: &[&str] = &[
    "not",
    "no",
    "never",
    "n't",
    "neither",
    "nor",
    "without",
    "unrelated",
    "ruled out",
    "rule out",
    "unlikely",
    "lack of",
    "no evidence",
];

/// The stance of the name at byte `at` of `sentence`: cues are read in the
/// clause before it (back to `,`, `;`, `:` or the sentence start) and, for
/// "X is unrelated"/"X was not involved", just after it.
pub(crate) fn stance(sentence: &str, at: usize, end: usize) -> Stance {
    let before = sentence.get(..at).unwrap_or("");
    let clause_start = before.rfind([',', ';', ':', '(']).map_or(0, |i| i + 1);
    let clause = before[clause_start..].to_lowercase();
    let after = sentence.get(end..).unwrap_or("");
    let after_clause = after
        .split([',', ';', ':', '.'])
        .next()
        .unwrap_or("")
        .to_lowercase();
    let has = |text: &str, cues: &[&str]| {
        cues.iter().any(|c| {
            text.match_indices(c).any(|(i, _)| {
                let b = text.as_bytes();
                let left = i == 0 || !b[i - 1].is_ascii_alphanumeric();
                // A cue ending in a full word must end at a word boundary;
                // stems ("resembl", "differ", "overlap") may run on.
                let j = i + c.len();
                let right = j >= b.len()
                    || !b[j].is_ascii_alphanumeric()
                    || matches!(*c, "resembl" | "differ" | "overlap");
                left && right
            })
        })
    };
    if has(&clause, COMPARISON) {
        return Stance::Compared;
    }
    // "…attributed the attack to APT41 and not to …" keeps the first name;
    // a negation must come before the name in its clause, or right after
    // it as the clause's verb ("APT41 was not involved").
    let first_words: String = after_clause
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    if has(&clause, NEGATION) || has(&first_words, &["not", "n't", "unrelated", "never"]) {
        return Stance::Negated;
    }
    Stance::Asserted
}

/// Words that make a sentence about victims.
const TARGETING: &[&str] = &[
    "target",
    "victim",
    "compromis",
    "breach",
    "attack",
    "intrusion",
    "infect",
    "affected",
    "against",
    "espionage",
    "exploit",
    "impacted",
    "phish",
    "organizations in",
    "organisations in",
    "entities in",
    "located in",
    "sector",
    "industr",
    "hit ",
    "focus",
];

/// Words after a country that make it the actor's own ("Chinese
/// state-sponsored", "China-nexus", "Iranian threat actor").
const ORIGIN_AFTER: &[&str] = &[
    "state",
    "-nexus",
    "nexus",
    "-linked",
    "linked",
    "-based",
    "based",
    "-backed",
    "backed",
    "-aligned",
    "aligned",
    "-sponsored",
    "sponsored",
    "threat",
    "actor",
    "group",
    "apt",
    "hacker",
    "government-",
    "ministry",
    "intelligence",
    "military",
    "nation",
    "cyber",
    "espionage group",
    "operator",
    "advanced persistent",
];

/// Words before a country that make it the actor's own.
const ORIGIN_BEFORE: &[&str] = &[
    "linked to",
    "sponsored by",
    "based in",
    "attributed to",
    "on behalf of",
    "nexus",
    "operating from",
    "operates from",
    "out of",
    "ties to",
    "tied to",
    "backed by",
    "working for",
    "contractor",
    "from",
];

/// Whether the country at `start..end` of `sentence` is a victim's: the
/// sentence speaks of targeting, and the words around do not make the
/// country the actor's own.
pub(crate) fn is_victim_country(sentence: &str, start: usize, end: usize) -> bool {
    let lower = sentence.to_lowercase();
    if !TARGETING.iter().any(|c| lower.contains(c)) {
        return false;
    }
    let after: String = sentence
        .get(end..)
        .unwrap_or("")
        .to_lowercase()
        .chars()
        .take(30)
        .collect();
    let after = after.trim_start();
    if ORIGIN_AFTER.iter().any(|w| after.starts_with(w)) {
        return false;
    }
    let before = sentence.get(..start).unwrap_or("").to_lowercase();
    let near: String = before
        .chars()
        .rev()
        .take(25)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    !ORIGIN_BEFORE.iter().any(|w| near.trim_end().ends_with(w))
}

/// Whether a sentence about a sector speaks of targeting it.
pub(crate) fn is_targeting(sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    TARGETING.iter().any(|c| lower.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str, name: &str) -> Stance {
        let i = s.find(name).expect("name in sentence");
        stance(s, i, i + name.len())
    }

    #[test]
    fn comparisons_and_negations_are_not_claims() {
        assert_eq!(
            at("Unlike APT41, the group used Cobalt Strike.", "APT41"),
            Stance::Compared
        );
        assert_eq!(
            at(
                "Unlike APT41, the group used Cobalt Strike.",
                "Cobalt Strike"
            ),
            Stance::Asserted
        );
        assert_eq!(
            at("Its TTPs are similar to those of APT41.", "APT41"),
            Stance::Compared
        );
        assert_eq!(
            at("There is no evidence that APT41 was involved.", "APT41"),
            Stance::Negated
        );
        assert_eq!(
            at("APT41 was not involved in this intrusion.", "APT41"),
            Stance::Negated
        );
        assert_eq!(
            at("We attribute this activity to APT41.", "APT41"),
            Stance::Asserted
        );
        assert_eq!(
            at("The infrastructure overlaps with Winnti.", "Winnti"),
            Stance::Compared
        );
        // "not only" before a name in another clause does not carry over.
        assert_eq!(
            at("It was not new, but RedHotel used it.", "RedHotel"),
            Stance::Asserted
        );
    }

    #[test]
    fn victim_or_origin_country() {
        let v = |s: &str, c: &str| {
            let i = s.find(c).expect("country");
            is_victim_country(s, i, i + c.len())
        };
        assert!(v(
            "The group targeted government agencies in Taiwan.",
            "Taiwan"
        ));
        assert!(!v(
            "A Chinese state-sponsored group targeted Taiwan.",
            "Chinese"
        ));
        assert!(v(
            "A Chinese state-sponsored group targeted Taiwan.",
            "Taiwan"
        ));
        assert!(!v(
            "The activity is linked to China and ran for years.",
            "China"
        ));
        assert!(!v("Taiwan is an island.", "Taiwan"));
    }
}
