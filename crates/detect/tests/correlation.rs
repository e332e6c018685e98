//! Sigma v2 correlation rules over a log: counts within a window per
//! group, distinct values, and ordered sequences; rules that only feed a
//! correlation stay quiet unless they say `generate: true`.

use std::sync::Mutex;

use cairn_detect::{DetectOptions, Detection, Output, RuleOptions, RuleSet, RuleSource, detect};
use serde_json::json;

const RULES: &str = r#"
title: Failed logon
id: 0b1b3c1e-0000-4000-8000-000000000001
name: failed_logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
  condition: sel
level: low
---
title: Successful logon
id: 0b1b3c1e-0000-4000-8000-000000000002
name: logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4624
  condition: sel
level: informational
---
title: Many failed logons for one account
id: 0b1b3c1e-0000-4000-8000-000000000003
tags: [attack.credential-access, attack.t1110]
level: high
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition: {gte: 3}
---
title: One address trying many accounts
id: 0b1b3c1e-0000-4000-8000-000000000005
level: high
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 1h
  condition: {field: TargetUserName, gte: 3}
---
title: Failures then success from one address
id: 0b1b3c1e-0000-4000-8000-000000000004
tags: [attack.t1110.001]
level: critical
correlation:
  type: temporal_ordered
  rules: [failed_logon, logon]
  group-by: [IpAddress]
  timespan: 10m
"#;

fn event(id: u64, minute: u32, user: &str, ip: &str, record: u64) -> serde_json::Value {
    json!({"Event": {"System": {"EventID": id, "Channel": "Security", "Computer": "dc1",
        "EventRecordID": record,
        "TimeCreated": {"#attributes": {"SystemTime": format!("2024-03-01T10:{minute:02}:00Z")}}},
        "EventData": {"TargetUserName": user, "IpAddress": ip}}})
}

fn run(lines: &[serde_json::Value]) -> Vec<Detection> {
    let (rules, report) = RuleSet::load(
        &[RuleSource {
            origin: "c.yml".into(),
            text: RULES.into(),
        }],
        &RuleOptions::default(),
    )
    .expect("load");
    assert!(report.rejected.is_empty(), "{:#?}", report.rejected);
    assert_eq!(report.loaded, 5);
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("security.jsonl");
    let text: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
    std::fs::write(&log, text.join("\n")).expect("write");
    let found = Mutex::new(Vec::new());
    detect(&rules, &[log], &DetectOptions::default(), &|o| {
        if let Output::Detection(d) = o {
            found.lock().expect("lock").push(*d);
        }
    });
    found.into_inner().expect("lock")
}

#[test]
fn event_count_fires_per_group_within_the_window_and_feeders_stay_quiet() {
    let mut log = Vec::new();
    // bob fails 3 times in 2 minutes; alice twice; carol 3 times but 20
    // minutes apart (outside the 5 minute window).
    for (i, m) in [0, 1, 2].iter().enumerate() {
        log.push(event(4625, *m, "bob", "10.0.0.5", 10 + i as u64));
    }
    log.push(event(4625, 3, "alice", "10.0.0.6", 20));
    log.push(event(4625, 4, "alice", "10.0.0.6", 21));
    for (i, m) in [10, 30, 50].iter().enumerate() {
        log.push(event(4625, *m, "carol", "10.0.0.7", 30 + i as u64));
    }
    let found = run(&log);
    let counts: Vec<&Detection> = found
        .iter()
        .filter(|d| d.rule.title == "Many failed logons for one account")
        .collect();
    assert_eq!(counts.len(), 1, "{found:#?}");
    let d = counts[0];
    assert_eq!(d.fields["TargetUserName"], "bob");
    assert_eq!(d.fields["correlation_type"], "event_count");
    assert_eq!(d.record, Some(12), "the event that completed it");
    assert_eq!(d.techniques, vec!["T1110"]);
    // 10.0.0.5 tried one account, 10.0.0.6 one, 10.0.0.7 one: no spray.
    assert!(
        found
            .iter()
            .all(|d| d.rule.title != "One address trying many accounts")
    );
    assert!(
        found.iter().all(|d| d.rule.title != "Failed logon"),
        "a rule feeding a correlation is not reported alone"
    );
}

#[test]
fn value_count_counts_distinct_values() {
    let spray: Vec<_> = ["u1", "u2", "u3", "u3"]
        .iter()
        .enumerate()
        .map(|(i, u)| event(4625, i as u32 * 5, u, "10.1.1.1", i as u64))
        .collect();
    let found = run(&spray);
    let hits: Vec<_> = found
        .iter()
        .filter(|d| d.rule.title == "One address trying many accounts")
        .collect();
    assert!(!hits.is_empty(), "{found:#?}");
    assert_eq!(hits[0].fields["IpAddress"], "10.1.1.1");
    assert_eq!(hits[0].record, Some(2), "the third distinct account");
}

#[test]
fn temporal_ordered_needs_the_order() {
    let ordered = run(&[
        event(4625, 0, "x", "10.9.9.9", 1),
        event(4624, 1, "x", "10.9.9.9", 2),
    ]);
    assert!(
        ordered
            .iter()
            .any(|d| d.rule.title == "Failures then success from one address"),
        "{ordered:#?}"
    );
    let reversed = run(&[
        event(4624, 0, "x", "10.9.9.9", 1),
        event(4625, 1, "x", "10.9.9.9", 2),
    ]);
    assert!(
        reversed
            .iter()
            .all(|d| d.rule.title != "Failures then success from one address"),
        "{reversed:#?}"
    );
}
