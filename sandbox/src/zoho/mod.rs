//! Zoho CRM v8 under `/crm/v8/`: records list/get/insert/update/upsert/delete, the deleted list,
//! search, COQL, `/settings/modules` and `/settings/fields`, watch notifications, with Zoho's
//! limits, status codes and envelopes.
//!
//! - `store`: the org's records and their bookkeeping ([`Store`]);
//! - `normalize`: checking and shaping a record as Zoho stores and shows it;
//! - `http`: the routes, the token, scope and credit guard, metadata and users;
//! - `reads` and `writes`: the record handlers;
//! - `notifications`: watch channels and the notifications they are sent;
//! - `control`: this service's `/_sandbox/zoho/…` routes for tests;
//! - `coql`, `criteria`: the query languages; `meta`: modules and fields; `page`: the web UI's
//!   record page.

pub(crate) mod control;
pub mod coql;
pub mod criteria;
mod http;
pub mod meta;
mod normalize;
mod notifications;
pub mod page;
mod reads;
mod store;
mod writes;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::util::{json_response, qbo_timestamp};

pub use http::router;
pub use store::Store;

const MAX_FIELDS: usize = 50;
const MAX_PER_PAGE: usize = 200;
const DISCRETE_PAGE_LIMIT: usize = 2000;
const MAX_WRITE_RECORDS: usize = 100;

pub fn owner() -> Value {
    json!({"name": "Sandbox Admin", "id": "5725767000000411001", "email": "admin@sandbox.example"})
}

fn owner_ref() -> Value {
    json!({"name": "Sandbox Admin", "id": "5725767000000411001"})
}

/// Zoho datetimes: second precision with the org's offset (as QBO writes its timestamps).
pub fn zoho_time(at: DateTime<Utc>) -> String {
    qbo_timestamp(at)
}

/// ISO 8601 as Zoho documents it; HTTP-date as generic HTTP clients send `If-Modified-Since`.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .or_else(|_| DateTime::parse_from_rfc2822(text.trim()))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn top_error(status: StatusCode, code: &str, message: &str, details: Value) -> Response {
    json_response(status, &record_error(code, message, details))
}

fn record_error(code: &str, message: &str, details: Value) -> Value {
    let mut entry = json!({"code": code, "message": message, "status": "error"});
    entry["details"] = details;
    entry
}

fn mandatory_missing(api_name: &str, path: &str) -> Value {
    record_error(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        json!({"api_name": api_name, "json_path": path}),
    )
}

fn invalid_module() -> Response {
    top_error(
        StatusCode::BAD_REQUEST,
        "INVALID_MODULE",
        "the module name given seems to be invalid",
        json!({}),
    )
}

/// 400 `REQUIRED_PARAM_MISSING`: the call lacks parameter `name`.
fn required_param(name: &str) -> Response {
    top_error(
        StatusCode::BAD_REQUEST,
        "REQUIRED_PARAM_MISSING",
        "required param is missing",
        json!({"param_name": name}),
    )
}

/// 400 `LIMIT_EXCEEDED`: more than `limit` of `param`.
fn limit_exceeded(limit: usize, param: &str) -> Response {
    top_error(
        StatusCode::BAD_REQUEST,
        "LIMIT_EXCEEDED",
        "limit exceeded",
        json!({"limit": limit, "param_name": param}),
    )
}

/// 400 `INVALID_DATA` about a parameter (`details` names it).
fn invalid_param(details: Value) -> Response {
    top_error(
        StatusCode::BAD_REQUEST,
        "INVALID_DATA",
        "invalid data",
        details,
    )
}

/// 400 `INVALID_QUERY`: search criteria that do not parse.
fn invalid_criteria() -> Response {
    top_error(
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        "invalid query formed",
        json!({"reason": "invalid criteria", "api_name": "criteria"}),
    )
}
