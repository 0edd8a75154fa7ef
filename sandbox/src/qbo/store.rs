//! A company's books: the stored rows and the rules of QBO's API around them (ids, SyncTokens,
//! unique names, delete and void, payments lowering invoice balances, queries, CDC) and the
//! change notices webhooks report.

use std::collections::{BTreeMap, HashMap, VecDeque};

use axum::body::Bytes;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::{
    CDC_MAX_OBJECTS, Fault, SANDBOX_USER_ID, VOIDED_BY_OPERATION, VOIDED_BY_SPARSE_UPDATE,
    canonical, is_transaction, query, settled_by, settling,
};
use crate::util::{object, qbo_timestamp, round2};

#[derive(Debug, Clone)]
struct DeletedStub {
    entity: &'static str,
    id: u64,
    at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
    Void,
}

impl Op {
    /// The operation a write on `entity` asks for: `?operation=` and `?include=` (in a batch
    /// item, `operation` and `optionsData`); with no operation, an update when the body has an
    /// `Id`, else a create. Invoice is voided by `operation=void`; Payment and SalesReceipt by
    /// an update with `include=void`, and `operation=void` on them is refused as QBO refuses it.
    pub fn requested(
        entity: &str,
        operation: Option<&str>,
        include: Option<&str>,
        has_id: bool,
    ) -> Result<Op, Fault> {
        match operation {
            None if has_id => Ok(Op::Update),
            None => Ok(Op::Create),
            Some("create") => Ok(Op::Create),
            Some("delete") => Ok(Op::Delete),
            Some("update") if include == Some("void") => {
                if VOIDED_BY_SPARSE_UPDATE.contains(&entity) {
                    Ok(Op::Void)
                } else {
                    Err(Fault::unsupported_operation("void"))
                }
            }
            Some("update") => Ok(Op::Update),
            Some("void") if VOIDED_BY_OPERATION.contains(&entity) => Ok(Op::Void),
            Some(name) => Err(Fault::unsupported_operation(name)),
        }
    }
}

/// One company's books.
#[derive(Debug)]
pub struct Realm {
    rows: HashMap<&'static str, BTreeMap<u64, Value>>,
    next_id: u64,
    deleted: Vec<DeletedStub>,
    /// `(name space, lower-case name)` → id; Customer and Vendor share one space.
    pub(super) names: HashMap<(&'static str, String), u64>,
    /// Answers by `requestid`, kept serialized: a migration sends tens of thousands, and a
    /// repeat is answered with the same bytes.
    pub(super) request_ids: HashMap<String, (StatusCode, Bytes)>,
    pub company_info: Value,
    pub preferences: Value,
    pub(super) requests: VecDeque<DateTime<Utc>>,
    pub(super) batches: VecDeque<DateTime<Utc>>,
    pub(super) in_flight: usize,
    /// Changes not yet sent to the webhook endpoint; off while the seed runs.
    pub notices: Vec<Notice>,
    pub record_notices: bool,
}

/// One change a webhook reports.
#[derive(Debug, Clone)]
pub struct Notice {
    pub entity: &'static str,
    pub id: String,
    pub operation: &'static str,
    pub at: DateTime<Utc>,
}

pub(super) fn name_space(entity: &'static str) -> &'static str {
    if matches!(entity, "Customer" | "Vendor") {
        "party"
    } else {
        entity
    }
}

pub(super) fn name_field(entity: &str) -> Option<&'static str> {
    match entity {
        "Customer" | "Vendor" => Some("DisplayName"),
        "Item" | "Account" | "Term" | "TaxCode" => Some("Name"),
        _ => None,
    }
}

pub(super) fn num(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Realm {
    pub fn new(company_name: &str, now: DateTime<Utc>) -> Self {
        let created = qbo_timestamp(now - Duration::days(400));
        let company_info = json!({
            "CompanyName": company_name, "LegalName": company_name,
            "CompanyAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "Country": "USA", "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
            "CustomerCommunicationAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "Country": "USA", "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
            "LegalAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "Country": "USA", "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
            "PrimaryPhone": {"FreeFormNumber": "(650)944-4444"}, "CompanyStartDate": created[..10],
            "FiscalYearStartMonth": "January", "Country": "US", "Email": {"Address": "donotreply@intuit.com"},
            "WebAddr": {}, "SupportedLanguages": "en", "NameValue": [{"Name": "NeoEnabled", "Value": "true"}, {"Name": "IndustryType", "Value": "Landscaping Services"}, {"Name": "SubscriptionStatus", "Value": "PAID"}, {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}],
            "domain": "QBO", "sparse": false, "Id": "1", "SyncToken": "4",
            "MetaData": {"CreateTime": created, "LastUpdatedTime": created},
        });
        let preferences = json!({
            "AccountingInfoPrefs": {"TrackDepartments": false, "ClassTrackingPerTxn": false, "CustomerTerminology": "Customers"},
            "ProductAndServicesPrefs": {"ForSales": true, "ForPurchase": true, "QuantityWithPriceAndRate": true, "QuantityOnHand": true},
            "SalesFormsPrefs": {
                "CustomField": [
                    {"CustomField": [
                        {"Name": "SalesFormsPrefs.UseSalesCustom1", "Type": "BooleanType", "BooleanValue": true},
                        {"Name": "SalesFormsPrefs.UseSalesCustom2", "Type": "BooleanType", "BooleanValue": false},
                        {"Name": "SalesFormsPrefs.UseSalesCustom3", "Type": "BooleanType", "BooleanValue": false}]},
                    {"CustomField": [
                        {"Name": "SalesFormsPrefs.SalesCustomName1", "Type": "StringType", "StringValue": "Crew #"}]}],
                "AllowDeposit": true, "AllowDiscount": true, "AllowEstimates": true, "ETransactionEnabledStatus": "NotApplicable",
                "CustomTxnNumbers": false, "DefaultTerms": {"value": "3"}},
            "VendorAndPurchasesPrefs": {"TrackingByCustomer": true, "BillableExpenseTracking": true, "POCustomField": [{"CustomField": [{"Name": "PurchasePrefs.UsePurchaseCustom1", "Type": "BooleanType", "BooleanValue": false}]}]},
            "TaxPrefs": {"UsingSalesTax": true, "TaxGroupCodeRef": {"value": "2"}},
            "CurrencyPrefs": {"MultiCurrencyEnabled": false, "HomeCurrency": {"value": "USD"}},
            "domain": "QBO", "sparse": false, "Id": "1", "SyncToken": "3",
            "MetaData": {"CreateTime": created, "LastUpdatedTime": created},
        });
        let mut realm = Self {
            rows: HashMap::new(),
            next_id: 1,
            deleted: Vec::new(),
            names: HashMap::new(),
            request_ids: HashMap::new(),
            company_info,
            preferences,
            requests: VecDeque::new(),
            batches: VecDeque::new(),
            in_flight: 0,
            notices: Vec::new(),
            record_notices: false,
        };
        realm.seed_reference_data(now);
        realm.record_notices = true;
        realm
    }

    fn seed_reference_data(&mut self, now: DateTime<Utc>) {
        let accounts = [
            ("Services", "Income", "ServiceFeeIncome"),
            ("Sales of Product Income", "Income", "SalesOfProductIncome"),
            (
                "Cost of Goods Sold",
                "Cost of Goods Sold",
                "SuppliesMaterialsCogs",
            ),
            ("Inventory Asset", "Other Current Asset", "Inventory"),
            (
                "Accounts Receivable (A/R)",
                "Accounts Receivable",
                "AccountsReceivable",
            ),
            (
                "Accounts Payable (A/P)",
                "Accounts Payable",
                "AccountsPayable",
            ),
            (
                "Undeposited Funds",
                "Other Current Asset",
                "UndepositedFunds",
            ),
        ];
        for (name, kind, sub) in accounts {
            let _ = self.execute(
                "Account",
                Op::Create,
                json!({"Name": name, "AccountType": kind, "AccountSubType": sub}),
                now,
            );
        }
        for (name, days) in [
            ("Due on receipt", 0),
            ("Net 15", 15),
            ("Net 30", 30),
            ("Net 60", 60),
        ] {
            let _ = self.execute(
                "Term",
                Op::Create,
                json!({"Name": name, "DueDays": days}),
                now,
            );
        }
        // TaxCode cannot be created through the API, so the reference rows go in directly.
        for (name, taxable) in [("TAX", true), ("NON", false)] {
            let id = self.allocate_id();
            let stamp = qbo_timestamp(now);
            let row = json!({"Name": name, "Description": if taxable { "TAX" } else { "NON" }, "Active": true, "Hidden": false,
                "Taxable": taxable, "TaxGroup": taxable, "domain": "QBO", "sparse": false, "Id": id.to_string(), "SyncToken": "0",
                "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp}});
            self.names.insert(("TaxCode", name.to_lowercase()), id);
            self.rows.entry("TaxCode").or_default().insert(id, row);
        }
    }

    fn allocate_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn rows(&self, entity: &'static str) -> impl Iterator<Item = &Value> {
        self.rows.get(entity).into_iter().flat_map(BTreeMap::values)
    }

    pub fn find_id(&self, entity: &'static str, name: &str) -> Option<u64> {
        self.names
            .get(&(name_space(entity), name.to_lowercase()))
            .copied()
            .filter(|id| self.rows.get(entity).is_some_and(|r| r.contains_key(id)))
    }

    pub(super) fn get(&self, entity: &'static str, id: u64) -> Option<&Value> {
        self.rows.get(entity)?.get(&id)
    }

    /// A `{value, name}` reference to an existing, active object.
    pub(super) fn resolve_ref(
        &self,
        entity: &'static str,
        reference: &Value,
        what: &str,
    ) -> Result<Value, Fault> {
        let id_text = match reference {
            Value::Object(map) => map
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let row = id_text
            .parse::<u64>()
            .ok()
            .and_then(|id| self.get(entity, id));
        match row {
            Some(row) if row["Active"] != json!(false) => {
                let name = name_field(entity)
                    .and_then(|f| row[f].as_str())
                    .unwrap_or_default();
                Ok(json!({"value": id_text, "name": name}))
            }
            _ => Err(Fault::invalid_ref(what, &id_text)),
        }
    }

    fn parse_id(body: &Map<String, Value>) -> Result<u64, Fault> {
        let text = match body.get("Id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(Fault::required("Id")),
        };
        text.parse::<u64>().map_err(|_| Fault::invalid_id(&text))
    }

    fn check_sync_token(current: &Value, body: &Map<String, Value>) -> Result<u64, Fault> {
        let stored = current["SyncToken"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let given = match body.get("SyncToken") {
            Some(Value::String(s)) => s.parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            _ => return Err(Fault::required("SyncToken")),
        };
        if given != Some(stored) {
            return Err(Fault::stale());
        }
        Ok(stored)
    }

    /// Runs one create / update / delete / void and returns the entity as QBO would answer it;
    /// successful changes are queued for the webhook.
    pub fn execute(
        &mut self,
        entity: &'static str,
        op: Op,
        body: Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Fault> {
        // The documents a payment settled before this write: an update may move it to others,
        // a void or delete releases them.
        let settled = settled_by(entity);
        let mut touched: Vec<u64> = match (settled, op) {
            (Some(target), Op::Update | Op::Void | Op::Delete) => body
                .as_object()
                .and_then(|b| Self::parse_id(b).ok())
                .and_then(|id| self.get(entity, id))
                .map(|payment| linked_ids(payment, target))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let result = self.execute_unnoticed(entity, op, body, now)?;
        if let Some(target) = settled {
            touched.extend(linked_ids(&result, target));
            self.refresh_balances(target, &touched, now);
        }
        let operation = match op {
            Op::Create => "Create",
            Op::Update => "Update",
            Op::Delete => "Delete",
            Op::Void => "Void",
        };
        self.notice(
            entity,
            result["Id"].as_str().unwrap_or_default(),
            operation,
            now,
        );
        Ok(result)
    }

    /// What the payments on the books apply to document `id` of `entity` (an Invoice by
    /// Payments, a Bill by BillPayments): voided payments' lines are 0, deleted ones are gone.
    pub(super) fn paid_toward(&self, entity: &str, id: u64) -> f64 {
        let Some(payer) = settling(entity) else {
            return 0.0;
        };
        self.rows(payer)
            .flat_map(|payment| payment_lines(payment, entity))
            .filter(|(linked, _)| *linked == id)
            .map(|(_, amount)| amount)
            .sum()
    }

    /// Recomputes `Balance` = total − payments applied for each document, as QBO does when a
    /// payment is created, changed, voided or deleted; a document whose balance moves is updated
    /// (SyncToken + 1, an update notice).
    fn refresh_balances(&mut self, entity: &'static str, ids: &[u64], now: DateTime<Utc>) {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let paid = self.paid_toward(entity, id);
            let Some(document) = self.rows.get_mut(entity).and_then(|rows| rows.get_mut(&id))
            else {
                continue;
            };
            let total = num(document.get("TotalAmt")).unwrap_or(0.0);
            let balance = round2((total - paid).clamp(0.0, total.max(0.0)));
            if num(document.get("Balance")) == Some(balance) {
                continue;
            }
            document["Balance"] = json!(balance);
            let token = document["SyncToken"]
                .as_str()
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0);
            document["SyncToken"] = json!((token + 1).to_string());
            document["MetaData"]["LastUpdatedTime"] = json!(qbo_timestamp(now));
            self.notice(entity, &id.to_string(), "Update", now);
        }
    }

    fn notice(
        &mut self,
        entity: &'static str,
        id: &str,
        operation: &'static str,
        at: DateTime<Utc>,
    ) {
        if self.record_notices {
            self.notices.push(Notice {
                entity,
                id: id.to_owned(),
                operation,
                at,
            });
        }
    }

    fn execute_unnoticed(
        &mut self,
        entity: &'static str,
        op: Op,
        body: Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Fault> {
        let Value::Object(body) = body else {
            return Err(Fault::validation(
                "2010",
                "Request has invalid or unsupported property",
                "Request body must be a JSON object",
            ));
        };
        if entity == "TaxCode" && op != Op::Create {
            return Err(Fault::unsupported(format!(
                "Operation {op:?} is not supported for TaxCode"
            )));
        }
        match op {
            Op::Create => {
                if entity == "TaxCode" {
                    return Err(Fault::unsupported(
                        "TaxCode can only be created through the TaxService endpoint",
                    ));
                }
                let mut object = body;
                object.remove("Id");
                let id = self.next_id;
                let stamp = qbo_timestamp(now);
                object.insert("Id".into(), json!(id.to_string()));
                object.insert("SyncToken".into(), json!("0"));
                object.insert(
                    "MetaData".into(),
                    json!({"CreateTime": stamp, "LastUpdatedTime": stamp, "LastModifiedByRef": {"value": SANDBOX_USER_ID}}),
                );
                self.normalize(entity, &mut object, None, now)?;
                self.next_id += 1;
                self.store(entity, id, object)
            }
            Op::Update => {
                let id = Self::parse_id(&body)?;
                let current = self.get(entity, id).ok_or_else(Fault::not_found)?.clone();
                let token = Self::check_sync_token(&current, &body)?;
                let sparse = body.get("sparse").and_then(Value::as_bool).unwrap_or(false);
                let mut object = if sparse {
                    let mut merged = current.as_object().cloned().unwrap_or_default();
                    for (key, value) in body {
                        merged.insert(key, value);
                    }
                    merged
                } else {
                    // Full update: whatever the client left out is cleared.
                    body
                };
                object.insert("Id".into(), json!(id.to_string()));
                object.insert("SyncToken".into(), json!((token + 1).to_string()));
                let created = current["MetaData"]["CreateTime"].clone();
                object.insert(
                    "MetaData".into(),
                    json!({"CreateTime": created, "LastUpdatedTime": qbo_timestamp(now), "LastModifiedByRef": {"value": SANDBOX_USER_ID}}),
                );
                self.normalize(entity, &mut object, Some(&current), now)?;
                self.store(entity, id, object)
            }
            Op::Delete => {
                if !is_transaction(entity) {
                    return Err(Fault::unsupported(format!(
                        "Operation Delete is not supported for {entity}: set Active to false instead"
                    )));
                }
                let id = Self::parse_id(&body)?;
                let current = self.get(entity, id).ok_or_else(Fault::not_found)?;
                Self::check_sync_token(current, &body)?;
                self.rows.entry(entity).or_default().remove(&id);
                self.deleted.push(DeletedStub {
                    entity,
                    id,
                    at: now,
                });
                Ok(json!({"domain": "QBO", "status": "Deleted", "Id": id.to_string()}))
            }
            Op::Void => {
                if !VOIDED_BY_OPERATION.contains(&entity)
                    && !VOIDED_BY_SPARSE_UPDATE.contains(&entity)
                {
                    return Err(Fault::unsupported_operation("void"));
                }
                let id = Self::parse_id(&body)?;
                let current = self.get(entity, id).ok_or_else(Fault::not_found)?.clone();
                let token = Self::check_sync_token(&current, &body)?;
                let mut object = current.as_object().cloned().unwrap_or_default();
                if entity == "BillPayment" {
                    // Intuit: a voided bill payment's lines are cleared, not zeroed.
                    object.insert("Line".into(), json!([]));
                }
                if let Some(Value::Array(lines)) = object.get_mut("Line") {
                    for line in lines.iter_mut() {
                        line["Amount"] = json!(0);
                        if let Some(detail) = line
                            .get_mut("SalesItemLineDetail")
                            .and_then(Value::as_object_mut)
                        {
                            detail.remove("Qty");
                            detail.remove("UnitPrice");
                        }
                    }
                }
                object.insert("TotalAmt".into(), json!(0));
                match entity {
                    "Payment" => {
                        object.insert("UnappliedAmt".into(), json!(0));
                    }
                    "BillPayment" => {}
                    _ => {
                        object.insert("Balance".into(), json!(0));
                        object.insert("TxnTaxDetail".into(), json!({"TotalTax": 0}));
                    }
                }
                // "Voided" is prepended to the note the transaction had, if any.
                let note = match object.get("PrivateNote").and_then(Value::as_str) {
                    Some(existing) if !existing.is_empty() => format!("Voided {existing}"),
                    _ => "Voided".to_owned(),
                };
                object.insert("PrivateNote".into(), json!(note));
                object.insert("SyncToken".into(), json!((token + 1).to_string()));
                object["MetaData"]["LastUpdatedTime"] = json!(qbo_timestamp(now));
                self.store(entity, id, object)
            }
        }
    }

    fn store(
        &mut self,
        entity: &'static str,
        id: u64,
        object: Map<String, Value>,
    ) -> Result<Value, Fault> {
        if let Some(field) = name_field(entity) {
            let space = name_space(entity);
            let previous = self
                .get(entity, id)
                .and_then(|row| row[field].as_str())
                .map(str::to_lowercase);
            if let Some(previous) = previous {
                self.names.remove(&(space, previous));
            }
            if let Some(name) = object.get(field).and_then(Value::as_str) {
                self.names.insert((space, name.to_lowercase()), id);
            }
        }
        let value = Value::Object(object);
        self.rows
            .entry(entity)
            .or_default()
            .insert(id, value.clone());
        Ok(value)
    }

    pub(super) fn read(&self, entity: &'static str, id_text: &str) -> Result<Value, Fault> {
        let id = id_text
            .parse::<u64>()
            .map_err(|_| Fault::invalid_id(id_text))?;
        self.get(entity, id).cloned().ok_or_else(Fault::not_found)
    }

    /// Evaluates a query statement; `Ok` is the `QueryResponse` member.
    pub fn query(&self, statement: &str) -> Result<Value, Fault> {
        let parsed = query::parse(statement).map_err(|e| Fault::invalid_query(&e))?;
        let (entity, rows): (&str, Vec<&Value>) =
            if parsed.entity.eq_ignore_ascii_case("CompanyInfo") {
                ("CompanyInfo", vec![&self.company_info])
            } else if parsed.entity.eq_ignore_ascii_case("Preferences") {
                ("Preferences", vec![&self.preferences])
            } else {
                // Entity names in queries are case-sensitive in QBO.
                let entity = canonical(&parsed.entity).filter(|e| *e == parsed.entity);
                let Some(entity) = entity else {
                    return Err(Fault::invalid_query(&format!(
                        "invalid context declaration: {}",
                        parsed.entity
                    )));
                };
                let include_inactive = parsed
                    .conditions
                    .iter()
                    .any(|c| c.field().eq_ignore_ascii_case("Active"));
                (
                    entity,
                    self.rows(entity)
                        .filter(|row| include_inactive || row["Active"] != json!(false))
                        .collect(),
                )
            };
        let mut matched: Vec<&Value> = rows
            .into_iter()
            .filter(|row| parsed.conditions.iter().all(|c| c.matches(row)))
            .collect();
        if parsed.count {
            return Ok(json!({"totalCount": matched.len()}));
        }
        for (field, descending) in parsed.order_by.iter().rev() {
            matched.sort_by(|a, b| {
                let ordering =
                    query::compare_values(query::lookup(a, field), query::lookup(b, field));
                if *descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            });
        }
        let page: Vec<Value> = matched
            .into_iter()
            .skip(parsed.start_position - 1)
            .take(parsed.max_results)
            .cloned()
            .collect();
        if page.is_empty() {
            return Ok(json!({}));
        }
        let count = page.len();
        Ok(object([
            (entity, Value::Array(page)),
            ("startPosition", json!(parsed.start_position)),
            ("maxResults", json!(count)),
        ]))
    }

    pub(super) fn cdc(&self, entities: &[&'static str], since: DateTime<Utc>) -> Value {
        let mut remaining = CDC_MAX_OBJECTS;
        let mut responses = Vec::new();
        for entity in entities {
            let mut changed: Vec<(DateTime<Utc>, Value)> = self
                .rows(entity)
                .filter_map(|row| {
                    let at =
                        DateTime::parse_from_rfc3339(row["MetaData"]["LastUpdatedTime"].as_str()?)
                            .ok()?
                            .with_timezone(&Utc);
                    (at >= since).then(|| (at, row.clone()))
                })
                .collect();
            changed.extend(self.deleted.iter().filter(|d| d.entity == *entity && d.at >= since).map(|d| {
                (d.at, json!({"domain": "QBO", "status": "Deleted", "Id": d.id.to_string(), "MetaData": {"LastUpdatedTime": qbo_timestamp(d.at)}}))
            }));
            changed.sort_by_key(|(at, _)| *at);
            let taken: Vec<Value> = changed
                .into_iter()
                .take(remaining)
                .map(|(_, row)| row)
                .collect();
            remaining -= taken.len();
            if taken.is_empty() {
                responses.push(json!({}));
            } else {
                let count = taken.len();
                responses.push(object([
                    (*entity, Value::Array(taken)),
                    ("startPosition", json!(1)),
                    ("maxResults", json!(count)),
                    ("totalCount", json!(count)),
                ]));
            }
        }
        json!([{"QueryResponse": responses}])
    }

    /// Simulates another user editing the object: the caller's SyncToken becomes stale.
    pub fn touch(&mut self, entity: &'static str, id: u64, now: DateTime<Utc>) -> Option<Value> {
        let row = self.rows.get_mut(entity)?.get_mut(&id)?;
        let token = row["SyncToken"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        row["SyncToken"] = json!((token + 1).to_string());
        row["MetaData"]["LastUpdatedTime"] = json!(qbo_timestamp(now));
        let updated = row.clone();
        self.notice(entity, &id.to_string(), "Update", now);
        Some(updated)
    }

    /// A deletion made in QBO itself: transactions go, name-list objects become inactive.
    pub fn remote_delete(
        &mut self,
        entity: &'static str,
        id: u64,
        now: DateTime<Utc>,
    ) -> Option<Value> {
        let current = self.get(entity, id)?.clone();
        let token = current["SyncToken"].clone();
        let op = if is_transaction(entity) {
            Op::Delete
        } else {
            Op::Update
        };
        let mut body =
            json!({"Id": id.to_string(), "SyncToken": token, "sparse": true, "Active": false});
        // QBO frees a deleted name-list object's name by suffixing it.
        for key in ["DisplayName", "Name"] {
            if let Some(name) = current.get(key).and_then(Value::as_str) {
                body[key] = json!(format!("{name} (deleted)"));
            }
        }
        self.execute(entity, op, body, now).ok()
    }
}

/// `(document id, amount)` for each payment line that pays a `target` (Invoice, Bill).
fn payment_lines<'a>(payment: &'a Value, target: &'a str) -> impl Iterator<Item = (u64, f64)> + 'a {
    payment["Line"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(move |line| {
            let amount = num(line.get("Amount")).unwrap_or(0.0);
            line["LinkedTxn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(move |l| l["TxnType"] == target)
                .filter_map(move |l| Some((l["TxnId"].as_str()?.parse::<u64>().ok()?, amount)))
        })
}

fn linked_ids(payment: &Value, target: &str) -> Vec<u64> {
    payment_lines(payment, target).map(|(id, _)| id).collect()
}

#[derive(Debug, Default)]
pub struct Store {
    pub realms: HashMap<String, Realm>,
}

impl Store {
    pub fn realm(&mut self, realm_id: &str, now: DateTime<Utc>) -> &mut Realm {
        self.realms
            .entry(realm_id.to_owned())
            .or_insert_with(|| Realm::new(&format!("Sandbox Company {realm_id}"), now))
    }
}
