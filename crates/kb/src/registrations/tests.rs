use super::*;

fn rec(domain: &str, registrar: &str, ns: &[&str]) -> Result<Registration, KbError> {
    Ok(Registration {
        domain: domain.into(),
        registrar: Some(registrar.into()),
        created: Some("2021-01-02T03:04:05Z".into()),
        name_servers: ns.iter().map(|s| s.to_string()).collect(),
        status: vec!["clientTransferProhibited".into()],
        ..Registration::default()
    })
}

fn head(tlp: Tlp) -> RegHead {
    RegHead {
        source: "whois-2026".into(),
        format: "whois".into(),
        reference: None,
        tlp,
    }
}

#[test]
fn registrar_keys() {
    assert_eq!(registrar_key("NameCheap, Inc."), "namecheap");
    assert_eq!(registrar_key("NAMECHEAP INC"), "namecheap");
    assert_eq!(registrar_key("GoDaddy.com, LLC"), "godaddycom");
    assert_eq!(registrar_key("MarkMonitor Inc."), "markmonitor");
}

#[test]
fn reingest_is_differential_and_pivots_answer() {
    let mut store = Store::open_in_memory().unwrap();
    let v1 = vec![
        rec("a.example", "NameCheap, Inc.", &["NS1.DNS.example."]),
        rec(
            "b.example",
            "NAMECHEAP INC",
            &["ns1.dns.example", "ns2.dns.example"],
        ),
        rec("c.example", "GoDaddy.com, LLC", &["ns9.other.example"]),
    ];
    let r = store
        .ingest_registrations(&head(Tlp::Clear), v1, None, None)
        .unwrap();
    assert_eq!((r.added, r.changed, r.withdrawn), (3, 0, 0));
    let a = store.registration("A.example").unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].source, "whois-2026");
    assert_eq!(a[0].name_servers, ["ns1.dns.example"]);
    assert_eq!(a[0].status, ["clientTransferProhibited"]);
    let nc = store.registrations_by_registrar("namecheap", 10).unwrap();
    assert_eq!(
        nc.iter().map(|r| r.domain.as_str()).collect::<Vec<_>>(),
        ["a.example", "b.example"]
    );
    assert_eq!(
        store
            .registrations_by_registrar("namecheap", 1)
            .unwrap()
            .len(),
        1
    );
    let ns = store
        .registrations_by_name_server("ns1.dns.example.", 10)
        .unwrap();
    assert_eq!(ns.len(), 2);

    // b changes registrar, c disappears, a is as it was.
    let v2 = vec![
        rec("a.example", "NameCheap, Inc.", &["ns1.dns.example"]),
        rec("b.example", "Porkbun LLC", &["ns2.dns.example"]),
    ];
    let r = store
        .ingest_registrations(&head(Tlp::Clear), v2, None, None)
        .unwrap();
    assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 1));
    assert!(store.registration("c.example").unwrap().is_empty());
    assert_eq!(
        store
            .registrations_by_name_server("ns1.dns.example", 10)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.registration("b.example").unwrap()[0]
            .registrar
            .as_deref(),
        Some("Porkbun LLC")
    );
    let rows: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM registrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 3, "withdrawn, not deleted");
    // c comes back.
    let v3 = vec![rec("c.example", "GoDaddy.com, LLC", &["ns9.other.example"])];
    let r = store
        .ingest_registrations(&head(Tlp::Clear), v3, None, None)
        .unwrap();
    assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 2));
    assert_eq!(store.registration("c.example").unwrap().len(), 1);
}

#[test]
fn a_bad_record_leaves_the_store_as_it_was() {
    let mut store = Store::open_in_memory().unwrap();
    let rows = vec![
        rec("a.example", "NameCheap", &[]),
        Err(KbError::Invalid("b.txt: not a record".into())),
    ];
    assert!(
        store
            .ingest_registrations(&head(Tlp::Clear), rows, None, None)
            .is_err()
    );
    assert!(store.registration("a.example").unwrap().is_empty());
    let sources: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM sources", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sources, 0);
}

#[test]
fn a_restricted_reader_sees_only_sources_at_its_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut store = Store::open(&path).unwrap();
    store
        .ingest_registrations(
            &head(Tlp::Red),
            vec![rec("a.example", "NameCheap", &["ns1.dns.example"])],
            None,
            None,
        )
        .unwrap();
    let mut reader = Store::open(&path).unwrap();
    reader.restrict(Tlp::Amber).unwrap();
    assert!(reader.registration("a.example").unwrap().is_empty());
    assert!(
        reader
            .registrations_by_registrar("namecheap", 5)
            .unwrap()
            .is_empty()
    );
    assert!(
        reader
            .registrations_by_name_server("ns1.dns.example", 5)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.registration("a.example").unwrap().len(), 1);
}
