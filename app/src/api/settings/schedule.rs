//! The Schedule tab's server functions: the sync interval, the conflict policy, and the run
//! status beside them.

use domain::settings::ConflictPolicy;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The Schedule tab: the form's values and the run status beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub interval_minutes: u32,
    pub conflict_policy: ConflictPolicy,
    #[serde(flatten)]
    pub status: crate::api::run_status::RunStatusView,
}

#[cfg(feature = "ssr")]
async fn schedule_view(
    ctx: &crate::ssr::ServerCtx,
    tenant_id: &str,
) -> Result<ScheduleView, AppError> {
    let settings = ctx
        .sync
        .config
        .settings(tenant_id)
        .await
        .map_err(super::config_error)?;
    Ok(ScheduleView {
        interval_minutes: settings.interval.minutes(),
        conflict_policy: settings.conflict_policy,
        status: crate::api::run_status::status::run_status(ctx, tenant_id).await?,
    })
}

/// The Schedule tab's data: interval, conflict policy, and the scheduler's state.
#[server(endpoint = "sync_schedule")]
pub async fn load_schedule() -> Result<ScheduleView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    schedule_view(&ctx, &session.tenant_id).await
}

/// Saves the interval (whole minutes, 1–60) and the conflict policy, and moves the next run.
#[server(endpoint = "save_schedule")]
pub async fn save_schedule(
    interval: String,
    conflict_policy: String,
) -> Result<ScheduleView, AppError> {
    use domain::settings::SyncInterval;

    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = &session.tenant_id;
    let minutes: u32 = interval.trim().parse().map_err(|_| {
        AppError::Invalid(format!(
            "Enter the sync interval as a whole number of minutes from 1 to 60 (\"{}\" is not).",
            interval.trim()
        ))
    })?;
    let interval = SyncInterval::new(minutes).map_err(|e| AppError::Invalid(e.to_string()))?;
    let policy = ConflictPolicy::ALL
        .into_iter()
        .find(|p| policy_key(*p) == conflict_policy)
        .ok_or_else(|| {
            AppError::Invalid(
                "Choose who wins a conflict: QuickBooks, Zoho, or the newest change.".to_owned(),
            )
        })?;
    let mut settings = ctx
        .sync
        .config
        .settings(tenant)
        .await
        .map_err(super::config_error)?;
    settings.interval = interval;
    settings.conflict_policy = policy;
    ctx.sync
        .config
        .save_settings(tenant, &settings)
        .await
        .map_err(super::config_error)?;
    ctx.sync
        .scheduler
        .set_interval(tenant, std::time::Duration::from_secs(interval.seconds()))
        .await
        .map_err(|e| internal(&e))?;
    schedule_view(&ctx, tenant).await
}

/// The storage key of a conflict policy (its serde name), as the form sends it.
pub fn policy_key(policy: ConflictPolicy) -> &'static str {
    match policy {
        ConflictPolicy::QboWins => "qbo_wins",
        ConflictPolicy::ZohoWins => "zoho_wins",
        ConflictPolicy::NewestWins => "newest_wins",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_domain_serialisation() {
        for policy in ConflictPolicy::ALL {
            assert_eq!(
                serde_json::to_string(&policy).ok(),
                Some(format!("\"{}\"", policy_key(policy)))
            );
        }
    }
}
