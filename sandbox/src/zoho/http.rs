//! The Zoho API's routes and the guard in front of them (token, scopes, org concurrency and
//! the rolling 24 h credits), the metadata (`/settings/modules`, `/settings/fields`) and users.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Duration;
use serde_json::{Value, json};

use super::{invalid_module, meta, notifications, page, reads, required_param, top_error, writes};
use crate::service;
use crate::util::{bearer, json_response};
use crate::{Service, Shared, lock};

/// The Zoho API under `/crm/v8/`, every route behind the guard, and the web UI's record page;
/// the notifications a request caused are sent once it is answered.
pub fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/crm/v8/settings/modules", get(settings_modules))
        .route("/crm/v8/settings/fields", get(settings_fields))
        .route("/crm/v8/coql", axum::routing::post(reads::coql_query))
        .route(
            "/crm/v8/actions/watch",
            get(notifications::watch_details)
                .post(notifications::watch_enable)
                .put(notifications::watch_enable)
                .delete(notifications::watch_disable),
        )
        .route("/crm/v8/users", get(users))
        .route("/crm/v8/users/{id}", get(user))
        .route(
            "/crm/v8/{module}",
            get(reads::list)
                .post(writes::insert)
                .put(writes::update_many)
                .delete(writes::delete_many),
        )
        .route(
            "/crm/v8/{module}/upsert",
            axum::routing::post(writes::upsert),
        )
        .route("/crm/v8/{module}/search", get(reads::search))
        .route("/crm/v8/{module}/deleted", get(reads::deleted))
        .route("/crm/v8/{module}/actions/count", get(reads::count))
        .route(
            "/crm/v8/{module}/{id}",
            get(reads::get_one)
                .put(writes::update_one)
                .delete(writes::delete_one),
        )
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard))
        // The web UI's record page, where people follow a link: no API token, no API credits.
        .route("/crm/tab/{module}/{id}", get(page::record_page))
        .layer(middleware::from_fn_with_state(
            (shared.clone(), notifications::deliver as service::Deliver),
            service::deliver_after,
        ))
        .fallback(|| async {
            top_error(
                StatusCode::BAD_REQUEST,
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
                json!({}),
            )
        })
        .method_not_allowed_fallback(|| async {
            top_error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST_METHOD",
                "The http request method type is not a valid one",
                json!({}),
            )
        })
}

struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut store = lock(&self.0.zoho);
        store.in_flight = store.in_flight.saturating_sub(1);
    }
}

/// Whether comma-separated Zoho scopes cover the call: `ZohoCRM.modules.ALL`, per-module
/// `ZohoCRM.modules.{module}.{READ|CREATE|UPDATE|DELETE|ALL}`, `ZohoCRM.settings.{ALL|fields.READ|...}`,
/// `ZohoCRM.users.{READ|ALL}`.
fn scope_allows(scope: &str, method: &axum::http::Method, path: &str) -> bool {
    let granted: Vec<String> = scope
        .split([',', ' '])
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let has = |wanted: &str| granted.iter().any(|g| g == wanted);
    let segments: Vec<&str> = path.trim_start_matches("/crm/v8/").split('/').collect();
    let operation = match *method {
        axum::http::Method::GET => "read",
        axum::http::Method::POST => "create",
        axum::http::Method::PUT => "update",
        axum::http::Method::DELETE => "delete",
        _ => "all",
    };
    match segments.first().copied().unwrap_or_default() {
        "settings" => {
            let area = segments.get(1).copied().unwrap_or_default();
            has("zohocrm.settings.all")
                || has(&format!("zohocrm.settings.{area}.all"))
                || has(&format!("zohocrm.settings.{area}.read"))
        }
        "users" => has("zohocrm.users.all") || has("zohocrm.users.read"),
        "coql" => has("zohocrm.coql.read") || has("zohocrm.coql.all"),
        "actions" => {
            has("zohocrm.notifications.all") || has(&format!("zohocrm.notifications.{operation}"))
        }
        module => {
            let module = module.to_lowercase().replace('_', "");
            has("zohocrm.modules.all")
                || has(&format!("zohocrm.modules.{operation}"))
                || has(&format!("zohocrm.modules.{module}.all"))
                || has(&format!("zohocrm.modules.{module}.{operation}"))
        }
    }
}

/// Token check, org concurrency and the rolling 24 h credit budget.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let now = shared.now();
    let checked = bearer(request.headers(), "Zoho-oauthtoken")
        .map(|token| lock(&shared.oauth).check_zoho_access(&token, now));
    let Some(Ok(scope)) = checked else {
        return top_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "invalid oauth token",
            json!({}),
        );
    };
    if let Some(scope) = scope
        && !scope_allows(&scope, request.method(), request.uri().path())
    {
        return top_error(
            StatusCode::UNAUTHORIZED,
            "OAUTH_SCOPE_MISMATCH",
            "Unauthorized",
            json!({}),
        );
    }
    {
        let mut store = lock(&shared.zoho);
        while store
            .credits
            .front()
            .is_some_and(|t| *t <= now - Duration::hours(24))
        {
            store.credits.pop_front();
        }
        if store.in_flight >= shared.config.zoho_max_concurrent
            || store.credits.len() >= shared.config.zoho_daily_credits
        {
            drop(store);
            return service::error_response(
                &shared,
                Service::ZohoApi,
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        store.credits.push_back(now);
        store.in_flight += 1;
    }
    let _slot = Slot(shared.clone());
    service::hold_if_slow(&request).await;
    next.run(request).await
}

async fn settings_modules(State(shared): State<Arc<Shared>>) -> Response {
    let store = lock(&shared.zoho);
    let modules: Vec<Value> = store
        .modules
        .iter()
        .filter(|m| !m.subform)
        .enumerate()
        .map(|(i, m)| meta::module_json(m, i + 1))
        .collect();
    json_response(StatusCode::OK, &json!({"modules": modules}))
}

async fn settings_fields(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(name) = params.get("module") else {
        return required_param("module");
    };
    let store = lock(&shared.zoho);
    let Some(module) = store.module(name) else {
        return invalid_module();
    };
    let fields: Vec<Value> = module
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| meta::field_json(module, f, i))
        .collect();
    json_response(StatusCode::OK, &json!({"fields": fields}))
}

fn sandbox_user() -> Value {
    serde_json::from_str(include_str!("user.json")).unwrap_or(Value::Null)
}

async fn users() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"users": [sandbox_user()], "info": {"per_page": 200, "count": 1, "page": 1, "more_records": false}}),
    )
}

async fn user(Path(id): Path<String>) -> Response {
    let user = sandbox_user();
    if user["id"] == id.as_str() {
        json_response(StatusCode::OK, &json!({"users": [user]}))
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}
