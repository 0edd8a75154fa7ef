//! QuickBooks Online Accounting API v3 under `/v3/company/{realmId}/`: CRUD with SyncToken, name-list
//! deactivation, transaction delete/void, the query language, CDC, batch, CompanyInfo, Preferences,
//! `?requestid=` idempotency, the lower-case 401 body and the 3001 throttles.

pub mod query;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as QueryParams, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::control::error_body;
use crate::oauth::TokenProblem;
use crate::util::{
    bearer, json_bytes_response, json_response, object, qbo_time, qbo_timestamp, random_digits,
};
use crate::{Service, Shared, lock};

pub const NAME_LISTS: &[&str] = &["Customer", "Vendor", "Item", "Account", "Term", "TaxCode"];
pub const TRANSACTIONS: &[&str] = &[
    "Invoice",
    "Estimate",
    "SalesReceipt",
    "PurchaseOrder",
    "Payment",
];
const VOIDABLE: &[&str] = &["Invoice", "SalesReceipt", "Payment"];
const MAX_BATCH_ITEMS: usize = 30;
/// The user every simulated write is attributed to (`MetaData.LastModifiedByRef`).
const SANDBOX_USER_ID: &str = "9130355377388236";
const CDC_MAX_OBJECTS: usize = 1000;
const CDC_LOOKBACK_DAYS: i64 = 30;

/// The canonical entity name for a path segment or query `FROM` name (paths are lower-case).
pub fn canonical(name: &str) -> Option<&'static str> {
    NAME_LISTS
        .iter()
        .chain(TRANSACTIONS)
        .copied()
        .find(|e| e.eq_ignore_ascii_case(name))
}

fn is_transaction(entity: &str) -> bool {
    TRANSACTIONS.contains(&entity)
}

/// One QBO error, rendered as `{"Fault":{"Error":[...],"type":...}}`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub detail: String,
    pub element: Option<String>,
    pub kind: &'static str,
}

impl Fault {
    fn validation(code: &str, message: &str, detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: code.to_owned(),
            message: message.to_owned(),
            detail: detail.into(),
            element: None,
            kind: "ValidationFault",
        }
    }

    fn element(mut self, element: &str) -> Self {
        self.element = Some(element.to_owned());
        self
    }

    fn not_found() -> Self {
        Self::validation(
            "610",
            "Object Not Found",
            "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
        )
        .element("")
    }

    fn stale() -> Self {
        Self::validation(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and Sandbox User were working on this at the same time. Sandbox User finished before you did, so your work was not saved.",
        )
        .element("")
    }

    fn required(param: &str) -> Self {
        Self::validation(
            "2020",
            "Required param missing, need to supply the required value for the API",
            format!("Required parameter {param} is missing in the request"),
        )
    }

    fn invalid_ref(what: &str, id: &str) -> Self {
        Self::validation(
            "2500",
            "Invalid Reference Id",
            format!(
                "Invalid Reference Id : {what} assigned to this transaction has been deleted. Before you can modify this transaction, you must restore {what} (Id {id})."
            ),
        )
    }

    fn duplicate_name(entity: &str) -> Self {
        let detail = match entity {
            "Customer" | "Vendor" => "The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name.".to_owned(),
            other => format!("The name supplied already exists. : Another {} is already using this name. Please use a different name.", other.to_lowercase()),
        };
        Self::validation("6240", "Duplicate Name Exists Error", detail)
    }

    fn invalid_query(detail: &str) -> Self {
        Self::validation(
            "4001",
            "Invalid query",
            format!("QueryValidationError: {detail}"),
        )
    }

    fn unsupported(detail: impl Into<String>) -> Self {
        Self::validation("500", "Unsupported Operation", detail)
    }

    fn invalid_id(id: &str) -> Self {
        Self::validation(
            "2030",
            "Invalid ID",
            format!("Id should be a valid number. Supplied value:{id}"),
        )
        .element("Id")
    }

    fn business(detail: impl Into<String>) -> Self {
        Self::validation(
            "6000",
            "A business validation error has occurred while processing your request",
            detail,
        )
    }

    pub fn body(&self) -> Value {
        let mut error = json!({"Message": self.message, "Detail": self.detail, "code": self.code});
        if let Some(element) = &self.element {
            error["element"] = json!(element);
        }
        json!({"Error": [error], "type": self.kind})
    }

    fn response(&self, now: DateTime<Utc>) -> Response {
        json_response(
            self.status,
            &json!({"Fault": self.body(), "time": qbo_time(now)}),
        )
    }
}

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

/// One company's books.
#[derive(Debug)]
pub struct Realm {
    rows: HashMap<&'static str, BTreeMap<u64, Value>>,
    next_id: u64,
    deleted: Vec<DeletedStub>,
    /// `(name space, lower-case name)` → id; Customer and Vendor share one space.
    names: HashMap<(&'static str, String), u64>,
    /// Answers by `requestid`, kept serialized: a migration sends tens of thousands, and a
    /// repeat is answered with the same bytes.
    request_ids: HashMap<String, (StatusCode, Bytes)>,
    pub company_info: Value,
    pub preferences: Value,
    requests: VecDeque<DateTime<Utc>>,
    batches: VecDeque<DateTime<Utc>>,
    in_flight: usize,
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

fn name_space(entity: &'static str) -> &'static str {
    if matches!(entity, "Customer" | "Vendor") {
        "party"
    } else {
        entity
    }
}

fn name_field(entity: &str) -> Option<&'static str> {
    match entity {
        "Customer" | "Vendor" => Some("DisplayName"),
        "Item" | "Account" | "Term" | "TaxCode" => Some("Name"),
        _ => None,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn num(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn currency() -> Value {
    json!({"value": "USD", "name": "United States Dollar"})
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

    fn get(&self, entity: &'static str, id: u64) -> Option<&Value> {
        self.rows.get(entity)?.get(&id)
    }

    /// A `{value, name}` reference to an existing, active object.
    fn resolve_ref(
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
        let result = self.execute_unnoticed(entity, op, body, now)?;
        if entity == "Payment" && op == Op::Create {
            self.apply_payment(&result, now);
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

    /// A new payment reduces the balance of the invoices its lines link to (QBO updates them too).
    fn apply_payment(&mut self, payment: &Value, now: DateTime<Utc>) {
        let links: Vec<(u64, f64)> = payment["Line"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|line| {
                let amount = num(line.get("Amount")).unwrap_or(0.0);
                line["LinkedTxn"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|l| l["TxnType"] == "Invoice")
                    .filter_map(move |l| Some((l["TxnId"].as_str()?.parse::<u64>().ok()?, amount)))
            })
            .collect();
        for (id, amount) in links {
            let Some(invoice) = self
                .rows
                .get_mut("Invoice")
                .and_then(|rows| rows.get_mut(&id))
            else {
                continue;
            };
            let balance = num(invoice.get("Balance")).unwrap_or(0.0);
            invoice["Balance"] = json!(round2((balance - amount).max(0.0)));
            let token = invoice["SyncToken"]
                .as_str()
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0);
            invoice["SyncToken"] = json!((token + 1).to_string());
            invoice["MetaData"]["LastUpdatedTime"] = json!(qbo_timestamp(now));
            self.notice("Invoice", &id.to_string(), "Update", now);
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
                if !VOIDABLE.contains(&entity) {
                    return Err(Fault::unsupported(format!(
                        "Operation Void is not supported for {entity}"
                    )));
                }
                let id = Self::parse_id(&body)?;
                let current = self.get(entity, id).ok_or_else(Fault::not_found)?.clone();
                let token = Self::check_sync_token(&current, &body)?;
                let mut object = current.as_object().cloned().unwrap_or_default();
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
                object.insert("Balance".into(), json!(0));
                object.insert("PrivateNote".into(), json!("Voided"));
                object.insert("TxnTaxDetail".into(), json!({"TotalTax": 0}));
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

    /// Validates references and fills the fields QBO computes or defaults.
    fn normalize(
        &self,
        entity: &'static str,
        object: &mut Map<String, Value>,
        current: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        // Stored addresses get an Id, as QBO numbers every physical address it keeps.
        let self_number = object
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or("1")
            .to_owned();
        for key in ["BillAddr", "ShipAddr"] {
            if let Some(address) = object.get_mut(key).and_then(Value::as_object_mut) {
                address
                    .entry("Id")
                    .or_insert_with(|| json!(self_number.clone()));
                // Recorded traffic: addresses QBO cannot geocode (no Country) carry "INVALID" coordinates.
                if !address.contains_key("Country") {
                    address.entry("Lat").or_insert(json!("INVALID"));
                    address.entry("Long").or_insert(json!("INVALID"));
                }
            }
        }
        object.insert("domain".into(), json!("QBO"));
        object.insert("sparse".into(), json!(false));
        if matches!(entity, "Customer" | "Vendor") {
            // An opaque per-object id Intuit added in 2025; derived from the entity and id so it is stable.
            let pseudonym = format!("0020{}{:0>30}", entity.len(), self_number);
            object.entry("V4IDPseudonym").or_insert(json!(pseudonym));
        }
        let self_id = object
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok());
        if let Some(field) = name_field(entity) {
            if (entity == "Customer" || entity == "Vendor")
                && object
                    .get("DisplayName")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                let composed: Vec<&str> = ["GivenName", "FamilyName"]
                    .iter()
                    .filter_map(|k| object.get(*k).and_then(Value::as_str))
                    .collect();
                let name = if composed.is_empty() {
                    object
                        .get("CompanyName")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                } else {
                    Some(composed.join(" "))
                };
                match name {
                    Some(name) => {
                        object.insert("DisplayName".into(), json!(name));
                    }
                    None => return Err(Fault::required("DisplayName")),
                }
            }
            let active = object
                .get("Active")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            object.insert("Active".into(), json!(active));
            let Some(mut name) = object
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|n| !n.trim().is_empty())
            else {
                return Err(Fault::required(field));
            };
            let was_active = current.is_none_or(|c| c["Active"] != json!(false));
            if !active && was_active && !name.ends_with(" (deleted)") {
                // QBO renames a made-inactive name-list object so the name is free for reuse.
                name.push_str(" (deleted)");
            }
            if active && let Some(stripped) = name.strip_suffix(" (deleted)") {
                name = stripped.to_owned();
            }
            if let Some(existing) = self.names.get(&(name_space(entity), name.to_lowercase())) {
                let clash_alive = ["Customer", "Vendor", entity]
                    .iter()
                    .any(|e| canonical(e).and_then(|e| self.get(e, *existing)).is_some());
                if Some(*existing) != self_id && clash_alive {
                    return Err(Fault::duplicate_name(entity));
                }
            }
            object.insert(field.into(), json!(name));
            object.insert("FullyQualifiedName".into(), json!(name));
        }
        match entity {
            "Customer" => {
                let display = object["DisplayName"].clone();
                object.entry("PrintOnCheckName").or_insert(display);
                for (key, default) in [
                    ("Taxable", json!(true)),
                    ("Job", json!(false)),
                    ("BillWithParent", json!(false)),
                    ("Balance", json!(0)),
                    ("BalanceWithJobs", json!(0)),
                    ("PreferredDeliveryMethod", json!("Print")),
                    ("IsProject", json!(false)),
                ] {
                    object.entry(key).or_insert(default);
                }
                object.entry("CurrencyRef").or_insert_with(currency);
                if object.get("Taxable") == Some(&json!(true))
                    && let Some(tax) = self.find_id("TaxCode", "TAX")
                {
                    object
                        .entry("DefaultTaxCodeRef")
                        .or_insert_with(|| json!({"value": tax.to_string()}));
                }
            }
            "Vendor" => {
                let display = object["DisplayName"].clone();
                object.entry("PrintOnCheckName").or_insert(display);
                object.entry("Balance").or_insert(json!(0));
                object.entry("Vendor1099").or_insert(json!(false));
                object.entry("BillRate").or_insert(json!(0));
                object.entry("CostRate").or_insert(json!(0));
                object.entry("CurrencyRef").or_insert_with(currency);
            }
            "Item" => self.normalize_item(object)?,
            "Account" => {
                let Some(kind) = object
                    .get("AccountType")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    return Err(Fault::required("AccountType"));
                };
                let classification = match kind.as_str() {
                    "Income" | "Other Income" => "Revenue",
                    "Expense" | "Other Expense" | "Cost of Goods Sold" => "Expense",
                    "Accounts Payable"
                    | "Credit Card"
                    | "Other Current Liability"
                    | "Long Term Liability" => "Liability",
                    "Equity" => "Equity",
                    _ => "Asset",
                };
                object
                    .entry("Classification")
                    .or_insert(json!(classification));
                object.entry("SubAccount").or_insert(json!(false));
                object.entry("CurrentBalance").or_insert(json!(0));
                object
                    .entry("CurrentBalanceWithSubAccounts")
                    .or_insert(json!(0));
                object.entry("CurrencyRef").or_insert_with(currency);
            }
            "Term" => {
                object.entry("Type").or_insert(json!("STANDARD"));
                object.entry("DueDays").or_insert(json!(0));
                object.entry("DiscountPercent").or_insert(json!(0));
                object.entry("DiscountDays").or_insert(json!(0));
            }
            "Invoice" | "Estimate" | "SalesReceipt" => self.normalize_sales(entity, object, now)?,
            "PurchaseOrder" => self.normalize_purchase_order(object, now)?,
            "Payment" => {
                let reference = object
                    .get("CustomerRef")
                    .cloned()
                    .ok_or_else(|| Fault::required("CustomerRef"))?;
                object.insert(
                    "CustomerRef".into(),
                    self.resolve_ref("Customer", &reference, "Customer")?,
                );
                let total =
                    num(object.get("TotalAmt")).ok_or_else(|| Fault::required("TotalAmt"))?;
                let applied: f64 = object
                    .get("Line")
                    .and_then(Value::as_array)
                    .map_or(0.0, |l| {
                        l.iter().filter_map(|line| num(line.get("Amount"))).sum()
                    });
                object.insert("TotalAmt".into(), json!(total));
                object.insert("UnappliedAmt".into(), json!(round2(total - applied)));
                object
                    .entry("DepositToAccountRef")
                    .or_insert_with(|| self.undeposited_funds());
                object.entry("ProcessPayment").or_insert(json!(false));
                object.entry("TxnDate").or_insert_with(|| json!(today(now)));
                object.entry("CurrencyRef").or_insert_with(currency);
                object.entry("Line").or_insert(json!([]));
            }
            _ => {}
        }
        Ok(())
    }

    fn normalize_item(&self, object: &mut Map<String, Value>) -> Result<(), Fault> {
        let kind = object
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("NonInventory")
            .to_owned();
        if !matches!(
            kind.as_str(),
            "Inventory" | "Service" | "NonInventory" | "Category" | "Group"
        ) {
            return Err(Fault::validation(
                "2170",
                "Invalid Enumeration",
                format!("Invalid Enumeration : {kind}"),
            )
            .element("Type"));
        }
        object.insert("Type".into(), json!(kind));
        let required_refs: &[&str] = match kind.as_str() {
            "Inventory" => &["IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"],
            "Service" | "NonInventory" => &["IncomeAccountRef"],
            _ => &[],
        };
        for field in required_refs {
            let reference = object
                .get(*field)
                .cloned()
                .ok_or_else(|| Fault::required(field))?;
            object.insert(
                (*field).into(),
                self.resolve_ref("Account", &reference, "Account")?,
            );
        }
        if kind == "Inventory" {
            if object.get("TrackQtyOnHand") != Some(&json!(true)) {
                return Err(
                    Fault::business("TrackQtyOnHand must be true for an Inventory item")
                        .element("TrackQtyOnHand"),
                );
            }
            for field in ["QtyOnHand", "InvStartDate"] {
                if object.get(field).is_none_or(Value::is_null) {
                    return Err(Fault::required(field));
                }
            }
        } else {
            object.entry("TrackQtyOnHand").or_insert(json!(false));
        }
        for (key, default) in [
            ("Taxable", json!(false)),
            ("UnitPrice", json!(0)),
            ("PurchaseCost", json!(0)),
            ("SubItem", json!(false)),
            ("DeferredRevenue", json!(false)),
        ] {
            object.entry(key).or_insert(default);
        }
        Ok(())
    }

    fn sales_lines(&self, object: &mut Map<String, Value>, detail_key: &str) -> Result<f64, Fault> {
        let Some(Value::Array(lines)) = object.get("Line").cloned() else {
            return Err(Fault::required("Line"));
        };
        let mut total = 0.0;
        let mut out = Vec::new();
        for (index, mut line) in lines
            .into_iter()
            .filter(|l| l["DetailType"] != json!("SubTotalLineDetail"))
            .enumerate()
        {
            let detail_type = line["DetailType"].as_str().unwrap_or_default().to_owned();
            if detail_type.is_empty() {
                return Err(Fault::required("DetailType"));
            }
            if let Some(detail) = line.get_mut(detail_key).and_then(Value::as_object_mut) {
                detail
                    .entry("TaxCodeRef")
                    .or_insert(json!({"value": "NON"}));
                if detail_key != "SalesItemLineDetail" {
                    detail
                        .entry("BillableStatus")
                        .or_insert(json!("NotBillable"));
                }
                if let Some(reference) = detail.get("ItemRef").cloned() {
                    let item = self.resolve_ref("Item", &reference, "Item")?;
                    let income = item["value"]
                        .as_str()
                        .and_then(|id| id.parse::<u64>().ok())
                        .and_then(|id| self.get("Item", id))
                        .map(|row| row["IncomeAccountRef"].clone());
                    if detail_key == "SalesItemLineDetail"
                        && let Some(income) = income.filter(|r| !r.is_null())
                    {
                        detail.entry("ItemAccountRef").or_insert(income);
                    }
                    detail.insert("ItemRef".into(), item);
                }
                if let Some(reference) = detail.get("AccountRef").cloned() {
                    detail.insert(
                        "AccountRef".into(),
                        self.resolve_ref("Account", &reference, "Account")?,
                    );
                }
            }
            let amount = match num(line.get("Amount")) {
                Some(amount) => amount,
                None => {
                    let detail = &line[detail_key];
                    num(detail.get("Qty")).unwrap_or(1.0)
                        * num(detail.get("UnitPrice")).unwrap_or(0.0)
                }
            };
            let amount = round2(amount);
            if line.get("Id").is_none() {
                line["Id"] = json!((index + 1).to_string());
            }
            line["LineNum"] = json!(index + 1);
            if line.get("CustomExtensions").is_none() {
                line["CustomExtensions"] = json!([]);
            }
            line["Amount"] = json!(amount);
            total += amount;
            out.push(line);
        }
        if out.is_empty() {
            return Err(Fault::required("Line"));
        }
        if detail_key == "SalesItemLineDetail" {
            out.push(json!({"Amount": round2(total), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}));
        }
        object.insert("Line".into(), Value::Array(out));
        Ok(round2(total))
    }

    fn normalize_sales(
        &self,
        entity: &str,
        object: &mut Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        // A cash sale (SalesReceipt) may omit the customer; invoices and estimates may not.
        match object.get("CustomerRef").cloned() {
            Some(reference) => {
                let resolved = self.resolve_ref("Customer", &reference, "Customer")?;
                let customer = resolved["value"]
                    .as_str()
                    .and_then(|id| id.parse::<u64>().ok())
                    .and_then(|id| self.get("Customer", id));
                if let Some(customer) = customer {
                    // QBO copies the customer's addresses and e-mail onto a new document.
                    for (from, to) in [
                        ("BillAddr", "BillAddr"),
                        ("ShipAddr", "ShipAddr"),
                        ("PrimaryEmailAddr", "BillEmail"),
                    ] {
                        if !customer[from].is_null() && !object.contains_key(to) {
                            object.insert(to.into(), customer[from].clone());
                        }
                    }
                }
                object.insert("CustomerRef".into(), resolved);
            }
            None if entity == "SalesReceipt" => {}
            None => return Err(Fault::required("CustomerRef")),
        }
        let total = self.sales_lines(object, "SalesItemLineDetail")?;
        let txn_date = object
            .get("TxnDate")
            .and_then(Value::as_str)
            .map_or_else(|| today(now), str::to_owned);
        object.insert("TxnDate".into(), json!(txn_date));
        object.insert("TotalAmt".into(), json!(total));
        object.entry("CurrencyRef").or_insert_with(currency);
        object
            .entry("TxnTaxDetail")
            .or_insert(json!({"TotalTax": 0}));
        object
            .entry("CustomField")
            .or_insert(json!([{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}]));
        object.entry("LinkedTxn").or_insert(json!([]));
        object
            .entry("ApplyTaxAfterDiscount")
            .or_insert(json!(false));
        object.entry("FreeFormAddress").or_insert(json!(true));
        // The company's address, as QBO stamps it on sales forms.
        object.entry("ShipFromAddr").or_insert_with(
            || json!({"Id": "106", "Line1": "123 Sierra Way", "Line2": "San Pablo, CA  87999"}),
        );
        if entity == "SalesReceipt" {
            object
                .entry("DepositToAccountRef")
                .or_insert_with(|| self.undeposited_funds());
        }
        object.entry("PrintStatus").or_insert(json!("NeedToPrint"));
        object.entry("EmailStatus").or_insert(json!("NotSet"));
        // Auto-numbering (custom transaction numbers are off in the simulated company).
        let number = object
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        object
            .entry("DocNumber")
            .or_insert_with(|| json!((1000 + number).to_string()));
        match entity {
            "Invoice" => {
                let paid = 0.0;
                object.insert("Balance".into(), json!(round2(total - paid)));
                let due = NaiveDate::parse_from_str(&txn_date, "%Y-%m-%d")
                    .map(|d| (d + Duration::days(30)).to_string())
                    .unwrap_or(txn_date.clone());
                object.entry("DueDate").or_insert(json!(due));
                for key in [
                    "AllowIPNPayment",
                    "AllowOnlinePayment",
                    "AllowOnlineCreditCardPayment",
                    "AllowOnlineACHPayment",
                ] {
                    object.entry(key).or_insert(json!(false));
                }
            }
            "Estimate" => {
                object.entry("TxnStatus").or_insert(json!("Pending"));
            }
            _ => {
                object.insert("Balance".into(), json!(0));
            }
        }
        Ok(())
    }

    fn normalize_purchase_order(
        &self,
        object: &mut Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        let reference = object
            .get("VendorRef")
            .cloned()
            .ok_or_else(|| Fault::required("VendorRef"))?;
        object.insert(
            "VendorRef".into(),
            self.resolve_ref("Vendor", &reference, "Vendor")?,
        );
        let mut total = 0.0;
        for key in [
            "ItemBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail",
        ] {
            let uses = object
                .get("Line")
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|line| line.get(key).is_some()));
            if uses {
                total = self.sales_lines(object, key)?;
            }
        }
        if total == 0.0 && object.get("Line").is_none() {
            return Err(Fault::required("Line"));
        }
        object.insert("TotalAmt".into(), json!(total));
        object.entry("POStatus").or_insert(json!("Open"));
        object.entry("CustomField").or_insert(json!([]));
        object.entry("LinkedTxn").or_insert(json!([]));
        let id = object
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        object
            .entry("DocNumber")
            .or_insert_with(|| json!((1000 + id).to_string()));
        object.entry("TxnDate").or_insert_with(|| json!(today(now)));
        object.entry("CurrencyRef").or_insert_with(currency);
        object.entry("EmailStatus").or_insert(json!("NotSet"));
        if let Some(ap) = self.find_id("Account", "Accounts Payable (A/P)") {
            object
                .entry("APAccountRef")
                .or_insert(json!({"value": ap.to_string(), "name": "Accounts Payable (A/P)"}));
        }
        Ok(())
    }

    /// Where received money lands unless the client says otherwise.
    fn undeposited_funds(&self) -> Value {
        let id = self.find_id("Account", "Undeposited Funds").unwrap_or(0);
        json!({"value": id.to_string(), "name": "Undeposited Funds"})
    }

    fn read(&self, entity: &'static str, id_text: &str) -> Result<Value, Fault> {
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

    fn cdc(&self, entities: &[&'static str], since: DateTime<Utc>) -> Value {
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

fn today(now: DateTime<Utc>) -> String {
    now.with_timezone(&crate::util::pacific())
        .format("%Y-%m-%d")
        .to_string()
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

// ---------------------------------------------------------------- HTTP

pub fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/v3/company/{realm}/query", get(query_get).post(query_post))
        .route("/v3/company/{realm}/cdc", get(cdc))
        .route("/v3/company/{realm}/batch", post(batch))
        .route("/v3/company/{realm}/preferences", get(preferences))
        .route("/v3/company/{realm}/{entity}", post(write))
        .route("/v3/company/{realm}/{entity}/{id}", get(read))
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            deliver_webhooks,
        ))
        .fallback(unsupported)
        .method_not_allowed_fallback(unsupported)
}

/// After each request, sends the changes it caused to the configured webhook endpoint, signed with
/// `intuit-signature` = base64(HMAC-SHA256(verifier token, body)), in the configured format.
async fn deliver_webhooks(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    flush_webhooks(&shared);
    response
}

/// Sends queued change notices (from API calls or control-API changes) in the background.
pub fn flush_webhooks(shared: &Arc<Shared>) {
    let notices: Vec<(String, Notice)> = {
        let mut store = lock(&shared.qbo);
        store
            .realms
            .iter_mut()
            .flat_map(|(realm, r)| {
                std::mem::take(&mut r.notices)
                    .into_iter()
                    .map(|n| (realm.clone(), n))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let Some(url) = shared.config.qbo_webhook_url.clone() else {
        return;
    };
    if notices.is_empty() {
        return;
    }
    let body = match shared.config.qbo_webhook_format {
        crate::QboWebhookFormat::CloudEvents => cloud_events(&notices),
        crate::QboWebhookFormat::Legacy => legacy_notifications(&notices),
    }
    .to_string();
    use base64::Engine;
    let signature = base64::engine::general_purpose::STANDARD.encode(crate::util::hmac_sha256(
        shared.config.qbo_webhook_verifier_token.as_bytes(),
        body.as_bytes(),
    ));
    let http = shared.http.clone();
    tokio::spawn(async move {
        for attempt in 0..3u32 {
            let sent = http
                .post(&url)
                .header("content-type", "application/json")
                .header("intuit-signature", &signature)
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * 2u64.pow(attempt))).await;
        }
        tracing::warn!(%url, "QBO webhook delivery gave up");
    });
}

fn cloud_events(notices: &[(String, Notice)]) -> Value {
    let events: Vec<Value> = notices
        .iter()
        .map(|(realm, n)| {
            let verb = match n.operation {
                "Create" => "created",
                "Delete" => "deleted",
                "Void" => "voided",
                _ => "updated",
            };
            let hex = crate::util::random_token(32).to_lowercase().chars().map(|c| if c.is_ascii_hexdigit() { c } else { 'a' }).collect::<String>();
            json!({
                "specversion": "1.0",
                "id": format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]),
                "source": "intuit.sandbox",
                "type": format!("qbo.{}.{verb}.v1", n.entity.to_lowercase()),
                "datacontenttype": "application/json",
                "time": n.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                "intuitentityid": n.id,
                "intuitaccountid": realm,
                "data": {},
            })
        })
        .collect();
    Value::Array(events)
}

fn legacy_notifications(notices: &[(String, Notice)]) -> Value {
    let mut realms: Vec<&String> = notices.iter().map(|(r, _)| r).collect();
    realms.dedup();
    let notifications: Vec<Value> = realms
        .into_iter()
        .map(|realm| {
            let entities: Vec<Value> = notices
                .iter()
                .filter(|(r, _)| r == realm)
                .map(|(_, n)| {
                    let stamp = n.at.with_timezone(&crate::util::pacific()).format("%Y-%m-%dT%H:%M:%S%z").to_string();
                    json!({"name": n.entity, "id": n.id, "operation": n.operation, "lastUpdated": stamp})
                })
                .collect();
            json!({"realmId": realm, "dataChangeEvent": {"entities": entities}})
        })
        .collect();
    json!({"eventNotifications": notifications})
}

fn lower_case_401(detail: &str, now: DateTime<Utc>) -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({
            "warnings": null, "intuitObject": null,
            "fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                  "detail": detail, "code": "3200", "element": null}], "type": "AUTHENTICATION"},
            "report": null, "queryResponse": null, "batchItemResponse": [], "attachableResponse": [],
            "syncErrorResponse": null, "requestId": null, "time": now.timestamp_millis(), "status": null, "cdcresponse": []
        }),
    )
}

/// Releases the realm's in-flight slot even if the client hangs up mid-request.
struct InFlight {
    shared: Arc<Shared>,
    realm: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(realm) = lock(&self.shared.qbo).realms.get_mut(&self.realm) {
            realm.in_flight = realm.in_flight.saturating_sub(1);
        }
    }
}

/// Authentication (token bound to the path's realm) and the per-realm throttles.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let now = shared.now();
    let realm_id = request
        .uri()
        .path()
        .split('/')
        .nth(3)
        .unwrap_or_default()
        .to_owned();
    let Some(token) = bearer(request.headers(), "Bearer") else {
        return lower_case_401("Token invalid: no bearer token was sent", now);
    };
    let prefix: String = token.chars().take(50).collect();
    match lock(&shared.oauth).check_intuit_access(&token, now) {
        Ok(bound) if bound == realm_id => {}
        Ok(_) => {
            let fault = Fault {
                status: StatusCode::FORBIDDEN,
                code: "3100".to_owned(),
                message: "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
                    .to_owned(),
                detail: String::new(),
                element: None,
                kind: "SERVICE",
            };
            return fault.response(now);
        }
        Err(TokenProblem::Expired) => {
            return lower_case_401(&format!("Token expired: {prefix}"), now);
        }
        Err(TokenProblem::Invalid) => {
            return lower_case_401(&format!("Token invalid: {prefix}"), now);
        }
    }
    let is_batch = request.uri().path().ends_with("/batch");
    {
        let config = &shared.config;
        let mut store = lock(&shared.qbo);
        let realm = store.realm(&realm_id, now);
        let window = now - shared.rate_window();
        while realm.requests.front().is_some_and(|t| *t <= window) {
            realm.requests.pop_front();
        }
        while realm.batches.front().is_some_and(|t| *t <= window) {
            realm.batches.pop_front();
        }
        let throttled = realm.requests.len() >= config.qbo_requests_per_minute
            || realm.in_flight >= config.qbo_max_concurrent
            || (is_batch && realm.batches.len() >= config.qbo_batches_per_minute);
        if throttled {
            drop(store);
            shared.qbo_traffic.throttled.fetch_add(1, Ordering::Relaxed);
            return json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &error_body(&shared, Service::QboApi, StatusCode::TOO_MANY_REQUESTS),
            );
        }
        realm.requests.push_back(now);
        shared.qbo_traffic.requests.fetch_add(1, Ordering::Relaxed);
        if is_batch {
            realm.batches.push_back(now);
            shared.qbo_traffic.batches.fetch_add(1, Ordering::Relaxed);
        }
        realm.in_flight += 1;
    }
    let _slot = InFlight {
        shared: shared.clone(),
        realm: realm_id,
    };
    if let Some(delay) = request.extensions().get::<crate::control::Delay>() {
        tokio::time::sleep(delay.0).await;
    }
    let mut response = next.run(request).await;
    if let Ok(tid) = HeaderValue::from_str(&format!("1-{}-{}", random_digits(8), random_digits(12)))
    {
        response.headers_mut().insert("intuit_tid", tid);
    }
    response
}

async fn unsupported(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let path = uri.path();
    Fault::unsupported(format!("Operation Could not find resource for relative : {path} of full path: {}{path} is not supported.", shared.urls.qbo_api))
        .response(shared.now())
}

#[derive(Debug, Deserialize)]
struct WriteParams {
    operation: Option<String>,
    requestid: Option<String>,
}

fn entity_or_fault(name: &str) -> Result<&'static str, Fault> {
    canonical(name).ok_or_else(|| {
        Fault::unsupported(format!(
            "Operation Could not find resource for relative : /{name} is not supported."
        ))
    })
}

async fn write(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity)): Path<(String, String)>,
    QueryParams(params): QueryParams<WriteParams>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let entity = match entity_or_fault(&entity) {
        Ok(entity) => entity,
        Err(fault) => return fault.response(now),
    };
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    if let Some((status, cached)) = params
        .requestid
        .as_ref()
        .and_then(|id| realm.request_ids.get(id))
    {
        return json_bytes_response(*status, cached.clone());
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => {
            return Fault::validation(
                "2010",
                "Request has invalid or unsupported property",
                format!("Unable to parse the request body: {error}"),
            )
            .response(now);
        }
    };
    let op = match params.operation.as_deref() {
        Some("delete") => Op::Delete,
        Some("void") => Op::Void,
        Some("update") => Op::Update,
        Some("create") => Op::Create,
        Some(other) => {
            return Fault::unsupported(format!("Operation {other} is not supported."))
                .response(now);
        }
        None if body.get("Id").is_some() => Op::Update,
        None => Op::Create,
    };
    let (status, answer) = match realm.execute(entity, op, body, now) {
        Ok(object) => (
            StatusCode::OK,
            json!({entity: object, "time": qbo_time(now)}),
        ),
        Err(fault) => (
            fault.status,
            json!({"Fault": fault.body(), "time": qbo_time(now)}),
        ),
    };
    let answer = Bytes::from(answer.to_string());
    if let Some(request_id) = params.requestid {
        realm
            .request_ids
            .insert(request_id, (status, answer.clone()));
    }
    json_bytes_response(status, answer)
}

async fn read(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    if entity.eq_ignore_ascii_case("companyinfo") {
        return json_response(
            StatusCode::OK,
            &json!({"CompanyInfo": realm.company_info, "time": qbo_time(now)}),
        );
    }
    let result = entity_or_fault(&entity)
        .and_then(|entity| realm.read(entity, &id).map(|row| (entity, row)));
    match result {
        Ok((entity, row)) => {
            json_response(StatusCode::OK, &json!({entity: row, "time": qbo_time(now)}))
        }
        Err(fault) => fault.response(now),
    }
}

async fn preferences(State(shared): State<Arc<Shared>>, Path(realm_id): Path<String>) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    json_response(
        StatusCode::OK,
        &json!({"Preferences": realm.preferences, "time": qbo_time(now)}),
    )
}

#[derive(Debug, Deserialize)]
struct QueryParam {
    query: Option<String>,
}

fn answer_query(shared: &Shared, realm_id: &str, statement: &str) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    match store.realm(realm_id, now).query(statement) {
        Ok(result) => json_response(
            StatusCode::OK,
            &object([("QueryResponse", result), ("time", json!(qbo_time(now)))]),
        ),
        Err(fault) => fault.response(now),
    }
}

async fn query_get(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    QueryParams(param): QueryParams<QueryParam>,
) -> Response {
    answer_query(
        &shared,
        &realm_id,
        param.query.as_deref().unwrap_or_default(),
    )
}

async fn query_post(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    body: Bytes,
) -> Response {
    answer_query(&shared, &realm_id, &String::from_utf8_lossy(&body))
}

#[derive(Debug, Deserialize)]
struct CdcParams {
    entities: Option<String>,
    #[serde(rename = "changedSince")]
    changed_since: Option<String>,
}

fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(
        date.and_hms_opt(0, 0, 0)?
            .and_local_timezone(crate::util::pacific())
            .single()?
            .with_timezone(&Utc),
    )
}

async fn cdc(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    QueryParams(params): QueryParams<CdcParams>,
) -> Response {
    let now = shared.now();
    let Some(since) = params.changed_since.as_deref().and_then(parse_instant) else {
        return Fault::required("changedSince").response(now);
    };
    if since < now - Duration::days(CDC_LOOKBACK_DAYS) {
        return Fault::validation(
            "4001",
            "Invalid query",
            "QueryValidationError: changedSince cannot be more than 30 days in the past",
        )
        .response(now);
    }
    let mut entities = Vec::new();
    for name in params
        .entities
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match canonical(name) {
            Some(entity) => entities.push(entity),
            None => {
                return Fault::invalid_query(&format!("invalid context declaration: {name}"))
                    .response(now);
            }
        }
    }
    if entities.is_empty() {
        return Fault::required("entities").response(now);
    }
    let mut store = lock(&shared.qbo);
    let answer = store.realm(&realm_id, now).cdc(&entities, since);
    json_response(
        StatusCode::OK,
        &json!({"CDCResponse": answer, "time": qbo_time(now)}),
    )
}

async fn batch(
    State(shared): State<Arc<Shared>>,
    Path(realm_id): Path<String>,
    QueryParams(params): QueryParams<WriteParams>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let items = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(
            |mut v| match v.get_mut("BatchItemRequest").map(Value::take) {
                Some(Value::Array(items)) => Some(items),
                _ => None,
            },
        );
    let Some(items) = items else {
        return Fault::required("BatchItemRequest").response(now);
    };
    if items.len() > MAX_BATCH_ITEMS {
        return Fault::business(format!(
            "The batch contains {} items; at most {MAX_BATCH_ITEMS} are allowed",
            items.len()
        ))
        .response(now);
    }
    let mut store = lock(&shared.qbo);
    let realm = store.realm(&realm_id, now);
    if let Some((status, cached)) = params
        .requestid
        .as_ref()
        .and_then(|id| realm.request_ids.get(id))
    {
        return json_bytes_response(*status, cached.clone());
    }
    // Items run in order but cannot see what earlier items in the same batch created.
    let mut created: HashSet<(&'static str, u64)> = HashSet::new();
    let mut responses = Vec::new();
    for mut item in items {
        let bid = item.get("bId").cloned().unwrap_or(Value::Null);
        let outcome = batch_item(realm, &mut item, &mut created, now);
        let mut response = match outcome {
            Ok((key, value)) => object([(key.as_str(), value)]),
            Err(fault) => json!({"Fault": fault.body()}),
        };
        response["bId"] = bid;
        responses.push(response);
    }
    let answer = Bytes::from(
        object([
            ("BatchItemResponse", Value::Array(responses)),
            ("time", json!(qbo_time(now))),
        ])
        .to_string(),
    );
    if let Some(id) = params.requestid {
        realm
            .request_ids
            .insert(id, (StatusCode::OK, answer.clone()));
    }
    json_bytes_response(StatusCode::OK, answer)
}

fn batch_item(
    realm: &mut Realm,
    item: &mut Value,
    created: &mut HashSet<(&'static str, u64)>,
    now: DateTime<Utc>,
) -> Result<(String, Value), Fault> {
    if let Some(statement) = item.get("Query").and_then(Value::as_str) {
        return realm
            .query(statement)
            .map(|r| ("QueryResponse".to_owned(), r));
    }
    let op = item
        .get("operation")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let object = item
        .as_object_mut()
        .ok_or_else(|| Fault::required("BatchItemRequest"))?;
    let (entity, body) = object
        .iter_mut()
        .find_map(|(k, v)| canonical(k).filter(|e| e == k).map(|e| (e, v.take())))
        .ok_or_else(|| Fault::unsupported("Batch item names no supported entity"))?;
    let op = match op.as_deref() {
        Some("create") => Op::Create,
        Some("update") => Op::Update,
        Some("delete") => Op::Delete,
        Some("void") => Op::Void,
        other => {
            return Err(Fault::unsupported(format!(
                "Batch operation {other:?} is not supported"
            )));
        }
    };
    if op != Op::Create {
        let target = body
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok());
        if target.is_some_and(|id| created.contains(&(entity, id))) {
            return Err(Fault::not_found());
        }
    }
    let result = realm.execute(entity, op, body, now)?;
    if op == Op::Create
        && let Some(id) = result["Id"].as_str().and_then(|s| s.parse::<u64>().ok())
    {
        created.insert((entity, id));
    }
    Ok((entity.to_owned(), result))
}

// ---------------------------------------------------------------- control API

fn control_target(entity: &str) -> Result<&'static str, Response> {
    canonical(entity).ok_or_else(|| {
        json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("unknown entity {entity}")}),
        )
    })
}

pub async fn control_list(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity)): Path<(String, String)>,
) -> Response {
    let entity = match control_target(&entity) {
        Ok(entity) => entity,
        Err(response) => return response,
    };
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    let rows: Vec<Value> = store.realm(&realm_id, now).rows(entity).cloned().collect();
    json_response(StatusCode::OK, &json!({"rows": rows}))
}

pub async fn control_get(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    let entity = match control_target(&entity) {
        Ok(entity) => entity,
        Err(response) => return response,
    };
    let now = shared.now();
    let mut store = lock(&shared.qbo);
    match store.realm(&realm_id, now).read(entity, &id) {
        Ok(row) => json_response(StatusCode::OK, &row),
        Err(_) => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

pub async fn control_touch(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    let entity = match control_target(&entity) {
        Ok(entity) => entity,
        Err(response) => return response,
    };
    let now = shared.now();
    let changed = {
        let mut store = lock(&shared.qbo);
        id.parse::<u64>()
            .ok()
            .and_then(|id| store.realm(&realm_id, now).touch(entity, id, now))
    };
    flush_webhooks(&shared);
    match changed {
        Some(row) => json_response(StatusCode::OK, &row),
        None => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

pub async fn control_delete(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, entity, id)): Path<(String, String, String)>,
) -> Response {
    let entity = match control_target(&entity) {
        Ok(entity) => entity,
        Err(response) => return response,
    };
    let now = shared.now();
    let changed = {
        let mut store = lock(&shared.qbo);
        id.parse::<u64>()
            .ok()
            .and_then(|id| store.realm(&realm_id, now).remote_delete(entity, id, now))
    };
    flush_webhooks(&shared);
    match changed {
        Some(row) => json_response(StatusCode::OK, &row),
        None => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}
