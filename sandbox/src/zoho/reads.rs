//! Reading records: the paged list (`fields`, `page` / `page_token`, sorting,
//! `If-Modified-Since`), one record, search, count, the deleted list and COQL.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde_json::{Map, Value, json};

use super::meta::ModuleDef;
use super::normalize::{presented, project};
use super::store::PageCursor;
use super::{
    DISCRETE_PAGE_LIMIT, MAX_FIELDS, MAX_PER_PAGE, coql, criteria, invalid_criteria,
    invalid_module, invalid_param, limit_exceeded, parse_time, required_param, top_error,
    zoho_time,
};
use crate::util::{header, json_response, object, random_token};
use crate::{Shared, lock};

fn per_page(params: &HashMap<String, String>) -> Result<usize, Response> {
    let per_page = params
        .get("per_page")
        .map_or(Ok(MAX_PER_PAGE), |v| v.parse::<usize>())
        .unwrap_or(0);
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(invalid_param(
            json!({"param_name": "per_page", "maximum_length": MAX_PER_PAGE}),
        ));
    }
    Ok(per_page)
}

pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    let Some(fields) = params.get("fields").filter(|f| !f.trim().is_empty()) else {
        return required_param("fields");
    };
    let fields: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() > MAX_FIELDS {
        return limit_exceeded(MAX_FIELDS, "fields");
    }
    let per_page = match per_page(&params) {
        Ok(n) => n,
        Err(response) => return response,
    };
    let sort_by = params
        .get("sort_by")
        .map_or("id", String::as_str)
        .to_owned();
    if !matches!(sort_by.as_str(), "id" | "Created_Time" | "Modified_Time") {
        return invalid_param(
            json!({"param_name": "sort_by", "supported_values": ["id", "Created_Time", "Modified_Time"]}),
        );
    }
    let descending = params.get("sort_order").is_none_or(|o| o != "asc");
    let (offset, page) = if let Some(token) = params.get("page_token") {
        match store.page_tokens.get(token) {
            Some(cursor) if cursor.module == module.api_name && cursor.expires_at > now => {
                (cursor.offset, cursor.offset / per_page + 1)
            }
            _ => {
                return invalid_param(json!({"param_name": "page_token"}));
            }
        }
    } else {
        let page = params
            .get("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        if page * per_page > DISCRETE_PAGE_LIMIT {
            return top_error(
                StatusCode::BAD_REQUEST,
                "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                "You can only get the first 2000 records without using page_token param",
                json!({"limit": DISCRETE_PAGE_LIMIT}),
            );
        }
        ((page - 1) * per_page, page)
    };
    if offset >= shared.config.zoho_page_token_limit {
        return top_error(
            StatusCode::BAD_REQUEST,
            "PAGINATION_LIMIT_EXCEEDED",
            &format!(
                "You can only get upto {} records using page_token param",
                shared.config.zoho_page_token_limit
            ),
            json!({"param_name": "page_token"}),
        );
    }
    let since = header(&headers, "if-modified-since").and_then(parse_time);
    let times = store.times(module.api_name);
    let total_in_module = times.len();
    let since = since.map(|s| s.timestamp_millis());
    let mut keyed: Vec<(Option<i64>, u64)> = times
        .iter()
        .filter(|t| since.is_none_or(|s| t.modified.is_some_and(|m| m > s)))
        .map(|t| {
            let key = match sort_by.as_str() {
                "id" => i64::try_from(t.id).ok(),
                "Created_Time" => t.created,
                _ => t.modified,
            };
            (key, t.id)
        })
        .collect();
    if keyed.is_empty() {
        return if since.is_some() && total_in_module > 0 {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            StatusCode::NO_CONTENT.into_response()
        };
    }
    // Stable, so equal keys stay in id order as before.
    keyed.sort_by(|a, b| {
        if descending {
            b.0.cmp(&a.0)
        } else {
            a.0.cmp(&b.0)
        }
    });
    let rows = store.records.get(module.api_name);
    let matched: Vec<&Value> = keyed.iter().filter_map(|(_, id)| rows?.get(id)).collect();
    // Past the page_token reach Zoho still says there is more; the next call fails.
    let reachable = matched.len();
    let data: Vec<Value> = matched
        .iter()
        .skip(offset)
        .take(per_page)
        .map(|r| project(r, &fields))
        .collect();
    if data.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let more = offset + data.len() < reachable;
    let count = data.len();
    let expiry = now + Duration::hours(24);
    let next_token = more.then(|| {
        let token = random_token(24).to_lowercase();
        store.page_tokens.insert(
            token.clone(),
            PageCursor {
                module: module.api_name.to_owned(),
                offset: offset + count,
                expires_at: expiry,
            },
        );
        token
    });
    let previous = params.get("page_token").cloned();
    json_response(
        StatusCode::OK,
        &object([
            ("data", Value::Array(data)),
            (
                "info",
                json!({
                    "call": false, "per_page": per_page, "next_page_token": next_token, "count": count, "sort_by": sort_by, "page": page,
                    "page_token_expiry": next_token.as_ref().map(|_| zoho_time(expiry)), "sort_order": if descending { "desc" } else { "asc" },
                    "email": false, "more_records": more, "previous_page_token": previous
                }),
            ),
        ]),
    )
}

pub(super) async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path((module, id)): Path<(String, String)>,
) -> Response {
    let store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    if id.parse::<u64>().is_err() {
        return top_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({"resource_path_index": 1}),
        );
    }
    match store.get(module.api_name, &id) {
        Some(record) => json_response(
            StatusCode::OK,
            &json!({"data": [presented(&module, record)]}),
        ),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

fn paged(records: Vec<Value>, params: &HashMap<String, String>, extra_limit: usize) -> Response {
    let per_page = match per_page(params) {
        Ok(n) => n,
        Err(response) => return response,
    };
    let page = params
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    if page * per_page > extra_limit {
        return limit_exceeded(extra_limit, "page");
    }
    let reachable = records.len().min(extra_limit);
    let data: Vec<Value> = records
        .into_iter()
        .take(reachable)
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    if data.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let more = (page - 1) * per_page + data.len() < reachable;
    let count = data.len();
    json_response(
        StatusCode::OK,
        &object([
            ("data", Value::Array(data)),
            (
                "info",
                json!({"per_page": per_page, "count": count, "page": page, "more_records": more}),
            ),
        ]),
    )
}

/// `GET /{module}/actions/count[?criteria=…]`: how many records (match).
pub(super) async fn count(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    let parsed = match params.get("criteria").map(|c| criteria::parse(c)) {
        None => None,
        Some(Ok(parsed)) => Some(parsed),
        Some(Err(_)) => {
            return invalid_criteria();
        }
    };
    let count = store
        .records(module.api_name)
        .filter(|r| parsed.as_ref().is_none_or(|p| p.matches(r)))
        .count();
    json_response(StatusCode::OK, &json!({"count": count}))
}

pub(super) async fn search(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    let filter: Box<dyn Fn(&Value) -> bool> = if let Some(criteria) = params.get("criteria") {
        match criteria::parse(criteria) {
            Ok(parsed) => Box::new(move |r| parsed.matches(r)),
            Err(_) => return invalid_criteria(),
        }
    } else if let Some(email) = params.get("email") {
        let email = email.to_lowercase();
        any_field_of_type(&module, "email", move |v| v.to_lowercase() == email)
    } else if let Some(phone) = params.get("phone") {
        let phone = phone.clone();
        any_field_of_type(&module, "phone", move |v| v == phone)
    } else if let Some(word) = params.get("word") {
        let word = word.to_lowercase();
        Box::new(move |r| {
            r.as_object().is_some_and(|m| {
                m.values()
                    .any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(&word)))
            })
        })
    } else {
        return required_param("criteria");
    };
    let records: Vec<Value> = store
        .records(module.api_name)
        .filter(|r| filter(r))
        .map(|r| presented(&module, r))
        .collect();
    paged(records, &params, DISCRETE_PAGE_LIMIT)
}

/// Matches records where a field of `data_type` holds text `matches` accepts.
fn any_field_of_type(
    module: &ModuleDef,
    data_type: &str,
    matches: impl Fn(&str) -> bool + 'static,
) -> Box<dyn Fn(&Value) -> bool> {
    let fields: Vec<&'static str> = module
        .fields
        .iter()
        .filter(|f| f.data_type == data_type)
        .map(|f| f.api_name)
        .collect();
    Box::new(move |r| fields.iter().any(|f| r[*f].as_str().is_some_and(&matches)))
}

pub(super) async fn deleted(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let store = lock(&shared.zoho);
    let Some(module) = store.record_module(&module) else {
        return invalid_module();
    };
    let kind = params.get("type").map_or("all", String::as_str);
    let records: Vec<Value> = store
        .deleted
        .get(module.api_name)
        .map(|rows| {
            rows.iter()
                .rev()
                .filter(|r| kind == "all" || r["type"] == kind)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    paged(records, &params, usize::MAX / 2)
}

/// `POST /coql` `{"select_query": …}`: selected fields plus `id`, `info{count, more_records}`, 204 when empty.
pub(super) async fn coql_query(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let statement = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["select_query"].as_str().map(str::to_owned));
    let Some(statement) = statement else {
        return required_param("select_query");
    };
    let query = match coql::parse(&statement) {
        Ok(query) => query,
        Err(reason) => {
            return top_error(
                StatusCode::BAD_REQUEST,
                "SYNTAX_ERROR",
                "error occured while parsing the query",
                json!({"reason": reason}),
            );
        }
    };
    let store = lock(&shared.zoho);
    let Some(module) = store.record_module(&query.module) else {
        return top_error(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
            "invalid query formed",
            json!({"reason": "invalid module", "api_name": query.module}),
        );
    };
    for field in &query.fields {
        let head = field.split('.').next().unwrap_or_default();
        if head != "id" && !module.fields.iter().any(|f| f.api_name == head) {
            return top_error(
                StatusCode::BAD_REQUEST,
                "INVALID_QUERY",
                "invalid query formed",
                json!({"reason": "column given seems to be invalid", "api_name": field}),
            );
        }
    }
    let mut rows: Vec<&Value> = store
        .records(module.api_name)
        .filter(|r| query.filter.as_ref().is_none_or(|f| f.matches(r)))
        .collect();
    for (field, descending) in query.order_by.iter().rev() {
        rows.sort_by(|a, b| {
            let ordering = match (coql::resolve(a, field), coql::resolve(b, field)) {
                (Some(x), Some(y)) => crate::qbo::query::compare_text(&x, &y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            };
            if *descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
    let total = rows.len();
    let data: Vec<Value> = rows
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .map(|record| {
            let mut out = Map::new();
            for field in &query.fields {
                let head = field.split('.').next().unwrap_or_default();
                out.insert(
                    field.clone(),
                    record.get(head).cloned().unwrap_or(Value::Null),
                );
            }
            out.insert("id".into(), record["id"].clone());
            Value::Object(out)
        })
        .collect();
    if data.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let count = data.len();
    json_response(
        StatusCode::OK,
        &object([
            ("data", Value::Array(data)),
            (
                "info",
                json!({"count": count, "more_records": query.offset + count < total}),
            ),
        ]),
    )
}
