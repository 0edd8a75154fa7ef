//! Activate's pre-flight check (issue 14): before the integration is switched on, what the
//! first run will do — per pair and direction, how many records it would copy and from when —
//! and the checks that would make records fail, each with where to fix it. Nothing is written
//! until the user confirms; then every flow starts at the chosen time.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::pairs::{Flow, ModulePair, SyncDirections};
use domain::plans::Plan;

use super::SyncStores;
use crate::connections::ConnectionStore;

/// Where the first run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Only records created or changed from now on (the default).
    FromNow,
    /// Also those changed in the last `n` days.
    LastDays(u32),
}

impl Start {
    /// The longest look back offered (older records come with Sync Historical Data).
    pub const MAX_DAYS: u32 = 30;

    /// The start time, Unix millis.
    pub fn at(self, now_ms: i64) -> i64 {
        match self {
            Start::FromNow => now_ms,
            Start::LastDays(days) => now_ms - Duration::days(i64::from(days)).num_milliseconds(),
        }
    }
}

/// One flow the first run takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowPreview {
    pub pair: ModulePair,
    pub flow: Flow,
    /// Records changed at or after this time are copied (Unix millis).
    pub since_ms: i64,
    /// How many records that is now; `Err` says why it could not be counted.
    pub count: Result<u64, String>,
}

/// A check that would make records fail, and where to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightCheck {
    pub message: String,
    /// A page of the app: `/settings?tab=inventory`, `/?pair=…`.
    pub fix_href: String,
    pub fix_label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    pub flows: Vec<FlowPreview>,
    pub checks: Vec<PreflightCheck>,
}

/// The pairs whose records a pair's records refer to (their lookups).
fn dependencies(pair: ModulePair) -> &'static [ModulePair] {
    match pair {
        ModulePair::QuotesEstimates | ModulePair::SalesOrders | ModulePair::InvoicesInvoices => {
            &[ModulePair::AccountsCustomers, ModulePair::ProductsItems]
        }
        ModulePair::PurchaseOrders => &[ModulePair::VendorsVendors, ModulePair::ProductsItems],
        _ => &[],
    }
}

/// The runnable flows of a tenant: pairs switched on and in the plan, in sync order.
pub fn runnable_flows(plan: Plan, directions: &SyncDirections) -> Vec<(ModulePair, Flow)> {
    plan.runnable_pairs(directions)
        .into_iter()
        .flat_map(|pair| {
            directions
                .get(pair)
                .flows()
                .into_iter()
                .map(move |flow| (pair, flow))
        })
        .collect()
}

/// The checks of a tenant's setup that would make records of the first run fail.
pub async fn checks(
    stores: &SyncStores,
    tenant_id: &str,
    plan: Plan,
    directions: &SyncDirections,
) -> Result<Vec<PreflightCheck>, super::ConfigError> {
    let runnable = plan.runnable_pairs(directions);
    let mut checks = Vec::new();
    if runnable.contains(&ModulePair::ProductsItems)
        && directions
            .get(ModulePair::ProductsItems)
            .includes(Flow::ZohoToQbo)
    {
        let settings = stores.config.settings(tenant_id).await?;
        let inventory = &settings.inventory;
        if inventory.income_account.is_none()
            || inventory.expense_account.is_none()
            || inventory.asset_account.is_none()
        {
            checks.push(PreflightCheck {
                message: "Inventory Settings are not chosen: products new to QuickBooks Online cannot be created there (each becomes an Error row).".to_owned(),
                fix_href: "/settings?tab=inventory".to_owned(),
                fix_label: "Choose Inventory Settings".to_owned(),
            });
        }
    }
    for pair in &runnable {
        let (mapping, _) = stores.config.mapping(tenant_id, *pair).await?;
        let (catalogue, _) = stores.config.catalogue(tenant_id, *pair).await?;
        let report = domain::mapping::validate(&mapping, &catalogue, directions.get(*pair));
        if let Some(first) = report.errors.first() {
            checks.push(PreflightCheck {
                message: format!(
                    "The mapping of {} has {} {} (first: {})",
                    pair.label(),
                    report.errors.len(),
                    if report.errors.len() == 1 {
                        "problem"
                    } else {
                        "problems"
                    },
                    first.message
                ),
                fix_href: format!("/?pair={}", pair.key()),
                fix_label: format!("Fix the mapping of {}", pair.label()),
            });
        }
        for flow in directions.get(*pair).flows() {
            for needed in dependencies(*pair) {
                let runs = runnable.contains(needed) && directions.get(*needed).includes(flow);
                if !runs {
                    checks.push(PreflightCheck {
                        message: format!(
                            "{} runs {} but {} does not: a record that refers to one not synced yet fails.",
                            pair.label(),
                            flow.label(),
                            needed.label()
                        ),
                        fix_href: "/settings?tab=direction".to_owned(),
                        fix_label: format!("Turn {} on", needed.label()),
                    });
                }
            }
        }
    }
    Ok(checks)
}

/// The pre-flight of a tenant's first run from `start`: counts read from both systems (a
/// system that cannot be reached gives its reason instead of a count).
pub async fn preflight(
    stores: &SyncStores,
    connections: &Arc<ConnectionStore>,
    tenant_id: &str,
    plan: Plan,
    start: Start,
    now: DateTime<Utc>,
) -> Result<Preflight, super::ConfigError> {
    let directions = stores.config.directions(tenant_id).await?;
    let since_ms = start.at(now.timestamp_millis());
    let since = DateTime::from_timestamp_millis(since_ms).unwrap_or(now);
    let mut flows = Vec::new();
    let zoho = connections.zoho_client(tenant_id).await;
    let qbo = connections.qbo_client(tenant_id).await;
    for (pair, flow) in runnable_flows(plan, &directions) {
        let count = if start == Start::FromNow {
            Ok(0)
        } else {
            match flow {
                Flow::ZohoToQbo => match &zoho {
                    Ok(zoho) => zoho
                        .count_modified_since(pair.zoho_module().api_name(), since)
                        .await
                        .map_err(|e| e.plain_message()),
                    Err(e) => Err(e.to_string()),
                },
                Flow::QboToZoho => match &qbo {
                    Ok(qbo) => qbo
                        .count_updated_since(pair.qbo_entity(directions.sales_orders).name(), since)
                        .await
                        .map_err(|e| e.plain_message()),
                    Err(e) => Err(e.to_string()),
                },
            }
        };
        flows.push(FlowPreview {
            pair,
            flow,
            since_ms,
            count,
        });
    }
    let checks = checks(stores, tenant_id, plan, &directions).await?;
    Ok(Preflight { flows, checks })
}

/// Confirmed: every runnable flow starts at `start` (its cursor is set there), so the first
/// run copies exactly what the pre-flight showed. Flows of pairs switched on later start when
/// they are switched on ([`SyncStores::save_directions`]).
pub async fn start_flows(
    stores: &SyncStores,
    tenant_id: &str,
    plan: Plan,
    start: Start,
    now_ms: i64,
) -> Result<(), super::ConfigError> {
    let directions = stores.config.directions(tenant_id).await?;
    let flows = runnable_flows(plan, &directions);
    stores
        .links
        .start_flows_at(tenant_id, &flows, start.at(now_ms))
        .await?;
    Ok(())
}
