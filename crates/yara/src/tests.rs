use crate::errors::YaraError;
use crate::{MetaValue, RuleSource, Rules, namespace_for};
use std::time::{Duration, Instant};

// A compile-time check: a rayon pool can share one rule set.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Rules>();
};

fn compile(sources: &[(&str, &str)]) -> Result<(Rules, crate::LoadReport), YaraError> {
    let sources: Vec<RuleSource> = sources
        .iter()
        .map(|(origin, text)| RuleSource::new(*origin, *text))
        .collect();
    Rules::compile(&sources)
}

#[test]
fn tags_and_metadata_come_back_with_the_match() -> Result<(), YaraError> {
    let text = r#"
rule beacon : net c2 {
    meta:
        author = "cairn"
        score = 80
        ratio = 0.5
        active = true
        raw = "\xff\x41"
    strings:
        $ua = "Mozilla/4.0 (compatible; beacon)"
    condition:
        $ua
}
rule unrelated { strings: $x = "never here" condition: $x }
"#;
    let (rules, report) = compile(&[("rules/net.yar", text)])?;
    assert_eq!(report.loaded_rules, 2);
    assert_eq!(rules.rule_count(), 2);
    assert!(report.failed.is_empty(), "{:?}", report.failed);

    let mut scanner = rules.scanner();
    let matches =
        scanner.scan(b"GET / HTTP/1.1\r\nUser-Agent: Mozilla/4.0 (compatible; beacon)\r\n")?;
    assert_eq!(matches.len(), 1, "{matches:?}");
    let m = &matches[0];
    assert_eq!(m.rule, "beacon");
    assert_eq!(m.namespace, "net");
    assert_eq!(m.tags, ["net", "c2"]);
    assert_eq!(
        m.metadata,
        [
            ("author".to_owned(), MetaValue::String("cairn".to_owned())),
            ("score".to_owned(), MetaValue::Integer(80)),
            ("ratio".to_owned(), MetaValue::Float(0.5)),
            ("active".to_owned(), MetaValue::Bool(true)),
            ("raw".to_owned(), MetaValue::Bytes(vec![0xff, 0x41])),
        ]
    );
    // Metadata reads as plain JSON values; bytes that are not UTF-8 as escapes.
    let json = serde_json::to_value(m).map_err(|e| YaraError::Scan {
        message: e.to_string(),
    })?;
    assert_eq!(
        json["metadata"],
        serde_json::json!([
            ["author", "cairn"],
            ["score", 80],
            ["ratio", 0.5],
            ["active", true],
            ["raw", "\\xffA"]
        ])
    );

    assert!(scanner.scan(b"nothing to see")?.is_empty());
    Ok(())
}

#[test]
fn a_broken_source_is_reported_with_its_line_and_the_good_one_still_loads() -> Result<(), YaraError>
{
    let good = "rule good { condition: true }";
    // Line 4 lacks the `:` after `condition`.
    let broken = "rule fine_so_far {\n    strings:\n        $a = \"x\"\n    condition $a\n}\n";
    let (rules, report) = compile(&[("rules/broken.yar", broken), ("store:good", good)])?;
    assert_eq!(report.sources, 2);
    assert_eq!(report.loaded_rules, 1);
    assert_eq!(rules.rule_count(), 1);
    assert_eq!(report.failed_origins(), ["rules/broken.yar"]);
    let first = &report.failed[0];
    assert_eq!(first.line, Some(4), "{first:?}");
    assert_eq!(first.code, "E001");
    assert!(first.message.starts_with("syntax error"), "{first:?}");
    assert!(
        first
            .to_string()
            .starts_with("rules/broken.yar:4: syntax error"),
        "{first}"
    );

    let matches = rules.scanner().scan(b"")?;
    assert_eq!(matches.len(), 1);
    assert_eq!(
        (matches[0].namespace.as_str(), matches[0].rule.as_str()),
        ("good", "good")
    );
    Ok(())
}

#[test]
fn a_semantic_error_names_its_line_too() -> Result<(), YaraError> {
    let text = "rule a { condition: true }\n\nrule b {\n  condition:\n    no_such_thing\n}\n";
    let (_, report) = compile(&[("x.yar", text)])?;
    assert_eq!(report.loaded_rules, 1, "rule a stays");
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed[0].line, Some(5));
    assert!(
        report.failed[0].message.contains("unknown identifier"),
        "{:?}",
        report.failed
    );
    Ok(())
}

#[test]
fn no_good_rule_at_all_is_an_error() {
    let none = Rules::compile(&[]);
    assert!(
        matches!(none, Err(YaraError::NoRules { sources: 0, .. })),
        "{none:?}"
    );

    let all_bad = compile(&[
        ("a.yar", "rule { condition: true }"),
        ("b.yar", "rule b { condition: }"),
    ]);
    match all_bad {
        Err(YaraError::NoRules { sources, failed }) => {
            assert_eq!(sources, 2);
            let origins: Vec<&str> = failed.iter().map(|f| f.origin.as_str()).collect();
            assert!(
                origins.contains(&"a.yar") && origins.contains(&"b.yar"),
                "{failed:?}"
            );
        }
        other => panic!("expected NoRules, got {other:?}"),
    }

    // Compiles, but holds no rule: still nothing to scan with.
    let empty = compile(&[("empty.yar", "// nothing yet\n")]);
    assert!(
        matches!(empty, Err(YaraError::NoRules { sources: 1, ref failed }) if failed.is_empty()),
        "{empty:?}"
    );
    let message = compile(&[("a.yar", "rule {")])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("a.yar:1"), "{message}");
}

#[test]
fn namespaces_keep_same_named_rules_apart() -> Result<(), YaraError> {
    let one = r#"rule evil { meta: from = "one" strings: $a = "AAAA" condition: $a }"#;
    let two = r#"rule evil { meta: from = "two" strings: $b = "BBBB" condition: $b }"#;
    // Same stem twice: the second namespace is deduplicated.
    let three = r#"rule evil { meta: from = "three" condition: filesize == 8 }"#;
    let (rules, report) = compile(&[
        ("feeds/one.yar", one),
        ("store:two", two),
        ("other/one.yara", three),
    ])?;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(rules.rule_count(), 3);

    let mut scanner = rules.scanner();
    let mut hits: Vec<(String, String)> = scanner
        .scan(b"AAAABBBB")?
        .into_iter()
        .map(|m| (m.namespace, m.rule))
        .collect();
    hits.sort();
    let expected = [("one", "evil"), ("one_2", "evil"), ("two", "evil")];
    assert_eq!(hits, expected.map(|(n, r)| (n.to_owned(), r.to_owned())));
    Ok(())
}

#[test]
fn namespaces_come_from_file_stems_and_store_names() {
    assert_eq!(namespace_for("/etc/cairn/rules/apt-1.yar"), "apt_1");
    assert_eq!(namespace_for("store:Signed PE"), "Signed_PE");
    assert_eq!(namespace_for("store:"), "rules");
    assert_eq!(namespace_for(""), "rules");
}

#[test]
fn a_source_named_default_still_gets_its_own_namespace() -> Result<(), YaraError> {
    let (rules, _) = compile(&[
        ("store:default", "rule a { condition: true }"),
        ("default.yar", "rule a { condition: true }"),
    ])?;
    let mut namespaces: Vec<String> = rules
        .scanner()
        .scan(b"")?
        .into_iter()
        .map(|m| m.namespace)
        .collect();
    namespaces.sort();
    assert_eq!(namespaces, ["default_2", "default_3"]);
    Ok(())
}

#[test]
fn includes_are_refused() -> Result<(), YaraError> {
    let (_, report) = compile(&[
        (
            "store:sneaky",
            "include \"/etc/passwd\"\nrule a { condition: true }",
        ),
        ("store:fine", "rule b { condition: true }"),
    ])?;
    assert_eq!(report.failed_origins(), ["store:sneaky"]);
    assert_eq!(report.failed[0].line, Some(1));
    Ok(())
}

#[test]
fn warnings_are_kept_with_their_origin() -> Result<(), YaraError> {
    // yara-x warns of an integer used as a boolean.
    let (_, report) = compile(&[("w.yar", "rule w {\n condition:\n  filesize\n}")])?;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(!report.warnings.is_empty(), "{report:?}");
    assert_eq!(report.warnings[0].origin, "w.yar");
    assert_eq!(report.warnings[0].line, Some(3), "{:?}", report.warnings);
    Ok(())
}

#[test]
fn a_timeout_is_an_error_value() -> Result<(), YaraError> {
    // Never true, so both loops run to the end: quadratic in the input, far
    // beyond one second on 1 MiB.
    let slow = "rule slow {\n condition:\n  for any i in (0..filesize - 1) : (\n    for any j in (0..filesize - 1) : (uint8(i) + uint8(j) > 600)\n  )\n}";
    let (rules, _) = compile(&[("slow.yar", slow)])?;
    let mut scanner = rules.scanner().with_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let result = scanner.scan(&vec![0u8; 1 << 20]);
    assert!(
        matches!(result, Err(YaraError::Timeout { after }) if after == Duration::from_secs(1)),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    // The scanner stays usable after a timeout.
    assert!(scanner.scan(b"")?.is_empty());
    Ok(())
}

#[test]
fn threads_share_one_rule_set() -> Result<(), YaraError> {
    let (rules, _) = compile(&[(
        "t.yar",
        r#"rule t { strings: $a = "needle" condition: $a }"#,
    )])?;
    let counts = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|n| {
                let rules = &rules;
                s.spawn(move || {
                    let mut scanner = rules.scanner();
                    let input = if n % 2 == 0 {
                        &b"hay needle hay"[..]
                    } else {
                        b"hay"
                    };
                    scanner.scan(input).map(|m| m.len())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Ok(usize::MAX)))
            .collect::<Result<Vec<_>, _>>()
    })?;
    assert_eq!(counts, [1, 0, 1, 0]);
    Ok(())
}
