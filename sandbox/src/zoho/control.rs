//! This service's part of the control API: `/_sandbox/zoho/{module}[/{id}]` reads records
//! back, `DELETE` and `…/touch` are a user's delete and edit in the CRM, and
//! `/_sandbox/zoho-fields/{module}` an admin adding a custom field.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::normalize::presented;
use super::{invalid_module, meta, zoho_time};
use crate::util::json_response;
use crate::{Shared, lock};

pub async fn list(State(shared): State<Arc<Shared>>, Path(module): Path<String>) -> Response {
    let store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    let records: Vec<Value> = store
        .records(module.api_name)
        .map(|r| presented(&module, r))
        .collect();
    json_response(StatusCode::OK, &json!({"records": records}))
}

pub async fn get(
    State(shared): State<Arc<Shared>>,
    Path((module, id)): Path<(String, String)>,
) -> Response {
    let store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    match store.get(module.api_name, &id) {
        Some(record) => json_response(StatusCode::OK, &presented(&module, record)),
        None => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((module, id)): Path<(String, String)>,
) -> Response {
    match delete_record(&shared, &module, &id) {
        None => invalid_module(),
        Some(true) => json_response(StatusCode::OK, &json!({"deleted": id})),
        Some(false) => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

/// Deletes a record as a user would in the CRM: `None` for an unknown module, else whether
/// the record was there.
pub fn delete_record(shared: &Shared, module: &str, id: &str) -> Option<bool> {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let module = store.record_module(module)?;
    Some(store.delete(&module, id, now))
}

/// Simulates a user editing the record in the CRM UI (moves Modified_Time to now).
/// `POST /_sandbox/zoho/{module}/{id}/touch`: a user edit. Stamps `Modified_Time`; a JSON
/// object body (optional) sets those fields first.
pub async fn touch(
    State(shared): State<Arc<Shared>>,
    Path((module, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let changes: Map<String, Value> = serde_json::from_slice(&body).unwrap_or_default();
    match touch_record(&shared, &module, &id, changes) {
        None => invalid_module(),
        Some(Some(record)) => json_response(StatusCode::OK, &record),
        Some(None) => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

/// A user's edit: sets `changes` and stamps `Modified_Time`. `None` for an unknown module,
/// else the record as it is now, if it exists.
pub fn touch_record(
    shared: &Shared,
    module: &str,
    id: &str,
    changes: Map<String, Value>,
) -> Option<Option<Value>> {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let module = store.record_module(module)?;
    let Some(key) = id.parse::<u64>().ok() else {
        return Some(None);
    };
    store.changed_records(module.api_name);
    let Some(record) = store
        .records
        .get_mut(module.api_name)
        .and_then(|rows| rows.get_mut(&key))
    else {
        return Some(None);
    };
    for (field, value) in changes {
        if field != "id" {
            record[field.as_str()] = value;
        }
    }
    record["Modified_Time"] = json!(zoho_time(now));
    Some(Some(record.clone()))
}

/// Most custom fields one module takes through the control API (Zoho's own limit is higher;
/// this only bounds what a test run can add).
const MAX_ADDED_FIELDS: usize = 100;

#[derive(Debug, serde::Deserialize)]
pub struct NewField {
    api_name: String,
    label: String,
    #[serde(default)]
    data_type: Option<String>,
}

/// Simulates an admin adding a custom field in Zoho's setup: `/settings/fields` lists it from
/// now on and records may carry it.
pub async fn add_field(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    axum::Json(new): axum::Json<NewField>,
) -> Response {
    let bad = |message: &str| json_response(StatusCode::BAD_REQUEST, &json!({"error": message}));
    let valid_name = !new.api_name.is_empty()
        && new.api_name.len() <= 100
        && new
            .api_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name || new.label.trim().is_empty() {
        return bad("api_name (letters, digits, _) and label are required");
    }
    let requested = new.data_type.as_deref().unwrap_or("text");
    let Some(data_type) = meta::ADDABLE_TYPES.iter().find(|t| **t == requested) else {
        return bad("unsupported data_type");
    };
    let mut store = lock(&shared.zoho);
    let Some(def) = store
        .modules
        .iter_mut()
        .find(|m| !m.subform && m.api_name.eq_ignore_ascii_case(&module))
    else {
        return invalid_module();
    };
    if def
        .fields
        .iter()
        .any(|f| f.api_name.eq_ignore_ascii_case(&new.api_name))
    {
        return json_response(StatusCode::CONFLICT, &json!({"error": "field exists"}));
    }
    if def.fields.iter().filter(|f| f.custom).count() >= MAX_ADDED_FIELDS {
        return bad("too many custom fields");
    }
    // Field definitions are `'static` (the built-in org is data in code); the few fields a test
    // adds are leaked for the simulator's lifetime, bounded by MAX_ADDED_FIELDS.
    let api_name: &'static str = Box::leak(new.api_name.into_boxed_str());
    let label: &'static str = Box::leak(new.label.trim().to_owned().into_boxed_str());
    def.fields
        .push(meta::added_custom_field(api_name, label, data_type));
    let index = def.fields.len() - 1;
    let shown = meta::field_json(def, &def.fields[index], index);
    json_response(StatusCode::CREATED, &shown)
}
