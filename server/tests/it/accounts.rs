//! Accounts and sessions through the real HTTP server: sign-up, log-in, log-out, idle expiry,
//! throttling, cross-origin refusal and tenant isolation.

use crate::common;

use chrono::Duration;
use common::{PASSWORD, TestApp, error_message};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

#[tokio::test]
async fn sign_up_logs_in_and_sets_a_safe_cookie() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let response = app.sign_up(&client, "Acme Ltd", "Owner@Acme.test").await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.starts_with("zqsync_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http must not get Secure cookies: {cookie}"
    );

    let (status, body) = app.account(&client).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["company_name"], "Acme Ltd");
    assert_eq!(
        body["email"], "owner@acme.test",
        "emails are stored lower-cased"
    );
    assert_eq!(body["plan"], "freemium");
    assert_eq!(body["sandbox_mode"], true);
    app.stop().await;
}

#[tokio::test]
async fn cookies_are_secure_behind_https() {
    let app = TestApp::spawn_with(|s| s.public_url = Some("https://zqsync.example".into())).await;
    let response = app.sign_up(&app.client(), "Acme", "a@acme.test").await;
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(cookie.contains("; Secure"), "{cookie}");
    app.stop().await;
}

#[tokio::test]
async fn duplicate_email_is_refused_clearly() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.sign_up(&app.client(), "Acme", "ann@acme.test")
            .await
            .status(),
        StatusCode::OK
    );
    let response = app
        .sign_up(&app.client(), "Other Co", "ANN@acme.test")
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = response.json().await.expect("JSON error");
    let message = error_message(&body, "Conflict");
    assert!(message.contains("already exists"), "{message}");
    app.stop().await;
}

#[tokio::test]
async fn sign_up_input_is_checked() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let cases = [
        (("", "a@acme.test", PASSWORD), "company"),
        (("Acme", "not-an-email", PASSWORD), "valid email"),
        (("Acme", "a@acme.test", "short"), "at least 10 characters"),
    ];
    for ((company, email, password), expected) in cases {
        let response = app
            .call(
                &client,
                "signup",
                &[
                    ("company_name", company),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = response.json().await.expect("JSON error");
        let message = error_message(&body, "Invalid");
        assert!(
            message.contains(expected),
            "{message:?} should mention {expected:?}"
        );
    }
    // Nothing was half-created: the email is still free.
    assert_eq!(
        app.sign_up(&client, "Acme", "a@acme.test").await.status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.sign_up(&app.client(), "Acme", "ann@acme.test").await;
    let client = app.client();
    let wrong: serde_json::Value = app
        .log_in(&client, "ann@acme.test", "wrong password!")
        .await
        .json()
        .await
        .expect("JSON");
    let unknown: serde_json::Value = app
        .log_in(&client, "bob@acme.test", PASSWORD)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(wrong, unknown);
    assert!(error_message(&wrong, "WrongCredentials").contains("not right"));
    assert_eq!(app.account(&client).await.0, StatusCode::UNAUTHORIZED);

    let response = app.log_in(&client, "ann@acme.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.account(&client).await.1["email"], "ann@acme.test");
    app.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_for_good() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let response = app.sign_up(&client, "Acme", "ann@acme.test").await;
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token_cookie = cookie.split(';').next().unwrap_or_default().to_owned();

    assert_eq!(
        app.call(&client, "logout", &[]).await.status(),
        StatusCode::OK
    );
    let (status, body) = app.account(&client).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, serde_json::json!("NotLoggedIn"));

    // A copy of the old cookie is worthless too.
    let replay = reqwest::Client::new()
        .post(format!("{}/api/account", app.url))
        .header("cookie", token_cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn sessions_expire_after_ten_idle_minutes_and_slide_with_use() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;

    // Activity keeps the session alive well past ten minutes in total…
    for _ in 0..3 {
        app.advance(Duration::minutes(9));
        assert_eq!(app.account(&client).await.0, StatusCode::OK);
    }
    // …but ten idle minutes end it.
    app.advance(Duration::minutes(10) + Duration::seconds(1));
    assert_eq!(app.account(&client).await.0, StatusCode::UNAUTHORIZED);

    // A page request with the dead cookie goes to the log-in page, saying why.
    app.log_in(&client, "ann@acme.test", PASSWORD).await;
    app.advance(Duration::minutes(11));
    let page = client
        .get(format!("{}/logs", app.url))
        .send()
        .await
        .expect("page");
    assert!(page.status().is_redirection());
    assert_eq!(page.headers()[LOCATION], "/login?expired=1&next=/logs");
    app.stop().await;
}

#[tokio::test]
async fn status_polls_need_a_live_session_but_do_not_keep_it_alive() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;

    // An open tab polls the run status every few seconds: each poll is answered…
    for _ in 0..9 {
        app.advance(Duration::minutes(1));
        for function in ["sync_status", "home_summary"] {
            let poll = app.call(&client, function, &[]).await;
            assert_eq!(poll.status(), StatusCode::OK, "{function}");
        }
    }
    // …but the user did nothing for ten minutes, so the session ends.
    app.advance(Duration::minutes(1) + Duration::seconds(1));
    assert_eq!(
        app.call(&client, "sync_status", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.account(&client).await.0, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn failed_log_ins_slow_down_their_address_for_that_email() {
    let app = TestApp::spawn().await;
    app.sign_up(&app.client(), "Acme", "ann@acme.test").await;
    let client = app.client();
    for _ in 0..5 {
        app.log_in(&client, "ann@acme.test", "not the password")
            .await;
    }
    let response = app.log_in(&client, "ann@acme.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(error_message(&body, "TooManyRequests").contains("seconds"));

    // Another account is not affected, and the wait lifts after its time
    // (server/tests/security.rs covers other addresses and the back-off's growth).
    app.sign_up(&app.client(), "Other", "bob@other.test").await;
    assert_eq!(
        app.log_in(&app.client(), "bob@other.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    app.advance(Duration::seconds(31));
    assert_eq!(
        app.log_in(&client, "ann@acme.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let args = [
        ("company_name", "Evil"),
        ("email", "e@evil.test"),
        ("password", PASSWORD),
    ];
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = client
            .post(format!("{}/api/signup", app.url))
            .header(header, value)
            .form(&args)
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{header}: {value}"
        );
    }
    // Nothing was created by the refused requests; a same-origin request works.
    let response = client
        .post(format!("{}/api/signup", app.url))
        .header("origin", app.url.clone())
        .header("sec-fetch-site", "same-origin")
        .form(&args)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn pages_sit_behind_the_login_wall() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let page = client
        .get(format!("{}/settings", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(page.headers()[LOCATION], "/login?next=/settings");
    let login = client
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(login.status(), StatusCode::OK);

    app.sign_up(&client, "Acme Ltd", "ann@acme.test").await;
    let home = client
        .get(format!("{}/", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.expect("html");
    for expected in [
        "QuickBooks Mapping",
        "Acme Ltd",
        "ann@acme.test",
        "Sandbox mode",
        "Logout",
    ] {
        assert!(html.contains(expected), "home page lacks {expected:?}");
    }
    let login = client
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(login.headers()[LOCATION], "/");
    let missing = client
        .get(format!("{}/no-such-page", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

/// Every server function is tried with no session and with another tenant's session: none
/// may run for a stranger, and none may show tenant A's data to tenant B.
#[tokio::test]
async fn no_server_function_crosses_tenants() {
    let app = TestApp::spawn().await;
    let alice = app.client();
    app.sign_up(&alice, "Alpha Secret Holdings", "alice@alpha.test")
        .await;
    let bob = app.client();
    app.sign_up(&bob, "Beta Co", "bob@beta.test").await;

    let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    assert!(
        paths.contains(&"/api/account"),
        "server functions not registered: {paths:?}"
    );
    for path in paths {
        let function = path.trim_start_matches("/api/");
        if server::PUBLIC_SERVER_FUNCTIONS.contains(&path) {
            continue;
        }
        let anonymous = app.call(&app.client(), function, &[]).await;
        assert_eq!(
            anonymous.status(),
            StatusCode::UNAUTHORIZED,
            "{path} ran without a session"
        );

        let as_bob = app
            .call(&bob, function, &[])
            .await
            .text()
            .await
            .expect("body");
        assert!(
            !as_bob.contains("Alpha Secret") && !as_bob.contains("alice@"),
            "{path} showed tenant A's data to tenant B: {as_bob}"
        );
    }
    assert_eq!(app.account(&bob).await.1["company_name"], "Beta Co");
    assert_eq!(
        app.account(&alice).await.1["company_name"],
        "Alpha Secret Holdings"
    );
    app.stop().await;
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let health: serde_json::Value = client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        health,
        serde_json::json!({ "status": "ok", "database": "ok" })
    );
    let metrics = client
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("zqsync_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/healthz\""), "{metrics}");
    app.stop().await;
}

/// After logging in (or signing up) the user lands where they were going: `next` when it is a
/// path on this site, the home page for anything else (never an open redirect).
#[tokio::test]
async fn log_in_and_sign_up_follow_next_only_within_the_site() {
    let app = TestApp::spawn().await;
    app.sign_up(&app.client(), "Acme", "ann@acme.test").await;
    let log_in_to = |next: &'static str| {
        let app = &app;
        async move {
            let response = app
                .call(
                    &app.client(),
                    "login",
                    &[
                        ("email", "ann@acme.test"),
                        ("password", PASSWORD),
                        ("next", next),
                    ],
                )
                .await;
            assert!(
                response.status().is_success() || response.status().is_redirection(),
                "{next:?}: {}",
                response.status()
            );
            common::location(&response)
        }
    };
    for good in [
        "/filters",
        "/logs?status=error&page=2",
        "/?pair=items_products",
    ] {
        assert_eq!(log_in_to(good).await, good);
    }
    for hostile in [
        "//evil.example/phish",
        "https://evil.example/phish",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\r\n/evil.example",
        " //evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/api/logout",
        "",
    ] {
        assert_eq!(log_in_to(hostile).await, "/", "{hostile:?}");
    }

    // Sign-up keeps the user where they were going too.
    let response = app
        .call(
            &app.client(),
            "signup",
            &[
                ("company_name", "Beta"),
                ("email", "bob@beta.test"),
                ("password", PASSWORD),
                ("next", "/settings?tab=schedule"),
            ],
        )
        .await;
    assert_eq!(common::location(&response), "/settings?tab=schedule");
    let response = app
        .call(
            &app.client(),
            "signup",
            &[
                ("company_name", "Gamma"),
                ("email", "cy@gamma.test"),
                ("password", PASSWORD),
                ("next", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(common::location(&response), "/");

    // The log-in wall sends the whole page, query included.
    let page = app
        .client()
        .get(format!("{}/?pair=items_products", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(
        page.headers()[LOCATION],
        "/login?next=/%3Fpair%3Ditems_products"
    );
    app.stop().await;
}

/// The page asks how long its session has left without keeping it alive; "Stay signed in"
/// does keep it alive.
#[tokio::test]
async fn the_time_left_is_read_passively_and_stay_signed_in_restarts_it() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let time_left = |function: &'static str| {
        let (app, client) = (&app, &client);
        async move {
            let response = app.call(client, function, &[]).await;
            let status = response.status();
            let body: serde_json::Value = response.json().await.expect("JSON");
            (status, body)
        }
    };
    let (status, body) = time_left("session_time_left").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["millis_left"], 600_000);
    assert_eq!(body["idle_secs"], 600);

    // Asking is not activity: the time left keeps running down.
    for (minutes, left) in [(1, 540_000), (4, 300_000), (4, 60_000)] {
        app.advance(Duration::minutes(minutes));
        let (status, now) = time_left("session_time_left").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(now["millis_left"], left);
    }
    // "Stay signed in" is: a full idle period again.
    let (status, body) = time_left("stay_signed_in").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["millis_left"], 600_000);
    app.advance(Duration::minutes(9));
    let (_, body) = time_left("session_time_left").await;
    assert_eq!(body["millis_left"], 60_000);
    // Only the passive read in ten minutes: the session ends, and the read says so.
    app.advance(Duration::minutes(1) + Duration::seconds(1));
    let (status, body) = time_left("session_time_left").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, serde_json::json!("NotLoggedIn"));
    assert_eq!(app.account(&client).await.0, StatusCode::UNAUTHORIZED);
    // Without a session there is nothing to keep alive either.
    assert_eq!(
        app.call(&app.client(), "stay_signed_in", &[])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

/// The sandbox's log-in page shows the demo login; a server with real services does not.
#[tokio::test]
async fn the_demo_login_is_shown_in_sandbox_mode_only() {
    let sandbox = TestApp::spawn().await;
    let info = sandbox.call_json(&sandbox.client(), "auth_page", &[]).await;
    assert_eq!(
        info["demo_login"],
        serde_json::json!(["demo@zqsync.test", "sandbox-demo"])
    );
    sandbox.stop().await;

    let real = TestApp::spawn_with(|s| s.sandbox_mode = false).await;
    let info = real.call_json(&real.client(), "auth_page", &[]).await;
    assert_eq!(info["demo_login"], serde_json::Value::Null);
    real.stop().await;
}
