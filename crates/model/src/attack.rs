//! ATT&CK as Sigma rules (and other sources) tag it: `attack.t1059.001`,
//! `attack.execution`. One reading for every crate that meets such tags.

/// Enterprise tactics by their short names, as tags spell them.
pub const TACTICS: &[&str] = &[
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// `attack.t1059.001` → `T1059.001`; anything but a technique id with four
/// digits and an optional three-digit sub-technique → `None`.
pub fn technique_of_tag(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let rest = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    if main.len() != 4 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match sub {
        Some(s) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("T{main}.{s}"))
        }
        Some(_) => None,
        None => Some(format!("T{main}")),
    }
}

/// `attack.defense_evasion` or `attack.defense-evasion` → `defense-evasion`.
pub fn tactic_of_tag(tag: &str) -> Option<&'static str> {
    let t = tag.strip_prefix("attack.")?.replace('_', "-");
    TACTICS.iter().copied().find(|x| *x == t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_give_techniques_and_tactics() {
        assert_eq!(
            technique_of_tag("attack.t1059.001").as_deref(),
            Some("T1059.001")
        );
        assert_eq!(technique_of_tag("attack.t1033").as_deref(), Some("T1033"));
        assert_eq!(technique_of_tag("attack.execution"), None);
        assert_eq!(technique_of_tag("attack.g0001"), None);
        assert_eq!(technique_of_tag("attack.t1156.0012"), None);
        assert_eq!(technique_of_tag("cve.2021-44228"), None);
        assert_eq!(
            tactic_of_tag("attack.defense_evasion"),
            Some("defense-evasion")
        );
        assert_eq!(tactic_of_tag("attack.t1033"), None);
    }
}
