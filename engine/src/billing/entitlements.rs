//! What a tenant's billing allows now: the plan and subscription state as stored, and the
//! entitlements every gate asks (`runnable_pairs`, `check_pair`, `check_historical_data`).

#[allow(clippy::wildcard_imports)] // the parent module's types and helpers
use super::*;

/// A tenant's billing as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingState {
    /// The plan chosen (what the subscription is for).
    pub plan: Plan,
    /// Stripe's status of the current subscription, or `none` / `canceled`.
    pub status: String,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
    /// Unix seconds.
    pub trial_end: Option<i64>,
    pub notice: Option<Notice>,
    /// The plan the notice is about.
    pub notice_plan: Option<Plan>,
}

impl BillingState {
    /// What the tenant may use now: a paid plan only while its subscription is trialing or
    /// active; otherwise (payment failed, cancelled) Freemium.
    pub fn effective_plan(&self) -> Plan {
        if self.plan.is_paid() && matches!(self.status.as_str(), "trialing" | "active") {
            self.plan
        } else {
            Plan::Freemium
        }
    }

    pub fn is_trialing(&self) -> bool {
        self.plan.is_paid() && self.status == "trialing"
    }
}

/// The server-side entitlement checks (SPEC §8: enforced on the server, not only hidden in the
/// UI). The sync engine asks [`Entitlements::runnable_pairs`] which pairs to run; server
/// functions call the `check_*` methods before enabling a pair or starting a backfill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlements {
    pub plan: Plan,
    pub effective: Plan,
}

impl Entitlements {
    pub fn check_pair(&self, pair: ModulePair) -> Result<(), EntitlementError> {
        self.effective.check_pair(pair)
    }

    /// A historical backfill needs an annual plan.
    pub fn check_historical_data(&self) -> Result<(), EntitlementError> {
        self.effective.check_historical_data()
    }

    /// Enabled pairs the plan allows; gated pairs keep their settings but never run.
    pub fn runnable_pairs(&self, directions: &SyncDirections) -> Vec<ModulePair> {
        self.effective.runnable_pairs(directions)
    }
}

/// The entitlements of a tenant, from the database alone (no Stripe call).
pub async fn entitlements(db: &Db, tenant_id: &str) -> Result<Entitlements, sqlx::Error> {
    let state = load_state(db, tenant_id).await?;
    Ok(Entitlements {
        plan: state.plan,
        effective: state.effective_plan(),
    })
}

pub(super) type StateRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// A tenant's billing state; a tenant that never touched billing is on Freemium.
pub async fn load_state(db: &Db, tenant_id: &str) -> Result<BillingState, sqlx::Error> {
    let row: Option<StateRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT t.plan, b.status, b.subscription_id, b.stripe_customer_id, b.trial_end, \
             b.notice, b.notice_plan \
             FROM tenants t LEFT JOIN billing_accounts b ON b.tenant_id = t.id WHERE t.id = $1",
        )
        .bind(tenant_id)
        .fetch_optional(pool)
        .await?
    });
    let Some((plan, status, subscription_id, customer_id, trial_end, notice, notice_plan)) = row
    else {
        return Err(sqlx::Error::RowNotFound);
    };
    Ok(BillingState {
        plan: Plan::from_key(&plan).unwrap_or_default(),
        status: status.unwrap_or_else(|| "none".to_owned()),
        subscription_id,
        customer_id,
        trial_end,
        notice: notice.as_deref().and_then(Notice::from_key),
        notice_plan: notice_plan.as_deref().and_then(|p| Plan::from_key(p).ok()),
    })
}
