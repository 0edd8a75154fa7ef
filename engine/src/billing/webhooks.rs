//! Stripe's webhooks: verified, deduplicated by event id, and never trusted for the object's
//! state: the subscription is re-read from Stripe, so duplicates and reordering end alike.

use super::emails::{payment_failed_email, trial_ending_email};
#[allow(clippy::wildcard_imports)] // the parent module's types and helpers
use super::*;

/// Subscription statuses whose payment is in trouble.
pub(super) fn payment_problem(status: &str) -> bool {
    matches!(status, "past_due" | "unpaid" | "incomplete" | "paused")
}

impl Billing {
    /// The tenant whose *current* subscription this is, with its plan.
    pub(super) async fn current_owner_of(
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

    pub(super) async fn tenant_of_customer(
        &self,
        customer_id: &str,
    ) -> Result<Option<String>, BillingError> {
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
    pub(super) async fn sync_subscription(
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

    pub(super) async fn process_event(
        &self,
        kind: &str,
        object: &Value,
    ) -> Result<(), BillingError> {
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
