//! Zeek `conn` logs through `cairn ingest` (detected by content, no
//! `--format`) and `cairn pivot`, on the real binary: connects edges with
//! their counts and times, differential re-ingest, and a bad line that
//! leaves the store as it was.

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

fn cairn(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.env("CAIRN_DB", db).arg("--quiet");
    c
}

fn run(c: &mut Command) -> (Option<i32>, String, String) {
    let out: Output = c.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ingest(db: &Path, file: &Path) -> Value {
    let (code, out, err) = run(cairn(db)
        .arg("ingest")
        .arg(file)
        .args(["--source", "sensor-1", "--json"]));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].clone()
}

/// A conn log: 20 check-ins of 10.0.0.5 with 198.51.100.9 every 60 s from
/// 2023-06-01T00:00:00Z, and 25 internal hosts probed by 203.0.113.7.
fn conn_log(beacons: usize) -> String {
    let mut s = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount\tcount\tstring\tbool\tbool\n",
    );
    for i in 0..beacons {
        let ts = 1_685_577_600 + 60 * i;
        writeln!(
            s,
            "{ts}.000000\tB{i}\t10.0.0.5\t5{i:04}\t198.51.100.9\t443\ttcp\t0.5\t200\t300\tSF\tT\tF"
        )
        .unwrap();
    }
    for h in 0..25 {
        let ts = 1_685_581_200 + h;
        writeln!(
            s,
            "{ts}.000000\tS{h}\t203.0.113.7\t40000\t10.0.2.{h}\t22\ttcp\t-\t0\t0\tREJ\tF\tT"
        )
        .unwrap();
    }
    s
}

#[test]
fn conn_logs_become_connects_edges_that_pivot_shows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let log = dir.path().join("sensor.log");
    std::fs::write(&log, conn_log(20)).unwrap();
    let r = ingest(&db, &log);
    assert_eq!(r["format"], "zeek-conn");
    assert_eq!(r["status"], "new");
    // 1 beacon pair + 25 probed pairs; 28 addresses.
    assert_eq!(
        (r["added"].as_u64(), r["objects"].as_u64()),
        (Some(26), Some(28))
    );

    let (code, out, err) = run(cairn(&db).args(["pivot", "198.51.100.9", "--json"]));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let e = &v["edges"][0];
    assert_eq!(v["edges"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        (
            e["from"].as_str(),
            e["to"].as_str(),
            e["kind"].as_str(),
            e["count"].as_u64()
        ),
        (
            Some("10.0.0.5"),
            Some("198.51.100.9"),
            Some("connects"),
            Some(20)
        )
    );
    assert_eq!(e["first_seen"], "2023-06-01T00:00:00.000Z");
    // The last check-in began at 00:19:00 and lasted half a second.
    assert_eq!(e["last_seen"], "2023-06-01T00:19:00.500Z");

    // The same file: unchanged. Fewer check-ins: the pair changes.
    assert_eq!(ingest(&db, &log)["status"], "unchanged");
    std::fs::write(&log, conn_log(12)).unwrap();
    let r = ingest(&db, &log);
    assert_eq!(
        (r["changed"].as_u64(), r["withdrawn"].as_u64()),
        (Some(1), Some(0))
    );
}

#[test]
fn a_bad_conn_line_names_its_place_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let good = dir.path().join("good.log");
    std::fs::write(&good, conn_log(10)).unwrap();
    ingest(&db, &good);
    let bad = dir.path().join("bad.log");
    let text = conn_log(10).replace("\t200\t300\tSF", "\t2oo\t300\tSF");
    std::fs::write(&bad, text).unwrap();
    let (code, out, err) = run(cairn(&db)
        .arg("ingest")
        .arg(&bad)
        .args(["--source", "sensor-1", "--json"]));
    assert_ne!(code, Some(0), "{out}");
    assert!(
        err.contains("bad.log") && err.contains("line 8") && err.contains("orig_bytes"),
        "{err}"
    );
    // Still the first version: ten check-ins.
    let (_, out, _) = run(cairn(&db).args(["pivot", "198.51.100.9", "--json"]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["edges"][0]["count"], 10, "{v}");
}
