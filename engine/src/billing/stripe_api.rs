//! The Stripe calls billing makes, through async-stripe (`stripe` + the split object crates),
//! pointed at `https://api.stripe.com/` in production and at the sandbox's simulated Stripe in
//! sandbox mode and tests. Every call that creates or cancels something carries an
//! `Idempotency-Key`, so a retried request never creates a second subscription.

use std::collections::HashMap;
use std::sync::Mutex;

use domain::plans::{BillingInterval, CURRENCY, Plan};
use stripe::{
    Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest as _,
};
use stripe_billing::subscription::{
    CancelSubscription, CreateSubscription, CreateSubscriptionItems, RetrieveSubscription,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
    RetrieveCheckoutSession,
};
use stripe_core::customer::CreateCustomer;
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice,
};
use stripe_product::product::CreateProduct;
use stripe_shared::{CheckoutSessionMode, Subscription, SubscriptionStatus};

/// A Stripe failure, without the request (no keys, no emails).
#[derive(Debug, thiserror::Error)]
pub enum StripeApiError {
    #[error("Stripe answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("could not talk to Stripe: {0}")]
    Transport(String),
    #[error("no Stripe price has the lookup key {0}")]
    MissingPrice(String),
    #[error("bad Stripe configuration: {0}")]
    Config(String),
}

impl From<StripeError> for StripeApiError {
    fn from(error: StripeError) -> Self {
        match error {
            StripeError::Stripe(errors, status) => Self::Api {
                status,
                message: errors.message.unwrap_or_else(|| "no message".to_owned()),
            },
            other => Self::Transport(other.to_string()),
        }
    }
}

/// What billing needs to know about a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInfo {
    pub id: String,
    pub customer_id: String,
    /// Stripe's status, e.g. `trialing`, `active`, `past_due`, `canceled`.
    pub status: String,
    /// Unix seconds.
    pub trial_end: Option<i64>,
    /// From the first item's price lookup key; `None` for a price that is not ours.
    pub plan: Option<Plan>,
    pub tenant_id: Option<String>,
}

impl SubscriptionInfo {
    fn from_stripe(subscription: &Subscription) -> Self {
        let plan = subscription
            .items
            .data
            .first()
            .and_then(|item| item.price.lookup_key.as_deref())
            .and_then(|key| Plan::from_stripe_lookup_key(key).ok());
        Self {
            id: subscription.id.as_str().to_owned(),
            customer_id: subscription.customer.id().as_str().to_owned(),
            status: status_text(&subscription.status),
            trial_end: subscription.trial_end,
            plan,
            tenant_id: subscription.metadata.get("tenant_id").cloned(),
        }
    }
}

fn status_text(status: &SubscriptionStatus) -> String {
    match status {
        SubscriptionStatus::Active => "active",
        SubscriptionStatus::Canceled => "canceled",
        SubscriptionStatus::Incomplete => "incomplete",
        SubscriptionStatus::IncompleteExpired => "incomplete_expired",
        SubscriptionStatus::PastDue => "past_due",
        SubscriptionStatus::Paused => "paused",
        SubscriptionStatus::Trialing => "trialing",
        SubscriptionStatus::Unpaid => "unpaid",
        SubscriptionStatus::Unknown(other) => other.as_str(),
        _ => "unknown",
    }
    .to_owned()
}

/// A completed (or not) Checkout Session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutInfo {
    pub id: String,
    pub complete: bool,
    pub tenant_id: Option<String>,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
}

#[derive(Debug)]
pub struct StripeApi {
    client: Client,
    /// Price ids by lookup key, filled on first use.
    prices: Mutex<HashMap<String, String>>,
}

fn idempotent(key: &str) -> Result<RequestStrategy, StripeApiError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| StripeApiError::Config(e.to_string()))
}

/// Metadata for a request. Keep it to one key: async-stripe takes a `HashMap`, whose order
/// varies between calls, and a retried request with an `Idempotency-Key` must carry
/// byte-identical parameters. The plan is known from the price's lookup key anyway.
fn metadata(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl StripeApi {
    /// `base_url`: `None` for Stripe itself, or e.g. the sandbox's `http://127.0.0.1:4104`.
    pub fn new(secret_key: &str, base_url: Option<&str>) -> Result<Self, StripeApiError> {
        let mut builder = ClientBuilder::new(secret_key)
            .timeout(std::time::Duration::from_secs(30))
            .app_info("zqsync", Some(env!("CARGO_PKG_VERSION").to_owned()), None);
        if let Some(url) = base_url {
            // async-stripe appends `v1/…` to the base, which must end in a slash.
            let url = format!("{}/", url.trim_end_matches('/'));
            builder = builder.url(url);
        }
        let client = builder
            .build()
            .map_err(|e| StripeApiError::Config(e.to_string()))?;
        Ok(Self {
            client,
            prices: Mutex::new(HashMap::new()),
        })
    }

    fn cached_price(&self, lookup_key: &str) -> Option<String> {
        self.prices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(lookup_key)
            .cloned()
    }

    fn remember_price(&self, lookup_key: &str, id: &str) {
        self.prices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(lookup_key.to_owned(), id.to_owned());
    }

    /// The Stripe price id of a paid plan, found by its lookup key.
    pub async fn price_id(&self, plan: Plan) -> Result<String, StripeApiError> {
        let lookup_key = plan
            .stripe_lookup_key()
            .ok_or_else(|| StripeApiError::MissingPrice(plan.key().to_owned()))?;
        if let Some(id) = self.cached_price(lookup_key) {
            return Ok(id);
        }
        let found = ListPrice::new()
            .lookup_keys(vec![lookup_key.to_owned()])
            .active(true)
            .send(&self.client)
            .await?;
        let price = found
            .data
            .into_iter()
            .find(|p| p.lookup_key.as_deref() == Some(lookup_key))
            .ok_or_else(|| StripeApiError::MissingPrice(lookup_key.to_owned()))?;
        self.remember_price(lookup_key, price.id.as_str());
        Ok(price.id.as_str().to_owned())
    }

    /// Mirrors the plan table as Stripe products and prices, creating what is missing (used
    /// against the sandbox at start; production looks prices up and never creates them).
    pub async fn ensure_catalog(&self) -> Result<(), StripeApiError> {
        let mut products: HashMap<domain::plans::Tier, String> = HashMap::new();
        for plan in Plan::ALL.into_iter().filter(|p| p.is_paid()) {
            match self.price_id(plan).await {
                Ok(_) => continue,
                Err(StripeApiError::MissingPrice(_)) => {}
                Err(e) => return Err(e),
            }
            let lookup_key = plan.stripe_lookup_key().unwrap_or_default();
            let product = match products.get(&plan.tier()) {
                Some(id) => id.clone(),
                None => {
                    let name = match plan.tier() {
                        domain::plans::Tier::Standard => "zqsync Standard",
                        _ => "zqsync Professional",
                    };
                    let product = CreateProduct::new(name)
                        .customize()
                        .request_strategy(idempotent(&format!("catalog-product-{lookup_key}"))?)
                        .send(&self.client)
                        .await?;
                    let id = product.id.as_str().to_owned();
                    products.insert(plan.tier(), id.clone());
                    id
                }
            };
            let interval = match plan.interval() {
                Some(BillingInterval::Year) => CreatePriceRecurringInterval::Year,
                _ => CreatePriceRecurringInterval::Month,
            };
            let price = CreatePrice::new(
                CURRENCY
                    .parse::<stripe_types::Currency>()
                    .unwrap_or_else(|never| match never {}),
            )
            .product(product)
            .unit_amount(i64::from(plan.price_cents()))
            .lookup_key(lookup_key)
            .recurring(CreatePriceRecurring::new(interval))
            .customize()
            .request_strategy(idempotent(&format!("catalog-price-{lookup_key}"))?)
            .send(&self.client)
            .await?;
            self.remember_price(lookup_key, price.id.as_str());
        }
        Ok(())
    }

    pub async fn create_customer(
        &self,
        tenant_id: &str,
        email: &str,
        company: &str,
    ) -> Result<String, StripeApiError> {
        let customer = CreateCustomer::new()
            .email(email)
            .name(company)
            .metadata(metadata(&[("tenant_id", tenant_id)]))
            .customize()
            .request_strategy(idempotent(&format!("customer-{tenant_id}"))?)
            .send(&self.client)
            .await?;
        Ok(customer.id.as_str().to_owned())
    }

    /// A Checkout Session in subscription mode: collects a card and starts `plan` with the
    /// trial. Returns the session's hosted page URL.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_checkout(
        &self,
        tenant_id: &str,
        customer_id: &str,
        plan: Plan,
        trial_days: u32,
        success_url: &str,
        cancel_url: &str,
        idempotency_key: &str,
    ) -> Result<String, StripeApiError> {
        let price = self.price_id(plan).await?;
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(price);
        item.quantity = Some(1);
        let mut data = CreateCheckoutSessionSubscriptionData::new();
        data.trial_period_days = Some(trial_days);
        data.metadata = Some(metadata(&[("tenant_id", tenant_id)]));
        let session = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Subscription)
            .customer(customer_id)
            .client_reference_id(tenant_id)
            .metadata(metadata(&[("tenant_id", tenant_id)]))
            .line_items(vec![item])
            .subscription_data(data)
            .success_url(success_url)
            .cancel_url(cancel_url)
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await?;
        session
            .url
            .ok_or_else(|| StripeApiError::Transport("the Checkout Session has no url".to_owned()))
    }

    pub async fn checkout_session(&self, id: &str) -> Result<CheckoutInfo, StripeApiError> {
        let session = RetrieveCheckoutSession::new(id).send(&self.client).await?;
        let tenant_id = session.client_reference_id.clone().or_else(|| {
            session
                .metadata
                .as_ref()
                .and_then(|m| m.get("tenant_id").cloned())
        });
        Ok(CheckoutInfo {
            id: session.id.as_str().to_owned(),
            complete: matches!(
                session.status,
                Some(stripe_shared::CheckoutSessionStatus::Complete)
            ),
            tenant_id,
            subscription_id: session
                .subscription
                .as_ref()
                .map(|s| s.id().as_str().to_owned()),
            customer_id: session
                .customer
                .as_ref()
                .map(|c| c.id().as_str().to_owned()),
        })
    }

    /// Starts `plan` for a customer whose card is on file, with the trial.
    pub async fn create_subscription(
        &self,
        tenant_id: &str,
        customer_id: &str,
        plan: Plan,
        trial_days: u32,
        idempotency_key: &str,
    ) -> Result<SubscriptionInfo, StripeApiError> {
        let price = self.price_id(plan).await?;
        let mut item = CreateSubscriptionItems::new();
        item.price = Some(price);
        item.quantity = Some(1);
        let subscription = CreateSubscription::new()
            .customer(customer_id)
            .items(vec![item])
            .trial_period_days(trial_days)
            .metadata(metadata(&[("tenant_id", tenant_id)]))
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await?;
        Ok(SubscriptionInfo::from_stripe(&subscription))
    }

    /// Cancels at once, without proration credit or a final invoice.
    pub async fn cancel_subscription(&self, id: &str) -> Result<SubscriptionInfo, StripeApiError> {
        let subscription = CancelSubscription::new(id)
            .prorate(false)
            .invoice_now(false)
            .customize()
            .request_strategy(idempotent(&format!("cancel-{id}"))?)
            .send(&self.client)
            .await?;
        Ok(SubscriptionInfo::from_stripe(&subscription))
    }

    pub async fn subscription(&self, id: &str) -> Result<SubscriptionInfo, StripeApiError> {
        let subscription = RetrieveSubscription::new(id).send(&self.client).await?;
        Ok(SubscriptionInfo::from_stripe(&subscription))
    }
}
