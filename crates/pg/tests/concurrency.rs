//! Several writers and readers on one database at once, as several
//! servers and ingests would be.

use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance};
use cairn_pg::PgStore;
use std::sync::{Arc, Barrier};

fn source(name: &str, values: usize, tag: &str) -> Bundle {
    let objects = (0..values)
        .map(|i| Object {
            id: format!("indicator--{name}-{i}"),
            kind: "indicator".into(),
            observables: vec![Observable {
                kind: IndicatorKind::Domain,
                value: format!("{tag}{i}.{name}.example"),
            }],
            prov: Provenance {
                source: name.into(),
                ..Provenance::default()
            },
            raw: format!("{{\"v\":\"{tag}{i}\"}}"),
            ..Object::default()
        })
        .collect();
    Bundle {
        source: name.into(),
        format: "stix".into(),
        objects,
        ..Bundle::default()
    }
}

/// Every ingest runs on its own connection, all released at once.
fn at_once(url: &str, bundles: Vec<Bundle>) -> Vec<cairn_kb::IngestReport> {
    let start = Arc::new(Barrier::new(bundles.len()));
    let handles: Vec<_> = bundles
        .into_iter()
        .map(|b| {
            let (url, start) = (url.to_string(), start.clone());
            std::thread::spawn(move || {
                let mut s = PgStore::connect(&url).expect("connect");
                start.wait();
                s.ingest(&b, None, None).expect("ingest")
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect()
}

#[test]
fn ingests_of_different_sources_run_together_and_of_one_source_queue() {
    let Some(server) = cairn_testkit::postgres() else {
        return;
    };
    let db = cairn_pg::admin::Scratch::new(&server, "t").unwrap();
    // Schema set-up itself raced by four servers starting together.
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url().to_string();
            std::thread::spawn(move || PgStore::connect(&url).map(|s| s.generation().unwrap()))
        })
        .collect();
    for s in starts {
        assert_eq!(s.join().unwrap().unwrap(), 0);
    }
    let reader = PgStore::connect(db.url()).unwrap();
    let g0 = reader.generation().unwrap();

    let reports = at_once(
        db.url(),
        vec![
            source("a", 2000, "x"),
            source("b", 2000, "x"),
            source("c", 2000, "x"),
        ],
    );
    assert!(reports.iter().all(|r| r.status == "new" && r.added == 2000));
    // Another connection (another server) sees every ingest: its caches,
    // keyed on the generation, rebuild.
    assert_eq!(reader.generation().unwrap(), g0 + 3);
    let stats = reader.stats().unwrap();
    assert_eq!(stats.sources.len(), 3);
    assert!(stats.sources.iter().all(|s| s.objects == 2000));

    // Two versions of one source at once: one waits for the other, so the
    // second is compared with the first, never interleaved with it.
    let reports = at_once(
        db.url(),
        vec![source("a", 2000, "y"), source("a", 2000, "z")],
    );
    let mut statuses: Vec<(usize, usize, usize)> = reports
        .iter()
        .map(|r| (r.added, r.changed, r.withdrawn))
        .collect();
    statuses.sort();
    // Each version replaces every value of the one before it.
    assert_eq!(statuses, vec![(0, 2000, 0), (0, 2000, 0)]);
    let mut values = Vec::new();
    reader
        .for_each_hunt_indicator(false, &mut |h| values.push(h.observable.value))
        .unwrap();
    let a: Vec<&String> = values
        .iter()
        .filter(|v| v.ends_with(".a.example"))
        .collect();
    assert_eq!(a.len(), 2000);
    let tag = &a[0][..1];
    assert!(tag == "y" || tag == "z");
    assert!(
        a.iter().all(|v| v.starts_with(tag)),
        "one version whole, not a mix"
    );
    assert_eq!(reader.generation().unwrap(), g0 + 5);
}

#[test]
fn a_database_of_a_newer_schema_is_refused() {
    let Some(server) = cairn_testkit::postgres() else {
        return;
    };
    let db = cairn_pg::admin::Scratch::new(&server, "t").unwrap();
    drop(PgStore::connect(db.url()).unwrap());
    // Connecting again applies nothing.
    drop(PgStore::connect(db.url()).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM cairn_migrations")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, cairn_pg::VERSION);
        sqlx::query("INSERT INTO cairn_migrations(version, name) VALUES ($1, 'from the future')")
            .bind(cairn_pg::VERSION + 1)
            .execute(&mut c)
            .await
            .unwrap();
    });
    let err = PgStore::connect(db.url()).unwrap_err().to_string();
    assert!(err.contains("newer than this cairn"), "{err}");
}
