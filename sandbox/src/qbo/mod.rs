//! QuickBooks Online Accounting API v3 under `/v3/company/{realmId}/`: CRUD with SyncToken, name-list
//! deactivation, transaction delete/void, the query language, CDC, batch, CompanyInfo, Preferences,
//! `?requestid=` idempotency, the lower-case 401 body and the 3001 throttles.
//!
//! - `store`: a company's books ([`Realm`]) and their rules: ids, SyncTokens, names, delete and
//!   void, queries, CDC;
//! - `normalize`: what QBO checks and fills on a write (references, defaults, totals, numbers);
//! - `http`: the routes, the authentication and throttle guard, and the handlers;
//! - `webhooks`: change notifications sent after each request;
//! - `control`: this service's `/_sandbox/qbo/…` routes for tests;
//! - `query`: the query language.

pub(crate) mod control;
mod http;
mod normalize;
pub mod query;
mod store;
mod webhooks;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::util::{json_response, qbo_time};

pub use http::router;
pub use store::{Notice, Op, Realm, Store};

pub const NAME_LISTS: &[&str] = &["Customer", "Vendor", "Item", "Account", "Term", "TaxCode"];
pub const TRANSACTIONS: &[&str] = &[
    "Invoice",
    "Estimate",
    "SalesReceipt",
    "PurchaseOrder",
    "Payment",
    "Bill",
    "BillPayment",
];
/// Voided with `?operation=void` (body `{Id, SyncToken}`).
const VOIDED_BY_OPERATION: &[&str] = &["Invoice"];
/// Voided with a sparse update carrying `?include=void` (`?operation=update&include=void`, body
/// `{Id, SyncToken, sparse: true}`); QBO answers `?operation=void` on them with Fault 500.
const VOIDED_BY_SPARSE_UPDATE: &[&str] = &["Payment", "SalesReceipt", "BillPayment"];

/// The transaction a payment entity settles through its lines' `LinkedTxn`.
fn settled_by(payment_entity: &str) -> Option<&'static str> {
    match payment_entity {
        "Payment" => Some("Invoice"),
        "BillPayment" => Some("Bill"),
        _ => None,
    }
}

/// The payment entity that settles `entity` (the inverse of [`settled_by`]).
fn settling(entity: &str) -> Option<&'static str> {
    match entity {
        "Invoice" => Some("Payment"),
        "Bill" => Some("BillPayment"),
        _ => None,
    }
}
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

    /// QBO's answer to an `?operation=` the entity does not have, e.g. `?operation=void` on a
    /// Payment (recorded from a live sandbox for Purchase and BillPayment).
    fn unsupported_operation(name: &str) -> Self {
        Self::unsupported(format!("Operation {name} is not supported.")).element("Operation")
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
