//! The reader on ATT&CK Enterprise 18.1: the held-out evaluation's floors,
//! and a report written the way vendors write them.

use cairn_prose::{
    EvalOptions, FindingKind, Knowledge, Reader, ReaderOptions, Stance, evaluate_techniques,
};
use std::sync::OnceLock;

fn knowledge() -> Option<&'static Knowledge> {
    static K: OnceLock<Option<Knowledge>> = OnceLock::new();
    K.get_or_init(|| {
        let path = cairn_testkit::dataset("attack/enterprise-attack-18.1.json")?;
        let bundle = cairn_intake::parse_path(&path, &cairn_intake::Options::default())
            .expect("ATT&CK parses");
        Some(Knowledge::from_bundle(&bundle))
    })
    .as_ref()
}

#[test]
fn held_out_procedures_meet_the_floors() {
    let Some(k) = knowledge() else { return };
    assert!(k.technique_count() > 600 && k.procedure_count() > 15_000);
    let e = evaluate_techniques(k, EvalOptions::default());
    eprintln!("{}", serde_json::to_string_pretty(&e).expect("json"));
    assert!(e.test_examples > 2_000, "{}", e.test_examples);
    assert!(
        e.sentence.f1 >= 0.6,
        "sentence-level F1 {:.3}",
        e.sentence.f1
    );
    assert!(
        e.report.recall >= 0.7,
        "report recall {:.3}",
        e.report.recall
    );
    assert!(
        e.report.precision >= 0.7,
        "report precision {:.3}",
        e.report.precision
    );
    assert!(e.report_groups >= 20, "{}", e.report_groups);
}

#[test]
fn reads_a_vendor_paragraph() {
    let Some(k) = knowledge() else { return };
    let reader = Reader::new(k, ReaderOptions::default());
    let report = "\
# Initial access\n\
The group sent spearphishing emails with malicious RAR attachments to officials.\n\
\n\
After gaining a foothold, the operators loaded ShadowPad through a legitimate signed \
executable that side-loaded a malicious DLL. They dumped credentials from LSASS memory with \
Mimikatz and moved laterally using Remote Desktop Protocol.\n\
\n\
Unlike APT41, this group did not use Winnti for Windows. We attribute the activity to Earth Lusca, which \
has targeted government agencies and telecommunications providers in Taiwan, Vietnam and the \
Philippines.\n";
    let found = reader.read(report);
    for f in &found {
        eprintln!(
            "{:?} {} {} {:?} {:.2} {}",
            f.kind, f.value, f.name, f.stance, f.confidence, f.mentions[0].rule
        );
    }
    let techniques: Vec<&str> = found
        .iter()
        .filter(|f| f.kind == FindingKind::Technique && f.stance == Stance::Asserted)
        .map(|f| f.value.as_str())
        .collect();
    for want in ["T1566.001", "T1574.001", "T1003.001", "T1021.001"] {
        assert!(
            techniques.contains(&want),
            "{want} missing from {techniques:?}"
        );
    }
    let value = |kind, v: &str| found.iter().find(|f| f.kind == kind && f.name == v);
    let apt41 = value(FindingKind::Group, "APT41").expect("APT41 named");
    assert_eq!(apt41.stance, Stance::Compared);
    let lusca = found
        .iter()
        .find(|f| f.kind == FindingKind::Group && f.mentions[0].text == "Earth Lusca")
        .expect("Earth Lusca named");
    assert_eq!(lusca.stance, Stance::Asserted);
    assert_eq!(
        value(FindingKind::Software, "Winnti for Windows").map(|f| f.stance),
        Some(Stance::Negated)
    );
    assert!(value(FindingKind::Software, "ShadowPad").is_some());
    let countries: Vec<&str> = found
        .iter()
        .filter(|f| f.kind == FindingKind::Country)
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(countries, ["TW", "VN", "PH"]);
    assert!(
        found
            .iter()
            .any(|f| f.kind == FindingKind::Sector && f.value == "telecommunications")
    );
    for f in &found {
        assert!(
            f.mentions
                .iter()
                .all(|m| !m.sentence.is_empty() && m.line > 0)
        );
        assert!((0.0..=1.0).contains(&f.confidence));
    }
}
