//! Feed subscriptions on both backends: a delivery and the feed's state
//! stored together, partial withdrawal, runs, claims and readers.

use super::*;

pub(crate) fn feeds_keep_their_state_with_their_statements(kb: &mut dyn KnowledgeBase) {
    use cairn_kb::{FeedRun, FeedSave, NewFeed, Withdraw};
    let feed = |name: &str| NewFeed {
        name: name.into(),
        kind: "taxii".into(),
        url: "https://cti.example/taxii2/".into(),
        config: serde_json::json!({"collection": "APT"}),
        every: 3600,
        enabled: true,
    };
    let added = kb.add_feed(&feed("vendor A")).unwrap();
    assert_eq!(
        (added.status.as_str(), added.every, added.enabled),
        ("never", 3600, true)
    );
    assert_eq!(added.config["collection"], "APT");
    assert!(
        kb.add_feed(&feed("vendor A")).is_err(),
        "a name is taken once"
    );
    let none = std::collections::HashSet::new();
    let page = |cursor: &str| FeedSave {
        cursor: Some(Some(cursor.into())),
        state: Some(serde_json::json!({"next": cursor})),
        ..FeedSave::default()
    };
    let r = kb
        .ingest_feed(
            "vendor A",
            &report("vendor A"),
            None,
            Withdraw::Only(&none),
            &page("c1"),
        )
        .unwrap();
    assert_eq!(r.added, 7);
    let f = kb.feed("vendor A").unwrap().unwrap();
    assert_eq!(
        (f.cursor.as_deref(), &f.state),
        (Some("c1"), &serde_json::json!({"next": "c1"}))
    );

    // A partial delivery withdraws only what it names and does not carry.
    let i2 = "indicator--aaaaaaaa-0000-4000-8000-000000000012".to_string();
    let mut b = report("vendor A");
    b.objects.truncate(1);
    b.relations.clear();
    let scope = std::collections::HashSet::from([i2]);
    let r = kb
        .ingest_feed("vendor A", &b, None, Withdraw::Only(&scope), &page("c2"))
        .unwrap();
    assert_eq!((r.added, r.changed, r.withdrawn), (0, 0, 1));
    assert_eq!(
        values(kb, false),
        BTreeSet::from(["kb.dga.asia".to_string()])
    );
    assert_eq!(
        kb.feed("vendor A").unwrap().unwrap().cursor.as_deref(),
        Some("c2")
    );

    // Statements under another name are refused; a delivery whose state
    // cannot be saved (no such feed) stores nothing.
    assert!(
        kb.ingest_feed(
            "vendor A",
            &report("vendor B"),
            None,
            Withdraw::Unsaid,
            &page("x")
        )
        .is_err()
    );
    assert!(
        kb.ingest_feed(
            "ghost",
            &report("ghost"),
            None,
            Withdraw::Unsaid,
            &page("x")
        )
        .is_err()
    );
    assert!(
        !kb.stats()
            .unwrap()
            .sources
            .iter()
            .any(|s| s.name == "ghost")
    );
    assert_eq!(
        kb.feed("vendor A").unwrap().unwrap().cursor.as_deref(),
        Some("c2")
    );

    kb.save_feed_state(
        "vendor A",
        &FeedSave {
            etag: Some(Some("\"v1\"".into())),
            ..FeedSave::default()
        },
    )
    .unwrap();
    let run = FeedRun {
        status: "ok".into(),
        added: 7,
        changed: 0,
        withdrawn: 1,
        error: None,
    };
    kb.record_feed_run("vendor A", "2026-01-01T00:00:00.000Z", &run)
        .unwrap();
    let f = kb.feed("vendor A").unwrap().unwrap();
    assert_eq!(f.etag.as_deref(), Some("\"v1\""));
    assert_eq!(f.cursor.as_deref(), Some("c2"), "kept when not given");
    assert_eq!(f.next_due.as_deref(), Some("2026-01-01T01:00:00.000Z"));
    assert_eq!((f.status.as_str(), f.added, f.withdrawn), ("ok", 7, 1));

    // One claim of a due run wins; the lease makes it not due until the
    // run's record sets the real next time.
    let later = "2026-01-01T01:00:00.000Z";
    assert!(kb.claim_feed("vendor A", later, 900).unwrap());
    assert!(!kb.claim_feed("vendor A", later, 900).unwrap(), "taken");
    let f = kb.feed("vendor A").unwrap().unwrap();
    assert_eq!(f.next_due.as_deref(), Some("2026-01-01T01:15:00.000Z"));
    assert!(
        kb.claim_feed("vendor A", "2026-01-01T01:15:00.000Z", 900)
            .unwrap(),
        "expired"
    );
    assert!(!kb.claim_feed("nobody", later, 900).unwrap());

    assert!(kb.enable_feed("vendor A", false).unwrap());
    assert!(
        !kb.claim_feed("vendor A", "2027-01-01T00:00:00.000Z", 900)
            .unwrap(),
        "disabled"
    );
    assert!(!kb.feed("vendor A").unwrap().unwrap().enabled);
    assert!(!kb.enable_feed("nobody", true).unwrap());
    kb.add_feed(&feed("vendor B")).unwrap();
    let names: Vec<String> = kb.feeds().unwrap().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["vendor A", "vendor B"]);
    assert!(kb.remove_feed("vendor B").unwrap());
    assert!(!kb.remove_feed("vendor B").unwrap());
    // Readers see no subscriptions.
    kb.restrict(Tlp::Amber).unwrap();
    assert!(kb.feeds().unwrap().is_empty());
    assert!(kb.feed("vendor A").unwrap().is_none());
}
