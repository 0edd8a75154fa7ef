//! Plans and billing (SPEC §8): plan changes through Stripe, Checkout for leaving Freemium,
//! webhooks that keep each tenant's plan true, the two emails of every change, and the
//! entitlement checks the sync engine and server functions call.
//!
//! The plan table itself is `domain::plans`. Here:
//! * [`Billing::change_plan`]: Freemium → paid returns a Checkout URL (a card is collected,
//!   the subscription starts with a `TRIAL_DAYS` trial); paid → paid creates the new
//!   subscription with the trial, makes it current, then cancels the old one without proration;
//!   paid → Freemium cancels. Every Stripe call that changes something carries an
//!   `Idempotency-Key`.
//! * [`Billing::handle_webhook`]: signature checked, event ids deduplicated, and the state is
//!   re-read from Stripe instead of trusting the event's copy, so duplicates and events out of
//!   order end in the same state. Only events about the tenant's *current* subscription change
//!   anything: the old half of a plan change is deleted without effect.
//! * [`entitlements`]: the plan a tenant may use now. A failed payment or a cancellation by
//!   Stripe drops it to Freemium; mappings and settings of now-gated pairs are kept, they just
//!   do not run ([`Entitlements::runnable_pairs`]).

pub mod mail;
pub mod signature;
pub mod stripe_api;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::DateTime;
use domain::pairs::{ModulePair, SyncDirections};
use domain::plans::{EntitlementError, Plan, TRIAL_DAYS, format_price};
use serde_json::Value;

use crate::clock::Clock;
use crate::db::{BeginWrite, Db};
use crate::with_pool;
use mail::{Email, MailError, Mailer};
use stripe_api::{StripeApi, StripeApiError, SubscriptionInfo};

/// How billing reaches Stripe and sends mail.
#[derive(Clone)]
pub struct BillingConfig {
    pub stripe_secret_key: String,
    pub stripe_webhook_secret: String,
    /// `None`: Stripe itself. Sandbox mode and tests: the simulated Stripe's base URL.
    pub stripe_api_base: Option<String>,
    /// Create the plan table's products and prices when missing (sandbox only).
    pub create_catalog: bool,
    /// The URL people use, for Checkout's return links (`{public_url}/plan?...`).
    pub public_url: String,
    /// `smtp://…` / `smtps://…`; `None` writes emails as files under `data_dir/mail`.
    pub smtp_url: Option<String>,
    pub data_dir: PathBuf,
}

impl std::fmt::Debug for BillingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingConfig")
            .field("stripe_api_base", &self.stripe_api_base)
            .field("create_catalog", &self.create_catalog)
            .field("public_url", &self.public_url)
            .field("smtp", &self.smtp_url.is_some())
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("You are already on the {0} plan.")]
    SamePlan(&'static str),
    #[error("That plan does not exist. Choose one of the plans on the Change Plan page.")]
    UnknownPlan,
    #[error(
        "The payment page was not completed, so your plan did not change. Choose Upgrade again to retry."
    )]
    CheckoutIncomplete,
    #[error("That payment page belongs to another account. Choose Upgrade to start your own.")]
    CheckoutNotYours,
    #[error("Stripe: {0}")]
    Stripe(#[from] StripeApiError),
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("the tenant {0} has no owner")]
    NoOwner(String),
}

impl BillingError {
    /// Messages about the user's request (shown) rather than faults on our side (logged).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Self::SamePlan(_)
                | Self::UnknownPlan
                | Self::CheckoutIncomplete
                | Self::CheckoutNotYours
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid webhook signature: {0}")]
    Signature(#[from] signature::SignatureError),
    #[error("the webhook body is not a Stripe event")]
    Body,
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl From<sqlx::Error> for WebhookError {
    fn from(error: sqlx::Error) -> Self {
        Self::Billing(BillingError::Storage(error))
    }
}

/// What a webhook delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Processed,
    /// Seen before: answered 200, nothing done.
    Duplicate,
}

/// Why the banner shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    PaymentFailed,
    Canceled,
}

impl Notice {
    fn key(self) -> &'static str {
        match self {
            Self::PaymentFailed => "payment_failed",
            Self::Canceled => "canceled",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        match key {
            "payment_failed" => Some(Self::PaymentFailed),
            "canceled" => Some(Self::Canceled),
            _ => None,
        }
    }
}

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

type StateRow = (
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

/// How a plan change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Leaving Freemium: send the browser to this Stripe Checkout page.
    Checkout { url: String },
    /// Changed at once (paid → paid, or to Freemium).
    Changed,
}

/// `December 10, 2030` for a Unix-seconds timestamp.
pub fn format_date(unix_secs: i64) -> String {
    DateTime::from_timestamp(unix_secs, 0)
        .map(|d| d.format("%B %-d, %Y").to_string())
        .unwrap_or_default()
}

/// `2030-01-01 00:00 UTC` for Unix milliseconds.
pub fn format_timestamp(unix_millis: i64) -> String {
    DateTime::from_timestamp_millis(unix_millis)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn billing_period(plan: Plan) -> &'static str {
    match plan.interval() {
        Some(domain::plans::BillingInterval::Year) => "year",
        _ => "month",
    }
}

/// The cancellation email of `plan`.
pub fn cancellation_email(to: &str, company: &str, plan: Plan, subscription_id: &str) -> Email {
    Email {
        kind: "plan_cancelled",
        dedupe_key: format!("cancel-{subscription_id}"),
        to: to.to_owned(),
        subject: format!("Your zqsync {} plan has been cancelled", plan.label()),
        body: format!(
            "Hello {company},\n\nyour {plan} subscription to zqsync has been cancelled. You will not be \
             charged for it again, and no prorated charge or credit applies.\n\nYour mappings and \
             settings are kept. Module pairs your plan no longer includes simply stop syncing; \
             change your plan at any time under the user menu → Change Plan.\n\n— zqsync billing\n",
            plan = plan.label()
        ),
    }
}

/// The start email of `plan`, with its trial end date.
pub fn start_email(
    to: &str,
    company: &str,
    plan: Plan,
    subscription_id: &str,
    trial_end: Option<i64>,
) -> Email {
    let ends = trial_end.map_or_else(|| "soon".to_owned(), format_date);
    Email {
        kind: "plan_started",
        dedupe_key: format!("start-{subscription_id}"),
        to: to.to_owned(),
        subject: format!(
            "Your zqsync {} plan has started: free trial until {ends}",
            plan.label()
        ),
        body: format!(
            "Hello {company},\n\nyour {plan} plan has started with a {TRIAL_DAYS}-day free trial. \
             The trial ends on {ends}; from then on your card is charged {price} per {period}.\n\n\
             Your plan now syncs: {pairs}.{history}\n\n— zqsync billing\n",
            plan = plan.label(),
            price = format_price(plan.price_cents()),
            period = billing_period(plan),
            pairs = plan
                .pairs()
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", "),
            history = if plan.allows_historical_data() {
                " Historical Data is included."
            } else {
                ""
            },
        ),
    }
}

fn payment_failed_email(to: &str, company: &str, plan: Plan, invoice_id: &str) -> Email {
    Email {
        kind: "payment_failed",
        dedupe_key: format!("payment-failed-{invoice_id}"),
        to: to.to_owned(),
        subject: format!("Payment for your zqsync {} plan failed", plan.label()),
        body: format!(
            "Hello {company},\n\nwe could not charge your card for the {plan} plan. Until the payment \
             goes through, zqsync syncs only what the Freemium plan includes; your mappings and \
             settings are kept.\n\nUpdate your card with your bank or choose another plan under \
             the user menu → Change Plan.\n\n— zqsync billing\n",
            plan = plan.label()
        ),
    }
}

fn trial_ending_email(
    to: &str,
    company: &str,
    plan: Plan,
    subscription_id: &str,
    trial_end: Option<i64>,
) -> Email {
    let ends = trial_end.map_or_else(|| "soon".to_owned(), format_date);
    Email {
        kind: "trial_ending",
        dedupe_key: format!("trial-ending-{subscription_id}"),
        to: to.to_owned(),
        subject: format!("Your zqsync {} trial ends on {ends}", plan.label()),
        body: format!(
            "Hello {company},\n\nyour free trial of the {plan} plan ends on {ends}. After that your \
             card is charged {price} per {period}. To stay on Freemium instead, change your plan \
             before then under the user menu → Change Plan.\n\n— zqsync billing\n",
            plan = plan.label(),
            price = format_price(plan.price_cents()),
            period = billing_period(plan),
        ),
    }
}

/// Subscription statuses whose payment is in trouble.
fn payment_problem(status: &str) -> bool {
    matches!(status, "past_due" | "unpaid" | "incomplete" | "paused")
}

#[derive(Clone)]
pub struct Billing {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: Arc<dyn Clock>,
    stripe: StripeApi,
    mailer: Mailer,
    webhook_secret: String,
    public_url: String,
}

impl std::fmt::Debug for Billing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Billing")
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

impl Billing {
    /// Sets up the Stripe client and the mailer; in sandbox mode also creates the catalog.
    pub async fn start(
        config: &BillingConfig,
        db: Db,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, BillingError> {
        let stripe = StripeApi::new(&config.stripe_secret_key, config.stripe_api_base.as_deref())?;
        if config.create_catalog {
            stripe.ensure_catalog().await?;
        }
        let mailer = Mailer::new(
            config.smtp_url.as_deref(),
            &config.data_dir,
            db.clone(),
            clock.clone(),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                stripe,
                mailer,
                webhook_secret: config.stripe_webhook_secret.clone(),
                public_url: config.public_url.trim_end_matches('/').to_owned(),
            }),
        })
    }

    pub fn mailer(&self) -> &Mailer {
        &self.inner.mailer
    }

    pub fn stripe(&self) -> &StripeApi {
        &self.inner.stripe
    }

    pub async fn state(&self, tenant_id: &str) -> Result<BillingState, BillingError> {
        Ok(load_state(&self.inner.db, tenant_id).await?)
    }

    async fn owner(&self, tenant_id: &str) -> Result<(String, String), BillingError> {
        let row: Option<(String, String)> = with_pool!(&self.inner.db, pool => {
            sqlx::query_as(
                "SELECT u.email, t.company_name FROM users u JOIN tenants t ON t.id = u.tenant_id \
                 WHERE u.tenant_id = $1 ORDER BY u.created_at LIMIT 1",
            )
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?
        });
        row.ok_or_else(|| BillingError::NoOwner(tenant_id.to_owned()))
    }

    async fn ensure_customer(&self, tenant_id: &str) -> Result<String, BillingError> {
        let state = self.state(tenant_id).await?;
        if let Some(id) = state.customer_id {
            return Ok(id);
        }
        let (email, company) = self.owner(tenant_id).await?;
        let customer = self
            .inner
            .stripe
            .create_customer(tenant_id, &email, &company)
            .await?;
        let now = self.inner.clock.now_millis();
        with_pool!(&self.inner.db, pool => {
            sqlx::query(
                "INSERT INTO billing_accounts (tenant_id, stripe_customer_id, status, updated_at) \
                 VALUES ($1, $2, 'none', $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET stripe_customer_id = excluded.stripe_customer_id, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(&customer)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(customer)
    }

    /// Moves a tenant to `to` (SPEC §8). See the module documentation for the steps.
    pub async fn change_plan(
        &self,
        tenant_id: &str,
        to: Plan,
    ) -> Result<ChangeOutcome, BillingError> {
        let state = self.state(tenant_id).await?;
        let from = state.plan;
        if from == to {
            return Err(BillingError::SamePlan(to.label()));
        }
        let change = from.change_to(to);
        let change_id = uuid::Uuid::now_v7().simple().to_string();
        if change.needs_payment_method {
            let customer = self.ensure_customer(tenant_id).await?;
            let base = &self.inner.public_url;
            let url = self
                .inner
                .stripe
                .create_checkout(
                    tenant_id,
                    &customer,
                    to,
                    TRIAL_DAYS,
                    &format!("{base}/plan?checkout={{CHECKOUT_SESSION_ID}}"),
                    &format!("{base}/plan?checkout=cancelled"),
                    &format!("checkout-{tenant_id}-{change_id}"),
                )
                .await?;
            tracing::info!(tenant_id, to = to.key(), "checkout started");
            return Ok(ChangeOutcome::Checkout { url });
        }
        let (email, company) = self.owner(tenant_id).await?;
        let old = state.subscription_id.clone();
        let mut started = None;
        if change.starts_trial {
            let customer = self.ensure_customer(tenant_id).await?;
            let info = self
                .inner
                .stripe
                .create_subscription(
                    tenant_id,
                    &customer,
                    to,
                    TRIAL_DAYS,
                    &format!("subscribe-{tenant_id}-{change_id}"),
                )
                .await?;
            // The new subscription becomes current *before* the old one is cancelled, so the
            // old one's `customer.subscription.deleted` finds it non-current and changes nothing.
            self.set_current(tenant_id, to, &info).await?;
            started = Some(info);
        } else {
            self.set_freemium(tenant_id, None).await?;
        }
        if change.cancels_subscription
            && let Some(old) = &old
        {
            match self.inner.stripe.cancel_subscription(old).await {
                Ok(_) => {}
                // Already cancelled (by Stripe, or a retried change): nothing left to do.
                Err(StripeApiError::Api { status: 404, .. }) => {}
                Err(e) => return Err(e.into()),
            }
            self.inner
                .mailer
                .send(tenant_id, &cancellation_email(&email, &company, from, old))
                .await?;
        }
        if let Some(info) = &started {
            self.inner
                .mailer
                .send(
                    tenant_id,
                    &start_email(&email, &company, to, &info.id, info.trial_end),
                )
                .await?;
        }
        tracing::info!(tenant_id, from = from.key(), to = to.key(), "plan changed");
        Ok(ChangeOutcome::Changed)
    }

    async fn set_current(
        &self,
        tenant_id: &str,
        plan: Plan,
        info: &SubscriptionInfo,
    ) -> Result<(), BillingError> {
        let now = self.inner.clock.now_millis();
        with_pool!(&self.inner.db, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO billing_accounts \
                 (tenant_id, stripe_customer_id, subscription_id, status, trial_end, notice, notice_plan, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6) \
                 ON CONFLICT (tenant_id) DO UPDATE SET subscription_id = excluded.subscription_id, \
                 status = excluded.status, trial_end = excluded.trial_end, notice = NULL, \
                 notice_plan = NULL, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(&info.customer_id)
            .bind(&info.id)
            .bind(&info.status)
            .bind(info.trial_end)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE tenants SET plan = $1 WHERE id = $2")
                .bind(plan.key())
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Back to Freemium; `notice` says why when it was not the user's choice.
    async fn set_freemium(
        &self,
        tenant_id: &str,
        notice: Option<(Notice, Plan)>,
    ) -> Result<(), BillingError> {
        let now = self.inner.clock.now_millis();
        let (status, notice_key, notice_plan) = match notice {
            Some((n, plan)) => ("canceled", Some(n.key()), Some(plan.key())),
            None => ("none", None, None),
        };
        with_pool!(&self.inner.db, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO billing_accounts (tenant_id, status, notice, notice_plan, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id) DO UPDATE SET subscription_id = NULL, status = excluded.status, \
                 trial_end = NULL, notice = excluded.notice, notice_plan = excluded.notice_plan, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(status)
            .bind(notice_key)
            .bind(notice_plan)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE tenants SET plan = 'freemium' WHERE id = $1")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The browser is back from Checkout: adopt the session's subscription now rather than
    /// wait for the webhook (both paths are idempotent).
    pub async fn confirm_checkout(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<(), BillingError> {
        let session = self.inner.stripe.checkout_session(session_id).await?;
        if session.tenant_id.as_deref() != Some(tenant_id) {
            return Err(BillingError::CheckoutNotYours);
        }
        let (true, Some(subscription)) = (session.complete, session.subscription_id) else {
            return Err(BillingError::CheckoutIncomplete);
        };
        self.adopt_subscription(tenant_id, &subscription).await
    }

    /// Makes a subscription from Checkout the tenant's current one, unless the tenant already
    /// has another (a late event from an older checkout) or it has ended meanwhile.
    async fn adopt_subscription(
        &self,
        tenant_id: &str,
        subscription_id: &str,
    ) -> Result<(), BillingError> {
        let info = self.inner.stripe.subscription(subscription_id).await?;
        if info.tenant_id.as_deref().is_some_and(|t| t != tenant_id) {
            return Err(BillingError::CheckoutNotYours);
        }
        let Some(plan) = info.plan else {
            tracing::warn!(
                tenant_id,
                subscription_id,
                "checkout subscription has a price that is not ours"
            );
            return Ok(());
        };
        if matches!(info.status.as_str(), "canceled" | "incomplete_expired") {
            return Ok(());
        }
        let now = self.inner.clock.now_millis();
        let adopted = with_pool!(&self.inner.db, pool => {
            let mut tx = pool.begin_write().await?;
            let adopted = sqlx::query(
                "INSERT INTO billing_accounts \
                 (tenant_id, stripe_customer_id, subscription_id, status, trial_end, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id) DO UPDATE SET subscription_id = excluded.subscription_id, \
                 stripe_customer_id = excluded.stripe_customer_id, status = excluded.status, \
                 trial_end = excluded.trial_end, notice = NULL, notice_plan = NULL, \
                 updated_at = excluded.updated_at \
                 WHERE billing_accounts.subscription_id IS NULL \
                 OR billing_accounts.subscription_id = excluded.subscription_id",
            )
            .bind(tenant_id)
            .bind(&info.customer_id)
            .bind(&info.id)
            .bind(&info.status)
            .bind(info.trial_end)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if adopted > 0 {
                sqlx::query("UPDATE tenants SET plan = $1 WHERE id = $2")
                    .bind(plan.key())
                    .bind(tenant_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            adopted
        });
        if adopted > 0 {
            let (email, company) = self.owner(tenant_id).await?;
            self.inner
                .mailer
                .send(
                    tenant_id,
                    &start_email(&email, &company, plan, &info.id, info.trial_end),
                )
                .await?;
            tracing::info!(
                tenant_id,
                plan = plan.key(),
                "subscription from checkout adopted"
            );
        }
        Ok(())
    }

    /// The tenant whose *current* subscription this is, with its plan.
    async fn current_owner_of(
        &self,
        subscription_id: &str,
    ) -> Result<Option<(String, Plan)>, BillingError> {
        let row: Option<(String, String)> = with_pool!(&self.inner.db, pool => {
            sqlx::query_as(
                "SELECT b.tenant_id, t.plan FROM billing_accounts b JOIN tenants t ON t.id = b.tenant_id \
                 WHERE b.subscription_id = $1",
            )
            .bind(subscription_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(tenant, plan)| (tenant, Plan::from_key(&plan).unwrap_or_default())))
    }

    async fn tenant_of_customer(&self, customer_id: &str) -> Result<Option<String>, BillingError> {
        Ok(with_pool!(&self.inner.db, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT tenant_id FROM billing_accounts WHERE stripe_customer_id = $1",
            )
            .bind(customer_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Re-reads a subscription from Stripe and applies it, if it is a tenant's current one.
    /// Returns the tenant and the fresh state it applied.
    async fn sync_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<Option<(String, Plan, SubscriptionInfo)>, BillingError> {
        let Some((tenant_id, plan)) = self.current_owner_of(subscription_id).await? else {
            // Not anyone's current subscription (e.g. the old half of a plan change).
            return Ok(None);
        };
        let info = self.inner.stripe.subscription(subscription_id).await?;
        if matches!(info.status.as_str(), "canceled" | "incomplete_expired") {
            self.set_freemium(&tenant_id, Some((Notice::Canceled, plan)))
                .await?;
            let (email, company) = self.owner(&tenant_id).await?;
            self.inner
                .mailer
                .send(
                    &tenant_id,
                    &cancellation_email(&email, &company, plan, subscription_id),
                )
                .await?;
            tracing::info!(
                tenant_id,
                "current subscription ended: entitlements back to Freemium"
            );
            return Ok(Some((tenant_id, plan, info)));
        }
        let notice = payment_problem(&info.status).then_some(Notice::PaymentFailed.key());
        let notice_plan = notice.map(|_| plan.key());
        let now = self.inner.clock.now_millis();
        with_pool!(&self.inner.db, pool => {
            sqlx::query(
                "UPDATE billing_accounts SET status = $1, trial_end = $2, notice = $3, notice_plan = $4, \
                 updated_at = $5 WHERE tenant_id = $6 AND subscription_id = $7",
            )
            .bind(&info.status)
            .bind(info.trial_end)
            .bind(notice)
            .bind(notice_plan)
            .bind(now)
            .bind(&tenant_id)
            .bind(subscription_id)
            .execute(pool)
            .await?;
        });
        Ok(Some((tenant_id, plan, info)))
    }

    /// Verifies and applies one webhook delivery. `now_secs` is wall-clock time (Stripe signs
    /// with its own wall clock, so the injectable app clock does not apply).
    pub async fn handle_webhook(
        &self,
        signature_header: &str,
        body: &[u8],
        now_secs: i64,
    ) -> Result<WebhookOutcome, WebhookError> {
        signature::verify(
            signature_header,
            body,
            &self.inner.webhook_secret,
            now_secs,
            signature::DEFAULT_TOLERANCE_SECS,
        )?;
        let event: Value = serde_json::from_slice(body).map_err(|_| WebhookError::Body)?;
        let (Some(event_id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
            return Err(WebhookError::Body);
        };
        let object = &event["data"]["object"];
        let tenant_hint = match object["customer"].as_str() {
            Some(customer) => self.tenant_of_customer(customer).await?,
            None => None,
        };
        let now = self.inner.clock.now_millis();
        let fresh = with_pool!(&self.inner.db, pool => {
            sqlx::query(
                "INSERT INTO stripe_events (event_id, tenant_id, event_type, received_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(event_id)
            .bind(&tenant_hint)
            .bind(kind)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if fresh == 0 {
            return Ok(WebhookOutcome::Duplicate);
        }
        if let Err(error) = self.process_event(kind, object).await {
            // Not done: forget the id so Stripe's retry is processed.
            with_pool!(&self.inner.db, pool => {
                sqlx::query("DELETE FROM stripe_events WHERE event_id = $1")
                    .bind(event_id)
                    .execute(pool)
                    .await?;
            });
            return Err(error.into());
        }
        Ok(WebhookOutcome::Processed)
    }

    async fn process_event(&self, kind: &str, object: &Value) -> Result<(), BillingError> {
        match kind {
            "checkout.session.completed" => {
                let tenant = object["client_reference_id"]
                    .as_str()
                    .or_else(|| object["metadata"]["tenant_id"].as_str());
                let subscription = object["subscription"]
                    .as_str()
                    .or_else(|| object["subscription"]["id"].as_str());
                if let (Some(tenant), Some(subscription)) = (tenant, subscription) {
                    let known: Option<String> = with_pool!(&self.inner.db, pool => {
                        sqlx::query_scalar("SELECT id FROM tenants WHERE id = $1")
                            .bind(tenant)
                            .fetch_optional(pool)
                            .await?
                    });
                    if known.is_some() {
                        self.adopt_subscription(tenant, subscription).await?;
                    }
                }
            }
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted"
            | "customer.subscription.paused"
            | "customer.subscription.resumed" => {
                if let Some(id) = object["id"].as_str() {
                    self.sync_subscription(id).await?;
                }
            }
            "customer.subscription.trial_will_end" => {
                if let Some(id) = object["id"].as_str()
                    && let Some((tenant_id, plan, info)) = self.sync_subscription(id).await?
                    && info.status == "trialing"
                {
                    let (email, company) = self.owner(&tenant_id).await?;
                    self.inner
                        .mailer
                        .send(
                            &tenant_id,
                            &trial_ending_email(&email, &company, plan, id, info.trial_end),
                        )
                        .await?;
                }
            }
            "invoice.paid" | "invoice.payment_failed" => {
                let subscription = object["subscription"]
                    .as_str()
                    .or_else(|| object["parent"]["subscription_details"]["subscription"].as_str());
                if let Some(id) = subscription
                    && let Some((tenant_id, plan, info)) = self.sync_subscription(id).await?
                    && kind == "invoice.payment_failed"
                    && payment_problem(&info.status)
                {
                    let invoice = object["id"].as_str().unwrap_or(id);
                    let (email, company) = self.owner(&tenant_id).await?;
                    self.inner
                        .mailer
                        .send(
                            &tenant_id,
                            &payment_failed_email(&email, &company, plan, invoice),
                        )
                        .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(plan: Plan, status: &str) -> BillingState {
        BillingState {
            plan,
            status: status.to_owned(),
            subscription_id: None,
            customer_id: None,
            trial_end: None,
            notice: None,
            notice_plan: None,
        }
    }

    #[test]
    fn only_live_subscriptions_grant_their_plan() {
        assert_eq!(
            state(Plan::StandardMonthly, "trialing").effective_plan(),
            Plan::StandardMonthly
        );
        assert_eq!(
            state(Plan::ProfessionalAnnual, "active").effective_plan(),
            Plan::ProfessionalAnnual
        );
        for status in ["past_due", "unpaid", "incomplete", "canceled", "none"] {
            assert_eq!(
                state(Plan::ProfessionalAnnual, status).effective_plan(),
                Plan::Freemium,
                "{status}"
            );
        }
    }

    #[test]
    fn emails_say_what_changed() {
        let start = start_email(
            "a@b.test",
            "Acme",
            Plan::StandardAnnual,
            "sub_1",
            Some(1_893_456_000 + 15 * 86_400),
        );
        assert_eq!(
            start.subject,
            "Your zqsync Standard (annual) plan has started: free trial until January 16, 2030"
        );
        assert!(start.body.contains("15-day free trial"), "{}", start.body);
        assert!(start.body.contains("$490.00 per year"), "{}", start.body);
        assert!(start.body.contains("Historical Data is included"));
        let cancel = cancellation_email("a@b.test", "Acme", Plan::StandardMonthly, "sub_1");
        assert_eq!(cancel.dedupe_key, "cancel-sub_1");
        assert!(cancel.body.contains("no prorated charge"));
    }
}
