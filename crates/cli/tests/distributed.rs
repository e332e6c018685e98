//! A hunt spread over workers through the local NATS JetStream server
//! (`cairn hunt --nats`, `cairn worker`) and live matching of published
//! events (`cairn hunt --follow`), held to the single-process hunt: the
//! same alerts, none lost and none twice, also when workers are killed
//! in the middle of a piece, and after the store moved to a new generation.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{cairn, ok};

/// A small deterministic generator (xorshift), so every run hunts the
/// same logs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Names queried in the logs; every seventh is an indicator of the first
/// list, every eleventh of the second.
fn pool() -> Vec<String> {
    (0..400)
        .map(|i| match i % 4 {
            0 => format!("host{i}.example{}.com", i % 13),
            1 => format!("cdn{i}.static{}.net", i % 7),
            2 => format!("api{i}.svc{}.io", i % 5),
            _ => format!("m{i}.mail{}.org", i % 3),
        })
        .collect()
}

/// A store with the first list of indicators, and logs: a Zeek TSV
/// `dns.log` cut into many chunks, JSON lines, and a gzip file that goes
/// whole.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let names = pool();
    let list: String = names.iter().step_by(7).map(|n| format!("{n}\n")).collect();
    std::fs::write(dir.join("first.txt"), list).unwrap();
    let second: String = names.iter().step_by(11).map(|n| format!("{n}\n")).collect();
    std::fs::write(dir.join("second.txt"), second).unwrap();
    let db = dir.join("c.db");
    ok(&cairn(
        &db,
        &[
            "ingest",
            dir.join("first.txt").to_str().unwrap(),
            "--format",
            "list",
            "--actor",
            "Test Group",
            "--source",
            "test list",
        ],
    ));
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tsv = String::from(
        "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\n#types\ttime\tstring\taddr\taddr\tstring\n",
    );
    let mut json = String::new();
    let mut gz = String::new();
    for i in 0..60_000u64 {
        let q = &names[rng.below(names.len() as u64) as usize];
        let src = format!("10.{}.{}.{}", rng.below(4), rng.below(250), rng.below(250));
        let ts = 1_685_577_600 + i;
        tsv.push_str(&format!(
            "{ts}.{:06}\tC{i:x}\t{src}\t10.0.0.53\t{q}\n",
            rng.below(999_999)
        ));
        if i % 3 == 0 {
            json.push_str(&format!(
                "{{\"ts\":{ts},\"id.orig_h\":\"{src}\",\"query\":\"{q}\",\"padding\":\"{}\"}}\n",
                "x".repeat(rng.below(200) as usize)
            ));
        }
        if i % 5 == 0 {
            gz.push_str(&format!("{{\"ts\":{ts},\"query\":\"{q}\"}}\n"));
        }
    }
    std::fs::write(logs.join("dns.log"), tsv).unwrap();
    std::fs::write(logs.join("dns.jsonl"), json).unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(logs.join("old.jsonl.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(gz.as_bytes()).unwrap();
    enc.finish().unwrap();
    (db, logs)
}

/// The alert lines of a hunt's `--json` output, sorted.
fn sorted_alerts(stdout: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn local_hunt(db: &Path, logs: &Path) -> Vec<String> {
    let out = cairn(db, &["hunt", logs.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sorted_alerts(&out.stdout)
}

/// A hunt through the workers, which must end within a minute.
fn distributed_hunt(db: &Path, logs: &Path, url: &str, queue: &str) -> (Vec<String>, String) {
    distributed_hunt_with(db, logs, url, queue, &[])
}

fn distributed_hunt_with(
    db: &Path,
    logs: &Path,
    url: &str,
    queue: &str,
    extra: &[&str],
) -> (Vec<String>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "--db",
            db.to_str().unwrap(),
            "hunt",
            logs.to_str().unwrap(),
            "--json",
        ])
        .args([
            "--nats",
            url,
            "--queue",
            queue,
            "--chunk-size",
            "262144",
            "--patience",
            "60",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the hunt");
    let out = child.wait_with_output().expect("hunt");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (sorted_alerts(&out.stdout), stderr)
}

struct Worker {
    child: Child,
    stderr: BufReader<std::process::ChildStderr>,
    said: String,
}

impl Worker {
    /// A worker, once it says it is working (its signal handlers are set).
    fn start(url: &str, queue: &str, extra: &[&str]) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["worker", "--nats", url, "--queue", queue, "--ack-wait", "1"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a worker");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut said = String::new();
        while !said.contains("working for queue") {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("the worker ended: {said}");
            }
            said.push_str(&line);
        }
        Worker {
            child,
            stderr,
            said,
        }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the worker's words (it must drain and exit 0).
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let st = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(st.success());
        let mut err = std::mem::take(&mut self.said);
        std::io::Read::read_to_string(&mut self.stderr, &mut err).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "worker after SIGTERM: {status:?}; {err}");
        err
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number before `what` in a worker's last line.
fn count(words: &str, what: &str) -> u64 {
    let line = words.lines().last().unwrap_or_default();
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .iter()
        .position(|w| *w == what || w.trim_end_matches([',', ';']) == what)
        .and_then(|i| words.get(i.checked_sub(1)?))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{what}` count in {line:?}"))
}

fn remove_queue(url: &str, queue: &str) {
    if let Ok(q) = cairn_queue::Queue::connect(url, queue) {
        let _ = q.remove();
    }
}

fn queue_name(test: &str) -> String {
    format!("test-{test}-{}", std::process::id())
}

#[test]
fn distributed_hunt_gives_the_local_alerts_and_follows_the_store() {
    let Some(url) = cairn_testkit::nats() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (db, logs) = setup(dir.path());
    let queue = queue_name("same");
    let local = local_hunt(&db, &logs);
    assert!(local.len() > 5_000, "{} alerts", local.len());

    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{metrics_port}");
    let a = Worker::start(&url, &queue, &["--metrics", &addr]);
    let b = Worker::start(&url, &queue, &[]);
    let (dist, stderr) = distributed_hunt(&db, &logs, &url, &queue);
    assert_eq!(dist.len(), local.len());
    assert!(
        dist == local,
        "the distributed hunt's alerts differ from the local hunt's"
    );
    // The summary counts what a local hunt counts.
    let lines_of = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("Hunted"))
            .map(str::to_string)
    };
    let local_err =
        String::from_utf8_lossy(&cairn(&db, &["hunt", logs.to_str().unwrap(), "--json"]).stderr)
            .to_string();
    let head =
        |s: Option<String>| s.map(|l| l.split(" in ").next().unwrap_or_default().to_string());
    assert_eq!(head(lines_of(&stderr)), head(lines_of(&local_err)));

    // The logs shipped through the queue, for workers without this file
    // system: the same alerts.
    let (shipped, _) = distributed_hunt_with(&db, &logs, &url, &queue, &["--ship"]);
    assert!(shipped == local, "shipped logs give other alerts");

    // A new generation of the store: the workers fetch its index.
    ok(&cairn(
        &db,
        &[
            "ingest",
            dir.path().join("second.txt").to_str().unwrap(),
            "--format",
            "list",
            "--actor",
            "Other Group",
            "--source",
            "second list",
        ],
    ));
    let local2 = local_hunt(&db, &logs);
    assert!(local2.len() > local.len());
    let (dist2, _) = distributed_hunt(&db, &logs, &url, &queue);
    assert!(dist2 == local2, "after a new generation the alerts differ");

    let metrics = ureq_get(&format!("http://{addr}/metrics"));
    assert!(
        metrics.contains("# TYPE cairn_worker_chunks_total counter"),
        "{metrics}"
    );
    assert!(ureq_get(&format!("http://{addr}/healthz")).starts_with("ok"));
    let loads = metrics
        .lines()
        .find_map(|l| l.strip_prefix("cairn_worker_index_loads_total "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap();
    assert!(
        loads <= 2,
        "index fetched {loads} times for two generations"
    );
    let words_a = a.stop();
    let words_b = b.stop();
    let pieces = count(&words_a, "piece(s),") + count(&words_b, "piece(s),");
    // Both worked, on pieces (the plain files cut in chunks).
    assert!(
        pieces >= 2 * 20,
        "{pieces} pieces for two hunts: {words_a} {words_b}"
    );
    assert!(count(&words_a, "piece(s),") > 0 && count(&words_b, "piece(s),") > 0);
    remove_queue(&url, &queue);
}

/// A plain HTTP GET on loopback (no client crate for two requests).
fn ureq_get(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut r = String::new();
    std::io::Read::read_to_string(&mut s, &mut r).unwrap();
    r.split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default()
}

#[test]
fn workers_killed_mid_piece_lose_and_duplicate_nothing() {
    let Some(url) = cairn_testkit::nats() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (db, logs) = setup(dir.path());
    let queue = queue_name("kill");
    let local = local_hunt(&db, &logs);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut redelivered = 0;
    for round in 0..20 {
        // Workers that hold each piece a while before publishing it, so a
        // kill lands with pieces scanned but not (wholly) published.
        let a = Worker::start(&url, &queue, &["--pause-ms", "40"]);
        let b = Worker::start(&url, &queue, &["--pause-ms", "40"]);
        let hunt = std::thread::spawn({
            let (db, logs, url, queue) = (db.clone(), logs.clone(), url.clone(), queue.clone());
            move || distributed_hunt(&db, &logs, &url, &queue).0
        });
        std::thread::sleep(Duration::from_millis(50 + rng.below(400)));
        a.kill();
        let c = Worker::start(&url, &queue, &[]);
        let t0 = Instant::now();
        let dist = hunt.join().expect("hunt thread");
        assert!(
            dist == local,
            "round {round}: {} alerts, {} expected ({:?} after the kill)",
            dist.len(),
            local.len(),
            t0.elapsed()
        );
        for w in [b, c] {
            redelivered += count(&w.stop(), "redelivered");
        }
    }
    eprintln!("{redelivered} piece(s) redelivered over 20 rounds");
    // The kills did land in the middle of pieces.
    assert!(
        redelivered >= 10,
        "only {redelivered} pieces redelivered in 20 rounds"
    );
    remove_queue(&url, &queue);
}

#[test]
fn live_events_give_the_alerts_of_the_same_events_in_a_file() {
    let Some(url) = cairn_testkit::nats() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (db, logs) = setup(dir.path());
    let queue = queue_name("live");
    let events = logs.join("dns.jsonl");
    let from_file = cairn(&db, &["hunt", events.to_str().unwrap(), "--json"]);
    let n_events = std::fs::read_to_string(&events).unwrap().lines().count();
    let subject = format!("{queue}.zeek.dns");
    let mut follower = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "--db",
            db.to_str().unwrap(),
            "hunt",
            "--json",
            "--nats",
            &url,
        ])
        .args(["--queue", &queue, "--follow", &subject, "--for", "120"])
        .args(["--max-events", &n_events.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready once it says what it listens to.
    let mut err = BufReader::new(follower.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("matching events"), "{first}");

    let q = cairn_queue::Queue::connect(&url, &queue).unwrap();
    let mut alerts = q.subscribe(&format!("{queue}.alerts"), None).unwrap();
    let publisher = q.publisher(&subject);
    for line in std::fs::read_to_string(&events).unwrap().lines() {
        publisher.send(line.as_bytes().to_vec());
    }
    publisher.close(&q).unwrap();
    let out = follower.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));

    // Alerts carry the subject and the event's line within its message;
    // everything else is the file hunt's.
    let strip = |b: &[u8]| -> Vec<String> {
        let mut v: Vec<String> = String::from_utf8_lossy(b)
            .lines()
            .map(|l| {
                let mut a: serde_json::Value = serde_json::from_str(l).unwrap();
                let o = a.as_object_mut().unwrap();
                o.remove("file");
                o.remove("line");
                a.to_string()
            })
            .collect();
        v.sort();
        v
    };
    let live = strip(&out.stdout);
    let filed = strip(&from_file.stdout);
    assert!(filed.len() > 1_000, "{} alerts", filed.len());
    assert!(
        live == filed,
        "live: {} alerts, from the file: {}",
        live.len(),
        filed.len()
    );

    // Every alert was also published.
    let mut published = Vec::new();
    let stop = cairn_queue::Stop::new();
    q.run_feed(
        &mut alerts,
        Some(Instant::now() + Duration::from_secs(10)),
        Some(live.len() as u64),
        &stop,
        &mut |p| published.push(p.to_vec()),
    );
    let mut joined = published.join(&b'\n');
    joined.push(b'\n');
    assert!(
        strip(&joined) == live,
        "{} published, {} printed",
        published.len(),
        live.len()
    );
    remove_queue(&url, &queue);
}
