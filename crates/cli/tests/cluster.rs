//! `cairn infra cluster` through the real binary: unattributed values
//! grouped by the pivots they share — a dedicated address, a private name
//! server — while a shared-hosting address and a registrar link no one.

use serde_json::{Value, json};
use std::path::Path;
mod support;
use support::{cairn, ok};

fn whois(domain: &str, registrar: &str, ns: &str) -> String {
    format!(
        "Domain Name: {}\nRegistrar: {registrar}\nCreation Date: 2023-01-01T00:00:00Z\n\
         Registry Expiry Date: 2030-01-01T00:00:00Z\nName Server: {ns}\n",
        domain.to_ascii_uppercase()
    )
}

fn store(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("c.db");
    let answer = |name: &str, ip: &str| {
        json!({"rrname": name, "rrtype": "A", "rdata": ip, "time_first": 1672531200,
            "time_last": 1675209600, "count": 3})
        .to_string()
    };
    let mut lines = vec![
        answer("a1.example-x.com", "198.51.100.10"),
        answer("a2.example-y.net", "198.51.100.10"),
        answer("c1.example-q.com", "192.0.2.1"),
        answer("c2.example-r.com", "192.0.2.1"),
    ];
    for i in 0..60 {
        lines.push(answer(&format!("tenant{i}.example-host.com"), "192.0.2.1"));
    }
    let pdns = dir.join("pdns.jsonl");
    std::fs::write(&pdns, lines.join("\n") + "\n").unwrap();
    ok(&cairn(
        &db,
        &["ingest", pdns.to_str().unwrap(), "--source", "pdns"],
    ));
    let records = [
        whois("d1.com", "NameCheap, Inc.", "NS1.PRIVATE-DNS.NET"),
        whois("d2.com", "NameCheap, Inc.", "NS1.PRIVATE-DNS.NET"),
        whois("e1.com", "NameCheap, Inc.", "NS.E1HOST.COM"),
        whois("e2.com", "NameCheap, Inc.", "NS.E2HOST.COM"),
        whois("f1.com", "GoDaddy.com, LLC", "NS.F1HOST.COM")
            + "Registrant Organization: Kestrel Trading Ltd\n",
        whois("f2.net", "Tucows Domains Inc.", "NS.F2HOST.NET")
            + "Registrant Organization: Kestrel Trading Ltd\n",
    ];
    let mut args = vec!["ingest".to_string(), "--source".into(), "whois".into()];
    for (i, r) in records.iter().enumerate() {
        let p = dir.join(format!("w{i}.txt"));
        std::fs::write(&p, r).unwrap();
        args.push(p.to_str().unwrap().into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&cairn(&db, &args));
    db
}

const INPUT: &str = "a1.example-x.com\na2.example-y.net\nc1.example-q.com\nc2.example-r.com\n\
                     d1.com\nd2.com\ne1.com\ne2.com\nf1.com\nf2.net\n";

#[test]
fn shared_pivots_cluster_and_hubs_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let input = dir.path().join("values.txt");
    std::fs::write(&input, INPUT).unwrap();
    let out = cairn(
        &db,
        &["infra", "cluster", input.to_str().unwrap(), "--json"],
    );
    ok(&out);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let clusters: Vec<&Value> = c["clusters"].as_array().unwrap().iter().collect();
    assert_eq!(clusters.len(), 3, "{c}");
    assert_eq!(
        clusters[0]["values"],
        json!(["a1.example-x.com", "a2.example-y.net"])
    );
    assert_eq!(clusters[0]["shared"][0]["value"], "198.51.100.10");
    assert_eq!(
        clusters[0]["shared"][0]["relations"],
        json!(["resolves-to"])
    );
    assert_eq!(clusters[0]["shared"][0]["sources"], json!(["pdns"]));
    assert_eq!(clusters[1]["values"], json!(["d1.com", "d2.com"]));
    assert_eq!(clusters[1]["shared"][0]["value"], "ns1.private-dns.net");
    assert_eq!(clusters[1]["shared"][0]["relations"], json!(["whois-ns"]));
    assert_eq!(clusters[2]["values"], json!(["f1.com", "f2.net"]));
    assert_eq!(clusters[2]["shared"][0]["value"], "Kestrel Trading Ltd");
    assert_eq!(
        clusters[2]["shared"][0]["relations"],
        json!(["registrant-org"])
    );
    assert_eq!(
        c["alone"],
        json!(["c1.example-q.com", "c2.example-r.com", "e1.com", "e2.com"]),
        "a shared-hosting address and a registrar link no one"
    );
    assert_eq!(c["damped"], json!([{"value": "192.0.2.1", "fan_out": 62}]));

    // Nothing to cluster: exit 1.
    std::fs::write(&input, "e1.com\ne2.com\n").unwrap();
    let none = cairn(&db, &["infra", "cluster", input.to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn by_default_the_unattributed_indicators_are_clustered() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "a1.example-x.com\na2.example-y.net\nd1.com\n").unwrap();
    ok(&cairn(
        &db,
        &[
            "ingest",
            feed.to_str().unwrap(),
            "--format",
            "list",
            "--source",
            "feed",
        ],
    ));
    let attributed = dir.path().join("actor.txt");
    std::fs::write(&attributed, "d2.com\n").unwrap();
    ok(&cairn(
        &db,
        &[
            "ingest",
            attributed.to_str().unwrap(),
            "--format",
            "list",
            "--source",
            "report",
            "--actor",
            "Kestrel Typhoon",
        ],
    ));
    let out = cairn(&db, &["infra", "cluster", "--json"]);
    ok(&out);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["clusters"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!(
        c["clusters"][0]["values"],
        json!(["a1.example-x.com", "a2.example-y.net"])
    );
    assert_eq!(
        c["alone"],
        json!(["d1.com"]),
        "d2.com is attributed: not an input"
    );
}
