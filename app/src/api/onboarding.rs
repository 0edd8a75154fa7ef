//! The "Get started" checklist (issue 14): what a new tenant does before the first sync, in
//! order — connect both systems, review the mapping, Inventory Settings, the directions, then
//! the pre-flight and Activate. Each step ticks itself off from the tenant's real state (or,
//! for the two that are a person's judgement, from their confirmation); when all are done the
//! list goes away for good.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One step of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub key: String,
    pub title: String,
    pub detail: String,
    pub done: bool,
    /// Where the step is done.
    pub href: String,
    pub action: String,
    /// A step only the person can call done: the label of the button that says so.
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetStartedView {
    /// Empty once the whole list was done.
    pub steps: Vec<StepView>,
    /// Both systems are connected: the mapping table can show their fields.
    pub both_connected: bool,
}

impl GetStartedView {
    pub fn done_count(&self) -> usize {
        self.steps.iter().filter(|s| s.done).count()
    }
}

#[cfg(feature = "ssr")]
pub mod steps {
    use domain::pairs::{Flow, ModulePair};
    use engine::connections::Provider;
    use engine::onboarding::{Confirmed, OnboardingStore};

    use super::{GetStartedView, StepView};
    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    pub fn store(ctx: &ServerCtx) -> OnboardingStore {
        OnboardingStore::new(ctx.db.clone(), ctx.clock.clone())
    }

    /// Records a confirmation; a failure is logged, never shown (the list is a convenience).
    pub async fn confirm(ctx: &ServerCtx, tenant_id: &str, step: Confirmed) {
        if let Err(error) = store(ctx).confirm(tenant_id, step).await {
            tracing::warn!(%error, "could not record an onboarding step");
        }
    }

    pub async fn both_connected(ctx: &ServerCtx, tenant_id: &str) -> Result<bool, AppError> {
        let connections = ctx
            .connections
            .tenant_connections(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        Ok([Provider::Zoho, Provider::Qbo]
            .into_iter()
            .all(|p| connections.iter().any(|c| c.provider == p)))
    }

    pub async fn view(ctx: &ServerCtx, tenant_id: &str) -> Result<GetStartedView, AppError> {
        let connections = ctx
            .connections
            .tenant_connections(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let has = |p: Provider| connections.iter().any(|c| c.provider == p);
        let (zoho, qbo) = (has(Provider::Zoho), has(Provider::Qbo));
        let confirmed = store(ctx)
            .confirmed(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        if confirmed.contains(&Confirmed::Finished) {
            return Ok(GetStartedView {
                steps: Vec::new(),
                both_connected: zoho && qbo,
            });
        }
        let directions = ctx
            .sync
            .config
            .directions(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let settings = ctx
            .sync
            .config
            .settings(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let inventory = &settings.inventory;
        let inventory_needed = directions
            .get(ModulePair::ProductsItems)
            .includes(Flow::ZohoToQbo);
        let inventory_chosen = inventory.income_account.is_some()
            && inventory.expense_account.is_some()
            && inventory.asset_account.is_some();
        let active = ctx
            .integration
            .is_active(tenant_id)
            .await
            .map_err(|e| internal(&e))?;
        let step =
            |key: &str, title: &str, detail: &str, done: bool, href: &str, action: &str| StepView {
                key: key.to_owned(),
                title: title.to_owned(),
                detail: detail.to_owned(),
                done,
                href: href.to_owned(),
                action: action.to_owned(),
                confirm: None,
            };
        let steps = vec![
            step(
                "connect_zoho",
                "Connect Zoho CRM",
                "Sign in to Zoho and allow zqsync to read and write your CRM records.",
                zoho,
                "/settings?tab=connections",
                "Connect Zoho CRM",
            ),
            step(
                "connect_qbo",
                "Connect QuickBooks Online",
                "Sign in to Intuit and choose the company zqsync may read and write.",
                qbo,
                "/quickbooks",
                "Connect QuickBooks",
            ),
            StepView {
                confirm: Some("The mapping looks right".to_owned()),
                ..step(
                    "mapping_reviewed",
                    "Review the mapping",
                    "Which Zoho CRM field fills each QuickBooks field. The defaults fit most companies; change what does not fit yours.",
                    confirmed.contains(&Confirmed::MappingReviewed),
                    "/",
                    "Review the mapping",
                )
            },
            step(
                "inventory",
                "Choose Inventory Settings",
                if inventory_needed {
                    "The QuickBooks accounts that products new to QuickBooks are booked to."
                } else {
                    "Not needed: products do not go from Zoho CRM to QuickBooks."
                },
                inventory_chosen || !inventory_needed,
                "/settings?tab=inventory",
                "Choose accounts",
            ),
            StepView {
                confirm: Some("Keep these directions".to_owned()),
                ..step(
                    "directions_chosen",
                    "Choose the sync directions",
                    "Customers and products flow both ways by default; quotes, orders and invoices stay off until you turn them on.",
                    confirmed.contains(&Confirmed::DirectionsChosen),
                    "/settings?tab=direction",
                    "Choose directions",
                )
            },
            step(
                "activate",
                "Check the first sync, then activate",
                "See what the first sync would copy and what would fail, choose where it starts, and switch the integration on.",
                active,
                "/quickbooks",
                "Activate",
            ),
        ];
        if steps.iter().all(|s| s.done) {
            confirm(ctx, tenant_id, Confirmed::Finished).await;
        }
        Ok(GetStartedView {
            steps,
            both_connected: zoho && qbo,
        })
    }
}

/// The checklist for the session's tenant (empty once it was done).
#[server(endpoint = "get_started")]
pub async fn get_started() -> Result<GetStartedView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    steps::view(&ctx, &session.tenant_id).await
}

/// A person's "done" on a step only they can judge: `mapping_reviewed` or `directions_chosen`.
#[server(endpoint = "confirm_get_started_step")]
pub async fn confirm_get_started_step(step: String) -> Result<GetStartedView, AppError> {
    use engine::onboarding::Confirmed;

    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let confirmed = match step.as_str() {
        "mapping_reviewed" => Confirmed::MappingReviewed,
        "directions_chosen" => Confirmed::DirectionsChosen,
        _ => {
            return Err(AppError::Invalid(format!(
                "\"{step}\" is not a step you confirm yourself; reload the page."
            )));
        }
    };
    steps::store(&ctx)
        .confirm(&session.tenant_id, confirmed)
        .await
        .map_err(|e| internal(&e))?;
    steps::view(&ctx, &session.tenant_id).await
}
