//! Names in prose: software and groups by every alias, countries by name,
//! adjective or ISO code, sectors by the words reports use for them.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// How one pattern must be met in the text.
#[derive(Debug, Clone)]
struct Pattern<T> {
    /// The pattern as written in the lexicon.
    text: String,
    /// Met only with this exact capitalisation.
    exact_case: bool,
    value: T,
}

/// A case-blind, leftmost-longest, whole-word matcher over a lexicon.
#[derive(Debug, Clone)]
pub(crate) struct Lexicon<T> {
    ac: Option<AhoCorasick>,
    patterns: Vec<Pattern<T>>,
    /// Also met with a plural `s` or `es` right after.
    plurals: bool,
}

/// One match: byte range in the text and the lexicon's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit<'a, T> {
    pub start: usize,
    pub end: usize,
    pub value: &'a T,
}

impl<T> Lexicon<T> {
    /// A lexicon of (pattern, exact case, value).
    pub(crate) fn new(entries: Vec<(String, bool, T)>) -> Lexicon<T> {
        let patterns: Vec<Pattern<T>> = entries
            .into_iter()
            .map(|(text, exact_case, value)| Pattern {
                text,
                exact_case,
                value,
            })
            .collect();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|p| p.text.as_str()))
            .ok();
        Lexicon {
            ac,
            patterns,
            plurals: false,
        }
    }

    /// Its entries and whether it meets plurals: what [`Lexicon::from_parts`]
    /// rebuilds it from (the automaton itself is not saved).
    pub(crate) fn parts(&self) -> (Vec<(String, bool, T)>, bool)
    where
        T: Clone,
    {
        let entries = self
            .patterns
            .iter()
            .map(|p| (p.text.clone(), p.exact_case, p.value.clone()))
            .collect();
        (entries, self.plurals)
    }

    /// A lexicon rebuilt from [`Lexicon::parts`].
    pub(crate) fn from_parts((entries, plurals): (Vec<(String, bool, T)>, bool)) -> Lexicon<T> {
        let mut l = Lexicon::new(entries);
        l.plurals = plurals;
        l
    }

    /// The same lexicon, also meeting each pattern in the plural.
    pub(crate) fn with_plurals(mut self) -> Lexicon<T> {
        self.plurals = true;
        self
    }

    /// Whole-word matches in `text`, left to right.
    pub(crate) fn find<'a>(&'a self, text: &str) -> Vec<Hit<'a, T>> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        let bytes = text.as_bytes();
        let word = |i: Option<&u8>| i.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        ac.find_iter(text)
            .filter_map(|m| {
                let p = &self.patterns[m.pattern().as_usize()];
                let s = m.start();
                let mut e = m.end();
                if self.plurals && word(bytes.get(e)) {
                    for suffix in ["s", "es"] {
                        let n = e + suffix.len();
                        if text
                            .get(e..n)
                            .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
                            && !word(bytes.get(n))
                        {
                            e = n;
                            break;
                        }
                    }
                }
                let bounded =
                    !word(s.checked_sub(1).and_then(|i| bytes.get(i))) && !word(bytes.get(e));
                let cased = !p.exact_case || text.get(s..m.end()) == Some(p.text.as_str());
                (bounded && cased).then_some(Hit {
                    start: s,
                    end: e,
                    value: &p.value,
                })
            })
            .collect()
    }
}

/// Aliases that are ordinary words in a report even when capitalised.
const COMMON_WORD_ALIASES: &[&str] = &[
    "agent", "page", "net", "ping", "expand", "reg", "cmd", "at", "dust", "route", "tor", "ace",
    "mis", "pony", "zox", "hide", "stuck", "joke", "flame", "duqu 2.0", "cobra", "komodo",
    "taidoor", "tiny", "mosquito", "hammer", "sunspot", "emissary", "ebury", "grim", "flag",
    "cuba", "ragnar", "mango", "oldbait",
];

/// How an alias is met in prose, or `None` to leave it out: shorter than
/// three characters, or three without a digit or all capitals, is too
/// likely an ordinary word; a one-word alias of letters is met only as
/// written (`Empire` the tool, not "empire"); names with digits, spaces or
/// punctuation are distinctive enough to meet in any case.
pub(crate) fn alias_rule(alias: &str) -> Option<bool> {
    let a = alias.trim();
    let n = a.chars().count();
    let lower = a.to_lowercase();
    if n < 3 || COMMON_WORD_ALIASES.contains(&lower.as_str()) {
        return None;
    }
    let has_digit = a.chars().any(|c| c.is_ascii_digit());
    let all_caps = a.chars().all(|c| !c.is_alphabetic() || c.is_uppercase());
    if n == 3 && !(has_digit || all_caps) {
        return None;
    }
    let one_word_letters = a.chars().all(char::is_alphabetic);
    Some(one_word_letters)
}

/// Countries as reports name them: name forms and adjectives → ISO code.
/// Long names come from the ISO table (`celes`); these are the short and
/// adjective forms it lacks.
const COUNTRY_FORMS: &[(&str, &str)] = &[
    ("Afghan", "AF"),
    ("Albanian", "AL"),
    ("Algerian", "DZ"),
    ("American", "US"),
    ("United States", "US"),
    ("U.S.", "US"),
    ("USA", "US"),
    ("Argentinian", "AR"),
    ("Armenian", "AM"),
    ("Australian", "AU"),
    ("Austrian", "AT"),
    ("Azerbaijani", "AZ"),
    ("Bahraini", "BH"),
    ("Bangladeshi", "BD"),
    ("Belarusian", "BY"),
    ("Belgian", "BE"),
    ("Bhutanese", "BT"),
    ("Bolivian", "BO"),
    ("Brazilian", "BR"),
    ("Bruneian", "BN"),
    ("Brunei", "BN"),
    ("Bulgarian", "BG"),
    ("Burmese", "MM"),
    ("Burma", "MM"),
    ("Cambodian", "KH"),
    ("Cameroonian", "CM"),
    ("Canadian", "CA"),
    ("Chilean", "CL"),
    ("Chinese", "CN"),
    ("PRC", "CN"),
    ("Mainland China", "CN"),
    ("Colombian", "CO"),
    ("Croatian", "HR"),
    ("Cuban", "CU"),
    ("Cypriot", "CY"),
    ("Czech", "CZ"),
    ("Czech Republic", "CZ"),
    ("Danish", "DK"),
    ("Dutch", "NL"),
    ("Netherlands", "NL"),
    ("Ecuadorian", "EC"),
    ("Egyptian", "EG"),
    ("Emirati", "AE"),
    ("UAE", "AE"),
    ("United Arab Emirates", "AE"),
    ("Estonian", "EE"),
    ("Ethiopian", "ET"),
    ("Filipino", "PH"),
    ("Philippine", "PH"),
    ("Philippines", "PH"),
    ("Finnish", "FI"),
    ("French", "FR"),
    ("Georgian", "GE"),
    ("German", "DE"),
    ("Ghanaian", "GH"),
    ("Greek", "GR"),
    ("Hong Kong", "HK"),
    ("Hungarian", "HU"),
    ("Icelandic", "IS"),
    ("Indian", "IN"),
    ("Indonesian", "ID"),
    ("Iranian", "IR"),
    ("Iran", "IR"),
    ("Iraqi", "IQ"),
    ("Irish", "IE"),
    ("Israeli", "IL"),
    ("Italian", "IT"),
    ("Japanese", "JP"),
    ("Jordanian", "JO"),
    ("Kazakh", "KZ"),
    ("Kazakhstani", "KZ"),
    ("Kenyan", "KE"),
    ("Korean", "KR"),
    ("South Korean", "KR"),
    ("South Korea", "KR"),
    ("Republic of Korea", "KR"),
    ("North Korean", "KP"),
    ("North Korea", "KP"),
    ("DPRK", "KP"),
    ("Kuwaiti", "KW"),
    ("Kyrgyz", "KG"),
    ("Lao", "LA"),
    ("Laos", "LA"),
    ("Laotian", "LA"),
    ("Latvian", "LV"),
    ("Lebanese", "LB"),
    ("Libyan", "LY"),
    ("Lithuanian", "LT"),
    ("Macanese", "MO"),
    ("Macau", "MO"),
    ("Macao", "MO"),
    ("Malaysian", "MY"),
    ("Maldivian", "MV"),
    ("Mexican", "MX"),
    ("Moldovan", "MD"),
    ("Moldova", "MD"),
    ("Mongolian", "MN"),
    ("Moroccan", "MA"),
    ("Nepalese", "NP"),
    ("Nepali", "NP"),
    ("New Zealand", "NZ"),
    ("Nigerian", "NG"),
    ("Norwegian", "NO"),
    ("Omani", "OM"),
    ("Pakistani", "PK"),
    ("Palestinian", "PS"),
    ("Peruvian", "PE"),
    ("Polish", "PL"),
    ("Portuguese", "PT"),
    ("Qatari", "QA"),
    ("Romanian", "RO"),
    ("Russian", "RU"),
    ("Russia", "RU"),
    ("Saudi", "SA"),
    ("Saudi Arabia", "SA"),
    ("Serbian", "RS"),
    ("Singaporean", "SG"),
    ("Slovak", "SK"),
    ("Slovenian", "SI"),
    ("South African", "ZA"),
    ("Spanish", "ES"),
    ("Sri Lankan", "LK"),
    ("Sudanese", "SD"),
    ("Swedish", "SE"),
    ("Swiss", "CH"),
    ("Syrian", "SY"),
    ("Syria", "SY"),
    ("Taiwanese", "TW"),
    ("Taiwan", "TW"),
    ("Tajik", "TJ"),
    ("Thai", "TH"),
    ("Tibetan", "CN"),
    ("Tunisian", "TN"),
    ("Turkish", "TR"),
    ("Turkey", "TR"),
    ("Türkiye", "TR"),
    ("Turkmen", "TM"),
    ("Ugandan", "UG"),
    ("Ukrainian", "UA"),
    ("British", "GB"),
    ("United Kingdom", "GB"),
    ("UK", "GB"),
    ("Uzbek", "UZ"),
    ("Venezuelan", "VE"),
    ("Venezuela", "VE"),
    ("Vietnamese", "VN"),
    ("Vietnam", "VN"),
    ("Viet Nam", "VN"),
    ("Yemeni", "YE"),
    ("Zimbabwean", "ZW"),
    ("Bolivia", "BO"),
    ("Tanzania", "TZ"),
    ("Vatican", "VA"),
    ("Kosovo", "XK"),
];

/// ISO names that are also ordinary words or people's names in reports.
const COUNTRY_NAME_SKIP: &[&str] = &["Chad", "Jersey", "Guernsey", "Georgia", "Jordan", "Niger"];

/// The country lexicon: every ISO short name, then the forms above.
pub(crate) fn country_lexicon() -> Lexicon<&'static str> {
    let mut entries: Vec<(String, bool, &'static str)> = Vec::new();
    for c in celes::Country::get_countries() {
        let n = c.long_name.strip_prefix("The ").unwrap_or(c.long_name);
        let short = n.split(',').next().unwrap_or(n).trim();
        if short.is_empty() || COUNTRY_NAME_SKIP.contains(&short) {
            continue;
        }
        entries.push((short.to_string(), true, c.alpha2));
    }
    for (form, code) in COUNTRY_FORMS {
        entries.push((form.to_string(), true, code));
    }
    Lexicon::new(entries)
}

/// Words reports use for sectors, with the STIX `industry-sector-ov` value.
const SECTOR_FORMS: &[(&str, &str)] = &[
    ("government", "government"),
    ("governments", "government"),
    ("government agencies", "government"),
    ("government entities", "government"),
    ("government organizations", "government"),
    ("ministries", "government-national"),
    ("ministry of foreign affairs", "government-national"),
    ("foreign ministries", "government-national"),
    ("embassies", "government-national"),
    ("diplomatic", "government-national"),
    ("public sector", "government"),
    ("local government", "government-local"),
    ("telecommunications", "telecommunications"),
    ("telecommunication", "telecommunications"),
    ("telecom", "telecommunications"),
    ("telecoms", "telecommunications"),
    ("telecommunications providers", "telecommunications"),
    ("internet service providers", "telecommunications"),
    ("academia", "education"),
    ("academic", "education"),
    ("universities", "education"),
    ("university", "education"),
    ("education", "education"),
    ("educational", "education"),
    ("research institutes", "education"),
    ("think tanks", "education"),
    ("healthcare", "healthcare"),
    ("health care", "healthcare"),
    ("hospitals", "healthcare"),
    ("medical", "healthcare"),
    ("pharmaceutical", "pharmaceuticals"),
    ("pharmaceuticals", "pharmaceuticals"),
    ("defense", "defense"),
    ("defence", "defense"),
    ("military", "defense"),
    ("defense industrial base", "defense"),
    ("financial", "financial-services"),
    ("finance", "financial-services"),
    ("banking", "financial-services"),
    ("banks", "financial-services"),
    ("cryptocurrency", "financial-services"),
    ("insurance", "insurance"),
    ("media", "communications"),
    ("news media", "communications"),
    ("journalists", "communications"),
    ("technology", "technology"),
    ("information technology", "technology"),
    ("IT companies", "technology"),
    ("software companies", "technology"),
    ("high-tech", "technology"),
    ("energy", "energy"),
    ("oil and gas", "energy"),
    ("utilities", "utilities"),
    ("electric utilities", "utilities"),
    ("aviation", "transportation"),
    ("airlines", "transportation"),
    ("aerospace", "aerospace"),
    ("manufacturing", "manufacturing"),
    ("manufacturers", "manufacturing"),
    ("gambling", "entertainment"),
    ("gaming", "entertainment"),
    ("video game", "entertainment"),
    ("NGOs", "non-profit"),
    ("non-governmental organizations", "non-profit"),
    ("non-profit", "non-profit"),
    ("nonprofit", "non-profit"),
    ("retail", "retail"),
    ("hospitality", "hospitality-leisure"),
    ("hotels", "hospitality-leisure"),
    ("transportation", "transportation"),
    ("logistics", "transportation"),
    ("shipping", "transportation"),
    ("maritime", "transportation"),
    ("mining", "mining"),
    ("automotive", "automotive"),
    ("construction", "construction"),
    ("chemical", "chemical"),
    ("chemicals", "chemical"),
    ("agriculture", "agriculture"),
    ("critical infrastructure", "infrastructure"),
    ("water utilities", "infrastructure-water"),
    ("nuclear", "infrastructure-nuclear"),
];

/// The sector lexicon.
pub(crate) fn sector_lexicon() -> Lexicon<&'static str> {
    Lexicon::new(
        SECTOR_FORMS
            .iter()
            // "IT" and "NGOs" only as written: "it" is a pronoun.
            .map(|(f, v)| (f.to_string(), f.chars().any(char::is_uppercase), *v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_longest_first_and_case_where_it_matters() {
        let lex = Lexicon::new(vec![
            ("Cobalt Strike".into(), false, 1),
            ("Cobalt".into(), true, 2),
            ("Empire".into(), true, 3),
        ]);
        let vals = |t: &str| lex.find(t).iter().map(|h| *h.value).collect::<Vec<_>>();
        assert_eq!(vals("used cobalt strike and Empire"), [1, 3]);
        assert_eq!(vals("an empire of cobalts"), Vec::<i32>::new());
        assert_eq!(vals("Cobalt, then"), [2]);
        let plural = Lexicon::new(vec![("Windows Service".to_string(), false, 1)]).with_plurals();
        assert_eq!(plural.find("new Windows services were")[0].end, 20);
        assert!(plural.find("Windows Servicex").is_empty());
    }

    #[test]
    fn alias_rules() {
        assert_eq!(alias_rule("at"), None);
        assert_eq!(alias_rule("Net"), None);
        assert_eq!(alias_rule("Agent"), None);
        assert_eq!(alias_rule("TA505"), Some(false));
        assert_eq!(alias_rule("APT"), Some(true));
        assert_eq!(alias_rule("Empire"), Some(true));
        assert_eq!(alias_rule("TAG-22"), Some(false));
        assert_eq!(alias_rule("Earth Lusca"), Some(false));
    }

    #[test]
    fn countries_by_name_adjective_and_iso_table() {
        let lex = country_lexicon();
        let codes = |t: &str| lex.find(t).iter().map(|h| *h.value).collect::<Vec<_>>();
        assert_eq!(codes("targets in Taiwan and the Philippines"), ["TW", "PH"]);
        assert_eq!(
            codes("a Vietnamese ministry and South Korean firms"),
            ["VN", "KR"]
        );
        assert_eq!(codes("Mongolia, Nepal"), ["MN", "NP"]);
        assert!(codes("the turkey was in chad").is_empty());
    }

    #[test]
    fn sectors() {
        let lex = sector_lexicon();
        let s = |t: &str| lex.find(t).iter().map(|h| *h.value).collect::<Vec<_>>();
        assert_eq!(
            s("government agencies, universities and telecom providers"),
            ["government", "education", "telecommunications"]
        );
        assert!(s("it was sent").is_empty());
    }
}
