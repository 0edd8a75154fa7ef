//! The Sync Historical Data tab's server functions: what an annual plan can backfill, starting
//! backfills, and their progress.

use std::collections::BTreeMap;

use domain::pairs::{Direction, Flow, ModulePair};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One pair's line on the Sync Historical Data tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPair {
    pub pair: ModulePair,
    /// The flows a backfill of this pair runs (from Sync Direction); empty when it cannot run.
    pub flows: Vec<Flow>,
    /// Why this pair cannot be backfilled now, with what to do.
    pub unavailable: Option<String>,
}

/// One running or finished backfill (a progress bar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillView {
    pub pair: ModulePair,
    pub flow: Flow,
    pub since: String,
    /// Queued · Running · Done · Failed
    pub status: String,
    pub active: bool,
    pub done: u64,
    pub estimated_total: Option<u64>,
    pub message: Option<String>,
}

impl BackfillView {
    /// Whole percent done, when the total is known.
    pub fn percent(&self) -> Option<u64> {
        // Nothing to do counts as finished.
        self.estimated_total.map(|total| {
            (self.done.min(total) * 100)
                .checked_div(total)
                .unwrap_or(100)
        })
    }
}

/// The Sync Historical Data tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    pub plan: String,
    /// `None` on an annual plan; otherwise why the tab is locked, with what to do.
    pub locked: Option<String>,
    /// Today (UTC, YYYY-MM-DD): the latest start date allowed.
    pub today: String,
    pub pairs: Vec<HistoryPair>,
}

/// The tab's view, the backfills' progress, and the ticked lines of the form read.
#[cfg(feature = "ssr")]
mod backfills {
    use std::collections::BTreeMap;

    use domain::pairs::{ModulePair, SyncDirections};
    use domain::plans::Plan;
    use domain::settings::BackfillRequest;
    use engine::sync::{BackfillProgress, BackfillStatus};

    use super::super::{config_error, entitlements};
    use super::{BackfillView, HistoryPair, HistoryView};
    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    /// YYYY-MM-DD of a Unix-milliseconds instant, in UTC.
    pub fn utc_date(millis: i64) -> String {
        crate::components::local_time::format_time(millis)[..10].to_owned()
    }

    pub fn history_pairs(plan: Plan, directions: &SyncDirections) -> Vec<HistoryPair> {
        ModulePair::ALL
            .into_iter()
            .map(|pair| {
                let flows = directions.get(pair).flows();
                let unavailable = if !plan.allows(pair) {
                    plan.check_pair(pair).err().map(|e| e.to_string())
                } else if flows.is_empty() {
                    Some(
                        "Disabled in Sync Direction; choose a direction there to sync its history."
                            .to_owned(),
                    )
                } else {
                    None
                };
                HistoryPair {
                    pair,
                    flows: if unavailable.is_some() {
                        Vec::new()
                    } else {
                        flows
                    },
                    unavailable,
                }
            })
            .collect()
    }

    pub fn backfill_view(progress: BackfillProgress) -> BackfillView {
        BackfillView {
            pair: progress.pair,
            flow: progress.flow,
            since: progress.since,
            status: match progress.status {
                BackfillStatus::Queued => "Queued",
                BackfillStatus::Running => "Running",
                BackfillStatus::Done => "Done",
                BackfillStatus::Failed => "Failed",
            }
            .to_owned(),
            active: progress.status.is_active(),
            done: progress.done,
            estimated_total: progress.estimated_total,
            message: progress.message,
        }
    }

    pub async fn progress(ctx: &ServerCtx, tenant_id: &str) -> Result<Vec<BackfillView>, AppError> {
        Ok(ctx
            .sync
            .backfills
            .progress(tenant_id)
            .await
            .map_err(|e| internal(&e))?
            .into_iter()
            .map(backfill_view)
            .collect())
    }

    pub async fn history_view(ctx: &ServerCtx, tenant_id: &str) -> Result<HistoryView, AppError> {
        let plan = entitlements(ctx, tenant_id).await?.effective;
        let directions = ctx
            .sync
            .config
            .directions(tenant_id)
            .await
            .map_err(config_error)?;
        Ok(HistoryView {
            plan: plan.label().to_owned(),
            locked: plan
                .check_historical_data()
                .err()
                .map(|e| format!("{e} {}", crate::api::billing::UPGRADE_HINT)),
            today: utc_date(ctx.clock.now_millis()),
            pairs: history_pairs(plan, &directions),
        })
    }

    /// The checked lines of the Historical Data form: `include[key]` ticked, `since[key]` dated.
    pub fn backfill_requests(
        since: &BTreeMap<String, String>,
        include: &BTreeMap<String, String>,
    ) -> Result<Vec<BackfillRequest>, AppError> {
        include
            .keys()
            .map(|key| {
                let pair = ModulePair::from_key(key).map_err(|_| {
                    AppError::Invalid(format!(
                        "\"{key}\" is not a module pair zqsync knows. Reload the page and try again."
                    ))
                })?;
                Ok(BackfillRequest {
                    pair,
                    since: since.get(key).cloned().unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// The Sync Historical Data tab's data: locked unless the plan is annual.
#[server(endpoint = "historical_data")]
pub async fn load_history() -> Result<HistoryView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    backfills::history_view(&ctx, &session.tenant_id).await
}

/// The backfills' progress, polled while any is queued or running.
#[server(endpoint = "backfill_progress")]
pub async fn backfill_progress() -> Result<Vec<BackfillView>, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    backfills::progress(&ctx, &session.tenant_id).await
}

/// Queues a historical backfill of every ticked pair (`include[key]`) from its date
/// (`since[key]`, YYYY-MM-DD), in the directions of Sync Direction, and asks for a run.
#[server(endpoint = "start_backfill")]
pub async fn start_backfill(
    #[server(default)] since: BTreeMap<String, String>,
    #[server(default)] include: BTreeMap<String, String>,
) -> Result<Vec<BackfillView>, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = &session.tenant_id;
    crate::api::billing::require_historical_data(&ctx.db, tenant).await?;
    let plan = super::entitlements(&ctx, tenant).await?.effective;
    let directions = ctx
        .sync
        .config
        .directions(tenant)
        .await
        .map_err(super::config_error)?;
    let requests = backfills::backfill_requests(&since, &include)?;
    let today = backfills::utc_date(ctx.clock.now_millis());
    let plans = domain::settings::BackfillRequest::check_all(&requests, plan, &directions, &today)
        .map_err(|rejected| AppError::Invalid(rejected.to_string()))?;
    ctx.sync
        .backfills
        .queue(tenant, &plans)
        .await
        .map_err(|e| match e {
            engine::sync::backfill::BackfillError::BadDate(_) => AppError::Invalid(e.to_string()),
            other => internal(&other),
        })?;
    ctx.sync
        .scheduler
        .request_run(tenant)
        .await
        .map_err(|e| internal(&e))?;
    backfills::progress(&ctx, tenant).await
}

/// The label of a set of flows: "Zoho → QuickBooks", "Both ways".
pub fn flows_label(flows: &[Flow]) -> &'static str {
    match flows {
        [] => "Disabled",
        [one] => one.label(),
        _ => Direction::Bidirectional.label(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_capped_and_handles_empty_totals() {
        let mut view = BackfillView {
            pair: ModulePair::AccountsCustomers,
            flow: Flow::ZohoToQbo,
            since: "2029-01-01".into(),
            status: "Running".into(),
            active: true,
            done: 30,
            estimated_total: None,
            message: None,
        };
        assert_eq!(view.percent(), None);
        view.estimated_total = Some(120);
        assert_eq!(view.percent(), Some(25));
        view.estimated_total = Some(0);
        assert_eq!(view.percent(), Some(100));
        view.done = 500;
        view.estimated_total = Some(100);
        assert_eq!(view.percent(), Some(100));
    }
}
