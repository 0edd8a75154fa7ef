//! The security probe of issue 23 and the 4xx part of issue 14, turned into tests: one section
//! per finding.

use crate::common;

use std::net::IpAddr;

use chrono::Duration;
use common::capture::{Captured, client_from};
use common::{PASSWORD, TestApp, error_message, location};
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

// ---------------------------------------------------------------------------------------------
// Capturing the server's log
// ---------------------------------------------------------------------------------------------

async fn metrics(app: &TestApp) -> String {
    app.client()
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

// ---------------------------------------------------------------------------------------------
// Statuses of bad input (issue 14)
// ---------------------------------------------------------------------------------------------

async fn post_raw(
    client: &reqwest::Client,
    url: String,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, serde_json::Value) {
    let response = client
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn bad_input_gets_a_4xx_with_a_clear_message() {
    let (captured, _guard) = Captured::start();
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;

    // Oversized: a 10 MB log-in, and a 10 MB mapping.
    let huge = vec![b'a'; 10 * 1024 * 1024];
    let (status, _, body) = post_raw(
        &app.client(),
        format!("{}/api/login", app.url),
        "application/x-www-form-urlencoded",
        huge.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error_message(&body, "TooLarge").contains("too large"),
        "{body}"
    );
    let (status, _, body) = post_raw(
        &client,
        format!("{}/api/save_mapping", app.url),
        "application/json",
        huge,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    // Malformed: not JSON at all, and a form that is not one.
    let (status, _, body) = post_raw(
        &client,
        format!("{}/api/save_filters", app.url),
        "application/json",
        b"{\"pair\": \"accounts_customers\", \"filters\": {".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_message(&body, "Invalid").contains("could not read"),
        "{body}"
    );
    let (status, _, body) = post_raw(
        &client,
        format!("{}/api/change_plan", app.url),
        "application/x-www-form-urlencoded",
        b"nothing=here".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_message(&body, "Invalid").contains("missing"),
        "{body}"
    );

    // An unknown enum value.
    let (status, body) = app
        .call_with_json(
            &client,
            "save_filters",
            &serde_json::json!({
                "pair": "accounts_customers",
                "filters": {"zoho_to_qbo": {"rows": [
                    {"field": "Account_Name", "condition": "sounds_like", "value": "x"}
                ]}}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_message(&body, "Invalid").contains("sounds_like"),
        "the message names the value it could not read: {body}"
    );

    // Validation.
    let response = app
        .call(
            &app.client(),
            "signup",
            &[
                ("company_name", "Acme"),
                ("email", "b@acme.test"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(
        error_message(&body, "Invalid").contains("at least 10"),
        "{body}"
    );

    // Wrong password.
    let response = app
        .log_in(&app.client(), "ann@acme.test", "wrong one!")
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(
        error_message(&body, "WrongCredentials").contains("not right"),
        "{body}"
    );

    // Duplicate sign-up.
    let response = app.sign_up(&app.client(), "Again", "ANN@acme.test").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(
        error_message(&body, "Conflict").contains("already exists"),
        "{body}"
    );

    // Rate limited.
    for _ in 0..5 {
        app.log_in(&app.client(), "ann@acme.test", "wrong one!")
            .await;
    }
    let response = app.log_in(&app.client(), "ann@acme.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_some());

    // Each refusal is logged at info, without the input; none is counted as our fault.
    let refusals: Vec<serde_json::Value> = captured
        .lines()
        .into_iter()
        .filter(|l| l["message"] == "refused a request" && l["level"] == "INFO")
        .collect();
    for status in [400, 401, 409, 413, 429] {
        assert!(
            refusals.iter().any(|l| l["status"] == status),
            "no info line for {status}: {refusals:#?}"
        );
    }
    let text = captured.text();
    assert!(!text.contains("ann@acme.test") && !text.contains("sounds_like"));
    let metrics = metrics(&app).await;
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("zqsync_http_requests_total") && l.contains("status=\"5")),
        "a refusal was counted as a 5xx: {metrics}"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Lock-out and sign-up limit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_strangers_failures_do_not_lock_the_owner_out() {
    let app = TestApp::spawn().await;
    app.sign_up(&client_from(1), "Acme", "ann@acme.test").await;

    let stranger = client_from(2);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            app.log_in(&stranger, "ann@acme.test", "guess guess guess")
                .await
                .status(),
        );
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[5..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "the stranger's address is slowed down: {statuses:?}"
    );

    // The owner, from their own address, gets in at once.
    let owner = client_from(3);
    let response = app.log_in(&owner, "ann@acme.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.account(&owner).await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn failures_from_one_address_back_off_exponentially() {
    let app = TestApp::spawn().await;
    app.sign_up(&client_from(1), "Acme", "ann@acme.test").await;
    let client = client_from(4);
    for _ in 0..5 {
        let r = app
            .log_in(&client, "ann@acme.test", "not the password")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // After the fifth failure: wait 30 s, even with the right password.
    let throttled = app.log_in(&client, "ann@acme.test", PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(throttled.headers(), "retry-after"), "30");
    let body: serde_json::Value = throttled.json().await.expect("JSON");
    assert!(
        error_message(&body, "TooManyRequests").contains("30 seconds"),
        "{body}"
    );

    // One more failure after the wait doubles it.
    app.advance(Duration::seconds(30));
    let r = app.log_in(&client, "ann@acme.test", "still not it").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let throttled = app.log_in(&client, "ann@acme.test", PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(throttled.headers(), "retry-after"), "60");

    // Another account from the same address is not held up by a handful of failures.
    app.sign_up(&client_from(1), "Other", "bob@other.test")
        .await;
    assert_eq!(
        app.log_in(&client, "bob@other.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // Once the wait is over, the right password works and clears the count.
    app.advance(Duration::seconds(60));
    assert_eq!(
        app.log_in(&client, "ann@acme.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.log_in(&client, "ann@acme.test", "typo").await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

#[tokio::test]
async fn a_distributed_attack_slows_every_address_but_not_a_clean_one() {
    let app = TestApp::spawn().await;
    app.sign_up(&client_from(1), "Acme", "ann@acme.test").await;
    // Fifty failures on one email from ten addresses: an attack from many places.
    for last in 30..40 {
        let attacker = client_from(last);
        for _ in 0..5 {
            let status = app
                .log_in(&attacker, "ann@acme.test", "guess guess")
                .await
                .status();
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    // Now a new address gets one free failure instead of five…
    let newcomer = client_from(40);
    assert_eq!(
        app.log_in(&newcomer, "ann@acme.test", "guess guess")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.log_in(&newcomer, "ann@acme.test", "guess again")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // …while the owner, from an address without failures, logs in at once.
    assert_eq!(
        app.log_in(&client_from(41), "ann@acme.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts() {
    let proxy_ip: IpAddr = "127.0.0.10".parse().expect("an address");
    let app = TestApp::spawn_with(|s| s.trusted_proxies = vec![proxy_ip]).await;
    app.sign_up(&client_from(1), "Acme", "ann@acme.test").await;
    let log_in = |client: reqwest::Client, forwarded: &'static str, password: &'static str| {
        let url = format!("{}/api/login", app.url);
        async move {
            client
                .post(url)
                .header("x-forwarded-for", forwarded)
                .form(&[("email", "ann@acme.test"), ("password", password)])
                .send()
                .await
                .expect("log-in")
                .status()
        }
    };

    // Through the proxy, a stranger is slowed down by their own address…
    let proxy = client_from(10);
    for _ in 0..5 {
        let status = log_in(proxy.clone(), "203.0.113.9", "guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        log_in(proxy.clone(), "203.0.113.9", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …and the owner, behind the same proxy, is not.
    assert_eq!(
        log_in(proxy, "198.51.100.7", PASSWORD).await,
        StatusCode::OK
    );

    // A client that is not a trusted proxy cannot pick the address it is counted under.
    let direct = client_from(11);
    for forwarded in [
        "192.0.2.1",
        "192.0.2.2",
        "192.0.2.3",
        "192.0.2.4",
        "192.0.2.5",
    ] {
        let status = log_in(direct.clone(), forwarded, "guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        log_in(direct, "192.0.2.6", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let app = TestApp::spawn().await;
    for n in 0..5 {
        let status = app
            .sign_up(&client_from(5), "Acme", &format!("owner{n}@acme.test"))
            .await
            .status();
        assert_eq!(status, StatusCode::OK, "sign-up {n}");
    }
    let sixth = app
        .sign_up(&client_from(5), "Acme", "owner5@acme.test")
        .await;
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = header(sixth.headers(), "retry-after")
        .parse()
        .expect("a Retry-After in seconds");
    assert!((1..=600).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = sixth.json().await.expect("JSON");
    assert!(
        error_message(&body, "TooManyRequests").contains("sign-ups"),
        "{body}"
    );

    // Another address is not affected; the first one may sign up again after ten minutes.
    assert_eq!(
        app.sign_up(&client_from(6), "Beta", "owner@beta.test")
            .await
            .status(),
        StatusCode::OK
    );
    app.advance(Duration::minutes(10));
    assert_eq!(
        app.sign_up(&client_from(5), "Acme", "owner5@acme.test")
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

/// The value of `zqsync_auth_events_total{event,outcome}`, 0 when absent.
fn auth_count(metrics: &str, event: &str, outcome: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("zqsync_auth_events_total{"))
        .filter(|l| {
            l.contains(&format!("event=\"{event}\""))
                && l.contains(&format!("outcome=\"{outcome}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[tokio::test]
async fn authentication_is_audited_without_personal_data() {
    let (captured, _guard) = Captured::start();
    let app = TestApp::spawn().await;
    let before = metrics(&app).await;

    let owner = client_from(7);
    let signed_up = app.sign_up(&owner, "Acme", "ann@acme.test").await;
    let token = session_cookies(signed_up.headers())
        .pop()
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .and_then(|c| c.split_once('=').map(|(_, v)| v.to_owned()))
        .expect("session token");
    app.sign_up(&client_from(8), "Copy", "ann@acme.test").await;
    let stranger = client_from(9);
    for _ in 0..6 {
        app.log_in(&stranger, "ann@acme.test", "hunter2 hunter2")
            .await;
    }
    app.log_in(&stranger, "nobody@acme.test", "hunter2 hunter2")
        .await;
    app.call(&owner, "logout", &[]).await;
    let login = app.log_in(&owner, "ann@acme.test", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let after = metrics(&app).await;

    let audit = captured.audit();
    let find = |event: &str, outcome: &str| -> Vec<serde_json::Value> {
        audit
            .iter()
            .filter(|l| l["event"] == event && l["outcome"] == outcome)
            .cloned()
            .collect()
    };
    let signup = find("signup", "success");
    assert_eq!(signup.len(), 1, "{audit:#?}");
    assert_eq!(signup[0]["client_addr"], "127.0.0.7");
    assert!(signup[0]["tenant_id"].is_string() && signup[0]["user_id"].is_string());
    assert_eq!(find("signup", "duplicate").len(), 1, "{audit:#?}");
    let failures = find("login", "failure");
    assert_eq!(
        failures.len(),
        6,
        "5 wrong passwords and an unknown email: {audit:#?}"
    );
    assert!(failures.iter().all(|l| l["client_addr"] == "127.0.0.9"));
    assert!(
        failures[0]["email_hash"].is_string(),
        "failures name the (hashed) email: {audit:#?}"
    );
    assert_eq!(find("lockout", "started").len(), 1, "{audit:#?}");
    assert_eq!(find("login", "throttled").len(), 1, "{audit:#?}");
    assert_eq!(find("logout", "success").len(), 1, "{audit:#?}");
    let success = find("login", "success");
    assert_eq!(success.len(), 1, "{audit:#?}");
    assert_eq!(success[0]["tenant_id"], signup[0]["tenant_id"]);

    // Nothing personal or secret in any log line.
    let text = captured.text();
    for secret in [
        "ann@acme.test",
        "nobody@acme.test",
        PASSWORD,
        "hunter2",
        token.as_str(),
    ] {
        assert!(!text.contains(secret), "the log holds {secret:?}");
    }

    for (event, outcome, at_least) in [
        ("signup", "success", 1),
        ("signup", "duplicate", 1),
        ("login", "failure", 6),
        ("login", "throttled", 1),
        ("lockout", "started", 1),
        ("login", "success", 1),
        ("logout", "success", 1),
    ] {
        let grew = auth_count(&after, event, outcome) - auth_count(&before, event, outcome);
        assert!(grew >= at_least, "{event}/{outcome} grew by {grew}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Callback errors are codes, not text
// ---------------------------------------------------------------------------------------------

async fn page_html(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.expect("page");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.text().await.expect("html")
}

#[tokio::test]
async fn made_up_error_text_never_reaches_the_page() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;

    for (path, planted) in [
        (
            "/settings?error=Your%20account%20is%20suspended.%20Call%20%2B1-555-0100",
            "suspended",
        ),
        (
            "/quickbooks?error=Pay%20the%20invoice%20at%20evil.example",
            "evil.example",
        ),
        ("/settings?connected=Evil%20Corp", "Evil Corp"),
    ] {
        let html = page_html(&client, &format!("{}{path}", app.url)).await;
        assert!(!html.contains(planted), "{path} shows {planted:?}");
    }
    let html = page_html(&client, &format!("{}/settings?error=made_up_code", app.url)).await;
    assert!(
        html.contains("Connecting Zoho CRM did not work. Start connecting again"),
        "an unknown code gets the generic message"
    );

    // Real callback failures carry codes and still say what happened.
    let forged = client
        .get(format!(
            "{}/oauth/intuit/callback?code=AB1x&state=not-ours&realmId=9341453050298464",
            app.url
        ))
        .send()
        .await
        .expect("callback");
    let to = location(&forged);
    assert_eq!(to, "/quickbooks?error=state_mismatch");
    let html = page_html(&client, &format!("{}{to}", app.url)).await;
    assert!(html.contains("expired or was already used"), "{to}");

    let declined = client
        .get(format!(
            "{}/oauth/zoho/callback?error=access_denied&state=x",
            app.url
        ))
        .send()
        .await
        .expect("callback");
    let to = location(&declined);
    assert_eq!(to, "/settings?error=access_denied");
    let html = page_html(&client, &format!("{}{to}", app.url)).await;
    assert!(html.contains("Zoho CRM was not connected"), "{to}");
    assert!(html.contains("declined"), "{to}");
    app.stop().await;
}

/// `__err` as Leptos puts it into a URL: URL-safe base64 (padded) of the error's JSON.
fn url_error(error: &serde_json::Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE.encode(error.to_string())
}

fn query_value(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[tokio::test]
async fn form_errors_planted_in_a_link_are_dropped() {
    let app = TestApp::spawn().await;
    let client = app.client();

    // Leptos shows a no-JavaScript form's error from the URL: a link could carry any text.
    let planted = url_error(&serde_json::json!({
        "Invalid": "Your account is suspended. Call +1-555-0100 to restore it."
    }));
    for (query, clean) in [
        (format!("__path=/api/login&__err={planted}"), "/login"),
        (
            format!("next=%2Flogs&__path=/api/login&__err={planted}"),
            "/login?next=%2Flogs",
        ),
        ("__path=/api/login&__err=not-base64".to_owned(), "/login"),
    ] {
        let response = client
            .get(format!("{}/login?{query}", app.url))
            .send()
            .await
            .expect("page");
        assert!(response.status().is_redirection(), "{query}");
        assert_eq!(location(&response), clean, "{query}");
    }

    // A real form posted without JavaScript comes back with the fixed text of its error, which
    // the page accepts.
    let response = client
        .post(format!("{}/api/login", app.url))
        .header("accept", "text/html")
        .header("referer", format!("{}/login?next=/logs", app.url))
        .form(&[("email", "ann@acme.test"), ("password", "wrong one!")])
        .send()
        .await
        .expect("form post");
    assert!(response.status().is_redirection());
    let back = location(&response);
    assert_eq!(query_value(&back, "__path").as_deref(), Some("/api/login"));
    assert_eq!(query_value(&back, "next").as_deref(), Some("/logs"));
    let error = query_value(&back, "__err").expect("the error travels");
    assert_eq!(
        error,
        url_error(&serde_json::json!({
            "WrongCredentials": "The email or password is not right. Check both and try again."
        }))
    );
    let page = client.get(&back).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK, "{back}");
    app.stop().await;
}
