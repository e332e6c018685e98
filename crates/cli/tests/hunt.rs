//! `cairn hunt` end to end: generated logs in every supported format, with a
//! trap for each matching rule, asserting the exact set of alerts.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, body: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, body).unwrap();
        p
    }
    fn cairn(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .arg("--db")
            .arg(self.path("cairn.db"))
            .env_remove("CAIRN_DB")
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("HOME", self.dir.path())
            .output()
            .unwrap()
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const IOCS: &str = "\
# RedHotel sample (Insikt Group appendix values) plus test values
dga[.]asia
kb.dga[.]asia
officesuport[.]com
xn--bcher-kva.net
45.77.153[.]197
5.188.33.0/24
10.0.0.0/8
2600:1f18::dead:beef
hxxp://files.bad[.]top/dl/payload~1.exe
f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61
phish@officesuport[.]com
";

const DNS_TSV: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tdns
#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers
#types\ttime\tstring\taddr\taddr\tstring\tvector[string]
1685577600.0\tC1\t10.1.1.1\t10.0.0.53\tkb.dga.asia\t45.77.153.197
1685577601.0\tC2\t10.1.1.1\t10.0.0.53\tnotdga.asia\t-
1685577602.0\tC3\t10.1.1.1\t10.0.0.53\tdga.asia.evil.net\t(empty)
1685577603.0\tC4\t10.1.1.1\t10.0.0.53\tKB.DGA.ASIA.\t-
1685577604.0\tC5\t10.1.1.1\t10.0.0.53\twww.bücher.net\t1.2.3.4,45.77.153.19
1685577605.0\tC6\t10.1.1.1\t10.0.0.53\tasia\t-
1685577606.0\tC7\ttoo-few-columns
";

const CONN_JSON: &str = r#"{"ts":1685577700.0,"uid":"D1","id.orig_h":"10.1.1.2","id.resp_h":"5.188.33.0","id.resp_p":443}
{"ts":1685577701.0,"uid":"D2","id.orig_h":"10.1.1.2","id.resp_h":"5.188.33.255","id.resp_p":443}
{"ts":1685577702.0,"uid":"D3","id.orig_h":"10.1.1.2","id.resp_h":"5.188.34.0","id.resp_p":443}
{"ts":1685577703.0,"uid":"D4","id.orig_h":"10.1.1.2","id.resp_h":"5.188.32.255","id.resp_p":443}
{"ts":1685577704.0,"uid":"D5","id.orig_h":"10.1.1.2","id.resp_h":"45.77.153.19","id.resp_p":443}
{"ts":1685577705.0,"uid":"D6","id.orig_h":"10.1.1.2","id.resp_h":"2600:1F18:0000:0000:0000:0000:DEAD:BEEF","id.resp_p":443}
{"ts":1685577706.0,"uid":"D7","id.orig_h":"10.1.1.2","id.resp_h":"::ffff:45.77.153.197","id.resp_p":443}
{"ts":1685577707.0,"uid":"D8","id.orig_h":"10.1.1.2","id.resp_h":"2600:1f18::dead:beee","id.resp_p":443}
"#;

const PROXY_CSV: &str = "time,src_ip,url,status
2023-06-01T10:00:00Z,10.9.9.9,http://FILES.bad.top:80/dl/payload%7E1.exe,200
2023-06-01T10:00:01Z,10.9.9.9,http://files.bad.top/dl/payload~1.exe?x=1,200
2023-06-01T10:00:02Z,10.9.9.9,\"https://video.dga.asia/a,b\",200
2023-06-01T10:00:03Z,10.9.9.9,https://example.com/dga.asia,200
";

const ECS_JSONL: &str = r#"{"@timestamp":"2023-06-01T11:00:00Z","dns":{"question":{"name":"sc.dga.asia"}},"source":{"ip":"10.2.2.2"}}
{"@timestamp":"2023-06-01T11:00:01Z","tls":{"server":{"hash":{"sha256":"F8:CD:64:62:5F:89:64:23:9D:AD:1B:2C:E7:37:2D:7A:29:31:96:45:5D:B7:C6:B5:46:7F:77:70:FD:66:4A:61"}}}}
{"@timestamp":"2023-06-01T11:00:02Z","destination.ip":"10.1.2.3","email":{"from":{"address":"Phish@OfficeSuport.com"}}}
{"broken json
{"@timestamp":"2023-06-01T11:00:04Z","file":{"hash":{"sha256":"f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a6"}}}
"#;

const SSL_TSV: &str = "#separator \\x09
#set_separator\t,
#fields\tts\tuid\tid.orig_h\tid.resp_h\tserver_name\tcert_chain_fps
#types\ttime\tstring\taddr\taddr\tstring\tvector[string]
1685577800.0\tE1\t10.3.3.3\t92.38.178.60\tcdn.officesuport.com\tf8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61,00aa
1685577801.0\tE2\t10.3.3.3\t92.38.178.61\twww.officesuport.com.evil.net\t00bb
";

const TEXT_LOG: &str = "Jun  1 12:00:00 fw01 blocked connection to 45.77.153.197:443 from 10.0.0.5
Jun  1 12:00:01 fw01 nothing to see at 45.77.153.196
";

/// (file name, line, field, indicator value, match)
type Key = (String, u64, String, String, String);

fn alerts(out: &Output) -> BTreeSet<Key> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let file = v["file"].as_str().unwrap();
            let name = Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                name,
                v["line"].as_u64().unwrap(),
                v["field"].as_str().unwrap().to_string(),
                v["indicator"]["value"].as_str().unwrap().to_string(),
                v["indicator"]["match"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn k(f: &str, l: u64, field: &str, ind: &str, m: &str) -> Key {
    (f.into(), l, field.into(), ind.into(), m.into())
}

fn write_logs(env: &Env) -> Vec<PathBuf> {
    vec![
        env.write("dns.log", DNS_TSV.as_bytes()),
        env.write("conn.json.log", CONN_JSON.as_bytes()),
        env.write("proxy.csv", PROXY_CSV.as_bytes()),
        env.write("ecs.jsonl.gz", &gz(ECS_JSONL.as_bytes())),
        env.write(
            "ssl.log.zst",
            &zstd::encode_all(SSL_TSV.as_bytes(), 3).unwrap(),
        ),
        env.write("fw.txt", TEXT_LOG.as_bytes()),
    ]
}

fn expected() -> BTreeSet<Key> {
    [
        // Zeek TSV: subdomains at label boundaries only, case and trailing dot.
        k("dns.log", 8, "query", "kb.dga.asia", "exact"),
        k("dns.log", 8, "query", "dga.asia", "subdomain"),
        k("dns.log", 8, "answers", "45.77.153.197", "exact"),
        k("dns.log", 11, "query", "kb.dga.asia", "exact"),
        k("dns.log", 11, "query", "dga.asia", "subdomain"),
        k("dns.log", 12, "query", "xn--bcher-kva.net", "subdomain"),
        // Zeek JSON: CIDR edges, IPv6 forms, IPv4-mapped IPv6.
        k("conn.json.log", 1, "id.resp_h", "5.188.33.0/24", "cidr"),
        k("conn.json.log", 2, "id.resp_h", "5.188.33.0/24", "cidr"),
        k(
            "conn.json.log",
            6,
            "id.resp_h",
            "2600:1f18::dead:beef",
            "exact",
        ),
        k("conn.json.log", 7, "id.resp_h", "45.77.153.197", "exact"),
        // CSV: URL encodings and default port; host of a URL.
        k(
            "proxy.csv",
            2,
            "url",
            "http://files.bad.top/dl/payload~1.exe",
            "url",
        ),
        k("proxy.csv", 4, "url", "dga.asia", "host"),
        // ECS JSON (gzip): nested names, hash with colons and case, e-mail.
        k(
            "ecs.jsonl.gz",
            1,
            "dns.question.name",
            "dga.asia",
            "subdomain",
        ),
        k(
            "ecs.jsonl.gz",
            2,
            "tls.server.hash.sha256",
            "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61",
            "exact",
        ),
        k(
            "ecs.jsonl.gz",
            3,
            "email.from.address",
            "phish@officesuport.com",
            "exact",
        ),
        // Zeek TSV (zstd): certificate fingerprint in a vector, SNI subdomain.
        k(
            "ssl.log.zst",
            5,
            "server_name",
            "officesuport.com",
            "subdomain",
        ),
        k(
            "ssl.log.zst",
            5,
            "cert_chain_fps",
            "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61",
            "exact",
        ),
        // Plain text: address with a port.
        k("fw.txt", 1, "text", "45.77.153.197", "exact"),
    ]
    .into_iter()
    .collect()
}

#[test]
fn hunts_every_format_with_exact_alerts_from_an_ioc_list() {
    let env = Env::new();
    let iocs = env.write("iocs.txt", IOCS.as_bytes());
    let logs = write_logs(&env);
    let mut args = vec!["hunt", "--json", "--ioc", iocs.to_str().unwrap()];
    args.extend(logs.iter().map(|p| p.to_str().unwrap()));
    let out = env.cairn(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let got = alerts(&out);
    let want = expected();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}\n{stderr}"
    );
    // Malformed lines are counted and named, not fatal.
    assert!(stderr.contains("dns.log: 1 malformed"), "{stderr}");
    assert!(stderr.contains("ecs.jsonl.gz: 1 malformed"), "{stderr}");
    // 10.0.0.0/8 is on the built-in private-range warninglist.
    assert!(stderr.contains("Suppressed by warninglists"), "{stderr}");

    // The second run uses the cached index and says so; same alerts.
    let out2 = env.cairn(&args);
    assert_eq!(alerts(&out2), want);
    assert!(String::from_utf8_lossy(&out2.stderr).contains("cached"));

    // A corrupt cache is rebuilt, not fatal.
    for e in std::fs::read_dir(env.path("cache/cairn")).unwrap() {
        std::fs::write(e.unwrap().path(), b"CAIRNHX\0garbage").unwrap();
    }
    let out3 = env.cairn(&args);
    assert_eq!(out3.status.code(), Some(0));
    assert_eq!(alerts(&out3), want);
}

#[test]
fn stdin_and_exit_codes() {
    let env = Env::new();
    let iocs = env.write("iocs.txt", IOCS.as_bytes());
    let ioc = iocs.to_str().unwrap();
    // stdin, gzip-compressed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["hunt", "--json", "--ioc", ioc, "-"])
        .env("XDG_CACHE_HOME", env.path("cache"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&gz(DNS_TSV.as_bytes()))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let got = alerts(&out);
    assert_eq!(got.len(), 6, "{got:?}");
    assert!(got.iter().all(|a| a.0 == "-"));

    // No hits: exit 1.
    let clean = env.write("clean.log", b"nothing here\nat all 8.8.4.4\n");
    let out = env.cairn(&["hunt", "--ioc", ioc, clean.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No hits"));

    // Missing file: exit 2.
    let out = env.cairn(&[
        "hunt",
        "--ioc",
        ioc,
        env.path("absent.log").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));

    // Truncated gzip: hits before the damage are reported, then exit 2 naming the file.
    let big: String = (0..20_000)
        .map(|i| {
            format!(
                "{{\"query\":\"host{i}.kb.dga.asia\",\"n\":\"{:0>64}\"}}\n",
                i
            )
        })
        .collect();
    let z = gz(big.as_bytes());
    let cut = env.write("cut.json.gz", &z[..z.len() / 2]);
    let out = env.cairn(&["hunt", "--json", "--ioc", ioc, cut.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cut.json.gz") && stderr.contains("truncated"),
        "{stderr}"
    );
    assert!(!alerts(&out).is_empty());
}

/// `cairn hunt --json --ioc IOCS LOG`: its exit code, stderr and the line
/// numbers alerted.
fn hunt_lines(env: &Env, iocs: &Path, log: &Path) -> (Option<i32>, String, BTreeSet<u64>) {
    let out = env.cairn(&[
        "hunt",
        "--json",
        "--ioc",
        iocs.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines = alerts(&out).iter().map(|a| a.1).collect();
    (out.status.code(), stderr, lines)
}

#[test]
fn overlong_lines_and_invalid_utf8_are_malformed_not_fatal() {
    let env = Env::new();
    let iocs = env.write("iocs.txt", IOCS.as_bytes());
    let mut log = b"{\"query\":\"kb.dga.asia\"}\n{\"query\":\"".to_vec();
    log.extend(std::iter::repeat_n(b'a', 3 << 20));
    log.extend_from_slice(
        b"\"}\n{\"query\":\"\xff\xfe.dga.asia\"}\n\xff\xfe\xfd\n{\"query\":\"video.dga.asia\"}\n",
    );
    let p = env.write("long.json", &log);
    let (code, stderr, lines) = hunt_lines(&env, &iocs, &p);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines, [1, 5].into_iter().collect(), "{stderr}");
    assert!(stderr.contains("long.json: 3 malformed"), "{stderr}");
}

/// Lines longer than a read block but within `--max-line` are read whole,
/// wherever they fall between blocks.
#[test]
fn long_lines_within_the_limit_are_matched() {
    let env = Env::new();
    let iocs = env.write("iocs.txt", IOCS.as_bytes());
    let mut log = Vec::new();
    for (i, pad) in [700_000usize, 300_000, 10, 900_000].into_iter().enumerate() {
        log.extend_from_slice(b"{\"pad\":\"");
        log.extend(std::iter::repeat_n(b'a', pad));
        log.extend_from_slice(format!("\",\"query\":\"h{i}.dga.asia\"}}\n").as_bytes());
    }
    let p = env.write("long-ok.json", &log);
    let (code, stderr, lines) = hunt_lines(&env, &iocs, &p);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines, [1, 2, 3, 4].into_iter().collect(), "{stderr}");
    assert!(!stderr.contains("malformed line(s) skipped"), "{stderr}");
}

#[test]
fn user_field_mapping_and_forced_format() {
    let env = Env::new();
    let iocs = env.write("iocs.txt", IOCS.as_bytes());
    let p = env.write("custom.csv", b"when,cs_whatever,other\n1,kb.dga.asia,x\n");
    let ioc = iocs.to_str().unwrap();
    let out = env.cairn(&[
        "hunt",
        "--json",
        "--ioc",
        ioc,
        "--format",
        "csv",
        p.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = env.cairn(&[
        "hunt",
        "--json",
        "--ioc",
        ioc,
        "--format",
        "csv",
        "--field",
        "cs_whatever=domain",
        p.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(alerts(&out).len(), 2);
    let out = env.cairn(&["hunt", "--ioc", ioc, "--field", "nope", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

/// Ingests the indicator list `body` (written to `name`) for `actor` on the
/// word of `source`.
fn ingest_list(env: &Env, name: &str, body: &[u8], actor: &str, source: &str) {
    let list = env.write(name, body);
    let out = env.cairn(&[
        "ingest",
        list.to_str().unwrap(),
        "--format",
        "list",
        "--actor",
        actor,
        "--source",
        source,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn store_indicators_name_their_actor_and_record_sightings() {
    let env = Env::new();
    ingest_list(
        &env,
        "redhotel.txt",
        b"dga[.]asia\n45.77.153[.]197\nf8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61\n",
        "RedHotel",
        "test",
    );
    let logs = write_logs(&env);
    let dns = logs[0].to_str().unwrap();
    let out = env.cairn(&["hunt", "--json", dns]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let actors = first["actors"].as_array().unwrap();
    assert!(
        actors
            .iter()
            .any(|a| a["name"].as_str().unwrap().contains("RedHotel")),
        "{first}"
    );
    assert!(
        first["sources"].as_array().is_some_and(|s| !s.is_empty()),
        "{first}"
    );
    // kb.dga.asia (twice, subdomain of dga.asia) and 45.77.153.197 in answers.
    assert_eq!(alerts(&out).len(), 3, "{stdout}");

    // Human output names the actor and summarises.
    let out = env.cairn(&["hunt", dns]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("RedHotel") && text.contains("By actor") && text.contains("By indicator"),
        "{text}"
    );
    // Its row: three hits on two indicators (dga.asia twice, the address).
    let row = text
        .split("By actor:")
        .nth(1)
        .and_then(|t| t.lines().find(|l| l.contains("RedHotel")))
        .unwrap_or_else(|| panic!("{text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2..], ["3", "2"], "{row}");

    // The same log under a second name: each sighting counts both and
    // names both files, sorted.
    let copy = env.write("b-copy.log", &std::fs::read(dns).unwrap());
    let out = env.cairn(&["hunt", "--record", dns, copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("recorded 2 sighting"));
    let db = rusqlite::Connection::open(env.path("cairn.db")).unwrap();
    let rows: Vec<(i64, String)> = db
        .prepare("SELECT count, location FROM sightings ORDER BY count")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut names = [dns.to_string(), copy.to_str().unwrap().to_string()];
    names.sort();
    let both = names.join(", ");
    // 45.77.153.197 once per copy; dga.asia twice (kb.dga.asia) per copy.
    assert_eq!(rows, vec![(2, both.clone()), (4, both)]);
}

/// A value two sources reported (for two actors) is one alert naming both,
/// whichever of its sources' values come first; a value only one reported
/// names only that one.
#[test]
fn a_value_from_two_sources_names_both() {
    let env = Env::new();
    ingest_list(&env, "a.txt", b"dga[.]asia\n", "RedHotel", "feed-a");
    ingest_list(
        &env,
        "b.txt",
        b"dga[.]asia\n45.77.153[.]197\n",
        "Earth Lusca",
        "feed-b",
    );
    let logs = write_logs(&env);
    let out = env.cairn(&["hunt", "--json", logs[0].to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut seen = BTreeSet::new();
    for line in stdout.lines() {
        let a: Value = serde_json::from_str(line).unwrap();
        let names = |field: &str, key: &str| -> BTreeSet<String> {
            a[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x[key].as_str().unwrap().to_string())
                .collect()
        };
        let (actors, sources) = (names("actors", "name"), names("sources", "source"));
        let indicator = a["indicator"]["value"].as_str().unwrap().to_string();
        let (want_actors, want_sources): (&[&str], &[&str]) = if indicator == "dga.asia" {
            (&["Earth Lusca", "RedHotel"], &["feed-a", "feed-b"])
        } else {
            (&["Earth Lusca"], &["feed-b"])
        };
        let want = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(actors, want(want_actors), "{line}");
        assert_eq!(sources, want(want_sources), "{line}");
        seen.insert(indicator);
    }
    assert_eq!(seen.len(), 2, "{stdout}");
}

/// Tens of thousands of alerts (megabytes of output, written out in chunks
/// from both scanning threads, over two inputs of many blocks each): every
/// hit printed once, in both output forms, and the summary counts them.
#[test]
fn many_alerts_are_each_printed_once() {
    let env = Env::new();
    let iocs = env.write("iocs.txt", b"5.188.33.0/24\n");
    let ioc = iocs.to_str().unwrap();
    // Every third line hits; the rest are near misses in the next /24.
    let log = |name: &str, n: usize| {
        let body: String = (0..n)
            .map(|i| {
                let net = if i % 3 == 0 { 33 } else { 34 };
                format!(
                    "{{\"ts\":\"2023-06-01T00:00:{:02}Z\",\"destination.ip\":\"5.188.{net}.{}\",\"pad\":\"{:0>120}\"}}\n",
                    i % 60,
                    i % 256,
                    i
                )
            })
            .collect();
        env.write(name, body.as_bytes())
    };
    let (a, b) = (log("a.jsonl", 60_000), log("b.jsonl", 45_000));
    let files = [a.to_str().unwrap(), b.to_str().unwrap()];
    let want = |n: u64| (1..=n).filter(|l| (l - 1) % 3 == 0).collect::<Vec<u64>>();

    let out = env.cairn(&["hunt", "--json", "--ioc", ioc, files[0], files[1]]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut got: Vec<(String, u64)> = stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert_eq!(v["indicator"]["value"], "5.188.33.0/24");
            let f = v["file"].as_str().unwrap();
            let f = Path::new(f).file_name().unwrap().to_string_lossy();
            (f.into_owned(), v["line"].as_u64().unwrap())
        })
        .collect();
    let printed = got.len();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), printed, "an alert was printed twice");
    let mut expect: Vec<(String, u64)> = want(45_000)
        .into_iter()
        .map(|l| ("b.jsonl".to_string(), l))
        .chain(want(60_000).into_iter().map(|l| ("a.jsonl".to_string(), l)))
        .collect();
    expect.sort();
    assert_eq!(got, expect);

    // The human form: one line per alert, then the summary's count.
    let out = env.cairn(&["hunt", "--ioc", ioc, files[0], files[1]]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = stdout
        .lines()
        .filter(|l| l.contains("  ->  cidr 5.188.33.0/24"))
        .count();
    assert_eq!(lines, expect.len());
    assert!(
        stdout.contains(&format!("{} hit(s) on 1 indicator(s)", expect.len())),
        "{}",
        &stdout[stdout.len().saturating_sub(2000)..]
    );
}

/// The summary lists the most hit indicators first, fifty of them, and
/// counts the rest.
#[test]
fn summary_ranks_indicators_by_hits() {
    let env = Env::new();
    let iocs: String = (1..=60).map(|i| format!("5.188.33.{i}\n")).collect();
    let iocs = env.write("iocs.txt", iocs.as_bytes());
    // Address .i is seen i times, the least seen first.
    let mut lines = Vec::new();
    for i in 1..=60u32 {
        for _ in 0..i {
            lines.push(format!("{{\"destination.ip\":\"5.188.33.{i}\"}}"));
        }
    }
    let log = env.write("ips.jsonl", (lines.join("\n") + "\n").as_bytes());
    let out = env.cairn(&[
        "hunt",
        "--ioc",
        iocs.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let table = stdout.split("By indicator:").nth(1).unwrap();
    let ranked: Vec<(String, u64)> = table
        .lines()
        .filter(|l| l.trim_start().starts_with("5.188.33."))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f[2].parse().unwrap())
        })
        .collect();
    let want: Vec<(String, u64)> = (11..=60u64)
        .rev()
        .map(|i| (format!("5.188.33.{i}"), i))
        .collect();
    assert_eq!(ranked, want);
    assert!(
        table.contains("... and 10 more indicator(s) with 55 hit(s)"),
        "{table}"
    );
}

/// A store deleted and made again at the same path starts again at
/// generation 0 with the same row ids; its hunt must not reuse the index
/// cached for the old store (it named the old store's actor for a value no
/// list of the new one holds, and missed the new one's).
#[test]
fn a_new_store_at_the_same_path_never_reuses_the_old_ones_index() {
    let env = Env::new();
    let dns = env.write(
        "dns.log",
        b"#separator \\x09\n#fields\tts\tuid\tquery\n#types\ttime\tstring\tstring\n\
          1685577600.000000\tC1\tevil-a.badzone.net\n1685577601.000000\tC2\tevil-b.otherzone.org\n",
    );
    let hunt = |env: &Env| -> Vec<(String, Vec<String>)> {
        let out = env.cairn(&["hunt", "--json", dns.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let a: Value = serde_json::from_str(l).unwrap();
                let actors = a["actors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["name"].as_str().unwrap().to_string())
                    .collect();
                (a["value"].as_str().unwrap().to_string(), actors)
            })
            .collect()
    };
    ingest_list(&env, "a.txt", b"evil-a.badzone.net\n", "ActorA", "s1");
    assert_eq!(
        hunt(&env),
        [("evil-a.badzone.net".to_string(), vec!["ActorA".to_string()])]
    );
    let cache = env.path("cairn.db.hunt.idx");
    assert!(cache.exists(), "the hunt caches its index beside the store");
    for f in ["cairn.db", "cairn.db-wal", "cairn.db-shm"] {
        let _ = std::fs::remove_file(env.path(f));
    }
    assert!(cache.exists(), "the old store's index stays behind");
    ingest_list(&env, "b.txt", b"evil-b.otherzone.org\n", "ActorB", "s1");
    assert_eq!(
        hunt(&env),
        [(
            "evil-b.otherzone.org".to_string(),
            vec!["ActorB".to_string()]
        )]
    );
}
