//! Settings → Sync Direction, Sync Historical Data, Inventory Settings and Schedule through the
//! real HTTP server: saves round-trip, bad input is refused with nothing saved, entitlements
//! are enforced on the server, Sync now marks the schedule, and tenants never see each other's
//! settings.

use crate::common;

use common::{TestApp, error_message};
use engine::Clock as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

const GOOD_CARD: &str = "4242 4242 4242 4242";

async fn signed_up(app: &TestApp, company: &str, email: &str) -> reqwest::Client {
    let client = app.client();
    let response = app.sign_up(&client, company, email).await;
    assert_eq!(response.status(), StatusCode::OK);
    client
}

async fn ok_json(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    args: &[(&str, &str)],
) -> Value {
    let response = app.call(client, function, args).await;
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON answer");
    assert_eq!(status, StatusCode::OK, "{function}: {body}");
    body
}

/// Calls a function that must refuse; returns its message.
async fn refused(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    args: &[(&str, &str)],
) -> String {
    let body = app.call_json(client, function, args).await;
    error_message(&body, "Invalid")
}

/// Leaves Freemium for `plan` through the sandbox's Checkout stand-in and adopts it at once.
async fn upgrade_through_checkout(app: &TestApp, client: &reqwest::Client, plan: &str) {
    let answer = ok_json(app, client, "change_plan", &[("plan", plan)]).await;
    let checkout = answer["Checkout"]
        .as_str()
        .expect("Checkout URL")
        .to_owned();
    let paid = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(&checkout)
        .form(&[("card", GOOD_CARD), ("decision", "pay")])
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    let back = common::location(&paid);
    let session = back
        .split("checkout=")
        .nth(1)
        .expect("back with the Checkout Session id")
        .to_owned();
    ok_json(app, client, "confirm_checkout", &[("session_id", &session)]).await;
    let overview = ok_json(app, client, "plan_overview", &[]).await;
    assert_eq!(overview["effective_plan"], plan, "{overview}");
}

fn direction_of(view: &Value, pair: &str) -> Value {
    view["directions"]["directions"][pair].clone()
}

#[tokio::test]
async fn sync_directions_round_trip_and_a_gated_pair_is_refused_on_the_free_plan() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Acme", "ann@acme.test").await;

    let first = ok_json(&app, &client, "sync_directions", &[]).await;
    assert_eq!(first["plan"], "Freemium");
    let pairs = first["pairs"].as_array().expect("pairs");
    assert_eq!(pairs.len(), 8);
    let locked: Vec<&str> = pairs
        .iter()
        .filter(|p| p["locked"] == true)
        .map(|p| p["pair"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(locked.len(), 6, "{first}");
    assert!(!locked.contains(&"accounts_customers") && !locked.contains(&"products_items"));
    let quotes = pairs
        .iter()
        .find(|p| p["pair"] == "quotes_estimates")
        .expect("quotes");
    assert_eq!(quotes["locked_until"], "Standard (monthly)");

    // A save round-trips.
    let saved = ok_json(
        &app,
        &client,
        "save_sync_directions",
        &[
            ("directions[accounts_customers]", "zoho_to_qbo"),
            ("directions[products_items]", "disabled"),
        ],
    )
    .await;
    assert_eq!(direction_of(&saved, "accounts_customers"), "zoho_to_qbo");
    let reloaded = ok_json(&app, &client, "sync_directions", &[]).await;
    assert_eq!(direction_of(&reloaded, "accounts_customers"), "zoho_to_qbo");
    assert_eq!(direction_of(&reloaded, "products_items"), "disabled");

    // Switching on a pair Freemium does not include is refused, with how to upgrade, and the
    // other lines of the same form are not saved either.
    let message = refused(
        &app,
        &client,
        "save_sync_directions",
        &[
            ("directions[accounts_customers]", "bidirectional"),
            ("directions[quotes_estimates]", "bidirectional"),
        ],
    )
    .await;
    assert!(
        message.contains("Quotes ↔ Estimates is not included in the Freemium plan"),
        "{message}"
    );
    assert!(message.contains("Change Plan (/plan)"), "{message}");
    let unchanged = ok_json(&app, &client, "sync_directions", &[]).await;
    assert_eq!(
        direction_of(&unchanged, "accounts_customers"),
        "zoho_to_qbo"
    );
    assert_eq!(direction_of(&unchanged, "quotes_estimates"), Value::Null);

    // Switching a gated pair off is fine.
    let off = ok_json(
        &app,
        &client,
        "save_sync_directions",
        &[("directions[quotes_estimates]", "disabled")],
    )
    .await;
    assert_eq!(direction_of(&off, "quotes_estimates"), "disabled");

    // Nonsense is refused with what to choose; nothing saved.
    let bad = refused(
        &app,
        &client,
        "save_sync_directions",
        &[
            ("directions[accounts_customers]", "bidirectional"),
            ("directions[products_items]", "sideways"),
        ],
    )
    .await;
    assert!(bad.contains("Choose Zoho → QuickBooks, QuickBooks → Zoho, Bi-Directional or Disable for Products ↔ Items"), "{bad}");
    let unknown = refused(
        &app,
        &client,
        "save_sync_directions",
        &[("directions[leads]", "disabled")],
    )
    .await;
    assert!(
        unknown.contains("\"leads\" is not a module pair"),
        "{unknown}"
    );
    let target = refused(
        &app,
        &client,
        "save_sync_directions",
        &[("sales_orders", "receipt")],
    )
    .await;
    assert!(target.contains("Invoices or Estimates"), "{target}");
    let after = ok_json(&app, &client, "sync_directions", &[]).await;
    assert_eq!(direction_of(&after, "accounts_customers"), "zoho_to_qbo");
    assert_eq!(after["directions"]["sales_orders"], "invoice");

    let estimate = ok_json(
        &app,
        &client,
        "save_sync_directions",
        &[("sales_orders", "estimate")],
    )
    .await;
    assert_eq!(estimate["directions"]["sales_orders"], "estimate");
    assert_eq!(
        direction_of(&estimate, "accounts_customers"),
        "zoho_to_qbo",
        "other pairs kept"
    );
    app.stop().await;
}

#[tokio::test]
async fn historical_data_is_refused_on_monthly_plans_and_queued_on_an_annual_plan() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Beta", "bo@beta.test").await;
    let request = [
        ("include[accounts_customers]", "on"),
        ("since[accounts_customers]", "2029-06-01"),
    ];

    let free = ok_json(&app, &client, "historical_data", &[]).await;
    assert!(
        free["locked"]
            .as_str()
            .unwrap_or_default()
            .contains("only available on annual plans"),
        "{free}"
    );
    let message = refused(&app, &client, "start_backfill", &request).await;
    assert!(
        message.contains("only available on annual plans"),
        "{message}"
    );

    upgrade_through_checkout(&app, &client, "standard_monthly").await;
    // The upgrade turned no new pair on.
    let upgraded = ok_json(&app, &client, "sync_directions", &[]).await;
    for pair in ["quotes_estimates", "invoices_invoices"] {
        assert_eq!(
            direction_of(&upgraded, pair),
            Value::Null,
            "{pair} stays off"
        );
    }
    let monthly = refused(&app, &client, "start_backfill", &request).await;
    assert!(
        monthly.contains("You are on Standard (monthly)"),
        "{monthly}"
    );
    assert!(monthly.contains("Change Plan (/plan)"), "{monthly}");
    assert_eq!(
        ok_json(&app, &client, "backfill_progress", &[]).await,
        json!([])
    );
    let schedule = ok_json(&app, &client, "sync_schedule", &[]).await;
    assert_eq!(
        schedule["requested"], false,
        "a refused backfill asks for no run"
    );

    // Paid → paid needs no card.
    assert_eq!(
        ok_json(&app, &client, "change_plan", &[("plan", "standard_annual")]).await,
        json!("Changed")
    );
    let annual = ok_json(&app, &client, "historical_data", &[]).await;
    assert_eq!(annual["locked"], Value::Null, "{annual}");
    assert_eq!(annual["today"], "2030-01-01");
    let pairs = annual["pairs"].as_array().expect("pairs");
    let accounts = pairs
        .iter()
        .find(|p| p["pair"] == "accounts_customers")
        .expect("accounts");
    assert_eq!(accounts["flows"], json!(["zoho_to_qbo", "qbo_to_zoho"]));
    let orders = pairs
        .iter()
        .find(|p| p["pair"] == "sales_orders")
        .expect("sales orders");
    assert!(
        orders["unavailable"]
            .as_str()
            .unwrap_or_default()
            .contains("not included"),
        "{orders}"
    );

    // Bad lines: nothing is queued.
    let problems = refused(
        &app,
        &client,
        "start_backfill",
        &[
            ("include[accounts_customers]", "on"),
            ("since[accounts_customers]", "June"),
            ("include[products_items]", "on"),
            ("since[products_items]", "2031-01-01"),
        ],
    )
    .await;
    assert!(
        problems.contains("Enter the start date for Accounts ↔ Customers as YYYY-MM-DD"),
        "{problems}"
    );
    assert!(
        problems.contains("The start date for Products ↔ Items is in the future"),
        "{problems}"
    );
    let none = refused(
        &app,
        &client,
        "start_backfill",
        &[("since[accounts_customers]", "2029-06-01")],
    )
    .await;
    assert!(none.contains("Tick at least one module"), "{none}");
    assert_eq!(
        ok_json(&app, &client, "backfill_progress", &[]).await,
        json!([])
    );

    let queued = ok_json(&app, &client, "start_backfill", &request).await;
    let queued = queued.as_array().expect("progress list");
    assert_eq!(
        queued.len(),
        2,
        "both flows of a bi-directional pair: {queued:?}"
    );
    for (row, flow) in queued.iter().zip(["zoho_to_qbo", "qbo_to_zoho"]) {
        assert_eq!(row["pair"], "accounts_customers");
        assert_eq!(row["flow"], flow);
        assert_eq!(row["since"], "2029-06-01");
        assert_eq!(row["status"], "Queued");
        assert_eq!(row["active"], true);
        assert_eq!(row["done"], 0);
    }
    assert_eq!(
        ok_json(&app, &client, "backfill_progress", &[])
            .await
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let schedule = ok_json(&app, &client, "sync_schedule", &[]).await;
    assert_eq!(schedule["requested"], true, "a backfill asks for a run");
    app.stop().await;
}

#[tokio::test]
async fn inventory_accounts_come_from_the_quickbooks_company_and_round_trip() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Gamma", "gil@gamma.test").await;

    // Not connected: a clear message; item types can still be saved, accounts cannot.
    let before = ok_json(&app, &client, "inventory_settings", &[]).await;
    assert!(
        before["accounts_problem"]
            .as_str()
            .unwrap_or_default()
            .contains("QuickBooks Online is not connected"),
        "{before}"
    );
    assert_eq!(before["income"], json!([]));
    let types = ok_json(
        &app,
        &client,
        "save_inventory_settings",
        &[("service", "on")],
    )
    .await;
    assert_eq!(
        types["item_types"],
        json!({"service": true, "non_inventory": false})
    );
    let message = refused(
        &app,
        &client,
        "save_inventory_settings",
        &[
            ("with_accounts", "on"),
            ("income_account", "1"),
            ("service", "on"),
        ],
    )
    .await;
    assert!(
        message.contains("QuickBooks Online is not connected"),
        "{message}"
    );

    app.connect(&client, "qbo").await;
    let view = ok_json(&app, &client, "inventory_settings", &[]).await;
    assert_eq!(view["accounts_problem"], Value::Null, "{view}");
    let names = |key: &str| -> Vec<String> {
        view[key]
            .as_array()
            .expect("accounts")
            .iter()
            .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(names("income"), ["Sales of Product Income", "Services"]);
    assert_eq!(names("expense"), ["Cost of Goods Sold"]);
    assert_eq!(
        names("asset"),
        ["Inventory Asset"],
        "Undeposited Funds is no inventory account"
    );
    let id = |key: &str| view[key][0]["id"].as_str().expect("id").to_owned();
    let (income, expense, asset) = (id("income"), id("expense"), id("asset"));

    let saved = ok_json(
        &app,
        &client,
        "save_inventory_settings",
        &[
            ("with_accounts", "on"),
            ("income_account", &income),
            ("expense_account", &expense),
            ("asset_account", &asset),
            ("non_inventory", "on"),
        ],
    )
    .await;
    assert_eq!(
        saved["inventory"]["income_account"],
        json!({"id": income, "name": "Sales of Product Income"})
    );
    assert_eq!(
        saved["inventory"]["expense_account"],
        json!({"id": expense, "name": "Cost of Goods Sold"})
    );
    assert_eq!(
        saved["inventory"]["asset_account"],
        json!({"id": asset, "name": "Inventory Asset"})
    );
    assert_eq!(
        saved["item_types"],
        json!({"service": false, "non_inventory": true})
    );
    assert_eq!(
        ok_json(&app, &client, "inventory_settings", &[]).await["inventory"],
        saved["inventory"]
    );

    // An account of the wrong kind (or not in the company) is refused; nothing changes.
    let wrong = refused(
        &app,
        &client,
        "save_inventory_settings",
        &[
            ("with_accounts", "on"),
            ("income_account", &asset),
            ("expense_account", &expense),
            ("service", "on"),
        ],
    )
    .await;
    assert!(wrong.contains("is not an income account"), "{wrong}");
    let missing = refused(
        &app,
        &client,
        "save_inventory_settings",
        &[("with_accounts", "on"), ("asset_account", "9999")],
    )
    .await;
    assert!(
        missing.contains("is not an inventory asset account"),
        "{missing}"
    );
    let kept = ok_json(&app, &client, "inventory_settings", &[]).await;
    assert_eq!(kept["inventory"], saved["inventory"]);
    assert_eq!(
        kept["item_types"],
        json!({"service": false, "non_inventory": true})
    );

    // An empty choice clears it; fields left out keep theirs.
    // Without the pickers (QuickBooks unreachable) the accounts stay; with them, an empty
    // choice clears one.
    let untouched = ok_json(
        &app,
        &client,
        "save_inventory_settings",
        &[("service", "on")],
    )
    .await;
    assert_eq!(untouched["inventory"], saved["inventory"]);
    assert_eq!(
        untouched["item_types"],
        json!({"service": true, "non_inventory": false})
    );
    let cleared = ok_json(
        &app,
        &client,
        "save_inventory_settings",
        &[
            ("with_accounts", "on"),
            ("income_account", ""),
            ("expense_account", &expense),
            ("asset_account", &asset),
        ],
    )
    .await;
    assert_eq!(cleared["inventory"]["income_account"], Value::Null);
    assert_eq!(
        cleared["inventory"]["asset_account"],
        saved["inventory"]["asset_account"]
    );
    app.stop().await;
}

#[tokio::test]
async fn schedule_saves_validates_and_sync_now_marks_the_run_requested() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Delta", "dee@delta.test").await;
    let start = app.clock.now_millis();

    let first = ok_json(&app, &client, "sync_schedule", &[]).await;
    assert_eq!(first["interval_minutes"], 15);
    assert_eq!(first["conflict_policy"], "qbo_wins");
    assert_eq!(first["last_started_at"], Value::Null);

    let saved = ok_json(
        &app,
        &client,
        "save_schedule",
        &[("interval", " 5 "), ("conflict_policy", "newest_wins")],
    )
    .await;
    assert_eq!(saved["interval_minutes"], 5);
    assert_eq!(saved["conflict_policy"], "newest_wins");
    assert_eq!(
        saved["next_run_at"],
        start + 5 * 60_000,
        "the scheduler follows the interval"
    );
    assert_eq!(ok_json(&app, &client, "sync_schedule", &[]).await, saved);

    for (input, expected) in [
        ("0", "between 1 and 60 minutes; 0 is not"),
        ("61", "between 1 and 60 minutes; 61 is not"),
        (
            "ten",
            "whole number of minutes from 1 to 60 (\"ten\" is not)",
        ),
        ("", "whole number of minutes"),
        ("-3", "whole number of minutes"),
    ] {
        let message = refused(
            &app,
            &client,
            "save_schedule",
            &[("interval", input), ("conflict_policy", "zoho_wins")],
        )
        .await;
        assert!(message.contains(expected), "{input:?}: {message}");
    }
    let policy = refused(
        &app,
        &client,
        "save_schedule",
        &[("interval", "10"), ("conflict_policy", "coin_toss")],
    )
    .await;
    assert!(policy.contains("Choose who wins a conflict"), "{policy}");
    assert_eq!(
        ok_json(&app, &client, "sync_schedule", &[]).await,
        saved,
        "nothing saved"
    );

    // Sync now needs both connections and an active integration.
    let blocked = refused(&app, &client, "sync_now", &[]).await;
    assert!(
        blocked.contains("Connect Zoho CRM and QuickBooks Online"),
        "{blocked}"
    );
    app.connect(&client, "qbo").await;
    app.connect(&client, "zoho").await;
    let inactive = refused(&app, &client, "sync_now", &[]).await;
    assert!(
        inactive.contains("The integration is inactive"),
        "{inactive}"
    );
    assert_eq!(
        ok_json(&app, &client, "set_active", &[("active", "true")]).await,
        true
    );
    let requested = ok_json(&app, &client, "sync_now", &[]).await;
    assert_eq!(requested["requested"], true);
    assert_eq!(requested["blocked"], Value::Null);
    assert_eq!(requested["active"], true);
    assert_eq!(requested["after_current_run"], false);
    assert_eq!(
        requested["message"],
        "Sync requested: it starts as soon as a sync worker is free."
    );

    // The scheduler hands the tenant out first; a finished run shows as the last run.
    let claim = app
        .ctx()
        .sync
        .scheduler
        .claim("test-worker", std::time::Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("the requested tenant is due");
    assert!(claim.requested);
    let running = ok_json(&app, &client, "sync_status", &[]).await;
    assert_eq!(
        (&running["running"], &running["requested"], &running["busy"]),
        (&json!(true), &json!(false), &json!(true)),
        "the run took the request: {running}"
    );

    // Pressed while that run goes on: the answer says one more run follows it, and it does.
    app.advance(chrono::Duration::seconds(10));
    let during = ok_json(&app, &client, "sync_now", &[]).await;
    assert_eq!(during["after_current_run"], true, "{during}");
    assert_eq!(
        during["message"],
        "A sync is running now; another will start as soon as it ends."
    );
    assert_eq!(
        (&during["running"], &during["requested"]),
        (&json!(true), &json!(true))
    );
    assert!(
        app.ctx()
            .sync
            .scheduler
            .claim("another-worker", std::time::Duration::from_secs(60))
            .await
            .expect("claim")
            .is_none(),
        "never a second run of the tenant at the same time"
    );
    app.advance(chrono::Duration::seconds(20));
    let finish = |claim: engine::sync::Claim| {
        let app = &app;
        async move {
            app.ctx()
                .sync
                .scheduler
                .finish(
                    &claim,
                    engine::sync::RunOutcome::Ok,
                    None,
                    std::time::Duration::from_secs(300),
                )
                .await
                .expect("finish");
        }
    };
    finish(claim.clone()).await;
    let after = ok_json(&app, &client, "sync_schedule", &[]).await;
    assert_eq!(
        after["requested"], true,
        "the run asked for during the first one waits"
    );
    assert_eq!(after["last_started_at"], start);
    assert_eq!(after["last_finished_at"], start + 30_000);
    assert_eq!(after["last_outcome"], "Completed");
    let second = app
        .ctx()
        .sync
        .scheduler
        .claim("test-worker", std::time::Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("the second request is due at once");
    assert!(second.requested);
    finish(second).await;
    let settled = ok_json(&app, &client, "sync_status", &[]).await;
    assert_eq!(
        (&settled["running"], &settled["requested"], &settled["busy"]),
        (&json!(false), &json!(false), &json!(false)),
        "{settled}"
    );

    // A connection that needs reconnecting blocks Sync now with what to do.
    let tenant = claim.tenant_id;
    engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query("UPDATE connections SET status = 'needs_reconnect' WHERE tenant_id = $1 AND provider = 'qbo'")
            .bind(&tenant)
            .execute(pool)
            .await
            .expect("mark the connection broken");
    });
    let broken = refused(&app, &client, "sync_now", &[]).await;
    assert!(
        broken.contains("QuickBooks Online needs to be reconnected"),
        "{broken}"
    );
    app.stop().await;
}

#[tokio::test]
async fn settings_belong_to_one_tenant_and_need_a_session() {
    let app = TestApp::spawn().await;
    let ann = signed_up(&app, "Acme", "ann@acme.test").await;
    let bob = signed_up(&app, "Bolt", "bob@bolt.test").await;

    ok_json(
        &app,
        &ann,
        "save_sync_directions",
        &[("directions[accounts_customers]", "qbo_to_zoho")],
    )
    .await;
    ok_json(
        &app,
        &ann,
        "save_schedule",
        &[("interval", "7"), ("conflict_policy", "zoho_wins")],
    )
    .await;
    ok_json(&app, &ann, "save_inventory_settings", &[("service", "on")]).await;

    let bobs = ok_json(&app, &bob, "sync_directions", &[]).await;
    assert_eq!(direction_of(&bobs, "accounts_customers"), Value::Null);
    let schedule = ok_json(&app, &bob, "sync_schedule", &[]).await;
    assert_eq!(schedule["interval_minutes"], 15);
    assert_eq!(schedule["conflict_policy"], "qbo_wins");
    let inventory = ok_json(&app, &bob, "inventory_settings", &[]).await;
    assert_eq!(inventory["item_types"]["service"], false);

    // Bob's saves leave Ann's alone.
    ok_json(
        &app,
        &bob,
        "save_schedule",
        &[("interval", "30"), ("conflict_policy", "qbo_wins")],
    )
    .await;
    assert_eq!(
        ok_json(&app, &ann, "sync_schedule", &[]).await["interval_minutes"],
        7
    );

    let anonymous = app.client();
    for function in [
        "sync_directions",
        "save_schedule",
        "sync_now",
        "start_backfill",
        "inventory_settings",
        "support_contact",
    ] {
        let response = app.call(&anonymous, function, &[("interval", "5")]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_help_page_links_to_the_configured_support_address() {
    let app = TestApp::spawn_with(|settings| {
        settings.support_email = "help@acme-support.test".to_owned();
    })
    .await;
    let client = signed_up(&app, "Acme", "ann@acme.test").await;
    assert_eq!(
        ok_json(&app, &client, "support_contact", &[]).await,
        "help@acme-support.test"
    );
    let page = client
        .get(format!("{}/help", app.url))
        .send()
        .await
        .expect("help page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("mailto:help@acme-support.test"),
        "the server renders the link"
    );
    assert!(page.contains("At least one inventory item must be present"));
    app.stop().await;
}
