//! QuickBooks Online Accounting API v3 client: query (paged), read, create with an idempotent
//! `requestid`, sparse update with SyncToken, batch (≤30), CDC that narrows itself when an
//! answer is saturated, CompanyInfo and Preferences.
//!
//! Entities stay `serde_json::Value`: the mapping rules in `domain` read and write them by JSON
//! path, and QBO adds fields without notice (minorversion 75), so nothing is lost or refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::TokenSource;
use super::error::{Api, ConnectorError, qbo_error};
use super::http::{Http, Target};

/// Rows per query page; QBO's maximum.
pub const QUERY_PAGE_SIZE: usize = 1000;
/// Items per `/batch` call.
pub const MAX_BATCH_ITEMS: usize = 30;
/// A CDC answer holds at most this many objects; an answer this full may be cut short.
pub const CDC_SATURATION: usize = 1000;
/// How far back CDC looks; older cursors need a query by `MetaData.LastUpdatedTime`.
pub const CDC_LOOKBACK_DAYS: i64 = 30;
const MINOR_VERSION: &str = "75";
/// Name-list entities: queries hide inactive rows unless asked for both.
const NAME_LISTS: &[&str] = &[
    "Customer",
    "Vendor",
    "Item",
    "Account",
    "Term",
    "TaxCode",
    "Class",
    "Employee",
    "Department",
    "PaymentMethod",
];

#[derive(Clone)]
pub struct QboClient {
    http: Arc<Http>,
    base: String,
    target: Target,
    realm_id: String,
    tokens: Arc<dyn TokenSource>,
}

impl std::fmt::Debug for QboClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QboClient")
            .field("base", &self.base)
            .field("realm_id", &self.realm_id)
            .finish_non_exhaustive()
    }
}

/// One operation of a `/batch` call.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// Matches the answer to the request; ≤10 characters.
    pub bid: String,
    pub operation: BatchOperation,
    pub entity: String,
    pub body: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOperation {
    Create,
    Update,
    Delete,
}

impl BatchOperation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// A batch request serialized straight from the items (no copy of their bodies).
struct BatchRequest<'a>(&'a [BatchItem]);

impl serde::Serialize for BatchRequest<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("BatchItemRequest", &BatchRequestItems(self.0))?;
        map.end()
    }
}

struct BatchRequestItems<'a>(&'a [BatchItem]);

impl serde::Serialize for BatchRequestItems<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(BatchRequestItem))
    }
}

struct BatchRequestItem<'a>(&'a BatchItem);

impl serde::Serialize for BatchRequestItem<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let item = self.0;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("bId", &item.bid)?;
        map.serialize_entry("operation", item.operation.as_str())?;
        map.serialize_entry(&item.entity, &item.body)?;
        map.end()
    }
}

/// The answer to one batch item, matched by `bid`.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub bid: String,
    pub result: Result<Value, ConnectorError>,
}

/// Changes since a cursor, per entity, each object once (the newest version).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub by_entity: BTreeMap<String, Vec<Value>>,
    /// How many CDC calls it took (more than one when an answer was saturated).
    pub cdc_calls: usize,
    /// Whether the cursor was older than CDC's look-back and queries were used instead
    /// (queries cannot see deleted transactions).
    pub used_query_fallback: bool,
}

/// The facts about a company the connection check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyInfo {
    pub company_name: String,
    pub country: Option<String>,
    /// `OfferingSku` (QuickBooks Online Plus, Advanced, …): inventory needs Plus or Advanced.
    pub offering_sku: Option<String>,
    pub raw: Value,
}

/// A legacy sales-form custom field (up to three, enabled and named in Preferences).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyCustomField {
    /// "1".."3": the `DefinitionId` on sales transactions.
    pub definition_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    pub custom_fields: Vec<LegacyCustomField>,
    /// `ProductAndServicesPrefs.QuantityOnHand`: inventory tracking on.
    pub tracks_quantity_on_hand: bool,
    pub home_currency: Option<String>,
    pub raw: Value,
}

/// A string inside a QBO query's quotes: backslashes and single quotes escaped (the one
/// escape every query here uses).
pub fn query_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn last_updated(object: &Value) -> Option<DateTime<Utc>> {
    let text = object.pointer("/MetaData/LastUpdatedTime")?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Keeps the newest version of each object by `Id`.
fn merge(into: &mut Vec<Value>, objects: Vec<Value>) {
    for object in objects {
        let id = object.get("Id").cloned();
        match into.iter_mut().find(|o| o.get("Id") == id.as_ref()) {
            Some(existing) if last_updated(&object) >= last_updated(existing) => *existing = object,
            Some(_) => {}
            None => into.push(object),
        }
    }
}

impl QboClient {
    pub(crate) fn new(
        http: Arc<Http>,
        base: &str,
        tenant_id: &str,
        realm_id: &str,
        tokens: Arc<dyn TokenSource>,
    ) -> Self {
        Self {
            http,
            base: format!("{}/v3/company/{realm_id}", base.trim_end_matches('/')),
            target: Target {
                api: Api::Qbo,
                tenant_id: tenant_id.to_owned(),
                account: realm_id.to_owned(),
            },
            realm_id: realm_id.to_owned(),
            tokens,
        }
    }

    pub fn realm_id(&self) -> &str {
        &self.realm_id
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ConnectorError> {
        let url = format!("{}/{path}", self.base);
        let answer = self
            .http
            .call(
                &self.target,
                self.tokens.as_ref(),
                &[],
                qbo_error,
                |client, token| {
                    client
                        .get(&url)
                        .bearer_auth(token)
                        .header("Accept", "application/json")
                        .query(&[("minorversion", MINOR_VERSION)])
                        .query(query)
                },
            )
            .await?;
        answer.json(Api::Qbo)
    }

    async fn post<B: serde::Serialize + Sync + ?Sized>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &B,
    ) -> Result<Value, ConnectorError> {
        let url = format!("{}/{path}", self.base);
        let answer = self
            .http
            .call(
                &self.target,
                self.tokens.as_ref(),
                &[],
                qbo_error,
                |client, token| {
                    client
                        .post(&url)
                        .bearer_auth(token)
                        .header("Accept", "application/json")
                        .query(&[("minorversion", MINOR_VERSION)])
                        .query(query)
                        .json(body)
                },
            )
            .await?;
        answer.json(Api::Qbo)
    }

    /// The entity object inside `{"<Entity>": {...}, "time": ...}`.
    fn unwrap_entity(entity: &str, mut answer: Value) -> Result<Value, ConnectorError> {
        match answer.get_mut(entity).map(Value::take) {
            Some(object) if object.is_object() => Ok(object),
            _ => Err(ConnectorError::unexpected(
                Api::Qbo,
                Some(200),
                format!("answer has no {entity} object"),
            )),
        }
    }

    /// One page of a query: `statement` without STARTPOSITION/MAXRESULTS; `start` is 1-based.
    pub async fn query_page(
        &self,
        statement: &str,
        start: usize,
        max: usize,
    ) -> Result<Vec<Value>, ConnectorError> {
        let paged = format!("{statement} STARTPOSITION {start} MAXRESULTS {max}");
        let answer = self.get("query", &[("query", &paged)]).await?;
        let rows = answer
            .get("QueryResponse")
            .and_then(Value::as_object)
            .and_then(|response| response.values().find_map(Value::as_array))
            .cloned()
            .unwrap_or_default();
        Ok(rows)
    }

    /// The `count` records of `entity` changed last, newest first (custom fields in use are
    /// read off them).
    pub async fn recently_changed(
        &self,
        entity: &str,
        count: usize,
    ) -> Result<Vec<Value>, ConnectorError> {
        let statement = format!("SELECT * FROM {entity} ORDERBY MetaData.LastUpdatedTime DESC");
        self.query_page(&statement, 1, count).await
    }

    /// Whether the company tracks any inventory item (then it has the inventory feature).
    pub async fn has_inventory_item(&self) -> Result<bool, ConnectorError> {
        let items = self
            .query_page("SELECT * FROM Item WHERE Type = 'Inventory'", 1, 1)
            .await?;
        Ok(!items.is_empty())
    }

    /// Every account of the chart of accounts.
    pub async fn accounts(&self) -> Result<Vec<Value>, ConnectorError> {
        self.query("SELECT * FROM Account").await
    }

    /// The records of `entity` named `name` (Items and Terms by `Name`, customers and vendors
    /// by `DisplayName`), inactive ones included when `entity` is a name list. QBO names are
    /// unique per name space, so this is at most a handful.
    pub async fn find_by_name(
        &self,
        entity: &str,
        name: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let field = match entity {
            "Item" | "Term" | "Account" => "Name",
            _ => "DisplayName",
        };
        let statement = format!(
            "SELECT * FROM {entity} WHERE {field} = '{}'",
            query_literal(name)
        );
        self.query_page(&statement, 1, 10).await
    }

    /// Every row a query matches, page by page (1,000 a page). Past the end QBO answers with
    /// no entity key at all, which ends the walk too.
    pub async fn query(&self, statement: &str) -> Result<Vec<Value>, ConnectorError> {
        let mut rows = Vec::new();
        loop {
            let page = self
                .query_page(statement, rows.len() + 1, QUERY_PAGE_SIZE)
                .await?;
            let full = page.len() == QUERY_PAGE_SIZE;
            rows.extend(page);
            if !full {
                return Ok(rows);
            }
        }
    }

    pub async fn read(&self, entity: &str, id: &str) -> Result<Value, ConnectorError> {
        let answer = self
            .get(&format!("{}/{id}", entity.to_lowercase()), &[])
            .await?;
        Self::unwrap_entity(entity, answer)
    }

    /// Creates an object. `request_id` (≤50 chars, e.g. `domain::record::idempotency_key`)
    /// makes a retried create return the first result instead of a duplicate.
    pub async fn create(
        &self,
        entity: &str,
        body: &Value,
        request_id: &str,
    ) -> Result<Value, ConnectorError> {
        let answer = self
            .post(&entity.to_lowercase(), &[("requestid", request_id)], body)
            .await?;
        Self::unwrap_entity(entity, answer)
    }

    /// A sparse update: only `changes` are touched; `sync_token` must be the current one or
    /// the answer is `StaleObject`. The returned object carries the new SyncToken.
    pub async fn sparse_update(
        &self,
        entity: &str,
        id: &str,
        sync_token: &str,
        changes: &serde_json::Map<String, Value>,
        request_id: Option<&str>,
    ) -> Result<Value, ConnectorError> {
        let mut body = changes.clone();
        body.insert("Id".to_owned(), json!(id));
        body.insert("SyncToken".to_owned(), json!(sync_token));
        body.insert("sparse".to_owned(), json!(true));
        let query: Vec<(&str, &str)> = request_id.map(|r| ("requestid", r)).into_iter().collect();
        let answer = self
            .post(&entity.to_lowercase(), &query, &Value::Object(body))
            .await?;
        Self::unwrap_entity(entity, answer)
    }

    /// Deletes a transaction (Invoice, Estimate, SalesReceipt, PurchaseOrder, Payment);
    /// name-list objects are never deleted, only made inactive with a sparse update.
    pub async fn delete(
        &self,
        entity: &str,
        id: &str,
        sync_token: &str,
    ) -> Result<Value, ConnectorError> {
        let body = json!({"Id": id, "SyncToken": sync_token});
        let answer = self
            .post(&entity.to_lowercase(), &[("operation", "delete")], &body)
            .await?;
        Self::unwrap_entity(entity, answer)
    }

    /// Voids a transaction (Invoice, SalesReceipt, Payment, BillPayment): kept, with amounts
    /// zeroed. QBO has two forms: Invoice takes `?operation=void`; Payment, SalesReceipt and
    /// BillPayment take a sparse update with `?include=void` and answer `?operation=void` with
    /// Fault 500 (Intuit's "Void a payment" sections; python-quickbooks `VoidMixin`).
    pub async fn void(
        &self,
        entity: &str,
        id: &str,
        sync_token: &str,
    ) -> Result<Value, ConnectorError> {
        let voided_by_sparse_update = ["Payment", "SalesReceipt", "BillPayment"]
            .iter()
            .any(|e| e.eq_ignore_ascii_case(entity));
        let (query, body): (&[(&str, &str)], Value) = if voided_by_sparse_update {
            (
                &[("operation", "update"), ("include", "void")],
                json!({"Id": id, "SyncToken": sync_token, "sparse": true}),
            )
        } else {
            (
                &[("operation", "void")],
                json!({"Id": id, "SyncToken": sync_token}),
            )
        };
        let answer = self.post(&entity.to_lowercase(), query, &body).await?;
        Self::unwrap_entity(entity, answer)
    }

    /// One `/batch` call of at most 30 items; per-item results in request order, matched by
    /// `bId` (QBO answers HTTP 200 even when items fail).
    pub async fn batch(
        &self,
        items: &[BatchItem],
        request_id: Option<&str>,
    ) -> Result<Vec<BatchOutcome>, ConnectorError> {
        if items.len() > MAX_BATCH_ITEMS {
            return Err(ConnectorError::unexpected(
                Api::Qbo,
                None,
                format!(
                    "a batch holds at most {MAX_BATCH_ITEMS} items, not {}",
                    items.len()
                ),
            ));
        }
        let query: Vec<(&str, &str)> = request_id.map(|r| ("requestid", r)).into_iter().collect();
        let mut answer = self.post("batch", &query, &BatchRequest(items)).await?;
        let mut responses = match answer.get_mut("BatchItemResponse").map(Value::take) {
            Some(Value::Array(responses)) => responses,
            _ => Vec::new(),
        };
        let wait = self.http.rate_limit_wait(Api::Qbo);
        Ok(items
            .iter()
            .map(|item| {
                let response = responses
                    .iter_mut()
                    .find(|r| r.get("bId").and_then(Value::as_str) == Some(item.bid.as_str()));
                let result = match response {
                    None => Err(ConnectorError::unexpected(
                        Api::Qbo,
                        Some(200),
                        format!("no answer for batch item {}", item.bid),
                    )),
                    Some(r) if r.get("Fault").is_some() => {
                        let raw = r["Fault"].to_string();
                        // The per-item status is not given; faults in a batch are 400-class.
                        Err(qbo_error(400, r, &raw, wait))
                    }
                    Some(r) => r.get_mut(&item.entity).map(Value::take).ok_or_else(|| {
                        ConnectorError::unexpected(
                            Api::Qbo,
                            Some(200),
                            format!("batch item {} has no {}", item.bid, item.entity),
                        )
                    }),
                };
                BatchOutcome {
                    bid: item.bid.clone(),
                    result,
                }
            })
            .collect())
    }

    /// One CDC call: objects per entity and how many in total.
    pub async fn cdc(
        &self,
        entities: &[&str],
        since: DateTime<Utc>,
    ) -> Result<(BTreeMap<String, Vec<Value>>, usize), ConnectorError> {
        let names = entities.join(",");
        let since = time_text(since);
        let answer = self
            .get("cdc", &[("entities", &names), ("changedSince", &since)])
            .await?;
        let mut by_entity: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut total = 0;
        let responses = answer
            .pointer("/CDCResponse/0/QueryResponse")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for response in responses {
            let Some(object) = response.as_object() else {
                continue;
            };
            for (key, value) in object {
                if let Some(rows) = value.as_array() {
                    total += rows.len();
                    by_entity
                        .entry(key.clone())
                        .or_default()
                        .extend(rows.iter().cloned());
                }
            }
        }
        Ok((by_entity, total))
    }

    /// Everything changed since `since`, complete even when CDC's 1,000-object cap is hit:
    /// a saturated answer is split per entity, and a saturated single entity is walked
    /// forward from the newest change seen (CDC returns the oldest changes first). A cursor
    /// older than CDC's 30-day look-back is served by queries on `MetaData.LastUpdatedTime`.
    pub async fn changes_since(
        &self,
        entities: &[&str],
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Changes, ConnectorError> {
        let mut changes = Changes::default();
        if since < now - chrono::Duration::days(CDC_LOOKBACK_DAYS - 1) {
            changes.used_query_fallback = true;
            for entity in entities {
                let rows = self.updated_since_by_query(entity, since).await?;
                changes.by_entity.insert((*entity).to_owned(), rows);
            }
            return Ok(changes);
        }
        let (first, total) = self.cdc(entities, since).await?;
        changes.cdc_calls += 1;
        if total < CDC_SATURATION {
            for (entity, rows) in first {
                merge(changes.by_entity.entry(entity).or_default(), rows);
            }
            return Ok(changes);
        }
        for entity in entities {
            let mut collected = Vec::new();
            let mut cursor = since;
            loop {
                let (mut page, total) = self.cdc(&[entity], cursor).await?;
                changes.cdc_calls += 1;
                let rows = page.remove(*entity).unwrap_or_default();
                let newest = rows.iter().filter_map(last_updated).max();
                merge(&mut collected, rows);
                if total < CDC_SATURATION {
                    break;
                }
                match newest {
                    Some(newest) if newest > cursor => cursor = newest,
                    _ => {
                        // A thousand changes in one second: only a query can page through them.
                        changes.used_query_fallback = true;
                        merge(
                            &mut collected,
                            self.updated_since_by_query(entity, cursor).await?,
                        );
                        break;
                    }
                }
            }
            changes.by_entity.insert((*entity).to_owned(), collected);
        }
        Ok(changes)
    }

    /// How many rows of `entity` were updated at or after `since` (active ones; what a first
    /// run from that time would read).
    pub async fn count_updated_since(
        &self,
        entity: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, ConnectorError> {
        let statement = format!(
            "SELECT COUNT(*) FROM {entity} WHERE MetaData.LastUpdatedTime >= '{}'",
            time_text(since)
        );
        let answer = self.get("query", &[("query", &statement)]).await?;
        Ok(answer
            .pointer("/QueryResponse/totalCount")
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }

    /// Rows of `entity` updated at or after `since` (inactive name-list rows included).
    pub async fn updated_since_by_query(
        &self,
        entity: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Value>, ConnectorError> {
        let active = if NAME_LISTS.contains(&entity) {
            " AND Active IN (true, false)"
        } else {
            ""
        };
        let statement = format!(
            "SELECT * FROM {entity} WHERE MetaData.LastUpdatedTime >= '{}'{active} ORDERBY MetaData.LastUpdatedTime",
            time_text(since)
        );
        self.query(&statement).await
    }

    pub async fn company_info(&self) -> Result<CompanyInfo, ConnectorError> {
        let answer = self
            .get(&format!("companyinfo/{}", self.realm_id), &[])
            .await?;
        let raw = Self::unwrap_entity("CompanyInfo", answer)?;
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        let offering_sku = raw
            .get("NameValue")
            .and_then(Value::as_array)
            .and_then(|pairs| {
                pairs
                    .iter()
                    .find(|p| p.get("Name").and_then(Value::as_str) == Some("OfferingSku"))
            })
            .and_then(|p| p.get("Value").and_then(Value::as_str))
            .map(str::to_owned);
        Ok(CompanyInfo {
            company_name: text("CompanyName").unwrap_or_default(),
            country: text("Country"),
            offering_sku,
            raw,
        })
    }

    /// Preferences, with the legacy custom fields (slots 1–3) that are switched on and named.
    pub async fn preferences(&self) -> Result<Preferences, ConnectorError> {
        let answer = self.get("preferences", &[]).await?;
        let raw = Self::unwrap_entity("Preferences", answer)?;
        let mut enabled = BTreeMap::new();
        let mut names = BTreeMap::new();
        let groups = raw
            .pointer("/SalesFormsPrefs/CustomField")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for entry in groups
            .iter()
            .filter_map(|g| g.get("CustomField").and_then(Value::as_array))
            .flatten()
        {
            let name = entry
                .get("Name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(slot) = name.strip_prefix("SalesFormsPrefs.UseSalesCustom") {
                enabled.insert(
                    slot.to_owned(),
                    entry.get("BooleanValue").and_then(Value::as_bool) == Some(true),
                );
            } else if let Some(slot) = name.strip_prefix("SalesFormsPrefs.SalesCustomName")
                && let Some(label) = entry.get("StringValue").and_then(Value::as_str)
            {
                names.insert(slot.to_owned(), label.to_owned());
            }
        }
        let custom_fields = names
            .into_iter()
            .filter(|(slot, _)| enabled.get(slot).copied().unwrap_or(false))
            .map(|(definition_id, name)| LegacyCustomField {
                definition_id,
                name,
            })
            .collect();
        Ok(Preferences {
            custom_fields,
            tracks_quantity_on_hand: raw
                .pointer("/ProductAndServicesPrefs/QuantityOnHand")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            home_currency: raw
                .pointer("/CurrencyPrefs/HomeCurrency/value")
                .and_then(Value::as_str)
                .map(str::to_owned),
            raw,
        })
    }
}

/// Custom fields seen on records (`CustomField[]` with `DefinitionId` and `Name`): how the
/// fields a company actually uses are discovered beside the Preferences definitions.
pub fn custom_fields_in_use(records: &[Value]) -> Vec<LegacyCustomField> {
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for field in records
        .iter()
        .filter_map(|r| r.get("CustomField").and_then(Value::as_array))
        .flatten()
    {
        let id = field.get("DefinitionId").and_then(Value::as_str);
        let name = field.get("Name").and_then(Value::as_str);
        if let (Some(id), Some(name)) = (id, name) {
            found
                .entry(id.to_owned())
                .or_insert_with(|| name.to_owned());
        }
    }
    found
        .into_iter()
        .map(|(definition_id, name)| LegacyCustomField {
            definition_id,
            name,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_fields_are_discovered_from_records() {
        let records = vec![
            json!({"CustomField": [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}]}),
            json!({"CustomField": [{"DefinitionId": "1", "Name": "Crew #", "StringValue": "7"}, {"DefinitionId": "540344", "Name": "Region"}]}),
            json!({"DisplayName": "no custom fields"}),
        ];
        let found = custom_fields_in_use(&records);
        assert_eq!(
            found,
            vec![
                LegacyCustomField {
                    definition_id: "1".to_owned(),
                    name: "Crew #".to_owned()
                },
                LegacyCustomField {
                    definition_id: "540344".to_owned(),
                    name: "Region".to_owned()
                },
            ]
        );
    }

    #[test]
    fn merge_keeps_the_newest_version_of_each_object() {
        let mut into = vec![
            json!({"Id": "1", "SyncToken": "0", "MetaData": {"LastUpdatedTime": "2026-05-01T10:00:00-07:00"}}),
        ];
        merge(
            &mut into,
            vec![
                json!({"Id": "1", "SyncToken": "2", "MetaData": {"LastUpdatedTime": "2026-05-01T12:00:00-07:00"}}),
                json!({"Id": "2", "SyncToken": "0", "MetaData": {"LastUpdatedTime": "2026-05-01T09:00:00-07:00"}}),
                json!({"Id": "1", "SyncToken": "1", "MetaData": {"LastUpdatedTime": "2026-05-01T11:00:00-07:00"}}),
            ],
        );
        assert_eq!(into.len(), 2);
        assert_eq!(into[0]["SyncToken"], "2");
    }
}
