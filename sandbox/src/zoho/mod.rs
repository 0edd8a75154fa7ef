//! Zoho CRM v8 under `/crm/v8/`: records list/get/insert/update/upsert/delete, the deleted list,
//! search, `/settings/modules` and `/settings/fields`, with Zoho's limits, status codes and envelopes.

pub mod coql;
pub mod criteria;
pub mod meta;
pub mod page;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use crate::control::error_body;
use crate::util::{bearer, header, json_response, object, pacific, random_token};
use crate::{Service, Shared, ZohoEdition, lock};
use meta::{FieldDef, ModuleDef};

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

/// Zoho datetimes: second precision with the org's offset.
pub fn zoho_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&pacific())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
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

#[derive(Debug)]
struct PageCursor {
    module: String,
    offset: usize,
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct Store {
    pub modules: Vec<ModuleDef>,
    records: HashMap<&'static str, BTreeMap<u64, Value>>,
    deleted: HashMap<&'static str, Vec<Value>>,
    next_id: u64,
    next_number: u64,
    page_tokens: HashMap<String, PageCursor>,
    in_flight: usize,
    credits: VecDeque<DateTime<Utc>>,
    channels: Vec<Channel>,
    /// Notifications waiting to be POSTed: (notify_url, body).
    outbox: Vec<(String, Value)>,
    /// Per module, every record's id with its parsed created and modified times, built on the
    /// first list call and dropped by any write to the module: listing pages of a large
    /// module must not re-parse every timestamp on every page.
    time_index: HashMap<&'static str, Vec<IndexedTimes>>,
}

/// A record's place in the list order (see `Store::time_index`).
#[derive(Debug, Clone, Copy)]
struct IndexedTimes {
    id: u64,
    created: Option<i64>,
    modified: Option<i64>,
}

/// A watch channel (`/actions/watch`).
#[derive(Debug, Clone)]
struct Channel {
    channel_id: String,
    events: Vec<String>,
    notify_url: String,
    token: Option<String>,
    expires_at: DateTime<Utc>,
}

impl Store {
    pub fn new(edition: ZohoEdition) -> Self {
        Self {
            modules: meta::modules(edition),
            records: HashMap::new(),
            deleted: HashMap::new(),
            next_id: 5_725_767_000_001_000_000,
            next_number: 1,
            page_tokens: HashMap::new(),
            in_flight: 0,
            credits: VecDeque::new(),
            channels: Vec::new(),
            outbox: Vec::new(),
            time_index: HashMap::new(),
        }
    }

    /// The parsed times of every record of `module`, in id order (cached until the module
    /// changes).
    fn times(&mut self, module: &'static str) -> &[IndexedTimes] {
        let records = &self.records;
        self.time_index.entry(module).or_insert_with(|| {
            let millis = |r: &Value, field: &str| {
                r[field]
                    .as_str()
                    .and_then(parse_time)
                    .map(|t| t.timestamp_millis())
            };
            records
                .get(module)
                .into_iter()
                .flatten()
                .map(|(id, r)| IndexedTimes {
                    id: *id,
                    created: millis(r, "Created_Time"),
                    modified: millis(r, "Modified_Time"),
                })
                .collect()
        })
    }

    /// Called by every write to a module's records.
    fn changed_records(&mut self, module: &'static str) {
        self.time_index.remove(module);
    }

    pub fn module(&self, name: &str) -> Option<&ModuleDef> {
        self.modules
            .iter()
            .find(|m| m.api_name.eq_ignore_ascii_case(name))
    }

    fn record_module(&self, name: &str) -> Option<ModuleDef> {
        self.module(name).filter(|m| !m.subform).cloned()
    }

    pub fn records(&self, module: &'static str) -> impl Iterator<Item = &Value> {
        self.records
            .get(module)
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    fn get(&self, module: &'static str, id: &str) -> Option<&Value> {
        self.records.get(module)?.get(&id.parse::<u64>().ok()?)
    }

    fn allocate_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Checks and normalises one field value; `Err` is the per-record error entry.
    fn coerce(
        &mut self,
        field: &FieldDef,
        value: &Value,
        path: &str,
        existing: Option<&Value>,
    ) -> Result<Value, Value> {
        let invalid = |expected: &str| {
            record_error(
                "INVALID_DATA",
                "invalid data",
                json!({"expected_data_type": expected, "api_name": field.api_name, "json_path": path}),
            )
        };
        if value.is_null() {
            return if field.mandatory {
                Err(mandatory_missing(field.api_name, path))
            } else {
                Ok(Value::Null)
            };
        }
        match field.data_type {
            "text" | "textarea" | "phone" | "website" | "picklist" => value
                .as_str()
                .map(|_| value.clone())
                .ok_or_else(|| invalid(field.data_type)),
            "email" => value
                .as_str()
                .filter(|s| s.contains('@'))
                .map(|_| value.clone())
                .ok_or_else(|| invalid("email")),
            "integer" => value
                .as_i64()
                .map(|_| value.clone())
                .ok_or_else(|| invalid("integer")),
            "double" | "currency" => value
                .as_f64()
                .map(|_| value.clone())
                .ok_or_else(|| invalid(field.data_type)),
            "boolean" => value
                .as_bool()
                .map(|_| value.clone())
                .ok_or_else(|| invalid("boolean")),
            "date" => value
                .as_str()
                .filter(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
                .map(|_| value.clone())
                .ok_or_else(|| invalid("date")),
            "datetime" => value
                .as_str()
                .filter(|s| parse_time(s).is_some())
                .map(|_| value.clone())
                .ok_or_else(|| invalid("datetime")),
            "ownerlookup" => {
                let id = value
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("ownerlookup"))?;
                if id == owner()["id"] {
                    Ok(owner())
                } else {
                    Err(invalid("ownerlookup"))
                }
            }
            "lookup" => {
                let id = match value {
                    Value::Object(map) => map.get("id").and_then(Value::as_str).map(str::to_owned),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                }
                .ok_or_else(|| invalid("lookup"))?;
                let target = field
                    .related
                    .and_then(|t| self.record_module(t))
                    .ok_or_else(|| invalid("lookup"))?;
                let row = self.get(target.api_name, &id).ok_or_else(|| {
                    record_error(
                        "INVALID_DATA",
                        "the related id given seems to be invalid",
                        json!({"api_name": field.api_name, "json_path": path}),
                    )
                })?;
                Ok(json!({"name": row[target.display_field].clone(), "id": id}))
            }
            "subform" => {
                let rows = value.as_array().ok_or_else(|| invalid("jsonarray"))?;
                let sub = field
                    .related
                    .and_then(|t| self.module(t).cloned())
                    .ok_or_else(|| invalid("jsonarray"))?;
                let previous: Vec<Value> = existing
                    .and_then(|e| e[field.api_name].as_array().cloned())
                    .unwrap_or_default();
                let mut out = Vec::new();
                for (index, row) in rows.iter().enumerate() {
                    let row_path = format!("{path}[{index}]");
                    let Some(input) = row.as_object() else {
                        return Err(invalid("jsonobject"));
                    };
                    if input.get("_delete").is_some() {
                        continue;
                    }
                    // Rows with an id update the stored row; rows without one are new; omitted rows go.
                    let base = input
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| previous.iter().find(|p| p["id"] == id))
                        .cloned();
                    let mut line = base
                        .as_ref()
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    for def in &sub.fields {
                        if def.read_only {
                            continue;
                        }
                        let given = input.get(def.api_name).or_else(|| {
                            if def.api_name == "List_Price" {
                                input.get("ListPrice")
                            } else {
                                None
                            }
                        });
                        match given {
                            Some(v) => {
                                let checked = self.coerce(
                                    def,
                                    v,
                                    &format!("{row_path}.{}", def.api_name),
                                    None,
                                )?;
                                line.insert(def.api_name.into(), checked);
                            }
                            None if base.is_none() && def.mandatory => {
                                return Err(mandatory_missing(
                                    def.api_name,
                                    &format!("{row_path}.{}", def.api_name),
                                ));
                            }
                            None => {
                                line.entry(def.api_name).or_insert(Value::Null);
                            }
                        }
                    }
                    let quantity = line.get("Quantity").and_then(Value::as_f64).unwrap_or(0.0);
                    let price = line
                        .get("List_Price")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0);
                    let discount = line.get("Discount").and_then(Value::as_f64).unwrap_or(0.0);
                    let total = round2(quantity * price);
                    line.insert("Total".into(), json!(total));
                    line.insert("Net_Total".into(), json!(round2(total - discount)));
                    line.insert("Sequence_Number".into(), json!(index + 1));
                    if !line.contains_key("id") {
                        let id = self.allocate_id();
                        line.insert("id".into(), json!(id));
                    }
                    out.push(Value::Object(line));
                }
                Ok(Value::Array(out))
            }
            _ => Ok(value.clone()),
        }
    }

    /// Builds the stored record from input, validating every field. `existing` = update.
    fn build(
        &mut self,
        module: &ModuleDef,
        input: &Map<String, Value>,
        index: usize,
        existing: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<Map<String, Value>, Value> {
        self.build_checked(module, input, index, existing, now, true)
    }

    /// `check_unique: false` is for the seed, which generates unique values by construction
    /// (the linear duplicate scan would make 100k-record seeds quadratic).
    fn build_checked(
        &mut self,
        module: &ModuleDef,
        input: &Map<String, Value>,
        index: usize,
        existing: Option<&Value>,
        now: DateTime<Utc>,
        check_unique: bool,
    ) -> Result<Map<String, Value>, Value> {
        let mut record = existing
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for field in &module.fields {
            let path = format!("$.data[{index}].{}", field.api_name);
            match input.get(field.api_name) {
                Some(_) if field.read_only => {}
                Some(value) => {
                    let checked = self.coerce(field, value, &path, existing)?;
                    record.insert(field.api_name.into(), checked);
                }
                None if existing.is_none() && field.mandatory => {
                    return Err(mandatory_missing(field.api_name, &path));
                }
                // Unset fields are not stored: `presented` adds them as null on the way out, which
                // keeps 100k-record orgs small.
                None => {}
            }
        }
        for field in module.fields.iter().filter(|f| f.unique && check_unique) {
            let Some(value) = record
                .get(field.api_name)
                .and_then(Value::as_str)
                .map(str::to_lowercase)
            else {
                continue;
            };
            let own_id = record.get("id").cloned();
            let clash = self.records(module.api_name).find(|r| {
                r["id"] != own_id.clone().unwrap_or(Value::Null)
                    && r[field.api_name]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase() == value)
            });
            if let Some(clash) = clash {
                let id = clash["id"].clone();
                return Err(record_error(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    json!({"api_name": field.api_name, "duplicate_record": {"Owner": {"name": "Sandbox Admin", "id": "5725767000000411001", "zuid": "75092197"}, "id": id},
                           "json_path": format!("$.data[{index}].{}", field.api_name), "id": id, "more_records": false}),
                ));
            }
        }
        let stamp = zoho_time(now);
        if existing.is_none() {
            let id = self.allocate_id();
            record.insert("id".into(), json!(id));
            record.insert("Created_Time".into(), json!(stamp));
            record.insert("Created_By".into(), owner());
            record.insert("$approval_state".into(), json!("approved"));
            record.insert("$currency_symbol".into(), json!("$"));
            record.insert("$editable".into(), json!(true));
            if record.get("Owner").is_none_or(Value::is_null) {
                record.insert("Owner".into(), owner());
            }
            if module.fields.iter().any(|f| f.data_type == "subform") {
                let number_field = match module.api_name {
                    "Quotes" => "Quote_Number",
                    "Sales_Orders" => "SO_Number",
                    "Invoices" => "Invoice_Number",
                    _ => "PO_Number",
                };
                record.insert(
                    number_field.into(),
                    json!(format!(
                        "{}",
                        5_725_767_000_000_000_000u64 + self.next_number
                    )),
                );
                self.next_number += 1;
            }
        }
        if record.contains_key("Full_Name") {
            let parts: Vec<&str> = ["First_Name", "Last_Name"]
                .iter()
                .filter_map(|k| record.get(*k).and_then(Value::as_str))
                .collect();
            record.insert("Full_Name".into(), json!(parts.join(" ")));
        }
        record.insert("Modified_Time".into(), json!(stamp));
        record.insert("Modified_By".into(), owner());
        if let Some(items) = module.fields.iter().find(|f| f.data_type == "subform") {
            let sub_total: f64 = record
                .get(items.api_name)
                .and_then(Value::as_array)
                .map_or(0.0, |rows| {
                    rows.iter().filter_map(|r| r["Net_Total"].as_f64()).sum()
                });
            let discount = record
                .get("Discount")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let adjustment = record
                .get("Adjustment")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            record.insert("Sub_Total".into(), json!(round2(sub_total)));
            record.insert(
                "Grand_Total".into(),
                json!(round2(sub_total - discount + adjustment)),
            );
        }
        Ok(record)
    }

    fn save(&mut self, module: &'static str, record: Map<String, Value>) -> Value {
        let id = record
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_default();
        let value = Value::Object(record);
        self.changed_records(module);
        self.records
            .entry(module)
            .or_default()
            .insert(id, value.clone());
        value
    }

    /// Inserts a record through the same validation as the API (used by the seed).
    pub fn insert_trusted(
        &mut self,
        module_name: &str,
        input: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Value> {
        let module = self
            .record_module(module_name)
            .ok_or_else(|| json!({"code": "INVALID_MODULE"}))?;
        let record = self.build_checked(
            &module,
            input.as_object().unwrap_or(&Map::new()),
            0,
            None,
            now,
            false,
        )?;
        Ok(self.save(module.api_name, record))
    }

    /// Queues a notification for every live channel watching this module and operation.
    fn changed(
        &mut self,
        module: &str,
        operation: &str,
        ids: &[String],
        now: DateTime<Utc>,
        api_base: &str,
    ) {
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

    fn delete(&mut self, module: &ModuleDef, id: &str, now: DateTime<Utc>) -> bool {
        let Some(removed) = id
            .parse::<u64>()
            .ok()
            .and_then(|key| self.records.get_mut(module.api_name)?.remove(&key))
        else {
            return false;
        };
        self.changed_records(module.api_name);
        self.deleted.entry(module.api_name).or_default().push(json!({
            "deleted_by": owner_ref(), "id": id, "display_name": removed[module.display_field].clone(),
            "type": "recycle", "created_by": owner_ref(), "deleted_time": zoho_time(now)
        }));
        true
    }
}

fn mandatory_missing(api_name: &str, path: &str) -> Value {
    record_error(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        json!({"api_name": api_name, "json_path": path}),
    )
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Ids of the records a write call changed.
fn succeeded(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["status"] == "success")
        .filter_map(|e| e["details"]["id"].as_str().map(str::to_owned))
        .collect()
}

fn write_summary(details: &Value) -> Value {
    json!({
        "Modified_Time": details["Modified_Time"], "Modified_By": owner_ref(), "Created_Time": details["Created_Time"],
        "id": details["id"], "Created_By": owner_ref()
    })
}

/// 201/200 all good, 207 mixed, 400 all failed (412 when every failure is ALREADY_MODIFIED).
fn write_status(entries: &[Value], all_good: StatusCode) -> StatusCode {
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

// ---------------------------------------------------------------- HTTP

pub fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/crm/v8/settings/modules", get(settings_modules))
        .route("/crm/v8/settings/fields", get(settings_fields))
        .route("/crm/v8/coql", axum::routing::post(coql_query))
        .route(
            "/crm/v8/actions/watch",
            get(watch_details)
                .post(watch_enable)
                .put(watch_enable)
                .delete(watch_disable),
        )
        .route("/crm/v8/users", get(users))
        .route("/crm/v8/users/{id}", get(user))
        .route(
            "/crm/v8/{module}",
            get(list).post(insert).put(update_many).delete(delete_many),
        )
        .route("/crm/v8/{module}/upsert", axum::routing::post(upsert))
        .route("/crm/v8/{module}/search", get(search))
        .route("/crm/v8/{module}/deleted", get(deleted))
        .route("/crm/v8/{module}/actions/count", get(count))
        .route(
            "/crm/v8/{module}/{id}",
            get(get_one).put(update_one).delete(delete_one),
        )
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard))
        // The web UI's record page, where people follow a link: no API token, no API credits.
        .route("/crm/tab/{module}/{id}", get(page::record_page))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            deliver_notifications,
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
            return json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &error_body(&shared, Service::ZohoApi, StatusCode::TOO_MANY_REQUESTS),
            );
        }
        store.credits.push_back(now);
        store.in_flight += 1;
    }
    let _slot = Slot(shared.clone());
    if let Some(delay) = request.extensions().get::<crate::control::Delay>() {
        tokio::time::sleep(delay.0).await;
    }
    next.run(request).await
}

fn invalid_module() -> Response {
    top_error(
        StatusCode::BAD_REQUEST,
        "INVALID_MODULE",
        "the module name given seems to be invalid",
        json!({}),
    )
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
        return top_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "required param is missing",
            json!({"param_name": "module"}),
        );
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

/// A stored record as the API shows it in full: every module field (null when unset) and the
/// record-level system flags every v2+ record carries.
fn presented(module: &ModuleDef, record: &Value) -> Value {
    let mut out = record.as_object().cloned().unwrap_or_default();
    for field in &module.fields {
        out.entry(field.api_name).or_insert(Value::Null);
    }
    for (key, value) in [
        ("$state", json!("save")),
        ("$process_flow", json!(false)),
        ("$locked_for_me", json!(false)),
        ("$approved", json!(true)),
        (
            "$approval",
            json!({"delegate": false, "takeover": false, "approve": false, "reject": false, "resubmit": false}),
        ),
        (
            "$review_process",
            json!({"approve": false, "reject": false, "resubmit": false}),
        ),
        (
            "$layout_id",
            json!({"display_label": "Standard", "name": "Standard", "id": format!("{}000", &module.id[..module.id.len().min(16)])}),
        ),
        ("$in_merge", json!(false)),
        ("$orchestration", json!(false)),
        ("$field_states", Value::Null),
        ("$review", Value::Null),
        (
            "$zia_owner_assignment",
            json!("owner_recommendation_unavailable"),
        ),
        ("$is_duplicate", json!(false)),
        ("Locked__s", json!(false)),
        ("Tag", json!([])),
    ] {
        out.entry(key).or_insert(value);
    }
    if module.api_name == "Products" {
        out.entry("$taxable").or_insert(json!(true));
    }
    Value::Object(out)
}

fn project(record: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), record["id"].clone());
    for field in fields {
        out.insert(
            (*field).to_owned(),
            record.get(*field).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

fn per_page(params: &HashMap<String, String>) -> Result<usize, Response> {
    let per_page = params
        .get("per_page")
        .map_or(Ok(MAX_PER_PAGE), |v| v.parse::<usize>())
        .unwrap_or(0);
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(top_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "invalid data",
            json!({"param_name": "per_page", "maximum_length": MAX_PER_PAGE}),
        ));
    }
    Ok(per_page)
}

async fn list(
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
        return top_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "required param is missing",
            json!({"param_name": "fields"}),
        );
    };
    let fields: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() > MAX_FIELDS {
        return top_error(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            "limit exceeded",
            json!({"limit": MAX_FIELDS, "param_name": "fields"}),
        );
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
        return top_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "invalid data",
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
                return top_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_DATA",
                    "invalid data",
                    json!({"param_name": "page_token"}),
                );
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

async fn get_one(
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
        return Err(top_error(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            "limit exceeded",
            json!({"limit": MAX_WRITE_RECORDS, "param_name": "data"}),
        ));
    }
    Ok((data, parsed))
}

async fn insert(
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
        let entry = match store.build(
            &module,
            input.as_object().unwrap_or(&Map::new()),
            index,
            None,
            now,
        ) {
            Ok(record) => {
                let saved = store.save(module.api_name, record);
                let mut details = write_summary(&saved);
                details["$approval_state"] = json!("approved");
                json!({"code": "SUCCESS", "details": details, "message": "record added", "status": "success"})
            }
            Err(error) => error,
        };
        entries.push(entry);
    }
    store.changed(
        module.api_name,
        "insert",
        &succeeded(&entries),
        now,
        &shared.urls.zoho_api,
    );
    json_response(
        write_status(&entries, StatusCode::CREATED),
        &json!({"data": entries}),
    )
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
    match store.build(
        module,
        input.as_object().unwrap_or(&Map::new()),
        index,
        Some(&existing),
        now,
    ) {
        Ok(record) => {
            let saved = store.save(module.api_name, record);
            json!({"code": "SUCCESS", "details": write_summary(&saved), "message": "record updated", "status": "success"})
        }
        Err(error) => error,
    }
}

async fn update_many(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(&shared, &module, None, &headers, &body)
}

async fn update_one(
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
    store.changed(
        module.api_name,
        "update",
        &succeeded(&entries),
        now,
        &shared.urls.zoho_api,
    );
    json_response(
        write_status(&entries, StatusCode::OK),
        &json!({"data": entries}),
    )
}

async fn upsert(
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
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
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
            None => match store.build(
                &module,
                input.as_object().unwrap_or(&Map::new()),
                index,
                None,
                now,
            ) {
                Ok(record) => {
                    let saved = store.save(module.api_name, record);
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
    store.changed(
        module.api_name,
        "update",
        &succeeded(&updated),
        now,
        &shared.urls.zoho_api,
    );
    store.changed(
        module.api_name,
        "insert",
        &succeeded(&inserted),
        now,
        &shared.urls.zoho_api,
    );
    json_response(
        write_status(&entries, StatusCode::OK),
        &json!({"data": entries}),
    )
}

fn delete_ids(shared: &Shared, module: &str, ids: &[String]) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.zoho);
    let Some(module) = store.record_module(module) else {
        return invalid_module();
    };
    if ids.len() > MAX_WRITE_RECORDS {
        return top_error(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            "limit exceeded",
            json!({"limit": MAX_WRITE_RECORDS, "param_name": "ids"}),
        );
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
    store.changed(
        module.api_name,
        "delete",
        &succeeded(&entries),
        now,
        &shared.urls.zoho_api,
    );
    json_response(
        write_status(&entries, StatusCode::OK),
        &json!({"data": entries}),
    )
}

async fn delete_many(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(ids) = params.get("ids") else {
        return top_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "required param is missing",
            json!({"param_name": "ids"}),
        );
    };
    let ids: Vec<String> = ids
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    delete_ids(&shared, &module, &ids)
}

async fn delete_one(
    State(shared): State<Arc<Shared>>,
    Path((module, id)): Path<(String, String)>,
) -> Response {
    delete_ids(&shared, &module, &[id])
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
        return top_error(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            "limit exceeded",
            json!({"limit": extra_limit, "param_name": "page"}),
        );
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
async fn count(
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
            return top_error(
                StatusCode::BAD_REQUEST,
                "INVALID_QUERY",
                "invalid query formed",
                json!({"reason": "invalid criteria", "api_name": "criteria"}),
            );
        }
    };
    let count = store
        .records(module.api_name)
        .filter(|r| parsed.as_ref().is_none_or(|p| p.matches(r)))
        .count();
    json_response(StatusCode::OK, &json!({"count": count}))
}

async fn search(
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
            Err(_) => {
                return top_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_QUERY",
                    "invalid query formed",
                    json!({"reason": "invalid criteria", "api_name": "criteria"}),
                );
            }
        }
    } else if let Some(email) = params.get("email") {
        let email = email.to_lowercase();
        let email_fields: Vec<&str> = module
            .fields
            .iter()
            .filter(|f| f.data_type == "email")
            .map(|f| f.api_name)
            .collect();
        Box::new(move |r| {
            email_fields
                .iter()
                .any(|f| r[*f].as_str().is_some_and(|v| v.to_lowercase() == email))
        })
    } else if let Some(phone) = params.get("phone") {
        let phone = phone.clone();
        let phone_fields: Vec<&str> = module
            .fields
            .iter()
            .filter(|f| f.data_type == "phone")
            .map(|f| f.api_name)
            .collect();
        Box::new(move |r| {
            phone_fields
                .iter()
                .any(|f| r[*f].as_str().is_some_and(|v| v == phone))
        })
    } else if let Some(word) = params.get("word") {
        let word = word.to_lowercase();
        Box::new(move |r| {
            r.as_object().is_some_and(|m| {
                m.values()
                    .any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(&word)))
            })
        })
    } else {
        return top_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "required param is missing",
            json!({"param_name": "criteria"}),
        );
    };
    let records: Vec<Value> = store
        .records(module.api_name)
        .filter(|r| filter(r))
        .map(|r| presented(&module, r))
        .collect();
    paged(records, &params, DISCRETE_PAGE_LIMIT)
}

async fn deleted(
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
async fn coql_query(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let statement = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["select_query"].as_str().map(str::to_owned));
    let Some(statement) = statement else {
        return top_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "required param is missing",
            json!({"param_name": "select_query"}),
        );
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

/// POSTs queued watch notifications after the request that caused them (best effort, one attempt).
async fn deliver_notifications(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let outbox = std::mem::take(&mut lock(&shared.zoho).outbox);
    for (url, body) in outbox {
        let http = shared.http.clone();
        tokio::spawn(async move {
            if let Err(error) = http.post(&url).json(&body).send().await {
                tracing::debug!(%error, %url, "zoho notification not delivered");
            }
        });
    }
    response
}

const MAX_CHANNEL_DAYS: i64 = 7;

async fn watch_enable(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
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
        let events: Vec<String> = item["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
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

async fn watch_details(State(shared): State<Arc<Shared>>) -> Response {
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

async fn watch_disable(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(ids) = params.get("channel_ids") else {
        return top_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "required param is missing",
            json!({"param_name": "channel_ids"}),
        );
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

// ---------------------------------------------------------------- control API

pub async fn control_list(
    State(shared): State<Arc<Shared>>,
    Path(module): Path<String>,
) -> Response {
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

pub async fn control_get(
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

pub async fn control_delete(
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
pub async fn control_touch(
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
pub async fn control_add_field(
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
