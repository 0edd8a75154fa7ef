//! Writing records: insert, update (with `If-Unmodified-Since`), upsert and delete, at most
//! 100 records a call, answered one entry per record in input order.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::meta::ModuleDef;
use super::{
    MAX_WRITE_RECORDS, Store, invalid_module, limit_exceeded, mandatory_missing, owner_ref,
    parse_time, record_error, required_param, top_error,
};
use crate::util::{header, json_response, strings};
use crate::{Shared, lock};

fn write_summary(details: &Value) -> Value {
    json!({
        "Modified_Time": details["Modified_Time"], "Modified_By": owner_ref(), "Created_Time": details["Created_Time"],
        "id": details["id"], "Created_By": owner_ref()
    })
}

/// Checks and stores record `index` of a write call (`existing`: the record it updates): the
/// stored record, or the entry saying why not.
fn save_one(
    store: &mut Store,
    module: &ModuleDef,
    input: &Value,
    index: usize,
    existing: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<Value, Value> {
    let empty = Map::new();
    let input = input.as_object().unwrap_or(&empty);
    let record = store.build_checked(module, input, index, existing, now, true)?;
    Ok(store.save(module.api_name, record))
}

/// The answer to a write call: one entry per record, in input order.
fn write_answer(entries: &[Value], all_good: StatusCode) -> Response {
    json_response(write_status(entries, all_good), &json!({"data": entries}))
}

/// 201/200 all good, 207 mixed, 400 all failed (412 when every failure is ALREADY_MODIFIED).
pub(super) fn write_status(entries: &[Value], all_good: StatusCode) -> StatusCode {
    let failures = entries.iter().filter(|e| e["status"] == "error").count();
    if failures == 0 {
        all_good
    } else if failures < entries.len() {
        StatusCode::MULTI_STATUS
    } else if entries.iter().all(|e| e["code"] == "ALREADY_MODIFIED") {
        StatusCode::PRECONDITION_FAILED
    } else {
        StatusCode::BAD_REQUEST
    }
}

fn parse_data(body: &Bytes) -> Result<(Vec<Value>, Value), Response> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| {
        top_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "body is not a valid JSON",
            json!({}),
        )
    })?;
    let Some(data) = parsed.get("data").and_then(Value::as_array).cloned() else {
        return Err(top_error(
            StatusCode::BAD_REQUEST,
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({"api_name": "data", "json_path": "$.data"}),
        ));
    };
    if data.len() > MAX_WRITE_RECORDS {
        return Err(limit_exceeded(MAX_WRITE_RECORDS, "data"));
    }
    Ok((data, parsed))
}

pub(super) async fn insert(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    let (data, _) = match parse_data(&body) {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let mut entries = Vec::new();
    for (index, input) in data.iter().enumerate() {
        let entry = match save_one(&mut store, &module, input, index, None, now) {
            Ok(saved) => {
                let mut details = write_summary(&saved);
                details["$approval_state"] = json!("approved");
                json!({"code": "SUCCESS", "details": details, "message": "record added", "status": "success"})
            }
            Err(error) => error,
        };
        entries.push(entry);
    }
    store.notify(
        module.api_name,
        "insert",
        &entries,
        now,
        &shared.urls.zoho_api,
    );
    write_answer(&entries, StatusCode::CREATED)
}

fn apply_update(
    store: &mut Store,
    module: &ModuleDef,
    input: &Value,
    id: Option<&str>,
    index: usize,
    unmodified_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Value {
    let id = id
        .map(str::to_owned)
        .or_else(|| input.get("id").and_then(Value::as_str).map(str::to_owned));
    let Some(id) = id else {
        return mandatory_missing("id", &format!("$.data[{index}].id"));
    };
    let Some(existing) = store.get(module.api_name, &id).cloned() else {
        return record_error(
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({"api_name": "id", "json_path": format!("$.data[{index}].id")}),
        );
    };
    if let Some(limit) = unmodified_since
        && existing["Modified_Time"]
            .as_str()
            .and_then(parse_time)
            .is_some_and(|m| m > limit)
    {
        return record_error(
            "ALREADY_MODIFIED",
            "record updated time has already passed if-unmodified-since time",
            write_summary(&existing),
        );
    }
    match save_one(store, module, input, index, Some(&existing), now) {
        Ok(saved) => {
            json!({"code": "SUCCESS", "details": write_summary(&saved), "message": "record updated", "status": "success"})
        }
        Err(error) => error,
    }
}

pub(super) async fn update_many(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(&shared, &module, None, &headers, &body)
}

pub(super) async fn update_one(
    State(shared): State<Arc<Shared>>,
    Path((module, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(&shared, &module, Some(&id), &headers, &body)
}

fn update(
    shared: &Shared,
    module: &str,
    id: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let Some(module) = store.record_module(module) else {
        return invalid_module();
    };
    let (data, _) = match parse_data(body) {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let unmodified_since = header(headers, "if-unmodified-since").and_then(parse_time);
    let entries: Vec<Value> = data
        .iter()
        .enumerate()
        .map(|(i, input)| apply_update(&mut store, &module, input, id, i, unmodified_since, now))
        .collect();
    store.notify(
        module.api_name,
        "update",
        &entries,
        now,
        &shared.urls.zoho_api,
    );
    write_answer(&entries, StatusCode::OK)
}

pub(super) async fn upsert(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    let (data, parsed) = match parse_data(&body) {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    // Without duplicate_check_fields Zoho uses the module's unique fields.
    let check_fields: Vec<String> = parsed
        .get("duplicate_check_fields")
        .and_then(strings)
        .unwrap_or_else(|| {
            module
                .fields
                .iter()
                .filter(|f| f.unique)
                .map(|f| f.api_name.to_owned())
                .collect()
        });
    let mut entries = Vec::new();
    for (index, input) in data.iter().enumerate() {
        let found = check_fields.iter().find_map(|field| {
            let wanted = input.get(field).and_then(Value::as_str)?.to_lowercase();
            let existing = store.records(module.api_name).find(|r| {
                r[field]
                    .as_str()
                    .is_some_and(|v| v.to_lowercase() == wanted)
            })?;
            Some((
                field.clone(),
                existing["id"].as_str().unwrap_or_default().to_owned(),
            ))
        });
        let entry = match found {
            Some((field, id)) => {
                let mut entry =
                    apply_update(&mut store, &module, input, Some(&id), index, None, now);
                if entry["status"] == "success" {
                    entry["action"] = json!("update");
                    entry["duplicate_field"] = json!(field);
                }
                entry
            }
            None => match save_one(&mut store, &module, input, index, None, now) {
                Ok(saved) => {
                    json!({"code": "SUCCESS", "duplicate_field": null, "action": "insert", "details": write_summary(&saved), "message": "record added", "status": "success"})
                }
                Err(error) => error,
            },
        };
        entries.push(entry);
    }
    let (updated, inserted): (Vec<Value>, Vec<Value>) = entries
        .iter()
        .cloned()
        .partition(|e| e["action"] == "update");
    store.notify(
        module.api_name,
        "update",
        &updated,
        now,
        &shared.urls.zoho_api,
    );
    store.notify(
        module.api_name,
        "insert",
        &inserted,
        now,
        &shared.urls.zoho_api,
    );
    write_answer(&entries, StatusCode::OK)
}

fn delete_ids(shared: &Shared, module: &str, ids: &[String]) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let Some(module) = store.record_module(module) else {
        return invalid_module();
    };
    if ids.len() > MAX_WRITE_RECORDS {
        return limit_exceeded(MAX_WRITE_RECORDS, "ids");
    }
    let entries: Vec<Value> = ids
        .iter()
        .map(|id| {
            if store.delete(&module, id, now) {
                json!({"status": "success", "code": "SUCCESS", "message": "record deleted", "details": {"id": id}})
            } else {
                json!({"status": "error", "code": "INVALID_DATA", "message": "record not deleted", "details": {"id": id}})
            }
        })
        .collect();
    store.notify(
        module.api_name,
        "delete",
        &entries,
        now,
        &shared.urls.zoho_api,
    );
    write_answer(&entries, StatusCode::OK)
}

pub(super) async fn delete_many(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(ids) = params.get("ids") else {
        return required_param("ids");
    };
    let ids: Vec<String> = ids
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    delete_ids(&shared, &module, &ids)
}

pub(super) async fn delete_one(
    State(shared): State<Arc<Shared>>,
    Path((module, id)): Path<(String, String)>,
) -> Response {
    delete_ids(&shared, &module, &[id])
}
