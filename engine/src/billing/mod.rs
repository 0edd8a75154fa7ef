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

mod emails;
mod entitlements;
pub mod mail;
mod plan_changes;
pub mod signature;
pub mod stripe_api;
mod webhooks;

pub use emails::{cancellation_email, format_date, format_timestamp, start_email};
pub use entitlements::{BillingState, Entitlements, entitlements, load_state};

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

/// How a plan change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Leaving Freemium: send the browser to this Stripe Checkout page.
    Checkout { url: String },
    /// Changed at once (paid → paid, or to Freemium).
    Changed,
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
