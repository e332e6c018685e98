//! Infrastructure on both surfaces over one store made by the real binary
//! (an actor's list, a TLP:RED list, a Zeek dns log with the actor on a
//! dedicated and a shared address):
//!
//! - parity: `cairn infra ACTOR --json`, `cairn infra score --json` and
//!   `cairn pivot --json` print exactly what `GET /api/v1/infra/{actor}`,
//!   `POST /api/v1/infra/{actor}/score` and `GET /api/v1/pivot` return to
//!   an analyst;
//! - the pivot page in headless Chromium (chromedriver, `fantoccini`, as
//!   `browser.rs`): a reader signs in, opens the actor page's
//!   Infrastructure section, follows a value to its pivot page, and the SVG
//!   holds the expected nodes (the shared address damped, with its
//!   fan-out; nothing of the TLP:RED list). Says SKIPPED without Chromium,
//!   fails under `CAIRN_REQUIRE_BROWSER=1`.

use axum::body::Body;
use axum::http::Request;
use fantoccini::{ClientBuilder, Locator};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const WAIT: Duration = Duration::from_secs(60);
const RED_VALUE: &str = "red-only-c2.example";

fn cairn(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.arg("--db")
        .arg(db)
        .arg("--quiet")
        .env_remove("CAIRN_DB")
        .env("XDG_CACHE_HOME", db.with_extension("cache"));
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

fn run(db: &Path, args: &[&str]) -> Output {
    ok(cairn(db).args(args).output().expect("run cairn"))
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The store: RedHotel's list (GREEN), a TLP:RED list naming one more of
/// its domains, and a day of Zeek DNS: its domain on its own address and on
/// shared hosting with 80 other names, a sister domain on the own address,
/// the RED domain on the own address too.
fn build_store(dir: &Path) -> PathBuf {
    let db = dir.join("kb.db");
    let list = dir.join("redhotel.txt");
    std::fs::write(
        &list,
        "evil-actor.example\nupdate-actor.club\nwinhost-actor.club\n198.51.100.10\n",
    )
    .unwrap();
    run(
        &db,
        &[
            "ingest",
            "--format",
            "list",
            "--actor",
            "RedHotel",
            "--source",
            "the report",
            list.to_str().unwrap(),
        ],
    );
    let red = dir.join("red.txt");
    std::fs::write(&red, format!("{RED_VALUE}\n")).unwrap();
    run(
        &db,
        &[
            "ingest",
            "--format",
            "list",
            "--tlp",
            "red",
            "--actor",
            "RedHotel",
            "--source",
            "red notes",
            red.to_str().unwrap(),
        ],
    );
    let june = 1_686_000_000; // 2023-06-05
    let mut answers = vec![
        ("evil-actor.example".to_string(), "198.51.100.10"),
        ("evil-actor.example".to_string(), "203.0.113.50"),
        ("sister-actor.example".to_string(), "198.51.100.10"),
    ];
    for i in 0..80 {
        answers.push((format!("tenant{i}.hosting.example"), "203.0.113.50"));
    }
    let log = dir.join("dns.log");
    let mut f = std::fs::File::create(&log).unwrap();
    writeln!(
        f,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
         #fields\tts\tuid\tquery\tqtype_name\tanswers\n#types\ttime\tstring\tstring\tstring\tvector[string]"
    )
    .unwrap();
    for (i, (q, a)) in answers.iter().enumerate() {
        writeln!(f, "{}.250000\tC{i}\t{q}\tA\t{a}", june + i as i64).unwrap();
    }
    drop(f);
    run(
        &db,
        &["ingest", "--source", "sensor-1", log.to_str().unwrap()],
    );
    // The RED observation: only an analyst may walk to it.
    let red_log = dir.join("red-dns.log");
    let mut f = std::fs::File::create(&red_log).unwrap();
    writeln!(
        f,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
         #fields\tts\tuid\tquery\tqtype_name\tanswers\n#types\ttime\tstring\tstring\tstring\tvector[string]\n\
         {june}.5\tCr\t{RED_VALUE}\tA\t198.51.100.10"
    )
    .unwrap();
    drop(f);
    run(
        &db,
        &[
            "ingest",
            "--source",
            "red sensor",
            "--tlp",
            "red",
            red_log.to_str().unwrap(),
        ],
    );
    db
}

async fn api(
    app: &cairn_serve::App,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Value {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .unwrap();
    let res = app.router().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert!(
        status.is_success(),
        "{method} {uri}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).unwrap()
}

fn token(db: &Path, name: &str, role: &str) -> String {
    let out = run(db, &["token", "create", "--name", name, "--role", role]);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn cli_and_api_give_the_same_infrastructure_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = build_store(dir.path());
    let analyst = token(&db, "parity-analyst", "analyst");
    let cands = dir.path().join("candidates.txt");
    std::fs::write(
        &cands,
        "0nenote.club\nweather.com\n198.51.100.77\nsister-actor.example\n",
    )
    .unwrap();

    let profile = lines(&run(&db, &["infra", "RedHotel", "--json"])).remove(0);
    // Exit 0 or 1 (whether any candidate scored above 0): both print the JSON.
    let out = cairn(&db)
        .args([
            "infra",
            "score",
            cands.to_str().unwrap(),
            "--actor",
            "RedHotel",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scored = lines(&out);
    let walk = lines(&run(
        &db,
        &["pivot", "evil-actor.example", "--depth", "2", "--json"],
    ))
    .remove(0);
    // What the CLI printed is not empty: the comparison means something.
    assert!(
        profile["values"].as_array().is_some_and(|v| v.len() == 5),
        "{profile}"
    );
    assert_eq!(scored.len(), 4);
    assert!(
        walk["nodes"].as_array().is_some_and(|n| n.len() >= 4),
        "{walk}"
    );
    assert_eq!(walk["damped"][0]["value"], "203.0.113.50");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let app = cairn_serve::App::open(cairn_serve::Config::new(db.clone())).unwrap();
        assert_eq!(api(&app, &analyst, "GET", "/api/v1/infra/RedHotel", None).await, profile);
        let body = json!({ "values": ["0nenote.club", "weather.com", "198.51.100.77", "sister-actor.example"] });
        let served = api(&app, &analyst, "POST", "/api/v1/infra/RedHotel/score", Some(body)).await;
        assert_eq!(served, Value::Array(scored));
        let served = api(&app, &analyst, "GET", "/api/v1/pivot?value=evil-actor.example&depth=2", None).await;
        assert_eq!(served, walk);
    });
}

/// A child process killed (and reaped) when dropped, even on panic.
struct Guard(Child, PathBuf);

impl Guard {
    fn spawn(mut cmd: Command, log: PathBuf) -> Guard {
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap();
        Guard(child, log)
    }

    fn wait_listening(&mut self, port: u16) {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(s)) = self.0.try_wait() {
                panic!("exited ({s}) before listening:\n{}", self.log());
            }
            assert!(start.elapsed() < WAIT, "nothing on {port}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn pivot_page_in_headless_chromium() {
    let Some(browser) = cairn_testkit::browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = build_store(dir.path());
    let reader = token(&db, "pivot-reader", "reader");
    let port = free_port();
    let mut serve = cairn(&db);
    serve.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    let mut server = Guard::spawn(serve, dir.path().join("serve.log"));
    server.wait_listening(port);
    let wd = free_port();
    let mut cd = Command::new(&browser.chromedriver);
    cd.arg(format!("--port={wd}"));
    let mut driver = Guard::spawn(cd, dir.path().join("chromedriver.log"));
    driver.wait_listening(wd);
    let profile = tempfile::tempdir().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": browser.chromium, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--window-size=1400,1100",
                format!("--user-data-dir={}", profile.path().display()),
            ] }),
        );
        let c = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{wd}"))
            .await
            .unwrap_or_else(|e| panic!("start Chromium: {e}\n{}", driver.log()));
        let base = format!("http://127.0.0.1:{port}");
        let outcome = tokio::spawn(walk(c.clone(), base, reader)).await;
        let _ = c.close().await;
        if let Err(e) = outcome {
            eprintln!("--- cairn serve log ---\n{}", server.log());
            match e.try_into_panic() {
                Ok(p) => std::panic::resume_unwind(p),
                Err(e) => panic!("browser task: {e}"),
            }
        }
    });
}

async fn walk(c: fantoccini::Client, base: String, reader: String) {
    let wait = |css: &'static str| {
        let c = c.clone();
        async move {
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("waiting for `{css}`: {e}"))
        }
    };
    c.goto(&format!("{base}/login?next=%2Factor%2FRedHotel"))
        .await
        .unwrap();
    wait("#token").await.send_keys(&reader).await.unwrap();
    wait("section.signin button[type=submit]")
        .await
        .click()
        .await
        .unwrap();

    // The actor page's Infrastructure section: counts, habits, values.
    let section = wait("section#infrastructure").await.text().await.unwrap();
    assert!(section.contains("registered domain(s)"), "{section}");
    assert!(
        !section.contains(RED_VALUE),
        "a reader sees the TLP:RED value"
    );
    let link =
        wait("#infrastructure table.infravalues a[href='/pivot?value=evil%2Dactor%2Eexample']")
            .await;
    link.click().await.unwrap();

    // The pivot page: the SVG's nodes are the walk's, the shared address damped.
    wait("svg.pivotgraph g.node").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/pivot");
    let mut drawn = Vec::new();
    for g in c
        .find_all(Locator::Css("svg.pivotgraph g.node"))
        .await
        .unwrap()
    {
        let value = g.attr("data-value").await.unwrap().unwrap_or_default();
        let class = g.attr("class").await.unwrap().unwrap_or_default();
        drawn.push((value, class));
    }
    drawn.sort();
    let values: Vec<&str> = drawn.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(
        values,
        [
            "198.51.100.10",
            "203.0.113.50",
            "evil-actor.example",
            "sister-actor.example"
        ]
    );
    let class_of = |v: &str| {
        drawn
            .iter()
            .find(|(x, _)| x == v)
            .map(|(_, c)| c.clone())
            .unwrap_or_default()
    };
    assert!(class_of("203.0.113.50").contains("damped"), "{drawn:?}");
    assert!(class_of("evil-actor.example").contains("start"));
    assert!(class_of("evil-actor.example").contains("linked"));
    let fan = wait("svg.pivotgraph g.damped text.fanout")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(fan, "fan-out 81");
    let kinds = c
        .find_all(Locator::Css("svg.pivotgraph text.edgelabel"))
        .await
        .unwrap();
    assert_eq!(kinds.len(), 3, "three edges drawn, each labelled");
    let source = c.source().await.unwrap();
    assert!(!source.contains(RED_VALUE) && !source.contains("red sensor"));
    let shots = Path::new(env!("CARGO_BIN_EXE_cairn"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("08-pivot.png"), c.screenshot().await.unwrap()).unwrap();

    // A node is a link: the sister domain's own pivot.
    c.goto(&format!("{base}/pivot?value=sister-actor.example&depth=1"))
        .await
        .unwrap();
    let h1 = wait("main h1").await.text().await.unwrap();
    assert!(h1.contains("sister-actor.example"), "{h1}");
    let nodes = c
        .find_all(Locator::Css("svg.pivotgraph g.node"))
        .await
        .unwrap();
    assert_eq!(nodes.len(), 2);
}
