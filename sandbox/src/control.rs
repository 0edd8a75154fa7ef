//! `/_sandbox/...`: the test-facing control API (fault injection, clock, tokens, read-back) and the
//! middleware that applies injected faults and records every write.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::service::{Delay, error_response};
use crate::util::{json_response, nest_form, parse_form};
use crate::{Service, Shared, lock, qbo, zoho};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 429 in the service's own envelope.
    RateLimit,
    /// HTTP 500 in the service's own envelope.
    ServerError,
    /// Holds the request for `delay_ms` (default 30 s), then answers 504: clients should have timed out.
    Timeout,
    /// Holds the request for `delay_ms`, then serves it normally.
    Slow,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FaultRule {
    pub service: Service,
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    fn take(&mut self, service: Service) -> Option<FaultRule> {
        let index = self
            .rules
            .iter()
            .position(|r| r.service == service && r.count > 0)?;
        let rule = &mut self.rules[index];
        rule.count -= 1;
        let taken = rule.clone();
        if rule.count == 0 {
            self.rules.remove(index);
        }
        Some(taken)
    }
}

async fn apply_faults(
    State((shared, service)): State<(Arc<Shared>, Service)>,
    request: Request,
    next: Next,
) -> Response {
    // The control API, and the CRM's web pages a person opens from a link (a page view is not
    // an API call, so it must not use up a fault a test meant for the API).
    let path = request.uri().path();
    if path.starts_with("/_sandbox") || path.starts_with("/crm/tab/") {
        return next.run(request).await;
    }
    let rule = lock(&shared.faults).take(service);
    let mut request = request;
    if let Some(rule) = rule {
        if rule.kind == FaultKind::Slow && matches!(service, Service::QboApi | Service::ZohoApi) {
            // The service guard sleeps while holding a concurrency slot, as a slow server would.
            request
                .extensions_mut()
                .insert(Delay(std::time::Duration::from_millis(
                    rule.delay_ms.unwrap_or(0),
                )));
            return next.run(request).await;
        }
        let delay = std::time::Duration::from_millis(rule.delay_ms.unwrap_or(match rule.kind {
            FaultKind::Timeout => 30_000,
            _ => 0,
        }));
        tokio::time::sleep(delay).await;
        let status = match rule.kind {
            FaultKind::RateLimit => Some(StatusCode::TOO_MANY_REQUESTS),
            FaultKind::ServerError => Some(StatusCode::INTERNAL_SERVER_ERROR),
            FaultKind::Timeout => Some(StatusCode::GATEWAY_TIMEOUT),
            FaultKind::Slow => None,
        };
        if let Some(status) = status {
            return error_response(&shared, service, status);
        }
    }
    if request.method() == Method::GET
        || request.method() == Method::HEAD
        || !shared.config.record_writes
    {
        return next.run(request).await;
    }
    // Buffer the body once so the write log sees exactly what the client sent.
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &json!({"error": "body too large"}),
        );
    };
    let text = String::from_utf8_lossy(&bytes);
    let logged = serde_json::from_str::<Value>(&text).unwrap_or_else(|_| {
        let is_form = parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("form-urlencoded"));
        if is_form {
            nest_form(&parse_form(&text))
        } else {
            Value::String(text.into_owned())
        }
    });
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    shared.record_write(service, parts.method.as_str(), &path, logged);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Adds the control API and the fault/write-log middleware to one service's router.
pub fn wrap(router: Router<Arc<Shared>>, service: Service, shared: &Arc<Shared>) -> Router {
    router
        .merge(control_router())
        .layer(middleware::from_fn_with_state(
            (shared.clone(), service),
            apply_faults,
        ))
        .with_state(shared.clone())
}

fn control_router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox/faults", post(add_fault).delete(clear_faults))
        .route("/_sandbox/clock", get(clock_now))
        .route("/_sandbox/clock/advance", post(clock_advance))
        .route("/_sandbox/tokens/qbo", post(mint_qbo))
        .route("/_sandbox/tokens/zoho", post(mint_zoho))
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/tokens/revoke", post(revoke_tokens))
        .route("/_sandbox/writes", get(list_writes).delete(clear_writes))
        .route("/_sandbox/qbo/{realm}/{entity}", get(qbo::control::list))
        .route(
            "/_sandbox/qbo/{realm}/{entity}/{id}",
            get(qbo::control::get).delete(qbo::control::delete),
        )
        .route(
            "/_sandbox/qbo/{realm}/{entity}/{id}/touch",
            post(qbo::control::touch),
        )
        .route("/_sandbox/zoho/{module}", get(zoho::control::list))
        .route(
            "/_sandbox/zoho-fields/{module}",
            post(zoho::control::add_field),
        )
        .route(
            "/_sandbox/zoho/{module}/{id}",
            get(zoho::control::get).delete(zoho::control::delete),
        )
        .route(
            "/_sandbox/zoho/{module}/{id}/touch",
            post(zoho::control::touch),
        )
        .route(
            "/_sandbox/stripe/events",
            get(crate::stripe::control_events),
        )
        .route(
            "/_sandbox/stripe/customers/{id}/card",
            post(crate::stripe::control_card),
        )
}

async fn add_fault(
    State(shared): State<Arc<Shared>>,
    axum::Json(rule): axum::Json<FaultRule>,
) -> Response {
    lock(&shared.faults).rules.push(rule);
    json_response(StatusCode::OK, &json!({"ok": true}))
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.faults).rules.clear();
    json_response(StatusCode::OK, &json!({"ok": true}))
}

async fn clock_now(State(shared): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &json!({"now": shared.now().to_rfc3339()}))
}

#[derive(Debug, Deserialize)]
struct Advance {
    seconds: i64,
}

async fn clock_advance(
    State(shared): State<Arc<Shared>>,
    axum::Json(advance): axum::Json<Advance>,
) -> Response {
    shared.advance_clock(chrono::Duration::seconds(advance.seconds));
    json_response(StatusCode::OK, &json!({"now": shared.now().to_rfc3339()}))
}

#[derive(Debug, Deserialize)]
struct RealmParam {
    realm_id: Option<String>,
}

async fn mint_qbo(State(shared): State<Arc<Shared>>, Query(param): Query<RealmParam>) -> Response {
    let realm = param
        .realm_id
        .unwrap_or_else(|| shared.config.realm_id.clone());
    let now = shared.now();
    let token = lock(&shared.oauth).mint_intuit_access(&realm, now);
    json_response(
        StatusCode::OK,
        &json!({"access_token": token, "realm_id": realm}),
    )
}

async fn mint_zoho(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.now();
    let token = lock(&shared.oauth).mint_zoho_access(now);
    json_response(StatusCode::OK, &json!({"access_token": token}))
}

#[derive(Debug, Deserialize)]
struct Which {
    service: Service,
}

async fn expire_tokens(State(shared): State<Arc<Shared>>, Query(which): Query<Which>) -> Response {
    let now = shared.now();
    lock(&shared.oauth).expire_access_tokens(which.service, now);
    json_response(StatusCode::OK, &json!({"ok": true}))
}

async fn revoke_tokens(State(shared): State<Arc<Shared>>, Query(which): Query<Which>) -> Response {
    lock(&shared.oauth).revoke_all(which.service);
    json_response(StatusCode::OK, &json!({"ok": true}))
}

#[derive(Debug, Deserialize)]
struct WriteFilter {
    service: Option<Service>,
}

async fn list_writes(
    State(shared): State<Arc<Shared>>,
    Query(filter): Query<WriteFilter>,
) -> Response {
    let writes: Vec<Value> = lock(&shared.writes)
        .iter()
        .filter(|w| filter.service.is_none_or(|s| s == w.service))
        .map(|w| serde_json::to_value(w).unwrap_or(Value::Null))
        .collect();
    json_response(StatusCode::OK, &json!({"writes": writes}))
}

async fn clear_writes(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.writes).clear();
    json_response(StatusCode::OK, &json!({"ok": true}))
}
