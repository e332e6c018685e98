//! `cairn scan` and `cairn cert` through the real binary, on the real
//! signed samples and certificate lists of `../shared/datasets/codesign`.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{cairn, ok};

const CODESIGN: &str = "codesign";

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn sample(root: &Path, rel: &str) -> PathBuf {
    root.join("signed-samples").join(rel)
}

/// The pegoat test certificate (`uthenticode/64/pegoat-authenticode.exe`,
/// fields from signify: `crates/codesign/tests/signify_expected.json`)
/// listed as leaked since 2020-01-01, for RedHotel.
fn leak_list(dir: &Path) -> PathBuf {
    let p = dir.join("team-leaks.csv");
    std::fs::write(
        &p,
        "name,status,source,description,references,date,author,issuer,timestamp,serial\n\
         pegoat,revoked,leaked,Test certificate seen in an intrusion.,https://example.org/case-7,01-01-2020,team,contact@trailofbits.com,1577836800,5c:01:62:6b:e3:0e:66:96:47:57:24:ef:a0:91:35:f3\n",
    )
    .expect("write list");
    p
}

/// Writes `text` to `path` and ingests it as the source "case notes",
/// every indicator for RedHotel.
fn case_notes(db: &Path, path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    ok(&cairn(
        db,
        &[
            "ingest",
            path.to_str().unwrap_or_default(),
            "--actor",
            "RedHotel",
            "--source",
            "case notes",
        ],
    ));
}

#[test]
fn a_listed_signer_is_a_certificate_finding_with_strength_timing_and_actor() {
    let Some(root) = cairn_testkit::dataset(CODESIGN) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("c.db");
    let list = leak_list(dir.path());
    ok(&cairn(
        &db,
        &[
            "ingest",
            list.to_str().unwrap_or_default(),
            "--source",
            "team leaks",
            "--actor",
            "RedHotel",
        ],
    ));
    let exe = sample(&root, "uthenticode/64/pegoat-authenticode.exe");
    let out = cairn(&db, &["scan", "--json", exe.to_str().unwrap_or_default()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f["kind"], "certificate");
    assert_eq!(f["file"], exe.display().to_string());
    assert_eq!(f["sha256"].as_str().map(str::len), Some(64));
    let sig = &f["signatures"][0];
    for key in [
        "serial",
        "thumbprint_sha1",
        "thumbprint_sha256",
        "subject",
        "issuer",
        "not_before",
        "not_after",
        "digest_ok",
    ] {
        assert!(!sig[key].is_null(), "signature field {key}: {sig}");
    }
    assert_eq!(sig["serial"], "5c01626be30e6696475724efa09135f3");
    assert_eq!(
        sig["thumbprint_sha1"],
        "d427b236187ff9c9d03d1d7d6e83da6042aef751"
    );
    assert_eq!(sig["digest_ok"], true);
    assert_eq!(f["match"]["strength"], "serial+issuer");
    assert!(
        f["match"]["timing"]
            .as_str()
            .unwrap_or_default()
            .contains("not timestamped")
    );
    assert_eq!(
        f["match"]["certificates"][0]["compromised_since"],
        "2020-01-01T00:00:00.000Z"
    );
    assert_eq!(f["actors"][0]["name"], "RedHotel");
    assert_eq!(f["sources"][0]["source"], "team leaks");
    assert_eq!(f["sources"][0]["reference"], "https://example.org/case-7");

    // A thumbprint statement (STIX) is the stronger match, one finding with
    // both sources.
    let stix = dir.path().join("thumb.json");
    std::fs::write(&stix, r#"{"type":"bundle","id":"bundle--6f1b6f0e-3a44-4a51-9f53-0e3e7b1f0a01","objects":[
      {"type":"indicator","spec_version":"2.1","id":"indicator--6f1b6f0e-3a44-4a51-9f53-0e3e7b1f0a02","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
       "pattern":"[x509-certificate:hashes.'SHA-1' = 'D4:27:B2:36:18:7F:F9:C9:D0:3D:1D:7D:6E:83:DA:60:42:AE:F7:51']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]}"#)
        .expect("write");
    ok(&cairn(
        &db,
        &[
            "ingest",
            stix.to_str().unwrap_or_default(),
            "--source",
            "partner",
        ],
    ));
    let out = cairn(&db, &["scan", "--json", exe.to_str().unwrap_or_default()]);
    let found = lines(&ok(&out));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["match"]["strength"], "thumbprint");
    let sources: Vec<&str> = found[0]["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["source"].as_str())
        .collect();
    assert!(
        sources.contains(&"team leaks") && sources.contains(&"partner"),
        "{sources:?}"
    );

    // --record leaves sightings.
    let out = cairn(
        &db,
        &[
            "scan",
            "--record",
            "--json",
            exe.to_str().unwrap_or_default(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("recorded 2 sighting"), "{err}");
    // `cairn cert` by serial finds the leak list; by thumbprint, the partner's
    // statement. Nothing stored says the two are one certificate (only the
    // scanned file did), so each stands alone.
    let by_serial: Value = serde_json::from_str(&ok(&cairn(
        &db,
        &["cert", "--json", "0x5c01626be30e6696475724efa09135f3"],
    )))
    .expect("json");
    assert_eq!(
        by_serial["statements"].as_array().map(Vec::len),
        Some(1),
        "{by_serial}"
    );
    assert_eq!(by_serial["actors"][0]["name"], "RedHotel");
    assert_eq!(by_serial["issuers"][0], "contact@trailofbits.com");
    let by_thumb: Value = serde_json::from_str(&ok(&cairn(
        &db,
        &[
            "cert",
            "--json",
            "D4:27:B2:36:18:7F:F9:C9:D0:3D:1D:7D:6E:83:DA:60:42:AE:F7:51",
        ],
    )))
    .expect("json");
    assert_eq!(by_thumb["statements"][0]["source"], "partner");
}

#[test]
fn hashes_digest_mismatch_and_exit_codes() {
    let Some(root) = cairn_testkit::dataset(CODESIGN) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("c.db");
    let folder = sample(&root, "");
    // Nothing known: signed files still reported, exit 1.
    let out = cairn(
        &db,
        &["scan", "--json", folder.to_str().unwrap_or_default()],
    );
    assert_eq!(out.status.code(), Some(1));
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        found.iter().filter(|f| f["kind"] == "signed").count(),
        7,
        "every signed sample shown"
    );
    assert!(found.iter().all(|f| f["match"].is_null()));

    // The 7-Zip installer's SHA-256 (signify's fingerprint file) as a
    // known hash: a hash finding, exit 0.
    case_notes(
        &db,
        &dir.path().join("iocs.txt"),
        "43bc0e260fc811b04475ab15c962f26816214fc5ba3706f16f10ac3cb26bea41\n",
    );
    let out = cairn(
        &db,
        &["scan", "--json", folder.to_str().unwrap_or_default()],
    );
    assert_eq!(out.status.code(), Some(0));
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    let hash: Vec<&Value> = found.iter().filter(|f| f["kind"] == "hash").collect();
    assert_eq!(hash.len(), 1);
    assert_eq!(hash[0]["match"]["on"], "file sha256");
    assert_eq!(hash[0]["actors"][0]["name"], "RedHotel");
    assert_eq!(
        hash[0]["signatures"].as_array().map(Vec::len),
        Some(1),
        "signatures with the match"
    );

    // One byte changed after signing.
    let mut bytes =
        std::fs::read(sample(&root, "uthenticode/32/pegoat-authenticode.exe")).expect("read");
    bytes[0x400] ^= 0xff;
    let tampered = dir.path().join("tampered.exe");
    std::fs::write(&tampered, &bytes).expect("write");
    let out = cairn(
        &db,
        &["scan", "--json", tampered.to_str().unwrap_or_default()],
    );
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(found[0]["signatures"][0]["digest_ok"], false);
    assert!(
        found[0]["notes"]
            .to_string()
            .contains("modified after signing")
    );

    // A truncated PE: reported, not fatal; a missing file: exit 2.
    let cut = dir.path().join("cut.exe");
    std::fs::write(&cut, &bytes[..300]).expect("write");
    let missing = dir.path().join("missing.exe");
    let out = cairn(
        &db,
        &[
            "scan",
            "--json",
            cut.to_str().unwrap_or_default(),
            missing.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    assert!(
        found.iter().any(
            |f| f["file"].as_str().is_some_and(|n| n.ends_with("cut.exe"))
                && f["error"].as_str().is_some_and(|e| e.contains("PE"))
        ),
        "{found:?}"
    );
    assert!(found.iter().any(|f| {
        f["kind"] == "error"
            && f["file"]
                .as_str()
                .is_some_and(|n| n.ends_with("missing.exe"))
    }));
    // Human output names the file and the signer.
    let out = cairn(
        &db,
        &[
            "scan",
            sample(&root, "signify/7z1900-x64_signed.exe")
                .to_str()
                .unwrap_or_default(),
        ],
    );
    let text = ok(&out);
    assert!(
        text.contains("HASH") && text.contains("CN=ollypwn"),
        "{text}"
    );
}

/// MD5, SHA-1 and the Authenticode hash are computed when the store holds
/// indicators of those kinds (or `--all-hashes` asks), and then match; the
/// expected values are signify's (`signify/fingerprint_results.subset.json`).
#[test]
fn hashes_beyond_sha256_follow_what_the_store_can_match() {
    let Some(root) = cairn_testkit::dataset(CODESIGN) else {
        return;
    };
    let expected: Value = serde_json::from_slice(
        &std::fs::read(sample(&root, "signify/fingerprint_results.subset.json")).expect("read"),
    )
    .expect("signify's fingerprints");
    let seven = &expected["7z1900-x64_signed.exe"];
    let exe = sample(&root, "signify/7z1900-x64_signed.exe");
    let exe = exe.to_str().unwrap_or_default();
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("h.db");
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--json", exe];
        args.extend_from_slice(extra);
        let out = cairn(&db, &args);
        lines(&String::from_utf8_lossy(&out.stdout))
    };

    // Nothing to match: SHA-256 only.
    let found = scan(&[]);
    assert_eq!(found[0]["sha256"], seven["generic"]["sha256"]);
    assert!(found[0]["md5"].is_null() && found[0]["sha1"].is_null());
    // Asked for: every hash, as signify computes them.
    let found = scan(&["--all-hashes"]);
    assert_eq!(found[0]["md5"], seven["generic"]["md5"]);
    assert_eq!(found[0]["sha1"], seven["generic"]["sha1"]);

    // An MD5 and an Authenticode hash in the store: both computed, both match.
    let (md5, authentihash) = (
        seven["generic"]["md5"].as_str().unwrap_or_default(),
        seven["authentihash"]["sha256"].as_str().unwrap_or_default(),
    );
    case_notes(
        &db,
        &dir.path().join("iocs.csv"),
        &format!("indicator,type\n{md5},md5\n{authentihash},authentihash\n"),
    );
    let found = scan(&[]);
    let mut on: Vec<&str> = found
        .iter()
        .filter(|f| f["kind"] == "hash")
        .filter_map(|f| f["match"]["on"].as_str())
        .collect();
    on.sort_unstable();
    assert_eq!(on, ["authentihash", "file md5"], "{found:?}");
    assert!(found.iter().all(|f| f["md5"] == seven["generic"]["md5"]));
    assert!(found.iter().all(|f| f["sha1"].is_null()));
}

#[test]
fn published_lists_name_a_certificate_under_every_form() {
    let Some(root) = cairn_testkit::dataset(CODESIGN) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("c.db");
    let d = root.clone();
    let files = [
        d.join("certgraveyard/cert_graveyard_database.csv"),
        d.join("xingtulab/CS_Dataset.csv"),
        d.join("lolcerts/leaked.csv"),
        d.join("lolcerts/malicious.csv"),
        d.join("reversinglabs/blocklist.yara"),
    ];
    let mut args = vec!["ingest".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&cairn(&db, &refs));
    // The Cert Graveyard's PlugX row: serial 0C0999179801B46B92911B8B671018A8.
    let by_hex: Value = serde_json::from_str(&ok(&cairn(
        &db,
        &[
            "cert",
            "--json",
            "0c:09:99:17:98:01:b4:6b:92:91:1b:8b:67:10:18:a8",
        ],
    )))
    .expect("json");
    assert_eq!(by_hex["statements"][0]["source"], "Cert Graveyard");
    assert_eq!(by_hex["statements"][0]["families"][0], "PlugX");
    assert_eq!(
        by_hex["thumbprints_sha1"][0],
        "ff6b134559a6d51e99a294242748b05d4222bcf8"
    );
    assert_eq!(
        by_hex["samples"][0]["value"],
        "22014e2d31197dddc2c451ed475aede3d21ca99784973bdcfd9c3a7d9aaa1999"
    );
    // The same certificate by decimal serial (Python: int('0C09…A8', 16)).
    let decimal = u128::from_str_radix("0C0999179801B46B92911B8B671018A8", 16)
        .expect("hex")
        .to_string();
    let by_dec: Value =
        serde_json::from_str(&ok(&cairn(&db, &["cert", "--json", &decimal]))).expect("json");
    assert_eq!(by_dec["statements"], by_hex["statements"]);
    // LOLCerts' NVIDIA certificate: leaked, with a compromise time.
    let nvidia: Value = serde_json::from_str(&ok(&cairn(
        &db,
        &["cert", "--json", "43bb437d609866286dd839e1d00309f5"],
    )))
    .expect("json");
    let s = nvidia["statements"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["source"] == "LOLCerts (leaked)")
        .expect("LOLCerts' statement");
    assert_eq!(
        s["certificate"]["compromised_since"],
        "2022-03-01T00:00:00.000Z"
    );
    // The Cert Graveyard lists two certificates for NAILS UNLIMITED LIMITED
    // (Python: the Signer column's distinct serials): each names the other.
    let nails: Value = serde_json::from_str(&ok(&cairn(
        &db,
        &["cert", "--json", "2F96A89BFEC6E44DD224E8FD7E72D9BB"],
    )))
    .expect("json");
    let related: Vec<&str> = nails["related"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["why"] == "same subject")
        .filter_map(|r| r["serial"].as_str())
        .collect();
    assert!(
        related.contains(&"c667ffe3a5b0a5ae7cf3a9e41682e91b"),
        "{nails}"
    );
    // Unknown: exit 1.
    assert_eq!(
        cairn(&db, &["cert", "00ff00ff00ff00ff"]).status.code(),
        Some(1)
    );
    // The store's YARA rules are reported as not run in a build without YARA.
    let out = cairn(
        &db,
        &[
            "scan",
            sample(&root, "uthenticode/32/pegoat.exe")
                .to_str()
                .unwrap_or_default(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    if cfg!(feature = "yara") {
        assert!(!err.contains("not run"), "{err}");
    } else {
        assert!(err.contains("not run"), "{err}");
    }
}

#[cfg(feature = "yara")]
#[test]
fn yara_rules_from_files_and_the_store() {
    let Some(root) = cairn_testkit::dataset(CODESIGN) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("c.db");
    let rule = dir.path().join("signed.yar");
    std::fs::write(
        &rule,
        "import \"pe\"\nrule signed_pe : demo { meta: author = \"team\" condition: pe.number_of_signatures > 0 }\n",
    )
    .expect("write");
    let folder = sample(&root, "uthenticode");
    let out = cairn(
        &db,
        &[
            "scan",
            "--json",
            "--rules",
            rule.to_str().unwrap_or_default(),
            folder.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    let yara: Vec<&Value> = found.iter().filter(|f| f["kind"] == "yara").collect();
    assert_eq!(yara.len(), 6, "the six signed uthenticode samples");
    assert_eq!(yara[0]["match"]["rule"]["tags"][0], "demo");
    assert_eq!(yara[0]["match"]["rule"]["metadata"]["author"], "team");
    assert!(!found.iter().any(|f| {
        f["file"]
            .as_str()
            .is_some_and(|n| n.ends_with("32/pegoat.exe"))
            && f["kind"] == "yara"
    }));
    // Kept in the store for an actor: its matches name the actor.
    ok(&cairn(
        &db,
        &[
            "ingest",
            rule.to_str().unwrap_or_default(),
            "--actor",
            "RedHotel",
            "--source",
            "team rules",
        ],
    ));
    let out = cairn(
        &db,
        &["scan", "--json", folder.to_str().unwrap_or_default()],
    );
    let found = lines(&ok(&out));
    let yara: Vec<&Value> = found.iter().filter(|f| f["kind"] == "yara").collect();
    assert_eq!(yara.len(), 6);
    assert_eq!(yara[0]["actors"][0]["name"], "RedHotel");
    assert_eq!(yara[0]["sources"][0]["source"], "team rules");
}
