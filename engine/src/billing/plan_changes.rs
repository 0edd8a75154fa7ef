//! Changing plans: Checkout when leaving Freemium, a new subscription made current before the
//! old one is cancelled without proration, back to Freemium; adopting a Checkout's result.

#[allow(clippy::wildcard_imports)] // the parent module's types and helpers
use super::*;

impl Billing {
    pub(super) async fn owner(&self, tenant_id: &str) -> Result<(String, String), BillingError> {
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

    pub(super) async fn ensure_customer(&self, tenant_id: &str) -> Result<String, BillingError> {
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

    pub(super) async fn set_current(
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
    pub(super) async fn set_freemium(
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
    pub(super) async fn adopt_subscription(
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
}
