//! The `/_sandbox` control API: injected timeouts and errors, token expiry and revocation, remote
//! deletions, the clock, and what each does to the simulated APIs.

use crate::common;

use common::Harness;
use reqwest::Method;
use serde_json::{Value, json};

async fn control(h: &Harness, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = h.http.request(
        method,
        format!("{}/_sandbox/{path}", h.sandbox.urls().qbo_api),
    );
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "control call {path} failed: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn timeouts_hold_the_request_then_answer_504() {
    let h = Harness::start(0).await;
    control(
        &h,
        Method::POST,
        "faults",
        Some(json!({"service": "stripe_api", "kind": "timeout", "delay_ms": 400, "count": 2})),
    )
    .await;
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(100))
        .build()
        .unwrap();
    let error = impatient
        .get(h.stripe("prices"))
        .bearer_auth("sk_test_sandbox")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "a client with a short timeout gives up");
    let started = std::time::Instant::now();
    let (status, _) = h.stripe_get("prices").await;
    assert_eq!(status, 504);
    assert!(started.elapsed() >= std::time::Duration::from_millis(350));
    assert_eq!(h.stripe_get("prices").await.0, 200, "the fault is used up");
}

#[tokio::test]
async fn injected_errors_use_each_service_envelope() {
    let h = Harness::start(1).await;
    for service in ["stripe_api", "zoho_api", "intuit_oauth"] {
        control(
            &h,
            Method::POST,
            "faults",
            Some(json!({"service": service, "kind": "rate_limit"})),
        )
        .await;
    }
    let (status, body) = h.stripe_get("prices").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limit"))
    );
    let (status, body) = h
        .zoho_call(Method::GET, "Accounts?fields=Account_Name", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMIT_EXCEEDED"))
    );
    let response = h
        .http
        .post(format!(
            "{}/oauth2/v1/tokens/bearer",
            h.sandbox.urls().intuit_oauth
        ))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    control(
        &h,
        Method::POST,
        "faults",
        Some(json!({"service": "zoho_api", "kind": "server_error"})),
    )
    .await;
    let (status, body) = h
        .zoho_call(Method::GET, "Accounts?fields=Account_Name", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("INTERNAL_ERROR"))
    );
    control(
        &h,
        Method::POST,
        "faults",
        Some(json!({"service": "qbo_api", "kind": "server_error", "count": 5})),
    )
    .await;
    control(&h, Method::DELETE, "faults", None).await;
    assert_eq!(
        h.qbo_get("preferences").await.0,
        200,
        "clearing faults removes pending ones"
    );
}

#[tokio::test]
async fn tokens_can_be_expired_or_revoked_remotely() {
    let h = Harness::start(1).await;
    let qbo = h.qbo_token();
    let zoho = h.zoho_token();
    control(&h, Method::POST, "tokens/expire?service=qbo_api", None).await;
    let (status, body) = common::split(
        h.http
            .get(h.qbo("preferences"))
            .bearer_auth(&qbo)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["fault"]["error"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("Token expired")
    );
    control(&h, Method::POST, "tokens/revoke?service=zoho_api", None).await;
    let response = h
        .http
        .get(h.zoho("Accounts?fields=Account_Name"))
        .header("authorization", format!("Zoho-oauthtoken {zoho}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let minted = control(
        &h,
        Method::POST,
        &format!("tokens/qbo?realm_id={}", h.realm),
        None,
    )
    .await;
    let response = h
        .http
        .get(h.qbo("preferences"))
        .bearer_auth(minted["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the control API can mint tokens too"
    );
}

#[tokio::test]
async fn remote_deletions_show_up_in_cdc_queries_and_the_deleted_list() {
    let h = Harness::start(2).await;
    h.clock.advance(chrono::Duration::minutes(5));
    let since = (h.sandbox.now() - chrono::Duration::seconds(1)).to_rfc3339();
    let (_, invoices) = h.qbo_query("select * from Invoice maxresults 1").await;
    let invoice = invoices["QueryResponse"]["Invoice"][0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    control(
        &h,
        Method::DELETE,
        &format!("qbo/{}/Invoice/{invoice}", h.realm),
        None,
    )
    .await;
    let (_, customers) = h.qbo_query("select * from Customer maxresults 1").await;
    let customer = customers["QueryResponse"]["Customer"][0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deactivated = control(
        &h,
        Method::DELETE,
        &format!("qbo/{}/Customer/{customer}", h.realm),
        None,
    )
    .await;
    assert_eq!(deactivated["Active"], false);
    let since = since.replace('+', "%2B");
    let (_, cdc) = h
        .qbo_get(&format!(
            "cdc?entities=Invoice,Customer&changedSince={since}"
        ))
        .await;
    let answer = &cdc["CDCResponse"][0]["QueryResponse"];
    assert_eq!(answer[0]["Invoice"][0]["status"], "Deleted");
    assert_eq!(answer[1]["Customer"][0]["Active"], false);

    let listed: Value = h
        .http
        .get(format!(
            "{}/_sandbox/zoho/Accounts",
            h.sandbox.urls().zoho_api
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = listed["records"][0]["id"].as_str().unwrap().to_owned();
    h.http
        .delete(format!(
            "{}/_sandbox/zoho/Accounts/{account}",
            h.sandbox.urls().zoho_api
        ))
        .send()
        .await
        .unwrap();
    let (status, deleted) = h.zoho_call(Method::GET, "Accounts/deleted", None).await;
    assert_eq!(status, 200);
    assert_eq!(deleted["data"][0]["id"], account.as_str());
}

#[tokio::test]
async fn the_clock_endpoint_moves_simulated_time() {
    let h = Harness::start(0).await;
    let before = control(&h, Method::GET, "clock", None).await;
    let after = control(
        &h,
        Method::POST,
        "clock/advance",
        Some(json!({"seconds": 3600})),
    )
    .await;
    let parse =
        |v: &Value| chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap()).unwrap();
    assert_eq!((parse(&after) - parse(&before)).num_seconds(), 3600);
    let token = h.qbo_token();
    control(
        &h,
        Method::POST,
        "clock/advance",
        Some(json!({"seconds": 3601})),
    )
    .await;
    let response = h
        .http
        .get(h.qbo("preferences"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "tokens age with the control clock");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_each_service_envelope() {
    let h = Harness::start(2).await;
    let (status, body) = common::split(
        h.http
            .get(h.qbo("customer"))
            .bearer_auth(h.qbo_token())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["Fault"]["Error"][0]["code"].as_str()),
        (400, Some("500"))
    );
    let (status, body) = h.zoho_call(Method::PATCH, "Accounts", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_REQUEST_METHOD"))
    );
    let (status, body) = h.stripe_get("nonsense").await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (404, Some("invalid_request_error"))
    );
    let response = h
        .http
        .get(h.zoho("Accounts?fields=Account_Name"))
        .header(
            "authorization",
            format!("Zoho-oauthtoken {}", h.zoho_token()),
        )
        .header("If-Modified-Since", "Tue, 05 May 2026 10:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        304,
        "If-Modified-Since also accepts an HTTP-date"
    );
}
