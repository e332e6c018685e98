//! Indicators in free text, for plain-text logs (and text fields): the
//! [`LineExtractor`] seam, Cairn's report extractor behind it, and a small
//! built-in tokenizer as the default.

use cairn_model::IndicatorKind;

/// Finds indicators in free text, for plain-text logs. Cairn's report
/// extractor plugs in here; a small built-in tokenizer is the default.
pub trait LineExtractor: Send + Sync {
    /// Typed, refanged indicator values found in `line`.
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)>;
}

/// The report extractor for plain-text logs (defangs, types, public-suffix
/// checks), as the CLI and server hunt them, with benign values kept (the
/// index decides what matters). Built on first use: most hunts read no
/// plain-text line, and building it costs more than scanning a small log.
#[derive(Default)]
pub struct ReportExtractor(std::sync::OnceLock<cairn_extract::Extractor>);

impl LineExtractor for ReportExtractor {
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)> {
        let ex = self.0.get_or_init(|| {
            cairn_extract::Extractor::new(cairn_extract::Options {
                keep_benign: true,
                ..cairn_extract::Options::default()
            })
        });
        LineExtractor::extract(ex, line)
    }
}

/// Plain-text logs read with the report extractor's rules.
impl LineExtractor for cairn_extract::Extractor {
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)> {
        self.extract_line(line)
            .into_iter()
            .map(|f| (f.kind, f.value))
            .collect()
    }
}

/// The built-in tokenizer: splits on separators, refangs `[.]`, `hxxp`,
/// strips ports, and types each token with [`IndicatorKind::detect`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SimpleTokenizer;

impl LineExtractor for SimpleTokenizer {
    fn extract(&self, line: &str) -> Vec<(IndicatorKind, String)> {
        let refanged;
        let line = if line.contains('[') || line.contains("hxxp") || line.contains("(.)") {
            refanged = line
                .replace("[.]", ".")
                .replace("(.)", ".")
                .replace("[:]", ":")
                .replace("[@]", "@")
                .replace("hxxp", "http");
            refanged.as_str()
        } else {
            line
        };
        let mut out = Vec::new();
        for tok in line.split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\'' | '<' | '>' | ',' | ';' | '|' | '{' | '}' | '`'
                )
        }) {
            if let Some(i) = tok.find("://") {
                // The scheme starts after the last non-scheme character (`c2=https://…`).
                // (After that character whole: it may be several bytes long.)
                let start = tok[..i]
                    .char_indices()
                    .rfind(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
                    .map_or(0, |(j, c)| j + c.len_utf8());
                let t = tok[start..].trim_end_matches(['.', ')', ']', ':']);
                let t = t.trim_start_matches(['(', '[']);
                if IndicatorKind::detect(t) == Some(IndicatorKind::Url) {
                    out.push((IndicatorKind::Url, t.to_string()));
                }
                continue;
            }
            for part in tok.split('=') {
                let t = part.trim_matches(|c: char| {
                    matches!(c, '(' | ')' | '[' | ']' | '.' | ':' | '!' | '?')
                });
                if t.len() < 4 {
                    continue;
                }
                let kind = IndicatorKind::detect(t).or_else(|| {
                    // `1.2.3.4:443`, `evil.com:8080`
                    let (h, p) = t.rsplit_once(':')?;
                    (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| IndicatorKind::detect(h))
                        .flatten()
                        .filter(|k| matches!(k, IndicatorKind::Ipv4 | IndicatorKind::Domain))
                });
                if let Some(k) = kind {
                    out.push((k, t.to_string()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_finds_defanged_and_ported_values() {
        let got = SimpleTokenizer
            .extract("c2=hxxps://kb[.]dga[.]asia/x conn to 45.77.153.197:443 (evil.com).");
        let vals: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            vals,
            ["https://kb.dga.asia/x", "45.77.153.197:443", "evil.com"]
        );
    }

    /// A URL right after a multi-byte character (`éhttp://…`, `→http://…`)
    /// cut the token inside that character and panicked (found by fuzzing).
    #[test]
    fn url_after_a_multibyte_character() {
        for line in [
            "éhttp://evil.example.com/a",
            "x →https://evil.example.com/a ok",
        ] {
            let got = SimpleTokenizer.extract(line);
            let urls: Vec<&str> = got
                .iter()
                .filter(|(k, _)| *k == IndicatorKind::Url)
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(urls.len(), 1, "{line}: {got:?}");
            assert!(
                urls[0].ends_with("://evil.example.com/a"),
                "{line}: {urls:?}"
            );
        }
    }
}
