//! Loading, routing, filters, pipelines and the load report.

use super::*;
use serde_json::json;

fn src(origin: &str, text: &str) -> RuleSource {
    RuleSource {
        origin: origin.into(),
        text: text.into(),
    }
}

const WHOAMI: &str = "title: Whoami\nid: 11111111-1111-1111-1111-111111111111\nstatus: test\nlevel: high\ntags: [attack.discovery, attack.t1033]\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";

#[test]
fn bad_rules_are_reported_and_the_rest_load() {
    let sources = vec![
        src("good.yml", WHOAMI),
        src("dup.yml", WHOAMI),
        src("badyaml.yml", "title: [unclosed\n"),
        src(
            "badmod.yml",
            "title: M\nlogsource: {product: windows}\ndetection:\n  s:\n    A|nosuchmodifier: x\n  condition: s\n",
        ),
        src(
            "svc.yml",
            "title: S\nlogsource: {product: windows, service: nosuchservice}\ndetection:\n  s:\n    A: x\n  condition: s\n",
        ),
    ];
    let (set, report) = RuleSet::load(&sources, &RuleOptions::default()).expect("load");
    assert_eq!(set.len(), 2, "{report:#?}");
    let origins: Vec<&str> = report.rejected.iter().map(|r| r.origin.as_str()).collect();
    assert!(origins.contains(&"dup.yml"), "{origins:?}");
    assert!(origins.contains(&"badyaml.yml"), "{origins:?}");
    assert!(origins.contains(&"badmod.yml"), "{origins:?}");
    assert_eq!(report.unrouted.len(), 1);
    assert!(report.unrouted[0].reason.contains("nosuchservice"));
}

#[test]
fn a_builtin_pipeline_maps_sigma_names_to_ecs() {
    let opts = RuleOptions {
        builtin_pipelines: vec!["ecs_windows".into()],
        ..RuleOptions::default()
    };
    let (set, report) = RuleSet::load(&[src("w.yml", WHOAMI)], &opts).expect("load");
    assert_eq!(report.loaded, 1);
    let sysmon1 = set.source_of(Some("Microsoft-Windows-Sysmon/Operational"), Some(1), None);
    let ecs = json!({"process": {"executable": "C:\\Windows\\System32\\whoami.exe"}});
    assert_eq!(set.evaluate(&sysmon1, &ecs, &mut Vec::new()).len(), 1);
    let bad = RuleOptions {
        builtin_pipelines: vec!["nope".into()],
        ..RuleOptions::default()
    };
    let e = RuleSet::load(&[src("w.yml", WHOAMI)], &bad)
        .err()
        .expect("unknown name");
    assert!(e.to_string().contains("ecs_windows"), "{e}");
}

#[test]
fn filters_apply_to_the_rules_they_name_and_a_stray_one_is_reported() {
    let filter = "title: Not the admins\nlogsource: {product: windows, category: process_creation}\nfilter:\n  rules:\n    - 11111111-1111-1111-1111-111111111111\n  selection:\n    User: admin\n  condition: not selection\n";
    let stray = filter.replace("11111111-1111-1111-1111-111111111111", "no-such-rule");
    let (set, report) = RuleSet::load(
        &[
            src("w.yml", WHOAMI),
            src("f.yml", filter),
            src("s.yml", &stray),
        ],
        &RuleOptions::default(),
    )
    .expect("load");
    assert_eq!(report.rejected.len(), 1, "{:#?}", report.rejected);
    assert_eq!(report.rejected[0].origin, "s.yml");
    let sysmon1 = set.source_of(Some("Microsoft-Windows-Sysmon/Operational"), Some(1), None);
    let admin = json!({"Image": "C:\\w\\whoami.exe", "User": "admin"});
    let other = json!({"Image": "C:\\w\\whoami.exe", "User": "eve"});
    assert!(set.evaluate(&sysmon1, &admin, &mut Vec::new()).is_empty());
    assert_eq!(set.evaluate(&sysmon1, &other, &mut Vec::new()).len(), 1);
}

#[test]
fn an_event_meets_only_rules_of_its_log_source() {
    let (set, _) = RuleSet::load(&[src("w.yml", WHOAMI)], &RuleOptions::default()).expect("load");
    let ev = json!({"Image": "C:\\Windows\\System32\\whoami.exe"});
    let sysmon1 = set.source_of(Some("Microsoft-Windows-Sysmon/Operational"), Some(1), None);
    assert_eq!(set.evaluate(&sysmon1, &ev, &mut Vec::new()).len(), 1);
    let sec = set.source_of(Some("Security"), Some(4688), None);
    assert_eq!(set.evaluate(&sec, &ev, &mut Vec::new()).len(), 1);
    let sysmon11 = set.source_of(Some("Microsoft-Windows-Sysmon/Operational"), Some(11), None);
    assert!(set.evaluate(&sysmon11, &ev, &mut Vec::new()).is_empty());
    let hits = set.evaluate(&sysmon1, &ev, &mut Vec::new());
    assert_eq!(set.rules()[hits[0].0].techniques, vec!["T1033".to_string()]);
}

/// The prefilter hides no detection: with every SigmaHQ rule loaded, each
/// event of the regression set (EVTX and JSON) and of the EVTX corpus
/// meets the same rules with it as without it.
#[test]
fn the_prefilter_hides_no_detection_on_real_events() {
    let Some(root) = cairn_testkit::dataset("sigma") else {
        return;
    };
    let (sources, unread) = RuleSource::read_paths(&[
        root.join("rules"),
        root.join("rules-emerging-threats"),
        root.join("rules-threat-hunting"),
    ]);
    assert!(unread.is_empty(), "{unread:?}");
    let (set, report) = RuleSet::load(&sources, &RuleOptions::default()).expect("load");
    assert!(set.len() > 2800, "{}", set.len());
    // Nine rules in ten or more have a literal every match needs.
    assert!(
        report.unfiltered * 10 < set.len(),
        "{} of {} rules unfiltered",
        report.unfiltered,
        set.len()
    );
    let mut dirs = vec![root.join("regression_data")];
    dirs.extend(cairn_testkit::dataset("evtx"));
    let (files, _) = crate::read::log_files(&dirs);
    let (mut events, mut matched, mut skipped_rules) = (0usize, 0usize, 0usize);
    let mut check = |value: Value| {
        let n = crate::event::normalize(value);
        let src = set.source_of(n.channel.as_deref(), n.event_id, n.zeek_path.as_deref());
        let event = Value::Object(n.fields);
        let mut keep = Vec::new();
        let got: Vec<usize> = set
            .evaluate(&src, &event, &mut keep)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        let want = set.evaluate_every_rule(&src, &event);
        assert_eq!(got, want, "{event}");
        let marks = set.prefilter.scan(&event);
        skipped_rules += set
            .buckets
            .iter()
            .filter(|b| b.reads(&src))
            .flat_map(|b| b.members.iter())
            .filter(|&&i| !Prefilter::maybe(&marks, i))
            .count();
        events += 1;
        matched += got.len();
    };
    for f in &files {
        match crate::read::kind_of(f).expect("kind") {
            crate::read::Kind::Evtx => {
                let mut parser = evtx::EvtxParser::from_path(f).expect("evtx");
                for r in parser.records_json_value().flatten() {
                    check(r.data);
                }
            }
            crate::read::Kind::Json => {
                let mut json = crate::read::JsonEvents::open(f, 1 << 26).expect("json");
                while let Ok(Some(item)) = json.next_item() {
                    if let crate::read::Item::Event(_, v) = item {
                        check(v);
                    }
                }
            }
        }
    }
    eprintln!("{events} events, {matched} detections, {skipped_rules} rule evaluations skipped");
    assert!(
        events > 5000 && matched > 1000,
        "{events} events, {matched} detections"
    );
    // The prefilter must also do its job: most evaluations are skipped.
    assert!(
        skipped_rules > events * 10,
        "{skipped_rules} skipped over {events} events"
    );
}
