//! Watch channels (`/actions/watch`) and the notifications every insert, update, upsert and
//! delete sends to the channels watching it (one attempt, like Zoho's best effort).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::writes::write_status;
use super::{Store, parse_time, record_error, required_param, top_error, zoho_time};
use crate::util::{json_response, strings};
use crate::{Shared, lock};

/// A watch channel (`/actions/watch`).
#[derive(Debug, Clone)]
pub(super) struct Channel {
    pub(super) channel_id: String,
    pub(super) events: Vec<String>,
    pub(super) notify_url: String,
    pub(super) token: Option<String>,
    pub(super) expires_at: DateTime<Utc>,
}

impl Store {
    /// Queues a notification for every live channel watching this module and operation, naming
    /// the records a write call changed (its successful `entries`).
    pub(super) fn notify(
        &mut self,
        module: &str,
        operation: &str,
        entries: &[Value],
        now: DateTime<Utc>,
        api_base: &str,
    ) {
        let ids = succeeded(entries);
        if ids.is_empty() {
            return;
        }
        let event = match operation {
            "insert" => "create",
            "update" => "edit",
            _ => "delete",
        };
        for channel in self.channels.iter().filter(|c| c.expires_at > now) {
            let watches = channel.events.iter().any(|e| {
                e.eq_ignore_ascii_case(&format!("{module}.{event}"))
                    || e.eq_ignore_ascii_case(&format!("{module}.all"))
            });
            if watches {
                let body = json!({
                    "server_time": now.timestamp_millis(), "query_params": {}, "module": module,
                    "resource_uri": format!("{api_base}/crm/v8/{module}"), "ids": ids, "affected_fields": [],
                    "operation": operation, "channel_id": channel.channel_id, "token": channel.token,
                });
                self.outbox.push((channel.notify_url.clone(), body));
            }
        }
    }
}

/// Ids of the records a write call changed.
fn succeeded(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["status"] == "success")
        .filter_map(|e| e["details"]["id"].as_str().map(str::to_owned))
        .collect()
}

/// POSTs the queued watch notifications (after the request that caused them; best effort, one
/// attempt).
pub(super) fn deliver(shared: &Arc<Shared>) {
    let outbox = std::mem::take(&mut lock(&shared.zoho).outbox);
    for (url, body) in outbox {
        let http = shared.http.clone();
        tokio::spawn(async move {
            if let Err(error) = http.post(&url).json(&body).send().await {
                tracing::debug!(%error, %url, "zoho notification not delivered");
            }
        });
    }
}

const MAX_CHANNEL_DAYS: i64 = 7;

pub(super) async fn watch_enable(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now();
    let Some(items) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["watch"].as_array().cloned())
    else {
        return top_error(
            StatusCode::BAD_REQUEST,
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({"api_name": "watch", "json_path": "$.watch"}),
        );
    };
    let mut store = lock(&shared.zoho);
    let mut answers = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let field = |name: &str| item[name].as_str().map(str::to_owned);
        let (Some(channel_id), Some(notify_url)) = (
            field("channel_id").or_else(|| item["channel_id"].as_u64().map(|n| n.to_string())),
            field("notify_url"),
        ) else {
            answers.push(record_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({"api_name": "channel_id", "json_path": format!("$.watch[{index}]")}),
            ));
            continue;
        };
        let events: Vec<String> = strings(&item["events"]).unwrap_or_default();
        let unknown = events.iter().find(|e| {
            let (module, op) = e.split_once('.').unwrap_or((e, ""));
            store.record_module(module).is_none()
                || !matches!(op, "create" | "edit" | "delete" | "all")
        });
        if events.is_empty() || unknown.is_some() {
            answers.push(record_error(
                "INVALID_DATA",
                "invalid data",
                json!({"api_name": "events", "json_path": format!("$.watch[{index}].events")}),
            ));
            continue;
        }
        let expiry = field("channel_expiry")
            .and_then(|t| parse_time(&t))
            .unwrap_or(now + Duration::hours(1));
        if expiry > now + Duration::days(MAX_CHANNEL_DAYS) || expiry <= now {
            answers.push(record_error("INVALID_DATA", "invalid data", json!({"api_name": "channel_expiry", "json_path": format!("$.watch[{index}].channel_expiry")})));
            continue;
        }
        store.channels.retain(|c| c.channel_id != channel_id);
        let channel = Channel {
            channel_id: channel_id.clone(),
            events: events.clone(),
            notify_url,
            token: field("token"),
            expires_at: expiry,
        };
        store.channels.push(channel);
        let details: Vec<Value> = events
            .iter()
            .filter_map(|e| e.split_once('.').map(|(m, _)| m))
            .map(|module| {
                let id = store.module(module).map_or("", |m| m.id);
                json!({"channel_expiry": zoho_time(expiry), "resource_uri": format!("{}/crm/v8/{module}", shared.urls.zoho_api), "resource_id": id, "resource_name": module, "channel_id": channel_id})
            })
            .collect();
        answers.push(json!({"code": "SUCCESS", "details": {"events": details}, "message": "Successfully subscribed for actions-watch of the given module", "status": "success"}));
    }
    let status = if answers.iter().all(|a| a["status"] == "success") {
        StatusCode::CREATED
    } else {
        write_status(&answers, StatusCode::CREATED)
    };
    json_response(status, &json!({"watch": answers}))
}

pub(super) async fn watch_details(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.now();
    let store = lock(&shared.zoho);
    let watch: Vec<Value> = store
        .channels
        .iter()
        .filter(|c| c.expires_at > now)
        .map(|c| json!({"channel_id": c.channel_id, "events": c.events, "notify_url": c.notify_url, "token": c.token, "channel_expiry": zoho_time(c.expires_at)}))
        .collect();
    if watch.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    json_response(StatusCode::OK, &json!({"watch": watch}))
}

pub(super) async fn watch_disable(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(ids) = params.get("channel_ids") else {
        return required_param("channel_ids");
    };
    let mut store = lock(&shared.zoho);
    let answers: Vec<Value> = ids
        .split(',')
        .map(|id| {
            let before = store.channels.len();
            store.channels.retain(|c| c.channel_id != id);
            if store.channels.len() < before {
                json!({"code": "SUCCESS", "details": {"channel_id": id}, "message": "Successfully unsubscribed from actions-watch", "status": "success"})
            } else {
                record_error("INVALID_DATA", "invalid data", json!({"channel_id": id}))
            }
        })
        .collect();
    json_response(
        write_status(&answers, StatusCode::OK),
        &json!({"watch": answers}),
    )
}
