use crate::{Document, Extractor, IndicatorKind as K, Options};

fn kinds(text: &str) -> Vec<(K, String)> {
    Extractor::new(Options::default())
        .extract(&Document::from_text("t.txt", text))
        .indicators
        .into_iter()
        .map(|i| (i.kind, i.value))
        .collect()
}

// The corpus holds an HTML report.
#[cfg(feature = "html")]
#[test]
fn builtin_corpus_meets_floors() {
    let corpus = crate::builtin_corpus().unwrap();
    let report = crate::evaluate(&Extractor::new(Options::default()), &corpus);
    let mut msg = String::new();
    for k in &report.kinds {
        for v in &k.false_positives {
            msg.push_str(&format!("FP {} {v}\n", k.kind));
        }
        for v in &k.false_negatives {
            msg.push_str(&format!("FN {} {v}\n", k.kind));
        }
    }
    let failures = report.failures(0.99, 0.97);
    assert!(failures.is_empty(), "{failures:?}\n{msg}");
}

#[test]
fn dedup_keeps_all_occurrences() {
    let ex = Extractor::new(Options::default());
    let out = ex.extract(&Document::from_text(
        "t",
        "# C2\n\nevil[.]com\n\n# Payload hosts\n\nhxxp://x[.]org/a and EVIL.com again: evil[.]com\n",
    ));
    let evil: Vec<_> = out
        .indicators
        .iter()
        .filter(|i| i.value == "evil.com")
        .collect();
    assert_eq!(evil.len(), 1);
    let occ = &evil[0].occurrences;
    assert_eq!(occ.len(), 3, "{occ:?}");
    assert_eq!(occ[0].context.role.as_deref(), Some("c2"));
    assert_eq!(occ[1].original, "EVIL.com");
    assert_eq!(occ[2].original, "evil[.]com");
    assert_eq!((occ[2].line, occ[2].column), (7, 38));
    assert_eq!(occ[2].context.heading.as_deref(), Some("Payload hosts"));
}

#[test]
fn keep_benign_and_custom_filter() {
    struct Block;
    impl crate::BenignFilter for Block {
        fn check(&self, _: K, value: &str) -> Option<String> {
            (value == "bad.org").then(|| "test-list".into())
        }
    }
    let doc = Document::from_text("t", "10.0.0.1 and bad[.]org and good[.]org\n");
    let out = Extractor::new(Options {
        benign: Some(std::sync::Arc::new(Block)),
        ..Options::default()
    })
    .extract(&doc);
    let sup: Vec<_> = out
        .suppressed
        .iter()
        .map(|s| (s.value.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(sup[0].0, "10.0.0.1");
    assert_eq!(sup[1], ("bad.org", "test-list"));
    assert_eq!(out.indicators.len(), 1);
    let out = Extractor::new(Options {
        keep_benign: true,
        ..Options::default()
    })
    .extract(&doc);
    assert_eq!(out.indicators.len(), 3);
    assert!(out.suppressed.is_empty());
}

#[test]
fn hex_kind_from_context() {
    let h64 = "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61";
    assert_eq!(
        kinds(&format!("TLS Certificates\n\n{h64}\n")),
        [(K::CertSha256, h64.into())]
    );
    assert_eq!(
        kinds(&format!("Loaders\n\n{h64}\n")),
        [(K::Sha256, h64.into())]
    );
    let h32 = "d41d8cd98f00b204e9800998ecf8427e";
    assert_eq!(kinds(&format!("JA3: {h32}\n")), [(K::Ja3, h32.into())]);
    assert_eq!(
        kinds(&format!("imphash {h32}\n")),
        [(K::Imphash, h32.into())]
    );
    assert_eq!(kinds(&format!("git commit {h32}\n")), []);
}

#[test]
fn tables_give_column_context() {
    let ex = Extractor::new(Options::default());
    let out = ex.extract(&Document::from_text(
        "t.md",
        "## Winnti\n\n| File name | SHA256 | C2 |\n|---|---|---|\n| my doc.exe | \
         5861584bb7fa46373c1b1f83b1e066a3d82e9c10ce87539ee1633ef0f567e743 | c2[.]evil[.]net |\n",
    ));
    let got: Vec<_> = out
        .indicators
        .iter()
        .map(|i| {
            let c = &i.occurrences[0].context;
            (
                i.kind,
                i.value.as_str(),
                c.table_header.as_deref(),
                c.role.as_deref(),
                c.family.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                K::FileName,
                "my doc.exe",
                Some("File name"),
                None,
                Some("Winnti")
            ),
            (
                K::Sha256,
                "5861584bb7fa46373c1b1f83b1e066a3d82e9c10ce87539ee1633ef0f567e743",
                Some("SHA256"),
                Some("payload"),
                Some("Winnti")
            ),
            (
                K::Domain,
                "c2.evil.net",
                Some("C2"),
                Some("c2"),
                Some("Winnti")
            ),
        ]
    );
}

#[test]
fn extract_line_fast_path() {
    let ex = Extractor::new(Options::default());
    let line = "2024-05-01T10:00:00Z GET http://kb.dga.asia/x from 1.13.82.101 to 10.0.0.5";
    let f = ex.extract_line(line);
    let got: Vec<_> = f.iter().map(|f| (f.kind, &line[f.start..f.end])).collect();
    assert_eq!(
        got,
        [(K::Url, "http://kb.dga.asia/x"), (K::Ipv4, "1.13.82.101")]
    );
}

#[test]
fn pdf_page_numbers_and_garbage_never_panic() {
    let ex = Extractor::new(Options::default());
    // Arbitrary bytes through every entry point: errors are fine, panics are not.
    let mut seed = 0x2545_f491_u64;
    for n in 0..200 {
        let mut b = Vec::new();
        for _ in 0..(n * 7 % 300) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b.push((seed % 256) as u8);
        }
        if n % 3 == 0 {
            b.splice(0..0, b"%PDF-1.4\n".iter().copied());
        }
        if let Ok(d) = Document::from_bytes("x", &b) {
            ex.extract(&d);
        }
        let s = String::from_utf8_lossy(&b);
        ex.extract_line(&s);
        ex.extract(&Document::from_text("x", &s));
    }
}

/// A version word ("version 1.2.3.4") was looked for by cutting the text
/// before an address one byte after the last non-letter: inside that
/// character when it was multi-byte, a panic.
#[test]
fn address_after_a_multibyte_character() {
    for text in [
        "é 45.77.153.197\n",
        "xé 45.77.153.197 ok\n",
        "→45.77.153.197\n",
    ] {
        assert_eq!(
            kinds(text),
            [(K::Ipv4, "45.77.153.197".to_string())],
            "{text:?}"
        );
    }
    // The version rule itself still holds after the change.
    let got = kinds("é version 45.77.153.197\n");
    assert!(got.iter().all(|(k, _)| *k != K::Ipv4), "{got:?}");
}

fn of_kind(text: &str, kind: K) -> Vec<String> {
    kinds(text)
        .into_iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, v)| v)
        .collect()
}

/// Key ends: end of line, comma, semicolon, quote, tab, `|`, the next hive,
/// or a space before a word that starts lower-case (prose). A space before
/// a capitalised word or before a further `\` component stays in the key.
#[test]
fn registry_key_forms() {
    assert_eq!(
        of_kind(
            "Persistence: <HKCU>\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\n",
            K::RegistryKey
        ),
        ["HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"]
    );
    assert_eq!(
        of_kind(
            "HKEY_USERS\\<SID>\\Software\\Classes\\ms-settings\\shell\\open\\command\n",
            K::RegistryKey
        ),
        ["HKEY_USERS\\<SID>\\Software\\Classes\\ms-settings\\shell\\open\\command"]
    );
    assert_eq!(
        of_kind(
            "HKCU\\Software\\A HKLM\\Software\\B, HKCR\\CLSID\\{1234}; HKU\\.DEFAULT\\C\n",
            K::RegistryKey
        ),
        [
            "HKCU\\Software\\A",
            "HKLM\\Software\\B",
            "HKCR\\CLSID\\{1234}",
            "HKU\\.DEFAULT\\C"
        ]
    );
    assert_eq!(
        of_kind(
            "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Shell Extensions\n",
            K::RegistryKey
        ),
        ["HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Shell Extensions"]
    );
    assert_eq!(
        of_kind(
            "It writes HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon and exits. \
             Then HKCU\\Software\\Run. The end\n",
            K::RegistryKey
        ),
        [
            "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
            "HKCU\\Software\\Run"
        ]
    );
    assert_eq!(
        of_kind(
            "the value \"HKCU\\Software\\Some vendor\\Key\" is set\n",
            K::RegistryKey
        ),
        ["HKCU\\Software\\Some vendor\\Key"]
    );
    // Curly quotes end a key; lower-case words that lead to a further
    // component belong to it.
    assert_eq!(
        of_kind(
            "added to the \u{201c}HKCU\\Software\\old app data\\Run\u{201d} key\n",
            K::RegistryKey
        ),
        ["HKCU\\Software\\old app data\\Run"]
    );
}

#[test]
fn cve_with_a_space() {
    assert_eq!(
        of_kind("exploits CVE 2021-44228 and cve-2023-1234.\n", K::Cve),
        ["CVE-2021-44228", "CVE-2023-1234"]
    );
}

/// Upper-case AS/ASN with or without a space; "asn" in any case; lower-case
/// "as" only glued to the number.
#[test]
fn asn_forms() {
    assert_eq!(
        of_kind("as1234, AS 2345, asn 3456, ASN4567, ASN: 5678\n", K::Asn),
        ["AS1234", "AS2345", "AS3456", "AS4567", "AS5678"]
    );
    assert_eq!(
        of_kind(
            "we saw it as 2 files, as 300 hosts, has12, AS0 and the asn1 parser\n",
            K::Asn
        ),
        Vec::<String>::new()
    );
}

#[test]
fn technique_forms() {
    assert_eq!(
        of_kind("t1329 and t1059.001 and T1566\n", K::Technique),
        ["T1329", "T1059.001", "T1566"]
    );
    assert_eq!(
        of_kind("T1156.0012 is not an id\n", K::Technique),
        Vec::<String>::new()
    );
}

#[test]
fn url_without_scheme_keeps_its_path() {
    assert_eq!(
        kinds("gate: evil[.]com/gate.php\n"),
        [
            (K::Url, "evil.com/gate.php".to_string()),
            (K::Domain, "evil.com".to_string())
        ]
    );
    assert_eq!(
        kinds("Payload at cdn.badhost.net/path/x.php?id=1.\n"),
        [
            (K::Url, "cdn.badhost.net/path/x.php?id=1".to_string()),
            (K::Domain, "cdn.badhost.net".to_string())
        ]
    );
    // A host inside a file path, or a bare domain, is not a URL.
    let got: Vec<_> = kinds("in /var/www/evil.com/x and evil.com/ only\n")
        .into_iter()
        .filter(|(k, _)| matches!(k, K::Url | K::Domain))
        .collect();
    assert_eq!(got, [(K::Domain, "evil.com".to_string())]);
    // Benign hosts stay out as URLs too.
    assert_eq!(
        of_kind("see github.com/org/repo\n", K::Url),
        Vec::<String>::new()
    );
}

#[test]
fn url_inside_a_query() {
    assert_eq!(
        of_kind(
            "https://r.clicktrack.xyz/r?x=1&url=http%3A%2F%2Fevil.com%2Fx and \
             https://r.clicktrack.xyz/r?u=https://bad.org/y\n",
            K::Url
        ),
        [
            "https://r.clicktrack.xyz/r?x=1&url=http%3A%2F%2Fevil.com%2Fx",
            "http://evil.com/x",
            "https://r.clicktrack.xyz/r?u=https://bad.org/y",
            "https://bad.org/y"
        ]
    );
}

/// Ambiguous TLDs (`.pl`, `.in`, `.sh`) in a block of bare values are
/// domains; in a sentence they are not.
#[test]
fn ambiguous_tld_in_a_list() {
    assert_eq!(
        of_kind(
            "Indicators\n\nptgp.pl\nholishit.in\nfmc.org.in\n",
            K::Domain
        ),
        ["ptgp.pl", "holishit.in", "fmc.org.in"]
    );
    assert_eq!(
        of_kind("- ptgp.pl\n- 45.77.153.197\n", K::Domain),
        ["ptgp.pl"]
    );
    assert_eq!(
        of_kind("Then see setup.py and\nrun.sh in the repo.\n", K::Domain),
        Vec::<String>::new()
    );
    // Next to a name that can only be a file, it is a file listing.
    assert_eq!(
        of_kind("setup.py\nconfig.json\n", K::Domain),
        Vec::<String>::new()
    );
    // A lone bare line is not a list.
    assert_eq!(
        of_kind("Intro.\n\nrun.sh\n\nDone.\n", K::Domain),
        Vec::<String>::new()
    );
    // A multi-label public suffix is no file extension.
    assert_eq!(
        of_kind("reached fmc.org.in today\n", K::Domain),
        ["fmc.org.in"]
    );
}
