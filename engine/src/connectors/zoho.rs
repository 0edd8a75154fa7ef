//! Zoho CRM v8 client: module and field metadata, records changed since a cursor (sorted by
//! `Modified_Time`, `If-Modified-Since`, 204/304, `page_token` past 2,000 records), get by id,
//! insert/update/upsert in chunks of ≤100 with per-record results, and deleted records.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::TokenSource;
use super::error::{Api, ConnectorError, zoho_error};
use super::http::{Answer, Http, Target};

/// Records per list page; Zoho's maximum.
pub const PAGE_SIZE: usize = 200;
/// Records per insert/update/upsert call.
pub const MAX_WRITE_RECORDS: usize = 100;
/// Fields per list call.
pub const MAX_FIELDS: usize = 50;
/// Past this many records `page` no longer works and `page_token` must be used.
pub const DISCRETE_PAGE_LIMIT: usize = 2000;

#[derive(Clone)]
pub struct ZohoClient {
    http: Arc<Http>,
    base: String,
    api_domain: String,
    target: Target,
    tokens: Arc<dyn TokenSource>,
}

impl std::fmt::Debug for ZohoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZohoClient")
            .field("api_domain", &self.api_domain)
            .finish_non_exhaustive()
    }
}

/// One entry of `/settings/modules` (unknown members ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ZohoModule {
    pub api_name: String,
    #[serde(default)]
    pub module_name: Option<String>,
    #[serde(default)]
    pub singular_label: Option<String>,
    #[serde(default)]
    pub plural_label: Option<String>,
    #[serde(default)]
    pub api_supported: bool,
    #[serde(default)]
    pub creatable: bool,
    #[serde(default)]
    pub editable: bool,
    #[serde(default)]
    pub generated_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ZohoPicklistValue {
    #[serde(default)]
    pub display_value: String,
    #[serde(default)]
    pub actual_value: String,
}

/// One entry of `/settings/fields` (unknown members ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ZohoField {
    pub api_name: String,
    #[serde(default)]
    pub field_label: Option<String>,
    #[serde(default)]
    pub display_label: Option<String>,
    #[serde(default)]
    pub data_type: String,
    #[serde(default)]
    pub json_type: Option<String>,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub custom_field: bool,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub field_read_only: bool,
    #[serde(default)]
    pub system_mandatory: bool,
    #[serde(default)]
    pub pick_list_values: Vec<ZohoPicklistValue>,
    /// `lookup.module.api_name` for lookup fields.
    #[serde(default)]
    pub lookup: Value,
}

impl ZohoField {
    /// Whether zqsync may write the field.
    pub fn writable(&self) -> bool {
        !self.read_only
            && !self.field_read_only
            && !matches!(self.data_type.as_str(), "formula" | "autonumber")
    }

    pub fn lookup_module(&self) -> Option<&str> {
        self.lookup
            .pointer("/module/api_name")
            .and_then(Value::as_str)
    }
}

/// Where a list walk continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    Page(usize),
    Token(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    pub records: Vec<Value>,
    pub next: Option<PageCursor>,
}

/// A record that was written: its id and Zoho's timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub id: String,
    /// `insert` or `update` (upsert says which; insert/update calls imply it).
    pub action: Option<String>,
    pub modified_time: Option<String>,
}

/// One result per input record, in input order.
pub type WriteResults = Vec<Result<Written, ConnectorError>>;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeletedRecord {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub deleted_time: Option<String>,
}

/// Values in one search `in` criterion (the URL stays short).
const SEARCH_IN_VALUES: usize = 50;
/// Search answers at most 2,000 records (10 pages of 200).
const SEARCH_MAX_PAGES: usize = 10;

/// A value inside search criteria: `(`, `)`, `,`, `:` and `\` are escaped with `\`.
fn criteria_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '(' | ')' | ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum WriteKind {
    Insert,
    Update,
    Upsert,
}

impl ZohoClient {
    pub(crate) fn new(
        http: Arc<Http>,
        api_domain: &str,
        tenant_id: &str,
        tokens: Arc<dyn TokenSource>,
    ) -> Self {
        let api_domain = api_domain.trim_end_matches('/').to_owned();
        Self {
            http,
            base: format!("{api_domain}/crm/v8"),
            target: Target {
                api: Api::Zoho,
                tenant_id: tenant_id.to_owned(),
                account: tenant_id.to_owned(),
            },
            api_domain,
            tokens,
        }
    }

    pub fn api_domain(&self) -> &str {
        &self.api_domain
    }

    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, String)],
        body: Option<&Value>,
        pass: &[u16],
    ) -> Result<Answer, ConnectorError> {
        let url = format!("{}/{path}", self.base);
        self.http
            .call(
                &self.target,
                self.tokens.as_ref(),
                pass,
                zoho_error,
                |client, token| {
                    let mut request = client
                        .request(method.clone(), &url)
                        .header("Authorization", format!("Zoho-oauthtoken {token}"))
                        .query(query);
                    for (name, value) in headers {
                        request = request.header(*name, value);
                    }
                    if let Some(body) = body {
                        request = request.json(body);
                    }
                    request
                },
            )
            .await
    }

    pub async fn modules(&self) -> Result<Vec<ZohoModule>, ConnectorError> {
        let answer = self
            .request(
                reqwest::Method::GET,
                "settings/modules",
                &[],
                &[],
                None,
                &[],
            )
            .await?;
        let body = answer.json(Api::Zoho)?;
        parse_list(&body, "modules")
    }

    pub async fn fields(&self, module: &str) -> Result<Vec<ZohoField>, ConnectorError> {
        let answer = self
            .request(
                reqwest::Method::GET,
                "settings/fields",
                &[("module", module.to_owned())],
                &[],
                None,
                &[],
            )
            .await?;
        let body = answer.json(Api::Zoho)?;
        parse_list(&body, "fields")
    }

    /// One page of records modified after `since` (all records when `None`), oldest change
    /// first. `fields` must name ≤50 fields; `id` always comes back.
    pub async fn list_page(
        &self,
        module: &str,
        fields: &[&str],
        since: Option<DateTime<Utc>>,
        cursor: &PageCursor,
    ) -> Result<RecordPage, ConnectorError> {
        self.list_page_of(module, fields, since, cursor, PAGE_SIZE)
            .await
    }

    /// [`Self::list_page`] with pages of `per_page` records (at most 200).
    pub async fn list_page_of(
        &self,
        module: &str,
        fields: &[&str],
        since: Option<DateTime<Utc>>,
        cursor: &PageCursor,
        per_page: usize,
    ) -> Result<RecordPage, ConnectorError> {
        let per_page = per_page.clamp(1, PAGE_SIZE);
        if fields.is_empty() || fields.len() > MAX_FIELDS {
            return Err(ConnectorError::unexpected(
                Api::Zoho,
                None,
                format!(
                    "a list call names 1 to {MAX_FIELDS} fields, not {}",
                    fields.len()
                ),
            ));
        }
        let mut query = vec![
            ("fields", fields.join(",")),
            ("per_page", per_page.to_string()),
            ("sort_by", "Modified_Time".to_owned()),
            ("sort_order", "asc".to_owned()),
        ];
        match cursor {
            PageCursor::Page(page) => query.push(("page", page.to_string())),
            PageCursor::Token(token) => query.push(("page_token", token.clone())),
        }
        let headers: Vec<(&str, String)> = since
            .map(|at| {
                (
                    "If-Modified-Since",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                )
            })
            .into_iter()
            .collect();
        let path = module.to_owned();
        let answer = self
            .request(
                reqwest::Method::GET,
                &path,
                &query,
                &headers,
                None,
                &[204, 304],
            )
            .await?;
        if matches!(answer.status, 204 | 304) {
            return Ok(RecordPage {
                records: Vec::new(),
                next: None,
            });
        }
        let body = answer.json(Api::Zoho)?;
        let records = body
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let info = body.get("info").cloned().unwrap_or(Value::Null);
        let more = info
            .get("more_records")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let next = if !more {
            None
        } else if let Some(token) = info.get("next_page_token").and_then(Value::as_str) {
            Some(PageCursor::Token(token.to_owned()))
        } else {
            let page = match cursor {
                PageCursor::Page(page) => *page,
                PageCursor::Token(_) => 0,
            };
            // Without a token, `page` only reaches the first 2,000 records.
            (page > 0 && (page + 1) * per_page <= DISCRETE_PAGE_LIMIT)
                .then_some(PageCursor::Page(page + 1))
        };
        Ok(RecordPage { records, next })
    }

    /// Every record modified after `since`, walking all pages (tokens past 2,000 records).
    pub async fn changed_since(
        &self,
        module: &str,
        fields: &[&str],
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<Value>, ConnectorError> {
        let mut records = Vec::new();
        let mut cursor = PageCursor::Page(1);
        loop {
            let page = self.list_page(module, fields, since, &cursor).await?;
            records.extend(page.records);
            match page.next {
                Some(next) => cursor = next,
                None => return Ok(records),
            }
        }
    }

    /// How many records of `module` were modified at or after `since` (the record count API).
    pub async fn count_modified_since(
        &self,
        module: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, ConnectorError> {
        let criteria = format!(
            "(Modified_Time:greater_equal:{})",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        );
        let answer = self
            .request(
                reqwest::Method::GET,
                &format!("{module}/actions/count"),
                &[("criteria", criteria)],
                &[],
                None,
                &[],
            )
            .await?;
        let body = answer.json(Api::Zoho)?;
        body.get("count").and_then(Value::as_u64).ok_or_else(|| {
            ConnectorError::unexpected(
                Api::Zoho,
                Some(200),
                "a count answer without a count".to_owned(),
            )
        })
    }

    /// The records of `module` whose `field` holds one of `values` (the search API's `in`
    /// criterion, 50 values a call, all pages), for finding what a write keyed on that field
    /// would land on before it is sent. (Search needs only the modules scope; Zoho says it is
    /// eventually consistent, so a record made seconds ago may be missed: the engine checks
    /// what a write landed on as well.)
    pub async fn find_by_values(
        &self,
        module: &str,
        field: &str,
        values: &[&str],
    ) -> Result<Vec<Value>, ConnectorError> {
        let mut found = Vec::new();
        for chunk in values.chunks(SEARCH_IN_VALUES) {
            let list: Vec<String> = chunk.iter().map(|v| criteria_escape(v)).collect();
            let criteria = format!("({field}:in:{})", list.join(","));
            for page in 1..=SEARCH_MAX_PAGES {
                let answer = self
                    .request(
                        reqwest::Method::GET,
                        &format!("{module}/search"),
                        &[
                            ("criteria", criteria.clone()),
                            ("page", page.to_string()),
                            ("per_page", PAGE_SIZE.to_string()),
                        ],
                        &[],
                        None,
                        &[204],
                    )
                    .await?;
                if answer.status == 204 {
                    break;
                }
                let mut body = answer.json(Api::Zoho)?;
                if let Some(Value::Array(rows)) = body.get_mut("data").map(Value::take) {
                    found.extend(rows);
                }
                if body.pointer("/info/more_records") != Some(&Value::Bool(true)) {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// One record; `NotFound` when Zoho answers 204.
    pub async fn get(&self, module: &str, id: &str) -> Result<Value, ConnectorError> {
        let answer = self
            .request(
                reqwest::Method::GET,
                &format!("{module}/{id}"),
                &[],
                &[],
                None,
                &[204],
            )
            .await?;
        let not_found = || ConnectorError::NotFound {
            remote: super::Remote::new(
                Api::Zoho,
                Some(answer.status),
                None,
                format!("no {module} record {id}"),
                "The record no longer exists in Zoho CRM. Re-create it or unlink it.".to_owned(),
            ),
        };
        if answer.status == 204 {
            return Err(not_found());
        }
        let mut body = answer.json(Api::Zoho)?;
        match body.pointer_mut("/data/0").map(Value::take) {
            Some(record) if record.is_object() => Ok(record),
            _ => Err(not_found()),
        }
    }

    pub async fn insert(
        &self,
        module: &str,
        records: &[Value],
    ) -> Result<WriteResults, ConnectorError> {
        self.write(WriteKind::Insert, module, records, &[]).await
    }

    /// Updates records; each must carry its `id`.
    pub async fn update(
        &self,
        module: &str,
        records: &[Value],
    ) -> Result<WriteResults, ConnectorError> {
        self.write(WriteKind::Update, module, records, &[]).await
    }

    /// Inserts or updates by the given unique fields (e.g. `Email`, `Product_Code`).
    pub async fn upsert(
        &self,
        module: &str,
        records: &[Value],
        duplicate_check_fields: &[&str],
    ) -> Result<WriteResults, ConnectorError> {
        self.write(WriteKind::Upsert, module, records, duplicate_check_fields)
            .await
    }

    /// Writes in chunks of ≤100; one result per input record, in input order. Workflows are
    /// not triggered (`"trigger": []`) so our writes do not start the customer's automations
    /// or echo back as new changes.
    async fn write(
        &self,
        kind: WriteKind,
        module: &str,
        records: &[Value],
        duplicate_check_fields: &[&str],
    ) -> Result<WriteResults, ConnectorError> {
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(MAX_WRITE_RECORDS) {
            let mut body = json!({"data": chunk, "trigger": []});
            let (method, path) = match kind {
                WriteKind::Insert => (reqwest::Method::POST, module.to_owned()),
                WriteKind::Update => (reqwest::Method::PUT, module.to_owned()),
                WriteKind::Upsert => {
                    body["duplicate_check_fields"] = json!(duplicate_check_fields);
                    (reqwest::Method::POST, format!("{module}/upsert"))
                }
            };
            // 207/400/412 carry per-record results; a top-level error envelope is raised below.
            let answer = self
                .request(method, &path, &[], &[], Some(&body), &[207, 400, 412])
                .await?;
            let raw = String::from_utf8_lossy(&answer.body).into_owned();
            let parsed = answer.json(Api::Zoho)?;
            let Some(entries) = parsed.get("data").and_then(Value::as_array) else {
                return Err(zoho_error(
                    answer.status,
                    &parsed,
                    &raw,
                    self.http.rate_limit_wait(Api::Zoho),
                ));
            };
            if entries.len() != chunk.len() {
                return Err(ConnectorError::unexpected(
                    Api::Zoho,
                    Some(answer.status),
                    format!("{} results for {} records", entries.len(), chunk.len()),
                ));
            }
            let implied = match kind {
                WriteKind::Insert => Some("insert"),
                WriteKind::Update => Some("update"),
                WriteKind::Upsert => None,
            };
            for entry in entries {
                results.push(write_result(
                    entry,
                    implied,
                    self.http.rate_limit_wait(Api::Zoho),
                ));
            }
        }
        Ok(results)
    }

    /// Deletes records by id (≤100 a call); one result per id, in order. Workflows are not
    /// triggered.
    pub async fn delete(&self, module: &str, ids: &[&str]) -> Result<WriteResults, ConnectorError> {
        let mut results = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_WRITE_RECORDS) {
            let query = [("ids", chunk.join(",")), ("wf_trigger", "false".to_owned())];
            let answer = self
                .request(
                    reqwest::Method::DELETE,
                    module,
                    &query,
                    &[],
                    None,
                    &[207, 400],
                )
                .await?;
            let raw = String::from_utf8_lossy(&answer.body).into_owned();
            let parsed = answer.json(Api::Zoho)?;
            let Some(entries) = parsed.get("data").and_then(Value::as_array) else {
                return Err(zoho_error(
                    answer.status,
                    &parsed,
                    &raw,
                    self.http.rate_limit_wait(Api::Zoho),
                ));
            };
            if entries.len() != chunk.len() {
                return Err(ConnectorError::unexpected(
                    Api::Zoho,
                    Some(answer.status),
                    format!("{} results for {} ids", entries.len(), chunk.len()),
                ));
            }
            for entry in entries {
                results.push(write_result(
                    entry,
                    Some("delete"),
                    self.http.rate_limit_wait(Api::Zoho),
                ));
            }
        }
        Ok(results)
    }

    /// Records deleted (recycle bin and permanently), newest first, all pages.
    pub async fn deleted(&self, module: &str) -> Result<Vec<DeletedRecord>, ConnectorError> {
        let mut records = Vec::new();
        let mut page = 1usize;
        loop {
            let query = [
                ("type", "all".to_owned()),
                ("page", page.to_string()),
                ("per_page", PAGE_SIZE.to_string()),
            ];
            let answer = self
                .request(
                    reqwest::Method::GET,
                    &format!("{module}/deleted"),
                    &query,
                    &[],
                    None,
                    &[204],
                )
                .await?;
            if answer.status == 204 {
                return Ok(records);
            }
            let body = answer.json(Api::Zoho)?;
            records.extend(parse_list::<DeletedRecord>(&body, "data")?);
            let more = body
                .pointer("/info/more_records")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !more {
                return Ok(records);
            }
            page += 1;
        }
    }
}

fn write_result(
    entry: &Value,
    implied: Option<&str>,
    wait: std::time::Duration,
) -> Result<Written, ConnectorError> {
    if entry.get("status").and_then(Value::as_str) != Some("success") {
        let raw = entry.to_string();
        return Err(zoho_error(400, entry, &raw, wait));
    }
    let details = entry.get("details").cloned().unwrap_or(Value::Null);
    let id = details.get("id").and_then(Value::as_str).ok_or_else(|| {
        ConnectorError::unexpected(Api::Zoho, None, "a write result without an id".to_owned())
    })?;
    Ok(Written {
        id: id.to_owned(),
        action: entry
            .get("action")
            .and_then(Value::as_str)
            .or(implied)
            .map(str::to_owned),
        modified_time: details
            .get("Modified_Time")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn parse_list<T: serde::de::DeserializeOwned>(
    body: &Value,
    key: &str,
) -> Result<Vec<T>, ConnectorError> {
    let list = body.get(key).cloned().unwrap_or_else(|| json!([]));
    serde_json::from_value(list).map_err(|error| {
        ConnectorError::unexpected(Api::Zoho, Some(200), format!("unreadable {key}: {error}"))
    })
}
