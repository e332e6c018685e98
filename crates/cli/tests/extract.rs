//! `cairn extract` and `cairn eval extraction`, run as a user would.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs cairn with no store: these tests are about indicators, and the
/// prose reader would train on whatever store the machine has.
fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .env(
            "CAIRN_DB",
            std::env::temp_dir().join("cairn-extract-tests-no-store.db"),
        )
        .args(args)
        .output()
        .expect("run cairn")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

/// What the appendix says, derived line by line without the extractor:
/// strip, refang `[.]`, type by shape and by the section heading above.
fn appendix_truth(text: &str) -> BTreeMap<(String, String), Option<String>> {
    let mut heading = String::new();
    let mut truth = BTreeMap::new();
    for raw in text.lines() {
        let line = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        if line.is_empty() {
            continue;
        }
        let (value, file) = match line.split_once(" - ") {
            Some((h, f)) => (h.trim().to_string(), Some(f.trim().to_string())),
            None => (line.replace("[.]", "."), None),
        };
        let is_hex = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
        let family = match heading.as_str() {
            h if h.contains("Cobalt Strike") => Some("Cobalt Strike".to_string()),
            "Brute Ratel Loaders" => Some("Brute Ratel".to_string()),
            h @ ("Winnti" | "Spyder" | "FunnySwitch") => Some(h.to_string()),
            _ => None,
        };
        let kind = if value.parse::<std::net::Ipv4Addr>().is_ok() {
            "ipv4"
        } else if is_hex && heading.starts_with("TLS Certificate") {
            "cert-sha256"
        } else if is_hex {
            "sha256"
        } else if value.contains('.') && !value.contains(' ') {
            "domain"
        } else {
            heading = line.trim_end_matches(':').to_string();
            continue;
        };
        truth.insert((kind.to_string(), value.to_lowercase()), family);
        if let Some(f) = file {
            truth.insert(("file-name".to_string(), f), None);
        }
    }
    truth
}

fn check_appendix(rel: &str) {
    let Some(path) = cairn_testkit::dataset(rel) else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let truth = appendix_truth(&text);
    let out = cairn(&["extract", path.to_str().unwrap(), "--json", "--no-prose"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = json_lines(&out);
    assert!(
        got.iter().all(|v| v.get("suppressed").is_none()),
        "nothing benign here"
    );
    let got_set: BTreeSet<(String, String)> = got
        .iter()
        .map(|v| {
            (
                s(v, &["type"]).unwrap().to_string(),
                s(v, &["value"]).unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = truth.keys().cloned().collect();
    assert_eq!(
        want.difference(&got_set).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "missed"
    );
    assert_eq!(
        got_set.difference(&want).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "extra"
    );
    for v in &got {
        let key = (
            s(v, &["type"]).unwrap().to_string(),
            s(v, &["value"]).unwrap().to_string(),
        );
        // Every occurrence is listed, the first also at the top level.
        assert_eq!(v["occurrences"][0]["line"], v["line"]);
        assert!(v["original"].as_str().is_some_and(|o| !o.is_empty()));
        if key.0 == "sha256" {
            assert_eq!(
                s(v, &["context", "family"]),
                truth[&key].as_deref(),
                "family of {}",
                key.1
            );
        }
    }
}

#[test]
fn redhotel_appendix_extracts_completely() {
    check_appendix("insikt/redhotel-2023-08-appendix.txt");
    let Some(path) = cairn_testkit::dataset("insikt/redhotel-2023-08-appendix.txt") else {
        return;
    };
    let got = json_lines(&cairn(&["extract", path.to_str().unwrap(), "--json"]));
    let find = |v: &str| got.iter().find(|x| x["value"] == v).expect(v);
    let ip = find("1.13.82.101");
    assert_eq!(s(ip, &["original"]), Some("1.13.82[.]101"));
    assert_eq!(s(ip, &["context", "role"]), Some("c2"));
    assert_eq!(
        s(ip, &["context", "heading"]),
        Some("C2 IP Addresses (seen May to June 2023)")
    );
    assert_eq!(s(ip, &["context", "first_seen"]), Some("2023-05-01"));
    assert_eq!(s(ip, &["context", "last_seen"]), Some("2023-06-30"));
    let cert = find("f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61");
    assert_eq!(s(cert, &["type"]), Some("cert-sha256"));
    let dom = find("r77wu4s847.sibersystems.xyz");
    assert_eq!(s(dom, &["original"]), Some("R77wu4s847.sibersystems[.]xyz"));
    // Listed twice in the appendix: one indicator, two occurrences.
    assert_eq!(
        find("asia-cdn.asia")["occurrences"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn tag22_indicators_extract_completely() {
    check_appendix("insikt/tag-22-2021-indicators.txt");
}

#[test]
fn table_output_exit_codes_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.md");
    std::fs::write(
        &report,
        "## Winnti C2\n\nbeacon to kb.dga[.]asia and 10.0.0.1\n",
    )
    .unwrap();
    let out = cairn(&["extract", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("domain") && table.contains("kb.dga.asia") && table.contains("Winnti"),
        "{table}"
    );
    assert!(
        table.contains("suppressed") && table.contains("RFC 1918"),
        "{table}"
    );

    let out = cairn(&[
        "extract",
        report.to_str().unwrap(),
        "--json",
        "--keep-benign",
        "--no-prose",
    ]);
    assert_eq!(json_lines(&out).len(), 2);

    let empty = dir.path().join("e.txt");
    std::fs::write(&empty, "Nothing to see here.\n").unwrap();
    assert_eq!(
        cairn(&["extract", empty.to_str().unwrap()]).status.code(),
        Some(1)
    );

    let missing = dir.path().join("missing.txt");
    let out = cairn(&["extract", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.txt"));

    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, [0u8, 1, 2, 0, 0, 0, 5, 0, 0xff, 0]).unwrap();
    let out = cairn(&["extract", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("binary"));

    let bad_pdf = dir.path().join("bad.pdf");
    std::fs::write(&bad_pdf, b"%PDF-1.7\n1 0 obj <<>> trailer garbage").unwrap();
    let out = cairn(&["extract", bad_pdf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.pdf"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .env(
            "CAIRN_DB",
            std::env::temp_dir().join("cairn-extract-tests-no-store.db"),
        )
        .args(["extract", "-", "--json", "--no-prose"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"<html><body><h2>C2</h2><p><code>hxxps://evil[.]top/x</code></p></body></html>")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let got = json_lines(&out);
    assert_eq!(s(&got[0], &["value"]), Some("https://evil.top/x"));
    assert_eq!(s(&got[0], &["context", "role"]), Some("c2"));
}

/// The rule that typed an ambiguous value is in the JSON line; the
/// report's TLP label is printed, never as an indicator.
#[test]
fn rules_and_the_report_marking() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.md");
    std::fs::write(
        &report,
        "TLP:AMBER+STRICT\n\nC2 at update-check[.]zip and evil[.]com\n",
    )
    .unwrap();
    let out = cairn(&["extract", report.to_str().unwrap(), "--json"]);
    let got = json_lines(&out);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(s(&got[0], &["rule"]), Some("defanged: a domain"));
    assert!(got[1].get("rule").is_none(), "{:?}", got[1]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TLP:AMBER+STRICT"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cairn(&["extract", report.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("the report is marked TLP:AMBER+STRICT"),
        "{table}"
    );
}

#[test]
fn eval_extraction_passes_its_floors() {
    let out = cairn(&["eval", "extraction"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("overall: precision"), "{text}");
    let out = cairn(&["eval", "extraction", "--json"]);
    let v = &json_lines(&out)[0];
    assert_eq!(v["failures"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        v["report"]["kinds"].as_array().map(Vec::len),
        Some(cairn_model::IndicatorKind::all().len())
    );
    // The same corpus read from the repository folder.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../extract/corpus");
    assert_eq!(
        cairn(&["eval", "extraction", "--corpus", dir])
            .status
            .code(),
        Some(0)
    );
}
