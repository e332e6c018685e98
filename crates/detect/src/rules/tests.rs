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
