//! `cairn-loggen zeek --infra` against what it promises (`src/infra.rs`):
//! the logs are read (detected, TSV and gzip JSON alike) into observations,
//! stored, and every address's behaviour judged; exactly the planted scanner
//! and beacon destinations are found, with their counts.

use cairn_infra::{Behaviour, behaviour};
use cairn_intake::{ObsFormat, observation_format, read_observations};
use cairn_kb::{ObsHead, Store};
use cairn_model::observe::{NodeKind, ObsRelation, Observations};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn generate(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join(extra.join(""));
    let st = Command::new(env!("CARGO_BIN_EXE_cairn-loggen"))
        .args(["zeek", "--lines", "2000", "--infra", "--out"])
        .arg(&out)
        .args(extra)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

/// Data lines of a log, counted from the file itself.
fn data_lines(path: &Path) -> u64 {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut plain)
            .unwrap();
        bytes = plain;
    }
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count() as u64
}

fn read(dir: &Path, ext: &str) -> (Observations, u64) {
    let mut o = Observations::new();
    let mut conn_records = 0;
    for (name, want) in [("dns", ObsFormat::ZeekDns), ("conn", ObsFormat::ZeekConn)] {
        let p = dir.join(format!("{name}.{ext}"));
        assert_eq!(observation_format(&p), Some(want), "{}", p.display());
        let n = read_observations(&p, want, &mut o).unwrap();
        assert_eq!(n, data_lines(&p), "{}", p.display());
        if want == ObsFormat::ZeekConn {
            conn_records = n;
        }
    }
    (o, conn_records)
}

/// (address, judgement, its figures) for every address the store knows.
fn judged(o: &Observations) -> Vec<(String, String)> {
    let mut s = Store::open_in_memory().unwrap();
    let head = ObsHead {
        source: "loggen".into(),
        format: "zeek-dns+zeek-conn".into(),
        ..Default::default()
    };
    s.ingest_observations(&head, o, None, None).unwrap();
    let mut out = Vec::new();
    for (kind, value) in o.values() {
        if *kind != NodeKind::Address {
            continue;
        }
        for b in behaviour(&s, value).unwrap() {
            let figures = match &b {
                Behaviour::Scanner {
                    targets,
                    connections,
                    failed_share,
                    ports,
                    ..
                } => format!(
                    "{targets} targets, {connections} conns, {failed_share:.4} failed, ports {ports:?}"
                ),
                Behaviour::BeaconDestination {
                    clients,
                    connections,
                    mean_interval_s,
                    regularity,
                    ..
                } => {
                    assert!(*regularity < 0.15, "{value}: {regularity}");
                    format!("{clients} clients, {connections} conns, every {mean_interval_s:.0} s")
                }
            };
            out.push((value.clone(), format!("{}: {figures}", b.kind())));
        }
    }
    out.sort();
    out
}

#[test]
fn planted_scanner_and_beacons_are_found_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = generate(dir.path(), &[]);
    let json = generate(dir.path(), &["--json", "--gzip"]);
    let (t, t_conns) = read(&tsv, "log");
    let (j, j_conns) = read(&json, "json.log.gz");
    // 2,000 benign rows, 192 scan probes, 3 × 280 + 90 check-ins, 40
    // inventory probes, 20 × 10 downloads.
    assert_eq!((t_conns, j_conns), (3362, 3362));
    assert_eq!(t.resolved(), j.resolved());
    let found = judged(&t);
    let want = vec![
        (
            "139.180.135.175".to_string(),
            "beacon-destination: 3 clients, 840 conns, every 300 s".to_string(),
        ),
        (
            "141.164.63.244".to_string(),
            "beacon-destination: 1 clients, 90 conns, every 900 s".to_string(),
        ),
        (
            "158.247.206.194".to_string(),
            "scanner: 64 targets, 192 conns, 0.9167 failed, ports [22, 445, 3389]".to_string(),
        ),
    ];
    assert_eq!(found, want);
    assert_eq!(judged(&j), want);

    // The actor's names: two on each dedicated address, and the shared
    // address hosting 62 names, 60 of them unrelated.
    let names_on = |addr: &str| -> Vec<(String, u64)> {
        t.resolved()
            .into_iter()
            .filter(|e| e.2 == ObsRelation::ResolvesTo && e.4 == addr)
            .map(|e| (e.1.to_string(), e.7))
            .collect()
    };
    assert_eq!(
        names_on("139.180.135.175"),
        vec![
            ("cdn.officesuport.com".to_string(), 6),
            ("kiwi.officesuport.com".to_string(), 6)
        ]
    );
    assert_eq!(
        names_on("141.164.63.244"),
        vec![
            ("sc.dga.asia".to_string(), 6),
            ("video.dga.asia".to_string(), 6)
        ]
    );
    let shared = names_on("104.21.77.77");
    assert_eq!(shared.len(), 62);
    assert!(shared.contains(&("officesuport.com".to_string(), 6)));
    assert!(shared.contains(&("dga.asia".to_string(), 6)));
}

#[test]
fn without_infra_the_conn_log_is_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path, infra: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cairn-loggen"));
        c.args(["zeek", "--lines", "300", "--out"]).arg(out);
        if infra {
            c.arg("--infra");
        }
        assert!(c.status().unwrap().success());
    };
    run(&dir.path().join("plain"), false);
    run(&dir.path().join("infra"), true);
    let lines = |p: PathBuf| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    };
    for log in ["dns.log", "conn.log", "ssl.log"] {
        let plain = lines(dir.path().join("plain").join(log));
        let infra = lines(dir.path().join("infra").join(log));
        // The benign rows are the same rows, in order; --infra only adds.
        let kept: Vec<&String> = infra.iter().filter(|l| plain.contains(l)).collect();
        assert_eq!(kept.len(), plain.len(), "{log}");
        assert!(infra.len() > plain.len() || log == "ssl.log", "{log}");
    }
}

#[test]
fn tiers_of_the_planted_actor_carry_their_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let logs = generate(dir.path(), &[]);
    let (o, _) = read(&logs, "log");
    let mut s = Store::open_in_memory().unwrap();
    let head = ObsHead {
        source: "loggen".into(),
        format: "zeek-dns+zeek-conn".into(),
        ..Default::default()
    };
    s.ingest_observations(&head, &o, None, None).unwrap();
    // A report in the appendix's own layout: names without a role, one
    // address under a C2 heading, two more without one.
    let report = dir.path().join("report.txt");
    std::fs::write(
        &report,
        "Domains:\n\nkiwi.officesuport[.]com\nvideo.dga[.]asia\n\n\
         C2 IP Addresses (seen May to June 2023)\n\n139.180.135.175\n\n\
         Other network indicators\n\n141.164.63.244\n158.247.206.194\n",
    )
    .unwrap();
    let opts = cairn_intake::Options {
        actor: Some("RedHotel".into()),
        source: Some("report".into()),
        ..Default::default()
    };
    let bundle = cairn_intake::parse_path(&report, &opts).unwrap();
    s.ingest(&bundle, None, None).unwrap();

    let infra = cairn_infra::actor_infrastructure(&s, "RedHotel")
        .unwrap()
        .expect("the actor");
    let tiers = cairn_infra::tiers(&s, &infra).unwrap();
    let got: Vec<(String, String, Vec<&str>)> = tiers
        .iter()
        .map(|t| {
            (
                t.value.clone(),
                t.main_type().to_string(),
                t.reasons.iter().map(|r| r.basis).collect(),
            )
        })
        .collect();
    let want =
        |v: &str, ty: &str, bases: &[&'static str]| (v.to_string(), ty.to_string(), bases.to_vec());
    assert_eq!(
        got,
        vec![
            want(
                "139.180.135.175",
                "command-and-control",
                &["stated", "behaviour"]
            ),
            want("141.164.63.244", "command-and-control", &["behaviour"]),
            want("158.247.206.194", "reconnaissance", &["behaviour"]),
            // Resolves to the stated C2 address: inherits its type.
            want(
                "kiwi.officesuport.com",
                "command-and-control",
                &["inherited"]
            ),
            // Resolves only to an address no source gives a role.
            want("video.dga.asia", "undefined", &[]),
        ]
    );
    let kiwi = &tiers[3].reasons[0];
    assert!(
        kiwi.reason
            .starts_with("kiwi.officesuport.com resolves-to 139.180.135.175"),
        "{}",
        kiwi.reason
    );
    assert_eq!(
        kiwi.sources,
        vec!["report".to_string(), "loggen".to_string()]
    );
}
