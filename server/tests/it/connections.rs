//! Connecting Zoho CRM and QuickBooks Online through the real OAuth redirects against the
//! sandbox: the connection check, the Activate switch, needs-reconnect banners, disconnecting,
//! and tenant separation.

use crate::common;

use common::{TestApp, error_message, location};
use domain::pairs::{Flow, ModulePair};
use engine::Clock as _;
use reqwest::StatusCode;
use serde_json::Value;

async fn connections(app: &TestApp, client: &reqwest::Client) -> serde_json::Value {
    let response = app.call(client, "connections", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn both_systems_connect_through_their_consent_pages() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let before = connections(&app, &client).await;
    assert_eq!(before["qbo"]["state"], "NotConnected");
    assert_eq!(before["zoho"]["state"], "NotConnected");

    let back = app.connect(&client, "qbo").await;
    assert_eq!(back, "/quickbooks?connected=qbo");
    let back = app.connect(&client, "zoho").await;
    assert_eq!(back, "/settings?connected=zoho");

    let after = connections(&app, &client).await;
    assert_eq!(after["qbo"]["state"], "Connected", "{after}");
    assert_eq!(after["zoho"]["state"], "Connected", "{after}");
    let qbo_details = after["qbo"]["details"].to_string();
    assert!(qbo_details.contains("9341453050298464"), "{qbo_details}");
    let zoho_details = after["zoho"]["details"].to_string();
    assert!(
        zoho_details.contains("Data centre") && zoho_details.contains(&app.sandbox_urls().zoho_api),
        "{zoho_details}"
    );
    assert_eq!(after["active"], false, "connecting does not activate");
    app.stop().await;
}

#[tokio::test]
async fn the_connection_check_verifies_and_lists_what_it_found() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;

    // Not connected yet: a message that says what to do.
    let body: serde_json::Value = app
        .call_json(&client, "connection_check", &[("provider", "qbo")])
        .await;
    assert!(
        body["Invalid"]
            .as_str()
            .unwrap_or_default()
            .contains("Connect it in Settings"),
        "{body}"
    );

    app.connect(&client, "qbo").await;
    app.connect(&client, "zoho").await;
    for provider in ["qbo", "zoho"] {
        let response = app
            .call(&client, "connection_check", &[("provider", provider)])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let check: serde_json::Value = response.json().await.expect("JSON");
        let lines = check["lines"].as_array().expect("lines");
        assert!(!lines.is_empty(), "{check}");
        assert!(lines.iter().all(|l| l["ok"] == true), "{provider}: {check}");
    }
    let qbo_check: serde_json::Value = app
        .call_json(&client, "connection_check", &[("provider", "qbo")])
        .await;
    assert!(
        qbo_check["title"]
            .as_str()
            .unwrap_or_default()
            .contains("Sandbox Company"),
        "{qbo_check}"
    );
    let view = connections(&app, &client).await;
    assert!(
        view["qbo"]["verified_at"].is_i64() && view["zoho"]["verified_at"].is_i64(),
        "{view}"
    );
    app.stop().await;
}

#[tokio::test]
async fn activation_needs_both_connections_and_disconnect_switches_it_off() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;

    let refused: serde_json::Value = app
        .call_json(&client, "set_active", &[("active", "true")])
        .await;
    assert!(
        refused["Invalid"]
            .as_str()
            .unwrap_or_default()
            .contains("Connect Zoho CRM first"),
        "{refused}"
    );
    app.connect(&client, "zoho").await;
    let refused: serde_json::Value = app
        .call_json(&client, "set_active", &[("active", "true")])
        .await;
    assert!(
        refused["Invalid"]
            .as_str()
            .unwrap_or_default()
            .contains("QuickBooks Online"),
        "{refused}"
    );
    assert_eq!(connections(&app, &client).await["active"], false);

    app.connect(&client, "qbo").await;
    let on = app.call(&client, "set_active", &[("active", "true")]).await;
    assert_eq!(on.status(), StatusCode::OK);
    assert_eq!(connections(&app, &client).await["active"], true);

    assert_eq!(
        app.call(&client, "disconnect", &[("provider", "qbo")])
            .await
            .status(),
        StatusCode::OK
    );
    let view = connections(&app, &client).await;
    assert_eq!(view["qbo"]["state"], "NotConnected");
    assert_eq!(
        view["active"], false,
        "an integration missing a side cannot stay active"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_grant_shows_a_reconnect_banner_and_reconnecting_clears_it() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    app.connect(&client, "qbo").await;

    // Intuit forgets the grant (the user revoked the app, or the token aged out).
    let control = reqwest::Client::new();
    let intuit = app.sandbox_urls().intuit_oauth;
    for action in ["revoke", "expire"] {
        let r = control
            .post(format!(
                "{intuit}/_sandbox/tokens/{action}?service=intuit_oauth"
            ))
            .send()
            .await
            .expect("control API");
        assert!(r.status().is_success());
    }
    let failed: serde_json::Value = app
        .call_json(&client, "connection_check", &[("provider", "qbo")])
        .await;
    assert!(
        failed["Invalid"]
            .as_str()
            .unwrap_or_default()
            .contains("Reconnect QuickBooks Online"),
        "{failed}"
    );

    let (_, account) = app.account(&client).await;
    let banners = account["needs_reconnect"].as_array().expect("banner list");
    assert_eq!(banners.len(), 1, "{account}");
    assert_eq!(banners[0]["name"], "QuickBooks Online");
    assert_eq!(banners[0]["reconnect_href"], "/connect/qbo");
    let home = client
        .get(format!("{}/", app.url))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        home.contains("QuickBooks Online is disconnected")
            && home.contains("Reconnect QuickBooks Online")
    );

    app.connect(&client, "qbo").await;
    let (_, account) = app.account(&client).await;
    assert_eq!(account["needs_reconnect"], serde_json::json!([]));
    assert_eq!(
        connections(&app, &client).await["qbo"]["state"],
        "Connected"
    );
    app.stop().await;
}

#[tokio::test]
async fn callbacks_refuse_forged_state_and_report_a_declined_consent() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;

    let forged = client
        .get(format!(
            "{}/oauth/intuit/callback?code=AB1x&state=not-ours&realmId=9341453050298464",
            app.url
        ))
        .send()
        .await
        .expect("callback");
    // A code, not text: the page words it (server/tests/security.rs reads the pages).
    let to = location(&forged);
    assert_eq!(to, "/quickbooks?error=state_mismatch");

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
    assert_eq!(
        connections(&app, &client).await["zoho"]["state"],
        "NotConnected"
    );

    // Without a session the consent flow cannot start.
    let anonymous = app
        .client()
        .get(format!("{}/connect/qbo", app.url))
        .send()
        .await
        .expect("connect");
    assert_eq!(location(&anonymous), "/login?next=/connect/qbo");
    app.stop().await;
}

#[tokio::test]
async fn one_tenants_connection_is_not_anothers() {
    let app = TestApp::spawn().await;
    let alice = app.client();
    app.sign_up(&alice, "Alpha", "alice@alpha.test").await;
    app.connect(&alice, "qbo").await;
    let bob = app.client();
    app.sign_up(&bob, "Beta", "bob@beta.test").await;

    let view = connections(&app, &bob).await;
    assert_eq!(view["qbo"]["state"], "NotConnected", "{view}");
    let check: serde_json::Value = app
        .call_json(&bob, "connection_check", &[("provider", "qbo")])
        .await;
    assert!(check.get("Invalid").is_some(), "{check}");
    assert_eq!(
        app.call(&bob, "disconnect", &[("provider", "qbo")])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        connections(&app, &alice).await["qbo"]["state"],
        "Connected",
        "Bob's disconnect touched Alice"
    );
    app.stop().await;
}

/// Tells the test which tenant it ran; stands in for the sync engine.
struct ReportingRunner(tokio::sync::mpsc::UnboundedSender<String>);

impl engine::sync::TenantRunner for ReportingRunner {
    fn run<'a>(
        &'a self,
        claim: &'a engine::sync::Claim,
    ) -> std::pin::Pin<Box<dyn Future<Output = engine::sync::RunReport> + Send + 'a>> {
        Box::pin(async move {
            let _ = self.0.send(claim.tenant_id.to_string());
            engine::sync::RunReport {
                outcome: engine::sync::RunOutcome::Ok,
                message: None,
                more_work: false,
                stats: Default::default(),
            }
        })
    }
}

#[tokio::test]
async fn activating_schedules_the_tenant_and_the_in_process_worker_runs_it() {
    let (ran, mut runs) = tokio::sync::mpsc::unbounded_channel();
    let app = TestApp::spawn_with(|settings| {
        settings.runner = Some(std::sync::Arc::new(ReportingRunner(ran)));
        settings.worker = Some(engine::sync::WorkerConfig {
            poll_interval: std::time::Duration::from_millis(20),
            ..engine::sync::WorkerConfig::default()
        });
    })
    .await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    app.connect(&client, "zoho").await;
    app.connect(&client, "qbo").await;
    let on = app.call(&client, "set_active", &[("active", "true")]).await;
    assert_eq!(on.status(), StatusCode::OK);

    // Bounded only so a broken worker fails the test instead of hanging it.
    let tenant = tokio::time::timeout(std::time::Duration::from_secs(30), runs.recv())
        .await
        .expect("the worker picks the activated tenant up")
        .expect("a run");
    let tenant_id: (String,) = engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query_as("SELECT tenant_id FROM integration_settings WHERE active = TRUE")
            .fetch_one(pool)
            .await
            .expect("the active tenant")
    });
    assert_eq!(tenant, tenant_id.0);
    // The worker records the outcome just after the run returns.
    let scheduler = app.ctx().sync.scheduler.clone();
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let status = scheduler.status(&tenant).await.expect("status");
            if status.last_outcome.is_some() {
                break status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the run's outcome is recorded");
    assert_eq!(status.last_outcome, Some(engine::sync::RunOutcome::Ok));
    assert_eq!(status.runs, 1);
    app.stop().await;
    assert!(
        runs.try_recv().is_err(),
        "one run: the next is an interval away"
    );
}

/// The real engine behind the in-process worker: activating runs a sync that logs every record.
#[tokio::test]
async fn the_in_process_worker_runs_the_sync_engine() {
    let app = TestApp::spawn_with(|settings| {
        settings.worker = Some(engine::sync::WorkerConfig {
            poll_interval: std::time::Duration::from_millis(20),
            ..engine::sync::WorkerConfig::default()
        });
    })
    .await;
    let client = app.client();
    // The simulators keep real time; bring them to the server's test clock, then edit the
    // demo accounts so that they count as recent changes.
    let control = app.sandbox_urls().zoho_api;
    let http = reqwest::Client::new();
    let sandbox_now: serde_json::Value = http
        .get(format!("{control}/_sandbox/clock"))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    let sandbox_now =
        chrono::DateTime::parse_from_rfc3339(sandbox_now["now"].as_str().expect("now"))
            .expect("time");
    let gap = engine::Clock::now(app.ctx().clock.as_ref()).timestamp() - sandbox_now.timestamp();
    http.post(format!("{control}/_sandbox/clock/advance"))
        .json(&serde_json::json!({"seconds": gap}))
        .send()
        .await
        .expect("advance");
    let accounts: serde_json::Value = http
        .get(format!("{control}/_sandbox/zoho/Accounts"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    for account in accounts["records"].as_array().expect("records") {
        let id = account["id"].as_str().expect("id");
        http.post(format!("{control}/_sandbox/zoho/Accounts/{id}/touch"))
            .json(&serde_json::json!({"Phone": "+1-555-010-0000"}))
            .send()
            .await
            .expect("edit");
    }
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    app.connect(&client, "zoho").await;
    app.connect(&client, "qbo").await;
    let on = app.call(&client, "set_active", &[("active", "true")]).await;
    assert_eq!(on.status(), StatusCode::OK);
    let tenant: (String,) = engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query_as("SELECT tenant_id FROM integration_settings WHERE active = TRUE")
            .fetch_one(pool)
            .await
            .expect("the active tenant")
    });
    let scheduler = app.ctx().sync.scheduler.clone();
    let started = std::time::Instant::now();
    let status = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            let status = scheduler.status(&tenant.0).await.expect("status");
            if status.last_outcome.is_some() {
                break status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the run finishes");
    assert_eq!(
        status.last_outcome,
        Some(engine::sync::RunOutcome::Ok),
        "{status:?} after {:?}",
        started.elapsed()
    );
    let page = app
        .ctx()
        .sync
        .logs
        .list(
            &tenant.0,
            &engine::sync::LogQuery {
                per_page: 100,
                ..Default::default()
            },
        )
        .await
        .expect("logs");
    assert!(
        page.total >= 3,
        "every record has a log row: {}",
        page.total
    );
    app.stop().await;
}

#[tokio::test]
async fn activate_shows_its_preflight_and_starts_where_the_user_chose() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let tenant: (String,) = engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query_as("SELECT id FROM tenants").fetch_one(pool).await.expect("tenant")
    });
    let tenant = tenant.0;
    // Before connecting: the pre-flight says what is missing, and nothing is counted.
    let early = app
        .call_json(&client, "activation_preflight", &[("days", "0")])
        .await;
    assert!(
        early["blocked"]
            .as_str()
            .is_some_and(|b| b.contains("Connect Zoho CRM and QuickBooks Online")),
        "{early}"
    );
    app.connect(&client, "zoho").await;
    app.connect(&client, "qbo").await;

    // From now on (the default): every flow of the essentials, nothing old to copy, and the
    // Inventory Settings check with its fix.
    let now_only = app
        .call_json(&client, "activation_preflight", &[("days", "0")])
        .await;
    assert_eq!(now_only["blocked"], Value::Null, "{now_only}");
    let rows = now_only["rows"].as_array().expect("rows");
    let flows: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["pair"].as_str().unwrap(), r["flow"].as_str().unwrap()))
        .collect();
    assert_eq!(
        flows,
        vec![
            ("Accounts ↔ Customers", "Zoho → QuickBooks"),
            ("Accounts ↔ Customers", "QuickBooks → Zoho"),
            ("Products ↔ Items", "Zoho → QuickBooks"),
            ("Products ↔ Items", "QuickBooks → Zoho"),
        ]
    );
    assert!(rows.iter().all(|r| r["count"] == 0), "{now_only}");
    let checks = now_only["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert!(
        checks[0]["message"]
            .as_str()
            .unwrap()
            .contains("Inventory Settings")
    );
    assert_eq!(checks[0]["fix_href"], "/settings?tab=inventory");

    // Also the last days: each flow is counted in its system. (This server's clock is years
    // ahead of the simulators', so the counts are 0 here; the browser test sees real ones.)
    let week = app
        .call_json(&client, "activation_preflight", &[("days", "7")])
        .await;
    for row in week["rows"].as_array().expect("rows") {
        assert!(row["count"].is_u64() && row["problem"].is_null(), "{row}");
        assert_eq!(row["since"], app.clock.now_millis() - 7 * 86_400_000);
    }
    let too_far = app
        .call_json(&client, "activation_preflight", &[("days", "31")])
        .await;
    assert!(error_message(&too_far, "Invalid").contains("from 1 to 30 days"));

    // Nothing was written by looking; confirming starts every flow where chosen.
    let store = &app.ctx().sync.links;
    assert_eq!(
        store
            .cursor(&tenant, ModulePair::AccountsCustomers, Flow::ZohoToQbo)
            .await
            .expect("cursor"),
        None
    );
    let on = app
        .call(&client, "set_active", &[("active", "true"), ("days", "7")])
        .await;
    assert_eq!(on.status(), StatusCode::OK);
    let seven_days_ago = app.clock.now_millis() - 7 * 86_400_000;
    for (pair, flow) in [
        (ModulePair::AccountsCustomers, Flow::ZohoToQbo),
        (ModulePair::AccountsCustomers, Flow::QboToZoho),
        (ModulePair::ProductsItems, Flow::ZohoToQbo),
        (ModulePair::ProductsItems, Flow::QboToZoho),
    ] {
        let cursor = store
            .cursor(&tenant, pair, flow)
            .await
            .expect("cursor")
            .expect("started");
        assert_eq!(cursor.at, seven_days_ago, "{pair:?} {flow:?}");
    }
    // Off, then on again from now on: the flows start now.
    app.call(&client, "set_active", &[("active", "false")])
        .await;
    app.advance(chrono::Duration::minutes(3));
    app.call(&client, "set_active", &[("active", "true")]).await;
    let cursor = store
        .cursor(&tenant, ModulePair::ProductsItems, Flow::QboToZoho)
        .await
        .expect("cursor")
        .expect("started");
    assert_eq!(cursor.at, app.clock.now_millis());
    assert_eq!(connections(&app, &client).await["active"], true);
    app.stop().await;
}
