//! QuickBooks Online behaviour over real HTTP: CRUD and SyncToken, name-list deactivation, query
//! edges, idempotency, CDC, batch, throttles and the auth envelopes.

use crate::common;

use chrono::Duration;
use common::Harness;
use serde_json::{Value, json};

fn first_id(body: &Value, entity: &str) -> String {
    body["QueryResponse"][entity][0]["Id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

#[tokio::test]
async fn create_read_sparse_and_full_update_with_sync_token() {
    let h = Harness::start(3).await;
    let (status, created) = h.qbo_post("customer", &json!({"DisplayName": "Doe5, Jane", "Notes": "first", "PrimaryPhone": {"FreeFormNumber": "555"}})).await;
    assert_eq!(status, 200, "{created}");
    let customer = &created["Customer"];
    assert_eq!(customer["SyncToken"], "0");
    assert_eq!(customer["FullyQualifiedName"], "Doe5, Jane");
    assert!(
        created["time"]
            .as_str()
            .is_some_and(|t| t.ends_with("-07:00"))
    );
    let id = customer["Id"].as_str().unwrap().to_owned();

    let (status, read) = h.qbo_get(&format!("customer/{id}?minorversion=75")).await;
    assert_eq!(status, 200);
    assert_eq!(read["Customer"]["Notes"], "first");

    let (status, sparse) = h
        .qbo_post(
            "customer",
            &json!({"Id": id, "SyncToken": "0", "sparse": true, "Notes": "second"}),
        )
        .await;
    assert_eq!(status, 200, "{sparse}");
    assert_eq!(sparse["Customer"]["SyncToken"], "1");
    assert_eq!(
        sparse["Customer"]["PrimaryPhone"]["FreeFormNumber"], "555",
        "sparse keeps untouched fields"
    );

    let (status, stale) = h
        .qbo_post(
            "customer",
            &json!({"Id": id, "SyncToken": "0", "sparse": true, "Notes": "third"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(stale["Fault"]["Error"][0]["code"], "5010");
    assert_eq!(stale["Fault"]["type"], "ValidationFault");

    let (status, full) = h
        .qbo_post(
            "customer",
            &json!({"Id": id, "SyncToken": "1", "DisplayName": "Doe5, Jane"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(full["Customer"]["SyncToken"], "2");
    assert!(
        full["Customer"].get("Notes").is_none(),
        "full update clears omitted fields"
    );
    assert!(full["Customer"].get("PrimaryPhone").is_none());
}

#[tokio::test]
async fn concurrent_edit_from_the_control_api_makes_the_token_stale() {
    let h = Harness::start(3).await;
    let (_, body) = h.qbo_query("select * from Customer maxresults 1").await;
    let id = first_id(&body, "Customer");
    let touched: Value = h
        .http
        .post(format!(
            "{}/_sandbox/qbo/{}/Customer/{id}/touch",
            h.sandbox.urls().qbo_api,
            h.realm
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(touched["SyncToken"], "1");
    let (status, fault) = h
        .qbo_post(
            "customer",
            &json!({"Id": id, "SyncToken": "0", "sparse": true, "Notes": "x"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["code"], "5010");
}

#[tokio::test]
async fn display_names_are_unique_across_customers_and_vendors() {
    let h = Harness::start(0).await;
    assert_eq!(
        h.qbo_post("vendor", &json!({"DisplayName": "Boraski Family Store"}))
            .await
            .0,
        200
    );
    let (status, fault) = h
        .qbo_post("customer", &json!({"DisplayName": "boraski family store"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["code"], "6240");
    let (status, fault) = h.qbo_post("customer", &json!({"Notes": "no name"})).await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["code"], "2020");
}

#[tokio::test]
async fn name_list_delete_is_deactivation_and_hidden_from_queries() {
    let h = Harness::start(0).await;
    let (_, created) = h
        .qbo_post("customer", &json!({"DisplayName": "Gone Soon"}))
        .await;
    let id = created["Customer"]["Id"].as_str().unwrap().to_owned();
    let (status, refused) = h
        .qbo_post(
            "customer?operation=delete",
            &json!({"Id": id, "SyncToken": "0"}),
        )
        .await;
    assert_eq!(
        status, 400,
        "name-list objects cannot be deleted: {refused}"
    );
    let (status, inactive) = h
        .qbo_post(
            "customer",
            &json!({"Id": id, "SyncToken": "0", "sparse": true, "Active": false}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(inactive["Customer"]["DisplayName"], "Gone Soon (deleted)");
    assert_eq!(inactive["Customer"]["Active"], false);
    let (_, visible) = h.qbo_query("select count(*) from Customer").await;
    assert_eq!(visible["QueryResponse"]["totalCount"], 0);
    let (_, all) = h
        .qbo_query("select * from Customer where Active in (true, false)")
        .await;
    assert_eq!(all["QueryResponse"]["Customer"][0]["Id"], id.as_str());
    // The old name is free again.
    assert_eq!(
        h.qbo_post("customer", &json!({"DisplayName": "Gone Soon"}))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn query_paging_filters_and_errors() {
    let h = Harness::start(12).await;
    let (_, count) = h.qbo_query("SELECT COUNT(*) FROM Customer").await;
    assert_eq!(count["QueryResponse"]["totalCount"], 12);
    let (_, page) = h
        .qbo_query("select * from Customer orderby Id startposition 11 maxresults 5")
        .await;
    assert_eq!(page["QueryResponse"]["startPosition"], 11);
    assert_eq!(
        page["QueryResponse"]["maxResults"], 2,
        "maxResults echoes the rows returned"
    );
    let (status, past) = h
        .qbo_query("select * from Customer startposition 13 maxresults 5")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        past["QueryResponse"],
        json!({}),
        "past the end: no entity key"
    );
    let (_, desc) = h
        .qbo_query("select * from Customer orderby DisplayName desc maxresults 1000")
        .await;
    let names: Vec<&str> = desc["QueryResponse"]["Customer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["DisplayName"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
    assert_eq!(names, sorted);
    let (_, liked) = h
        .qbo_query("select * from Customer where DisplayName like '%1'")
        .await;
    assert!(
        liked["QueryResponse"]["Customer"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["DisplayName"].as_str().unwrap().ends_with('1'))
    );
    let (_, items) = h
        .qbo_query("select * from Item where Type in ('Service', 'Inventory')")
        .await;
    assert!(
        items["QueryResponse"]["Item"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["Type"] != "NonInventory")
    );
    let (_, newest) = h.qbo_query("select * from Invoice where MetaData.LastUpdatedTime > '2026-05-05T01:55:00-07:00' and TotalAmt > '0'").await;
    assert!(
        newest["QueryResponse"]["Invoice"]
            .as_array()
            .is_some_and(|rows| !rows.is_empty() && rows.len() < 12)
    );

    for (statement, detail) in [
        (
            "select * from Custmoer",
            "invalid context declaration: Custmoer",
        ),
        (
            "select * from Customer startposition 0",
            "value 0 is too small",
        ),
        ("select * from Customer maxresults 1001", "too large"),
        ("select * from Customer where Id = '1' or Id = '2'", "OR"),
    ] {
        let (status, fault) = h.qbo_query(statement).await;
        assert_eq!(status, 400, "{statement}");
        assert_eq!(fault["Fault"]["Error"][0]["code"], "4001");
        assert!(
            fault["Fault"]["Error"][0]["Detail"]
                .as_str()
                .unwrap()
                .contains(detail),
            "{fault}"
        );
    }
    let response = h
        .http
        .post(h.qbo("query"))
        .bearer_auth(h.qbo_token())
        .header("content-type", "application/text")
        .body("select count(*) from Vendor")
        .send()
        .await
        .unwrap();
    let (status, posted) = common::split(response).await;
    assert_eq!(
        (status, posted["QueryResponse"]["totalCount"].as_i64()),
        (200, Some(12))
    );
}

#[tokio::test]
async fn requestid_makes_create_idempotent() {
    let h = Harness::start(0).await;
    let body = json!({"DisplayName": "Retry Me"});
    let (first_status, first) = h.qbo_post("customer?requestid=abc-123", &body).await;
    let (second_status, second) = h.qbo_post("customer?requestid=abc-123", &body).await;
    assert_eq!((first_status, second_status), (200, 200));
    assert_eq!(first, second);
    let (_, count) = h.qbo_query("select count(*) from Customer").await;
    assert_eq!(count["QueryResponse"]["totalCount"], 1);
}

#[tokio::test]
async fn transactions_delete_and_void() {
    let h = Harness::start(3).await;
    let (_, invoices) = h.qbo_query("select * from Invoice maxresults 2").await;
    let rows = invoices["QueryResponse"]["Invoice"]
        .as_array()
        .unwrap()
        .clone();
    let (status, voided) = h
        .qbo_post(
            "invoice?operation=void",
            &json!({"Id": rows[0]["Id"], "SyncToken": rows[0]["SyncToken"]}),
        )
        .await;
    assert_eq!(status, 200, "{voided}");
    assert_eq!(voided["Invoice"]["TotalAmt"], 0);
    assert_eq!(voided["Invoice"]["Balance"], 0);
    assert_eq!(voided["Invoice"]["PrivateNote"], "Voided");
    let (status, deleted) = h
        .qbo_post(
            "invoice?operation=delete",
            &json!({"Id": rows[1]["Id"], "SyncToken": rows[1]["SyncToken"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        deleted["Invoice"],
        json!({"domain": "QBO", "status": "Deleted", "Id": rows[1]["Id"]})
    );
    let (status, gone) = h
        .qbo_get(&format!("invoice/{}", rows[1]["Id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 400);
    assert_eq!(gone["Fault"]["Error"][0]["code"], "610");
}

#[tokio::test]
async fn references_and_inventory_items_are_validated() {
    let h = Harness::start(1).await;
    let (status, fault) = h.qbo_post("invoice", &json!({"CustomerRef": {"value": "99999"}, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})).await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["code"], "2500");
    let (status, fault) = h.qbo_post("item", &json!({"Name": "Widget", "Type": "Inventory", "TrackQtyOnHand": true, "QtyOnHand": 5, "InvStartDate": "2026-01-01"})).await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["code"], "2020");
    let (status, bad_id) = h.qbo_get("customer/1.5").await;
    assert_eq!(status, 400);
    assert_eq!(bad_id["Fault"]["Error"][0]["code"], "2030");
}

#[tokio::test]
async fn cdc_returns_changes_deleted_stubs_and_enforces_its_limits() {
    let h = Harness::with(|c| c.records_per_module = 1200).await;
    let since = "2026-05-04T00:00:00-07:00";
    let (status, body) = h
        .qbo_get(&format!(
            "cdc?entities=Customer,Estimate&changedSince={since}"
        ))
        .await;
    assert_eq!(status, 200);
    let responses = body["CDCResponse"][0]["QueryResponse"].as_array().unwrap();
    let customers = responses[0]["Customer"].as_array().unwrap().len();
    let estimates = responses[1]["Estimate"].as_array().map_or(0, Vec::len);
    assert_eq!(
        customers + estimates,
        1000,
        "CDC caps the whole answer at 1000 objects"
    );

    h.clock.advance(Duration::hours(1));
    let (_, invoice) = h.qbo_query("select * from Invoice maxresults 1").await;
    let row = &invoice["QueryResponse"]["Invoice"][0];
    h.qbo_post(
        "invoice?operation=delete",
        &json!({"Id": row["Id"], "SyncToken": row["SyncToken"]}),
    )
    .await;
    let since = "2026-05-05T02:30:00-07:00";
    let (_, changes) = h
        .qbo_get(&format!("cdc?entities=Invoice,Vendor&changedSince={since}"))
        .await;
    let answer = &changes["CDCResponse"][0]["QueryResponse"];
    assert_eq!(answer[0]["Invoice"][0]["status"], "Deleted");
    assert_eq!(answer[0]["Invoice"][0]["Id"], row["Id"]);
    assert_eq!(
        answer[1],
        json!({}),
        "no vendor changes: an empty QueryResponse"
    );

    h.clock.advance(Duration::days(31));
    let (status, fault) = h
        .qbo_get("cdc?entities=Invoice&changedSince=2026-05-05T02:30:00-07:00")
        .await;
    assert_eq!(status, 400);
    assert!(
        fault["Fault"]["Error"][0]["Detail"]
            .as_str()
            .unwrap()
            .contains("30 days")
    );
}

#[tokio::test]
async fn batch_reports_per_item_faults_and_cannot_see_its_own_creations() {
    let h = Harness::start(3).await;
    let (_, receipts) = h.qbo_query("select * from Customer maxresults 1").await;
    let customer = &receipts["QueryResponse"]["Customer"][0];
    let request = json!({"BatchItemRequest": [
        {"bId": "bid1", "operation": "create", "Vendor": {"DisplayName": "Boraski Family Store"}},
        {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "99999", "SyncToken": "0"}},
        {"bId": "bid3", "operation": "update", "Customer": {"sparse": true, "Id": customer["Id"], "SyncToken": "7", "Notes": "x"}},
        {"bId": "bid4", "Query": "select * from Customer where Active = true maxresults 2"},
        {"bId": "bid5", "operation": "update", "Vendor": {"sparse": true, "Id": "0", "SyncToken": "0"}}
    ]});
    let (status, body) = h.qbo_post("batch", &request).await;
    assert_eq!(status, 200);
    let items = body["BatchItemResponse"].as_array().unwrap();
    assert_eq!(items[0]["bId"], "bid1");
    assert_eq!(items[0]["Vendor"]["DisplayName"], "Boraski Family Store");
    assert_eq!(items[1]["Fault"]["Error"][0]["code"], "610");
    assert_eq!(items[2]["Fault"]["Error"][0]["code"], "5010");
    assert_eq!(items[3]["QueryResponse"]["maxResults"], 2);
    assert!(items[4].get("Fault").is_some());

    let created = items[0]["Vendor"]["Id"].clone();
    let follow_up = json!({"BatchItemRequest": [
        {"bId": "a", "operation": "create", "Vendor": {"DisplayName": "Fresh Vendor"}},
    ]});
    let (_, fresh) = h.qbo_post("batch", &follow_up).await;
    let fresh_id = fresh["BatchItemResponse"][0]["Vendor"]["Id"].clone();
    assert_ne!(fresh_id, created);

    let too_many: Vec<Value> = (0..31)
        .map(|i| json!({"bId": format!("b{i}"), "Query": "select * from Term"}))
        .collect();
    let (status, fault) = h
        .qbo_post("batch", &json!({"BatchItemRequest": too_many}))
        .await;
    assert_eq!(status, 400);
    assert!(fault["Fault"].is_object());
}

#[tokio::test]
async fn batch_items_do_not_see_earlier_creations_in_the_same_batch() {
    let h = Harness::start(0).await;
    // The id the first item will get is predictable: the next free id.
    let (_, probe) = h.qbo_post("vendor", &json!({"DisplayName": "Probe"})).await;
    let next = probe["Vendor"]["Id"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap()
        + 1;
    let request = json!({"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Vendor": {"DisplayName": "Twin"}},
        {"bId": "2", "operation": "update", "Vendor": {"sparse": true, "Id": next.to_string(), "SyncToken": "0", "CompanyName": "x"}}
    ]});
    let (_, body) = h.qbo_post("batch", &request).await;
    assert_eq!(
        body["BatchItemResponse"][0]["Vendor"]["Id"],
        next.to_string()
    );
    assert_eq!(
        body["BatchItemResponse"][1]["Fault"]["Error"][0]["code"],
        "610"
    );
}

#[tokio::test]
async fn tokens_expire_into_the_lower_case_401_and_realms_are_bound() {
    let h = Harness::start(1).await;
    let token = h.qbo_token();
    let ok = h
        .http
        .get(h.qbo("companyinfo/".to_owned().as_str()).to_owned() + &h.realm)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().contains_key("intuit_tid"));
    let info: Value = ok.json().await.unwrap();
    assert!(info["CompanyInfo"]["CompanyName"].is_string());
    h.clock.advance(Duration::minutes(61));
    let (status, body) = common::split(
        h.http
            .get(h.qbo("preferences"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["fault"]["error"][0]["code"], "3200");
    assert!(
        body["fault"]["error"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("Token expired")
    );
    let (status, _) = common::split(
        h.http
            .get(h.qbo("preferences"))
            .bearer_auth("garbage")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let other_realm = h.sandbox.mint_qbo_access_token("123");
    let (status, _) = common::split(
        h.http
            .get(h.qbo("preferences"))
            .bearer_auth(other_realm)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn preferences_carry_custom_field_definitions() {
    let h = Harness::start(0).await;
    let (status, prefs) = h.qbo_get("preferences").await;
    assert_eq!(status, 200);
    let names = prefs["Preferences"]["SalesFormsPrefs"]["CustomField"].to_string();
    assert!(names.contains("SalesFormsPrefs.SalesCustomName1"));
    assert!(names.contains("Crew #"));
}

#[tokio::test]
async fn throttles_answer_429_with_code_3001() {
    let h = Harness::with(|c| {
        c.records_per_module = 0;
        c.qbo_requests_per_minute = 5;
    })
    .await;
    let token = h.qbo_token();
    for _ in 0..5 {
        assert_eq!(
            h.http
                .get(h.qbo("preferences"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let (status, body) = common::split(
        h.http
            .get(h.qbo("preferences"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["Fault"]["Error"][0]["code"], "3001");
    assert_eq!(body["Fault"]["type"], "SERVICE");
    h.clock.advance(Duration::seconds(61));
    assert_eq!(
        h.http
            .get(h.qbo("preferences"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn the_eleventh_concurrent_request_is_throttled() {
    let h = Harness::with(|c| {
        c.records_per_module = 0;
        c.qbo_max_concurrent = 2;
    })
    .await;
    let control = format!("{}/_sandbox/faults", h.sandbox.urls().qbo_api);
    h.http
        .post(&control)
        .json(&json!({"service": "qbo_api", "kind": "slow", "count": 2, "delay_ms": 400}))
        .send()
        .await
        .unwrap();
    let token = h.qbo_token();
    let slow = |t: String| {
        let (http, url) = (h.http.clone(), h.qbo("preferences"));
        async move {
            http.get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let first = tokio::spawn(slow(token.clone()));
    let second = tokio::spawn(slow(token.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let third = h
        .http
        .get(h.qbo("preferences"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(third, 429);
    assert_eq!((first.await.unwrap(), second.await.unwrap()), (200, 200));
}

#[tokio::test]
async fn injected_faults_and_unknown_paths() {
    let h = Harness::start(0).await;
    let control = format!("{}/_sandbox/faults", h.sandbox.urls().qbo_api);
    h.http
        .post(&control)
        .json(&json!({"service": "qbo_api", "kind": "server_error"}))
        .send()
        .await
        .unwrap();
    let (status, body) = h.qbo_get("preferences").await;
    assert_eq!(status, 500);
    assert_eq!(body["Fault"]["type"], "SystemFault");
    assert_eq!(
        h.qbo_get("preferences").await.0,
        200,
        "a fault fires once unless count says otherwise"
    );
    let (status, body) = h.qbo_get("customer/1/5").await;
    assert_eq!(status, 400);
    assert_eq!(body["Fault"]["Error"][0]["code"], "500");
}

#[tokio::test]
async fn writes_can_be_read_back_through_the_control_api() {
    let h = Harness::start(0).await;
    h.qbo_post("customer", &json!({"DisplayName": "Audit Me"}))
        .await;
    let writes: Value = h
        .http
        .get(format!(
            "{}/_sandbox/writes?service=qbo_api",
            h.sandbox.urls().qbo_api
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = writes["writes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["method"], "POST");
    assert_eq!(last["body"]["DisplayName"], "Audit Me");
    let rows: Value = h
        .http
        .get(format!(
            "{}/_sandbox/qbo/{}/Customer",
            h.sandbox.urls().qbo_api,
            h.realm
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows["rows"][0]["DisplayName"], "Audit Me");
}

#[tokio::test]
async fn seeded_data_is_deterministic() {
    let a = Harness::start(4).await;
    let b = Harness::start(4).await;
    let (_, first) = a.qbo_query("select * from Invoice").await;
    let (_, second) = b.qbo_query("select * from Invoice").await;
    assert_eq!(first["QueryResponse"], second["QueryResponse"]);
    let (_, items) = a
        .qbo_query("select * from Item where Type = 'Inventory'")
        .await;
    let item = &items["QueryResponse"]["Item"][0];
    assert_eq!(item["TrackQtyOnHand"], true);
    assert!(item["AssetAccountRef"]["value"].is_string());
}

#[tokio::test]
async fn webhooks_report_changes_signed_in_both_formats() {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/qbo",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let signature = headers
                    .get("intuit-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                sink.lock().unwrap().push((signature, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/qbo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let wait = |count: usize| {
        let received = received.clone();
        async move {
            for _ in 0..100 {
                if received.lock().unwrap().len() >= count {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            received.lock().unwrap().clone()
        }
    };
    let verify = |signature: &str, body: &str| {
        let mut mac = Hmac::<sha2_011::Sha256>::new_from_slice(b"sandbox-verifier-token").unwrap();
        mac.update(body.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()) == signature
    };

    let h = Harness::with(|c| {
        c.records_per_module = 2;
        c.qbo_webhook_url = Some(url.clone());
    })
    .await;
    let (_, created) = h
        .qbo_post("customer", &json!({"DisplayName": "Hooked"}))
        .await;
    let id = created["Customer"]["Id"].as_str().unwrap().to_owned();
    let got = wait(1).await;
    assert_eq!(got.len(), 1, "the seed itself is not announced");
    let (signature, body) = &got[0];
    assert!(verify(signature, body), "intuit-signature verifies");
    let events: Value = serde_json::from_str(body).unwrap();
    assert_eq!(events[0]["type"], "qbo.customer.created.v1");
    assert_eq!(events[0]["intuitentityid"], id.as_str());
    assert_eq!(events[0]["intuitaccountid"], h.realm.as_str());
    common::assert_shape(
        "intuit_webhook_cloudevents_payload_blog",
        &common::fixture("qbo/intuit_webhook_cloudevents_payload_blog.json"),
        &events,
        &[],
    );
    // A change made inside QBO (control API) is announced too.
    h.http
        .post(format!(
            "{}/_sandbox/qbo/{}/Customer/{id}/touch",
            h.sandbox.urls().qbo_api,
            h.realm
        ))
        .send()
        .await
        .unwrap();
    let got = wait(2).await;
    let events: Value = serde_json::from_str(&got[1].1).unwrap();
    assert_eq!(events[0]["type"], "qbo.customer.updated.v1");

    received.lock().unwrap().clear();
    let legacy = Harness::with(|c| {
        c.records_per_module = 1;
        c.qbo_webhook_url = Some(url.clone());
        c.qbo_webhook_format = sandbox::QboWebhookFormat::Legacy;
    })
    .await;
    let (_, invoices) = legacy.qbo_query("select * from Invoice").await;
    let invoice = &invoices["QueryResponse"]["Invoice"][0];
    legacy
        .qbo_post(
            "invoice?operation=void",
            &json!({"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}),
        )
        .await;
    let got = wait(1).await;
    let (signature, body) = &got[0];
    assert!(verify(signature, body));
    let notification: Value = serde_json::from_str(body).unwrap();
    let entity = &notification["eventNotifications"][0]["dataChangeEvent"]["entities"][0];
    assert_eq!(
        (entity["name"].as_str(), entity["operation"].as_str()),
        (Some("Invoice"), Some("Void"))
    );
    common::assert_shape(
        "intuit_webhook_legacy_payload_docs",
        &common::fixture("qbo/intuit_webhook_legacy_payload_docs.json"),
        &notification,
        &[],
    );
}

#[tokio::test]
async fn the_seed_fills_every_entity_and_module() {
    let h = Harness::start(7).await;
    for entity in [
        "Customer",
        "Vendor",
        "Item",
        "Invoice",
        "Estimate",
        "PurchaseOrder",
    ] {
        let (_, count) = h.qbo_query(&format!("select count(*) from {entity}")).await;
        assert_eq!(count["QueryResponse"]["totalCount"], 7, "{entity}");
    }
    for module in [
        "Accounts",
        "Contacts",
        "Leads",
        "Vendors",
        "Products",
        "Quotes",
        "Sales_Orders",
        "Invoices",
        "Purchase_Orders",
    ] {
        let listed: Value = h
            .http
            .get(format!(
                "{}/_sandbox/zoho/{module}",
                h.sandbox.urls().zoho_api
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            listed["records"].as_array().map(Vec::len),
            Some(7),
            "{module}"
        );
    }
}

#[tokio::test]
async fn payments_reduce_the_linked_invoice_balance() {
    let h = Harness::start(2).await;
    let (_, invoices) = h.qbo_query("select * from Invoice maxresults 1").await;
    let invoice = invoices["QueryResponse"]["Invoice"][0].clone();
    let total = invoice["TotalAmt"].as_f64().unwrap();
    let payment = json!({"CustomerRef": invoice["CustomerRef"], "TotalAmt": 1.0,
        "Line": [{"Amount": 1.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]});
    let (status, paid) = h.qbo_post("payment", &payment).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["Payment"]["UnappliedAmt"], 0.0);
    let (_, after) = h
        .qbo_get(&format!("invoice/{}", invoice["Id"].as_str().unwrap()))
        .await;
    assert!((after["Invoice"]["Balance"].as_f64().unwrap() - (total - 1.0)).abs() < 0.001);
    assert_ne!(
        after["Invoice"]["SyncToken"], invoice["SyncToken"],
        "the invoice changed server-side"
    );
}

#[tokio::test]
async fn batch_calls_have_their_own_per_minute_budget() {
    let h = Harness::with(|c| {
        c.records_per_module = 0;
        c.qbo_batches_per_minute = 2;
    })
    .await;
    let batch = json!({"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]});
    assert_eq!(h.qbo_post("batch", &batch).await.0, 200);
    assert_eq!(h.qbo_post("batch", &batch).await.0, 200);
    let (status, body) = h.qbo_post("batch", &batch).await;
    assert_eq!(
        (status, body["Fault"]["Error"][0]["code"].as_str()),
        (429, Some("3001"))
    );
    assert_eq!(
        h.qbo_get("preferences").await.0,
        200,
        "other calls are not affected"
    );
    h.clock.advance(Duration::seconds(61));
    assert_eq!(h.qbo_post("batch", &batch).await.0, 200);
}

/// The unsupported-operation answer QBO gives `?operation=void` on a transaction it voids
/// another way (or not at all).
fn assert_void_refused(status: u16, body: &Value) {
    assert_eq!(status, 400, "{body}");
    let error = &body["Fault"]["Error"][0];
    assert_eq!(body["Fault"]["type"], "ValidationFault");
    assert_eq!(error["code"], "500");
    assert_eq!(error["Message"], "Unsupported Operation");
    assert_eq!(error["Detail"], "Operation void is not supported.");
    assert_eq!(error["element"], "Operation");
}

#[tokio::test]
async fn payments_are_voided_by_a_sparse_update_that_gives_invoices_their_balance_back() {
    let h = Harness::start(2).await;
    let (_, invoices) = h.qbo_query("select * from Invoice maxresults 1").await;
    let invoice = invoices["QueryResponse"]["Invoice"][0].clone();
    let invoice_path = format!("invoice/{}", invoice["Id"].as_str().unwrap());
    let balance = invoice["Balance"].as_f64().unwrap();
    let payment = json!({"CustomerRef": invoice["CustomerRef"], "TotalAmt": 1.0, "PrivateNote": "by card",
        "Line": [{"Amount": 1.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]});
    let (status, paid) = h.qbo_post("payment", &payment).await;
    assert_eq!(status, 200, "{paid}");
    let paid = &paid["Payment"];
    let body = json!({"Id": paid["Id"], "SyncToken": paid["SyncToken"]});

    let (status, refused) = h.qbo_post("payment?operation=void", &body).await;
    assert_void_refused(status, &refused);
    let (_, unchanged) = h.qbo_get(&invoice_path).await;
    assert!((unchanged["Invoice"]["Balance"].as_f64().unwrap() - (balance - 1.0)).abs() < 0.001);

    let sparse = json!({"Id": paid["Id"], "SyncToken": paid["SyncToken"], "sparse": true});
    let (status, voided) = h
        .qbo_post("payment?operation=update&include=void", &sparse)
        .await;
    assert_eq!(status, 200, "{voided}");
    let voided = &voided["Payment"];
    assert_eq!(voided["TotalAmt"], 0);
    assert_eq!(voided["UnappliedAmt"], 0);
    assert_eq!(voided["Line"][0]["Amount"], 0);
    assert_eq!(voided["PrivateNote"], "Voided by card");
    assert_eq!(voided["SyncToken"], "1");
    let (_, after) = h.qbo_get(&invoice_path).await;
    assert!(
        (after["Invoice"]["Balance"].as_f64().unwrap() - balance).abs() < 0.001,
        "the voided payment's amount is owed again: {}",
        after["Invoice"]
    );

    let (status, stale) = h
        .qbo_post("payment?operation=update&include=void", &sparse)
        .await;
    assert_eq!(
        (status, &stale["Fault"]["Error"][0]["code"]),
        (400, &json!("5010"))
    );
}

#[tokio::test]
async fn sales_receipts_are_voided_by_a_sparse_update_and_invoices_by_operation_void() {
    let h = Harness::start(2).await;
    let (_, invoices) = h.qbo_query("select * from Invoice maxresults 1").await;
    let invoice = invoices["QueryResponse"]["Invoice"][0].clone();
    let receipt = json!({"CustomerRef": invoice["CustomerRef"], "Line": invoice["Line"].as_array().unwrap()
        .iter().filter(|l| l["DetailType"] == "SalesItemLineDetail").cloned().collect::<Vec<_>>()});
    let (status, created) = h.qbo_post("salesreceipt", &receipt).await;
    assert_eq!(status, 200, "{created}");
    let receipt = &created["SalesReceipt"];
    let sparse = json!({"Id": receipt["Id"], "SyncToken": receipt["SyncToken"], "sparse": true});

    let (status, refused) = h.qbo_post("salesreceipt?operation=void", &sparse).await;
    assert_void_refused(status, &refused);
    let (status, voided) = h
        .qbo_post("salesreceipt?operation=update&include=void", &sparse)
        .await;
    assert_eq!(status, 200, "{voided}");
    assert_eq!(voided["SalesReceipt"]["TotalAmt"], 0);
    assert_eq!(voided["SalesReceipt"]["PrivateNote"], "Voided");

    let invoice_body =
        json!({"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": true});
    let (status, refused) = h
        .qbo_post("invoice?operation=update&include=void", &invoice_body)
        .await;
    assert_void_refused(status, &refused);
    for entity in ["estimate", "purchaseorder", "customer"] {
        let (status, refused) = h
            .qbo_post(
                &format!("{entity}?operation=void"),
                &json!({"Id": "1", "SyncToken": "0"}),
            )
            .await;
        assert_void_refused(status, &refused);
    }
}

#[tokio::test]
async fn batch_voids_payments_with_update_and_options_data() {
    let h = Harness::start(2).await;
    let (_, invoices) = h.qbo_query("select * from Invoice maxresults 1").await;
    let invoice = invoices["QueryResponse"]["Invoice"][0].clone();
    let payment = json!({"CustomerRef": invoice["CustomerRef"], "TotalAmt": 2.0,
        "Line": [{"Amount": 2.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]});
    let (_, paid) = h.qbo_post("payment", &payment).await;
    let target = json!({"Id": paid["Payment"]["Id"], "SyncToken": "0", "sparse": true});
    let batch = json!({"BatchItemRequest": [
        {"bId": "wrong", "operation": "void", "Payment": target},
        {"bId": "right", "operation": "update", "optionsData": "void", "Payment": target},
    ]});
    let (status, answer) = h.qbo_post("batch", &batch).await;
    assert_eq!(status, 200, "{answer}");
    let items = &answer["BatchItemResponse"];
    assert_eq!(items[0]["bId"], "wrong");
    assert_eq!(
        items[0]["Fault"]["Error"][0]["Detail"],
        "Operation void is not supported."
    );
    assert_eq!(items[1]["bId"], "right");
    assert_eq!(items[1]["Payment"]["TotalAmt"], 0, "{answer}");
}

#[tokio::test]
async fn bill_payments_are_voided_by_a_sparse_update_that_clears_their_lines() {
    let h = Harness::start(1).await;
    let (_, vendors) = h.qbo_query("select * from Vendor maxresults 1").await;
    let vendor = vendors["QueryResponse"]["Vendor"][0].clone();
    let (_, expense) = h
        .qbo_query("select * from Account where AccountType = 'Cost of Goods Sold'")
        .await;
    let expense_account = expense["QueryResponse"]["Account"][0]["Id"].clone();
    let bill = json!({"VendorRef": {"value": vendor["Id"]}, "Line": [{"DetailType": "AccountBasedExpenseLineDetail",
        "Amount": 300.0, "AccountBasedExpenseLineDetail": {"AccountRef": {"value": expense_account}}}]});
    let (status, bill) = h.qbo_post("bill", &bill).await;
    assert_eq!(status, 200, "{bill}");
    let bill = &bill["Bill"];
    assert_eq!(
        (&bill["TotalAmt"], &bill["Balance"]),
        (&json!(300.0), &json!(300.0))
    );
    let bill_path = format!("bill/{}", bill["Id"].as_str().unwrap());

    let (_, bank) = h
        .qbo_post(
            "account",
            &json!({"Name": "Checking", "AccountType": "Bank"}),
        )
        .await;
    let payment = json!({"VendorRef": {"value": vendor["Id"]}, "PayType": "Check", "TotalAmt": 120.0,
        "CheckPayment": {"BankAccountRef": {"value": bank["Account"]["Id"]}},
        "Line": [{"Amount": 120.0, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}]});
    let (status, paid) = h.qbo_post("billpayment", &payment).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(h.qbo_get(&bill_path).await.1["Bill"]["Balance"], 180.0);

    let sparse = json!({"Id": paid["BillPayment"]["Id"], "SyncToken": "0", "sparse": true});
    let (status, refused) = h.qbo_post("billpayment?operation=void", &sparse).await;
    assert_void_refused(status, &refused);
    let (status, voided) = h
        .qbo_post("billpayment?operation=update&include=void", &sparse)
        .await;
    assert_eq!(status, 200, "{voided}");
    assert_eq!(voided["BillPayment"]["Line"], json!([]));
    assert_eq!(voided["BillPayment"]["TotalAmt"], 0);
    assert_eq!(voided["BillPayment"]["PrivateNote"], "Voided");
    assert_eq!(h.qbo_get(&bill_path).await.1["Bill"]["Balance"], 300.0);
}

#[tokio::test]
async fn an_update_of_a_part_paid_invoice_keeps_its_payments() {
    let h = Harness::start(1).await;
    let (_, invoices) = h.qbo_query("select * from Invoice maxresults 1").await;
    let invoice = invoices["QueryResponse"]["Invoice"][0].clone();
    let total = invoice["TotalAmt"].as_f64().unwrap();
    let payment = json!({"CustomerRef": invoice["CustomerRef"], "TotalAmt": 1.0,
        "Line": [{"Amount": 1.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]});
    assert_eq!(h.qbo_post("payment", &payment).await.0, 200);
    let path = format!("invoice/{}", invoice["Id"].as_str().unwrap());
    let paid = h.qbo_get(&path).await.1["Invoice"].clone();
    let note = json!({"Id": paid["Id"], "SyncToken": paid["SyncToken"], "sparse": true, "PrivateNote": "noted"});
    let (status, updated) = h.qbo_post("invoice", &note).await;
    assert_eq!(status, 200, "{updated}");
    assert!((updated["Invoice"]["Balance"].as_f64().unwrap() - (total - 1.0)).abs() < 0.001);
}
