//! Server functions for the Logs page (SPEC §7) and the home summary: a page of log rows with
//! the Zoho record link on the tenant's data centre, one row's details, Retry / Re-create /
//! Unlink, and the last/next run with the hourly counts of the last 24 hours. Each starts with
//! `require_session()` and reads or changes the session's tenant only. The CSV export is a
//! plain GET route of the server (`/logs/export.csv`), so the browser downloads it.

use domain::log::LogStatus;
use domain::pairs::{Flow, ModulePair};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Rows per page of the Logs table.
pub const LOGS_PER_PAGE: u32 = 25;

/// What a row offers besides Details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowAction {
    /// Sync the record again.
    Retry,
    /// The counterpart was deleted: create it again, or unlink.
    Recreate,
}

/// One row of the Logs table (details are fetched when the panel opens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRowView {
    pub id: String,
    pub pair: ModulePair,
    pub flow: Flow,
    /// The Module Key.
    pub zoho_id: Option<String>,
    /// The record in Zoho CRM on the tenant's data centre.
    pub zoho_url: Option<String>,
    pub qbo_id: Option<String>,
    pub record_name: Option<String>,
    pub status: LogStatus,
    pub message: Option<String>,
    /// What the row offers while it is open (not yet dealt with by a later run).
    pub action: Option<RowAction>,
    /// Retry or Re-create was asked for and the run has not taken it yet.
    pub queued: bool,
    /// Unix milliseconds (UTC); the page shows the user's local time.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogListView {
    pub rows: Vec<LogRowView>,
    pub total: u64,
    /// 0-based.
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogDetailView {
    pub row: LogRowView,
    pub details: domain::log::LogDetails,
}

/// Records synced and failed in one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourBar {
    /// Start of the hour, Unix milliseconds.
    pub hour_start: i64,
    pub synced: u64,
    pub failed: u64,
}

/// The home summary card: the run status and the last 24 hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummaryView {
    #[serde(flatten)]
    pub status: crate::api::run_status::RunStatusView,
    /// 24 hours, oldest first.
    pub hours: Vec<HourBar>,
}

/// Parses the page's filter values: a pair key (required), a status key or empty for all.
pub fn parse_filters(
    pair: &str,
    status: &str,
) -> Result<(ModulePair, Option<LogStatus>), AppError> {
    let pair = ModulePair::from_key(pair.trim()).map_err(|_| {
        AppError::Invalid(format!(
            "Unknown module {pair:?}. Choose a module from the list."
        ))
    })?;
    let status = match status.trim() {
        "" | "all" => None,
        key => Some(LogStatus::from_key(key).ok_or_else(|| {
            AppError::Invalid(format!(
                "Unknown status {key:?}. Choose Synced, Error, Not Synced or Not Valid."
            ))
        })?),
    };
    Ok((pair, status))
}

#[cfg(feature = "ssr")]
pub mod rows {
    use std::collections::HashSet;

    use domain::pairs::{Flow, ModulePair};
    use engine::connections::Provider;
    use engine::sync::{LogAction, LogEntry, RetryError, RetryStore};

    use super::{LogRowView, RowAction};
    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    /// The Zoho API domain of the tenant's connection (it names the data centre), if connected.
    pub async fn zoho_api_domain(
        ctx: &ServerCtx,
        tenant_id: &str,
    ) -> Result<Option<String>, AppError> {
        let connections = ctx
            .connections
            .tenant_connections(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        Ok(connections
            .into_iter()
            .find(|c| c.provider == Provider::Zoho)
            .and_then(|c| c.api_domain))
    }

    pub fn retries(ctx: &ServerCtx) -> RetryStore {
        RetryStore::new(
            ctx.db.clone(),
            ctx.clock.clone(),
            ctx.sync.scheduler.clone(),
        )
    }

    #[allow(clippy::needless_pass_by_value)] // used as `map_err(retry_error)`
    pub fn retry_error(error: RetryError) -> AppError {
        if error.is_user_error() {
            AppError::Invalid(error.to_string())
        } else {
            internal(&error)
        }
    }

    /// The record's page in Zoho CRM, when Zoho is connected and the row has a Zoho id.
    pub fn zoho_url(
        api_domain: Option<&str>,
        pair: ModulePair,
        zoho_id: Option<&str>,
    ) -> Option<String> {
        domain::log::zoho_record_url(api_domain?, pair.zoho_module().api_name(), zoho_id?)
    }

    /// The queued records, to mark their rows "queued".
    pub type Queued = HashSet<(ModulePair, Flow, String)>;

    pub fn row_view(entry: &LogEntry, api_domain: Option<&str>, queued: &Queued) -> LogRowView {
        let source_id = match entry.flow {
            Flow::ZohoToQbo => entry.zoho_id.clone(),
            Flow::QboToZoho => entry.qbo_id.clone(),
        };
        let is_queued = source_id.is_some_and(|id| queued.contains(&(entry.pair, entry.flow, id)));
        let zoho_url = zoho_url(api_domain, entry.pair, entry.zoho_id.as_deref());
        LogRowView {
            id: entry.id.clone(),
            pair: entry.pair,
            flow: entry.flow,
            zoho_id: entry.zoho_id.clone(),
            zoho_url,
            qbo_id: entry
                .qbo_id
                .clone()
                .or_else(|| entry.details.qbo_id.clone()),
            record_name: entry.record_name.clone(),
            status: entry.status,
            message: entry.message.clone(),
            action: match (entry.resolved_at, entry.action) {
                (None, Some(LogAction::Retry)) => Some(RowAction::Retry),
                (None, Some(LogAction::Recreate)) => Some(RowAction::Recreate),
                _ => None,
            },
            queued: is_queued,
            created_at: entry.created_at,
        }
    }

    pub async fn queued(ctx: &ServerCtx, tenant_id: &str) -> Result<Queued, AppError> {
        Ok(retries(ctx)
            .pending(tenant_id)
            .await
            .map_err(|e| internal(&e))?
            .into_iter()
            .map(|r| (r.pair, r.flow, r.source_id))
            .collect())
    }
}

/// One page of a module's log, newest first. `status` is a status key or empty for all;
/// `search` a Zoho or QuickBooks id, or text in the record's name or the message.
#[server(endpoint = "list_logs")]
pub async fn list_logs(
    pair: String,
    status: String,
    search: String,
    page: u32,
) -> Result<LogListView, AppError> {
    use engine::sync::LogQuery;

    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let (pair, status) = parse_filters(&pair, &status)?;
    let search = search.trim();
    if search.chars().count() > 200 {
        return Err(AppError::Invalid(
            "The search is too long. Search by an id or a few words of the name or message.".into(),
        ));
    }
    let query = LogQuery {
        pair: Some(pair),
        status,
        search: (!search.is_empty()).then(|| search.to_owned()),
        page: page.min(1_000_000),
        per_page: LOGS_PER_PAGE,
    };
    let found = ctx
        .sync
        .logs
        .list(&session.tenant_id, &query)
        .await
        .map_err(|e| internal(&e))?;
    let api_domain = rows::zoho_api_domain(&ctx, &session.tenant_id).await?;
    let queued = rows::queued(&ctx, &session.tenant_id).await?;
    Ok(LogListView {
        rows: found
            .rows
            .iter()
            .map(|entry| rows::row_view(entry, api_domain.as_deref(), &queued))
            .collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    })
}

/// A row with everything the engine recorded about it (fields read and written, changes,
/// the QBO id, a lost conflict's version).
#[server(endpoint = "log_details")]
pub async fn log_details(id: String) -> Result<LogDetailView, AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let entry = ctx
        .sync
        .logs
        .get(&session.tenant_id, id.trim())
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(|| {
            AppError::Invalid(
                "That log entry was not found. Reload the Logs page and try again.".into(),
            )
        })?;
    let api_domain = rows::zoho_api_domain(&ctx, &session.tenant_id).await?;
    let queued = rows::queued(&ctx, &session.tenant_id).await?;
    Ok(LogDetailView {
        row: rows::row_view(&entry, api_domain.as_deref(), &queued),
        details: entry.details,
    })
}

/// Retry (or Re-create) the record of a row: it syncs again on a run that starts now.
/// Returns the sentence the page shows.
#[server(endpoint = "retry_log_row")]
pub async fn retry_log_row(id: String) -> Result<String, AppError> {
    use engine::sync::LogAction;

    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    // A pair the plan no longer includes never runs: say so rather than queue in vain.
    if let Some(entry) = ctx
        .sync
        .logs
        .get(&session.tenant_id, id.trim())
        .await
        .map_err(|e| internal(&e))?
    {
        crate::api::billing::require_pair(&ctx.db, &session.tenant_id, entry.pair).await?;
    }
    let queued = rows::retries(&ctx)
        .request_retry(&session.tenant_id, id.trim())
        .await
        .map_err(rows::retry_error)?;
    let active = ctx
        .integration
        .is_active(&session.tenant_id)
        .await
        .map_err(|e| internal(&e))?;
    let what = match queued.kind {
        LogAction::Retry => "The record will sync again",
        LogAction::Recreate => "The record will be created again",
    };
    Ok(if active {
        format!("{what} in a sync that starts now.")
    } else {
        format!(
            "{what} once the integration is active again (user menu → QuickBooks Online → Activate)."
        )
    })
}

/// Unlink a record whose counterpart was deleted: it stops being paired, and its next change
/// creates a new counterpart.
#[server(endpoint = "unlink_log_row")]
pub async fn unlink_log_row(id: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    rows::retries(&ctx)
        .unlink(&session.tenant_id, id.trim())
        .await
        .map_err(rows::retry_error)
}

/// The home summary: last and next run, and records synced and failed per hour over the last
/// 24 hours.
/// The summary card (polled by the pages: a passive read).
#[server(endpoint = "home_summary")]
pub async fn home_summary() -> Result<SyncSummaryView, AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let hours = ctx
        .sync
        .logs
        .hourly(&session.tenant_id, ctx.clock.now_millis())
        .await
        .map_err(|e| internal(&e))?;
    Ok(SyncSummaryView {
        status: crate::api::run_status::status::run_status(&ctx, &session.tenant_id).await?,
        hours: hours
            .into_iter()
            .map(|h| HourBar {
                hour_start: h.hour_start,
                synced: h.synced,
                failed: h.failed,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_or_say_what_to_do() {
        assert_eq!(
            parse_filters("accounts_customers", "").unwrap(),
            (ModulePair::AccountsCustomers, None)
        );
        assert_eq!(
            parse_filters("products_items", "not_valid").unwrap(),
            (ModulePair::ProductsItems, Some(LogStatus::NotValid))
        );
        let AppError::Invalid(message) = parse_filters("nope", "").unwrap_err() else {
            panic!("expected Invalid");
        };
        assert!(message.contains("Choose a module"));
        assert!(parse_filters("accounts_customers", "broken").is_err());
    }
}
