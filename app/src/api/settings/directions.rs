//! The Sync Direction tab's server functions: which way each module pair flows (a pair the plan
//! does not include can be disabled but not switched on), and the Sales Orders target.

use std::collections::BTreeMap;

use domain::pairs::{ModulePair, SalesOrderTarget, SyncDirections};
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

#[cfg(feature = "ssr")]
pub(crate) use form::directions_error;

/// The submitted form read, the tab's view built, and a refused save put in words.
#[cfg(feature = "ssr")]
mod form {
    use std::collections::BTreeMap;

    use domain::pairs::{Direction, ModulePair, SalesOrderTarget, SyncDirections};
    use domain::plans::Plan;

    use super::{DirectionsView, PairEntitlement};
    use crate::error::AppError;
    use crate::ssr::internal;

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
}

/// The Sync Direction tab's data.
#[server(endpoint = "sync_directions")]
pub async fn load_directions() -> Result<DirectionsView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let plan = super::entitlements(&ctx, &session.tenant_id)
        .await?
        .effective;
    let directions = ctx
        .sync
        .config
        .directions(&session.tenant_id)
        .await
        .map_err(super::config_error)?;
    Ok(form::directions_view(plan, directions))
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
    let plan = super::entitlements(&ctx, tenant).await?.effective;
    let changes = form::parse_directions(&directions)?;
    // Switching a pair off is always allowed; switching it on needs the plan to include it.
    for (pair, direction) in &changes {
        if direction.is_enabled() {
            crate::api::billing::require_pair(&ctx.db, tenant, *pair).await?;
        }
    }
    let target = sales_orders
        .as_deref()
        .map(form::parse_sales_orders)
        .transpose()?;
    let mut stored = ctx
        .sync
        .config
        .directions(tenant)
        .await
        .map_err(super::config_error)?;
    for (pair, direction) in changes {
        stored.set(pair, direction);
    }
    if let Some(target) = target {
        stored.sales_orders = target;
    }
    ctx.sync
        .save_directions(tenant, &stored)
        .await
        .map_err(form::directions_error)?;
    crate::api::onboarding::steps::confirm(
        &ctx,
        tenant,
        engine::onboarding::Confirmed::DirectionsChosen,
    )
    .await;
    Ok(form::directions_view(plan, stored))
}

/// The form value of a Sales Orders target.
pub fn sales_orders_key(target: SalesOrderTarget) -> &'static str {
    match target {
        SalesOrderTarget::Invoice => "invoice",
        SalesOrderTarget::Estimate => "estimate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_domain_serialisation() {
        for target in [SalesOrderTarget::Invoice, SalesOrderTarget::Estimate] {
            assert_eq!(
                serde_json::to_string(&target).ok(),
                Some(format!("\"{}\"", sales_orders_key(target)))
            );
        }
    }
}
