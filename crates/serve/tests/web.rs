//! The web app through the router: sign-in, sessions, CSRF, escaping, TLP.

mod common;
use axum::body::Body;
use axum::http::Request;
use common::*;

/// Signs in with `token`; returns the session cookie.
async fn sign_in(f: &Fixture, token: &str) -> String {
    let r = send(
        &f.app,
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&next=%2F")))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    cookie.split(';').next().expect("pair").to_string()
}

async fn page(f: &Fixture, cookie: &str, uri: &str) -> Reply {
    send(
        &f.app,
        Request::get(uri)
            .header("cookie", cookie)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn pages_need_a_session_and_bad_tokens_are_refused() {
    let f = fixture();
    let r = get(&f.app, "/actor/Open%20Panda", None).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.headers["location"],
        "/login?next=%2Factor%2FOpen%2520Panda"
    );
    let r = send(
        &f.app,
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("token=cairn_wrong&next=%2F"))
            .expect("request"),
    )
    .await;
    assert!(
        r.headers["location"]
            .to_str()
            .unwrap_or("")
            .starts_with("/login?error=1")
    );
    assert!(r.headers.get("set-cookie").is_none());
    // A bearer token is not a session: pages want the cookie.
    let r = get(&f.app, "/", Some(&f.admin)).await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn html_in_intel_renders_inert() {
    let f = fixture();
    let cookie = sign_in(&f, &f.reader).await;
    let r = page(&f, &cookie, "/actor/Payload%20Actor").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("<script>alert"), "raw script in page");
    assert!(!r.body.contains("<img src=x"), "raw img in page");
    assert!(
        r.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; Group")
    );
    assert!(r.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let r = page(&f, &cookie, "/search?q=payload").await;
    assert!(!r.body.contains("<script>alert") && r.body.contains("&lt;script&gt;"));
    // The page itself carries no script at all.
    assert!(!r.body.contains("<script"));
}

#[tokio::test]
async fn reader_pages_hide_red_and_amber_strict() {
    let f = fixture();
    let reader = sign_in(&f, &f.reader).await;
    let analyst = sign_in(&f, &f.analyst).await;
    let r = page(&f, &reader, "/actor/Open%20Panda").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("evil-c2.top"));
    assert!(!r.body.contains("91.195.240.94") && !r.body.contains("strict-only.top"));
    let r = page(&f, &analyst, "/actor/Open%20Panda").await;
    assert!(r.body.contains("91.195.240.94") && r.body.contains("strict-only.top"));
    assert_eq!(page(&f, &reader, "/actor/Crimson%20Tide").await.status, 404);
    assert_eq!(
        page(&f, &analyst, "/actor/Crimson%20Tide").await.status,
        200
    );
    let r = page(&f, &reader, "/indicator?value=91.195.240.94").await;
    assert!(r.body.contains("Not a known indicator"));
    let r = page(&f, &analyst, "/indicator?value=91.195.240.94").await;
    assert!(r.body.contains("Open Panda") && r.body.contains("TLP:RED"));
    let r = page(&f, &reader, "/actor/Open%20Panda/stix.json").await;
    assert!(!r.body.contains(IND_RED) && r.body.contains(IND_GREEN));
}

#[tokio::test]
async fn state_changing_forms_need_the_csrf_token_and_the_role() {
    let f = fixture();
    let reader = sign_in(&f, &f.reader).await;
    assert_eq!(page(&f, &reader, "/hunt").await.status, 403);
    let analyst = sign_in(&f, &f.analyst).await;
    let form = page(&f, &analyst, "/hunt").await;
    assert_eq!(form.status, 200);
    let csrf = csrf_of(&form.body);
    let multipart = |csrf: &str| {
        let b = "XBOUNDARYX";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nquery www.evil-c2.top from 10.1.1.1\r\n\
             --{b}--\r\n"
        );
        (format!("multipart/form-data; boundary={b}"), body)
    };
    for (given, want) in [("forged", 403), (csrf.as_str(), 200)] {
        let (ctype, body) = multipart(given);
        let r = send(
            &f.app,
            Request::post("/hunt")
                .header("cookie", &analyst)
                .header("content-type", ctype)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
        assert_eq!(r.status, want, "csrf {given}: {}", r.body);
        if want == 200 {
            assert!(r.body.contains("1 hit(s)"), "{}", r.body);
            assert!(r.body.contains("/actor/Open%20Panda"));
        }
    }
    // Sign-out needs the token too, then the session is gone.
    let r = send(
        &f.app,
        Request::post("/logout")
            .header("cookie", &analyst)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf}")))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(page(&f, &analyst, "/").await.status, 303);
}

#[tokio::test]
async fn attribution_and_pivots_render() {
    let f = fixture();
    let cookie = sign_in(&f, &f.reader).await;
    let r = page(&f, &cookie, "/attribute?techniques=T1190").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"ranking\"") && r.body.contains("/actor/Open%20Panda"));
    let r = page(&f, &cookie, "/search?q=evil-c2.top").await;
    assert!(r.body.contains("/indicator?value=evil%2Dc2%2Etop"));
    let r = page(&f, &cookie, "/").await;
    assert!(r.body.contains("fixture intel"));
    let css = page(&f, &cookie, "/static/app.css").await;
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/css")
    );
    assert!(
        !css.body.contains("http://") && !css.body.contains("https://"),
        "nothing fetched from elsewhere"
    );
}

/// A rebuild of the hunt index that fails is not swallowed: the stats and
/// the start page say so (readers without the cause) while the previous
/// index keeps serving, until a rebuild succeeds.
#[tokio::test]
async fn a_failed_index_rebuild_is_shown_until_one_succeeds() {
    let f = fixture();
    let db = f._dir.path().join("cairn.db");
    // An indicator whose row id no hunt index can key: rebuilds fail.
    let c = rusqlite::Connection::open(&db).expect("store");
    c.execute_batch(
        "INSERT INTO objects(id, source_id, stix_id, kind, tlp, raw, hash, added_at, updated_at) \
           SELECT 4294967296, source_id, 'indicator--50000000-0000-4000-8000-000000000001', \
                  'indicator', 'TLP:GREEN', '{}', 0, added_at, updated_at FROM objects LIMIT 1; \
         INSERT INTO observables(object_id, kind, value) VALUES (4294967296, 'domain', 'too-far.top');",
    )
    .expect("insert");
    let ingest = |body: &'static str| {
        post(
            &f.app,
            "/api/v1/ingest?name=more.txt&format=list&source=more",
            Some(&f.analyst),
            "text/plain",
            body,
        )
    };
    assert_eq!(ingest("another-c2[.]top\n").await.status, 200);
    let stats = get(&f.app, "/api/v1/stats", Some(&f.analyst)).await.json();
    let err = &stats["index_rebuild_error"];
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not fit")),
        "{stats}"
    );
    let reader_view = get(&f.app, "/api/v1/stats", Some(&f.reader)).await.json();
    let told = reader_view["index_rebuild_error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !told.is_empty() && !told.contains("does not fit"),
        "{reader_view}"
    );
    // The previous index serves: the new value is not known yet, the old one is.
    let known = |v: &'static str| {
        let app = f.app.clone();
        let token = f.reader.clone();
        async move {
            get(
                &app,
                &format!("/api/v1/indicators/lookup?value={v}"),
                Some(&token),
            )
            .await
            .json()["found"]
                == true
        }
    };
    assert!(!known("another-c2.top").await && known("evil-c2.top").await);
    let cookie = sign_in(&f, &f.analyst).await;
    let home = page(&f, &cookie, "/").await;
    assert!(
        home.body.contains("could not be rebuilt") && home.body.contains("does not fit"),
        "{}",
        home.body
    );

    c.execute_batch(
        "DELETE FROM observables WHERE object_id >= 4294967296; \
         DELETE FROM names WHERE object_id >= 4294967296; \
         DELETE FROM fts WHERE rowid >= 4294967296; \
         DELETE FROM objects WHERE id >= 4294967296;",
    )
    .expect("delete");
    assert_eq!(
        ingest("another-c2[.]top\nyet-another[.]top\n").await.status,
        200
    );
    let stats = get(&f.app, "/api/v1/stats", Some(&f.analyst)).await.json();
    assert!(stats["index_rebuild_error"].is_null(), "{stats}");
    assert!(known("another-c2.top").await);
    assert!(
        !page(&f, &cookie, "/")
            .await
            .body
            .contains("could not be rebuilt")
    );
}

/// Sign-in sends a browser back only to a path on this site, whatever
/// `next` holds, raw or percent-encoded: never a 500, never another host. (Ten sign-ins: the
/// limit per address and minute.)
#[tokio::test]
async fn sign_in_redirects_stay_on_this_site() {
    let f = fixture();
    // A same-site path, with its query, is kept.
    let r = send(
        &f.app,
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "token={}&next=%2Fsearch%3Fq%3DTAG-22",
                f.reader
            )))
            .expect("request"),
    )
    .await;
    assert_eq!(r.headers["location"], "/search?q=TAG-22");
    for next in [
        "%2F%09%2Fexample.com",
        "/%09/example.com",
        "%2F%0D%0A%2Fexample.com",
        "/%0d%0aSet-Cookie:%20x=y",
        "%2F%5Cexample.com",
        "/%5C%5Cexample.com",
        "%2F%2Fexample.com",
        "https%3A%2F%2Fexample.com",
        "%20%2F%2Fexample.com",
    ] {
        let r = send(
            &f.app,
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={}&next={next}", f.reader)))
                .expect("request"),
        )
        .await;
        assert_eq!(r.status, 303, "{next}: {}", r.body);
        assert_eq!(r.headers["location"], "/", "{next}");
        assert!(r.headers.contains_key("set-cookie"), "{next}");
        let form = get(&f.app, &format!("/login?next={next}"), None).await;
        assert!(
            form.body.contains(r#"name="next" value="/""#),
            "{next}: {}",
            form.body
        );
    }
}

#[tokio::test]
async fn feeds_show_on_the_start_page_for_analysts_only() {
    let f = fixture();
    let mut store = cairn_kb::Store::open_existing(&f._dir.path().join("cairn.db")).expect("store");
    store
        .add_feed(&cairn_kb::NewFeed {
            name: "partner-taxii".into(),
            kind: "taxii".into(),
            url: "https://cti.partner.example/taxii2/".into(),
            config: serde_json::json!({}),
            every: 3600,
            enabled: true,
        })
        .expect("feed");
    store
        .record_feed_run(
            "partner-taxii",
            "2026-01-01T00:00:00.000Z",
            &cairn_kb::FeedRun {
                status: "failed".into(),
                added: 0,
                changed: 0,
                withdrawn: 0,
                error: Some("body truncated: 10 of 100 bytes".into()),
            },
        )
        .expect("run");
    drop(store);
    let analyst = sign_in(&f, &f.analyst).await;
    let home = page(&f, &analyst, "/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("<h2>Feeds</h2>"), "{}", home.body);
    assert!(home.body.contains("partner-taxii") && home.body.contains("body truncated"));
    let reader = sign_in(&f, &f.reader).await;
    let home = page(&f, &reader, "/").await;
    assert_eq!(home.status, 200);
    assert!(!home.body.contains("partner-taxii"), "readers see no feeds");
}
