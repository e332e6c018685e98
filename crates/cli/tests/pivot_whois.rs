//! `cairn pivot` over registration records through the real binary: a
//! domain's registrar, name servers and registrant e-mail are nodes; a
//! dedicated name server leads to the actor's other domain; a registrar
//! shared by many (NameCheap) is damped with its fan-out, its spellings one
//! node; `--at` keeps only records alive then.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn cairn(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run cairn")
}

fn pivot(db: &Path, args: &[&str]) -> Value {
    let out = cairn(db, &[&["pivot", "--json"], args].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn whois(domain: &str, registrar: &str, ns: &[&str], email: Option<&str>, expires: &str) -> String {
    let mut t = format!(
        "Domain Name: {}\nRegistrar: {registrar}\nCreation Date: 2022-11-01T10:00:00Z\n\
         Updated Date: 2023-01-01T00:00:00Z\nRegistry Expiry Date: {expires}\n",
        domain.to_ascii_uppercase()
    );
    for n in ns {
        t.push_str(&format!("Name Server: {}\n", n.to_ascii_uppercase()));
    }
    if let Some(e) = email {
        t.push_str(&format!("Registrant Email: {e}\n"));
    }
    t
}

fn values(p: &Value) -> Vec<String> {
    let mut v: Vec<String> = p["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn registrations_pivot_through_dedicated_name_servers_and_damp_registrars() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut files = vec![
        (
            "a",
            whois(
                "officesuport-test.com",
                "NameCheap, Inc.",
                &["ns1.kestrel-dns.net"],
                Some("ops@kestrel-mail.example"),
                "2024-11-01T10:00:00Z",
            ),
        ),
        (
            "b",
            whois(
                "liveonlin-test.com",
                "NameCheap, Inc.",
                &["ns1.kestrel-dns.net"],
                None,
                "2030-01-01T00:00:00Z",
            ),
        ),
        (
            "c",
            whois(
                "parked-test.com",
                "Namecheap Inc",
                &["dns1.registrar-servers.com"],
                None,
                "2030-01-01T00:00:00Z",
            ),
        ),
    ];
    for i in 0..60 {
        files.push((
            "f",
            whois(
                &format!("filler{i}-test.com"),
                "NameCheap, Inc.",
                &["dns1.registrar-servers.com"],
                None,
                "2030-01-01T00:00:00Z",
            ),
        ));
    }
    let mut paths = Vec::new();
    for (i, (_, text)) in files.iter().enumerate() {
        let p = dir.path().join(format!("whois-{i}.txt"));
        std::fs::write(&p, text).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["ingest", "--source", "whois-test"];
    args.extend(paths.iter().map(String::as_str));
    let out = cairn(&db, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let p = pivot(&db, &["officesuport-test.com", "--depth", "2"]);
    assert_eq!(
        values(&p),
        [
            "NameCheap, Inc.",
            "liveonlin-test.com",
            "ns1.kestrel-dns.net",
            "officesuport-test.com",
            "ops@kestrel-mail.example"
        ]
    );
    let damped = p["damped"].as_array().unwrap();
    assert_eq!(damped.len(), 1, "{damped:?}");
    assert_eq!(damped[0]["value"], "NameCheap, Inc.");
    assert_eq!(damped[0]["fan_out"], 63, "both spellings counted");
    let reg = p["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "registrar" && e["from"] == "officesuport-test.com")
        .expect("registrar edge");
    assert_eq!(reg["first_seen"], "2022-11-01T10:00:00.000Z");
    assert_eq!(reg["sources"][0], "whois-test");
    let live = p["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["value"] == "liveonlin-test.com")
        .unwrap();
    assert_eq!(
        live["path"],
        serde_json::json!([
            "officesuport-test.com",
            "ns1.kestrel-dns.net",
            "liveonlin-test.com"
        ])
    );

    // Asked for: the shared registrar is walked through.
    let all = pivot(
        &db,
        &[
            "officesuport-test.com",
            "--depth",
            "2",
            "--expand-common",
            "--budget",
            "500",
        ],
    );
    assert_eq!(all["nodes"].as_array().unwrap().len(), 5 + 61);

    // In 2025 the first domain's record had expired: nothing links from it.
    let later = pivot(&db, &["officesuport-test.com", "--at", "2025"]);
    assert_eq!(values(&later), ["officesuport-test.com"]);
}
