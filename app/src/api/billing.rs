//! Server functions for plans and billing: the Change Plan page's data, plan changes, the
//! return from Stripe Checkout, and the sandbox-mode Outbox. Each starts with
//! `require_session()` and works on the session's tenant only.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the Change Plan page shows about the tenant's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// The chosen plan's key (`domain::plans::Plan::key`).
    pub plan: String,
    /// The plan whose features work now (Freemium while a payment is failing).
    pub effective_plan: String,
    /// `Some("January 16, 2030")` while the plan is in its free trial.
    pub trial_ends: Option<String>,
    /// A problem to show in a banner, with what to do.
    pub notice: Option<String>,
    /// When a trial starting today would end ("January 16, 2030"): a plan change says so
    /// before it is made.
    pub trial_would_end: String,
}

/// What the browser does after asking for a plan change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangePlanResult {
    /// Go to Stripe Checkout to give a payment method.
    Checkout(String),
    /// Done; reload the overview.
    Changed,
}

/// One sent email on the Outbox page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub delivery: String,
    /// `2030-01-01 00:00 UTC`
    pub sent_at: String,
    /// A link to this server in the body (a password reset link), shown as a link.
    pub link: Option<String>,
}

/// The banner text for a billing problem (also used by the shell).
pub fn notice_text(notice: &str, plan_label: &str) -> String {
    match notice {
        "payment_failed" => format!(
            "Payment for your {plan_label} plan failed, so only the Freemium modules sync for now. \
             Your mappings and settings are kept. Update your card, or choose a plan under Change Plan."
        ),
        _ => format!(
            "Your {plan_label} subscription was cancelled, so you are on Freemium now. Your mappings \
             and settings are kept; choose a plan under Change Plan to sync every module again."
        ),
    }
}

#[cfg(feature = "ssr")]
mod service {
    use engine::billing::{Billing, BillingError, BillingState, Notice};

    use crate::error::AppError;
    use crate::ssr::{internal, server_ctx};

    pub fn billing() -> Result<Billing, AppError> {
        server_ctx()?.billing.ok_or_else(|| {
            AppError::Invalid(
                "Plans cannot be changed on this server because Stripe is not configured. Ask your administrator to set ZQSYNC_STRIPE_SECRET_KEY."
                    .to_owned(),
            )
        })
    }

    #[allow(clippy::needless_pass_by_value)] // used as `map_err(billing_error)`
    pub fn billing_error(error: BillingError) -> AppError {
        if error.is_user_error() {
            AppError::Invalid(error.to_string())
        } else {
            internal(&error)
        }
    }

    pub fn notice_of(state: &BillingState) -> Option<String> {
        let notice = match state.notice? {
            Notice::PaymentFailed => "payment_failed",
            Notice::Canceled => "canceled",
        };
        let plan = state.notice_plan.unwrap_or(state.plan);
        Some(super::notice_text(notice, plan.label()))
    }
}

#[cfg(feature = "ssr")]
pub use service::notice_of;

/// Where the entitlement messages send people.
pub const UPGRADE_HINT: &str = "Change your plan under the user menu → Change Plan (/plan).";

/// For server functions that enable a module pair: refuses a pair the tenant's plan does not
/// include (or no longer does, after a failed payment), with a message that says how to get it.
#[cfg(feature = "ssr")]
pub async fn require_pair(
    db: &engine::Db,
    tenant_id: &str,
    pair: domain::pairs::ModulePair,
) -> Result<(), AppError> {
    let entitlements = engine::billing::entitlements(db, tenant_id)
        .await
        .map_err(|e| crate::ssr::internal(&e))?;
    entitlements
        .check_pair(pair)
        .map_err(|e| AppError::Invalid(format!("{e} {UPGRADE_HINT}")))
}

/// For server functions that start a historical backfill: needs an annual plan.
#[cfg(feature = "ssr")]
pub async fn require_historical_data(db: &engine::Db, tenant_id: &str) -> Result<(), AppError> {
    let entitlements = engine::billing::entitlements(db, tenant_id)
        .await
        .map_err(|e| crate::ssr::internal(&e))?;
    entitlements
        .check_historical_data()
        .map_err(|e| AppError::Invalid(format!("{e} {UPGRADE_HINT}")))
}

#[server(endpoint = "plan_overview")]
pub async fn plan_overview() -> Result<PlanSummary, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let billing = service::billing()?;
    let state = billing
        .state(&session.tenant_id)
        .await
        .map_err(service::billing_error)?;
    Ok(PlanSummary {
        plan: state.plan.key().to_owned(),
        effective_plan: state.effective_plan().key().to_owned(),
        trial_ends: state
            .is_trialing()
            .then_some(state.trial_end)
            .flatten()
            .map(engine::billing::format_date),
        notice: service::notice_of(&state),
        trial_would_end: engine::billing::format_date(
            ctx_clock_now()? / 1000 + i64::from(domain::plans::TRIAL_DAYS) * 86_400,
        ),
    })
}

/// The server's clock (Unix millis), for dates computed ahead.
#[cfg(feature = "ssr")]
fn ctx_clock_now() -> Result<i64, AppError> {
    Ok(crate::ssr::server_ctx()?.clock.now_millis())
}

#[server(endpoint = "change_plan")]
pub async fn change_plan(plan: String) -> Result<ChangePlanResult, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let billing = service::billing()?;
    let to = domain::plans::Plan::from_key(&plan)
        .map_err(|_| service::billing_error(engine::billing::BillingError::UnknownPlan))?;
    match billing
        .change_plan(&session.tenant_id, to)
        .await
        .map_err(service::billing_error)?
    {
        engine::billing::ChangeOutcome::Checkout { url } => Ok(ChangePlanResult::Checkout(url)),
        engine::billing::ChangeOutcome::Changed => {
            switch_off_pairs_outside(&session.tenant_id, to).await?;
            Ok(ChangePlanResult::Changed)
        }
    }
}

/// After a change to `plan`, the pairs it does not include are switched off (their mappings
/// and filters kept): a later upgrade then turns nothing on by itself.
#[cfg(feature = "ssr")]
async fn switch_off_pairs_outside(
    tenant_id: &str,
    plan: domain::plans::Plan,
) -> Result<(), AppError> {
    use domain::pairs::{Direction, ModulePair};

    use crate::ssr::*;
    let ctx = server_ctx()?;
    let mut directions = ctx
        .sync
        .config
        .directions(tenant_id)
        .await
        .map_err(|e| internal(&e))?;
    let outside: Vec<ModulePair> = ModulePair::ALL
        .into_iter()
        .filter(|p| !plan.allows(*p) && directions.get(*p).is_enabled())
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    for pair in outside {
        directions.set(pair, Direction::Disabled);
    }
    ctx.sync
        .save_directions(tenant_id, &directions)
        .await
        .map_err(crate::api::settings::directions::directions_error)
}

/// Back from Stripe Checkout with `?checkout={session id}`: adopts the new subscription at
/// once (the webhook does the same; whichever comes first wins, the other changes nothing).
#[server(endpoint = "confirm_checkout")]
pub async fn confirm_checkout(session_id: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let billing = service::billing()?;
    billing
        .confirm_checkout(&session.tenant_id, &session_id)
        .await
        .map_err(service::billing_error)
}

/// The emails sent to this tenant; only in sandbox mode, where no real mail leaves the server.
#[server(endpoint = "outbox")]
pub async fn outbox() -> Result<Vec<OutboxEntry>, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    if !ctx.sandbox_mode {
        return Err(AppError::Invalid(
            "The Outbox is only available in sandbox mode; real emails go to your inbox."
                .to_owned(),
        ));
    }
    let emails = engine::billing::mail::outbox(&ctx.db, &session.tenant_id)
        .await
        .map_err(|e| internal(&e))?;
    let ours = format!("{}/", ctx.public_url);
    Ok(emails
        .into_iter()
        .map(|e| OutboxEntry {
            link: e
                .body
                .split_whitespace()
                .find(|word| word.starts_with(&ours))
                .map(str::to_owned),
            id: e.id,
            kind: e.kind,
            recipient: e.recipient,
            subject: e.subject,
            body: e.body,
            delivery: e.delivery,
            sent_at: engine::billing::format_timestamp(e.created_at),
        })
        .collect())
}
