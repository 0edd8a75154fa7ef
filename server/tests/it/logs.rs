//! The Logs page's server functions and the CSV export, over HTTP against the real server.
//! Log rows are written with SQL here, the way the engine's run writes them (same table, same
//! columns), so these tests do not depend on a sync having happened.

use crate::common;

use common::{TestApp, error_message, location};
use engine::Clock as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ACCOUNTS: &str = "accounts_customers";
const PRODUCTS: &str = "products_items";

async fn tenant_of(app: &TestApp, email: &str) -> String {
    let (tenant,): (String,) = engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query_as("SELECT tenant_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(pool)
            .await
            .expect("the user's tenant")
    });
    tenant
}

/// A log row as the engine writes it.
struct Row<'a> {
    id: &'a str,
    pair: &'a str,
    flow: &'a str,
    zoho_id: Option<&'a str>,
    qbo_id: Option<&'a str>,
    name: &'a str,
    status: &'a str,
    message: Option<&'a str>,
    action: Option<&'a str>,
    details: Value,
    /// Millis before the app's "now".
    age_ms: i64,
}

impl Default for Row<'_> {
    fn default() -> Self {
        Row {
            id: "",
            pair: ACCOUNTS,
            flow: "zoho_to_qbo",
            zoho_id: None,
            qbo_id: None,
            name: "Zylker",
            status: "synced",
            message: None,
            action: None,
            details: json!({}),
            age_ms: 0,
        }
    }
}

async fn insert(app: &TestApp, tenant: &str, seq: i64, row: Row<'_>) {
    let created = app.clock.now_millis() - row.age_ms;
    engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query(
            "INSERT INTO sync_log (id, tenant_id, seq, pair, flow, zoho_id, qbo_id, record_name, status, \
             message, action, details, created_at, resolved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL)",
        )
        .bind(row.id)
        .bind(tenant)
        .bind(seq)
        .bind(row.pair)
        .bind(row.flow)
        .bind(row.zoho_id)
        .bind(row.qbo_id)
        .bind(row.name)
        .bind(row.status)
        .bind(row.message)
        .bind(row.action)
        .bind(row.details.to_string())
        .bind(created)
        .execute(pool)
        .await
        .expect("insert a log row");
    });
}

async fn list(
    app: &TestApp,
    client: &reqwest::Client,
    pair: &str,
    status: &str,
    search: &str,
    page: u32,
) -> Value {
    let page = page.to_string();
    app.call_json(
        client,
        "list_logs",
        &[
            ("pair", pair),
            ("status", status),
            ("search", search),
            ("page", &page),
        ],
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("rows in {page}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// 30 Accounts rows (`acc-0` oldest … `acc-29` newest; every third one an Error), 2 Products.
async fn seed_thirty(app: &TestApp, tenant: &str) {
    for i in 0..30 {
        let id = format!("acc-{i}");
        let zoho = format!("41508680000000{i:05}");
        let name = format!("Customer {i}");
        let error = i % 3 == 0;
        let message = format!("QuickBooks rejected record {i}: Duplicate Name Exists");
        insert(
            app,
            tenant,
            1_000 + i,
            Row {
                id: &id,
                zoho_id: Some(&zoho),
                qbo_id: Some(&format!("{}", 100 + i)),
                name: &name,
                status: if error { "error" } else { "synced" },
                message: error.then_some(message.as_str()),
                action: error.then_some("retry"),
                ..Row::default()
            },
        )
        .await;
    }
    for i in 0..2 {
        insert(
            app,
            tenant,
            2_000 + i,
            Row {
                id: &format!("prod-{i}"),
                pair: PRODUCTS,
                zoho_id: Some("4150868000000099999"),
                name: "Widget",
                ..Row::default()
            },
        )
        .await;
    }
}

#[tokio::test]
async fn logs_page_newest_first_per_module_with_status_filter_and_search() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, "ann@acme.test").await;

    let empty = list(&app, &client, ACCOUNTS, "", "", 0).await;
    assert_eq!(empty["total"], 0, "{empty}");
    assert_eq!(empty["rows"], json!([]));

    seed_thirty(&app, &tenant).await;
    let first = list(&app, &client, ACCOUNTS, "", "", 0).await;
    assert_eq!(first["total"], 30, "{first}");
    assert_eq!(first["per_page"], 25);
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 25);
    assert_eq!(first_ids[0], "acc-29", "newest first");
    assert_eq!(first_ids[24], "acc-5");
    let second = list(&app, &client, ACCOUNTS, "", "", 1).await;
    assert_eq!(ids(&second), ["acc-4", "acc-3", "acc-2", "acc-1", "acc-0"]);
    assert_eq!(second["page"], 1);
    assert!(
        !first_ids.iter().any(|id| id.starts_with("prod")),
        "one module at a time"
    );
    let products = list(&app, &client, PRODUCTS, "", "", 0).await;
    assert_eq!(ids(&products), ["prod-1", "prod-0"]);

    // A row as the page gets it.
    let row = &first["rows"][2];
    assert_eq!(row["status"], "error");
    assert_eq!(row["zoho_id"], "4150868000000000027");
    assert_eq!(row["qbo_id"], "127");
    assert_eq!(row["record_name"], "Customer 27");
    assert_eq!(row["action"], "Retry");
    assert_eq!(row["queued"], false);
    assert_eq!(
        row["zoho_url"],
        Value::Null,
        "no link while Zoho is not connected"
    );
    assert_eq!(row["created_at"], app.clock.now_millis());
    assert_eq!(
        first["rows"][0]["action"],
        Value::Null,
        "Synced rows offer nothing"
    );

    // Status filter.
    let errors = list(&app, &client, ACCOUNTS, "error", "", 0).await;
    assert_eq!(errors["total"], 10);
    assert!(
        errors["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "error")
    );
    let not_valid = list(&app, &client, ACCOUNTS, "not_valid", "", 0).await;
    assert_eq!(not_valid["total"], 0);

    // Search by the Zoho id, the QuickBooks id, the name and the message (any case).
    assert_eq!(
        ids(&list(&app, &client, ACCOUNTS, "", "4150868000000000007", 0).await),
        ["acc-7"]
    );
    assert_eq!(
        ids(&list(&app, &client, ACCOUNTS, "", " 112 ", 0).await),
        ["acc-12"]
    );
    assert_eq!(
        ids(&list(&app, &client, ACCOUNTS, "", "customer 13", 0).await),
        ["acc-13"]
    );
    let by_message = list(&app, &client, ACCOUNTS, "", "DUPLICATE name", 0).await;
    assert_eq!(by_message["total"], 10);
    let both = list(&app, &client, ACCOUNTS, "error", "record 9:", 0).await;
    assert_eq!(ids(&both), ["acc-9"]);
    assert_eq!(
        list(&app, &client, ACCOUNTS, "", "100%", 0).await["total"],
        0,
        "% is literal"
    );

    // Bad filters say what to do.
    let bad = list(&app, &client, "nothing", "", "", 0).await;
    assert!(error_message(&bad, "Invalid").contains("Choose a module"));
    let bad = list(&app, &client, ACCOUNTS, "fine", "", 0).await;
    assert!(error_message(&bad, "Invalid").contains("Choose Synced, Error"));

    // Connected to Zoho, the Module Key links to the record on the tenant's data centre.
    app.connect(&client, "zoho").await;
    let linked = list(&app, &client, ACCOUNTS, "", "", 0).await;
    assert_eq!(
        linked["rows"][0]["zoho_url"],
        format!(
            "{}/crm/tab/Accounts/4150868000000000029",
            app.sandbox_urls().zoho_api.trim_end_matches('/')
        )
    );
    app.stop().await;
}

#[tokio::test]
async fn details_show_what_was_read_and_written() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, "ann@acme.test").await;
    let details = json!({
        "read": {"Account_Name": "Zylker Corp", "Phone": "555-0100"},
        "written": {"DisplayName": "Zylker Corp", "PrimaryPhone": {"FreeFormNumber": "555-0100"}},
        "changes": [{"field": "DisplayName", "before": "Zylker", "after": "Zylker Corp"}],
        "qbo_id": "58",
        "conflict": {"policy": "qbo_wins", "winner": "qbo", "losing_version": {"Account_Name": "Zylker Inc"}}
    });
    insert(
        &app,
        &tenant,
        1,
        Row {
            id: "row-1",
            zoho_id: Some("4150868000000002175"),
            details: details.clone(),
            ..Row::default()
        },
    )
    .await;

    let body = app
        .call_json(&client, "log_details", &[("id", "row-1")])
        .await;
    assert_eq!(body["row"]["id"], "row-1", "{body}");
    assert_eq!(
        body["row"]["qbo_id"], "58",
        "the QBO id from the details when the column is empty"
    );
    assert_eq!(body["details"]["read"], details["read"]);
    assert_eq!(body["details"]["written"], details["written"]);
    assert_eq!(body["details"]["changes"][0]["before"], "Zylker");
    assert_eq!(
        body["details"]["conflict"]["losing_version"]["Account_Name"],
        "Zylker Inc"
    );

    let missing = app
        .call_json(&client, "log_details", &[("id", "nope")])
        .await;
    assert!(error_message(&missing, "Invalid").contains("Reload the Logs page"));
    app.stop().await;
}

#[tokio::test]
async fn another_tenant_cannot_read_or_act_on_the_log() {
    let app = TestApp::spawn().await;
    let ann = app.client();
    app.sign_up(&ann, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, "ann@acme.test").await;
    seed_thirty(&app, &tenant).await;
    let bob = app.client();
    app.sign_up(&bob, "Globex", "bob@globex.test").await;

    assert_eq!(list(&app, &bob, ACCOUNTS, "", "", 0).await["total"], 0);
    assert_eq!(
        list(&app, &bob, ACCOUNTS, "", "4150868000000000007", 0).await["total"],
        0
    );
    for function in ["log_details", "retry_log_row", "unlink_log_row"] {
        let body = app.call_json(&bob, function, &[("id", "acc-0")]).await;
        assert!(
            error_message(&body, "Invalid").contains("not found"),
            "{function}: {body}"
        );
    }
    let pending: Vec<(String,)> = engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query_as("SELECT tenant_id FROM sync_retries").fetch_all(pool).await.expect("retries")
    });
    assert!(pending.is_empty());
    let csv = bob
        .get(format!("{}/logs/export.csv?pair={ACCOUNTS}", app.url))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");

    // And nobody logged out gets anything.
    let stranger = app.client();
    let response = app
        .call(
            &stranger,
            "list_logs",
            &[
                ("pair", ACCOUNTS),
                ("status", ""),
                ("search", ""),
                ("page", "0"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app.call(&stranger, "home_summary", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn retry_queues_the_record_and_requests_a_run() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, "ann@acme.test").await;
    insert(
        &app,
        &tenant,
        1,
        Row {
            id: "failed",
            zoho_id: Some("4150868000000000001"),
            status: "error",
            message: Some("QuickBooks needs a value"),
            action: Some("retry"),
            ..Row::default()
        },
    )
    .await;
    insert(
        &app,
        &tenant,
        2,
        Row {
            id: "fine",
            zoho_id: Some("4150868000000000002"),
            ..Row::default()
        },
    )
    .await;
    insert(
        &app,
        &tenant,
        3,
        Row {
            id: "gated",
            pair: "invoices_invoices",
            zoho_id: Some("4150868000000000003"),
            status: "error",
            action: Some("retry"),
            ..Row::default()
        },
    )
    .await;
    assert!(
        !app.ctx()
            .sync
            .scheduler
            .status(&tenant)
            .await
            .unwrap()
            .requested
    );

    let body = app
        .call_json(&client, "retry_log_row", &[("id", "failed")])
        .await;
    let message = body
        .as_str()
        .unwrap_or_else(|| panic!("a sentence, got {body}"));
    assert!(message.contains("will sync again"), "{message}");
    assert!(
        message.contains("Activate"),
        "the integration is off, and the message says so: {message}"
    );
    let queued: Vec<(String, String, String, String)> = engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query_as("SELECT pair, flow, source_id, kind FROM sync_retries WHERE tenant_id = $1")
            .bind(&tenant)
            .fetch_all(pool)
            .await
            .expect("retries")
    });
    assert_eq!(
        queued,
        [(
            ACCOUNTS.to_owned(),
            "zoho_to_qbo".to_owned(),
            "4150868000000000001".to_owned(),
            "retry".to_owned()
        )]
    );
    assert!(
        app.ctx()
            .sync
            .scheduler
            .status(&tenant)
            .await
            .unwrap()
            .requested,
        "a run is requested"
    );
    let page = list(&app, &client, ACCOUNTS, "error", "", 0).await;
    assert_eq!(page["rows"][0]["queued"], true, "{page}");

    let body = app
        .call_json(&client, "retry_log_row", &[("id", "fine")])
        .await;
    assert!(error_message(&body, "Invalid").contains("nothing to retry"));
    let body = app
        .call_json(&client, "retry_log_row", &[("id", "gated")])
        .await;
    assert!(
        error_message(&body, "Invalid").contains("Change Plan"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn unlink_forgets_the_link_of_a_deleted_counterpart() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, "ann@acme.test").await;
    engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query(
            "INSERT INTO sync_links (tenant_id, pair, zoho_id, qbo_id, zoho_hash, qbo_hash, created_at, updated_at) \
             VALUES ($1, $2, '4150868000000000001', '58', 'h', 'h', 0, 0)",
        )
        .bind(&tenant)
        .bind(ACCOUNTS)
        .execute(pool)
        .await
        .expect("a link");
    });
    insert(
        &app,
        &tenant,
        1,
        Row {
            id: "deleted",
            zoho_id: Some("4150868000000000001"),
            qbo_id: Some("58"),
            status: "error",
            message: Some("The QuickBooks record was deleted or made inactive"),
            action: Some("recreate"),
            ..Row::default()
        },
    )
    .await;
    let page = list(&app, &client, ACCOUNTS, "", "", 0).await;
    assert_eq!(page["rows"][0]["action"], "Recreate");

    let body = app
        .call_json(&client, "unlink_log_row", &[("id", "deleted")])
        .await;
    assert_eq!(body, Value::Null, "{body}");
    let (links,): (i64,) = engine::with_pool!(&app.ctx().db, pool => {
        sqlx::query_as("SELECT COUNT(*) FROM sync_links WHERE tenant_id = $1")
            .bind(&tenant)
            .fetch_one(pool)
            .await
            .expect("count")
    });
    assert_eq!(links, 0);
    let page = list(&app, &client, ACCOUNTS, "", "", 0).await;
    assert_eq!(
        page["rows"][0]["action"],
        Value::Null,
        "dealt with: no more actions"
    );
    let again = app
        .call_json(&client, "unlink_log_row", &[("id", "deleted")])
        .await;
    assert!(error_message(&again, "Invalid").contains("already dealt with"));
    app.stop().await;
}

#[tokio::test]
async fn csv_export_of_the_current_filter_is_quoted_and_defused() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, "ann@acme.test").await;
    insert(
        &app,
        &tenant,
        1,
        Row {
            id: "tricky",
            zoho_id: Some("4150868000000000001"),
            qbo_id: Some("58"),
            name: "=HYPERLINK(\"http://evil\")",
            status: "error",
            message: Some("Line 1, \"Widget\"\nis not synced"),
            action: Some("retry"),
            ..Row::default()
        },
    )
    .await;
    insert(
        &app,
        &tenant,
        2,
        Row {
            id: "ok",
            zoho_id: Some("4150868000000000002"),
            name: "Plain",
            ..Row::default()
        },
    )
    .await;
    insert(
        &app,
        &tenant,
        3,
        Row {
            id: "other",
            pair: PRODUCTS,
            name: "Widget",
            ..Row::default()
        },
    )
    .await;

    let response = client
        .get(format!(
            "{}/logs/export.csv?pair={ACCOUNTS}&status=error&q=",
            app.url
        ))
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"zqsync-logs-accounts_customers-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let body = response.text().await.expect("CSV");
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark");
    assert_eq!(
        body,
        "Module,Direction,Module Key,QuickBooks Id,Record,Status,Error Message,Last Sync Date (UTC),Zoho CRM Link\r\n\
         Accounts ↔ Customers,Zoho → QuickBooks,4150868000000000001,58,\"'=HYPERLINK(\"\"http://evil\"\")\",Error,\
         \"Line 1, \"\"Widget\"\"\nis not synced\",2030-01-01T00:00:00Z,\r\n"
    );

    // Without a filter both Accounts rows, newest first; search narrows.
    let all = client
        .get(format!("{}/logs/export.csv?pair={ACCOUNTS}", app.url))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("CSV");
    let lines: Vec<&str> = all.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines.len(),
        3,
        "header + 2 rows, the message's line break inside quotes: {all}"
    );
    assert!(lines[1].contains(",Plain,Synced,"), "{all}");
    let searched = client
        .get(format!(
            "{}/logs/export.csv?pair={ACCOUNTS}&q=plain",
            app.url
        ))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("CSV");
    assert_eq!(searched.split("\r\n").filter(|l| !l.is_empty()).count(), 2);

    // A bad filter is refused with words; no session, no file.
    let bad = client
        .get(format!(
            "{}/logs/export.csv?pair={ACCOUNTS}&status=odd",
            app.url
        ))
        .send()
        .await
        .expect("export");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("Choose Synced"));
    let stranger = app.client();
    let response = stranger
        .get(format!("{}/logs/export.csv?pair={ACCOUNTS}", app.url))
        .send()
        .await
        .expect("export");
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(
        location(&response).starts_with("/login"),
        "{}",
        location(&response)
    );
    app.stop().await;
}

#[tokio::test]
async fn home_summary_counts_the_last_24_hours_and_shows_the_schedule() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, "Acme", "ann@acme.test").await;
    let tenant = tenant_of(&app, "ann@acme.test").await;
    const HOUR: i64 = 3_600_000;

    let empty = app.call_json(&client, "home_summary", &[]).await;
    assert_eq!(empty["hours"].as_array().map(Vec::len), Some(24), "{empty}");
    assert_eq!(empty["active"], false);
    assert_eq!(empty["last_started_at"], Value::Null);

    let rows = [
        ("now-ok-1", "synced", 0),
        ("now-ok-2", "synced", 0),
        ("now-bad", "error", 0),
        ("now-filtered", "not_valid", 0),
        ("3h-ok", "synced", 3 * HOUR),
        ("3h-bad", "error", 3 * HOUR),
        ("old", "synced", 30 * HOUR),
    ];
    for (seq, (id, status, age_ms)) in (1..).zip(rows) {
        insert(
            &app,
            &tenant,
            seq,
            Row {
                id,
                status,
                age_ms,
                ..Row::default()
            },
        )
        .await;
    }
    app.ctx().sync.scheduler.request_run(&tenant).await.unwrap();

    let summary = app.call_json(&client, "home_summary", &[]).await;
    let hours = summary["hours"].as_array().expect("hours");
    assert_eq!(hours.len(), 24);
    let now = app.clock.now_millis();
    assert_eq!(
        hours[23]["hour_start"],
        now - now.rem_euclid(HOUR),
        "the newest hour last"
    );
    assert_eq!(
        (hours[23]["synced"].as_u64(), hours[23]["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (hours[20]["synced"].as_u64(), hours[20]["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let total: u64 = hours
        .iter()
        .map(|h| h["synced"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        total, 3,
        "Not Valid is no sync, and 30 hours ago is outside the chart"
    );
    assert_eq!(summary["requested"], true);
    assert!(summary["next_run_at"].is_i64());
    app.stop().await;
}
