//! The billing emails: a plan started (with its trial), cancelled, a payment failed, a trial
//! about to end; and how their dates are written.

#[allow(clippy::wildcard_imports)] // the parent module's types and helpers
use super::*;

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

pub(super) fn billing_period(plan: Plan) -> &'static str {
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

pub(super) fn payment_failed_email(to: &str, company: &str, plan: Plan, invoice_id: &str) -> Email {
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

pub(super) fn trial_ending_email(
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
