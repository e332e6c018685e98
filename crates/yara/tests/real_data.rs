//! The ReversingLabs certificate blocklist (931 rules over `pe.signatures`) and
//! the signed samples in the shared datasets. These SKIP without the datasets.

use cairn_yara::{RuleMatch, RuleSource, Rules};
use std::path::Path;

const BLOCKLIST: &str = "codesign/reversinglabs/blocklist.yara";
const SEVEN_ZIP: &str = "codesign/signed-samples/signify/7z1900-x64_signed.exe";
const UNSIGNED: &str = "codesign/signed-samples/uthenticode/32/pegoat.exe";

/// Each pegoat sample with the number of Authenticode signatures (nested ones
/// included) that Python's `signify` 0.9.3 finds in it (how: the comment below).
const SAMPLES: [(&str, usize); 7] = [
    (SEVEN_ZIP, 1),
    (
        "codesign/signed-samples/uthenticode/32/pegoat-authenticode.exe",
        1,
    ),
    (
        "codesign/signed-samples/uthenticode/32/pegoat-authenticode-nested.exe",
        2,
    ),
    (
        "codesign/signed-samples/uthenticode/32/pegoat-authenticode_duplicated.exe",
        2,
    ),
    (
        "codesign/signed-samples/uthenticode/64/pegoat-authenticode.exe",
        1,
    ),
    (
        "codesign/signed-samples/uthenticode/64/pegoat-authenticode-nested.exe",
        2,
    ),
    (UNSIGNED, 0),
];

// How the expected values were obtained, independently of yara-x:
//
//   python3 -m venv v && v/bin/pip install signify        # signify 0.9.3
//   # (oscrypto 1.3.0 cannot parse "OpenSSL 3.0.19": its version regex in
//   #  oscrypto/_openssl/_libcrypto_ctypes.py was widened to \d+\.\d+\.\d+ in
//   #  that throwaway venv, as oscrypto's own master branch does.)
//   D=shared/datasets/codesign/signed-samples
//   v/bin/python crates/yara/tests/signify/sigdump.py $D/signify/7z1900-x64_signed.exe \
//       $D/uthenticode/*/pegoat*.exe | v/bin/python crates/yara/tests/signify/rlcheck.py \
//       shared/datasets/codesign/reversinglabs/blocklist.yara
//
// where sigdump.py prints, for every signature of
// `AuthenticodeFile.from_stream(f).iter_embedded_signatures(include_nested=True)`,
// the signer certificate found by `s.certificates.find_certificate(issuer=…,
// serial_number=…)` and every certificate the signature carries. Output:
//
//   7z1900-x64_signed.exe: 1 signature(s)
//     signer serial=4ecc0f65072f6771824dbb7c943b304bff0679ae subject=CN=ollypwn, O=ollypwn, L=Copenhagen, ST=Denmark, C=DK not_after=2047-06-03 13:34:31+00:00
//       cert serial=4ecc0f65072f6771824dbb7c943b304bff0679ae …
//       cert serial=6d93cd816df6e6807d97fefa02a506e86243681f subject=O=OLLYPWN, …
//   32/pegoat-authenticode-nested.exe: 2 signature(s)
//     signer serial=103ee193544680954387616bb5eca399 subject=CN=A SHA-1 cert
//     signer serial=2d96c54ba915f7b04781d80a799534b1 subject=CN=A SHA-256 cert
//   32/pegoat-authenticode.exe: 1 signature(s)
//     signer serial=4b2a0a5fe84f83be4b5f587ec325fda3 subject=CN=contact@trailofbits.com
//   32/pegoat-authenticode_duplicated.exe: 2 signature(s)   (the same signer twice)
//     signer serial=4b2a0a5fe84f83be4b5f587ec325fda3 subject=CN=contact@trailofbits.com
//   32/pegoat.exe: 0 signature(s)
//   64/pegoat-authenticode-nested.exe: 2 signature(s)
//     signer serial=1dfa12996d33c09d499be8489be35de5 subject=CN=A SHA-1 cert
//     signer serial=24669c98d6ed318540f4953cd30250ab subject=CN=A SHA-256 cert
//   64/pegoat-authenticode.exe: 1 signature(s)
//     signer serial=5c01626be30e6696475724efa09135f3 subject=CN=contact@trailofbits.com
//
// rlcheck.py then checks the blocklist's rule bodies and compares serials
// (without colons, case or leading zeros):
//
//   RL rules: 931 with a serial test: 931 with another `or`: 0
//   distinct RL serials: 932 sample serials: 8 in both: []
//
// Every blocklist rule ANDs a `pe.signatures[i].serial == "…"` test (one serial
// or an `or` of serials) and none of the samples' serials is among them, so no
// blocklist rule can match these samples, whatever the subjects and dates.

fn rule_sources(text: String) -> Vec<RuleSource> {
    vec![RuleSource::new(BLOCKLIST, text)]
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn names(matches: &[RuleMatch]) -> Vec<&str> {
    matches.iter().map(|m| m.rule.as_str()).collect()
}

#[test]
fn every_blocklist_rule_loads() {
    let Some(path) = cairn_testkit::dataset(BLOCKLIST) else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("blocklist is UTF-8");
    // Rules counted in the file itself: each starts a line with `rule `.
    let declared = text.lines().filter(|l| l.starts_with("rule ")).count();
    let (rules, report) = Rules::compile(&rule_sources(text)).expect("blocklist compiles");
    assert!(
        report.failed.is_empty(),
        "{:?}",
        &report.failed[..report.failed.len().min(5)]
    );
    assert_eq!(report.loaded_rules, declared);
    assert_eq!(rules.rule_count(), declared);
}

#[test]
fn blocklist_and_signature_rules_on_the_signed_samples() {
    let mut wanted: Vec<&str> = SAMPLES.iter().map(|(rel, _)| *rel).collect();
    wanted.push(BLOCKLIST);
    let Some(dir) = cairn_testkit::datasets(&wanted) else {
        return;
    };
    let blocklist = std::fs::read_to_string(dir.join(BLOCKLIST)).expect("blocklist is UTF-8");
    // Our own rules beside the blocklist: how many signatures yara-x's `pe`
    // module sees, and a blocklist-style serial test (the 7z sample's signer
    // serial as signify prints it, in yara-x's colon form) as a positive
    // control that such conditions do match when the serial is there.
    let ours = r#"
import "pe"
rule signed { condition: pe.number_of_signatures > 0 }
rule one_signature { condition: pe.number_of_signatures == 1 }
rule two_signatures { condition: pe.number_of_signatures == 2 }
rule seven_zip_signer {
    condition:
        uint16(0) == 0x5A4D and
        for any i in (0..pe.number_of_signatures): (
            pe.signatures[i].subject contains "ollypwn" and
            pe.signatures[i].serial == "4e:cc:0f:65:07:2f:67:71:82:4d:bb:7c:94:3b:30:4b:ff:06:79:ae"
        )
}
"#;
    let sources = [
        RuleSource::new(BLOCKLIST, blocklist),
        RuleSource::new("store:signatures", ours),
    ];
    let (rules, report) = Rules::compile(&sources).expect("rules compile");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let mut scanner = rules.scanner();
    for (rel, signatures) in SAMPLES {
        let matches = scanner.scan(&read(&dir, rel)).expect("scan");
        let blocklisted: Vec<&str> = matches
            .iter()
            .filter(|m| m.namespace == "blocklist")
            .map(|m| m.rule.as_str())
            .collect();
        assert!(blocklisted.is_empty(), "{rel}: {blocklisted:?}");

        let mut expected = Vec::new();
        if signatures > 0 {
            expected.push("signed");
        }
        match signatures {
            1 => expected.push("one_signature"),
            2 => expected.push("two_signatures"),
            _ => {}
        }
        if rel == SEVEN_ZIP {
            expected.push("seven_zip_signer");
        }
        assert_eq!(names(&matches), expected, "{rel}");
    }
}

#[test]
fn a_64_mib_buffer_scans_to_the_end() {
    let Some(path) = cairn_testkit::dataset(BLOCKLIST) else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("blocklist is UTF-8");
    let (rules, _) = Rules::compile(&rule_sources(text)).expect("blocklist compiles");
    let zeros = vec![0u8; 64 << 20];
    let matches = rules.scanner().scan(&zeros).expect("scan");
    assert!(matches.is_empty(), "{:?}", names(&matches));
}
