//! Zoho CRM v8 behaviour over real HTTP: list limits and paging, 204/304, write status codes and
//! per-record errors, upsert, delete and the deleted list, search, metadata, subforms, limits.

use crate::common;

use chrono::Duration;
use common::Harness;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn list_requires_fields_and_enforces_limits() {
    let h = Harness::start(3).await;
    let (status, body) = h.zoho_call(Method::GET, "Accounts", None).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "REQUIRED_PARAM_MISSING");
    assert_eq!(body["details"]["param_name"], "fields");
    let many: Vec<String> = (0..51).map(|i| format!("F{i}")).collect();
    let (status, body) = h
        .zoho_call(
            Method::GET,
            &format!("Accounts?fields={}", many.join(",")),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "LIMIT_EXCEEDED");
    let (status, _) = h
        .zoho_call(
            Method::GET,
            "Accounts?fields=Account_Name&per_page=201",
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = h
        .zoho_call(
            Method::GET,
            "Accounts?fields=Account_Name&page=11&per_page=200",
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "DISCRETE_PAGINATION_LIMIT_EXCEEDED");
    let (status, body) = h
        .zoho_call(Method::GET, "Accounts?fields=Account_Name,Phone", None)
        .await;
    assert_eq!(status, 200);
    let record = body["data"][0].as_object().unwrap();
    let mut keys: Vec<&str> = record.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["Account_Name", "Phone", "id"],
        "only the requested fields come back"
    );
    assert!(
        body["data"][0]["id"].as_str().unwrap().len() >= 18,
        "ids are 18-19 digit strings"
    );
    assert_eq!(body["info"]["more_records"], false);
}

#[tokio::test]
async fn page_token_walks_past_two_thousand_records() {
    let h = Harness::start(2050).await;
    let mut seen = std::collections::HashSet::new();
    let (status, first) = h
        .zoho_call(
            Method::GET,
            "Leads?fields=Last_Name&per_page=200&page=10&sort_by=Modified_Time&sort_order=asc",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(first["info"]["more_records"], true);
    let mut token = first["info"]["next_page_token"]
        .as_str()
        .expect("a page token past 2000")
        .to_owned();
    assert!(first["info"]["page_token_expiry"].is_string());
    for record in first["data"].as_array().unwrap() {
        seen.insert(record["id"].as_str().unwrap().to_owned());
    }
    loop {
        let (status, page) = h.zoho_call(Method::GET, &format!("Leads?fields=Last_Name&per_page=200&page_token={token}&sort_by=Modified_Time&sort_order=asc"), None).await;
        assert_eq!(status, 200);
        for record in page["data"].as_array().unwrap() {
            assert!(
                seen.insert(record["id"].as_str().unwrap().to_owned()),
                "no record twice"
            );
        }
        match page["info"]["next_page_token"].as_str() {
            Some(next) => token = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2050 - 1800);
}

#[tokio::test]
async fn empty_lists_are_204_and_unmodified_is_304() {
    let h = Harness::start(2).await;
    let response = h
        .http
        .get(h.zoho("Leads?fields=Last_Name"))
        .header(
            "authorization",
            format!("Zoho-oauthtoken {}", h.zoho_token()),
        )
        .header("If-Modified-Since", "2026-05-05T05:00:00-07:00")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    let (status, _) = h
        .zoho_call(
            Method::GET,
            "Leads/search?criteria=(Last_Name:equals:Nobody)",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let fresh = Harness::start(0).await;
    let response = fresh
        .http
        .get(fresh.zoho("Accounts?fields=Account_Name"))
        .header(
            "authorization",
            format!("Zoho-oauthtoken {}", fresh.zoho_token()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(
        response.text().await.unwrap().is_empty(),
        "204 has an empty body"
    );
}

#[tokio::test]
async fn insert_statuses_and_per_record_errors_keep_input_order() {
    let h = Harness::start(0).await;
    let (status, body) = h
        .zoho_call(
            Method::POST,
            "Contacts",
            Some(
                &json!({"data": [{"Last_Name": "Doe", "Email": "doe@example.com"}], "trigger": []}),
            ),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["data"][0]["code"], "SUCCESS");
    let existing = body["data"][0]["details"]["id"].clone();

    let mixed = json!({"data": [
        {"Last_Name": "Roe"},
        {"First_Name": "No last name"},
        {"Last_Name": "Dup", "Email": "DOE@example.com"},
        {"Last_Name": "Typed", "Date_of_Birth": "yesterday"},
    ]});
    let (status, body) = h.zoho_call(Method::POST, "Contacts", Some(&mixed)).await;
    assert_eq!(status, 207);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data[0]["status"], "success");
    assert_eq!(data[1]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(data[1]["details"]["api_name"], "Last_Name");
    assert_eq!(data[2]["code"], "DUPLICATE_DATA");
    assert_eq!(data[2]["details"]["duplicate_record"]["id"], existing);
    assert_eq!(data[3]["code"], "INVALID_DATA");
    assert_eq!(data[3]["details"]["expected_data_type"], "date");
    assert_eq!(data[3]["details"]["api_name"], "Date_of_Birth");

    let (status, _) = h
        .zoho_call(
            Method::POST,
            "Contacts",
            Some(&json!({"data": [{"First_Name": "x"}]})),
        )
        .await;
    assert_eq!(status, 400, "all failed");
    let hundred_one: Vec<Value> = (0..101)
        .map(|i| json!({"Last_Name": format!("L{i}")}))
        .collect();
    let (status, body) = h
        .zoho_call(
            Method::POST,
            "Contacts",
            Some(&json!({"data": hundred_one})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("LIMIT_EXCEEDED"))
    );
}

#[tokio::test]
async fn update_with_if_unmodified_since_and_upsert() {
    let h = Harness::start(1).await;
    let (_, created) = h.zoho_call(Method::POST, "Products", Some(&json!({"data": [{"Product_Name": "Pump", "Product_Code": "P-1", "Unit_Price": 10.5}]}))).await;
    let id = created["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read_at = created["data"][0]["details"]["Modified_Time"]
        .as_str()
        .unwrap()
        .to_owned();
    h.clock.advance(Duration::minutes(5));
    h.http
        .post(format!(
            "{}/_sandbox/zoho/Products/{id}/touch",
            h.sandbox.urls().zoho_api
        ))
        .send()
        .await
        .unwrap();
    let response = h
        .http
        .put(h.zoho(&format!("Products/{id}")))
        .header(
            "authorization",
            format!("Zoho-oauthtoken {}", h.zoho_token()),
        )
        .header("If-Unmodified-Since", &read_at)
        .json(&json!({"data": [{"Unit_Price": 12.0}]}))
        .send()
        .await
        .unwrap();
    let (status, body) = common::split(response).await;
    assert_eq!(status, 412);
    assert_eq!(body["data"][0]["code"], "ALREADY_MODIFIED");

    let (status, body) = h
        .zoho_call(
            Method::PUT,
            "Products",
            Some(&json!({"data": [{"id": id, "Unit_Price": 12.0}, {"Unit_Price": 1.0}]})),
        )
        .await;
    assert_eq!(status, 207);
    assert_eq!(body["data"][0]["message"], "record updated");
    assert_eq!(body["data"][1]["code"], "MANDATORY_NOT_FOUND");

    let upsert = json!({"data": [{"Product_Name": "Pump v2", "Product_Code": "p-1"}, {"Product_Name": "Hose", "Product_Code": "H-1"}], "duplicate_check_fields": ["Product_Code"]});
    let (status, body) = h
        .zoho_call(Method::POST, "Products/upsert", Some(&upsert))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["action"], "update");
    assert_eq!(body["data"][0]["duplicate_field"], "Product_Code");
    assert_eq!(body["data"][0]["details"]["id"], id.as_str());
    assert_eq!(body["data"][1]["action"], "insert");
    let (_, read) = h
        .zoho_call(Method::GET, &format!("Products/{id}"), None)
        .await;
    assert_eq!(read["data"][0]["Product_Name"], "Pump v2");
    assert_eq!(read["data"][0]["Unit_Price"], 12.0);
}

#[tokio::test]
async fn line_item_subforms_resolve_products_and_replace_rows() {
    let h = Harness::start(2).await;
    let (_, accounts) = h
        .zoho_call(Method::GET, "Accounts?fields=Account_Name", None)
        .await;
    let (_, products) = h
        .zoho_call(Method::GET, "Products?fields=Product_Name,Unit_Price", None)
        .await;
    let account = accounts["data"][0]["id"].clone();
    let (p1, p2) = (
        products["data"][0]["id"].clone(),
        products["data"][1]["id"].clone(),
    );
    let order = json!({"data": [{"Subject": "SO-1", "Account_Name": {"id": account}, "Ordered_Items": [
        {"Product_Name": {"id": p1}, "Quantity": 2.0, "List_Price": 5.0},
        {"Product_Name": {"id": p2}, "Quantity": 1.0, "List_Price": 3.0}
    ]}]});
    let (status, created) = h
        .zoho_call(Method::POST, "Sales_Orders", Some(&order))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, read) = h
        .zoho_call(Method::GET, &format!("Sales_Orders/{id}"), None)
        .await;
    let items = read["data"][0]["Ordered_Items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["Product_Name"]["id"], p1);
    assert!(
        items[0]["Product_Name"]["name"].is_string(),
        "lookups come back as {{id, name}}"
    );
    assert_eq!(read["data"][0]["Grand_Total"], 13.0);
    let keep = json!({"data": [{"Ordered_Items": [{"id": items[1]["id"], "Quantity": 4.0}]}]});
    let (status, _) = h
        .zoho_call(Method::PUT, &format!("Sales_Orders/{id}"), Some(&keep))
        .await;
    assert_eq!(status, 200);
    let (_, read) = h
        .zoho_call(Method::GET, &format!("Sales_Orders/{id}"), None)
        .await;
    let items = read["data"][0]["Ordered_Items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "omitted rows are removed");
    assert_eq!(items[0]["Quantity"], 4.0);
    assert_eq!(
        items[0]["List_Price"], 3.0,
        "the kept row keeps its other values"
    );
    let bad = json!({"data": [{"Subject": "SO-2", "Account_Name": {"id": account}, "Ordered_Items": [{"Product_Name": {"id": "1"}, "Quantity": 1.0}]}]});
    let (status, body) = h.zoho_call(Method::POST, "Sales_Orders", Some(&bad)).await;
    assert_eq!(status, 400);
    assert_eq!(body["data"][0]["code"], "INVALID_DATA");
}

#[tokio::test]
async fn delete_mixed_and_the_deleted_list() {
    let h = Harness::start(3).await;
    let (_, list) = h
        .zoho_call(Method::GET, "Vendors?fields=Vendor_Name", None)
        .await;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = h
        .zoho_call(
            Method::DELETE,
            &format!("Vendors?ids={id},123456789012345678"),
            None,
        )
        .await;
    assert_eq!(status, 207);
    assert_eq!(body["data"][0]["details"]["id"], id.as_str());
    assert_eq!(body["data"][1]["message"], "record not deleted");
    let (status, deleted) = h
        .zoho_call(Method::GET, "Vendors/deleted?type=all", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(deleted["data"][0]["id"], id.as_str());
    assert_eq!(deleted["data"][0]["type"], "recycle");
    let (status, _) = h
        .zoho_call(Method::GET, &format!("Vendors/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = h
        .zoho_call(Method::GET, "Vendors/deleted?type=permanent", None)
        .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn search_criteria_email_and_word() {
    let h = Harness::start(5).await;
    let (status, body) = h.zoho_call(Method::GET, "Products/search?criteria=((Product_Code:equals:SKU-00001)or(Product_Code:equals:SKU-00002))", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["info"]["count"], 2);
    let (_, contacts) = h
        .zoho_call(Method::GET, "Contacts?fields=Email", None)
        .await;
    let email = contacts["data"][0]["Email"].as_str().unwrap().to_owned();
    let (status, body) = h
        .zoho_call(Method::GET, &format!("Contacts/search?email={email}"), None)
        .await;
    assert_eq!(
        (status, body["data"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (status, body) = h
        .zoho_call(
            Method::GET,
            "Products/search?criteria=(Product_Code:like:x)",
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_QUERY"))
    );
}

#[tokio::test]
async fn metadata_lists_modules_and_fields() {
    let h = Harness::start(0).await;
    let (status, body) = h.zoho_call(Method::GET, "settings/modules", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["api_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Products") && names.contains(&"Purchase_Orders"));
    let (status, body) = h
        .zoho_call(Method::GET, "settings/fields?module=Products", None)
        .await;
    assert_eq!(status, 200);
    let fields = body["fields"].as_array().unwrap();
    let code = fields
        .iter()
        .find(|f| f["api_name"] == "Product_Code")
        .unwrap();
    assert_eq!(code["data_type"], "text");
    assert!(
        fields
            .iter()
            .any(|f| f["custom_field"] == true && f["api_name"] == "QBO_Id")
    );
    let category = fields
        .iter()
        .find(|f| f["api_name"] == "Product_Category")
        .unwrap();
    assert_eq!(category["pick_list_values"][1]["actual_value"], "Hardware");
    let vendor = fields
        .iter()
        .find(|f| f["api_name"] == "Vendor_Name")
        .unwrap();
    assert_eq!(vendor["lookup"]["module"]["api_name"], "Vendors");
    let (status, body) = h
        .zoho_call(Method::GET, "settings/fields?module=Quoted_Items", None)
        .await;
    assert_eq!(status, 200);
    assert!(
        body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["api_name"] == "Product_Name" && f["data_type"] == "lookup")
    );
}

#[tokio::test]
async fn free_edition_has_no_inventory_modules() {
    let h = Harness::with(|c| c.zoho_edition = sandbox::ZohoEdition::Free).await;
    let (_, body) = h.zoho_call(Method::GET, "settings/modules", None).await;
    assert!(!body.to_string().contains("\"Products\""));
    let (status, body) = h
        .zoho_call(Method::GET, "Products?fields=Product_Name", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_MODULE"))
    );
}

#[tokio::test]
async fn bad_tokens_and_limits() {
    let h = Harness::with(|c| {
        c.records_per_module = 1;
        c.zoho_daily_credits = 3;
    })
    .await;
    let response = h
        .http
        .get(h.zoho("Accounts?fields=Account_Name"))
        .header("authorization", "Zoho-oauthtoken nope")
        .send()
        .await
        .unwrap();
    let (status, body) = common::split(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "INVALID_TOKEN");
    let token = h.zoho_token();
    h.clock.advance(Duration::minutes(61));
    let response = h
        .http
        .get(h.zoho("Accounts?fields=Account_Name"))
        .header("authorization", format!("Zoho-oauthtoken {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "access tokens live one hour");
    for _ in 0..3 {
        assert_eq!(
            h.zoho_call(Method::GET, "Accounts?fields=Account_Name", None)
                .await
                .0,
            200
        );
    }
    let (status, body) = h
        .zoho_call(Method::GET, "Accounts?fields=Account_Name", None)
        .await;
    assert_eq!(status, 429);
    assert_eq!(body["code"], "RATE_LIMIT_EXCEEDED");
    h.clock.advance(Duration::hours(25));
    assert_eq!(
        h.zoho_call(Method::GET, "Accounts?fields=Account_Name", None)
            .await
            .0,
        200,
        "credits free up after 24 h"
    );
}

#[tokio::test]
async fn concurrency_limit_answers_429() {
    let h = Harness::with(|c| c.zoho_max_concurrent = 1).await;
    let control = format!("{}/_sandbox/faults", h.sandbox.urls().zoho_api);
    h.http
        .post(&control)
        .json(&json!({"service": "zoho_api", "kind": "slow", "delay_ms": 400}))
        .send()
        .await
        .unwrap();
    let (http, url, token) = (
        h.http.clone(),
        h.zoho("Accounts?fields=Account_Name"),
        h.zoho_token(),
    );
    let slow = tokio::spawn(async move {
        http.get(url)
            .header("authorization", format!("Zoho-oauthtoken {token}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert_eq!(
        h.zoho_call(Method::GET, "Accounts?fields=Account_Name", None)
            .await
            .0,
        429
    );
    assert_eq!(slow.await.unwrap(), 200);
}

#[tokio::test]
async fn coql_selects_filters_orders_and_pages() {
    let h = Harness::start(6).await;
    let query = json!({"select_query": "select Last_Name, First_Name, Account_Name.id from Contacts where Last_Name is not null order by Last_Name asc limit 0, 4"});
    let (status, body) = h.zoho_call(Method::POST, "coql", Some(&query)).await;
    assert_eq!(status, 200, "{body}");
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(body["info"]["more_records"], true);
    let names: Vec<String> = rows
        .iter()
        .map(|r| r["Last_Name"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(rows[0]["id"].is_string());
    common::assert_shape(
        "oas_v8__coql_response",
        &common::fixture("zoho/oas_v8__coql_response.json"),
        &body,
        &[],
    );
    let (status, _) = h.zoho_call(Method::POST, "coql", Some(&json!({"select_query": "select Last_Name from Contacts where Last_Name = 'Nobody'"}))).await;
    assert_eq!(status, 204);
    let (status, body) = h
        .zoho_call(
            Method::POST,
            "coql",
            Some(&json!({"select_query": "select Nope from Contacts"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_QUERY"))
    );
    let (status, body) = h
        .zoho_call(
            Method::POST,
            "coql",
            Some(&json!({"select_query": "select from"})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("SYNTAX_ERROR")));
}

#[tokio::test]
async fn watch_channels_notify_on_changes() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let h = Harness::start(1).await;
    let mut request = common::fixture("zoho/oas_v8__notifications_enable_request.json");
    let expiry = (h.sandbox.now() + Duration::hours(6)).to_rfc3339();
    for (i, channel) in request["watch"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        channel["notify_url"] = json!(notify_url);
        channel["channel_expiry"] = json!(expiry);
        channel["events"] = if i == 0 {
            json!(["Contacts.all"])
        } else {
            json!(["Accounts.delete"])
        };
    }
    let (status, body) = h
        .zoho_call(Method::POST, "actions/watch", Some(&request))
        .await;
    assert_eq!(status, 201, "{body}");
    common::assert_shape(
        "oas_v8__notifications_enable_response_201",
        &common::fixture("zoho/oas_v8__notifications_enable_response_201.json"),
        &body,
        &[],
    );

    let (_, created) = h
        .zoho_call(
            Method::POST,
            "Contacts",
            Some(&json!({"data": [{"Last_Name": "Watched"}]})),
        )
        .await;
    let id = created["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.zoho_call(
        Method::PUT,
        &format!("Contacts/{id}"),
        Some(&json!({"data": [{"Title": "CEO"}]})),
    )
    .await;
    h.zoho_call(
        Method::POST,
        "Accounts",
        Some(&json!({"data": [{"Account_Name": "Not watched for create"}]})),
    )
    .await;
    h.zoho_call(Method::DELETE, &format!("Contacts/{id}"), None)
        .await;
    for _ in 0..100 {
        if received.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let got = received.lock().unwrap().clone();
    let operations: Vec<&str> = got
        .iter()
        .map(|n| n["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations, ["insert", "update", "delete"], "{got:?}");
    assert!(got.iter().all(|n| n["ids"][0] == id.as_str()
        && n["module"] == "Contacts"
        && n["token"] == "TOKEN_FOR_VERIFICATION_1"));

    let (status, details) = h.zoho_call(Method::GET, "actions/watch", None).await;
    assert_eq!(
        (status, details["watch"].as_array().map(Vec::len)),
        (200, Some(2))
    );
    let (status, _) = h
        .zoho_call(
            Method::DELETE,
            "actions/watch?channel_ids=1000000068001,1000000068002",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = h.zoho_call(Method::GET, "actions/watch", None).await;
    assert_eq!(status, 204);
    let too_long = json!({"watch": [{"channel_id": "1", "notify_url": notify_url, "events": ["Contacts.all"], "channel_expiry": (h.sandbox.now() + Duration::days(8)).to_rfc3339()}]});
    let (status, _) = h
        .zoho_call(Method::POST, "actions/watch", Some(&too_long))
        .await;
    assert_eq!(status, 400, "channels live at most a week");
}

#[tokio::test]
async fn page_tokens_expire_after_a_day() {
    let h = Harness::start(5).await;
    let (_, first) = h
        .zoho_call(Method::GET, "Accounts?fields=Account_Name&per_page=2", None)
        .await;
    let token = first["info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = h
        .zoho_call(
            Method::GET,
            &format!("Accounts?fields=Account_Name&per_page=2&page_token={token}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    h.clock.advance(Duration::hours(25));
    let (status, body) = h
        .zoho_call(
            Method::GET,
            &format!("Accounts?fields=Account_Name&per_page=2&page_token={token}"),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["details"]["param_name"], "page_token");
}
