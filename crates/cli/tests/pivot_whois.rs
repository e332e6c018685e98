//! `cairn pivot` over registration records through the real binary: a
//! domain's registrar, name servers and registrant e-mail are nodes; a
//! dedicated name server leads to the actor's other domain; a registrar
//! shared by many (NameCheap) is damped with its fan-out, its spellings one
//! node; `--at` keeps only records alive then.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

mod support;
use support::cairn;

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
                Some("OPS@kestrel-mail.example"),
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

    // From the registrant's e-mail to the domains it registered.
    let by_mail = pivot(&db, &["ops@kestrel-mail.example", "--depth", "1"]);
    assert_eq!(
        values(&by_mail),
        [
            "liveonlin-test.com",
            "officesuport-test.com",
            "ops@kestrel-mail.example"
        ]
    );

    // In 2025 the first domain's record had expired: nothing links from it.
    let later = pivot(&db, &["officesuport-test.com", "--at", "2025"]);
    assert_eq!(values(&later), ["officesuport-test.com"]);
}

#[test]
fn registrar_and_name_server_habits_profile_and_score() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let list = dir.path().join("kestrel.txt");
    let actor = [
        "kestrel-a.com",
        "kestrel-b.net",
        "kestrel-c.org",
        "kestrel-d.com",
    ];
    std::fs::write(&list, actor.join("\n") + "\n").unwrap();
    let l = list.to_str().unwrap();
    let out = cairn(
        &db,
        &[
            "ingest",
            l,
            "--format",
            "list",
            "--actor",
            "Kestrel Typhoon",
            "--source",
            "report",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The actor's four: NameCheap, three on its own name servers; twelve
    // others at big registrars, one at NameCheap too.
    let mut records: Vec<String> = actor
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let ns = if i < 3 {
                "ns1.kestrel-dns.net"
            } else {
                "dns1.registrar-servers.com"
            };
            whois(d, "NameCheap, Inc.", &[ns], None, "2030-01-01T00:00:00Z")
        })
        .collect();
    for i in 0..12 {
        let (reg, ns) = match i {
            0 => ("NameCheap, Inc.", "dns1.registrar-servers.com"),
            1..6 => ("GoDaddy.com, LLC", "ns01.domaincontrol.com"),
            _ => ("MarkMonitor Inc.", "ns1.markmonitor.com"),
        };
        records.push(whois(
            &format!("other{i}.com"),
            reg,
            &[ns],
            None,
            "2030-01-01T00:00:00Z",
        ));
    }
    // Two candidates alike in shape, one registered like the actor's.
    records.push(whois(
        "kestrel-e.com",
        "Namecheap Inc",
        &["ns2.kestrel-dns.net"],
        None,
        "2030-01-01T00:00:00Z",
    ));
    records.push(whois(
        "kestrel-f.com",
        "GoDaddy.com, LLC",
        &["ns01.domaincontrol.com"],
        None,
        "2030-01-01T00:00:00Z",
    ));
    let mut paths = Vec::new();
    for (i, text) in records.iter().enumerate() {
        let p = dir.path().join(format!("r{i}.txt"));
        std::fs::write(&p, text).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["ingest", "--source", "whois-test"];
    args.extend(paths.iter().map(String::as_str));
    assert!(cairn(&db, &args).status.success());

    let out = cairn(&db, &["infra", "Kestrel Typhoon", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["registered"], 4);
    assert_eq!(p["registrars"][0]["value"], "namecheap");
    assert_eq!(p["registrars"][0]["count"], 4);
    assert_eq!(p["name_servers"][0]["value"], "kestrel-dns.net");
    assert_eq!(p["name_servers"][0]["count"], 3);
    let habit = |f: &str, v: &str| {
        p["habits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["feature"] == f && h["value"] == v)
            .and_then(|h| h["weight"].as_f64())
    };
    // NameCheap holds 1 of the population's 14 records (the candidates count
    // too), the actor's 4 of 4.
    assert!(
        habit("registrar", "namecheap").is_some_and(|w| w > 0.5),
        "{:?}",
        p["habits"]
    );
    assert!(habit("name-server", "kestrel-dns.net").is_some_and(|w| w > 1.0));
    assert_eq!(habit("registrar", "godaddy"), None);

    let cands = dir.path().join("cands.txt");
    std::fs::write(&cands, "kestrel-e.com\nkestrel-f.com\n").unwrap();
    let out = cairn(
        &db,
        &[
            "infra",
            "score",
            cands.to_str().unwrap(),
            "--actor",
            "Kestrel Typhoon",
            "--json",
        ],
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["value"], "kestrel-e.com", "{lines:?}");
    let contrib = |i: usize, f: &str| {
        lines[i]["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["feature"] == f)
            .and_then(|c| c["weight"].as_f64())
            .unwrap_or_else(|| panic!("no {f} in {:?}", lines[i]))
    };
    assert!(contrib(0, "registrar") > 0.0 && contrib(1, "registrar") < 0.0);
    assert!(contrib(0, "name-server") > 0.0);
}

#[test]
fn records_and_logs_on_stdin_go_their_own_way() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let pipe = |bytes: &[u8], extra: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("--db")
            .arg(&db)
            .args(["ingest", "-", "--json"])
            .args(extra)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let record = whois(
        "stdin-test.com",
        "NameCheap, Inc.",
        &["ns1.x.net"],
        None,
        "2030-01-01T00:00:00Z",
    );
    assert_eq!(
        pipe(record.as_bytes(), &["--source", "w"])["format"],
        "whois"
    );
    let store = cairn_kb::Store::open(&db).unwrap();
    assert_eq!(store.registration("stdin-test.com").unwrap().len(), 1);
    drop(store);
    let logs = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/logs/zeek/dns.log.gz");
    let r = pipe(&std::fs::read(logs).unwrap(), &["--source", "sensor"]);
    assert_eq!(
        r["format"], "zeek-dns",
        "a gzipped Zeek log is observations, not a report: {r}"
    );
    assert_eq!(r["indicators"], 0);
    assert_eq!(pipe(b"evil.example.com\n", &[])["format"], "list");
}

#[test]
fn an_address_names_its_network_from_the_dated_as_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let table = dir.path().join("asn.csv");
    std::fs::write(
        &table,
        "45.76.0.0,45.77.255.255,20473,\"The Constant Company, LLC\"\n",
    )
    .unwrap();
    let pdns = dir.path().join("pdns.jsonl");
    std::fs::write(
        &pdns,
        "{\"rrname\":\"kb.dga-test.asia\",\"rrtype\":\"A\",\"rdata\":\"45.77.153.197\",\
         \"time_first\":1685577600,\"time_last\":1685664000,\"count\":2}\n",
    )
    .unwrap();
    for args in [
        vec!["ingest", table.to_str().unwrap(), "--as-of", "2026-06-17"],
        vec!["ingest", pdns.to_str().unwrap(), "--source", "pdns"],
    ] {
        let out = cairn(&db, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let p = pivot(&db, &["kb.dga-test.asia", "--depth", "2"]);
    let asn = "AS20473 (The Constant Company, LLC)";
    assert_eq!(values(&p), ["45.77.153.197", asn, "kb.dga-test.asia"]);
    let edge = p["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["to"] == asn)
        .expect("an announced-by edge");
    assert_eq!(edge["from"], "45.77.153.197");
    assert_eq!(edge["kind"], "announced-by");
    assert_eq!(
        edge["sources"],
        serde_json::json!(["asn.csv, as of 2026-06-17"])
    );
    assert!(
        edge["first_seen"].is_null(),
        "the table dates itself, not the edge"
    );
}
