//! Every recorded response our clients read (../shared/reference/fixtures, copied to
//! sandbox/tests/fixtures) goes through the real clients: a one-off server answers with the
//! fixture, and the fields we use must come out (unknown fields are ignored).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::connectors::oauth::OAuthApp;
use engine::connectors::qbo::{BatchItem, BatchOperation};
use engine::connectors::zoho::PageCursor;
use engine::connectors::{
    ConnectorConfig, ConnectorError, Connectors, Endpoints, IntuitOAuth, QboClient,
    ResilienceConfig, StaticToken, ZohoClient,
};
use serde_json::{Value, json};

#[derive(Default)]
struct Canned {
    status: u16,
    body: String,
    /// Method, path and query of the last request.
    last: Option<String>,
}

struct Replay {
    canned: Arc<Mutex<Canned>>,
    connectors: Connectors,
    url: String,
}

fn fixture(path: &str) -> String {
    let file = format!(
        "{}/../sandbox/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).expect("fixture JSON")
}

impl Replay {
    async fn start() -> Replay {
        let canned = Arc::new(Mutex::new(Canned::default()));
        let state = canned.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let state = state.clone();
            async move {
                let mut canned = state.lock().expect("lock");
                canned.last = Some(format!(
                    "{} {}",
                    request.method(),
                    request.uri().path_and_query().map_or("", |p| p.as_str())
                ));
                axum::response::Response::builder()
                    .status(canned.status)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(canned.body.clone()))
                    .expect("response")
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
            resilience: ResilienceConfig {
                max_retries: 0,
                timeout: Duration::from_secs(5),
                qbo_requests_per_minute: None,
                qbo_batches_per_minute: None,
                zoho_requests_per_second: None,
                ..ResilienceConfig::default()
            },
        })
        .expect("connectors");
        Replay {
            canned,
            connectors,
            url,
        }
    }

    fn answer(&self, status: u16, path: &str) {
        let mut canned = self.canned.lock().expect("lock");
        canned.status = status;
        canned.body = fixture(path);
    }

    fn last_request(&self) -> String {
        self.canned
            .lock()
            .expect("lock")
            .last
            .clone()
            .unwrap_or_default()
    }

    fn qbo(&self) -> QboClient {
        self.connectors.qbo(
            "tenant",
            "9341453050298464",
            Arc::new(StaticToken("t".to_owned())),
        )
    }

    fn zoho(&self) -> ZohoClient {
        self.connectors
            .zoho("tenant", &self.url, Arc::new(StaticToken("t".to_owned())))
    }
}

fn entity_of(file: &str) -> &'static str {
    for (needle, entity) in [
        ("customer", "Customer"),
        ("vendor", "Vendor"),
        ("item", "Item"),
        ("account", "Account"),
        ("estimate", "Estimate"),
        ("invoice", "Invoice"),
        ("payment", "Payment"),
        ("purchaseorder", "PurchaseOrder"),
        ("salesreceipt", "SalesReceipt"),
    ] {
        if file.contains(needle) {
            return entity;
        }
    }
    panic!("no entity in {file}")
}

#[tokio::test]
async fn qbo_entity_answers_keep_id_and_sync_token() {
    let r = Replay::start().await;
    let qbo = r.qbo();
    let reads = [
        "nango__read_account.json",
        "nango__read_customer.json",
        "nango__read_estimate.json",
        "nango__read_invoice.json",
        "nango__read_item_service.json",
        "nango__read_payment.json",
        "nango__read_purchaseorder.json",
        "nango__read_vendor.json",
        "qbo_api__read_customer.json",
        "qbo_api__update_customer_before_read.json",
        "qbo_api__void_invoice_before_read.json",
    ];
    for file in reads {
        let entity = entity_of(file);
        r.answer(200, &format!("qbo/{file}"));
        let object = qbo
            .read(entity, "1")
            .await
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let original = &fixture_json(&format!("qbo/{file}"))[entity];
        assert_eq!(&object, original, "{file}: nothing lost");
        assert!(
            object["Id"].is_string() && object["SyncToken"].is_string(),
            "{file}"
        );
        assert!(
            r.last_request()
                .contains(&format!("/{}/1", entity.to_lowercase()))
        );
    }
    let creates = [
        "nango__create_customer.json",
        "nango__create_estimate.json",
        "nango__create_invoice.json",
        "nango__create_item_service.json",
        "nango__create_payment.json",
        "nango__create_purchaseorder.json",
        "nango__create_vendor.json",
        "qbo_api__create_customer_response.json",
        "qbo_api__create_invoice_response.json",
    ];
    for file in creates {
        let entity = entity_of(file);
        r.answer(200, &format!("qbo/{file}"));
        let object = qbo
            .create(entity, &json!({}), "req-1")
            .await
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert!(object["Id"].is_string(), "{file}");
        assert!(
            r.last_request().contains("requestid=req-1"),
            "{}",
            r.last_request()
        );
    }
    let updates = [
        "nango__update_customer.json",
        "nango__update_invoice.json",
        "nango__update_item.json",
        "qbo_api__update_customer_full_response.json",
        "qbo_api__update_salesreceipt_partial_body_response.json",
        "qbo_api__deactivate_account_response.json",
    ];
    for file in updates {
        let entity = entity_of(file);
        r.answer(200, &format!("qbo/{file}"));
        let object = qbo
            .sparse_update(entity, "1", "0", &serde_json::Map::new(), None)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert!(object["SyncToken"].is_string(), "{file}");
    }
    r.answer(200, "qbo/qbo_api__delete_invoice_response.json");
    let deleted = qbo.delete("Invoice", "1", "0").await.expect("delete");
    assert_eq!(deleted["status"], "Deleted");
    assert!(r.last_request().contains("operation=delete"));
    r.answer(200, "qbo/qbo_api__void_invoice_response.json");
    let voided = qbo.void("Invoice", "1", "0").await.expect("void");
    assert!(voided["Id"].is_string());
    assert!(r.last_request().contains("operation=void"));
    // Payments are voided by a sparse update with include=void, not by operation=void.
    r.answer(200, "qbo/nango__read_payment.json");
    qbo.void("Payment", "1", "0").await.expect("void payment");
    let request = r.last_request();
    assert!(
        request.contains("operation=update")
            && request.contains("include=void")
            && !request.contains("operation=void"),
        "{request}"
    );
}

#[tokio::test]
async fn qbo_query_cdc_and_batch_answers() {
    let r = Replay::start().await;
    let qbo = r.qbo();
    for (file, rows) in [
        ("nango__query_accounts_via_post.json", 10),
        ("nango__query_customers_via_post.json", 33),
        ("nango__query_entities.json", 5),
        ("nango__query_items_mixed_types.json", 20),
        ("qbo_api__query_customers_maxresults1000.json", 41),
        ("qbo_api__query_vendors_active_in_true_false.json", 27),
        ("qbo_api__query_vendors_last_page.json", 1),
        ("qbo_api__query_vendors_page1_of_6.json", 5),
        ("qbo_api__query_empty_page.json", 0),
    ] {
        r.answer(200, &format!("qbo/{file}"));
        let page = qbo
            .query_page("SELECT * FROM X", 1, 1000)
            .await
            .expect("page");
        assert_eq!(page.len(), rows, "{file}");
        assert!(page.iter().all(|row| row["Id"].is_string()), "{file}");
    }
    assert!(
        r.last_request()
            .contains("STARTPOSITION%201%20MAXRESULTS%201000")
            || r.last_request().contains("STARTPOSITION+1+MAXRESULTS+1000"),
        "{}",
        r.last_request()
    );

    r.answer(200, "qbo/qbo_api__cdc_response_estimates.json");
    let (changes, total) = qbo
        .cdc(&["Estimate"], chrono::Utc::now())
        .await
        .expect("cdc");
    let expected =
        fixture_json("qbo/qbo_api__cdc_response_estimates.json")["CDCResponse"][0]["QueryResponse"]
            [0]["Estimate"]
            .as_array()
            .map_or(0, Vec::len);
    assert_eq!(total, expected);
    assert_eq!(changes["Estimate"].len(), expected);

    r.answer(200, "qbo/qbo_api__batch_response.json");
    let request = fixture_json("qbo/qbo_api__batch_request.json");
    let items: Vec<BatchItem> = request["BatchItemRequest"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| {
            let operation = match item["operation"].as_str()? {
                "create" => BatchOperation::Create,
                "update" => BatchOperation::Update,
                "delete" => BatchOperation::Delete,
                _ => return None,
            };
            let (entity, body) = item
                .as_object()?
                .iter()
                .find(|(k, _)| k.chars().next().is_some_and(char::is_uppercase))?;
            Some(BatchItem {
                bid: item["bId"].as_str()?.to_owned(),
                operation,
                entity: entity.clone(),
                body: body.clone(),
            })
        })
        .collect();
    assert_eq!(items.len(), 3);
    let outcomes = qbo.batch(&items, None).await.expect("batch");
    assert_eq!(
        outcomes[0].result.as_ref().expect("created")["DisplayName"],
        "Boraski Family Store"
    );
    assert!(
        matches!(outcomes[1].result, Err(ConnectorError::NotFound { .. })),
        "{:?}",
        outcomes[1].result
    );
    assert!(
        matches!(outcomes[2].result, Err(ConnectorError::StaleObject { .. })),
        "{:?}",
        outcomes[2].result
    );
}

#[tokio::test]
async fn qbo_faults_and_intuit_token_answers() {
    let r = Replay::start().await;
    let qbo = r.qbo();
    r.answer(400, "qbo/qbo_api__fault_6240_duplicate_name.json");
    let error = qbo
        .create("Customer", &json!({}), "r")
        .await
        .expect_err("duplicate");
    assert!(
        matches!(error, ConnectorError::Duplicate { .. }),
        "{error:?}"
    );
    assert!(error.raw_message().contains("6240"));
    r.answer(400, "qbo/qbo_api__fault_2030_invalid_id.json");
    assert!(matches!(
        qbo.read("Customer", "x").await,
        Err(ConnectorError::Validation { .. })
    ));
    r.answer(400, "qbo/qbo_api__fault_unrecognized_property.json");
    assert!(matches!(
        qbo.create("Customer", &json!({}), "r").await,
        Err(ConnectorError::Validation { .. })
    ));
    r.answer(400, "qbo/qbo_api__fault_4001_invalid_query.json");
    assert!(
        qbo.query_page("SELECT * FROM Custmoer", 1, 10)
            .await
            .is_err()
    );
    r.answer(401, "qbo/qbo_api__fault_401_token_expired.json");
    let error = qbo.company_info().await.expect_err("401 twice");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    assert!(
        !error.raw_message().contains("eyJ"),
        "no token in the log text"
    );

    let intuit = IntuitOAuth::new(
        &r.connectors,
        OAuthApp {
            client_id: "id".to_owned(),
            client_secret: "secret".to_owned(),
            redirect_uri: "http://localhost/cb".to_owned(),
        },
    );
    r.answer(200, "qbo/intuit_oauth__token_response.json");
    let tokens = intuit.refresh("RT1-old").await.expect("tokens");
    assert_eq!(tokens.expires_in_secs, 3600);
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.refresh_expires_in_secs.is_some());
    r.answer(200, "qbo/intuit_oauth__token_response_hard_expiry.json");
    let tokens = intuit.exchange_code("code", None).await.expect("tokens");
    assert!(tokens.refresh_hard_expires_in_secs.is_some());
    r.answer(400, "qbo/intuit_oauth__error_invalid_grant.json");
    let error = intuit.refresh("RT1-dead").await.expect_err("invalid_grant");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn zoho_metadata_records_and_deleted_answers() {
    let r = Replay::start().await;
    let zoho = r.zoho();
    r.answer(200, "zoho/oas_v8__modules_trimmed.json");
    let modules = zoho.modules().await.expect("modules");
    assert!(!modules.is_empty());
    assert!(modules.iter().all(|m| !m.api_name.is_empty()));
    r.answer(200, "zoho/oas_v8__fields_leads_trimmed.json");
    let fields = zoho.fields("Leads").await.expect("fields");
    let original = fixture_json("zoho/oas_v8__fields_leads_trimmed.json");
    assert_eq!(
        fields.len(),
        original["fields"].as_array().map_or(0, Vec::len)
    );
    assert!(
        fields
            .iter()
            .all(|f| !f.api_name.is_empty() && !f.data_type.is_empty())
    );
    assert!(r.last_request().contains("module=Leads"));

    r.answer(200, "zoho/oas_v8__get_records_page_token.json");
    let page = zoho
        .list_page("Leads", &["Last_Name"], None, &PageCursor::Page(1))
        .await
        .expect("page");
    assert_eq!(page.records.len(), 1);
    assert!(matches!(page.next, Some(PageCursor::Token(_))));
    assert!(r.last_request().contains("sort_by=Modified_Time"));
    for file in [
        "nango_v2__list_accounts.json",
        "nango_v2__list_contacts.json",
        "nango_v2__list_products.json",
    ] {
        r.answer(200, &format!("zoho/{file}"));
        let page = zoho
            .list_page("Accounts", &["id"], None, &PageCursor::Page(1))
            .await
            .expect("page");
        let expected = fixture_json(&format!("zoho/{file}"))["data"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(page.records.len(), expected, "{file}");
        assert!(
            page.records.iter().all(|r| r["id"].is_string()),
            "{file}: ids stay strings"
        );
    }
    for file in [
        "nango_v2__get_account.json",
        "nango_v2__get_contact.json",
        "nango_v2__get_product.json",
    ] {
        r.answer(200, &format!("zoho/{file}"));
        let record = zoho.get("Accounts", "1").await.expect("record");
        assert_eq!(
            record,
            fixture_json(&format!("zoho/{file}"))["data"][0],
            "{file}"
        );
    }
    r.answer(200, "zoho/oas_v8__get_deleted_records.json");
    let deleted = zoho.deleted("Leads").await.expect("deleted");
    assert_eq!(deleted.len(), 4);
    assert!(deleted.iter().all(|d| !d.id.is_empty()));
}

#[tokio::test]
async fn zoho_write_answers_give_one_result_per_record() {
    let r = Replay::start().await;
    let zoho = r.zoho();
    let record = json!({"Last_Name": "x"});
    for (status, file, oks) in [
        (201, "nango_v2__create_account_201.json", vec![true]),
        (201, "nango_v2__create_product_201.json", vec![true]),
        (201, "oas_v8__create_records_201.json", vec![true]),
        (
            207,
            "oas_v8__create_records_207_mixed.json",
            vec![true, false],
        ),
        (
            400,
            "oas_v8__create_records_400_duplicate_data.json",
            vec![false],
        ),
        (
            400,
            "oas_v8__create_records_400_mandatory_not_found.json",
            vec![false],
        ),
    ] {
        r.answer(status, &format!("zoho/{file}"));
        let records = vec![record.clone(); oks.len()];
        let results = zoho
            .insert("Leads", &records)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let got: Vec<bool> = results.iter().map(Result::is_ok).collect();
        assert_eq!(got, oks, "{file}");
        for result in results.iter().flatten() {
            assert!(!result.id.is_empty());
        }
    }
    r.answer(400, "zoho/oas_v8__create_records_400_duplicate_data.json");
    let results = zoho
        .insert("Leads", std::slice::from_ref(&record))
        .await
        .expect("answer");
    assert!(
        matches!(
            &results[0],
            Err(ConnectorError::Duplicate {
                existing_id: Some(_),
                ..
            })
        ),
        "{:?}",
        results[0]
    );
    r.answer(
        400,
        "zoho/oas_v8__create_records_400_mandatory_not_found.json",
    );
    let results = zoho
        .insert("Leads", std::slice::from_ref(&record))
        .await
        .expect("answer");
    assert!(
        matches!(
            &results[0],
            Err(ConnectorError::Validation { field: Some(_), .. })
        ),
        "{:?}",
        results[0]
    );

    r.answer(200, "zoho/nango_v2__update_product.json");
    assert!(
        zoho.update("Products", std::slice::from_ref(&record))
            .await
            .expect("update")[0]
            .is_ok()
    );
    r.answer(412, "zoho/oas_v8__update_records_412_already_modified.json");
    let results = zoho
        .update("Leads", std::slice::from_ref(&record))
        .await
        .expect("answer");
    assert!(
        matches!(&results[0], Err(ConnectorError::StaleObject { .. })),
        "{:?}",
        results[0]
    );

    r.answer(200, "zoho/oas_v8__upsert_records_200.json");
    let results = zoho
        .upsert("Leads", &[record.clone(), record.clone()], &["Email"])
        .await
        .expect("upsert");
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|w| w.action.is_some()))
    );
    r.answer(207, "zoho/oas_v8__upsert_records_207_mixed.json");
    let results = zoho
        .upsert("Leads", &[record.clone(), record.clone()], &["Email"])
        .await
        .expect("upsert");
    assert!(results[0].is_ok() && results[1].is_err());
    r.answer(200, "zoho/nango_v2__upsert_leads.json");
    assert!(
        zoho.upsert("Leads", std::slice::from_ref(&record), &[])
            .await
            .expect("upsert")[0]
            .is_ok()
    );

    r.answer(207, "zoho/oas_v8__delete_records_207_mixed.json");
    let results = zoho
        .delete("Leads", &["1", "2", "3"])
        .await
        .expect("delete");
    assert_eq!(
        results.iter().map(Result::is_ok).collect::<Vec<_>>(),
        vec![true, false, true]
    );
    r.answer(200, "zoho/nango_v2__delete_product.json");
    assert!(zoho.delete("Products", &["1"]).await.expect("delete")[0].is_ok());
}

#[tokio::test]
async fn zoho_error_answers() {
    let r = Replay::start().await;
    let zoho = r.zoho();
    r.answer(401, "zoho/oas_v8__error_invalid_token_401.json");
    assert!(matches!(
        zoho.modules().await,
        Err(ConnectorError::NeedsReconnect { .. })
    ));
    r.answer(401, "zoho/oas_v8__error_oauth_scope_mismatch.json");
    assert!(matches!(
        zoho.modules().await,
        Err(ConnectorError::NeedsReconnect { .. })
    ));
    r.answer(429, "zoho/oas_v8__error_rate_limit_429.json");
    assert!(matches!(
        zoho.modules().await,
        Err(ConnectorError::RateLimited { .. })
    ));
    for file in [
        "oas_v8__error_discrete_pagination_limit.json",
        "oas_v8__error_limit_exceeded_fields.json",
        "oas_v8__error_pagination_limit_page_token.json",
        "oas_v8__error_required_param_missing_fields.json",
    ] {
        r.answer(400, &format!("zoho/{file}"));
        let error = zoho
            .list_page("Leads", &["Last_Name"], None, &PageCursor::Page(11))
            .await
            .expect_err(file);
        assert!(
            matches!(error, ConnectorError::Validation { .. }),
            "{file}: {error:?}"
        );
        assert!(error.remote().code.is_some(), "{file}");
        assert!(!error.plain_message().is_empty());
    }
}
