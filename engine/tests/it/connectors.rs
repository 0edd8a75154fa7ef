//! The QBO and Zoho clients against the real sandbox over HTTP: every operation, paging past
//! the limits, CDC saturation, stale SyncTokens, per-record write results, 429/5xx handling and
//! the one-refresh-then-reconnect rule on 401.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use engine::connectors::qbo::{BatchItem, BatchOperation};
use engine::connectors::zoho::PageCursor;
use engine::connectors::{
    BoxFuture, ConnectorConfig, ConnectorError, Connectors, Endpoints, ResilienceConfig,
    StaticToken, TokenSource,
};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

struct World {
    sandbox: Sandbox,
    connectors: Connectors,
    http: reqwest::Client,
    realm: String,
}

fn fast_resilience() -> ResilienceConfig {
    ResilienceConfig {
        timeout: Duration::from_secs(5),
        max_retries: 3,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        qbo_rate_limit_wait: Duration::from_millis(300),
        zoho_rate_limit_wait: Duration::from_millis(300),
        qbo_requests_per_minute: None,
        qbo_batches_per_minute: None,
        zoho_requests_per_second: None,
        ..ResilienceConfig::default()
    }
}

async fn world(records: usize) -> World {
    world_with(records, fast_resilience()).await
}

async fn world_with(records: usize, resilience: ResilienceConfig) -> World {
    world_of(
        SandboxConfig {
            records_per_module: records,
            ..SandboxConfig::default()
        },
        resilience,
    )
    .await
}

async fn world_of(config: SandboxConfig, resilience: ResilienceConfig) -> World {
    let realm = config.realm_id.clone();
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let connectors = crate::support::sandbox_connectors(&sandbox, resilience);
    World {
        sandbox,
        connectors,
        http: reqwest::Client::new(),
        realm,
    }
}

impl World {
    fn qbo(&self) -> engine::connectors::QboClient {
        let token = self.sandbox.mint_qbo_access_token(&self.realm);
        self.connectors
            .qbo("tenant-1", &self.realm, Arc::new(StaticToken(token)))
    }

    fn zoho(&self) -> engine::connectors::ZohoClient {
        let token = self.sandbox.mint_zoho_access_token();
        self.connectors.zoho(
            "tenant-1",
            &self.sandbox.urls().zoho_api,
            Arc::new(StaticToken(token)),
        )
    }

    async fn control(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request = self.http.request(method, format!("{base}/_sandbox/{path}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await
            .expect("control call")
            .json()
            .await
            .expect("control JSON")
    }

    async fn fault(&self, service: &str, kind: &str, count: u32, delay_ms: Option<u64>) {
        let base = self.sandbox.urls().qbo_api;
        self.control(
            &base,
            reqwest::Method::POST,
            "faults",
            Some(json!({"service": service, "kind": kind, "count": count, "delay_ms": delay_ms})),
        )
        .await;
    }

    async fn qbo_rows(&self, entity: &str) -> Vec<Value> {
        let base = self.sandbox.urls().qbo_api;
        let answer = self
            .control(
                &base,
                reqwest::Method::GET,
                &format!("qbo/{}/{entity}", self.realm),
                None,
            )
            .await;
        answer["rows"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn qbo_query_read_create_update_and_metadata() {
    let w = world(25).await;
    let qbo = w.qbo();
    let all = w.qbo_rows("Customer").await;
    let queried = qbo
        .query("SELECT * FROM Customer WHERE Active IN (true, false)")
        .await
        .expect("query");
    assert_eq!(queried.len(), all.len());
    assert!(!queried.is_empty());
    let page = qbo
        .query_page("SELECT * FROM Customer WHERE Active IN (true, false)", 3, 5)
        .await
        .expect("page");
    assert_eq!(page.len(), 5);
    assert_eq!(page[0]["Id"], queried[2]["Id"]);

    let id = queried[0]["Id"].as_str().expect("id").to_owned();
    let read = qbo.read("Customer", &id).await.expect("read");
    assert_eq!(read["DisplayName"], queried[0]["DisplayName"]);

    let missing = qbo
        .read("Customer", "987654")
        .await
        .expect_err("no such customer");
    assert!(
        matches!(missing, ConnectorError::NotFound { .. }),
        "{missing:?}"
    );

    // The same requestid twice creates one customer.
    let body = json!({"DisplayName": "Idempotent Ltd"});
    let request_id =
        domain::record::idempotency_key(&["tenant-1", "customers", "4150868000000000001"]);
    let first = qbo
        .create("Customer", &body, &request_id)
        .await
        .expect("create");
    let again = qbo
        .create("Customer", &body, &request_id)
        .await
        .expect("retried create");
    assert_eq!(first["Id"], again["Id"]);
    assert_eq!(w.qbo_rows("Customer").await.len(), all.len() + 1);

    let new_id = first["Id"].as_str().expect("id").to_owned();
    let changes = json!({"CompanyName": "Idempotent Holdings"});
    let updated = qbo
        .sparse_update(
            "Customer",
            &new_id,
            "0",
            changes.as_object().expect("map"),
            None,
        )
        .await
        .expect("sparse update");
    assert_eq!(updated["SyncToken"], "1");
    assert_eq!(
        updated["DisplayName"], "Idempotent Ltd",
        "sparse keeps other fields"
    );
    assert_eq!(updated["CompanyName"], "Idempotent Holdings");

    let stale = qbo
        .sparse_update(
            "Customer",
            &new_id,
            "0",
            changes.as_object().expect("map"),
            None,
        )
        .await
        .expect_err("stale token");
    assert!(
        matches!(stale, ConnectorError::StaleObject { .. }),
        "{stale:?}"
    );
    assert!(stale.raw_message().contains("5010") || stale.remote().code.as_deref() == Some("5010"));
    assert!(!stale.plain_message().is_empty());

    let duplicate = qbo
        .create(
            "Customer",
            &json!({"DisplayName": "Idempotent Ltd"}),
            "another-request",
        )
        .await
        .expect_err("duplicate name");
    assert!(
        matches!(duplicate, ConnectorError::Duplicate { .. }),
        "{duplicate:?}"
    );

    let company = qbo.company_info().await.expect("company info");
    assert!(!company.company_name.is_empty());
    assert!(company.offering_sku.is_some());
    let preferences = qbo.preferences().await.expect("preferences");
    assert!(preferences.raw.get("SalesFormsPrefs").is_some());
    for field in &preferences.custom_fields {
        assert!(["1", "2", "3"].contains(&field.definition_id.as_str()));
        assert!(!field.name.is_empty());
    }
}

#[tokio::test]
async fn qbo_void_uses_each_entitys_own_form() {
    let w = world(3).await;
    let qbo = w.qbo();
    let invoices = qbo
        .query("SELECT * FROM Invoice MAXRESULTS 2")
        .await
        .expect("invoices");
    let (paid_invoice, voided_invoice) = (&invoices[0], &invoices[1]);
    let invoice_id = paid_invoice["Id"].as_str().expect("id");
    let balance = paid_invoice["Balance"].as_f64().expect("balance");
    let payment = json!({"CustomerRef": paid_invoice["CustomerRef"], "TotalAmt": 1.0,
        "Line": [{"Amount": 1.0, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}]});
    let payment = qbo
        .create("Payment", &payment, "void-test-payment")
        .await
        .expect("payment");
    let paid = qbo.read("Invoice", invoice_id).await.expect("invoice");
    assert!((paid["Balance"].as_f64().expect("balance") - (balance - 1.0)).abs() < 0.001);

    let voided = qbo
        .void("Payment", payment["Id"].as_str().expect("id"), "0")
        .await
        .expect("void payment");
    assert_eq!(voided["TotalAmt"], 0);
    assert_eq!(voided["PrivateNote"], "Voided");
    let owed_again = qbo.read("Invoice", invoice_id).await.expect("invoice");
    assert!(
        (owed_again["Balance"].as_f64().expect("balance") - balance).abs() < 0.001,
        "{owed_again}"
    );

    let lines: Vec<Value> = paid_invoice["Line"]
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["DetailType"] == "SalesItemLineDetail")
        .cloned()
        .collect();
    let receipt = qbo
        .create(
            "SalesReceipt",
            &json!({"CustomerRef": paid_invoice["CustomerRef"], "Line": lines}),
            "void-test-receipt",
        )
        .await
        .expect("sales receipt");
    let voided = qbo
        .void("SalesReceipt", receipt["Id"].as_str().expect("id"), "0")
        .await
        .expect("void sales receipt");
    assert_eq!(voided["TotalAmt"], 0);

    let voided = qbo
        .void(
            "Invoice",
            voided_invoice["Id"].as_str().expect("id"),
            voided_invoice["SyncToken"].as_str().expect("token"),
        )
        .await
        .expect("void invoice");
    assert_eq!(
        (&voided["TotalAmt"], &voided["Balance"]),
        (&json!(0), &json!(0))
    );

    let vendor = &qbo
        .query("SELECT * FROM Vendor MAXRESULTS 1")
        .await
        .expect("vendors")[0];
    let bank = qbo
        .create(
            "Account",
            &json!({"Name": "Checking", "AccountType": "Bank"}),
            "void-test-bank",
        )
        .await
        .expect("bank account");
    let bill_payment = json!({"VendorRef": {"value": vendor["Id"]}, "PayType": "Check", "TotalAmt": 5.0,
        "CheckPayment": {"BankAccountRef": {"value": bank["Id"]}}});
    let bill_payment = qbo
        .create("BillPayment", &bill_payment, "void-test-bill-payment")
        .await
        .expect("bill payment");
    let voided = qbo
        .void("BillPayment", bill_payment["Id"].as_str().expect("id"), "0")
        .await
        .expect("void bill payment");
    assert_eq!(voided["TotalAmt"], 0);
}

#[tokio::test]
async fn qbo_batch_reports_each_item() {
    let w = world(5).await;
    let qbo = w.qbo();
    let customers = w.qbo_rows("Customer").await;
    let target = &customers[0];
    let id = target["Id"].as_str().expect("id");
    let token: u64 = target["SyncToken"]
        .as_str()
        .expect("token")
        .parse()
        .expect("number");
    let items = vec![
        BatchItem {
            bid: "b1".to_owned(),
            operation: BatchOperation::Create,
            entity: "Customer".to_owned(),
            body: json!({"DisplayName": "Batch Created"}),
        },
        BatchItem {
            bid: "b2".to_owned(),
            operation: BatchOperation::Update,
            entity: "Customer".to_owned(),
            body: json!({"Id": id, "SyncToken": (token + 5).to_string(), "sparse": true, "Notes": "x"}),
        },
        BatchItem {
            bid: "b3".to_owned(),
            operation: BatchOperation::Update,
            entity: "Customer".to_owned(),
            body: json!({"Id": id, "SyncToken": token.to_string(), "sparse": true, "Notes": "batched"}),
        },
    ];
    let outcomes = qbo
        .batch(&items, Some("batch-request-1"))
        .await
        .expect("batch");
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].bid, "b1");
    assert_eq!(
        outcomes[0].result.as_ref().expect("created")["DisplayName"],
        "Batch Created"
    );
    assert!(
        matches!(outcomes[1].result, Err(ConnectorError::StaleObject { .. })),
        "{:?}",
        outcomes[1].result
    );
    assert_eq!(
        outcomes[2].result.as_ref().expect("updated")["Notes"],
        "batched"
    );

    let too_many: Vec<BatchItem> = (0..31)
        .map(|i| BatchItem {
            bid: format!("b{i}"),
            operation: BatchOperation::Create,
            entity: "Customer".to_owned(),
            body: json!({"DisplayName": format!("Too Many {i}")}),
        })
        .collect();
    assert!(qbo.batch(&too_many, None).await.is_err());
}

#[tokio::test]
async fn qbo_cdc_saturation_narrows_until_everything_is_seen() {
    let w = world(1100).await;
    let qbo = w.qbo();
    let now = w.sandbox.now();
    let since = now - chrono::Duration::days(3);
    let (_, total) = qbo.cdc(&["Customer", "Item"], since).await.expect("cdc");
    assert_eq!(total, 1000, "one CDC answer is capped at 1,000 objects");

    let changes = qbo
        .changes_since(&["Customer", "Item"], since, now)
        .await
        .expect("changes");
    assert!(
        changes.cdc_calls > 2,
        "saturated answers need more calls: {}",
        changes.cdc_calls
    );
    for entity in ["Customer", "Item"] {
        let expected: std::collections::BTreeSet<String> = w
            .qbo_rows(entity)
            .await
            .iter()
            .filter_map(|r| r["Id"].as_str().map(str::to_owned))
            .collect();
        let got: std::collections::BTreeSet<String> = changes.by_entity[entity]
            .iter()
            .filter_map(|r| r["Id"].as_str().map(str::to_owned))
            .collect();
        assert!(expected.len() > 1000);
        assert_eq!(got, expected, "{entity}: every changed object exactly once");
        assert_eq!(changes.by_entity[entity].len(), got.len());
    }

    // Past CDC's 30-day look-back the client falls back to queries; query paging passes 1,000.
    let old = qbo
        .changes_since(&["Customer"], now - chrono::Duration::days(45), now)
        .await
        .expect("fallback");
    assert!(old.used_query_fallback);
    assert!(old.by_entity["Customer"].len() > 1000);
}

#[tokio::test]
async fn zoho_metadata_paging_past_two_thousand_and_if_modified_since() {
    let w = world(2050).await;
    let zoho = w.zoho();
    let modules = zoho.modules().await.expect("modules");
    assert!(
        modules
            .iter()
            .any(|m| m.api_name == "Products" && m.api_supported)
    );
    let fields = zoho.fields("Contacts").await.expect("fields");
    let last_name = fields
        .iter()
        .find(|f| f.api_name == "Last_Name")
        .expect("Last_Name");
    assert!(last_name.system_mandatory);
    assert!(fields.iter().any(|f| f.custom_field));

    let records = zoho
        .changed_since("Leads", &["Last_Name", "Modified_Time"], None)
        .await
        .expect("all leads");
    assert_eq!(records.len(), 2050);
    let ids: std::collections::HashSet<&str> =
        records.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), 2050, "no record twice");
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = records
        .iter()
        .filter_map(|r| chrono::DateTime::parse_from_rfc3339(r["Modified_Time"].as_str()?).ok())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest change first"
    );

    // Nothing modified after the newest record: 304, read as an empty page.
    let newest = times.last().expect("a time").with_timezone(&chrono::Utc);
    let page = zoho
        .list_page("Leads", &["Last_Name"], Some(newest), &PageCursor::Page(1))
        .await
        .expect("304 page");
    assert!(page.records.is_empty());
    assert_eq!(page.next, None);
    let recent = zoho
        .changed_since(
            "Leads",
            &["Last_Name"],
            Some(newest - chrono::Duration::minutes(10)),
        )
        .await
        .expect("recent");
    assert!(!recent.is_empty() && recent.len() < 2050);

    assert!(
        zoho.list_page("Leads", &[], None, &PageCursor::Page(1))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn zoho_get_writes_with_per_record_results_and_deleted_records() {
    let w = world(5).await;
    let zoho = w.zoho();
    let contacts = zoho
        .changed_since("Contacts", &["Last_Name", "Email"], None)
        .await
        .expect("contacts");
    let id = contacts[0]["id"].as_str().expect("id");
    let one = zoho.get("Contacts", id).await.expect("get");
    assert_eq!(one["id"], contacts[0]["id"]);
    let missing = zoho
        .get("Contacts", "4150868000999999999")
        .await
        .expect_err("missing");
    assert!(
        matches!(missing, ConnectorError::NotFound { .. }),
        "{missing:?}"
    );

    // 150 records: two calls of ≤100; one bad record gets its own error, in place.
    let mut batch: Vec<Value> = (0..150)
        .map(
            |i| json!({"Last_Name": format!("Bulk {i}"), "Email": format!("bulk{i}@example.test")}),
        )
        .collect();
    batch[120] = json!({"First_Name": "No last name"});
    let results = zoho.insert("Contacts", &batch).await.expect("insert");
    assert_eq!(results.len(), 150);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 149);
    match &results[120] {
        Err(ConnectorError::Validation { field, .. }) => {
            assert_eq!(field.as_deref(), Some("Last_Name"));
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    let written = results[0].as_ref().expect("first written");
    assert_eq!(written.action.as_deref(), Some("insert"));

    let updates = vec![
        json!({"id": written.id, "Last_Name": "Renamed"}),
        json!({"id": "4150868000999999999", "Last_Name": "Ghost"}),
    ];
    let updated = zoho.update("Contacts", &updates).await.expect("update");
    assert!(updated[0].is_ok());
    assert!(updated[1].is_err());
    assert_eq!(
        zoho.get("Contacts", &written.id).await.expect("get")["Last_Name"],
        "Renamed"
    );

    let upserted = zoho
        .upsert(
            "Contacts",
            &[
                json!({"Last_Name": "Upserted", "Email": "bulk1@example.test"}),
                json!({"Last_Name": "Fresh", "Email": "fresh@example.test"}),
            ],
            &["Email"],
        )
        .await
        .expect("upsert");
    assert_eq!(
        upserted[0].as_ref().expect("upsert 0").action.as_deref(),
        Some("update")
    );
    assert_eq!(
        upserted[1].as_ref().expect("upsert 1").action.as_deref(),
        Some("insert")
    );

    let duplicate = zoho
        .insert(
            "Contacts",
            &[json!({"Last_Name": "Twin", "Email": "bulk2@example.test"})],
        )
        .await
        .expect("insert call");
    match &duplicate[0] {
        Err(ConnectorError::Duplicate { existing_id, .. }) => assert_eq!(
            existing_id.as_deref(),
            Some(results[2].as_ref().expect("bulk 2").id.as_str())
        ),
        other => panic!("expected Duplicate, got {other:?}"),
    }

    let base = w.sandbox.urls().zoho_api;
    w.control(
        &base,
        reqwest::Method::DELETE,
        &format!("zoho/Contacts/{}", written.id),
        None,
    )
    .await;
    let deleted = zoho.deleted("Contacts").await.expect("deleted");
    assert!(deleted.iter().any(|d| d.id == written.id));
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let w = world(5).await;
    let qbo = w.qbo();
    // QBO's 429 has no Retry-After: the configured pause (300 ms here, 60 s in production).
    w.fault("qbo_api", "rate_limit", 1, None).await;
    let started = Instant::now();
    qbo.company_info().await.expect("retried after the 429");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited {:?}",
        started.elapsed()
    );

    w.fault("qbo_api", "server_error", 2, None).await;
    qbo.company_info().await.expect("retried after two 500s");

    w.fault("qbo_api", "server_error", 10, None).await;
    let error = qbo.company_info().await.expect_err("gives up");
    assert!(
        matches!(error, ConnectorError::Transient { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    w.control(
        &w.sandbox.urls().qbo_api,
        reqwest::Method::DELETE,
        "faults",
        None,
    )
    .await;

    let zoho = w.zoho();
    w.fault("zoho_api", "rate_limit", 2, None).await;
    zoho.modules().await.expect("retried after Zoho 429s");
}

#[tokio::test]
async fn every_call_has_a_timeout() {
    let w = world_with(
        2,
        ResilienceConfig {
            timeout: Duration::from_millis(300),
            max_retries: 1,
            ..fast_resilience()
        },
    )
    .await;
    let qbo = w.qbo();
    w.fault("qbo_api", "timeout", 2, Some(3_000)).await;
    let started = Instant::now();
    let error = qbo.company_info().await.expect_err("times out");
    assert!(
        matches!(error, ConnectorError::Transient { .. }),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(2_500));
}

#[tokio::test]
async fn retry_after_header_is_honoured() {
    // The sandbox's 429s carry no Retry-After, so a one-off server sends one.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                axum::response::Response::builder()
                    .status(429)
                    .header("Retry-After", "1")
                    .body(axum::body::Body::from("{}"))
                    .expect("response")
            } else {
                axum::response::Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(
                        r#"{"CompanyInfo": {"CompanyName": "Header Co"}}"#,
                    ))
                    .expect("response")
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let connectors = Connectors::new(ConnectorConfig {
        endpoints: Endpoints::sandbox(&url, &url, &url, &url),
        resilience: fast_resilience(),
    })
    .expect("connectors");
    let qbo = connectors.qbo("tenant-1", "123", Arc::new(StaticToken("t".to_owned())));
    let started = Instant::now();
    let company = qbo.company_info().await.expect("second attempt succeeds");
    assert_eq!(company.company_name, "Header Co");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

/// A token source that hands out a refused token first and counts refreshes.
struct Refreshing {
    first: String,
    after_refresh: String,
    refreshes: AtomicUsize,
    refused: AtomicUsize,
}

impl TokenSource for Refreshing {
    fn access_token<'a>(
        &'a self,
        refused: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>> {
        Box::pin(async move {
            if refused.is_some() {
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                return Ok(self.after_refresh.clone());
            }
            if self.refreshes.load(Ordering::SeqCst) == 0 {
                Ok(self.first.clone())
            } else {
                Ok(self.after_refresh.clone())
            }
        })
    }

    fn refused_after_refresh(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {
            self.refused.fetch_add(1, Ordering::SeqCst);
        })
    }
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_then_reconnect_is_needed() {
    let w = world(2).await;
    let good = Arc::new(Refreshing {
        first: "expired-token".to_owned(),
        after_refresh: w.sandbox.mint_zoho_access_token(),
        refreshes: AtomicUsize::new(0),
        refused: AtomicUsize::new(0),
    });
    let zoho = w
        .connectors
        .zoho("tenant-1", &w.sandbox.urls().zoho_api, good.clone());
    zoho.modules().await.expect("works after one refresh");
    zoho.modules().await.expect("and keeps working");
    assert_eq!(good.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(good.refused.load(Ordering::SeqCst), 0);

    let dead = Arc::new(Refreshing {
        first: "revoked".to_owned(),
        after_refresh: "still-revoked".to_owned(),
        refreshes: AtomicUsize::new(0),
        refused: AtomicUsize::new(0),
    });
    let qbo = w.connectors.qbo("tenant-1", &w.realm, dead.clone());
    let error = qbo.company_info().await.expect_err("dead grant");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    assert_eq!(dead.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(dead.refused.load(Ordering::SeqCst), 1);
    assert!(error.plain_message().contains("Reconnect"));
}

#[tokio::test]
async fn the_connection_check_names_what_a_free_zoho_edition_lacks() {
    let config = SandboxConfig {
        records_per_module: 2,
        zoho_edition: sandbox::ZohoEdition::Free,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.expect("sandbox");
    let urls = sandbox.urls();
    let connectors = crate::support::sandbox_connectors(&sandbox, fast_resilience());
    let zoho = connectors.zoho(
        "tenant-1",
        &urls.zoho_api,
        Arc::new(StaticToken(sandbox.mint_zoho_access_token())),
    );
    let check = engine::connectors::check::check_zoho(&zoho)
        .await
        .expect("check");
    assert!(!check.has_products);
    assert!(check.missing_modules.contains(&"Products".to_owned()));
    let products = &check.lines[0];
    assert!(!products.ok);
    assert_eq!(
        products.fix.as_deref(),
        Some(domain::log::Notice::ZohoWithoutProducts.message())
    );
    assert!(
        check.lines[2].ok && check.lines[3].ok,
        "scopes are fine: {:?}",
        check.lines
    );
}

#[tokio::test]
async fn the_concurrency_cap_keeps_calls_under_the_realm_limit() {
    // The simulated realm answers 429 to a third simultaneous call; our cap is two, and with
    // no retries allowed every call must still succeed.
    let config = SandboxConfig {
        records_per_module: 2,
        qbo_max_concurrent: 2,
        ..SandboxConfig::default()
    };
    let realm = config.realm_id.clone();
    let sandbox = Sandbox::start(config).await.expect("sandbox");
    let urls = sandbox.urls();
    let connectors = crate::support::sandbox_connectors(
        &sandbox,
        ResilienceConfig {
            max_retries: 0,
            qbo_max_concurrent: 2,
            ..fast_resilience()
        },
    );
    let http = reqwest::Client::new();
    http.post(format!("{}/_sandbox/faults", urls.qbo_api))
        .json(&json!({"service": "qbo_api", "kind": "slow", "count": 6, "delay_ms": 200}))
        .send()
        .await
        .expect("fault");
    let token = Arc::new(StaticToken(sandbox.mint_qbo_access_token(&realm)));
    let started = Instant::now();
    let mut calls = Vec::new();
    for _ in 0..6 {
        let qbo = connectors.qbo("tenant-1", &realm, token.clone());
        calls.push(tokio::spawn(async move { qbo.company_info().await }));
    }
    for call in calls {
        call.await.expect("task").expect("no 429: the cap held");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "three waves of two: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn qbo_calls_are_paced_within_the_realm_limits_instead_of_meeting_a_429() {
    // The sandbox's minute lasts 300 ms; our budgets are exactly its limits, and no retry
    // may hide a 429: every call has to be sent when QBO would accept it.
    let w = world_of(
        SandboxConfig {
            records_per_module: 2,
            qbo_requests_per_minute: 6,
            qbo_batches_per_minute: 2,
            time_scale: 200.0,
            ..SandboxConfig::default()
        },
        ResilienceConfig {
            max_retries: 0,
            qbo_requests_per_minute: std::num::NonZeroU32::new(6),
            qbo_batches_per_minute: std::num::NonZeroU32::new(2),
            ..fast_resilience()
        }
        .time_scaled(200.0),
    )
    .await;
    let qbo = w.qbo();
    for round in 0..4 {
        qbo.batch(
            &[BatchItem {
                bid: "c".to_owned(),
                operation: BatchOperation::Create,
                entity: "Customer".to_owned(),
                body: json!({"DisplayName": format!("Paced {round}")}),
            }],
            None,
        )
        .await
        .expect("a paced batch is accepted");
        for _ in 0..3 {
            qbo.company_info().await.expect("a paced call is accepted");
        }
    }
    let traffic = w.sandbox.qbo_traffic();
    assert_eq!(traffic.throttled, 0, "{traffic:?}");
    assert_eq!((traffic.requests, traffic.batches), (16, 4));
}
