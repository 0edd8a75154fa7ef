//! The security probe of issue 23 and the 4xx part of issue 14, turned into tests: one section
//! per finding.

mod common;

use chrono::Duration;
use common::{PASSWORD, TestApp};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Response headers
// ---------------------------------------------------------------------------------------------

/// The headers every answer carries; returns the CSP nonce.
fn assert_security_headers(what: &str, headers: &HeaderMap) -> String {
    let csp = header(headers, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'nonce-",
        "'wasm-unsafe-eval'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP lacks {directive:?}: {csp:?}"
        );
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{what}: {csp}"
    );
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(headers, "referrer-policy"), "same-origin", "{what}");
    assert_eq!(
        header(headers, "cross-origin-opener-policy"),
        "same-origin",
        "{what}"
    );
    assert_eq!(header(headers, "cache-control"), "no-store", "{what}");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "{what}: HSTS over plain http"
    );
    csp.split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn pages_answers_redirects_and_404s_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let stranger = app.client();

    // A page: its inline hydration script carries this request's nonce, and only this one.
    let login = stranger
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(login.status(), StatusCode::OK);
    let nonce = assert_security_headers("page", login.headers());
    assert!(nonce.len() >= 16, "nonce {nonce:?}");
    let html = login.text().await.expect("html");
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\"")),
        "the hydration script lacks the CSP nonce"
    );
    assert!(
        !html.contains(" style=\""),
        "inline style attributes are refused by the CSP"
    );
    let again = stranger
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("page");
    let second = assert_security_headers("page again", again.headers());
    assert_ne!(nonce, second, "a nonce is used once");

    // A redirect to the log-in wall, and an API refusal.
    let redirect = stranger
        .get(format!("{}/settings", app.url))
        .send()
        .await
        .expect("page");
    assert!(redirect.status().is_redirection());
    assert_security_headers("redirect", redirect.headers());
    let refused = app.call(&stranger, "account", &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_security_headers("API refusal", refused.headers());

    // An API answer and a 404, logged in.
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let answer = app.call(&client, "account", &[]).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_security_headers("API answer", answer.headers());
    let missing = client
        .get(format!("{}/no-such-page", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_security_headers("404", missing.headers());
    let health = client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect("healthz");
    assert_security_headers("healthz", health.headers());

    // Static files keep their caching (and still are not sniffed or framed).
    let css = client
        .get(format!("{}/style/zqsync.css", app.url))
        .send()
        .await
        .expect("stylesheet");
    assert_eq!(
        header(css.headers(), "cache-control"),
        "public, max-age=3600"
    );
    assert_eq!(header(css.headers(), "x-content-type-options"), "nosniff");
    assert_eq!(header(css.headers(), "x-frame-options"), "DENY");
    app.stop().await;
}

#[tokio::test]
async fn https_public_urls_get_hsts() {
    let app = TestApp::spawn_with(|s| s.public_url = Some("https://zqsync.example".into())).await;
    let page = app
        .client()
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(
        header(page.headers(), "strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Log-in with a stale session cookie
// ---------------------------------------------------------------------------------------------

/// The session cookies a response sets (`zqsync_session=…` lines).
fn session_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("zqsync_session="))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn logging_in_with_a_dead_session_cookie_keeps_the_new_session() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let signed_up = app.sign_up(&client, "Acme", "ann@acme.test").await;
    let old_cookie = session_cookies(signed_up.headers())
        .pop()
        .expect("a session cookie");
    let old_pair = old_cookie.split(';').next().unwrap_or_default().to_owned();

    // Logged out in another browser: this browser's cookie is now dead.
    let elsewhere = reqwest::Client::new()
        .post(format!("{}/api/logout", app.url))
        .header("cookie", &old_pair)
        .send()
        .await
        .expect("logout elsewhere");
    assert_eq!(elsewhere.status(), StatusCode::OK);

    let login = app.log_in(&client, "ann@acme.test", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let cookies = session_cookies(login.headers());
    assert_eq!(
        cookies.len(),
        1,
        "one session cookie, not a fresh one and a clearing one: {cookies:?}"
    );
    assert!(!cookies[0].contains("Max-Age=0"), "{cookies:?}");
    assert_ne!(cookies[0].split(';').next(), Some(old_pair.as_str()));
    let (status, account) = app.account(&client).await;
    assert_eq!(status, StatusCode::OK, "{account}");

    // The same after the session expired while idle.
    app.advance(Duration::minutes(11));
    let login = app.log_in(&client, "ann@acme.test", PASSWORD).await;
    assert_eq!(session_cookies(login.headers()).len(), 1);
    assert_eq!(app.account(&client).await.0, StatusCode::OK);
    app.stop().await;
}
