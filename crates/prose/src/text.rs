//! Sentences and word features of report text, and ATT&CK's own markup
//! taken out of its descriptions.

/// One sentence of a document, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sentence {
    /// The sentence, lines joined by single spaces.
    pub text: String,
    /// 1-based line of its first character in the document.
    pub line: u32,
}

/// A sentence longer than this is cut: tables and code dumps have no full
/// stops, and one "sentence" must stay a readable piece of evidence.
const MAX_SENTENCE: usize = 600;

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "inc", "ltd", "co", "corp", "no", "fig", "mr", "ms", "dr", "st",
    "u.s", "u.k", "approx", "al", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec",
];

/// Splits a document's text into sentences. A blank line, a heading (`#`)
/// or a table row (`|`) ends a paragraph; inside one, lines are joined
/// (PDF text breaks lines mid-sentence) and split after `.`, `!` or `?`
/// followed by a space and a capital, digit or quote.
pub(crate) fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start_line = 0u32;
    for (i, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.trim();
        let standalone = line.starts_with('#') || line.starts_with('|');
        if line.is_empty() || standalone {
            flush(&mut cur, start_line, &mut out);
            if standalone {
                let body = line.trim_start_matches('#').trim();
                push_split(body, line_no, &mut out);
            }
            continue;
        }
        // A list item is a unit of its own: a list of indicators or names
        // run together would read as one odd sentence.
        if is_list_item(line) {
            flush(&mut cur, start_line, &mut out);
        }
        if cur.is_empty() {
            start_line = line_no;
        } else {
            cur.push(' ');
        }
        // Split what is complete so far, keep the tail open for the next line.
        cur.push_str(line);
        let parts = split_sentences(&cur);
        if parts.len() > 1 {
            let tail = parts[parts.len() - 1].to_string();
            for p in &parts[..parts.len() - 1] {
                push_cut(p, start_line, &mut out);
            }
            cur = tail;
            start_line = line_no;
        }
        if cur.len() > MAX_SENTENCE {
            flush(&mut cur, start_line, &mut out);
        }
    }
    flush(&mut cur, start_line, &mut out);
    out
}

/// `- x`, `* x`, `• x`, `1. x`, `2) x`.
fn is_list_item(line: &str) -> bool {
    if ["- ", "* ", "• ", "+ "].iter().any(|b| line.starts_with(b)) {
        return true;
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && matches!(
            line.as_bytes().get(digits..digits + 2),
            Some([b'.' | b')', b' '])
        )
}

/// Words made of letters only (punctuation around them aside): what tells
/// prose from a heading, a list of indicators or a table row.
pub(crate) fn prose_words(s: &str) -> usize {
    s.split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|t| t.len() > 1 && t.chars().all(char::is_alphabetic))
        .count()
}

fn flush(cur: &mut String, line: u32, out: &mut Vec<Sentence>) {
    if !cur.trim().is_empty() {
        push_split(cur, line, out);
    }
    cur.clear();
}

fn push_split(text: &str, line: u32, out: &mut Vec<Sentence>) {
    for p in split_sentences(text) {
        push_cut(p, line, out);
    }
}

fn push_cut(text: &str, line: u32, out: &mut Vec<Sentence>) {
    let mut rest = text.trim();
    while !rest.is_empty() {
        let mut end = rest.len().min(MAX_SENTENCE);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end < rest.len()
            && let Some(sp) = rest[..end].rfind(' ')
            && sp > 0
        {
            end = sp;
        }
        out.push(Sentence {
            text: rest[..end].trim().to_string(),
            line,
        });
        rest = rest[end..].trim_start();
    }
}

/// Sentence pieces of one paragraph; the last piece may be unfinished.
fn split_sentences(p: &str) -> Vec<&str> {
    let bytes = p.as_bytes();
    let mut parts = Vec::new();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'.' | b'!' | b'?') {
            continue;
        }
        // The stop, then a space (or a closing quote or bracket and a space).
        let (end, start) = match (bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(b' '), s) => (i + 1, s),
            (Some(b')' | b'"'), Some(b' ')) => (i + 2, bytes.get(i + 3)),
            _ => continue,
        };
        let Some(&start) = start else { continue };
        if !(start.is_ascii_uppercase()
            || start.is_ascii_digit()
            || matches!(start, b'"' | b'[' | b'(' | b'\''))
        {
            continue;
        }
        if b == b'.' && is_abbreviation(&p[from..i]) {
            continue;
        }
        parts.push(&p[from..end]);
        from = end;
    }
    parts.push(&p[from..]);
    parts.retain(|s| !s.trim().is_empty());
    parts
}

fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    // A single capital ("J. Smith") or a known abbreviation.
    word.len() == 1 && word.chars().all(|c| c.is_ascii_alphabetic())
        || ABBREVIATIONS.contains(&word.as_str())
}

/// ATT&CK descriptions as prose: `(Citation: …)` removed and Markdown links
/// reduced to their text (`[APT41](https://…/G0096)` → `APT41`), so neither
/// training nor evaluation sees technique ids hidden in link targets.
pub(crate) fn clean_attack(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['(', '[']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("(Citation:") {
            rest = after.find(')').map_or("", |j| &after[j + 1..]);
            continue;
        }
        if let Some(inner) = tail.strip_prefix('[')
            && let Some(close) = inner.find(']')
            && inner[close + 1..].starts_with('(')
            && let Some(paren) = inner[close + 1..].find(')')
        {
            out.push_str(&inner[..close]);
            rest = &inner[close + 1 + paren + 1..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    let mut collapsed = String::with_capacity(out.len());
    for w in out.split_whitespace() {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(w);
    }
    collapsed
}

/// Function words that carry no technique.
const STOP: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "if",
    "in",
    "include",
    "includes",
    "including",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "may",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "no",
    "nor",
    "not",
    "of",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "several",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "use",
    "used",
    "uses",
    "using",
    "various",
    "very",
    "via",
    "was",
    "we",
    "well",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "you",
    "your",
];

/// Words of a text as the model reads them: lower-case runs of letters,
/// digits and `_` of two characters or more, function words dropped.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            if cur.chars().count() >= 2 && STOP.binary_search(&cur.as_str()).is_err() {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.clear();
            }
        }
    }
    out
}

/// Unigrams and bigrams of [`words`].
pub(crate) fn features(text: &str) -> Vec<String> {
    let w = words(text);
    let mut out = Vec::with_capacity(w.len() * 2);
    for pair in w.windows(2) {
        out.push(format!("{} {}", pair[0], pair[1]));
    }
    out.extend(w);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_list_is_sorted_for_binary_search() {
        assert!(
            STOP.windows(2).all(|w| w[0] < w[1]),
            "STOP must stay sorted"
        );
    }

    #[test]
    fn splits_sentences_across_pdf_line_breaks() {
        let text = "# Execution\nThe loader was side-loaded by a signed\nexecutable. It then ran \
                    PowerShell, e.g. to list users.\n\nA new paragraph";
        let s = sentences(text);
        let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Execution",
                "The loader was side-loaded by a signed executable.",
                "It then ran PowerShell, e.g. to list users.",
                "A new paragraph"
            ]
        );
        assert_eq!(s.iter().map(|s| s.line).collect::<Vec<_>>(), [1, 2, 3, 5]);
    }

    #[test]
    fn list_items_are_their_own_units() {
        let s = sentences("C2 domains:\n- kiwi.officesuport[.]com\n- kb.dga[.]asia\n1. first step");
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(prose_words("- kiwi.officesuport[.]com"), 0);
        assert_eq!(prose_words("The group used (Mimikatz), then RDP."), 6);
    }

    #[test]
    fn keeps_domains_versions_and_initials_inside_a_sentence() {
        let s =
            sentences("It beaconed to evil.com over TLS 1.2 as J. Smith noted. Then it stopped.");
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].text.ends_with("noted."));
    }

    #[test]
    fn cuts_a_table_dump_into_bounded_pieces() {
        let long = "word ".repeat(1000);
        let s = sentences(&long);
        assert!(s.len() > 1);
        assert!(s.iter().all(|s| s.text.len() <= MAX_SENTENCE));
    }

    #[test]
    fn removes_citations_and_link_targets() {
        let t = "[APT41](https://attack.mitre.org/groups/G0096) used [Windows Command Shell](https://attack.mitre.org/techniques/T1059/003).(Citation: FireEye APT41 2019)";
        assert_eq!(clean_attack(t), "APT41 used Windows Command Shell.");
        assert_eq!(clean_attack("a (b) [c] d"), "a (b) [c] d");
    }

    #[test]
    fn features_are_words_and_pairs() {
        let f = features("The actor has used DLL side-loading.");
        assert!(f.contains(&"dll side".to_string()));
        assert!(f.contains(&"loading".to_string()));
        assert!(!f.contains(&"the".to_string()));
    }
}
