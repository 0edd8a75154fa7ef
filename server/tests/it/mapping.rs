//! The QuickBooks Mapping and Filters server functions over real HTTP with a real database:
//! Submit saves only valid mappings, Reset Default Mapping, Sync Mappable Fields against the
//! simulated Zoho CRM and QuickBooks, filters round trips, disabled and plan-gated pairs, and
//! tenant separation.

use crate::common;

use common::{TestApp, error_message};
use domain::pairs::{Direction, Flow, ModulePair};
use engine::Clock as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn mapping_page(app: &TestApp, client: &reqwest::Client, pair: Option<&str>) -> Value {
    let args: Vec<(&str, &str)> = pair.map(|p| ("pair", p)).into_iter().collect();
    app.call_json(client, "mapping_page", &args).await
}

fn mapped_source(page: &Value, qbo_field: &str) -> Option<Value> {
    page["mapping"]["fields"]
        .as_array()
        .expect("mapping fields")
        .iter()
        .find(|f| f["qbo_field"] == qbo_field)
        .cloned()
}

async fn tenant_id(app: &TestApp, email: &str) -> String {
    let db = &app.ctx().db;
    engine::with_pool!(db, pool => {
        sqlx::query_scalar::<_, String>("SELECT tenant_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(pool)
            .await
            .expect("tenant of the user")
    })
}

async fn signed_up(app: &TestApp, email: &str) -> reqwest::Client {
    let client = app.client();
    let response = app.sign_up(&client, "Acme", email).await;
    assert_eq!(response.status(), StatusCode::OK);
    client
}

#[tokio::test]
async fn the_page_offers_the_enabled_pairs_and_the_default_mapping() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "ann@acme.test").await;
    let page = mapping_page(&app, &client, None).await;
    let keys: Vec<&str> = page["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| p["key"].as_str().unwrap_or_default())
        .collect();
    // Freemium: only the essentials, which are on by default.
    assert_eq!(keys, vec!["accounts_customers", "products_items"], "{page}");
    assert_eq!(page["pair"], "accounts_customers");
    assert_eq!(page["is_default"], true);
    assert_eq!(page["fields_synced"], false);
    assert_eq!(
        mapped_source(&page, "DisplayName").expect("DisplayName mapped")["field"],
        "Account_Name"
    );
    let qbo = page["catalogue"]["qbo"].as_array().expect("QBO fields");
    assert!(qbo.iter().any(|f| f["path"] == "BillAddr.Line1"), "{page}");
    let notices = page["notices"].to_string();
    assert!(notices.contains("Sync Mappable Fields"), "{notices}");

    // Without a session there is nothing to read.
    let stranger = app.client();
    let response = app.call(&stranger, "mapping_page", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_mapping_is_refused_with_errors_per_field_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "ann@acme.test").await;
    let page = mapping_page(&app, &client, None).await;
    let mut mapping = page["mapping"].clone();
    // Clear the required DisplayName (the X) and map a field to a Zoho field that does not exist.
    let fields = mapping["fields"].as_array_mut().expect("fields");
    fields.retain(|f| f["qbo_field"] != "DisplayName");
    fields.push(json!({"qbo_field": "CompanyName", "kind": "zoho", "field": "No_Such_Field"}));
    let (status, result) = app
        .call_with_json(
            &client,
            "save_mapping",
            &json!({"pair": "accounts_customers", "mapping": mapping}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["saved"], false, "{result}");
    let errors = result["errors"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e["qbo_field"] == "DisplayName"),
        "{result}"
    );
    assert!(
        errors.iter().any(|e| e["qbo_field"] == "CompanyName"),
        "{result}"
    );
    let after = mapping_page(&app, &client, None).await;
    assert_eq!(after["is_default"], true, "nothing was saved: {after}");
    assert_eq!(after["mapping"], page["mapping"]);
    app.stop().await;
}

#[tokio::test]
async fn a_valid_mapping_persists_and_reset_default_restores_the_defaults() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "ann@acme.test").await;
    let page = mapping_page(&app, &client, Some("accounts_customers")).await;
    let mut mapping = page["mapping"].clone();
    let fields = mapping["fields"].as_array_mut().expect("fields");
    fields.retain(|f| f["qbo_field"] != "Fax.FreeFormNumber");
    fields.push(json!({"qbo_field": "ResaleNum", "kind": "static", "value": "R-1001"}));
    let (_, result) = app
        .call_with_json(
            &client,
            "save_mapping",
            &json!({"pair": "accounts_customers", "mapping": mapping}),
        )
        .await;
    assert_eq!(result["saved"], true, "{result}");

    let saved = mapping_page(&app, &client, Some("accounts_customers")).await;
    assert_eq!(saved["is_default"], false);
    assert_eq!(
        mapped_source(&saved, "ResaleNum").expect("static value saved")["value"],
        "R-1001"
    );
    assert!(mapped_source(&saved, "Fax.FreeFormNumber").is_none());

    // Another tenant sees its own (default) mapping, never this one.
    let other = signed_up(&app, "bob@other.test").await;
    let theirs = mapping_page(&app, &other, Some("accounts_customers")).await;
    assert_eq!(theirs["is_default"], true);
    assert!(mapped_source(&theirs, "ResaleNum").is_none());

    let response = app
        .call(
            &client,
            "reset_default_mapping",
            &[("pair", "accounts_customers")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let reset = mapping_page(&app, &client, Some("accounts_customers")).await;
    assert_eq!(reset["is_default"], true);
    assert_eq!(reset["mapping"], page["mapping"]);
    app.stop().await;
}

#[tokio::test]
async fn plan_gated_pairs_are_not_reachable_and_off_pairs_are_reviewed_then_turned_on() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "ann@acme.test").await;
    let gated = mapping_page(&app, &client, Some("invoices_invoices")).await;
    assert!(
        error_message(&gated, "Invalid").contains("Change Plan"),
        "{gated}"
    );
    let refused = app
        .call_json(&client, "turn_on_pair", &[("pair", "invoices_invoices")])
        .await;
    assert!(error_message(&refused, "Invalid").contains("Change Plan"));

    let tenant = tenant_id(&app, "ann@acme.test").await;
    let config = &app.ctx().sync.config;
    let mut directions = config.directions(&tenant).await.expect("directions");
    directions.set(ModulePair::ProductsItems, Direction::Disabled);
    config
        .save_directions(&tenant, &directions)
        .await
        .expect("save directions");

    // An off pair stays in the selector, marked off, and its mapping can be reviewed.
    let page = mapping_page(&app, &client, None).await;
    let options: Vec<(&str, bool)> = page["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| (p["key"].as_str().unwrap_or_default(), p["on"] == true))
        .collect();
    assert_eq!(
        options,
        vec![("accounts_customers", true), ("products_items", false)]
    );
    assert_eq!(page["off"], Value::Null);
    let off = mapping_page(&app, &client, Some("products_items")).await;
    assert_eq!(off["pair"], "products_items", "{off}");
    assert_eq!(off["off"]["direction"], "Bi-Directional");
    assert!(
        !off["mapping"]["fields"]
            .as_array()
            .expect("fields")
            .is_empty()
    );
    let filters = app
        .call_json(&client, "filters_page", &[("pair", "products_items")])
        .await;
    assert_eq!(filters["pair"], "products_items", "{filters}");

    // Turned on: from now on, in its suggested direction.
    let on = app
        .call_json(&client, "turn_on_pair", &[("pair", "products_items")])
        .await;
    assert!(
        on.as_str()
            .is_some_and(|m| m.contains("is on (Bi-Directional)")),
        "{on}"
    );
    let directions = config.directions(&tenant).await.expect("directions");
    assert_eq!(
        directions.get(ModulePair::ProductsItems),
        Direction::Bidirectional
    );
    let store = &app.ctx().sync.links;
    for flow in [Flow::ZohoToQbo, Flow::QboToZoho] {
        let cursor = store
            .cursor(&tenant, ModulePair::ProductsItems, flow)
            .await
            .expect("cursor")
            .expect("the flow starts now");
        assert_eq!(cursor.at, app.clock.now_millis(), "{flow:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn sync_mappable_fields_reads_both_systems() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "ann@acme.test").await;
    let before = app
        .call_json(
            &client,
            "sync_mappable_fields",
            &[("pair", "accounts_customers")],
        )
        .await;
    assert!(
        error_message(&before, "Invalid").contains("Connect Zoho CRM first"),
        "{before}"
    );

    app.connect(&client, "zoho").await;
    app.connect(&client, "qbo").await;
    // An admin adds a custom field in Zoho CRM.
    let added = reqwest::Client::new()
        .post(format!(
            "{}/_sandbox/zoho-fields/Accounts",
            app.sandbox_urls().zoho_api
        ))
        .json(&json!({"api_name": "Loyalty_Tier", "label": "Loyalty tier", "data_type": "text"}))
        .send()
        .await
        .expect("add a Zoho field");
    assert_eq!(added.status(), StatusCode::CREATED);

    let result = app
        .call_json(
            &client,
            "sync_mappable_fields",
            &[("pair", "accounts_customers")],
        )
        .await;
    assert!(result["zoho_fields"].as_u64().unwrap_or(0) > 5, "{result}");
    let page = mapping_page(&app, &client, Some("accounts_customers")).await;
    assert_eq!(page["fields_synced"], true);
    let zoho = page["catalogue"]["zoho"].as_array().expect("Zoho fields");
    let tier = zoho
        .iter()
        .find(|f| f["api_name"] == "Loyalty_Tier")
        .unwrap_or_else(|| panic!("the added field is listed: {page}"));
    assert_eq!(tier["label"], "Loyalty tier");
    assert_eq!(tier["source"], "custom");
    assert!(
        !page["notices"].to_string().contains("standard fields"),
        "{page}"
    );

    // QuickBooks custom fields: the sales-form field from Preferences and records in use.
    let tenant = tenant_id(&app, "ann@acme.test").await;
    let refreshed = engine::sync::refresh_catalogue(
        &app.ctx().connections,
        &app.ctx().sync.config,
        &tenant,
        ModulePair::InvoicesInvoices,
    )
    .await
    .expect("refresh the invoice fields");
    let crew = refreshed
        .catalogue
        .qbo_field("CustomField[1]")
        .expect("the Crew # field");
    assert_eq!(crew.label, "Crew #");
    assert_eq!(crew.source, domain::fields::FieldSource::Custom);
    let (stored, synced) = app
        .ctx()
        .sync
        .config
        .catalogue(&tenant, ModulePair::InvoicesInvoices)
        .await
        .expect("stored catalogue");
    assert!(synced);
    assert_eq!(stored, refreshed.catalogue);
    app.stop().await;
}

#[tokio::test]
async fn filters_round_trip_refuse_bad_rows_and_remove_all() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "ann@acme.test").await;
    let page = app.call_json(&client, "filters_page", &[]).await;
    assert_eq!(page["pair"], "accounts_customers", "{page}");
    assert_eq!(page["flows"], json!(["zoho_to_qbo", "qbo_to_zoho"]));
    assert_eq!(page["filters"]["zoho_to_qbo"]["rows"], json!([]));

    let good = json!({
        "zoho_to_qbo": {"combinator": "or", "rows": [
            {"field": "Billing_State", "condition": "equals", "value": "CA"},
            {"field": "Phone", "condition": "is_not_empty", "value": ""}
        ]},
        "qbo_to_zoho": {"combinator": "and", "rows": [
            {"field": "DisplayName", "condition": "starts_with", "value": "A"}
        ]}
    });
    let (_, saved) = app
        .call_with_json(
            &client,
            "save_filters",
            &json!({"pair": "accounts_customers", "filters": good}),
        )
        .await;
    assert_eq!(saved["saved"], true, "{saved}");
    let back = app
        .call_json(&client, "filters_page", &[("pair", "accounts_customers")])
        .await;
    assert_eq!(back["filters"], good);

    // A row naming a field the source system does not have, and a text value for a number
    // comparison: both refused, nothing changes.
    let bad = json!({
        "zoho_to_qbo": {"combinator": "and", "rows": [
            {"field": "Billing_State", "condition": "equals", "value": "NY"},
            {"field": "No_Such_Field", "condition": "equals", "value": "x"}
        ]},
        "qbo_to_zoho": {"combinator": "and", "rows": [
            {"field": "DisplayName", "condition": "equals", "value": ""}
        ]}
    });
    let (_, refused) = app
        .call_with_json(
            &client,
            "save_filters",
            &json!({"pair": "accounts_customers", "filters": bad}),
        )
        .await;
    assert_eq!(refused["saved"], false, "{refused}");
    let errors = refused["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["flow"] == "zoho_to_qbo" && e["row"] == 1),
        "{refused}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["flow"] == "qbo_to_zoho" && e["row"] == 0),
        "{refused}"
    );
    let unchanged = app
        .call_json(&client, "filters_page", &[("pair", "accounts_customers")])
        .await;
    assert_eq!(unchanged["filters"], good);

    // Another tenant has no filters.
    let other = signed_up(&app, "bob@other.test").await;
    let theirs = app.call_json(&other, "filters_page", &[]).await;
    assert_eq!(theirs["filters"]["zoho_to_qbo"]["rows"], json!([]));

    let response = app
        .call(
            &client,
            "remove_all_filters",
            &[("pair", "accounts_customers")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = app.call_json(&client, "filters_page", &[]).await;
    assert_eq!(cleared["filters"]["zoho_to_qbo"]["rows"], json!([]));
    assert_eq!(cleared["filters"]["qbo_to_zoho"]["rows"], json!([]));
    app.stop().await;
}
