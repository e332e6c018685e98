//! Signatures of the real signed samples, against what Python's signify
//! reads from the same files (`signify_expected.json`, made by
//! `signify_expected.py`; the command is in its docstring).

use std::path::Path;

use cairn_codesign::{CodesignError, TimeSource, pe_signatures};
use serde_json::Value;

const SAMPLES: &str = "codesign/signed-samples";

fn expected() -> serde_json::Map<String, Value> {
    let text = include_str!("signify_expected.json");
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        other => panic!("signify_expected.json is not an object: {other:?}"),
    }
}

/// `CN=a, O=b` (signify) and `CN=a,O=b` (RFC 4514) are the same name.
fn name(s: &str) -> String {
    s.replace(", ", ",")
}

fn date(s: &str) -> String {
    // signify: 2020-01-16T13:34:31+00:00; Cairn: 2020-01-16T13:34:31.000Z
    s.replace("+00:00", ".000Z")
}

#[test]
fn every_sample_matches_signify() {
    let Some(root) = cairn_testkit::dataset(SAMPLES) else {
        return;
    };
    let want = expected();
    assert!(want.len() >= 8, "expected values for {} files", want.len());
    for (rel, sigs) in &want {
        let bytes = std::fs::read(root.join(rel)).expect("sample readable");
        let got = pe_signatures(&bytes).expect(rel).expect("a PE");
        let sigs = sigs.as_array().expect("array");
        assert_eq!(
            got.signatures.len(),
            sigs.len(),
            "{rel}: number of signatures"
        );
        assert!(got.problems.is_empty(), "{rel}: {:?}", got.problems);
        for (g, w) in got.signatures.iter().zip(sigs) {
            let s = |k: &str| w[k].as_str().unwrap_or_default().to_string();
            assert_eq!(g.digest_algorithm, s("digest_algorithm"), "{rel}");
            assert_eq!(g.signed_digest, s("signed_digest"), "{rel}");
            assert_eq!(g.digest_ok, Some(true), "{rel}: digest");
            assert_eq!(
                g.certificates.len() as u64,
                w["certificates"].as_u64().unwrap_or(0),
                "{rel}"
            );
            let signer = g.signer.as_ref().expect("signer certificate found");
            // signify prints the serial as Python's format(n, 'x').
            assert_eq!(signer.serial.trim_start_matches('0'), s("serial"), "{rel}");
            assert_eq!(name(&signer.subject), name(&s("subject")), "{rel}");
            assert_eq!(name(&signer.issuer), name(&s("issuer")), "{rel}");
            assert_eq!(signer.thumbprint_sha1, s("thumbprint_sha1"), "{rel}");
            assert_eq!(signer.thumbprint_sha256, s("thumbprint_sha256"), "{rel}");
            assert_eq!(
                signer.not_before.as_deref(),
                Some(date(&s("not_before")).as_str()),
                "{rel}"
            );
            assert_eq!(
                signer.not_after.as_deref(),
                Some(date(&s("not_after")).as_str()),
                "{rel}"
            );
            match w.get("signing_time").and_then(Value::as_str) {
                Some(t) => {
                    let got = g.signing_time.as_ref().expect("signing time");
                    assert_eq!(got.time, date(t), "{rel}");
                    assert_ne!(got.source, TimeSource::Claimed, "{rel}");
                }
                None => assert!(
                    g.signing_time
                        .as_ref()
                        .is_none_or(|t| t.source == TimeSource::Claimed),
                    "{rel}: signify saw no counter-signer"
                ),
            }
        }
    }
}

#[test]
fn nested_and_duplicated_signatures() {
    let Some(root) = cairn_testkit::dataset(SAMPLES) else {
        return;
    };
    let read = |rel: &str| {
        let bytes = std::fs::read(root.join(rel)).expect("readable");
        pe_signatures(&bytes).expect("parses").expect("a PE")
    };
    let nested = read("uthenticode/64/pegoat-authenticode-nested.exe");
    assert_eq!(nested.format, "pe32+");
    assert_eq!(nested.signatures[0].nested_in, None);
    assert_eq!(nested.signatures[1].nested_in, Some(0));
    let dup = read("uthenticode/32/pegoat-authenticode_duplicated.exe");
    assert_eq!(dup.format, "pe32");
    assert_eq!(dup.signatures.len(), 2);
    assert!(dup.signatures.iter().all(|s| s.nested_in.is_none()));
    let unsigned = read("uthenticode/32/pegoat.exe");
    assert!(unsigned.signatures.is_empty());
    assert!(unsigned.authentihash_sha256.is_some());
    // A TLS server certificate has no code-signing usage.
    let tls = read("uthenticode/A_SSLippery_Slope.exe");
    let signer = tls.signatures[0].signer.as_ref().expect("signer");
    assert_eq!(signer.code_signing, Some(false));
    assert_eq!(signer.subject_cn.as_deref(), Some("test.billdemirkapi.me"));
    assert_eq!(signer.issuer_cn.as_deref(), Some("R3"));
    let authority = tls.signatures[0]
        .signing_time
        .as_ref()
        .and_then(|t| t.authority.as_ref());
    assert!(authority.is_some(), "the timestamp's authority certificate");
}

#[test]
fn authentihashes_match_signify_fingerprints() {
    let Some(root) = cairn_testkit::dataset(SAMPLES) else {
        return;
    };
    let text = std::fs::read_to_string(root.join("signify/fingerprint_results.subset.json"))
        .expect("fingerprints");
    let want: Value = serde_json::from_str(&text).expect("json");
    let bytes = std::fs::read(root.join("signify/7z1900-x64_signed.exe")).expect("sample");
    let [md5, sha1, sha256] = cairn_codesign::authentihashes(&bytes).expect("a PE");
    let a = &want["7z1900-x64_signed.exe"]["authentihash"];
    assert_eq!(md5, a["md5"].as_str().unwrap_or_default());
    assert_eq!(sha1, a["sha1"].as_str().unwrap_or_default());
    assert_eq!(sha256, a["sha256"].as_str().unwrap_or_default());
}

/// Digests left out change nothing but the digests: the same signatures,
/// and the Authenticode hash still comes from a SHA-256 signature's check.
#[test]
fn digests_are_computed_only_when_asked() {
    let Some(root) = cairn_testkit::dataset(SAMPLES) else {
        return;
    };
    let text = std::fs::read_to_string(root.join("signify/fingerprint_results.subset.json"))
        .expect("fingerprints");
    let want: Value = serde_json::from_str(&text).expect("json");
    let want = want["7z1900-x64_signed.exe"]["authentihash"]["sha256"].as_str();
    let bytes = std::fs::read(root.join("signify/7z1900-x64_signed.exe")).expect("sample");
    let with = |authentihash, verify| {
        let d = cairn_codesign::Digests {
            authentihash,
            verify,
        };
        cairn_codesign::pe_signatures_with(&bytes, d)
            .expect("parses")
            .expect("a PE")
    };
    let full = with(true, true);
    let parsed = with(false, false);
    assert_eq!(parsed.signatures.len(), full.signatures.len());
    for (p, f) in parsed.signatures.iter().zip(&full.signatures) {
        assert_eq!((p.digest_ok, p.file_digest.as_deref()), (None, None));
        assert_eq!(p.signer, f.signer);
        assert_eq!(p.signed_digest, f.signed_digest);
    }
    assert_eq!(parsed.authentihash_sha256, None);
    assert_eq!(full.authentihash_sha256.as_deref(), want);
    // 7-Zip's signature is SHA-1: checking it gives no SHA-256 to borrow.
    let checked = with(false, true);
    assert_eq!(full.signatures[0].digest_algorithm, "sha1");
    assert_eq!(checked.signatures[0].digest_ok, Some(true));
    assert_eq!(checked.authentihash_sha256, None);
    // A SHA-256 signature's check is the Authenticode hash.
    let sha256_signed =
        std::fs::read(root.join("uthenticode/A_SSLippery_Slope.exe")).expect("sample");
    let lean = cairn_codesign::Digests {
        authentihash: false,
        verify: true,
    };
    let pe = cairn_codesign::pe_signatures_with(&sha256_signed, lean)
        .expect("parses")
        .expect("a PE");
    assert_eq!(pe.signatures[0].digest_algorithm, "sha256");
    assert_eq!(pe.signatures[0].digest_ok, Some(true));
    let all = cairn_codesign::authentihashes(&sha256_signed).expect("a PE");
    assert_eq!(pe.authentihash_sha256.as_deref(), Some(all[2].as_str()));
    // An unsigned image has no check to borrow the hash from.
    let unsigned = std::fs::read(root.join("uthenticode/32/pegoat.exe")).expect("sample");
    let pe = cairn_codesign::pe_signatures_with(&unsigned, lean).expect("parses");
    assert_eq!(pe.expect("a PE").authentihash_sha256, None);
}

/// Reading only the headers and the certificate table gives the same
/// signatures as reading every byte; a table past the end is an error.
#[test]
fn signatures_from_a_file_read_in_part() {
    let Some(root) = cairn_testkit::dataset(SAMPLES) else {
        return;
    };
    let none = cairn_codesign::Digests::NONE;
    let mut seen = 0;
    for rel in [
        "signify/7z1900-x64_signed.exe",
        "uthenticode/64/pegoat-authenticode-nested.exe",
        "uthenticode/32/pegoat-authenticode_duplicated.exe",
        "uthenticode/32/pegoat.exe",
        "uthenticode/A_SSLippery_Slope.exe",
        "signify/putty.msi",
    ] {
        let path = root.join(rel);
        let whole = std::fs::read(&path).expect("sample");
        let want = cairn_codesign::pe_signatures_with(&whole, none).expect(rel);
        let file = std::fs::File::open(&path).expect("open");
        let got = cairn_codesign::pe_signatures_from(file).expect(rel);
        assert_eq!(got, want, "{rel}");
        seen += got.map_or(0, |p| p.signatures.len());
    }
    // 7-Zip 1, nested 2, duplicated 2, unsigned 0, TLS-signed 1 (an MSI is no PE).
    assert_eq!(seen, 6, "the samples' signatures");
    // Cut short inside the certificate table.
    let whole = signed_sample(&root);
    let cut = std::io::Cursor::new(whole[..whole.len() - 100].to_vec());
    let err = cairn_codesign::pe_signatures_from(cut).expect_err("table past the end");
    assert!(err.to_string().contains("past the end"), "{err}");
}

fn signed_sample(root: &Path) -> Vec<u8> {
    std::fs::read(root.join("uthenticode/32/pegoat-authenticode.exe")).expect("sample")
}

#[test]
fn a_tampered_byte_breaks_the_digest() {
    let Some(root) = cairn_testkit::dataset(SAMPLES) else {
        return;
    };
    let mut bytes = signed_sample(&root);
    // A byte of the first section's data (offset 0x400 in this image).
    bytes[0x400] ^= 0xff;
    let pe = pe_signatures(&bytes).expect("parses").expect("a PE");
    assert_eq!(pe.signatures[0].digest_ok, Some(false));
    assert_ne!(
        pe.signatures[0].file_digest.as_deref(),
        Some(pe.signatures[0].signed_digest.as_str())
    );
}

#[test]
fn malformed_images_are_errors_not_panics() {
    let Some(root) = cairn_testkit::dataset(SAMPLES) else {
        return;
    };
    let bytes = signed_sample(&root);
    // Truncated anywhere: an error or a partial read, never a panic.
    for cut in [2, 64, 0x80, 0x100, 0x3ff, bytes.len() / 2, bytes.len() - 1] {
        let _ = pe_signatures(&bytes[..cut]);
    }
    assert!(matches!(
        pe_signatures(&bytes[..0x100]),
        Err(CodesignError::MalformedPe(_))
    ));

    // The security directory (data directory 4) pointing past the end.
    let pe_off = u32::from_le_bytes(bytes[0x3c..0x40].try_into().expect("4 bytes")) as usize;
    let dir = pe_off + 24 + 96 + 4 * 8; // PE32 optional header: directories at 96
    let mut far = bytes.clone();
    far[dir..dir + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    assert!(matches!(
        pe_signatures(&far),
        Err(CodesignError::CertificateTable(_))
    ));
    // A size that does not add up.
    let mut odd = bytes.clone();
    odd[dir + 4..dir + 8].copy_from_slice(&7u32.to_le_bytes());
    assert!(pe_signatures(&odd).is_err());
    // Garbage inside the signature: reported as a problem, file still read.
    let start = u32::from_le_bytes(bytes[dir..dir + 4].try_into().expect("4 bytes")) as usize;
    let mut junk = bytes.clone();
    for b in &mut junk[start + 8..start + 40] {
        *b = 0x5a;
    }
    let pe = pe_signatures(&junk)
        .expect("the image still parses")
        .expect("a PE");
    assert!(pe.signatures.is_empty());
    assert_eq!(pe.problems.len(), 1, "{:?}", pe.problems);
    // Not a PE at all.
    assert!(pe_signatures(b"hello").expect("no error").is_none());
}
