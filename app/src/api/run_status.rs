//! The sync run's status as every page shows it (the summary card, Settings → Schedule), and
//! "Sync now". Pages poll [`sync_status`] and [`crate::api::logs::home_summary`] so a run starting
//! and ending shows without a reload. Those two are passive reads ([`PASSIVE_ENDPOINTS`]): the
//! server does not count them as the user's activity, so an open tab still logs out when its
//! user has been idle.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Server functions a page calls on a timer rather than because the user did something. The
/// session middleware resolves their session without sliding its idle expiry.
pub const PASSIVE_ENDPOINTS: &[&str] = &["/api/sync_status", "/api/home_summary"];

/// How the last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LastOutcome {
    /// Every record got an outcome (errors included).
    Completed,
    /// Stopped early (a limit, an API down); the rest follows in the next run.
    #[serde(rename = "Partly completed")]
    Partial,
    Failed,
}

impl LastOutcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Completed => "Completed",
            Self::Partial => "Partly completed",
            Self::Failed => "Failed",
        }
    }

    pub fn badge_class(self) -> &'static str {
        match self {
            Self::Completed => "badge badge-ok",
            Self::Partial => "badge badge-warn",
            Self::Failed => "badge badge-error",
        }
    }
}

/// The scheduler's state for one tenant, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStatusView {
    /// The integration's Activate switch: off means no run happens.
    pub active: bool,
    /// Why "Sync now" cannot start a run (inactive, a connection to repair), with what to do.
    pub blocked: Option<String>,
    /// Unix milliseconds.
    pub next_run_at: Option<i64>,
    /// "Sync now" (or a Retry) waits for a run: the next one if a run is going now.
    pub requested: bool,
    /// A worker holds the tenant right now.
    pub running: bool,
    /// The run's worker stopped (killed, cut off): another worker resumes it shortly.
    pub interrupted: bool,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    pub last_outcome: Option<LastOutcome>,
    pub last_message: Option<String>,
    /// A run is going, asked for or due: pages poll quickly until it is over.
    pub busy: bool,
}

/// What "Sync now" did, and the status after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncNowAnswer {
    /// A run was going when the button was pressed: one more follows it.
    pub after_current_run: bool,
    /// The sentence shown under the button.
    pub message: String,
    #[serde(flatten)]
    pub status: RunStatusView,
}

impl SyncNowAnswer {
    pub const QUEUED: &'static str = "Sync requested: it starts as soon as a sync worker is free.";
    pub const AFTER_CURRENT_RUN: &'static str =
        "A sync is running now; another will start as soon as it ends.";
}

#[cfg(feature = "ssr")]
pub mod status {
    use engine::connections::{ConnectionStatus, Provider};
    use engine::sync::RunOutcome;

    use super::{LastOutcome, RunStatusView};
    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    /// A run due within this long counts as busy: the page polls quickly to show it start.
    const DUE_SOON_MILLIS: i64 = 10_000;

    /// Why "Sync now" cannot start a run, if it cannot; and whether the integration is active.
    pub async fn sync_blocked(
        ctx: &ServerCtx,
        tenant_id: &str,
    ) -> Result<(bool, Option<String>), AppError> {
        let connections = ctx
            .connections
            .tenant_connections(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let active = ctx
            .integration
            .is_active(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        if let Some(broken) = connections
            .iter()
            .find(|c| c.status == ConnectionStatus::NeedsReconnect)
        {
            let name = broken.provider.display_name();
            return Ok((
                active,
                Some(format!(
                    "{name} needs to be reconnected before anything can sync. Reconnect it in Settings → Connections, then press Sync now."
                )),
            ));
        }
        let missing: Vec<&str> = [Provider::Zoho, Provider::Qbo]
            .into_iter()
            .filter(|p| !connections.iter().any(|c| c.provider == *p))
            .map(Provider::display_name)
            .collect();
        if !missing.is_empty() {
            return Ok((
                active,
                Some(format!(
                    "Connect {} in Settings → Connections first; then activate the integration and press Sync now.",
                    missing.join(" and ")
                )),
            ));
        }
        if !active {
            return Ok((
                active,
                Some(
                    "The integration is inactive, so nothing syncs. Switch it on under user menu → QuickBooks Online (Activate), then press Sync now."
                        .to_owned(),
                ),
            ));
        }
        Ok((active, None))
    }

    pub async fn run_status(ctx: &ServerCtx, tenant_id: &str) -> Result<RunStatusView, AppError> {
        let status = ctx
            .sync
            .scheduler
            .status(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let (active, blocked) = sync_blocked(ctx, tenant_id).await?;
        let now = ctx.clock.now_millis();
        // Only a run that can start counts: an inactive tenant or one whose connection needs
        // repair is never claimed.
        let can_run = active && blocked.is_none();
        let due_soon = status
            .next_run_at
            .is_some_and(|at| at <= now + DUE_SOON_MILLIS);
        Ok(RunStatusView {
            active,
            blocked,
            next_run_at: status.next_run_at,
            requested: status.requested,
            running: status.running,
            interrupted: status.interrupted,
            last_started_at: status.last_started_at,
            last_finished_at: status.last_finished_at,
            last_outcome: status.last_outcome.map(|o| match o {
                RunOutcome::Ok => LastOutcome::Completed,
                RunOutcome::Partial => LastOutcome::Partial,
                RunOutcome::Failed => LastOutcome::Failed,
            }),
            last_message: status.last_message,
            busy: status.running
                || (can_run && (status.requested || status.interrupted || due_soon)),
        })
    }
}

/// The tenant's run status (polled by the pages: a passive read).
#[server(endpoint = "sync_status")]
pub async fn sync_status() -> Result<RunStatusView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    status::run_status(&ctx, &session.tenant_id).await
}

/// "Sync now": the tenant runs as soon as a worker is free; pressed during a run, one more run
/// follows it (never two at once). Refused while the integration is inactive or a connection
/// needs reconnecting, since the run could do nothing.
#[server(endpoint = "sync_now")]
pub async fn sync_now() -> Result<SyncNowAnswer, AppError> {
    use engine::sync::RunRequest;

    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = &session.tenant_id;
    if let (_, Some(reason)) = status::sync_blocked(&ctx, tenant).await? {
        return Err(AppError::Invalid(reason));
    }
    let request = ctx
        .sync
        .scheduler
        .request_run(tenant)
        .await
        .map_err(|e| internal(&e))?;
    let after_current_run = request == RunRequest::AfterCurrentRun;
    Ok(SyncNowAnswer {
        after_current_run,
        message: if after_current_run {
            SyncNowAnswer::AFTER_CURRENT_RUN
        } else {
            SyncNowAnswer::QUEUED
        }
        .to_owned(),
        status: status::run_status(&ctx, tenant).await?,
    })
}
