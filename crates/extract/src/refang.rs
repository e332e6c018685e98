//! Refanging in one pass: an Aho-Corasick automaton finds every defang
//! pattern (`[.]`, `hxxp`, `[@]`, zero-width and full-width characters …)
//! and the text is rebuilt with a sparse map back to the original offsets,
//! so each value keeps its original spelling and position.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use std::borrow::Cow;
use std::sync::OnceLock;

#[derive(Clone, Copy)]
enum Rep {
    /// Replace with this text.
    Text(&'static str),
    /// `hxxp`-style scheme: replace only before `:`, `s:` or a bracket that
    /// may open a defanged colon (`[:]`, `(:)`, `{:}`).
    Scheme(&'static str),
    /// Replace with this text only between two ASCII alphanumerics
    /// (` dot `, `^.`, `[-]`, mixed brackets such as `].[`).
    Inner(&'static str),
    /// Replace only when not preceded by an alphanumeric: a whole scheme
    /// written out in the pattern (`xxxx://`, `[http]://`, `https//`).
    Lead(&'static str),
    /// `-dot-`: a dot only between alphanumerics when the next label is a
    /// common TLD or is itself followed by a dot (see `dash_dot_ok`).
    DashDot,
    /// ` AT `, `_at_`, ` @ `: an at sign only in upper case between
    /// lower-case words (` AT `) or before a dotted host (`_at_`, ` @ `).
    WordAt,
    /// `[www]`: `www` only right before a dot (plain or defanged).
    Www,
    /// A digit, a comma, a digit: a bare-comma IPv4 (`9,10,11,12`) only after
    /// an address word (see `comma_ipv4`).
    CommaIp,
    /// `\.`: only before a lower-case letter or digit (so `\.NET` in a
    /// registry path stays).
    EscapedDot,
    /// `[.]` at the end of a line whose next line starts with a label: the
    /// value was wrapped; join.
    WrappedDot,
}

fn automaton() -> &'static (AhoCorasick, Vec<Rep>) {
    static AC: OnceLock<(AhoCorasick, Vec<Rep>)> = OnceLock::new();
    AC.get_or_init(|| {
        let mut pats: Vec<String> = Vec::new();
        let mut reps = Vec::new();
        let mut add = |p: &str, r: Rep| {
            pats.push(p.to_string());
            reps.push(r);
        };
        for (open, close) in [
            ("[", "]"),
            ("(", ")"),
            ("{", "}"),
            ("\\[", "\\]"),
            ("<", ">"),
        ] {
            // `,` stands for a dot in defanged IPv4 (`5[,]6[,]7(,)8`);
            // `punto`/`punkt` are the Spanish and German words for it.
            for inner in [
                ".", "dot", " . ", " .", ". ", " dot ", ",", " , ", "punto", "punkt",
            ] {
                let p = format!("{open}{inner}{close}");
                add(&p, Rep::Text("."));
                add(&format!(" {p} "), Rep::Text("."));
            }
            add(&format!("{open}www{close}"), Rep::Www);
            if !open.starts_with(['\\', '<']) {
                // `<->` is an arrow and `\[-\]` a regex: only `[-]`, `(-)`, `{-}`.
                add(&format!("{open}-{close}"), Rep::Inner("-"));
            }
            for inner in [".\n", "\n.", ".\r\n", "\r\n."] {
                add(&format!("{open}{inner}{close}"), Rep::Text("."));
            }
            add(&format!("{open}.{close}\n"), Rep::WrappedDot);
            add(&format!("{open}.{close}\r\n"), Rep::WrappedDot);
            add(&format!("{open}:{close}"), Rep::Text(":"));
            add(&format!("{open}://{close}"), Rep::Text("://"));
            add(&format!("{open}:/{close}"), Rep::Text(":/"));
            add(&format!("{open}/{close}"), Rep::Text("/"));
            add(&format!("{open}//{close}"), Rep::Text("//"));
            for inner in ["@", "at", " at ", " @ ", "et", "arroba"] {
                let p = format!("{open}{inner}{close}");
                add(&p, Rep::Text("@"));
                add(&format!(" {p} "), Rep::Text("@"));
            }
        }
        // A dot between mismatched brackets (`].[`, `[.[`, `(.]` …): only
        // inside a word, since such runs also occur in code and markup.
        for open in ["[", "(", "{", "]", ")", "}"] {
            for close in ["]", ")", "}", "[", "(", "{"] {
                let matched = matches!((open, close), ("[", "]") | ("(", ")") | ("{", "}"));
                if !matched {
                    add(&format!("{open}.{close}"), Rep::Inner("."));
                }
            }
        }
        for x in ["hxxp", "hxtp", "htxp", "h**p", "h[tt]p", "h[xx]p"] {
            add(x, Rep::Scheme("http"));
        }
        add("fxp", Rep::Scheme("ftp"));
        // Whole schemes: the pattern holds the separator, so only the
        // preceding character needs checking.
        for (pat, to) in [
            ("xxxx://", "http://"),
            ("xxxxx://", "https://"),
            ("xxxxs://", "https://"),
            ("http//", "http://"),
            ("https//", "https://"),
            ("hxxp//", "http://"),
            ("hxxps//", "https://"),
            ("http ://", "http://"),
            ("https ://", "https://"),
            ("http:// ", "http://"),
            ("https:// ", "https://"),
            ("http:///", "http://"),
            ("https:///", "https://"),
        ] {
            add(pat, Rep::Lead(to));
        }
        for (o, c) in [("[", "]"), ("(", ")"), ("{", "}")] {
            add(&format!("{o}http{c}://"), Rep::Lead("http://"));
            add(&format!("{o}https{c}://"), Rep::Lead("https://"));
        }
        add(" dot ", Rep::Inner("."));
        add("-dot-", Rep::DashDot);
        add("^.", Rep::Inner("."));
        add(" @ ", Rep::WordAt);
        add(" at ", Rep::WordAt);
        add("_at_", Rep::WordAt);
        add("\\/", Rep::Text("/"));
        add("\\.", Rep::EscapedDot);
        for a in b'0'..=b'9' {
            for c in b'0'..=b'9' {
                add(&format!("{},{}", a as char, c as char), Rep::CommaIp);
            }
        }
        for zw in [
            '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}',
        ] {
            add(&zw.to_string(), Rep::Text(""));
        }
        add("\u{a0}", Rep::Text(" "));
        add("\u{3002}", Rep::Inner("."));
        add("\u{2024}", Rep::Text("."));
        // Full-width ASCII (U+FF01..U+FF5E) maps to ASCII by a fixed offset.
        static FW: OnceLock<Vec<String>> = OnceLock::new();
        let fw = FW.get_or_init(|| {
            (0x21u32..=0x7e)
                .map(|c| char::from_u32(c).map(String::from).unwrap_or_default())
                .collect()
        });
        for (i, c) in (0xff01u32..=0xff5e).enumerate() {
            if let Some(ch) = char::from_u32(c) {
                add(&ch.to_string(), Rep::Text(fw[i].as_str()));
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            // A full DFA: the fastest search. About 1.3 MB (0.7 MB before the
            // issue #25 styles); refanging stays near 500 MB/s, a small part
            // of extraction time.
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(&pats)
            // Constant patterns: building cannot fail.
            .expect("refang automaton");
        (ac, reps)
    })
}

/// One replacement: `orig_start..orig_end` in the original became
/// `clean_start..clean_end` in the clean text.
#[derive(Debug, Clone, Copy)]
struct Edit {
    clean_start: usize,
    clean_end: usize,
    orig_start: usize,
    orig_end: usize,
}

/// Refanged text and the way back to the original.
pub(crate) struct Refanged<'a> {
    pub text: Cow<'a, str>,
    edits: Vec<Edit>,
}

impl Refanged<'_> {
    /// Original offset of a clean offset (a start or an end).
    pub fn to_orig(&self, p: usize) -> usize {
        let i = self.edits.partition_point(|e| e.clean_start <= p);
        if i == 0 {
            return p;
        }
        let e = self.edits[i - 1];
        if p >= e.clean_end {
            e.orig_end + (p - e.clean_end)
        } else if p == e.clean_start {
            e.orig_start
        } else {
            e.orig_end
        }
    }

    /// Whether a clean span was changed by refanging (it was defanged).
    pub fn edited(&self, s: usize, e: usize) -> bool {
        // First edit ending after `s`; ends are non-decreasing.
        let i = self.edits.partition_point(|ed| ed.clean_end <= s);
        self.edits.get(i).is_some_and(|ed| ed.clean_start < e)
    }
}

pub(crate) fn refang(orig: &str) -> Refanged<'_> {
    let (ac, reps) = automaton();
    let b = orig.as_bytes();
    let mut out = String::new();
    let mut edits = Vec::new();
    let mut copied = 0; // original bytes copied or replaced so far
    let mut pos = 0;
    while pos < b.len() {
        let Some(m) = ac.find(aho_corasick::Input::new(orig).span(pos..orig.len())) else {
            break;
        };
        let (s, e) = (m.start(), m.end());
        let prev = if s > 0 { b[s - 1] } else { b' ' };
        let next = b.get(e).copied().unwrap_or(b' ');
        let rep: Option<&str> = match reps[m.pattern().as_usize()] {
            Rep::Text(t) => Some(t),
            Rep::Scheme(t) => {
                let tail = &b[e..b.len().min(e + 2)];
                // The scheme's separator, itself perhaps defanged (`[:]`, `(:)`).
                let sep = |c: Option<&u8>| matches!(c, Some(b':' | b'[' | b'(' | b'{'));
                let ok = !prev.is_ascii_alphanumeric()
                    && (sep(tail.first())
                        || (tail.first().is_some_and(|c| c.eq_ignore_ascii_case(&b's'))
                            && sep(tail.get(1))));
                ok.then_some(t)
            }
            Rep::Inner(t) => {
                (prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric()).then_some(t)
            }
            Rep::Lead(t) => (!prev.is_ascii_alphanumeric()).then_some(t),
            Rep::DashDot => dash_dot_ok(b, s, e).then_some("."),
            Rep::WordAt => {
                let ok = if b[s] == b'_' || b[s + 1] == b'@' {
                    // `_at_` and ` @ `: before a dotted host only, since
                    // `created_at_utc` and `ping @ 5` are common too.
                    prev.is_ascii_alphanumeric() && label_then_dot(b, e)
                } else {
                    // ` AT ` in capitals between lower-case words: `at` is
                    // the commonest English word the automaton sees.
                    &b[s + 1..e - 1] == b"AT"
                        && (prev.is_ascii_lowercase() || prev.is_ascii_digit())
                        && (next.is_ascii_lowercase() || next.is_ascii_digit())
                };
                ok.then_some("@")
            }
            Rep::Www => (!prev.is_ascii_alphanumeric()
                && matches!(next, b'.' | b'[' | b'(' | b'{'))
            .then_some("www"),
            Rep::CommaIp => {
                if let Some(commas) = comma_ipv4(b, s) {
                    for c in commas {
                        push_edit(&mut out, &mut edits, orig, copied, c, c + 1, ".");
                        copied = c + 1;
                    }
                    pos = copied;
                    continue;
                }
                None
            }
            Rep::EscapedDot => (prev.is_ascii_alphanumeric()
                && (next.is_ascii_lowercase() || next.is_ascii_digit()))
            .then_some("."),
            Rep::WrappedDot => {
                if prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric() {
                    Some(".")
                } else {
                    // Not a wrap: refang the dot, keep the line break.
                    let nl = if b[e - 2] == b'\r' { "\r\n" } else { "\n" };
                    push_edit(&mut out, &mut edits, orig, copied, s, e - nl.len(), ".");
                    copied = e - nl.len();
                    pos = copied;
                    continue;
                }
            }
        };
        match rep {
            Some(r) => {
                push_edit(&mut out, &mut edits, orig, copied, s, e, r);
                copied = e;
                pos = e;
            }
            None => {
                // Not a defang here; look again from the next character.
                pos = s + orig[s..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    if edits.is_empty() {
        return Refanged {
            text: Cow::Borrowed(orig),
            edits,
        };
    }
    out.push_str(&orig[copied..]);
    Refanged {
        text: Cow::Owned(out),
        edits,
    }
}

/// Whether `-dot-` at `s..e` stands for a dot. The word before must end in
/// an alphanumeric and not be `pre`/`post` (`post-dot-com era`); the label
/// after must be a common TLD ending the name (`bad-dot-com`,
/// `example-dot-ru`) or be followed by another dot (`evil-dot-co-dot-uk`,
/// `cdn-dot-evil.com`). So `polka-dot-pattern` stays prose.
fn dash_dot_ok(b: &[u8], s: usize, e: usize) -> bool {
    if s == 0 || !b[s - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut ws = s;
    while ws > 0 && b[ws - 1].is_ascii_alphanumeric() && s - ws < 5 {
        ws -= 1;
    }
    let left = &b[ws..s];
    let left_word_whole = ws == 0 || !b[ws - 1].is_ascii_alphanumeric();
    if left_word_whole && (left.eq_ignore_ascii_case(b"pre") || left.eq_ignore_ascii_case(b"post"))
    {
        return false;
    }
    let mut le = e;
    while le < b.len() && b[le].is_ascii_alphanumeric() && le - e < 64 {
        le += 1;
    }
    let label = &b[e..le];
    if label.is_empty() {
        return false;
    }
    let ends_name = b
        .get(le)
        .is_none_or(|&c| !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    (ends_name && common_tld(label)) || label_then_dot(b, e)
}

/// A TLD common enough in reports to trust after `-dot-`: the legacy
/// generic ones, a few much-abused new ones, and any two-letter country code
/// in the public suffix list. Long new gTLDs (`design`, `shop`, `art`) are
/// left out: they are ordinary words in hyphenated prose.
fn common_tld(label: &[u8]) -> bool {
    if label.len() == 2 && label.iter().all(u8::is_ascii_alphabetic) {
        let lower = [label[0].to_ascii_lowercase(), label[1].to_ascii_lowercase()];
        return psl::suffix(&lower).is_some_and(|s| s.is_known());
    }
    const GENERIC: [&[u8]; 13] = [
        b"com", b"net", b"org", b"info", b"biz", b"gov", b"edu", b"mil", b"int", b"arpa", b"xyz",
        b"top", b"onion",
    ];
    GENERIC.iter().any(|t| label.eq_ignore_ascii_case(t))
}

/// Whether a host label starts at `i` and is followed by a dot, plain or
/// defanged, and another label: the text after `_at_` or `-dot-` looks like
/// the rest of a host name. Bounded to one label's length.
fn label_then_dot(b: &[u8], i: usize) -> bool {
    let starts = |at: usize, p: &[u8]| {
        b.get(at..at + p.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(p))
    };
    let mut j = i;
    while j < b.len()
        && j - i < 64
        && (b[j].is_ascii_alphanumeric() || (b[j] == b'-' && !starts(j, b"-dot-")))
    {
        j += 1;
    }
    if j == i || !b[j - 1].is_ascii_alphanumeric() {
        return false;
    }
    if b.get(j) == Some(&b'.') {
        return b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric);
    }
    [
        &b"-dot-"[..],
        b" dot ",
        b"[.]",
        b"(.)",
        b"{.}",
        b"[dot]",
        b"(dot)",
        b"{dot}",
    ]
    .iter()
    .any(|p| starts(j, p))
}

/// Words that, right before a bare-comma quad, say it is an address.
const ADDRESS_CUES: [&[u8]; 9] = [
    b"ip",
    b"ips",
    b"ipv4",
    b"address",
    b"addresses",
    b"addr",
    b"host",
    b"c2",
    b"server",
];

/// A bare-comma IPv4 (`9,10,11,12`) around the digit-comma-digit at `s`:
/// the comma positions, or `None`. Four numbers 0–255 (no leading zeros),
/// standing alone (white space, `:` or `=` before, no further digit, comma-digit or
/// dot-digit after), and right after an address word (`IP 9,10,11,12`,
/// `C2 address: 9,10,11,12`): four small numbers are far more often a list
/// (`versions 9,10,11,12 were affected`) or a CSV row than an address.
fn comma_ipv4(b: &[u8], s: usize) -> Option<[usize; 3]> {
    let mut t = s;
    while t > 0 && b[t - 1].is_ascii_digit() && s - t < 2 {
        t -= 1;
    }
    if t > 0 && !(b[t - 1].is_ascii_whitespace() || matches!(b[t - 1], b':' | b'=')) {
        return None;
    }
    let mut commas = [0; 3];
    let mut i = t;
    for k in 0..4 {
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() && i - d < 4 {
            i += 1;
        }
        let n = &b[d..i];
        let v = n.iter().fold(0u32, |v, c| v * 10 + u32::from(c - b'0'));
        if n.is_empty() || n.len() > 3 || v > 255 || (n.len() > 1 && n[0] == b'0') {
            return None;
        }
        // After each of the first three numbers, a comma.
        if let Some(slot) = commas.get_mut(k) {
            if b.get(i) != Some(&b',') {
                return None;
            }
            *slot = i;
            i += 1;
        }
    }
    let after_digit = |j: usize| b.get(j).is_some_and(u8::is_ascii_digit);
    match b.get(i) {
        Some(c) if c.is_ascii_alphanumeric() || *c == b'_' => return None,
        Some(b',' | b'.') if after_digit(i + 1) => return None,
        _ => {}
    }
    // The word before: skip blanks and one `:` or `=`.
    let mut j = t;
    while j > 0 && t - j < 8 && matches!(b[j - 1], b' ' | b'\t' | b':' | b'=') {
        j -= 1;
    }
    let we = j;
    while j > 0 && we - j < 10 && b[j - 1].is_ascii_alphanumeric() {
        j -= 1;
    }
    let word = &b[j..we];
    let whole = j == 0 || !b[j - 1].is_ascii_alphanumeric();
    (whole && ADDRESS_CUES.iter().any(|c| word.eq_ignore_ascii_case(c))).then_some(commas)
}

fn push_edit(
    out: &mut String,
    edits: &mut Vec<Edit>,
    orig: &str,
    copied: usize,
    s: usize,
    e: usize,
    rep: &str,
) {
    if out.capacity() == 0 {
        out.reserve(orig.len());
    }
    out.push_str(&orig[copied..s]);
    let clean_start = out.len();
    out.push_str(rep);
    edits.push(Edit {
        clean_start,
        clean_end: out.len(),
        orig_start: s,
        orig_end: e,
    });
}

#[cfg(test)]
mod tests {
    use super::refang;

    fn r(s: &str) -> String {
        refang(s).text.into_owned()
    }

    #[test]
    fn styles() {
        let cases = [
            ("kb.dga[.]asia", "kb.dga.asia"),
            ("1.13.82[.]101", "1.13.82.101"),
            ("1[.]2[.]3[.]4", "1.2.3.4"),
            (
                "evil(.)com evil{.}com evil[dot]com evil(dot)com",
                "evil.com evil.com evil.com evil.com",
            ),
            ("evil dot com", "evil.com"),
            (
                "hxxps://evil[.]com hXXp://a[.]b fxp://x[.]y",
                "https://evil.com http://a.b ftp://x.y",
            ),
            (
                "http[:]//a[.]io https[://]b[.]io",
                "http://a.io https://b.io",
            ),
            (
                "user[@]evil[.]com user(at)evil(.)com",
                "user@evil.com user@evil.com",
            ),
            ("evil\\.com", "evil.com"),
            ("evil [.] com evil[ . ]com", "evil.com evil.com"),
            ("ev\u{200b}il.com", "evil.com"),
            ("ｅｖｉｌ．ｃｏｍ", "evil.com"),
            ("evil[.]\ncom", "evil.com"),
            ("evil[\n.]com", "evil.com"),
            ("list end[.]\n\nnext", "list end.\n\nnext"),
            ("the hxxp protocol; xhxxp://", "the hxxp protocol; xhxxp://"),
            (
                "HKLM\\SOFTWARE\\Microsoft\\.NETFramework",
                "HKLM\\SOFTWARE\\Microsoft\\.NETFramework",
            ),
        ];
        for (a, b) in cases {
            assert_eq!(r(a), b, "{a}");
        }
    }

    /// Every defang style checked, one row each: (style, defanged, refanged).
    /// Rows with equal sides are prose or code that must stay as written.
    #[test]
    fn style_table() {
        let rows: &[(&str, &str, &str)] = &[
            // Schemes.
            ("hxxp", "hxxp://evil.com", "http://evil.com"),
            ("hXXp", "hXXp://evil.com", "http://evil.com"),
            ("hxxps", "hxxps://evil.com", "https://evil.com"),
            ("hXXps", "hXXps://evil.com", "https://evil.com"),
            ("hxtp", "hxtp://evil.com", "http://evil.com"),
            ("htxp", "htxp://evil.com", "http://evil.com"),
            ("h**p", "h**ps://evil.com", "https://evil.com"),
            ("h[tt]p", "h[tt]ps://evil.com", "https://evil.com"),
            ("h[xx]p", "h[xx]p://evil.com", "http://evil.com"),
            ("fxp", "fxp://evil.com", "ftp://evil.com"),
            ("xxxx://", "xxxx://evil.com", "http://evil.com"),
            ("xXxXx://", "xXxXx://evil.com", "https://evil.com"),
            ("xxxxs://", "xxxxs://evil.com", "https://evil.com"),
            ("[http]://", "[http]://evil.com", "http://evil.com"),
            ("(https)://", "(https)://evil.com", "https://evil.com"),
            ("{http}://", "{http}://evil.com", "http://evil.com"),
            ("http//", "http//evil.com", "http://evil.com"),
            ("hxxps//", "hxxps//evil.com", "https://evil.com"),
            ("http ://", "http ://evil.com", "http://evil.com"),
            ("https:// + space", "https:// evil.com", "https://evil.com"),
            ("http:///", "http:///evil.com", "http://evil.com"),
            ("file:/// kept", "file:///C:/x", "file:///C:/x"),
            ("hxxp(:)//", "hxxp(:)//evil.com", "http://evil.com"),
            ("hxxp{:}//", "hxxp{:}//evil.com", "http://evil.com"),
            ("hxxp word kept", "the hxxp scheme", "the hxxp scheme"),
            ("xxxx:// in word kept", "abxxxx://e", "abxxxx://e"),
            // Separators.
            ("[:]", "http[:]//evil.com", "http://evil.com"),
            ("[://]", "http[://]evil.com", "http://evil.com"),
            ("(://)", "http(://)evil.com", "http://evil.com"),
            ("[:/]", "http[:/]/evil.com", "http://evil.com"),
            ("[/]", "evil.com[/]x", "evil.com/x"),
            (
                "\\/ (JSON)",
                "https:\\/\\/evil.com\\/a.php",
                "https://evil.com/a.php",
            ),
            // Dots.
            ("[.]", "evil[.]com", "evil.com"),
            ("(.)", "evil(.)com", "evil.com"),
            ("{.}", "evil{.}com", "evil.com"),
            ("<.>", "1<.>1<.>1<.>1", "1.1.1.1"),
            ("\\[.\\]", "evil\\[.\\]com", "evil.com"),
            ("[ . ]", "evil[ . ]com", "evil.com"),
            (" [.] ", "evil [.] com", "evil.com"),
            ("[dot]", "evil[dot]com", "evil.com"),
            ("(dot)", "evil(dot)com", "evil.com"),
            ("{dot}", "evil{dot}com", "evil.com"),
            ("[DOT]", "evil[DOT]com", "evil.com"),
            (" [dot] ", "evil [dot] com", "evil.com"),
            (" DOT ", "evil DOT com", "evil.com"),
            (" dot ", "evil dot com", "evil.com"),
            ("[punto]", "evil[punto]com", "evil.com"),
            (" (punkt) ", "evil (punkt) de", "evil.de"),
            ("-dot-", "bad-dot-com", "bad.com"),
            ("-DOT-", "EVIL-DOT-RU", "EVIL.RU"),
            ("\\.", "evil\\.com", "evil.com"),
            ("^.", "example^.com", "example.com"),
            ("].[", "www].[evil].[com", "www.evil.com"),
            ("[.[", "www[.[evil[.[com", "www.evil.com"),
            ("].]", "www].]evil].]com", "www.evil.com"),
            ("}.{", "evil}.{com", "evil.com"),
            ("(.]", "evil(.]com", "evil.com"),
            ("[,]", "5[,]6[,]7[,]8", "5.6.7.8"),
            ("(,)", "5(,)6(,)7(,)8", "5.6.7.8"),
            ("{,}", "5{,}6{,}7{,}8", "5.6.7.8"),
            ("。", "evil\u{3002}com", "evil.com"),
            ("․ (one-dot leader)", "evil\u{2024}com", "evil.com"),
            ("full-width", "ｅｖｉｌ．ｃｏｍ", "evil.com"),
            ("wrapped [.]", "evil[.]\ncom", "evil.com"),
            // At signs.
            ("[@]", "user[@]evil.com", "user@evil.com"),
            ("(@)", "user(@)evil.com", "user@evil.com"),
            ("[at]", "user[at]evil.com", "user@evil.com"),
            ("(at)", "user(at)evil.com", "user@evil.com"),
            ("{at}", "user{at}evil.com", "user@evil.com"),
            ("[AT]", "user[AT]evil.com", "user@evil.com"),
            (" (at) ", "user (at) evil.com", "user@evil.com"),
            ("[et]", "user[et]evil.com", "user@evil.com"),
            ("[arroba]", "me[arroba]evil[punto]com", "me@evil.com"),
            (" AT ", "user AT evil DOT com", "user@evil.com"),
            (" @ ", "user @ evil.com", "user@evil.com"),
            ("_at_", "user_at_evil.com", "user@evil.com"),
            // Other characters.
            ("[-]", "foo[-]bar.com", "foo-bar.com"),
            ("[www]", "[www].evil.com", "www.evil.com"),
            ("(www)", "(www)[.]evil[.]com", "www.evil.com"),
            ("zero-width", "ev\u{200b}il.com", "evil.com"),
            ("soft hyphen", "ev\u{ad}il.com", "evil.com"),
            ("no-break space", "a\u{a0}b", "a b"),
            // Left as written: prose and code.
            (
                "\\.NET kept",
                "Microsoft\\.NETFramework",
                "Microsoft\\.NETFramework",
            ),
            ("\\. at line start kept", "\\.net", "\\.net"),
            ("^. in a regex kept", "/^.*$/", "/^.*$/"),
            ("].[ in code kept", "a[0] .[b]", "a[0] .[b]"),
            ("<-> kept", "client<->server", "client<->server"),
            ("[-] in prose kept", "cell [-] here", "cell [-] here"),
            (
                "(www) in prose kept",
                "the (www) prefix",
                "the (www) prefix",
            ),
            ("at kept", "meet at noon", "meet at noon"),
            ("AT in capitals kept", "MEET AT NOON", "MEET AT NOON"),
            ("_at_ identifier kept", "created_at_utc", "created_at_utc"),
            (" @ in prose kept", "ping @ 5", "ping @ 5"),
            ("DOT glued kept", "fooDOTcom", "fooDOTcom"),
        ];
        for (style, a, b) in rows {
            assert_eq!(r(a), *b, "style {style}: {a}");
        }
    }

    #[test]
    fn caret_dot() {
        assert_eq!(r("example^.com"), "example.com");
        assert_eq!(r("www^.example^.com"), "www.example.com");
        let s = "see example^.com now";
        let f = refang(s);
        let i = f.text.find("example.com").unwrap();
        let e = i + "example.com".len();
        assert_eq!(&s[f.to_orig(i)..f.to_orig(e)], "example^.com");
        assert!(f.edited(i, e));
        // Not between alphanumerics: a regular expression, left alone.
        assert_eq!(r("grep '^.*evil' log"), "grep '^.*evil' log");
    }

    #[test]
    fn dash_dot_to_a_common_tld() {
        assert_eq!(r("bad-dot-com"), "bad.com");
        assert_eq!(r("example-dot-ru"), "example.ru");
        assert_eq!(r("visit bad-dot-com/x now"), "visit bad.com/x now");
        assert_eq!(r("my-bad-dot-info."), "my-bad.info.");
        let s = "C2: example-dot-ru, then";
        let f = refang(s);
        let i = f.text.find("example.ru").unwrap();
        let e = i + "example.ru".len();
        assert_eq!(&s[f.to_orig(i)..f.to_orig(e)], "example-dot-ru");
        assert!(f.edited(i, e));
    }

    #[test]
    fn dash_dot_before_another_label() {
        // The label after `-dot-` need not be a TLD when a dot follows it.
        assert_eq!(r("evil-dot-co-dot-uk"), "evil.co.uk");
        assert_eq!(r("cdn-dot-evilcorp.net"), "cdn.evilcorp.net");
        assert_eq!(r("a-dot-pattern[.]shop"), "a.pattern.shop");
    }

    #[test]
    fn dash_dot_prose_is_kept() {
        for s in [
            "a polka-dot-pattern dress",
            "polka-dot-design", // `design` is a TLD, but not a common one
            "state-of-the-art tooling",
            "ends with a dot-",
            "the end-dot marker",
            "the post-dot-com bust",
            "pre-dot-com valuations",
            "x-dot-comfortable",
            "-dot-com",
            "bad-dot-com-style",
            "polka-dot-pattern.",
        ] {
            assert_eq!(r(s), s, "{s}");
            assert!(!refang(s).edited(0, s.len()), "{s}");
        }
    }

    #[test]
    fn bracketed_comma_ipv4() {
        assert_eq!(r("5[,]6[,]7(,)8"), "5.6.7.8");
        let s = "to 5[,]6[,]7(,)8 now";
        let f = refang(s);
        let i = f.text.find("5.6.7.8").unwrap();
        assert_eq!(&s[f.to_orig(i)..f.to_orig(i + 7)], "5[,]6[,]7(,)8");
        let n = f.text.find("now").unwrap();
        assert_eq!(&s[f.to_orig(n)..f.to_orig(n + 3)], "now");
    }

    #[test]
    fn bare_comma_ipv4_after_an_address_word() {
        let cases = [
            ("IP 9,10,11,12", "IP 9.10.11.12"),
            ("C2 address: 9,10,11,12.", "C2 address: 9.10.11.12."),
            ("host=203,0,113,5 port 80", "host=203.0.113.5 port 80"),
            ("ipv4\t1,2,3,4", "ipv4\t1.2.3.4"),
            ("IPs 1,2,3,4 and 5,6,7,8", "IPs 1.2.3.4 and 5,6,7,8"),
        ];
        for (a, b) in cases {
            assert_eq!(r(a), b, "{a}");
        }
        let s = "server 9,10,11,12 up";
        let f = refang(s);
        let i = f.text.find("9.10.11.12").unwrap();
        let e = i + "9.10.11.12".len();
        assert_eq!(&s[f.to_orig(i)..f.to_orig(e)], "9,10,11,12");
        assert!(f.edited(i, e));
    }

    #[test]
    fn bare_comma_numbers_are_kept() {
        for s in [
            "versions 9,10,11,12 were affected",
            "9,10,11,12",
            "1,2,3,4\n5,6,7,8",
            "IP 1,2,3,4,5",
            "IP 1,2,3",
            "IP 1,2,3,256",
            "IP 01,2,3,4",
            "IP 1,2,3,4.5",
            "IP 1,2,3,4x",
            "IP x1,2,3,4",
            "zip 1,234,567,890",
            "rows 1,000,000",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
    }

    #[test]
    fn offsets_map_back() {
        let s = "see kb.dga[.]asia and 1.2.3[.]4 now";
        let f = refang(s);
        let t = &f.text;
        let a = t.find("kb.dga.asia").unwrap();
        let ae = a + "kb.dga.asia".len();
        assert_eq!(&s[f.to_orig(a)..f.to_orig(ae)], "kb.dga[.]asia");
        assert!(f.edited(a, ae));
        let i = t.find("1.2.3.4").unwrap();
        assert_eq!(&s[f.to_orig(i)..f.to_orig(i + 7)], "1.2.3[.]4");
        let n = t.find("now").unwrap();
        assert_eq!(&s[f.to_orig(n)..f.to_orig(n + 3)], "now");
        assert!(!f.edited(n, n + 3));
        assert!(!f.edited(0, 3));
    }
}
