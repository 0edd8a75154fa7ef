//! "Forgot your password?" through the real HTTP server: the same answer for every email, a
//! link by email (recorded in the outbox), single use, 30 minutes, every session ended by a
//! reset, limits per email and per address, and the audit trail.

use crate::common;

use chrono::Duration;
use common::capture::{Captured, client_from};
use common::{PASSWORD, TestApp, error_message, location};
use reqwest::StatusCode;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// The tenant of the client's session (from the account's draft scope, `tenant.user`).
async fn tenant_of(app: &TestApp, client: &reqwest::Client) -> String {
    let (status, account) = app.account(client).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    account["draft_scope"]
        .as_str()
        .and_then(|scope| scope.split_once('.'))
        .map(|(tenant, _)| tenant.to_owned())
        .expect("a draft scope")
}

/// The reset emails of a tenant, newest first, once `count` of them are recorded (they go out
/// in the background).
async fn reset_emails(
    app: &TestApp,
    tenant: &str,
    count: usize,
) -> Vec<engine::billing::mail::OutboxEmail> {
    for _ in 0..100 {
        let emails: Vec<_> = engine::billing::mail::outbox(&app.ctx().db, tenant)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|e| e.kind == "password_reset")
            .collect();
        if emails.len() >= count && emails.iter().all(|e| e.delivery != "pending") {
            return emails;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{count} reset email(s) expected for {tenant}");
}

/// The token of the link in a reset email.
fn token_in(body: &str, app: &TestApp) -> String {
    let prefix = format!("{}/reset-password?token=", app.url);
    body.split_whitespace()
        .find_map(|word| word.strip_prefix(&prefix))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no link to {prefix} in {body}"))
}

async fn forgot(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    app.call(client, "forgot_password", &[("email", email)])
        .await
}

async fn link_state(app: &TestApp, token: &str) -> serde_json::Value {
    app.call_json(&app.client(), "reset_link", &[("token", token)])
        .await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.call(
        &app.client(),
        "reset_password",
        &[("token", token), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn a_reset_link_works_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let first = app.client();
    app.sign_up(&first, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, &first).await;
    let second = app.client();
    assert_eq!(
        app.log_in(&second, "ann@acme.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // Asked for from a browser without a session (the log-in page's "Forgot your password?").
    let asked = forgot(&app, &app.client(), " Ann@Acme.TEST ").await;
    assert!(asked.status().is_success() || asked.status().is_redirection());
    assert_eq!(location(&asked), "/forgot-password?sent=1");
    let emails = reset_emails(&app, &tenant, 1).await;
    let email = &emails[0];
    assert_eq!(email.recipient, "ann@acme.test");
    assert_eq!(email.subject, "Reset your zqsync password");
    assert!(email.body.contains("30 minutes"), "{}", email.body);
    let token = token_in(&email.body, &app);
    assert_eq!(link_state(&app, &token).await, "Valid");

    // Only the token's hash is stored.
    let stored: Vec<(String,)> = match &app.ctx().db {
        engine::Db::Sqlite(pool) => sqlx::query_as("SELECT token_hash FROM password_resets")
            .fetch_all(pool)
            .await
            .expect("rows"),
        engine::Db::Postgres(pool) => sqlx::query_as("SELECT token_hash FROM password_resets")
            .fetch_all(pool)
            .await
            .expect("rows"),
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, token);

    // The sign-up rules apply, and a refused password leaves the link usable.
    let weak = reset(&app, &token, "short").await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = weak.json().await.expect("JSON");
    assert!(error_message(&body, "Invalid").contains("at least 10"));
    assert_eq!(link_state(&app, &token).await, "Valid");

    let done = reset(&app, &token, NEW_PASSWORD).await;
    assert!(
        done.status().is_success() || done.status().is_redirection(),
        "{}",
        done.status()
    );
    assert_eq!(location(&done), "/login?reset=1");

    // Every session of the user ended.
    assert_eq!(app.account(&first).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.account(&second).await.0, StatusCode::UNAUTHORIZED);
    // The old password is gone, the new one works.
    assert_eq!(
        app.log_in(&app.client(), "ann@acme.test", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.log_in(&app.client(), "ann@acme.test", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // Single use.
    assert_eq!(link_state(&app, &token).await, "Invalid");
    let again = reset(&app, &token, "yet another passphrase").await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = again.json().await.expect("JSON");
    assert!(
        error_message(&body, "Invalid").contains("does not work any more"),
        "{body}"
    );
    assert_eq!(
        app.log_in(&app.client(), "ann@acme.test", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    // A made-up token is no better.
    assert_eq!(link_state(&app, "not-a-token").await, "Invalid");
    assert_eq!(
        reset(&app, "not-a-token", NEW_PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reset_voids_the_other_links_of_the_user() {
    let app = TestApp::spawn().await;
    let owner = app.client();
    app.sign_up(&owner, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, &owner).await;
    forgot(&app, &app.client(), "ann@acme.test").await;
    forgot(&app, &app.client(), "ann@acme.test").await;
    let emails = reset_emails(&app, &tenant, 2).await;
    let (newer, older) = (
        token_in(&emails[0].body, &app),
        token_in(&emails[1].body, &app),
    );
    assert_ne!(newer, older);
    assert!(
        reset(&app, &older, NEW_PASSWORD)
            .await
            .status()
            .is_success()
    );
    assert_eq!(link_state(&app, &newer).await, "Invalid");
    app.stop().await;
}

#[tokio::test]
async fn reset_links_expire_after_30_minutes() {
    let app = TestApp::spawn().await;
    let owner = app.client();
    app.sign_up(&owner, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, &owner).await;
    forgot(&app, &app.client(), "ann@acme.test").await;
    let token = token_in(&reset_emails(&app, &tenant, 1).await[0].body, &app);

    app.advance(Duration::minutes(29));
    assert_eq!(link_state(&app, &token).await, "Valid");
    app.advance(Duration::minutes(1) + Duration::seconds(1));
    assert_eq!(link_state(&app, &token).await, "Expired");
    let late = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = late.json().await.expect("JSON");
    assert!(
        error_message(&body, "Invalid").contains("older than 30 minutes"),
        "{body}"
    );
    // Nothing changed: the old password still works.
    assert_eq!(
        app.log_in(&app.client(), "ann@acme.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_emails_get_the_same_answer_and_no_email() {
    let app = TestApp::spawn().await;
    let owner = app.client();
    app.sign_up(&owner, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, &owner).await;

    let answer = |response: reqwest::Response| async move {
        let status = response.status();
        let location = location(&response);
        (status, location, response.text().await.expect("body"))
    };
    let known = answer(forgot(&app, &app.client(), "ann@acme.test").await).await;
    let unknown = answer(forgot(&app, &app.client(), "nobody@acme.test").await).await;
    assert_eq!(known, unknown);
    reset_emails(&app, &tenant, 1).await;
    let all: i64 = match &app.ctx().db {
        engine::Db::Sqlite(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox")
            .fetch_one(pool)
            .await
            .expect("count"),
        engine::Db::Postgres(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox")
            .fetch_one(pool)
            .await
            .expect("count"),
    };
    assert_eq!(all, 1, "only the known email gets a link");

    // A malformed address is an input error, for everyone alike.
    let malformed = forgot(&app, &app.client(), "not an email").await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn reset_requests_are_limited_per_email_and_per_address() {
    let app = TestApp::spawn().await;
    app.sign_up(&app.client(), "Acme", "ann@acme.test").await;

    // Per email, from any address: three per hour, for accounts and non-accounts alike (so a
    // refusal tells nothing about accounts).
    for email in ["ann@acme.test", "nobody@acme.test"] {
        for n in 0..3u8 {
            let response = forgot(&app, &client_from(20 + n), email).await;
            assert!(!response.status().is_client_error(), "{email} #{n}");
        }
        let refused = forgot(&app, &client_from(30), email).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(refused.headers().get("retry-after").is_some());
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert!(
            error_message(&body, "TooManyRequests").contains("Too many password reset requests"),
            "{body}"
        );
    }

    // Per address, across emails: ten per hour.
    let prober = client_from(40);
    for n in 0..10 {
        let response = forgot(&app, &prober, &format!("probe{n}@acme.test")).await;
        assert!(!response.status().is_client_error(), "probe {n}");
    }
    assert_eq!(
        forgot(&app, &prober, "probe10@acme.test").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another address is not affected…
    assert!(
        !forgot(&app, &client_from(41), "probe10@acme.test")
            .await
            .status()
            .is_client_error()
    );
    // …and the limits lift after the hour.
    app.advance(Duration::minutes(61));
    assert!(
        !forgot(&app, &prober, "ann@acme.test")
            .await
            .status()
            .is_client_error()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reset_lifts_the_log_in_back_off_of_its_address() {
    let app = TestApp::spawn().await;
    let owner = client_from(50);
    app.sign_up(&owner, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, &owner).await;
    // Forgot the password: five wrong guesses, then this address must wait.
    for _ in 0..5 {
        app.log_in(&owner, "ann@acme.test", "is it this one?").await;
    }
    assert_eq!(
        app.log_in(&owner, "ann@acme.test", "or this one?")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    forgot(&app, &owner, "ann@acme.test").await;
    let token = token_in(&reset_emails(&app, &tenant, 1).await[0].body, &app);
    let done = owner
        .post(format!("{}/api/reset_password", app.url))
        .form(&[("token", token.as_str()), ("password", NEW_PASSWORD)])
        .send()
        .await
        .expect("reset");
    assert!(done.status().is_success() || done.status().is_redirection());
    assert_eq!(
        app.log_in(&owner, "ann@acme.test", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn resets_are_audited_without_the_email_or_the_token() {
    let (captured, _guard) = Captured::start();
    let app = TestApp::spawn().await;
    let owner = client_from(60);
    app.sign_up(&owner, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, &owner).await;

    let stranger = client_from(61);
    forgot(&app, &stranger, "nobody@acme.test").await;
    forgot(&app, &stranger, "ann@acme.test").await;
    let token = token_in(&reset_emails(&app, &tenant, 1).await[0].body, &app);
    reset(&app, "made-up", NEW_PASSWORD).await;
    reset(&app, &token, NEW_PASSWORD).await;
    for _ in 0..2 {
        forgot(&app, &stranger, "ann@acme.test").await;
    }
    let limited = forgot(&app, &stranger, "ann@acme.test").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let emails = reset_emails(&app, &tenant, 3).await;
    let late = token_in(&emails[0].body, &app);
    app.advance(Duration::minutes(31));
    reset(&app, &late, NEW_PASSWORD).await;

    let audit = captured.audit();
    let find = |event: &str, outcome: &str| -> Vec<serde_json::Value> {
        audit
            .iter()
            .filter(|l| l["event"] == event && l["outcome"] == outcome)
            .cloned()
            .collect()
    };
    let sent = find("password_reset_request", "success");
    assert_eq!(sent.len(), 3, "{audit:#?}");
    assert_eq!(sent[0]["client_addr"], "127.0.0.61");
    assert!(sent[0]["tenant_id"].is_string() && sent[0]["email_hash"].is_string());
    assert_eq!(find("password_reset_request", "failure").len(), 1);
    assert_eq!(find("password_reset_request", "rate_limited").len(), 1);
    assert!(find("password_reset_request", "rate_limited")[0]["retry_after_secs"].is_number());
    let done = find("password_reset", "success");
    assert_eq!(done.len(), 1, "{audit:#?}");
    assert_eq!(done[0]["tenant_id"], sent[0]["tenant_id"]);
    assert_eq!(find("password_reset", "failure").len(), 1, "{audit:#?}");
    assert_eq!(find("password_reset", "expired").len(), 1, "{audit:#?}");

    let text = captured.text();
    for secret in [
        "ann@acme.test",
        "nobody@acme.test",
        NEW_PASSWORD,
        token.as_str(),
        late.as_str(),
    ] {
        assert!(!text.contains(secret), "the log holds {secret:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_reset_pages_open_with_or_without_a_session() {
    let app = TestApp::spawn().await;
    let logged_in = app.client();
    app.sign_up(&logged_in, "Acme", "ann@acme.test").await;
    for client in [app.client(), logged_in] {
        for page in ["/forgot-password", "/reset-password?token=abc"] {
            let response = client
                .get(format!("{}{page}", app.url))
                .send()
                .await
                .expect("page");
            assert_eq!(response.status(), StatusCode::OK, "{page}");
        }
    }
    // The log-in page links to the first.
    let login = app
        .client()
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(login.contains("href=\"/forgot-password\""), "{login}");
    app.stop().await;
}
