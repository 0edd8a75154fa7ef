//! This service's part of the control API: `/_sandbox/qbo/{realm}/{Entity}[/{id}]` reads
//! stored rows back, `…/touch` simulates a concurrent edit, `DELETE` a deletion made in QBO.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Realm, canonical, webhooks};
use crate::util::json_response;
use crate::{Shared, lock};

/// Runs `act` on the realm's books for a known entity; an unknown entity is 404.
fn on_realm(
    shared: &Shared,
    realm_id: &str,
    entity: &str,
    act: impl FnOnce(&mut Realm, &'static str, DateTime<Utc>) -> Response,
) -> Response {
    let Some(entity) = canonical(entity) else {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("unknown entity {entity}")}),
        );
    };
    let now = shared.now();
    act(lock(&shared.qbo).realm(realm_id, now), entity, now)
}

fn row_or_not_found(row: Option<Value>) -> Response {
    match row {
        Some(row) => json_response(StatusCode::OK, &row),
        None => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

/// `GET /_sandbox/qbo/{realm}/{Entity}`: every stored row, inactive ones included.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity)): Path<(String, String)>,
) -> Response {
    on_realm(&shared, &realm_id, &entity, |realm, entity, _| {
        let rows: Vec<Value> = realm.rows(entity).cloned().collect();
        json_response(StatusCode::OK, &json!({"rows": rows}))
    })
}

/// `GET /_sandbox/qbo/{realm}/{Entity}/{id}`: one stored row.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    on_realm(&shared, &realm_id, &entity, |realm, entity, _| {
        row_or_not_found(realm.read(entity, &id).ok())
    })
}

/// `POST …/{id}/touch`: another user edits the object (SyncToken + 1), so the client's next
/// update is stale.
pub async fn touch(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    change(&shared, &realm_id, &entity, &id, Realm::touch)
}

/// `DELETE …/{id}`: a deletion made in QBO itself (transactions go, names become inactive).
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    change(&shared, &realm_id, &entity, &id, Realm::remote_delete)
}

/// Makes a change in QBO itself, announces it to the webhook and answers the row as it is now.
fn change(
    shared: &Arc<Shared>,
    realm_id: &str,
    entity: &str,
    id: &str,
    edit: fn(&mut Realm, &'static str, u64, DateTime<Utc>) -> Option<Value>,
) -> Response {
    let answer = on_realm(shared, realm_id, entity, |realm, entity, now| {
        let id = id.parse::<u64>().ok();
        row_or_not_found(id.and_then(|id| edit(realm, entity, id, now)))
    });
    webhooks::flush_webhooks(shared);
    answer
}
