//! Log statuses and plain-language error messages.
//!
//! Every record the engine touches gets a log row (SPEC §7) whose status is one
//! of the four the guide names, and whose error message must say what happened
//! and what to do next (SPEC §9) — not "Fault 6240". This module holds the
//! statuses and the translation tables from QuickBooks fault codes and Zoho
//! error codes into such messages, plus readers for both systems' error
//! bodies and the first-run notices the dashboard shows.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pairs::System;
use crate::record::{fingerprint, get_path, is_empty};
use crate::settings::ConflictPolicy;

/// The outcome of one record in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStatus {
    /// Written to the other system.
    Synced,
    /// The other system (or a missing dependency) refused it.
    Error,
    /// Deliberately not written: skipped (echo of our own write, conflict
    /// lost, gated by plan) or stopped before the write by a problem on our side.
    NotSynced,
    /// Failed the user's filters (SPEC §5).
    NotValid,
}

impl LogStatus {
    pub const ALL: [LogStatus; 4] = [
        LogStatus::Synced,
        LogStatus::Error,
        LogStatus::NotSynced,
        LogStatus::NotValid,
    ];

    pub fn label(self) -> &'static str {
        match self {
            LogStatus::Synced => "Synced",
            LogStatus::Error => "Error",
            LogStatus::NotSynced => "Not Synced",
            LogStatus::NotValid => "Not Valid",
        }
    }

    /// Stable key for storage.
    pub fn key(self) -> &'static str {
        match self {
            LogStatus::Synced => "synced",
            LogStatus::Error => "error",
            LogStatus::NotSynced => "not_synced",
            LogStatus::NotValid => "not_valid",
        }
    }

    pub fn from_key(key: &str) -> Option<LogStatus> {
        LogStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Rows a user can act on with "Retry".
    pub fn is_retryable(self) -> bool {
        matches!(self, LogStatus::Error | LogStatus::NotSynced)
    }
}

impl fmt::Display for LogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What should happen after an error; the engine and the UI branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorAction {
    /// The user must fix the data or the mapping, then Retry.
    FixData,
    /// Transient: the engine retries by itself.
    RetryAutomatically,
    /// The record changed under us: re-read and re-apply, then retry.
    ReReadAndRetry,
    /// The counterpart was deleted: offer "re-create" or "unlink".
    RecreateOrUnlink,
    /// Credentials stopped working: pause the tenant and show the Reconnect banner.
    Reconnect,
    /// The other system's subscription lacks a feature or has ended.
    CheckSubscription,
    /// Our bug: tell support.
    ContactSupport,
}

/// A translated error: what happened and what to do, in one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorExplanation {
    pub system: System,
    pub code: String,
    pub action: ErrorAction,
    /// Full sentence(s) for the log's Error Message column.
    pub message: String,
}

impl fmt::Display for ErrorExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn with_detail(text: &str, detail: Option<&str>) -> String {
    let detail = detail.map(str::trim).filter(|d| !d.is_empty());
    match detail {
        Some(d) => text.replace("{detail}", d),
        None => text
            .replace(" ({detail})", "")
            .replace("{detail}", "no details were given"),
    }
}

/// QBO fault code → (action, message template). `{detail}` is replaced by the
/// fault's Detail text.
const QBO_FAULTS: &[(&str, ErrorAction, &str)] = &[
    (
        "120",
        ErrorAction::Reconnect,
        "QuickBooks refused access: the user who connected QuickBooks is no longer an administrator of the company or has lost access. Reconnect QuickBooks in Settings → Connections as an administrator.",
    ),
    (
        "500",
        ErrorAction::ContactSupport,
        "QuickBooks does not support the operation zqsync attempted ({detail}). Please contact support with this message.",
    ),
    (
        "610",
        ErrorAction::RecreateOrUnlink,
        "The QuickBooks record was deleted or made inactive ({detail}). Choose Re-create to add it to QuickBooks again, or Unlink to stop syncing this record.",
    ),
    (
        "2010",
        ErrorAction::FixData,
        "QuickBooks does not accept one of the mapped fields ({detail}). Remove that field from the QuickBooks Mapping page, then Retry.",
    ),
    (
        "2020",
        ErrorAction::FixData,
        "QuickBooks needs a value that was not sent ({detail}). Map a Zoho field or a static value to it on the QuickBooks Mapping page; for products also check the income, expense and asset accounts in Settings → Inventory Settings. Then Retry.",
    ),
    (
        "2030",
        ErrorAction::FixData,
        "QuickBooks did not recognise an id in the record ({detail}). Check the record's customer and products are synced, then Retry.",
    ),
    (
        "2050",
        ErrorAction::FixData,
        "A value is longer than QuickBooks allows ({detail}). Shorten it in Zoho, then Retry.",
    ),
    (
        "2170",
        ErrorAction::FixData,
        "A value is not one of the choices QuickBooks allows for that field ({detail}). Change the value in Zoho or the mapping, then Retry.",
    ),
    (
        "2500",
        ErrorAction::FixData,
        "The record refers to a customer, product, account or payment term that does not exist or is inactive in QuickBooks ({detail}). Sync or re-activate that record in QuickBooks, then Retry.",
    ),
    (
        "3001",
        ErrorAction::RetryAutomatically,
        "QuickBooks is limiting how fast zqsync may send requests. Nothing to do: the record is retried automatically in about a minute.",
    ),
    (
        "3200",
        ErrorAction::Reconnect,
        "QuickBooks no longer accepts zqsync's sign-in (the connection expired or was revoked). Reconnect QuickBooks in Settings → Connections; syncing resumes afterwards.",
    ),
    (
        "4001",
        ErrorAction::ContactSupport,
        "QuickBooks rejected a query zqsync sent ({detail}). Please contact support with this message.",
    ),
    (
        "5010",
        ErrorAction::ReReadAndRetry,
        "The record was changed in QuickBooks while zqsync was updating it. zqsync re-reads it and tries again automatically; if this row stays, press Retry.",
    ),
    (
        "5020",
        ErrorAction::CheckSubscription,
        "Your QuickBooks subscription does not include this feature ({detail}). Purchase orders and inventory items need QuickBooks Online Plus or Advanced.",
    ),
    (
        "6000",
        ErrorAction::FixData,
        "QuickBooks rejected the record: {detail}. Correct the record in Zoho (or the mapping), then Retry.",
    ),
    (
        "6140",
        ErrorAction::FixData,
        "Another QuickBooks transaction already uses this number ({detail}). Give the record a different number, or turn off duplicate-number warnings in QuickBooks, then Retry.",
    ),
    (
        "6190",
        ErrorAction::CheckSubscription,
        "The QuickBooks company's subscription has ended or is suspended, so it accepts no changes. Renew the QuickBooks subscription, then Retry.",
    ),
    (
        "6210",
        ErrorAction::FixData,
        "The books are closed in QuickBooks for the record's date ({detail}). Change the date in Zoho or ask your accountant to reopen the period, then Retry.",
    ),
    (
        "6240",
        ErrorAction::FixData,
        "QuickBooks already has a customer, vendor or employee with this name, and names must be unique across all three ({detail}). Rename one of them (or make the existing one active and link it), then Retry.",
    ),
    (
        "6540",
        ErrorAction::FixData,
        "The transaction has been deposited in QuickBooks and can no longer be changed. Undo the deposit in QuickBooks first, or leave this record as it is.",
    ),
    (
        "10000",
        ErrorAction::RetryAutomatically,
        "QuickBooks had an internal error. Nothing to do: the record is retried automatically; if this row stays, press Retry later.",
    ),
];

/// Translates a QBO `Fault.Error[].code` (and its `Detail`) into a message.
pub fn explain_qbo_fault(code: &str, detail: Option<&str>) -> ErrorExplanation {
    let code = code.trim().trim_start_matches('0');
    let (action, message) = match QBO_FAULTS.iter().find(|(c, _, _)| *c == code) {
        Some((_, action, template)) => (*action, with_detail(template, detail)),
        None => (
            ErrorAction::FixData,
            with_detail(
                &format!(
                    "QuickBooks rejected the record (code {code}): {{detail}}. Correct the record or the mapping, then Retry; contact support if it keeps failing."
                ),
                detail,
            ),
        ),
    };
    ErrorExplanation {
        system: System::Qbo,
        code: code.to_owned(),
        action,
        message,
    }
}

/// Zoho error code → (action, template). `{field}` is the API name in
/// `details.api_name`, `{detail}` Zoho's message.
const ZOHO_ERRORS: &[(&str, ErrorAction, &str)] = &[
    (
        "INVALID_DATA",
        ErrorAction::FixData,
        "Zoho rejected the value of {field} ({detail}). Check the value in QuickBooks and the field's mapping (for pick lists, the value must be one of Zoho's choices), then Retry.",
    ),
    (
        "DUPLICATE_DATA",
        ErrorAction::FixData,
        "Zoho already has a record with the same {field}, which must be unique ({detail}). Merge or rename the duplicate in Zoho, then Retry.",
    ),
    (
        "MANDATORY_NOT_FOUND",
        ErrorAction::FixData,
        "Zoho requires {field}, but it was empty. Map a QuickBooks field to {field} on the QuickBooks Mapping page (or fill it in QuickBooks), then Retry.",
    ),
    (
        "INVALID_TOKEN",
        ErrorAction::Reconnect,
        "Zoho no longer accepts zqsync's sign-in. Reconnect Zoho CRM in Settings → Connections; syncing resumes afterwards.",
    ),
    (
        "INVALID_OAUTHTOKEN",
        ErrorAction::Reconnect,
        "Zoho no longer accepts zqsync's sign-in. Reconnect Zoho CRM in Settings → Connections; syncing resumes afterwards.",
    ),
    (
        "AUTHENTICATION_FAILURE",
        ErrorAction::Reconnect,
        "Zoho no longer accepts zqsync's sign-in. Reconnect Zoho CRM in Settings → Connections; syncing resumes afterwards.",
    ),
    (
        "OAUTH_SCOPE_MISMATCH",
        ErrorAction::Reconnect,
        "The Zoho connection lacks a permission zqsync needs. Reconnect Zoho CRM in Settings → Connections and accept all requested permissions.",
    ),
    (
        "NO_PERMISSION",
        ErrorAction::FixData,
        "The Zoho user who connected zqsync may not change this module ({detail}). Give that user's profile permission, or reconnect as an administrator, then Retry.",
    ),
    (
        "RECORD_LOCKED",
        ErrorAction::FixData,
        "The Zoho record is locked (for example by an approval or blueprint). Unlock it in Zoho, then Retry.",
    ),
    (
        "NOT_APPROVED",
        ErrorAction::FixData,
        "The Zoho record is waiting for approval and cannot be changed. Approve or reject it in Zoho, then Retry.",
    ),
    (
        "CANNOT_DELETE",
        ErrorAction::FixData,
        "Zoho does not allow this record to be deleted ({detail}). Remove what still refers to it in Zoho, then Retry.",
    ),
    (
        "ALREADY_MODIFIED",
        ErrorAction::ReReadAndRetry,
        "The record was changed in Zoho while zqsync was updating it. zqsync re-reads it and tries again automatically; if this row stays, press Retry.",
    ),
    (
        "TOO_MANY_REQUESTS",
        ErrorAction::RetryAutomatically,
        "Zoho is limiting how many requests zqsync may send (API credits or concurrency). Nothing to do: the record is retried automatically.",
    ),
    (
        "RATE_LIMIT_EXCEEDED",
        ErrorAction::RetryAutomatically,
        "Zoho is limiting how many requests zqsync may send (API credits or concurrency). Nothing to do: the record is retried automatically.",
    ),
    (
        "INTERNAL_ERROR",
        ErrorAction::RetryAutomatically,
        "Zoho had an internal error. Nothing to do: the record is retried automatically; if this row stays, press Retry later.",
    ),
    (
        "INVALID_MODULE",
        ErrorAction::CheckSubscription,
        "This module is not available in your Zoho CRM edition (the free edition has no Products, Quotes, Sales Orders, Invoices or Purchase Orders). Upgrade Zoho CRM, or disable this module pair in Settings → Sync Direction.",
    ),
    (
        "LIMIT_EXCEEDED",
        ErrorAction::ContactSupport,
        "zqsync sent Zoho more than it accepts in one request ({detail}). Please contact support with this message.",
    ),
    (
        "REQUIRED_PARAM_MISSING",
        ErrorAction::ContactSupport,
        "zqsync sent Zoho an incomplete request ({detail}). Please contact support with this message.",
    ),
    (
        "ENTITY_ID_INVALID",
        ErrorAction::RecreateOrUnlink,
        "The Zoho record was deleted ({detail}). Choose Re-create to add it to Zoho again, or Unlink to stop syncing this record.",
    ),
];

/// Translates a Zoho error `code`, with the field it names (`details.api_name`)
/// and Zoho's own message, into a message.
pub fn explain_zoho_error(
    code: &str,
    field: Option<&str>,
    detail: Option<&str>,
) -> ErrorExplanation {
    let code = code.trim().to_ascii_uppercase();
    let field = field
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or("a field");
    let (action, message) = match ZOHO_ERRORS.iter().find(|(c, _, _)| *c == code) {
        Some((_, action, template)) => (
            *action,
            with_detail(&template.replace("{field}", field), detail),
        ),
        None => (
            ErrorAction::FixData,
            with_detail(
                &format!(
                    "Zoho rejected the record ({code}): {{detail}}. Correct the record or the mapping, then Retry; contact support if it keeps failing."
                ),
                detail,
            ),
        ),
    };
    ErrorExplanation {
        system: System::Zoho,
        code,
        action,
        message,
    }
}

/// Explains every error in a QBO error body: the `Fault` envelope (also as
/// found in batch items) and the lower-case `fault` envelope of 401 answers.
pub fn explain_qbo_body(body: &Value) -> Vec<ErrorExplanation> {
    let errors = body
        .pointer("/Fault/Error")
        .or_else(|| body.pointer("/fault/error"))
        .and_then(Value::as_array);
    errors
        .into_iter()
        .flatten()
        .map(|error| {
            let text = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| error.get(*k))
                    .and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
            };
            let code = text(&["code"]).unwrap_or_default();
            let detail = text(&["Detail", "detail"]).or_else(|| text(&["Message", "message"]));
            explain_qbo_fault(&code, detail.as_deref())
        })
        .collect()
}

/// Explains a Zoho error object: a top-level error body or one per-record
/// result (`{"code","details":{"api_name"},"message","status":"error"}`).
/// `None` when the object is not an error.
pub fn explain_zoho_body(body: &Value) -> Option<ErrorExplanation> {
    if body.get("status").and_then(Value::as_str) == Some("success") {
        return None;
    }
    let code = body.get("code").and_then(Value::as_str)?;
    let field = body.pointer("/details/api_name").and_then(Value::as_str);
    let detail = body.get("message").and_then(Value::as_str);
    Some(explain_zoho_error(code, field, detail))
}

/// One field's value before and after an update, for the Details panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// The version that lost a conflict, kept so nothing is lost unseen (SPEC §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub policy: ConflictPolicy,
    pub winner: System,
    pub losing_version: Value,
}

/// What a log row's Details panel shows: the fields read and written, what an
/// update changed, the QBO id, and a lost conflict's version. Stored as JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LogDetails {
    /// The source record's fields as read.
    #[serde(default)]
    pub read: Value,
    /// The payload written to the other system.
    #[serde(default)]
    pub written: Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qbo_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Mapped fields left out of the write on purpose (the other system's value was kept; the
    /// notes say why), so `written` never shows a value that was not written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

/// The fields an update changes: every leaf of `written` (nested objects as
/// dotted paths; lists as a whole) whose value differs from `before`, sorted
/// by path. Numbers compare by value, so `2` and `2.0` are no change.
pub fn changes(before: &Value, written: &Value) -> Vec<FieldChange> {
    let mut leaves = Vec::new();
    collect_leaves(written, String::new(), &mut leaves);
    let mut out: Vec<FieldChange> = leaves
        .into_iter()
        .filter_map(|(path, after)| {
            let old = get_path(before, &path).cloned().unwrap_or(Value::Null);
            let same = fingerprint(&old) == fingerprint(after)
                || (is_empty(Some(&old)) && is_empty(Some(after)));
            (!same).then(|| FieldChange {
                field: path,
                before: old,
                after: after.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn collect_leaves<'a>(value: &'a Value, prefix: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                collect_leaves(child, path, out);
            }
        }
        _ if !prefix.is_empty() => out.push((prefix, value)),
        _ => {}
    }
}

/// The address of a Zoho CRM record in the web UI, for the log's Module Key
/// link, on the tenant's data centre: derived from the `api_domain` Zoho gave
/// at connect time (`https://www.zohoapis.eu` → `https://crm.zoho.eu`). Any
/// other domain (the sandbox) serves the link itself. `module` is the API
/// name; the web UI's tab names drop its underscores (`Sales_Orders` →
/// `/crm/tab/SalesOrders/…`, as Zoho's own record links read). `None` for ids
/// that are not Zoho ids (digits only), so nothing odd lands in a URL.
pub fn zoho_record_url(api_domain: &str, module: &str, record_id: &str) -> Option<String> {
    if record_id.is_empty() || !record_id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if module.is_empty()
        || !module
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let domain = api_domain.trim().trim_end_matches('/');
    let host = domain.strip_prefix("https://").unwrap_or(domain);
    let base = if let Some(tld) = host.strip_prefix("www.zohoapis.") {
        match tld {
            "ca" => "https://crm.zohocloud.ca".to_owned(),
            _ => format!("https://crm.zoho.{tld}"),
        }
    } else if let Some(tld) = host.strip_prefix("sandbox.zohoapis.") {
        format!("https://crmsandbox.zoho.{tld}")
    } else {
        domain.to_owned()
    };
    let tab = module.replace('_', "");
    Some(format!("{base}/crm/tab/{tab}/{record_id}"))
}

/// The first-run and FAQ situations of SPEC §9, as notices the pages show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    NoMappableFields,
    InventoryItemRequired,
    ZohoWithoutProducts,
    QboCredentialsInvalid,
    ZohoCredentialsInvalid,
    InventorySettingsMissing,
}

impl Notice {
    pub fn message(self) -> &'static str {
        match self {
            Notice::NoMappableFields => {
                "No fields to map yet. Click Sync Mappable Fields to read the fields of Zoho CRM and QuickBooks; if the list stays empty, check both connections in Settings → Connections."
            }
            Notice::InventoryItemRequired => {
                "At least one inventory item must be present in QuickBooks before products can be mapped. Create one inventory item in QuickBooks, then click Reset Default Mapping and Sync Mappable Fields."
            }
            Notice::ZohoWithoutProducts => {
                "Your Zoho CRM edition has no Products module (the free edition does not), so products, quotes, orders and invoices cannot sync. Upgrade Zoho CRM (Professional or a trial of it), then click Sync Mappable Fields."
            }
            Notice::QboCredentialsInvalid => {
                "QuickBooks no longer accepts zqsync's sign-in, so syncing is paused. Reconnect QuickBooks in Settings → Connections."
            }
            Notice::ZohoCredentialsInvalid => {
                "Zoho CRM no longer accepts zqsync's sign-in, so syncing is paused. Reconnect Zoho CRM in Settings → Connections."
            }
            Notice::InventorySettingsMissing => {
                "Products cannot be created in QuickBooks until the income, expense and asset accounts are chosen in Settings → Inventory Settings."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_have_labels_and_keys() {
        let labels: Vec<&str> = LogStatus::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(labels, vec!["Synced", "Error", "Not Synced", "Not Valid"]);
        for status in LogStatus::ALL {
            assert_eq!(LogStatus::from_key(status.key()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.key()));
        }
        assert_eq!(LogStatus::from_key("ok"), None);
        assert!(LogStatus::Error.is_retryable());
        assert!(!LogStatus::NotValid.is_retryable());
        assert!(!LogStatus::Synced.is_retryable());
    }

    #[test]
    fn the_spec_codes_are_translated() {
        let cases = [
            (
                "610",
                ErrorAction::RecreateOrUnlink,
                "deleted or made inactive",
            ),
            ("5010", ErrorAction::ReReadAndRetry, "changed in QuickBooks"),
            (
                "6240",
                ErrorAction::FixData,
                "already has a customer, vendor or employee",
            ),
            ("2020", ErrorAction::FixData, "Inventory Settings"),
            (
                "6000",
                ErrorAction::FixData,
                "QuickBooks rejected the record",
            ),
            (
                "2500",
                ErrorAction::FixData,
                "does not exist or is inactive",
            ),
            (
                "3001",
                ErrorAction::RetryAutomatically,
                "retried automatically",
            ),
            ("3200", ErrorAction::Reconnect, "Reconnect QuickBooks"),
        ];
        for (code, action, phrase) in cases {
            let e = explain_qbo_fault(code, Some("some detail"));
            assert_eq!(e.action, action, "{code}");
            assert!(e.message.contains(phrase), "{code}: {}", e.message);
            assert_eq!(e.system, System::Qbo);
            assert_eq!(e.code, code);
        }
    }

    #[test]
    fn every_message_says_what_to_do() {
        let verbs = [
            "Retry",
            "Reconnect",
            "contact support",
            "Nothing to do",
            "Choose",
            "Upgrade",
            "Renew",
            "need",
            "Undo",
            "leave",
        ];
        for (code, _, _) in QBO_FAULTS {
            let m = explain_qbo_fault(code, Some("x")).message;
            assert!(verbs.iter().any(|v| m.contains(v)), "QBO {code}: {m}");
            assert!(!m.contains('{'), "unfilled placeholder in {code}");
        }
        for (code, _, _) in ZOHO_ERRORS {
            let m = explain_zoho_error(code, Some("Email"), Some("x")).message;
            assert!(verbs.iter().any(|v| m.contains(v)), "Zoho {code}: {m}");
            assert!(!m.contains('{'), "unfilled placeholder in {code}");
        }
    }

    #[test]
    fn details_are_woven_in_or_left_out_cleanly() {
        let e = explain_qbo_fault(
            "6000",
            Some("A business validation error has occurred: Amount must equal Qty x Price"),
        );
        assert!(
            e.message
                .starts_with("QuickBooks rejected the record: A business validation error")
        );
        let e = explain_qbo_fault("2050", None);
        assert_eq!(
            e.message,
            "A value is longer than QuickBooks allows. Shorten it in Zoho, then Retry."
        );
        let e = explain_qbo_fault("003200", None);
        assert_eq!(e.code, "3200", "leading zeros as in errorCode=003200");
        let unknown = explain_qbo_fault("9999", Some("Odd"));
        assert!(unknown.message.contains("(code 9999): Odd."));
    }

    #[test]
    fn zoho_codes_name_the_field() {
        let e = explain_zoho_error("MANDATORY_NOT_FOUND", Some("Last_Name"), None);
        assert_eq!(
            e.message,
            "Zoho requires Last_Name, but it was empty. Map a QuickBooks field to Last_Name on the QuickBooks Mapping page (or fill it in QuickBooks), then Retry."
        );
        let e = explain_zoho_error("duplicate_data", Some("Email"), Some("duplicate data"));
        assert_eq!(e.code, "DUPLICATE_DATA");
        assert!(e.message.contains("same Email"));
        assert_eq!(
            explain_zoho_error("INVALID_TOKEN", None, None).action,
            ErrorAction::Reconnect
        );
        let e = explain_zoho_error("INVALID_DATA", None, Some("invalid data"));
        assert!(
            e.message
                .starts_with("Zoho rejected the value of a field (invalid data)")
        );
        let unknown = explain_zoho_error("SOMETHING_NEW", None, None);
        assert!(
            unknown
                .message
                .contains("(SOMETHING_NEW): no details were given.")
        );
    }

    #[test]
    fn qbo_bodies_in_both_envelopes() {
        let validation = json!({"Fault": {"Error": [
            {"Message": "Duplicate Name Exists Error", "Detail": "The name supplied already exists. : Another customer is already using this name.", "code": "6240", "element": ""},
            {"Message": "Object Not Found", "code": "610"}
        ], "type": "ValidationFault"}, "time": "2026-05-05T02:20:27.769-07:00"});
        let explained = explain_qbo_body(&validation);
        assert_eq!(explained.len(), 2);
        assert_eq!(explained[0].code, "6240");
        assert!(
            explained[0]
                .message
                .contains("Another customer is already using this name")
        );
        assert!(
            explained[1].message.contains("(Object Not Found)"),
            "Message stands in for a missing Detail"
        );

        let auth = json!({"warnings": null, "fault": {"error": [
            {"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
             "detail": "Token expired: abc", "code": "3200", "element": null}], "type": "AUTHENTICATION"}});
        let explained = explain_qbo_body(&auth);
        assert_eq!(explained[0].action, ErrorAction::Reconnect);
        assert!(explain_qbo_body(&json!({"Customer": {}})).is_empty());
    }

    #[test]
    fn zoho_bodies() {
        let per_record = json!({"code": "INVALID_DATA", "details": {"api_name": "Phone", "json_path": "$.data[0].Phone"},
                                "message": "invalid data", "status": "error"});
        let e = explain_zoho_body(&per_record).unwrap();
        assert!(e.message.contains("value of Phone"));
        let ok = json!({"code": "SUCCESS", "details": {"id": "1"}, "message": "record added", "status": "success"});
        assert_eq!(explain_zoho_body(&ok), None);
        assert_eq!(explain_zoho_body(&json!({"data": []})), None);
    }

    #[test]
    fn changes_list_what_an_update_alters() {
        let before = json!({"DisplayName": "Zylker", "UnitPrice": 15,
                            "BillAddr": {"City": "Bayshore", "Line1": "1 Main"},
                            "Notes": null, "Id": "1"});
        let written = json!({"DisplayName": "Zylker Corp", "UnitPrice": 15.0,
                             "BillAddr": {"City": "Bayshore", "PostalCode": "94326"},
                             "Notes": "", "Line": [{"Amount": 1}]});
        let found = changes(&before, &written);
        let fields: Vec<&str> = found.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["BillAddr.PostalCode", "DisplayName", "Line"]);
        assert_eq!(found[0].before, Value::Null);
        assert_eq!(found[1].before, json!("Zylker"));
        assert_eq!(found[1].after, json!("Zylker Corp"));
        assert!(changes(&written, &written).is_empty());
    }

    #[test]
    fn details_round_trip_as_json() {
        let details = LogDetails {
            read: json!({"Account_Name": "Zylker"}),
            written: json!({"DisplayName": "Zylker"}),
            changes: vec![FieldChange {
                field: "DisplayName".into(),
                before: json!("Zyl"),
                after: json!("Zylker"),
            }],
            qbo_id: Some("58".into()),
            conflict: Some(ConflictRecord {
                policy: ConflictPolicy::QboWins,
                winner: System::Qbo,
                losing_version: json!({"Account_Name": "Zylker Inc"}),
            }),
            notes: vec![],
            left_out: vec![],
        };
        let json = serde_json::to_value(&details).unwrap();
        assert_eq!(json["conflict"]["winner"], "qbo");
        assert!(json.get("notes").is_none());
        assert_eq!(serde_json::from_value::<LogDetails>(json).unwrap(), details);
        assert_eq!(
            serde_json::from_value::<LogDetails>(json!({})).unwrap(),
            LogDetails::default()
        );
    }

    #[test]
    fn zoho_links_follow_the_data_centre() {
        let id = "4150868000000002175";
        assert_eq!(
            zoho_record_url("https://www.zohoapis.com", "Accounts", id).as_deref(),
            Some("https://crm.zoho.com/crm/tab/Accounts/4150868000000002175")
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.eu/", "Sales_Orders", id).as_deref(),
            Some("https://crm.zoho.eu/crm/tab/SalesOrders/4150868000000002175")
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.com.au", "Products", "1").as_deref(),
            Some("https://crm.zoho.com.au/crm/tab/Products/1")
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.ca", "Accounts", "1").as_deref(),
            Some("https://crm.zohocloud.ca/crm/tab/Accounts/1")
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.in", "Purchase_Orders", "7").as_deref(),
            Some("https://crm.zoho.in/crm/tab/PurchaseOrders/7")
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.jp", "Invoices", "7").as_deref(),
            Some("https://crm.zoho.jp/crm/tab/Invoices/7")
        );
        assert_eq!(
            zoho_record_url("https://sandbox.zohoapis.com", "Quotes", "7").as_deref(),
            Some("https://crmsandbox.zoho.com/crm/tab/Quotes/7")
        );
        assert_eq!(
            zoho_record_url("http://127.0.0.1:3001/zoho", "Accounts", "1").as_deref(),
            Some("http://127.0.0.1:3001/zoho/crm/tab/Accounts/1")
        );
        assert_eq!(
            zoho_record_url("http://127.0.0.1:3001", "Sales_Orders", "1").as_deref(),
            Some("http://127.0.0.1:3001/crm/tab/SalesOrders/1")
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.com", "Accounts", "1/../x"),
            None
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.com", "Acc/ounts", "1"),
            None
        );
        assert_eq!(
            zoho_record_url("https://www.zohoapis.com", "Accounts", ""),
            None
        );
    }

    #[test]
    fn notices_are_clear() {
        assert!(
            Notice::InventoryItemRequired
                .message()
                .starts_with("At least one inventory item must be present")
        );
        assert!(
            Notice::NoMappableFields
                .message()
                .contains("Sync Mappable Fields")
        );
        assert!(
            Notice::ZohoWithoutProducts
                .message()
                .contains("free edition")
        );
        assert_eq!(
            serde_json::to_string(&Notice::QboCredentialsInvalid).unwrap(),
            "\"qbo_credentials_invalid\""
        );
    }
}
