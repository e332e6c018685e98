//! Observation logs through `cairn ingest` (detected, no `--format`) and
//! `cairn pivot`, end to end on the real binary: the real Zeek sample (TSV
//! and JSON give the same edges), a generated log with an actor on a
//! dedicated and a shared address, and bad input.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cairn(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.env("CAIRN_DB", db).arg("--quiet");
    c
}

fn ok(out: Output) -> Output {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn pivot(db: &Path, args: &[&str]) -> Output {
    cairn(db).arg("pivot").args(args).output().unwrap()
}

fn zeek(dir: &str, name: &str) -> Option<PathBuf> {
    cairn_testkit::dataset(&format!("zeek/zed-sample-data/{dir}/{name}"))
}

/// Edges without their sources (the two stores name their sensors apart).
fn edges(v: &Value) -> Vec<Value> {
    let mut e: Vec<Value> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("sources");
            e
        })
        .collect();
    e.sort_by_key(|e| e.to_string());
    e
}

/// The real dns log's body written `times` times under its header: a plain
/// file large enough to be read over threads.
fn repeated_dns(to: &Path, times: usize, tail: &str) -> Option<usize> {
    use std::io::Read;
    let gz = zeek("zeek-default", "dns.log.gz")?;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let (head, body): (Vec<&str>, Vec<&str>) = text
        .lines()
        .filter(|l| !l.starts_with("#close"))
        .partition(|l| l.starts_with('#'));
    let mut f = std::io::BufWriter::new(std::fs::File::create(to).unwrap());
    writeln!(f, "{}", head.join("\n")).unwrap();
    let body = body.join("\n");
    for _ in 0..times {
        writeln!(f, "{body}").unwrap();
    }
    write!(f, "{tail}").unwrap();
    f.flush().unwrap();
    Some(head.len() + times * body.lines().count())
}

#[test]
fn a_large_plain_dns_log_read_over_threads_counts_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let (one, four) = (dir.path().join("one.log"), dir.path().join("four.log"));
    let Some(_) = repeated_dns(&one, 1, "") else {
        return;
    };
    let lines = repeated_dns(&four, 4, "#close\t2024-04-12-19-30-00\n").unwrap();
    // Over the size read in parts (32 MB).
    assert!(std::fs::metadata(&four).unwrap().len() > 32 << 20);
    let (db1, db4) = (dir.path().join("one.db"), dir.path().join("four.db"));
    for (db, log) in [(&db1, &one), (&db4, &four)] {
        ok(cairn(db)
            .arg("ingest")
            .arg(log)
            .args(["--source", "sensor"])
            .output()
            .unwrap());
    }
    // The same edges, each seen four times as often between the same times.
    for q in ["ise.wrccdc.org", "134.71.3.16", "ise.wrccdc.cpp.edu"] {
        let a = edges(&json(&ok(pivot(&db1, &[q, "--depth", "1", "--json"]))));
        let b = edges(&json(&ok(pivot(&db4, &[q, "--depth", "1", "--json"]))));
        assert!(!a.is_empty(), "{q}");
        let times4: Vec<Value> = a
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e["count"] = (e["count"].as_i64().unwrap() * 4).into();
                e
            })
            .collect();
        assert_eq!(b, times4, "{q}");
    }
    // A bad last line is named by its place in the whole file, and the
    // store is left as it was.
    let bad = dir.path().join("bad.log");
    repeated_dns(&bad, 4, "17x3\tC\tx.example\n").unwrap();
    let snapshot = || {
        json(&ok(pivot(
            &db4,
            &["ise.wrccdc.org", "--depth", "1", "--json"],
        )))
    };
    let before = snapshot();
    let out = cairn(&db4)
        .arg("ingest")
        .arg(&bad)
        .args(["--source", "sensor"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.log") && err.contains(&format!("line {}", lines + 1)),
        "{err}"
    );
    assert_eq!(snapshot(), before, "store unchanged");
}

#[test]
fn real_zeek_tsv_and_json_give_the_same_edges_with_exact_counts() {
    let (Some(_), Some(_)) = (
        zeek("zeek-default", "dns.log.gz"),
        zeek("zeek-json", "dns.json.gz"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut stores = Vec::new();
    for (sub, ext, source) in [
        ("zeek-default", "log", "sensor-tsv"),
        ("zeek-json", "json", "sensor-json"),
    ] {
        let db = dir.path().join(format!("{source}.db"));
        let files: Vec<PathBuf> = ["dns", "ssl", "x509"]
            .iter()
            .map(|l| zeek(sub, &format!("{l}.{ext}.gz")).unwrap())
            .collect();
        let out = ok(cairn(&db)
            .arg("ingest")
            .args(&files)
            .args(["--source", source, "--json"])
            .output()
            .unwrap());
        let rows = json_lines(&out);
        assert_eq!(rows.len(), 1, "one source, one transaction: {rows:?}");
        assert_eq!(rows[0]["format"], "zeek-dns+zeek-ssl+zeek-x509");
        assert_eq!(rows[0]["status"], "new");
        stores.push((db, rows[0].clone()));
    }
    let (tsv, json_db) = (&stores[0], &stores[1]);
    for k in ["objects", "relationships", "added"] {
        assert_eq!(tsv.1[k], json_db.1[k], "{k}");
    }
    // Counted by hand: zcat dns.log.gz | awk -F'\t' '$10=="ise.wrccdc.org"' …
    // 14,313 A answers plus 3 with no qtype name carry 134.71.3.16, 7,830 AAAA
    // answers the IPv6 address, all 22,146 the CNAME.
    let a = json(&ok(pivot(
        &tsv.0,
        &["ise.wrccdc.org", "--depth", "1", "--json"],
    )));
    let b = json(&ok(pivot(
        &json_db.0,
        &["ise.wrccdc.org", "--depth", "1", "--json"],
    )));
    assert_eq!(edges(&a), edges(&b));
    let find = |to: &str| {
        a["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["to"] == to)
            .unwrap_or_else(|| panic!("no edge to {to}: {a}"))
            .clone()
    };
    let v4 = find("134.71.3.16");
    assert_eq!(v4["kind"], "resolves-to");
    assert_eq!(v4["count"], 14316);
    assert_eq!(v4["first_seen"], "2018-03-24T17:15:20.865Z");
    assert_eq!(v4["last_seen"], "2018-03-24T17:36:19.264Z");
    assert_eq!(v4["sources"], serde_json::json!(["sensor-tsv"]));
    assert_eq!(find("2620:df:8000:1601:0:1:3:16")["count"], 7830);
    let cname = find("ise.wrccdc.cpp.edu");
    assert_eq!(
        (cname["kind"].as_str(), cname["count"].as_i64()),
        (Some("cname"), Some(22146))
    );
    assert_eq!(a["nodes"][0]["path"], serde_json::json!(["ise.wrccdc.org"]));
    // A certificate: served by addresses, with its subject, issuer and SANs.
    let cert = "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe";
    let a = json(&ok(pivot(&tsv.0, &[cert, "--depth", "1", "--json"])));
    let b = json(&ok(pivot(&json_db.0, &[cert, "--depth", "1", "--json"])));
    assert_eq!(edges(&a), edges(&b));
    let kinds: std::collections::BTreeSet<&str> = a["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.is_superset(&["serves", "subject", "issuer", "san"].into()),
        "{kinds:?}"
    );
    assert!(
        a["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["value"] == "localhost.localdomain")
    );

    // The same files again: recognised, nothing written.
    let files: Vec<PathBuf> = ["dns", "ssl", "x509"]
        .iter()
        .map(|l| zeek("zeek-default", &format!("{l}.log.gz")).unwrap())
        .collect();
    let again = json_lines(&ok(cairn(&tsv.0)
        .arg("ingest")
        .args(&files)
        .args(["--source", "sensor-tsv", "--json"])
        .output()
        .unwrap()));
    assert_eq!(again[0]["status"], "unchanged");
    // Only the dns log now: the TLS pairs are withdrawn, not deleted.
    let dns_only = json_lines(&ok(cairn(&tsv.0)
        .arg("ingest")
        .arg(&files[0])
        .args(["--source", "sensor-tsv", "--json"])
        .output()
        .unwrap()));
    assert_eq!(dns_only[0]["status"], "updated");
    assert_eq!(dns_only[0]["added"], 0);
    assert!(dns_only[0]["withdrawn"].as_u64().unwrap() > 0);
    assert_eq!(pivot(&tsv.0, &[cert, "--json"]).status.code(), Some(1));
}

/// A Zeek dns log: (epoch seconds, query, answers).
fn write_dns_log(path: &Path, lines: &[(i64, String, &str)]) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(
        f,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
         #fields\tts\tuid\tquery\tqtype_name\tanswers\n#types\ttime\tstring\tstring\tstring\tvector[string]"
    )
    .unwrap();
    for (i, (ts, q, a)) in lines.iter().enumerate() {
        writeln!(f, "{ts}.250000\tC{i}\t{q}\tA\t{a}").unwrap();
    }
}

#[test]
fn an_actor_on_dedicated_and_shared_hosting_pivots_and_damps() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let iocs = dir.path().join("iocs.txt");
    std::fs::write(&iocs, "evil-actor.example\n").unwrap();
    ok(cairn(&db)
        .args([
            "ingest",
            "--format",
            "list",
            "--actor",
            "RedHotel",
            "--source",
            "the report",
        ])
        .arg(&iocs)
        .output()
        .unwrap());
    // June 2023: the actor's domain on its own address and on shared
    // hosting with 500 other names; its sibling joins the own address in
    // September.
    let june = 1_686_000_000; // 2023-06-05
    let sept = 1_694_000_000; // 2023-09-06
    let mut lines = vec![
        (june, "evil-actor.example".to_string(), "198.51.100.10"),
        (june + 60, "evil-actor.example".to_string(), "198.51.100.10"),
        (june + 120, "evil-actor.example".to_string(), "203.0.113.50"),
        (sept, "sister-actor.example".to_string(), "198.51.100.10"),
    ];
    for i in 0..500 {
        lines.push((
            june + i,
            format!("tenant{i}.hosting.example"),
            "203.0.113.50",
        ));
    }
    let log = dir.path().join("dns.log");
    write_dns_log(&log, &lines);
    let rows = json_lines(&ok(cairn(&db)
        .args(["ingest", "--source", "sensor-1", "--json"])
        .arg(&log)
        .output()
        .unwrap()));
    assert_eq!(rows[0]["format"], "zeek-dns");
    assert_eq!(rows[0]["relationships"], 503);

    let v = json(&ok(pivot(
        &db,
        &["evil-actor.example", "--depth", "2", "--json"],
    )));
    let nodes = v["nodes"].as_array().unwrap();
    let values: Vec<&str> = nodes.iter().map(|n| n["value"].as_str().unwrap()).collect();
    assert_eq!(
        values,
        vec![
            "evil-actor.example",
            "198.51.100.10",
            "203.0.113.50",
            "sister-actor.example"
        ]
    );
    assert_eq!(nodes[0]["type"], "domain");
    assert_eq!(
        nodes[0]["actors"],
        serde_json::json!([{"name": "RedHotel", "sources": ["the report"]}])
    );
    assert_eq!(
        nodes[0]["sources"],
        serde_json::json!(["sensor-1", "the report"])
    );
    assert_eq!(
        nodes[3]["path"],
        serde_json::json!([
            "evil-actor.example",
            "198.51.100.10",
            "sister-actor.example"
        ])
    );
    assert_eq!(nodes[3]["first_seen"], "2023-09-06T11:33:20.250Z");
    assert_eq!(
        v["damped"],
        serde_json::json!([{"value": "203.0.113.50", "fan_out": 501}])
    );
    let own = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "evil-actor.example" && e["to"] == "198.51.100.10")
        .unwrap();
    assert_eq!(own["count"], 2);
    assert_eq!(own["kind"], "resolves-to");
    assert_eq!(own["sources"], serde_json::json!(["sensor-1"]));
    assert_eq!(v["edges"].as_array().unwrap().len(), 3);

    // Human output: a table and the damped hub with its fan-out.
    let text = String::from_utf8(ok(pivot(&db, &["evil-actor.example"])).stdout).unwrap();
    assert!(
        text.contains("sister-actor.example") && text.contains("fan-out 501"),
        "{text}"
    );
    assert!(text.contains("RedHotel (the report)"), "{text}");

    let all = json(&ok(pivot(
        &db,
        &[
            "evil-actor.example",
            "--expand-common",
            "--budget",
            "1000",
            "--json",
        ],
    )));
    assert_eq!(all["nodes"].as_array().unwrap().len(), 504);
    assert_eq!(all["damped"], serde_json::json!([]));

    let at = json(&ok(pivot(
        &db,
        &["evil-actor.example", "--at", "2023-06", "--json"],
    )));
    let values: Vec<&str> = at["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        vec!["evil-actor.example", "198.51.100.10", "203.0.113.50"]
    );
    let sept_only = json(&ok(pivot(
        &db,
        &["sister-actor.example", "--at", "2023-09-06", "--json"],
    )));
    // In September only the sibling stood on the address.
    assert_eq!(sept_only["nodes"].as_array().unwrap().len(), 2);

    // The start may be an address; a value nobody knows exits 1.
    let from_addr = json(&ok(pivot(
        &db,
        &["198.51.100.10", "--depth", "1", "--json"],
    )));
    assert_eq!(from_addr["nodes"].as_array().unwrap().len(), 3);
    let none = pivot(&db, &["nobody.example", "--json"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        pivot(&db, &["evil-actor.example", "--at", "2023-13"])
            .status
            .code()
            == Some(2)
    );
}

#[test]
fn bad_observation_files_are_refused_whole_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        "{\"rrname\":\"first.example\",\"rrtype\":\"A\",\"rdata\":\"192.0.2.1\",\"time_first\":1600000000,\"time_last\":1600000100,\"count\":3,\"sensor_id\":\"s\"}\n",
    )
    .unwrap();
    let rows = json_lines(&ok(cairn(&db)
        .args(["ingest", "--json"])
        .arg(&good)
        .output()
        .unwrap()));
    assert_eq!(
        (rows[0]["format"].as_str(), rows[0]["added"].as_u64()),
        (Some("cof"), Some(1))
    );
    let e = json(&ok(pivot(&db, &["first.example", "--json"])));
    assert_eq!(e["edges"][0]["count"], 3);

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"rrname\":\"second.example\",\"rrtype\":\"A\",\"rdata\":\"192.0.2.2\",\"time_first\":1,\"time_last\":2}\n\
         {\"rrname\":\"third.example\",\"rrtype\":\"A\",\"rdata\":[\"192.0.2.3\"],\"time_first\":1,\"time_last\":2}\n\
         this is not json\n",
    )
    .unwrap();
    let out = cairn(&db)
        .args(["ingest"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl") && err.contains("line 3"), "{err}");
    assert_eq!(
        pivot(&db, &["second.example"]).status.code(),
        Some(1),
        "store unchanged"
    );

    // A truncated gzip: the place it breaks is named, nothing is stored.
    let Some(real) = zeek("zeek-default", "dns.log.gz") else {
        return;
    };
    let bytes = std::fs::read(real).unwrap();
    let cut = dir.path().join("dns.log.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = cairn(&db)
        .args(["ingest", "--source", "sensor-1"])
        .arg(&cut)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dns.log.gz") && err.contains("line "), "{err}");
    assert_eq!(
        pivot(&db, &["ise.wrccdc.org"]).status.code(),
        Some(1),
        "store unchanged"
    );
}
