//! The web app in a real browser: `cairn serve` over a store holding ATT&CK,
//! the MISP galaxies and the starter pack, driven in headless Chromium
//! through chromedriver with `fantoccini`. Signs in with a token, searches,
//! pivots actor → indicator, attributes, hunts, checks TLP:RED stays hidden
//! from a reader and that HTML in intel renders inert; saves screenshots.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them)
//! and the real datasets (found by `cairn_testkit`); says SKIPPED without
//! either, and fails instead under `CAIRN_REQUIRE_BROWSER=1` or
//! `CAIRN_REQUIRE_DATASETS=1` (as in CI).
//! Screenshots go to `<target>/screenshots/`; with `CAIRN_UPDATE_SCREENSHOTS=1`
//! they are also copied to `docs/screenshots/` (linked from the README).

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core machine, and a first actor page warms caches.
const WAIT: Duration = Duration::from_secs(60);

/// Indicator only the analyst may see (ingested as TLP:RED).
const RED_VALUE: &str = "rt-beacon.tlpred-only-c2.net";
const RED_DOMAIN: &str = "tlpred-only-c2.net";
const XSS_NAME: &str = "Evil <script>alert(1)</script> Panda";
const XSS_DESC: &str = "Uses <img src=x onerror=alert(1)> and <b>bold</b> claims.";

/// A child process killed (and reaped) when dropped, even on panic.
struct Guard {
    child: Child,
    log: PathBuf,
}

impl Guard {
    fn spawn(mut cmd: Command, log: PathBuf) -> Guard {
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
        Guard { child, log }
    }

    /// Waits until `port` accepts connections; panics with the log if the
    /// process exits or the wait runs out.
    fn wait_listening(&mut self, port: u16) {
        let start = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "process exited ({status}) before listening:\n{}",
                    self.log_text()
                );
            }
            assert!(
                start.elapsed() < WAIT,
                "nothing listening on {port} after {WAIT:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `<target>/screenshots`, next to the profile folder holding the binary.
fn screenshot_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_cairn"));
    let target = bin.parent().and_then(Path::parent).unwrap();
    target.join("screenshots")
}

struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    fn db(&self) -> PathBuf {
        self.dir.path().join("cairn.db")
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
        c.arg("--db")
            .arg(self.db())
            .arg("--quiet")
            .env_remove("CAIRN_DB")
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("HOME", self.dir.path());
        c
    }

    fn cairn(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().expect("run cairn");
        assert!(
            out.status.success(),
            "cairn {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn token(&self, name: &str, role: &str) -> String {
        let out = self.cairn(&["token", "create", "--name", name, "--role", role]);
        let t = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(!t.is_empty(), "token create printed nothing");
        t
    }

    fn write(&self, name: &str, body: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }
}

/// ATT&CK + MISP galaxies + starter pack, a TLP:RED list, an HTML-laden actor.
fn build_store(d: &Path) -> Store {
    let s = Store {
        dir: tempfile::tempdir().unwrap(),
    };
    let attack = d.join("attack/enterprise-attack-18.1.json");
    let ta = d.join("misp-galaxy/clusters/threat-actor.json");
    let ms = d.join("misp-galaxy/clusters/microsoft-activity-group.json");
    s.cairn(&[
        "ingest",
        attack.to_str().unwrap(),
        ta.to_str().unwrap(),
        ms.to_str().unwrap(),
    ]);
    s.cairn(&["ingest", "--starter"]);
    let red = s.write(
        "red-team-notes.txt",
        &format!("# red team notes, not for sharing\n{RED_VALUE}\n"),
    );
    s.cairn(&[
        "ingest",
        red.to_str().unwrap(),
        "--format",
        "list",
        "--tlp",
        "red",
        "--actor",
        "RedHotel",
        "--source",
        "red team notes",
    ]);
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--0b1d6f2e-5c55-4d0a-9a53-0d5e8e3c7a11",
        "objects": [{
            "type": "intrusion-set",
            "spec_version": "2.1",
            "id": "intrusion-set--6f1c1f0e-2a8b-4a53-8d1e-3c1b2f6a9e42",
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "name": XSS_NAME,
            "aliases": ["Xsstest Panda"],
            "description": XSS_DESC,
        }]
    });
    let stix = s.write("xss.json", &bundle.to_string());
    s.cairn(&[
        "ingest",
        stix.to_str().unwrap(),
        "--source",
        "html injection test",
    ]);
    s
}

/// The browser session plus where things live.
struct Web {
    c: Client,
    base: String,
    shots: PathBuf,
}

impl Web {
    async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    async fn wait_for(&self, css: &str) -> Element {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for `{css}`: {e}"))
    }

    /// Waits until the page's path is `path` (after a click or submit).
    async fn wait_path(&self, path: &str) {
        let start = Instant::now();
        loop {
            let url = self.c.current_url().await.unwrap();
            if url.path() == path {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "still on {url} after {WAIT:?}, expected {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.c.find_all(Locator::Css(css)).await.unwrap() {
            out.push(e.text().await.unwrap());
        }
        out
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.wait_for(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    /// No JavaScript dialog is open (an injected `alert(1)` would be).
    async fn assert_no_alert(&self) {
        match self.c.get_alert_text().await {
            Err(e) if e.is_no_such_alert() => {}
            Ok(text) => panic!("a JavaScript dialog is open: {text:?}"),
            Err(e) => panic!("checking for a dialog: {e}"),
        }
    }

    /// Signs in with a token through the /login form; lands on the start page.
    async fn sign_in(&self, token: &str, shot: Option<&str>) {
        // Nothing to delete before the first page; afterwards, signs out.
        let _ = self.c.delete_all_cookies().await;
        self.goto("/").await;
        self.wait_path("/login").await;
        self.wait_for("section.signin form").await;
        if let Some(name) = shot {
            self.screenshot(name).await;
        }
        self.fill("#token", token).await;
        self.click("section.signin button[type=submit]").await;
        self.wait_path("/").await;
        self.wait_for("section.hero form.bigsearch").await;
    }

    /// Saves a screenshot of the viewport as `<name>.png`, palette-reduced.
    async fn screenshot(&self, name: &str) {
        let png = self
            .c
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        assert!(
            png.starts_with(b"\x89PNG"),
            "screenshot {name} is not a PNG"
        );
        let png = compact_png(&png);
        std::fs::create_dir_all(&self.shots).unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap();
        eprintln!("screenshot {} ({} KB)", path.display(), png.len() / 1024);
    }

    /// Makes the viewport (not the window) `width`x`height` CSS pixels.
    async fn viewport(&self, width: u32, height: u32) {
        self.c.set_window_size(width, height).await.unwrap();
        let inner = self
            .c
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap();
        let got = |i: usize| inner[i].as_u64().unwrap_or(0) as u32;
        let (w, h) = (got(0), got(1));
        if (w, h) != (width, height) && w > 0 && h > 0 {
            let (dw, dh) = (width.saturating_sub(w), height.saturating_sub(h));
            self.c
                .set_window_size(width + dw, height + dh)
                .await
                .unwrap();
        }
    }

    /// The page from its top down to `until` (a CSS selector) plus `extra`
    /// pixels, in one image (a tall viewport), then back to 1400x900.
    async fn tall_screenshot(&self, name: &str, until: &str, extra: u32) {
        let script = format!(
            "const e = document.querySelector({until:?}); \
             return Math.ceil(e ? e.getBoundingClientRect().top + window.scrollY \
                                : document.documentElement.scrollHeight);"
        );
        let top = self.c.execute(&script, vec![]).await.unwrap();
        let h = top.as_u64().unwrap_or(900) as u32 + extra;
        self.viewport(1400, h.clamp(900, 6000)).await;
        self.screenshot(name).await;
        self.viewport(1400, 900).await;
    }
}

/// Re-encodes a screenshot with at most 128 colours and strong compression:
/// a few times smaller than Chromium's fast PNG, and still crisp for UI.
fn compact_png(png: &[u8]) -> Vec<u8> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let pixels = &buf[..info.buffer_size()];
    let rgba: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => pixels.to_vec(),
        png::ColorType::Rgb => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        // Anything else: keep Chromium's encoding.
        _ => return png.to_vec(),
    };
    let quant = color_quant::NeuQuant::new(10, 128, &rgba);
    let indexed: Vec<u8> = rgba
        .chunks_exact(4)
        .map(|p| quant.index_of(p) as u8)
        .collect();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, info.width, info.height);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(quant.color_map_rgb());
        enc.set_compression(png::Compression::High);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&indexed).unwrap();
    }
    out
}

#[test]
fn web_app_in_headless_chromium() {
    let Some(d) = cairn_testkit::datasets(&[
        "attack/enterprise-attack-18.1.json",
        "misp-galaxy/clusters/threat-actor.json",
        "misp-galaxy/clusters/microsoft-activity-group.json",
    ]) else {
        return;
    };
    let Some(browser) = cairn_testkit::browser() else {
        return;
    };
    let started = Instant::now();

    let store = build_store(&d);
    let reader = store.token("browser-reader", "reader");
    let analyst = store.token("browser-analyst", "analyst");
    eprintln!("store built in {:?}", started.elapsed());

    let web_port = free_port();
    let mut serve = store.command();
    serve
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{web_port}"));
    let mut server = Guard::spawn(serve, store.dir.path().join("serve.log"));
    server.wait_listening(web_port);

    let profile = tempfile::tempdir().unwrap();
    let wd_port = free_port();
    let mut cd = Command::new(&browser.chromedriver);
    cd.arg(format!("--port={wd_port}"));
    let mut chromedriver = Guard::spawn(cd, store.dir.path().join("chromedriver.log"));
    chromedriver.wait_listening(wd_port);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": browser.chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=1400,900",
                ],
            }),
        );
        caps.insert("pageLoadStrategy".into(), "normal".into());
        let c = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{wd_port}"))
            .await
            .unwrap_or_else(|e| {
                panic!("start a Chromium session: {e}\n{}", chromedriver.log_text())
            });
        let web = Web {
            c: c.clone(),
            base: format!("http://127.0.0.1:{web_port}"),
            shots: screenshot_dir(),
        };
        web.viewport(1400, 900).await;
        // Run the walk-through as a task so a failed assertion still closes
        // the browser (and its Chromium) before the panic goes on.
        let outcome = tokio::spawn(walk_through(web, reader, analyst)).await;
        let _ = c.close().await;
        if let Err(e) = outcome {
            eprintln!("--- cairn serve log ---\n{}", server.log_text());
            match e.try_into_panic() {
                Ok(p) => std::panic::resume_unwind(p),
                Err(e) => panic!("browser task: {e}"),
            }
        }
    });
    drop(chromedriver);
    drop(server);

    if std::env::var_os("CAIRN_UPDATE_SCREENSHOTS").is_some() {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        for e in std::fs::read_dir(screenshot_dir()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), docs.join(e.file_name())).unwrap();
        }
        eprintln!("screenshots copied to {}", docs.display());
    }
    eprintln!("browser test done in {:?}", started.elapsed());
}

async fn walk_through(web: Web, reader: String, analyst: String) {
    // --- A reader signs in with a token.
    web.sign_in(&reader, Some("01-sign-in")).await;
    let who = web.text("span.who").await;
    assert!(
        who.contains("browser-reader") && who.contains("reader"),
        "{who}"
    );
    web.screenshot("02-start").await;

    // --- Search "Charcoal Typhoon" from the start page's search box.
    web.fill("form.bigsearch input[name=q]", "Charcoal Typhoon")
        .await;
    web.click("form.bigsearch button[type=submit]").await;
    web.wait_path("/search").await;
    web.wait_for("ul.results li").await;
    web.screenshot("03-search").await;
    let mut target = None;
    let mut fallback = None;
    for li in web.c.find_all(Locator::Css("ul.results li")).await.unwrap() {
        let kind = li.find(Locator::Css("span.kind")).await.unwrap();
        // Rendered text: the stylesheet upper-cases the kind.
        if !kind
            .text()
            .await
            .unwrap()
            .eq_ignore_ascii_case("intrusion-set")
        {
            continue;
        }
        let link = li.find(Locator::Css("a")).await.unwrap();
        let text = li.text().await.unwrap();
        let name = link.text().await.unwrap();
        if text.contains("G1006") {
            target = Some(link);
            break;
        }
        if fallback.is_none()
            && ["Earth Lusca", "RedHotel", "Charcoal Typhoon"].contains(&name.as_str())
        {
            fallback = Some(link);
        }
    }
    let link = target
        .or(fallback)
        .expect("a RedHotel / Earth Lusca actor among the search results");
    let href = link.attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("/actor/"), "{href}");
    link.click().await.unwrap();

    // --- The actor page: G1006, the aliases, the conflict, matrix, map.
    web.wait_for("div.actorhead h1").await;
    assert!(
        web.c
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/actor/")
    );
    let h1 = web.text("div.actorhead h1").await;
    assert!(h1.contains("G1006"), "actor heading: {h1}");
    let aliases = web.texts("#names table tbody tr td:first-child").await;
    for want in ["RedHotel", "Charcoal Typhoon"] {
        assert!(
            aliases.iter().any(|a| a == want),
            "alias table lacks {want}: {aliases:?}"
        );
    }
    let conflicts = web.text("#conflicts").await;
    assert!(
        conflicts.contains("Aquatic Panda") && conflicts.contains("MITRE ATT&CK"),
        "conflict section: {conflicts}"
    );
    let cells = web.texts(".matrix .cell").await;
    let tids = cells
        .iter()
        .filter(|t| {
            t.split_whitespace().any(|w| {
                w.starts_with('T') && w.len() >= 5 && w[1..5].bytes().all(|b| b.is_ascii_digit())
            })
        })
        .count();
    assert!(tids >= 5, "technique matrix cells with T-ids: {cells:?}");
    let targeted = web
        .c
        .find_all(Locator::Css("svg.worldmap path.t"))
        .await
        .unwrap();
    assert!(!targeted.is_empty(), "no targeted country on the map");
    let tw = web.wait_for("svg.worldmap path[data-cc=TW]").await;
    let class = tw.attr("class").await.unwrap().unwrap_or_default();
    assert!(
        class.split_whitespace().any(|c| c == "t"),
        "Taiwan not marked targeted: class={class}"
    );
    let actor_path = web.c.current_url().await.unwrap().path().to_string();
    let indicators = web.text("#indicators").await;
    assert!(
        !indicators.contains(RED_VALUE) && !indicators.contains("TLP:RED"),
        "reader sees a TLP:RED indicator on the actor page"
    );
    web.tall_screenshot("04-actor", "#indicators table tbody tr:nth-child(5)", 0)
        .await;

    // --- Pivot: an indicator of this actor → its page names the actor.
    let ind = web.wait_for("#indicators table tbody tr td a").await;
    let value = ind.text().await.unwrap();
    ind.click().await.unwrap();
    web.wait_path("/indicator").await;
    web.wait_for("article.match").await;
    let verdict = web.text("main").await;
    assert!(verdict.contains(&value), "indicator page lacks {value}");
    let named: Vec<String> = web.texts("article.match p a[href^='/actor/']").await;
    assert!(
        named
            .iter()
            .any(|n| aliases.contains(n) || h1.starts_with(n.as_str())),
        "indicator {value} names {named:?}, none of {aliases:?}"
    );
    web.screenshot("05-indicator").await;

    // --- A reader never sees the TLP:RED indicator, by lookup either.
    web.goto(&format!("/indicator?value={RED_VALUE}")).await;
    web.wait_for("main h1").await;
    assert!(
        web.c
            .find_all(Locator::Css("article.match"))
            .await
            .unwrap()
            .is_empty(),
        "reader can look up the TLP:RED indicator"
    );
    assert!(!web.c.source().await.unwrap().contains("red team notes"));
    web.goto("/search?q=rt-beacon").await;
    web.wait_for("main h1").await;
    assert!(!web.c.source().await.unwrap().contains(RED_DOMAIN));

    // --- Attribution from techniques and software.
    web.click("header.top nav a[href='/attribute']").await;
    web.wait_path("/attribute").await;
    web.fill("#techniques", "T1190, T1059.001").await;
    web.fill("#software", "ShadowPad").await;
    web.click("#attribute-submit").await;
    web.wait_for("#ranking li.candidate").await;
    let candidates = web.texts("#ranking li.candidate h3").await;
    assert!(
        candidates
            .iter()
            .any(|c| c.contains("G1006") || c.contains("Earth Lusca")),
        "Earth Lusca not among candidates: {candidates:?}"
    );
    // The filled form and the top candidates with their reasons.
    web.c
        .execute(
            "document.getElementById('attribute-form').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    web.screenshot("06-attribution").await;

    // --- Readers may not hunt.
    web.goto("/hunt").await;
    let h1 = web.text("main h1").await;
    assert!(h1.starts_with("403"), "reader on /hunt: {h1}");

    // --- An analyst sees the TLP:RED indicator on the same actor page.
    web.sign_in(&analyst, None).await;
    web.goto(&actor_path).await;
    web.wait_for("#indicators table").await;
    let rows = web.texts("#indicators table tbody tr").await;
    let red_row = rows
        .iter()
        .find(|r| r.contains(RED_VALUE))
        .unwrap_or_else(|| panic!("analyst does not see {RED_VALUE}"));
    assert!(red_row.contains("TLP:RED"), "{red_row}");
    web.goto(&format!("/indicator?value={RED_VALUE}")).await;
    web.wait_for("article.match").await;
    let m = web.text("article.match").await;
    assert!(m.contains("red team notes") && m.contains("TLP:RED"), "{m}");

    // --- Hunt: upload a few Zeek DNS lines with a RedHotel domain in them.
    web.click("header.top nav a[href='/hunt']").await;
    web.wait_path("/hunt").await;
    let log = std::env::temp_dir().join(format!("cairn-browser-dns-{}.log", std::process::id()));
    std::fs::write(&log, ZEEK_DNS).unwrap();
    web.wait_for("form.tool input#file")
        .await
        .send_keys(log.to_str().unwrap())
        .await
        .unwrap();
    web.click("form.tool button[type=submit]").await;
    web.wait_for("table.alerts tbody tr").await;
    let _ = std::fs::remove_file(&log);
    let verdict = web.text("p.verdict").await;
    assert!(verdict.contains("hit(s)"), "{verdict}");
    let alerts = web.text("table.alerts").await;
    assert!(alerts.contains("kb.dga.asia"), "{alerts}");
    assert!(
        !alerts.contains("notdga.asia") && !alerts.contains("dga.asia.evil.net"),
        "a lookalike alerted: {alerts}"
    );
    web.screenshot("07-hunt").await;

    // --- HTML in intel renders as text: no dialog, no element, escaped.
    web.goto("/search?q=Xsstest").await;
    web.wait_for("ul.results li a").await;
    web.assert_no_alert().await;
    web.click("ul.results li a[href^='/actor/']").await;
    web.wait_for("div.actorhead h1").await;
    web.assert_no_alert().await;
    let h1 = web.text("div.actorhead h1").await;
    assert!(h1.contains("<script>alert(1)</script>"), "heading: {h1}");
    let desc = web.text("#description p.description").await;
    assert!(desc.contains("<img src=x onerror=alert(1)>"), "{desc}");
    assert!(desc.contains("<b>bold</b>"), "{desc}");
    for css in ["script", "img", "#description b", "div.actorhead b"] {
        let found = web.c.find_all(Locator::Css(css)).await.unwrap();
        assert!(found.is_empty(), "injected `{css}` became an element");
    }
    let source = web.c.source().await.unwrap();
    assert!(source.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(source.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!source.contains("<script>alert"));
    web.assert_no_alert().await;
}

/// A few Zeek DNS lines from `examples/logs/zeek/dns.log.gz`: benign
/// queries, one RedHotel domain (`kb.dga.asia`) and two lookalike traps.
const ZEEK_DNS: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tdns
#open\t2023-06-01-00-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool
1685577600.000000\tCElySHLB4YMaETT9Wp\t10.1.31.162\t17929\t10.0.0.53\t53\tudp\t21599\t0.163335\tsalesforce.com\t1\tC_INTERNET\t16\tTXT\t3\tNXDOMAIN\tF\tF\tT\tT\t0\t-\t-\tF
1685577657.600000\tCSULeKOS0gc3BcPA0W\t10.2.24.69\t42091\t10.0.0.54\t53\tudp\t3907\t0.034047\tzoom.us\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t1.1.43.41,166.7.91.114\t988.000000,2840.000000\tF
1685588832.000000\tCd8nQ0AybDtWjj0o3R\t10.1.19.30\t59193\t10.0.0.53\t53\tudp\t33890\t0.027929\tkb.dga.asia\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t45.77.153.197\t3007.000000\tF
1685602656.000000\tC17gqyRk6JkUlkTwss\t10.0.5.115\t30934\t10.0.0.54\t53\tudp\t48929\t0.167412\tnotdga.asia\t1\tC_INTERNET\t28\tAAAA\t0\tNOERROR\tF\tF\tT\tT\t0\t104.21.3.4\t3599.000000\tF
1685613024.000000\tCEsEroCDsjB9cbPaWF\t192.168.4.107\t3856\t10.0.0.54\t53\tudp\t63901\t0.094983\tdga.asia.evil.net\t1\tC_INTERNET\t5\tCNAME\t0\tNOERROR\tF\tF\tT\tT\t0\t172.67.1.9\t3604.000000\tF
";
