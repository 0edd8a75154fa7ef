//! The one error type every connector operation returns.
//!
//! Each variant says what the caller should do; `Remote` keeps what the remote system said for
//! the log (never shown unfiltered) next to a plain-language message from `domain::log`.

use std::time::Duration;

use serde_json::Value;

/// Which remote system an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Qbo,
    Zoho,
    IntuitOAuth,
    ZohoOAuth,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qbo => "qbo",
            Self::Zoho => "zoho",
            Self::IntuitOAuth => "intuit_oauth",
            Self::ZohoOAuth => "zoho_oauth",
        }
    }

    fn system_name(self) -> &'static str {
        match self {
            Self::Qbo | Self::IntuitOAuth => "QuickBooks Online",
            Self::Zoho | Self::ZohoOAuth => "Zoho CRM",
        }
    }
}

/// What the remote side answered, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub api: Api,
    /// HTTP status, when there was a response at all.
    pub status: Option<u16>,
    /// The remote error code (`"5010"`, `"INVALID_DATA"`, `"invalid_grant"`), when there is one.
    pub code: Option<String>,
    /// The remote message as received (trimmed; token-bearing 401 details are dropped).
    pub raw: String,
    /// A message a user can act on.
    pub plain: String,
}

impl Remote {
    pub fn new(
        api: Api,
        status: Option<u16>,
        code: Option<String>,
        raw: String,
        plain: String,
    ) -> Box<Self> {
        Box::new(Self {
            api,
            status,
            code,
            raw: truncate(raw, 2_000),
            plain,
        })
    }

    /// A failure with no useful remote body (connection refused, timeout, unreadable answer).
    pub fn local(api: Api, status: Option<u16>, raw: String, plain: String) -> Box<Self> {
        Self::new(api, status, None, raw, plain)
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    /// The remote API throttled us; wait at least `retry_after` (from `Retry-After`, else the
    /// API's documented pause) before calling again.
    #[error("{}", .remote.plain)]
    RateLimited {
        retry_after: Duration,
        remote: Box<Remote>,
    },
    /// The access token was refused. Callers refresh once and retry; a second refusal becomes
    /// `NeedsReconnect`.
    #[error("{}", .remote.plain)]
    Unauthorized { remote: Box<Remote> },
    /// The grant is gone (revoked, expired, `invalid_grant`, missing scope): a person must
    /// reconnect the system. The scheduler skips the tenant until then.
    #[error("{}", .remote.plain)]
    NeedsReconnect { remote: Box<Remote> },
    #[error("{}", .remote.plain)]
    NotFound { remote: Box<Remote> },
    /// QBO SyncToken out of date (5010) or Zoho `If-Unmodified-Since` failed (412): re-read and
    /// re-apply.
    #[error("{}", .remote.plain)]
    StaleObject { remote: Box<Remote> },
    /// A unique name/field clashes; `existing_id` is the clashing record when the remote says.
    #[error("{}", .remote.plain)]
    Duplicate {
        existing_id: Option<String>,
        remote: Box<Remote>,
    },
    /// The remote refused the data; `field` names the field when the remote says which.
    #[error("{message}")]
    Validation {
        field: Option<String>,
        message: String,
        remote: Box<Remote>,
    },
    /// Server error, timeout or connection failure: safe to retry later.
    #[error("{}", .remote.plain)]
    Transient { remote: Box<Remote> },
    /// An answer we could not read, or a misconfiguration on our side (bad client credentials,
    /// a data centre outside the allow-list). Not retried; goes to support.
    #[error("{}", .remote.plain)]
    Unexpected { remote: Box<Remote> },
}

impl ConnectorError {
    /// Zoho CRM does not know the module asked for: the org's edition lacks it, or it was
    /// renamed or hidden.
    pub fn is_unknown_module(&self) -> bool {
        let remote = self.remote();
        remote.api == Api::Zoho && remote.code.as_deref() == Some("INVALID_MODULE")
    }

    pub fn remote(&self) -> &Remote {
        match self {
            Self::RateLimited { remote, .. }
            | Self::Unauthorized { remote }
            | Self::NeedsReconnect { remote }
            | Self::NotFound { remote }
            | Self::StaleObject { remote }
            | Self::Duplicate { remote, .. }
            | Self::Validation { remote, .. }
            | Self::Transient { remote }
            | Self::Unexpected { remote } => remote.as_ref(),
        }
    }

    /// The plain-language message for people.
    pub fn plain_message(&self) -> String {
        self.to_string()
    }

    /// What the remote said, for the log.
    pub fn raw_message(&self) -> &str {
        &self.remote().raw
    }

    /// Whether retrying the same request later can succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    pub(crate) fn transient(api: Api, status: Option<u16>, raw: String) -> Self {
        let plain = format!(
            "{} did not answer properly just now. Nothing to do: zqsync tries again automatically.",
            api.system_name()
        );
        Self::Transient {
            remote: Remote::local(api, status, raw, plain),
        }
    }

    pub(crate) fn unexpected(api: Api, status: Option<u16>, raw: String) -> Self {
        let plain = format!(
            "zqsync could not understand an answer from {}. Please contact support with this message.",
            api.system_name()
        );
        Self::Unexpected {
            remote: Remote::local(api, status, raw, plain),
        }
    }

    pub(crate) fn needs_reconnect(
        api: Api,
        status: Option<u16>,
        code: Option<String>,
        raw: String,
    ) -> Self {
        let plain = format!(
            "zqsync's access to {} has stopped working. Reconnect {} in Settings → Connections.",
            api.system_name(),
            api.system_name()
        );
        Self::NeedsReconnect {
            remote: Remote::new(api, status, code, raw, plain),
        }
    }

    pub(crate) fn unauthorized(api: Api, status: Option<u16>, code: Option<String>) -> Self {
        // The raw 401 detail can echo the start of the token, so it is not kept.
        let plain = format!(
            "{} refused zqsync's access token. zqsync renews it and tries again automatically.",
            api.system_name()
        );
        Self::Unauthorized {
            remote: Remote::new(api, status, code, "access token refused".to_owned(), plain),
        }
    }

    pub(crate) fn rate_limited(
        api: Api,
        retry_after: Duration,
        code: Option<String>,
        raw: String,
    ) -> Self {
        let plain = format!(
            "{} asked zqsync to slow down. Nothing to do: zqsync waits {} s and tries again.",
            api.system_name(),
            retry_after.as_secs().max(1)
        );
        Self::RateLimited {
            retry_after,
            remote: Remote::new(api, Some(429), code, raw, plain),
        }
    }
}

/// Classifies a QBO error answer (HTTP status + body) with `domain::log::explain_qbo_body`.
pub(crate) fn qbo_error(
    status: u16,
    body: &Value,
    raw: &str,
    rate_limit_wait: Duration,
) -> ConnectorError {
    let api = Api::Qbo;
    let first = body
        .pointer("/Fault/Error/0")
        .or_else(|| body.pointer("/fault/error/0"));
    let field = |key: &str, alt: &str| {
        first
            .and_then(|e| e.get(key).or_else(|| e.get(alt)))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let code = field("code", "code");
    if status == 429 {
        return ConnectorError::rate_limited(api, rate_limit_wait, code, raw.to_owned());
    }
    if status == 401 {
        return ConnectorError::unauthorized(api, Some(status), code);
    }
    let explanation = domain::log::explain_qbo_body(body).into_iter().next();
    let plain = explanation.as_ref().map_or_else(
        || format!("QuickBooks Online answered with HTTP {status}."),
        |e| e.message.clone(),
    );
    let remote = Remote::new(
        api,
        Some(status),
        code.clone(),
        raw.to_owned(),
        plain.clone(),
    );
    let code_number = code
        .as_deref()
        .map(|c| c.trim_start_matches('0'))
        .and_then(|c| c.parse::<u32>().ok());
    match (status, code_number) {
        (_, Some(3001)) => ConnectorError::rate_limited(api, rate_limit_wait, code, raw.to_owned()),
        (403, _) | (_, Some(100 | 120 | 3100 | 3200)) => {
            ConnectorError::needs_reconnect(api, Some(status), code, raw.to_owned())
        }
        (_, Some(5010)) => ConnectorError::StaleObject { remote },
        (_, Some(610)) | (404, _) => ConnectorError::NotFound { remote },
        (_, Some(6240 | 6140)) => ConnectorError::Duplicate {
            existing_id: None,
            remote,
        },
        (500.., _) | (_, Some(10000..)) => ConnectorError::Transient { remote },
        (400..=499, Some(_)) => ConnectorError::Validation {
            field: field("element", "element").filter(|e| !e.is_empty()),
            message: plain,
            remote,
        },
        _ => ConnectorError::Unexpected { remote },
    }
}

/// Classifies a Zoho error (a top-level envelope or one per-record entry) with
/// `domain::log::explain_zoho_body`.
pub(crate) fn zoho_error(
    status: u16,
    body: &Value,
    raw: &str,
    rate_limit_wait: Duration,
) -> ConnectorError {
    let api = Api::Zoho;
    let code = body.get("code").and_then(Value::as_str).map(str::to_owned);
    if status == 429 {
        return ConnectorError::rate_limited(api, rate_limit_wait, code, raw.to_owned());
    }
    let plain = domain::log::explain_zoho_body(body).map_or_else(
        || format!("Zoho CRM answered with HTTP {status}."),
        |e| e.message,
    );
    let remote = Remote::new(
        api,
        Some(status),
        code.clone(),
        raw.to_owned(),
        plain.clone(),
    );
    match code.as_deref().unwrap_or_default() {
        "INVALID_TOKEN" | "INVALID_OAUTHTOKEN" | "AUTHENTICATION_FAILURE" => {
            ConnectorError::unauthorized(api, Some(status), code)
        }
        "OAUTH_SCOPE_MISMATCH" => {
            ConnectorError::needs_reconnect(api, Some(status), code, raw.to_owned())
        }
        "ALREADY_MODIFIED" => ConnectorError::StaleObject { remote },
        "DUPLICATE_DATA" => ConnectorError::Duplicate {
            existing_id: body
                .pointer("/details/duplicate_record/id")
                .and_then(Value::as_str)
                .or_else(|| body.pointer("/details/id").and_then(Value::as_str))
                .map(str::to_owned),
            remote,
        },
        "RECORD_NOT_FOUND" | "INVALID_URL_PATTERN" => ConnectorError::NotFound { remote },
        // An update of a record that no longer exists: Zoho says its id is invalid.
        "INVALID_DATA"
            if body.pointer("/details/api_name").and_then(Value::as_str) == Some("id") =>
        {
            ConnectorError::NotFound { remote }
        }
        "INTERNAL_ERROR" => ConnectorError::Transient { remote },
        _ if status == 401 => ConnectorError::unauthorized(api, Some(status), code),
        _ if status >= 500 => ConnectorError::Transient { remote },
        _ if status == 412 => ConnectorError::StaleObject { remote },
        _ if code.is_some() => ConnectorError::Validation {
            field: body
                .pointer("/details/api_name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message: plain,
            remote,
        },
        _ => ConnectorError::Unexpected { remote },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const WAIT: Duration = Duration::from_secs(60);

    #[test]
    fn an_unknown_zoho_module_is_told_apart() {
        let unknown = json!({"code": "INVALID_MODULE", "details": {}, "message": "the module name given seems to be invalid", "status": "error"});
        let error = zoho_error(400, &unknown, &unknown.to_string(), WAIT);
        assert!(error.is_unknown_module(), "{error:?}");
        let bad_field = json!({"code": "INVALID_DATA", "details": {"api_name": "Phone"}, "message": "invalid data", "status": "error"});
        let error = zoho_error(400, &bad_field, &bad_field.to_string(), WAIT);
        assert!(!error.is_unknown_module(), "{error:?}");
    }

    #[test]
    fn a_zoho_update_of_a_deleted_record_is_not_found() {
        let gone = json!({"code": "INVALID_DATA", "details": {"api_name": "id", "json_path": "$.data[0].id"},
            "message": "the related id given seems to be invalid", "status": "error"});
        assert!(matches!(
            zoho_error(400, &gone, "raw", WAIT),
            ConnectorError::NotFound { .. }
        ));
        let bad_field = json!({"code": "INVALID_DATA", "details": {"api_name": "Phone"}, "message": "invalid data", "status": "error"});
        assert!(matches!(
            zoho_error(400, &bad_field, "raw", WAIT),
            ConnectorError::Validation { .. }
        ));
    }

    #[test]
    fn qbo_faults_map_to_what_callers_do_next() {
        let stale = json!({"Fault": {"Error": [{"Message": "Stale Object Error", "Detail": "x", "code": "5010"}], "type": "ValidationFault"}});
        assert!(matches!(
            qbo_error(400, &stale, "raw", WAIT),
            ConnectorError::StaleObject { .. }
        ));
        let dup = json!({"Fault": {"Error": [{"Message": "Duplicate Name Exists Error", "Detail": "x", "code": "6240"}]}});
        assert!(matches!(
            qbo_error(400, &dup, "raw", WAIT),
            ConnectorError::Duplicate { .. }
        ));
        let missing = json!({"Fault": {"Error": [{"Message": "Required Param Missing", "Detail": "x", "code": "2020", "element": "Line"}]}});
        match qbo_error(400, &missing, "raw", WAIT) {
            ConnectorError::Validation { field, remote, .. } => {
                assert_eq!(field.as_deref(), Some("Line"));
                assert_eq!(remote.raw, "raw");
                assert_eq!(remote.code.as_deref(), Some("2020"));
            }
            other => panic!("expected Validation, got {other:?}"),
        }
        let expired = json!({"fault": {"error": [{"message": "AuthenticationFailed", "detail": "Token expired: eyJsecret", "code": "3200"}]}});
        let error = qbo_error(401, &expired, "Token expired: eyJsecret", WAIT);
        assert!(matches!(error, ConnectorError::Unauthorized { .. }));
        assert!(
            !error.raw_message().contains("eyJ"),
            "401 details echo the token"
        );
        assert!(
            matches!(qbo_error(429, &json!({}), "", WAIT), ConnectorError::RateLimited { retry_after, .. } if retry_after == WAIT)
        );
        assert!(qbo_error(500, &json!({}), "", WAIT).is_retryable());
    }

    #[test]
    fn zoho_errors_keep_the_field_and_the_clashing_record() {
        let dup = json!({"code": "DUPLICATE_DATA", "details": {"api_field": "Email", "duplicate_record": {"id": "4150868000000512001"}}, "message": "duplicate data", "status": "error"});
        match zoho_error(400, &dup, "raw", WAIT) {
            ConnectorError::Duplicate { existing_id, .. } => {
                assert_eq!(existing_id.as_deref(), Some("4150868000000512001"));
            }
            other => panic!("expected Duplicate, got {other:?}"),
        }
        let invalid = json!({"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Last_Name"}, "message": "required field not found", "status": "error"});
        match zoho_error(400, &invalid, "raw", WAIT) {
            ConnectorError::Validation { field, message, .. } => {
                assert_eq!(field.as_deref(), Some("Last_Name"));
                assert!(!message.is_empty());
            }
            other => panic!("expected Validation, got {other:?}"),
        }
        let token = json!({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"});
        assert!(matches!(
            zoho_error(401, &token, "", WAIT),
            ConnectorError::Unauthorized { .. }
        ));
        assert!(matches!(
            zoho_error(401, &json!({"code": "OAUTH_SCOPE_MISMATCH"}), "", WAIT),
            ConnectorError::NeedsReconnect { .. }
        ));
        assert!(matches!(
            zoho_error(
                412,
                &json!({"code": "ALREADY_MODIFIED", "status": "error"}),
                "",
                WAIT
            ),
            ConnectorError::StaleObject { .. }
        ));
    }
}
