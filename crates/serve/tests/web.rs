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
