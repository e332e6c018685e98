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
    /// `hxxp`-style scheme: replace only before `s:`/`:`/`[`.
    Scheme(&'static str),
    /// ` dot `: only between two alphanumerics.
    SpacedDot,
    /// `\.`: only before a lower-case letter or digit (so `\.NET` in a
    /// registry path stays).
    EscapedDot,
    /// `[.]` at the end of a line whose next line starts with a label: the
    /// value was wrapped; join.
    WrappedDot,
    /// `。`: an ideographic full stop between ASCII alphanumerics.
    IdeoDot,
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
            for inner in [".", "dot", " . ", " .", ". ", " dot "] {
                let p = format!("{open}{inner}{close}");
                add(&p, Rep::Text("."));
                add(&format!(" {p} "), Rep::Text("."));
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
            for inner in ["@", "at", " at ", " @ "] {
                let p = format!("{open}{inner}{close}");
                add(&p, Rep::Text("@"));
                add(&format!(" {p} "), Rep::Text("@"));
            }
        }
        add("hxxp", Rep::Scheme("http"));
        add("hxtp", Rep::Scheme("http"));
        add("htxp", Rep::Scheme("http"));
        add("h**p", Rep::Scheme("http"));
        add("fxp", Rep::Scheme("ftp"));
        add(" dot ", Rep::SpacedDot);
        add("\\.", Rep::EscapedDot);
        for zw in [
            '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}',
        ] {
            add(&zw.to_string(), Rep::Text(""));
        }
        add("\u{a0}", Rep::Text(" "));
        add("\u{3002}", Rep::IdeoDot);
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
            // A full DFA: a few hundred KB, and the fastest search.
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
                let ok = !prev.is_ascii_alphanumeric()
                    && (tail.first() == Some(&b':')
                        || tail.first() == Some(&b'[')
                        || (tail.first().is_some_and(|c| c.eq_ignore_ascii_case(&b's'))
                            && matches!(tail.get(1), Some(b':') | Some(b'['))));
                ok.then_some(t)
            }
            Rep::SpacedDot => {
                (prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric()).then_some(".")
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
            Rep::IdeoDot => {
                (prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric()).then_some(".")
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
