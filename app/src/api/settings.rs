//! Server functions behind the Settings tabs Sync Direction, Sync Historical Data, Inventory
//! Settings and Schedule. Each starts with `require_session()` and reads or writes the session's
//! tenant only. Entitlements are checked here, on the server: a pair the plan does not include
//! cannot be switched on, and a backfill needs an annual plan, whatever the page shows.

use std::collections::BTreeMap;

use domain::pairs::{Direction, Flow, ModulePair, SalesOrderTarget, SyncDirections};
use domain::settings::{ConflictPolicy, InventorySettings, ItemTypes};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The Sync Direction tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectionsView {
    /// The label of the plan whose entitlements apply now.
    pub plan: String,
    pub directions: SyncDirections,
    /// Pairs in sync order, each with why it is locked (not in the plan) if it is.
    pub pairs: Vec<PairEntitlement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairEntitlement {
    pub pair: ModulePair,
    /// `Some("Standard (monthly)")`: the cheapest plan that includes this locked pair.
    pub locked_until: Option<String>,
    pub locked: bool,
}

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

/// A ledger account a picker offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOption {
    pub id: String,
    pub name: String,
}

/// The Inventory Settings tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryView {
    /// Why the QuickBooks accounts could not be listed (e.g. not connected), with what to do.
    pub accounts_problem: Option<String>,
    pub income: Vec<AccountOption>,
    pub expense: Vec<AccountOption>,
    pub asset: Vec<AccountOption>,
    pub inventory: InventorySettings,
    pub item_types: ItemTypes,
}

/// The Schedule tab: the form's values and the run status beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub interval_minutes: u32,
    pub conflict_policy: ConflictPolicy,
    #[serde(flatten)]
    pub status: crate::api::run_status::RunStatusView,
}

#[cfg(feature = "ssr")]
pub(crate) use backend::directions_error;

#[cfg(feature = "ssr")]
mod backend {
    use std::collections::BTreeMap;

    use domain::pairs::{Direction, ModulePair, SalesOrderTarget, SyncDirections};
    use domain::plans::Plan;
    use domain::settings::{AccountRef, BackfillRequest};
    use engine::billing::Entitlements;
    use engine::sync::{AccountChoice, AccountKind, BackfillProgress, BackfillStatus};

    use super::{
        AccountOption, BackfillView, DirectionsView, HistoryPair, HistoryView, InventoryView,
        PairEntitlement, ScheduleView,
    };
    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    pub async fn entitlements(ctx: &ServerCtx, tenant_id: &str) -> Result<Entitlements, AppError> {
        engine::billing::entitlements(&ctx.db, tenant_id)
            .await
            .map_err(|e| internal(&e))
    }

    #[allow(clippy::needless_pass_by_value)] // used as `map_err(config_error)`
    pub fn config_error(error: engine::sync::ConfigError) -> AppError {
        internal(&error)
    }

    #[allow(clippy::needless_pass_by_value)] // used as `map_err(directions_error)`
    pub fn directions_error(error: engine::sync::DirectionsError) -> AppError {
        match error {
            engine::sync::DirectionsError::Conflict(message) => AppError::Invalid(message),
            engine::sync::DirectionsError::Config(error) => internal(&error),
        }
    }

    pub fn directions_view(plan: Plan, directions: SyncDirections) -> DirectionsView {
        DirectionsView {
            plan: plan.label().to_owned(),
            pairs: ModulePair::ALL
                .into_iter()
                .map(|pair| PairEntitlement {
                    pair,
                    locked: !plan.allows(pair),
                    locked_until: (!plan.allows(pair))
                        .then(|| {
                            plan.cheapest_upgrade_for(pair)
                                .map(|p| p.label().to_owned())
                        })
                        .flatten(),
                })
                .collect(),
            directions,
        }
    }

    /// The form's `directions[pair key] = direction key` entries.
    pub fn parse_directions(
        submitted: &BTreeMap<String, String>,
    ) -> Result<Vec<(ModulePair, Direction)>, AppError> {
        let mut changes = Vec::new();
        for (key, value) in submitted {
            let pair = ModulePair::from_key(key).map_err(|_| {
                AppError::Invalid(format!(
                    "\"{key}\" is not a module pair zqsync knows. Reload the page and try again."
                ))
            })?;
            let direction = Direction::from_key(value).ok_or_else(|| {
                AppError::Invalid(format!(
                    "Choose Zoho → QuickBooks, QuickBooks → Zoho, Bi-Directional or Disable for {} (\"{value}\" is none of them).",
                    pair.label()
                ))
            })?;
            changes.push((pair, direction));
        }
        Ok(changes)
    }

    pub fn parse_sales_orders(text: &str) -> Result<SalesOrderTarget, AppError> {
        match text {
            "invoice" => Ok(SalesOrderTarget::Invoice),
            "estimate" => Ok(SalesOrderTarget::Estimate),
            other => Err(AppError::Invalid(format!(
                "Sales Orders can become QuickBooks Invoices or Estimates; \"{other}\" is neither. Choose one and save again."
            ))),
        }
    }

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

    fn option(choice: &AccountChoice) -> AccountOption {
        AccountOption {
            id: choice.id.clone(),
            name: choice.name.clone(),
        }
    }

    fn of_kind(choices: &[AccountChoice], kind: AccountKind) -> Vec<AccountOption> {
        choices
            .iter()
            .filter(|c| c.kind == kind)
            .map(option)
            .collect()
    }

    /// The QuickBooks accounts by picker, or a message saying why they cannot be read.
    pub async fn accounts(
        ctx: &ServerCtx,
        tenant_id: &str,
    ) -> Result<Result<Vec<AccountChoice>, String>, AppError> {
        match engine::sync::list_accounts(&ctx.connections, tenant_id).await {
            Ok(choices) => Ok(Ok(choices)),
            Err(engine::connections::ConnectionError::NotConnected(_)) => Ok(Err(
                "QuickBooks Online is not connected, so its accounts cannot be listed. Connect it in Settings → Connections, then come back here."
                    .to_owned(),
            )),
            Err(e) if e.is_user_error() => Ok(Err(match &e {
                engine::connections::ConnectionError::Remote(remote) => remote.plain_message(),
                other => other.to_string(),
            })),
            Err(e) => Err(internal(&e)),
        }
    }

    pub async fn inventory_view(
        ctx: &ServerCtx,
        tenant_id: &str,
    ) -> Result<InventoryView, AppError> {
        let settings = ctx
            .sync
            .config
            .settings(tenant_id)
            .await
            .map_err(config_error)?;
        let (problem, choices) = match accounts(ctx, tenant_id).await? {
            Ok(choices) => (None, choices),
            Err(problem) => (Some(problem), Vec::new()),
        };
        Ok(InventoryView {
            accounts_problem: problem,
            income: of_kind(&choices, AccountKind::Income),
            expense: of_kind(&choices, AccountKind::CostOfGoodsSold),
            asset: of_kind(&choices, AccountKind::InventoryAsset),
            inventory: settings.inventory,
            item_types: settings.item_types,
        })
    }

    /// The account `id` chosen for `kind`: it must be one of the company's accounts of that kind.
    pub fn chosen_account(
        choices: &[AccountChoice],
        kind: AccountKind,
        id: &str,
    ) -> Result<AccountRef, AppError> {
        choices
            .iter()
            .find(|c| c.id == id && c.kind == kind)
            .map(|c| AccountRef {
                id: c.id.clone(),
                name: c.name.clone(),
            })
            .ok_or_else(|| {
                let what = match kind {
                    AccountKind::Income => "an income account",
                    AccountKind::CostOfGoodsSold => "a cost of goods sold account",
                    AccountKind::InventoryAsset => "an inventory asset account",
                };
                AppError::Invalid(format!(
                    "The account you chose is not {what} in your QuickBooks company (it may have been removed). Reload the page and choose again."
                ))
            })
    }

    pub async fn schedule_view(ctx: &ServerCtx, tenant_id: &str) -> Result<ScheduleView, AppError> {
        let settings = ctx
            .sync
            .config
            .settings(tenant_id)
            .await
            .map_err(config_error)?;
        Ok(ScheduleView {
            interval_minutes: settings.interval.minutes(),
            conflict_policy: settings.conflict_policy,
            status: crate::api::run_status::status::run_status(ctx, tenant_id).await?,
        })
    }
}

/// The Sync Direction tab's data.
#[server(endpoint = "sync_directions")]
pub async fn load_directions() -> Result<DirectionsView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let plan = backend::entitlements(&ctx, &session.tenant_id)
        .await?
        .effective;
    let directions = ctx
        .sync
        .config
        .directions(&session.tenant_id)
        .await
        .map_err(backend::config_error)?;
    Ok(backend::directions_view(plan, directions))
}

/// Saves Sync Direction: `directions[pair key] = direction key` for the pairs on the form
/// (pairs not on it keep their setting) and the Sales Orders target. A pair the plan does not
/// include can be disabled but not switched on; nothing is saved when any line is refused.
#[server(endpoint = "save_sync_directions")]
pub async fn save_sync_directions(
    #[server(default)] directions: BTreeMap<String, String>,
    sales_orders: Option<String>,
) -> Result<DirectionsView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = &session.tenant_id;
    let plan = backend::entitlements(&ctx, tenant).await?.effective;
    let changes = backend::parse_directions(&directions)?;
    // Switching a pair off is always allowed; switching it on needs the plan to include it.
    for (pair, direction) in &changes {
        if direction.is_enabled() {
            crate::api::billing::require_pair(&ctx.db, tenant, *pair).await?;
        }
    }
    let target = sales_orders
        .as_deref()
        .map(backend::parse_sales_orders)
        .transpose()?;
    let mut stored = ctx
        .sync
        .config
        .directions(tenant)
        .await
        .map_err(backend::config_error)?;
    for (pair, direction) in changes {
        stored.set(pair, direction);
    }
    if let Some(target) = target {
        stored.sales_orders = target;
    }
    ctx.sync
        .save_directions(tenant, &stored)
        .await
        .map_err(backend::directions_error)?;
    crate::api::onboarding::steps::confirm(
        &ctx,
        tenant,
        engine::onboarding::Confirmed::DirectionsChosen,
    )
    .await;
    Ok(backend::directions_view(plan, stored))
}

/// The Sync Historical Data tab's data: locked unless the plan is annual.
#[server(endpoint = "historical_data")]
pub async fn load_history() -> Result<HistoryView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    backend::history_view(&ctx, &session.tenant_id).await
}

/// The backfills' progress, polled while any is queued or running.
#[server(endpoint = "backfill_progress")]
pub async fn backfill_progress() -> Result<Vec<BackfillView>, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    backend::progress(&ctx, &session.tenant_id).await
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
    let plan = backend::entitlements(&ctx, tenant).await?.effective;
    let directions = ctx
        .sync
        .config
        .directions(tenant)
        .await
        .map_err(backend::config_error)?;
    let requests = backend::backfill_requests(&since, &include)?;
    let today = backend::utc_date(ctx.clock.now_millis());
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
    backend::progress(&ctx, tenant).await
}

/// The Inventory Settings tab's data: the saved choices and the QuickBooks company's accounts.
#[server(endpoint = "inventory_settings")]
pub async fn load_inventory() -> Result<InventoryView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    backend::inventory_view(&ctx, &session.tenant_id).await
}

/// Saves Inventory Settings. The three accounts (QBO account ids; empty = not chosen) are
/// applied only when `with_accounts` is present: the form leaves the pickers, and that flag,
/// out while QuickBooks cannot list its accounts, and the saved choices then stay as they are.
/// `service` / `non_inventory` are checkboxes: present means allowed.
#[server(endpoint = "save_inventory_settings")]
pub async fn save_inventory_settings(
    with_accounts: Option<String>,
    #[server(default)] income_account: String,
    #[server(default)] expense_account: String,
    #[server(default)] asset_account: String,
    service: Option<String>,
    non_inventory: Option<String>,
) -> Result<InventoryView, AppError> {
    use engine::sync::AccountKind;

    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = &session.tenant_id;
    let mut settings = ctx
        .sync
        .config
        .settings(tenant)
        .await
        .map_err(backend::config_error)?;
    if with_accounts.is_some() {
        let wanted = [
            (AccountKind::Income, income_account.trim()),
            (AccountKind::CostOfGoodsSold, expense_account.trim()),
            (AccountKind::InventoryAsset, asset_account.trim()),
        ];
        let choices = if wanted.iter().any(|(_, id)| !id.is_empty()) {
            backend::accounts(&ctx, tenant)
                .await?
                .map_err(AppError::Invalid)?
        } else {
            Vec::new()
        };
        for (kind, id) in wanted {
            let chosen = if id.is_empty() {
                None
            } else {
                Some(backend::chosen_account(&choices, kind, id)?)
            };
            let slot = match kind {
                AccountKind::Income => &mut settings.inventory.income_account,
                AccountKind::CostOfGoodsSold => &mut settings.inventory.expense_account,
                AccountKind::InventoryAsset => &mut settings.inventory.asset_account,
            };
            *slot = chosen;
        }
    }
    settings.item_types = ItemTypes {
        service: service.is_some(),
        non_inventory: non_inventory.is_some(),
    };
    ctx.sync
        .config
        .save_settings(tenant, &settings)
        .await
        .map_err(backend::config_error)?;
    backend::inventory_view(&ctx, tenant).await
}

/// The Schedule tab's data: interval, conflict policy, and the scheduler's state.
#[server(endpoint = "sync_schedule")]
pub async fn load_schedule() -> Result<ScheduleView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    backend::schedule_view(&ctx, &session.tenant_id).await
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
        .map_err(backend::config_error)?;
    settings.interval = interval;
    settings.conflict_policy = policy;
    ctx.sync
        .config
        .save_settings(tenant, &settings)
        .await
        .map_err(backend::config_error)?;
    ctx.sync
        .scheduler
        .set_interval(tenant, std::time::Duration::from_secs(interval.seconds()))
        .await
        .map_err(|e| internal(&e))?;
    backend::schedule_view(&ctx, tenant).await
}

/// The storage key of a conflict policy (its serde name), as the form sends it.
pub fn policy_key(policy: ConflictPolicy) -> &'static str {
    match policy {
        ConflictPolicy::QboWins => "qbo_wins",
        ConflictPolicy::ZohoWins => "zoho_wins",
        ConflictPolicy::NewestWins => "newest_wins",
    }
}

/// The form value of a Sales Orders target.
pub fn sales_orders_key(target: SalesOrderTarget) -> &'static str {
    match target {
        SalesOrderTarget::Invoice => "invoice",
        SalesOrderTarget::Estimate => "estimate",
    }
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
    fn keys_match_the_domain_serialisation() {
        for policy in ConflictPolicy::ALL {
            assert_eq!(
                serde_json::to_string(&policy).ok(),
                Some(format!("\"{}\"", policy_key(policy)))
            );
        }
        for target in [SalesOrderTarget::Invoice, SalesOrderTarget::Estimate] {
            assert_eq!(
                serde_json::to_string(&target).ok(),
                Some(format!("\"{}\"", sales_orders_key(target)))
            );
        }
    }

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
