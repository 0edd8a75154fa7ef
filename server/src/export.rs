//! `GET /logs/export.csv?pair=&status=&q=`: the Logs page's current filter as a CSV download
//! (SPEC §7, beyond the guide). Behind the session wall like every page; the tenant is the
//! session's. Cells follow RFC 4180 and are defused for spreadsheets: a cell that starts like a
//! formula gets a leading apostrophe, so opening the file never runs what a record contained.

use std::collections::HashMap;

use app::ssr::RequestSession;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use engine::sync::{LogEntry, LogQuery};

use crate::web::WebState;

const HEADER: [&str; 9] = [
    "Module",
    "Direction",
    "Module Key",
    "QuickBooks Id",
    "Record",
    "Status",
    "Error Message",
    "Last Sync Date (UTC)",
    "Zoho CRM Link",
];

/// One CSV cell: formula-looking text defused, then quoted when it holds a separator, a quote
/// or a line break (quotes doubled).
pub(crate) fn csv_cell(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// One record: cells joined by commas, ended by CRLF.
pub(crate) fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn utc_time(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn entry_line(entry: &LogEntry, api_domain: Option<&str>) -> String {
    let link = app::api::logs::rows::zoho_url(api_domain, entry.pair, entry.zoho_id.as_deref());
    csv_line(&[
        entry.pair.label().to_owned(),
        entry.flow.label().to_owned(),
        entry.zoho_id.clone().unwrap_or_default(),
        entry
            .qbo_id
            .clone()
            .or_else(|| entry.details.qbo_id.clone())
            .unwrap_or_default(),
        entry.record_name.clone().unwrap_or_default(),
        entry.status.label().to_owned(),
        entry.message.clone().unwrap_or_default(),
        utc_time(entry.created_at),
        link.unwrap_or_default(),
    ])
}

pub(crate) async fn export_logs(
    State(state): State<WebState>,
    Extension(session): Extension<RequestSession>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let RequestSession::Active { session, .. } = session else {
        return Redirect::to("/login?next=/logs").into_response();
    };
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let pair = match param("pair") {
        "" => "accounts_customers",
        given => given,
    };
    let (pair, status) = match app::api::logs::parse_filters(pair, param("status")) {
        Ok(filters) => filters,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let search = param("q").trim();
    let log_query = LogQuery {
        pair: Some(pair),
        status,
        search: (!search.is_empty()).then(|| search.to_owned()),
        page: 0,
        per_page: 0,
    };
    let ctx = &state.ctx;
    let rows = match ctx.sync.logs.export(&session.tenant_id, &log_query).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::error!(%error, "log export failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The export failed on our side. Try again in a minute.",
            )
                .into_response();
        }
    };
    // A failed lookup is logged inside; the file is still useful without links.
    let api_domain: Option<String> = app::api::logs::rows::zoho_api_domain(ctx, &session.tenant_id)
        .await
        .unwrap_or_default();
    // A byte-order mark so spreadsheet programs read the file as UTF-8 (labels use ↔ and →).
    let mut body = String::from("\u{feff}");
    body.push_str(&csv_line(&HEADER));
    for entry in &rows {
        body.push_str(&entry_line(entry, api_domain.as_deref()));
    }
    let stamp = chrono::DateTime::from_timestamp_millis(ctx.clock.now_millis())
        .map(|t| t.format("%Y%m%d-%H%M").to_string())
        .unwrap_or_default();
    let disposition = format!(
        "attachment; filename=\"zqsync-logs-{}-{stamp}.csv\"",
        pair.key()
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_line(&["a", "b,c"]), "a,\"b,c\"\r\n");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("a=b"), "a=b", "only a leading sign is a formula");
    }

    #[test]
    fn times_are_utc_iso() {
        assert_eq!(utc_time(1_893_456_000_000), "2030-01-01T00:00:00Z");
    }
}
