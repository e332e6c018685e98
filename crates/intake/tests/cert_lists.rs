//! The published certificate lists, read whole. Expected counts come from
//! Python's csv module over the same files (distinct serial + thumbprint +
//! issuer for the Cert Graveyard; rows for XingTuLab; distinct canonical
//! serials per rule for ReversingLabs).

use cairn_intake::{Format, Options, detect_format, parse_path};
use cairn_model::{Bundle, IndicatorKind};

fn certs(b: &Bundle) -> Vec<&cairn_model::Object> {
    b.objects
        .iter()
        .filter(|o| o.raw.contains("\"x_cairn_certificate\""))
        .collect()
}

#[test]
fn cert_graveyard() {
    let Some(path) = cairn_testkit::dataset("codesign/certgraveyard/cert_graveyard_database.csv")
    else {
        return;
    };
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(detect_format(&path, &bytes), Format::CertList);
    let b = parse_path(&path, &Options::default()).expect("parses");
    let certs = certs(&b);
    // Python: 2,515 distinct (serial, thumbprint, lower-cased issuer).
    assert!((2_500..=2_515).contains(&certs.len()), "{}", certs.len());
    // Python: 2,608 rows give a SHA-1 thumbprint, 46 a SHA-256 one, 4 none.
    let thumb = |k: IndicatorKind| {
        certs
            .iter()
            .filter(|c| c.observables.iter().any(|o| o.kind == k))
            .count()
    };
    assert!(
        thumb(IndicatorKind::CertSha1) > 2_400,
        "{}",
        thumb(IndicatorKind::CertSha1)
    );
    assert!(
        (40..=46).contains(&thumb(IndicatorKind::CertSha256)),
        "{}",
        thumb(IndicatorKind::CertSha256)
    );
    let samples = b
        .objects
        .iter()
        .filter(|o| {
            o.observables
                .iter()
                .any(|v| v.kind == IndicatorKind::Sha256)
        })
        .count();
    // 2,658 rows; one hash ends in a stray `v` (…388f257bv) and is no SHA-256.
    assert_eq!(samples, 2_657);
    let families = b.objects.iter().filter(|o| o.kind == "malware").count();
    // Python: 356 distinct names once case and punctuation are ignored
    // (372 as written), one of them the empty string and one `Unknown`.
    assert_eq!(families, 354);
}

#[test]
fn xingtulab_with_its_cer_files() {
    let Some(path) = cairn_testkit::dataset("codesign/xingtulab/CS_Dataset.csv") else {
        return;
    };
    let b = parse_path(&path, &Options::default()).expect("parses");
    let certs = certs(&b);
    assert_eq!(certs.len(), 2_072);
    // Every row's .cer file was found and agreed on the serial.
    let with_thumbprints = certs
        .iter()
        .filter(|c| {
            c.observables
                .iter()
                .any(|o| o.kind == IndicatorKind::CertSha256)
        })
        .count();
    assert_eq!(with_thumbprints, 2_072);
}

#[test]
fn reversinglabs_rules_and_lolcerts() {
    let Some(dir) = cairn_testkit::datasets(&[
        "codesign/reversinglabs/blocklist.yara",
        "codesign/lolcerts/leaked.csv",
    ]) else {
        return;
    };
    let rl = dir.join("codesign/reversinglabs/blocklist.yara");
    let b = parse_path(&rl, &Options::default()).expect("parses");
    assert_eq!(b.format, "yara");
    let rules: serde_json::Value = serde_json::from_str(&b.objects[0].raw).expect("json");
    assert_eq!(rules["x_cairn_rules"].as_array().map(Vec::len), Some(931));
    assert_eq!(certs(&b).len(), 932, "distinct canonical serials");
    let lol = parse_path(
        &dir.join("codesign/lolcerts/leaked.csv"),
        &Options::default(),
    )
    .expect("parses");
    assert_eq!(lol.source, "LOLCerts (leaked)");
    assert_eq!(certs(&lol).len(), 5);
}
