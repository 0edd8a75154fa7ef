//! The QBO API's routes: the guard in front of them (token bound to the realm, the per-realm
//! throttles), entity reads and writes with `?requestid=` idempotency, query, CDC and batch.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as QueryParams, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::Op;
use super::{CDC_LOOKBACK_DAYS, Fault, MAX_BATCH_ITEMS, Realm, canonical, webhooks};
use crate::oauth::TokenProblem;
use crate::service;
use crate::util::{bearer, json_bytes_response, json_response, object, qbo_time, random_digits};
use crate::{Service, Shared, lock};

/// The QBO API under `/v3/company/{realm}/`, every route behind the guard; the changes a
/// request made go to the webhook endpoint once it is answered.
pub fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/v3/company/{realm}/query", get(query_get).post(query_post))
        .route("/v3/company/{realm}/cdc", get(cdc))
        .route("/v3/company/{realm}/batch", post(batch))
        .route("/v3/company/{realm}/preferences", get(preferences))
        .route("/v3/company/{realm}/{entity}", post(write))
        .route("/v3/company/{realm}/{entity}/{id}", get(read))
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard))
        .layer(middleware::from_fn_with_state(
            (shared.clone(), webhooks::flush_webhooks as service::Deliver),
            service::deliver_after,
        ))
        .fallback(unsupported)
        .method_not_allowed_fallback(unsupported)
}

fn lower_case_401(detail: &str, now: DateTime<Utc>) -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({
            "warnings": null, "intuitObject": null,
            "fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                  "detail": detail, "code": "3200", "element": null}], "type": "AUTHENTICATION"},
            "report": null, "queryResponse": null, "batchItemResponse": [], "attachableResponse": [],
            "syncErrorResponse": null, "requestId": null, "time": now.timestamp_millis(), "status": null, "cdcresponse": []
        }),
    )
}

/// Releases the realm's in-flight slot even if the client hangs up mid-request.
struct InFlight {
    shared: Arc<Shared>,
    realm: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(realm) = lock(&self.shared.qbo).realms.get_mut(&self.realm) {
            realm.in_flight = realm.in_flight.saturating_sub(1);
        }
    }
}

/// Authentication (token bound to the path's realm) and the per-realm throttles.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let now = shared.now();
    let realm_id = request
        .uri()
        .path()
        .split('/')
        .nth(3)
        .unwrap_or_default()
        .to_owned();
    let Some(token) = bearer(request.headers(), "Bearer") else {
        return lower_case_401("Token invalid: no bearer token was sent", now);
    };
    let prefix: String = token.chars().take(50).collect();
    match lock(&shared.oauth).check_intuit_access(&token, now) {
        Ok(bound) if bound == realm_id => {}
        Ok(_) => {
            let fault = Fault {
                status: StatusCode::FORBIDDEN,
                code: "3100".to_owned(),
                message: "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
                    .to_owned(),
                detail: String::new(),
                element: None,
                kind: "SERVICE",
            };
            return fault.response(now);
        }
        Err(TokenProblem::Expired) => {
            return lower_case_401(&format!("Token expired: {prefix}"), now);
        }
        Err(TokenProblem::Invalid) => {
            return lower_case_401(&format!("Token invalid: {prefix}"), now);
        }
    }
    let is_batch = request.uri().path().ends_with("/batch");
    {
        let config = &shared.config;
        let mut store = lock(&shared.qbo);
        let realm = store.realm(&realm_id, now);
        let window = now - shared.rate_window();
        while realm.requests.front().is_some_and(|t| *t <= window) {
            realm.requests.pop_front();
        }
        while realm.batches.front().is_some_and(|t| *t <= window) {
            realm.batches.pop_front();
        }
        let throttled = realm.requests.len() >= config.qbo_requests_per_minute
            || realm.in_flight >= config.qbo_max_concurrent
            || (is_batch && realm.batches.len() >= config.qbo_batches_per_minute);
        if throttled {
            drop(store);
            shared.qbo_traffic.throttled.fetch_add(1, Ordering::Relaxed);
            return service::error_response(
                &shared,
                Service::QboApi,
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        realm.requests.push_back(now);
        shared.qbo_traffic.requests.fetch_add(1, Ordering::Relaxed);
        if is_batch {
            realm.batches.push_back(now);
            shared.qbo_traffic.batches.fetch_add(1, Ordering::Relaxed);
        }
        realm.in_flight += 1;
    }
    let _slot = InFlight {
        shared: shared.clone(),
        realm: realm_id,
    };
    service::hold_if_slow(&request).await;
    let mut response = next.run(request).await;
    if let Ok(tid) = HeaderValue::from_str(&format!("1-{}-{}", random_digits(8), random_digits(12)))
    {
        response.headers_mut().insert("intuit_tid", tid);
    }
    response
}

async fn unsupported(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let path = uri.path();
    Fault::unsupported(format!("Operation Could not find resource for relative : {path} of full path: {}{path} is not supported.", shared.urls.qbo_api))
        .response(shared.now())
}

#[derive(Debug, Deserialize)]
struct WriteParams {
    operation: Option<String>,
    /// `void` with `operation=update` voids a Payment or SalesReceipt.
    include: Option<String>,
    requestid: Option<String>,
}

fn entity_or_fault(name: &str) -> Result<&'static str, Fault> {
    canonical(name).ok_or_else(|| {
        Fault::unsupported(format!(
            "Operation Could not find resource for relative : /{name} is not supported."
        ))
    })
}

async fn write(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity)): Path<(String, String)>,
    QueryParams(params): QueryParams<WriteParams>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let entity = match entity_or_fault(&entity) {
        Ok(entity) => entity,
        Err(fault) => return fault.response(now),
    };
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    if let Some(first) = replay(realm, params.requestid.as_ref()) {
        return first;
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => {
            return Fault::validation(
                "2010",
                "Request has invalid or unsupported property",
                format!("Unable to parse the request body: {error}"),
            )
            .response(now);
        }
    };
    let op = match Op::requested(
        entity,
        params.operation.as_deref(),
        params.include.as_deref(),
        body.get("Id").is_some(),
    ) {
        Ok(op) => op,
        Err(fault) => return fault.response(now),
    };
    let (status, answer) = match realm.execute(entity, op, body, now) {
        Ok(object) => (
            StatusCode::OK,
            json!({entity: object, "time": qbo_time(now)}),
        ),
        Err(fault) => (
            fault.status,
            json!({"Fault": fault.body(), "time": qbo_time(now)}),
        ),
    };
    remember(
        realm,
        params.requestid,
        status,
        Bytes::from(answer.to_string()),
    )
}

/// The answer first given to `request_id`, if any: QBO answers a repeat with it.
fn replay(realm: &Realm, request_id: Option<&String>) -> Option<Response> {
    let (status, answer) = realm.request_ids.get(request_id?)?;
    Some(json_bytes_response(*status, answer.clone()))
}

/// Answers `answer`, and keeps it for a repeat of `request_id`.
fn remember(
    realm: &mut Realm,
    request_id: Option<String>,
    status: StatusCode,
    answer: Bytes,
) -> Response {
    if let Some(request_id) = request_id {
        realm
            .request_ids
            .insert(request_id, (status, answer.clone()));
    }
    json_bytes_response(status, answer)
}

async fn read(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    if entity.eq_ignore_ascii_case("companyinfo") {
        return json_response(
            StatusCode::OK,
            &json!({"CompanyInfo": realm.company_info, "time": qbo_time(now)}),
        );
    }
    let result = entity_or_fault(&entity)
        .and_then(|entity| realm.read(entity, &id).map(|row| (entity, row)));
    match result {
        Ok((entity, row)) => {
            json_response(StatusCode::OK, &json!({entity: row, "time": qbo_time(now)}))
        }
        Err(fault) => fault.response(now),
    }
}

async fn preferences(State(shared): State<Arc<Shared>>, Path(realm_id): Path<String>) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    json_response(
        StatusCode::OK,
        &json!({"Preferences": realm.preferences, "time": qbo_time(now)}),
    )
}

#[derive(Debug, Deserialize)]
struct QueryParam {
    query: Option<String>,
}

fn answer_query(shared: &Shared, realm_id: &str, statement: &str) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    match store.realm(realm_id, now).query(statement) {
        Ok(result) => json_response(
            StatusCode::OK,
            &object([("QueryResponse", result), ("time", json!(qbo_time(now)))]),
        ),
        Err(fault) => fault.response(now),
    }
}

async fn query_get(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    QueryParams(param): QueryParams<QueryParam>,
) -> Response {
    answer_query(
        &shared,
        &realm_id,
        param.query.as_deref().unwrap_or_default(),
    )
}

async fn query_post(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    body: Bytes,
) -> Response {
    answer_query(&shared, &realm_id, &String::from_utf8_lossy(&body))
}

#[derive(Debug, Deserialize)]
struct CdcParams {
    entities: Option<String>,
    #[serde(rename = "changedSince")]
    changed_since: Option<String>,
}

/// `changedSince`: a timestamp with its offset, or without one (python-quickbooks'
/// `change_data_capture` sends `%Y-%m-%dT%H:%M:%S`), or a date; the last two are read in the
/// company's time zone.
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
        })?;
    Some(
        local
            .and_local_timezone(crate::util::pacific())
            .earliest()?
            .with_timezone(&Utc),
    )
}

async fn cdc(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    QueryParams(params): QueryParams<CdcParams>,
) -> Response {
    let now = shared.now();
    let Some(since) = params.changed_since.as_deref().and_then(parse_instant) else {
        return Fault::required("changedSince").response(now);
    };
    if since < now - Duration::days(CDC_LOOKBACK_DAYS) {
        return Fault::validation(
            "4001",
            "Invalid query",
            "QueryValidationError: changedSince cannot be more than 30 days in the past",
        )
        .response(now);
    }
    let mut entities = Vec::new();
    for name in params
        .entities
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match canonical(name) {
            Some(entity) => entities.push(entity),
            None => {
                return Fault::invalid_query(&format!("invalid context declaration: {name}"))
                    .response(now);
            }
        }
    }
    if entities.is_empty() {
        return Fault::required("entities").response(now);
    }
    let mut store = lock(&shared.qbo);
    let answer = store.realm(&realm_id, now).cdc(&entities, since);
    json_response(
        StatusCode::OK,
        &json!({"CDCResponse": answer, "time": qbo_time(now)}),
    )
}

async fn batch(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    QueryParams(params): QueryParams<WriteParams>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let items = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(
            |mut v| match v.get_mut("BatchItemRequest").map(Value::take) {
                Some(Value::Array(items)) => Some(items),
                _ => None,
            },
        );
    let Some(items) = items else {
        return Fault::required("BatchItemRequest").response(now);
    };
    if items.len() > MAX_BATCH_ITEMS {
        return Fault::business(format!(
            "The batch contains {} items; at most {MAX_BATCH_ITEMS} are allowed",
            items.len()
        ))
        .response(now);
    }
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    if let Some(first) = replay(realm, params.requestid.as_ref()) {
        return first;
    }
    // Items run in order but cannot see what earlier items in the same batch created.
    let mut created: HashSet<(&'static str, u64)> = HashSet::new();
    let mut responses = Vec::new();
    for mut item in items {
        let bid = item.get("bId").cloned().unwrap_or(Value::Null);
        let outcome = batch_item(realm, &mut item, &mut created, now);
        let mut response = match outcome {
            Ok((key, value)) => object([(key.as_str(), value)]),
            Err(fault) => json!({"Fault": fault.body()}),
        };
        response["bId"] = bid;
        responses.push(response);
    }
    let answer = Bytes::from(
        object([
            ("BatchItemResponse", Value::Array(responses)),
            ("time", json!(qbo_time(now))),
        ])
        .to_string(),
    );
    remember(realm, params.requestid, StatusCode::OK, answer)
}

fn batch_item(
    realm: &mut Realm,
    item: &mut Value,
    created: &mut HashSet<(&'static str, u64)>,
    now: DateTime<Utc>,
) -> Result<(String, Value), Fault> {
    if let Some(statement) = item.get("Query").and_then(Value::as_str) {
        return realm
            .query(statement)
            .map(|r| ("QueryResponse".to_owned(), r));
    }
    let operation = item
        .get("operation")
        .and_then(Value::as_str)
        .map(str::to_owned);
    // A batch item's `optionsData` is the `?include=` of a single request.
    let include = item
        .get("optionsData")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let object = item
        .as_object_mut()
        .ok_or_else(|| Fault::required("BatchItemRequest"))?;
    let (entity, body) = object
        .iter_mut()
        .find_map(|(k, v)| canonical(k).filter(|e| e == k).map(|e| (e, v.take())))
        .ok_or_else(|| Fault::unsupported("Batch item names no supported entity"))?;
    let Some(operation) = operation else {
        return Err(Fault::unsupported("Batch item names no operation"));
    };
    let op = Op::requested(entity, Some(&operation), include.as_deref(), false)?;
    if op != Op::Create {
        let target = body
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok());
        if target.is_some_and(|id| created.contains(&(entity, id))) {
            return Err(Fault::not_found());
        }
    }
    let result = realm.execute(entity, op, body, now)?;
    if op == Op::Create
        && let Some(id) = result["Id"].as_str().and_then(|s| s.parse::<u64>().ok())
    {
        created.insert((entity, id));
    }
    Ok((entity.to_owned(), result))
}
