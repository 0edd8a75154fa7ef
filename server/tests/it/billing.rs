//! Plans and billing through the real HTTP server against the simulated Stripe over real HTTP:
//! upgrade through Checkout, paid → paid, monthly ↔ annual, downgrade to Freemium, the emails
//! of each change, webhook signatures, replays, events out of order, payment failure.

use crate::common;

use std::time::Duration;

use common::{TestApp, error_message};
use domain::pairs::{Direction, ModulePair, SyncDirections};
use domain::plans::Plan;
use engine::billing::{self, signature};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET_KEY: &str = "sk_test_sandbox";
const WEBHOOK_SECRET: &str = "whsec_sandbox";
const GOOD_CARD: &str = "4242 4242 4242 4242";
/// Stripe's test card that attaches but declines every later charge.
const LATER_DECLINES: &str = "4000 0000 0000 0341";

async fn signed_up(app: &TestApp, company: &str, email: &str) -> reqwest::Client {
    let client = app.client();
    let response = app.sign_up(&client, company, email).await;
    assert_eq!(response.status(), StatusCode::OK);
    client
}

async fn overview(app: &TestApp, client: &reqwest::Client) -> Value {
    let response = app.call(client, "plan_overview", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON overview")
}

async fn change(app: &TestApp, client: &reqwest::Client, plan: &str) -> Value {
    let response = app.call(client, "change_plan", &[("plan", plan)]).await;
    let status = response.status();
    let body: Value = response.json().await.expect("JSON answer");
    assert_eq!(status, StatusCode::OK, "change to {plan}: {body}");
    body
}

async fn outbox(app: &TestApp, client: &reqwest::Client) -> Vec<Value> {
    let response = app.call(client, "outbox", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut emails: Vec<Value> = response.json().await.expect("JSON outbox");
    emails.reverse(); // oldest first reads better in assertions
    emails
}

async fn stripe(app: &TestApp, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", app.stripe_url))
        .bearer_auth(SECRET_KEY)
        .send()
        .await
        .expect("stripe request")
        .json()
        .await
        .expect("stripe JSON")
}

async fn stripe_post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", app.stripe_url))
        .bearer_auth(SECRET_KEY)
        .json(body)
        .send()
        .await
        .expect("sandbox request")
}

/// Any Stripe API call lets the simulated Stripe act on the time that passed (trial ends)
/// right away, as the real one does on its own.
async fn poke(app: &TestApp) {
    stripe(app, "/v1/events?limit=1").await;
}

/// Fills in the hosted checkout stand-in; returns the Checkout Session id it came back with.
async fn pay_checkout(app: &TestApp, checkout_url: &str, card: &str) -> String {
    assert!(
        checkout_url.starts_with(&app.stripe_url),
        "Checkout must be the sandbox's: {checkout_url}"
    );
    let page = reqwest::get(checkout_url)
        .await
        .expect("checkout page")
        .text()
        .await
        .expect("page text");
    assert!(page.contains("Sandbox Checkout"), "{page}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let paid = http
        .post(checkout_url)
        .form(&[("card", card), ("decision", "pay")])
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    let back = paid
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect back")
        .to_owned();
    let prefix = format!("{}/plan?checkout=", app.url);
    assert!(back.starts_with(&prefix), "{back}");
    back[prefix.len()..].to_owned()
}

/// Polls until `check` holds (webhooks arrive asynchronously); fails after ten seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn trial_end_date() -> String {
    billing::format_date((chrono::Utc::now() + chrono::Duration::days(15)).timestamp())
}

async fn tenant_id(app: &TestApp, email: &str) -> String {
    let db = &app.ctx().db;
    engine::with_pool!(db, pool => {
        sqlx::query_scalar::<_, String>("SELECT tenant_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(pool)
            .await
            .expect("tenant of the user")
    })
}

async fn upgrade_through_checkout(
    app: &TestApp,
    client: &reqwest::Client,
    plan: &str,
    card: &str,
) -> String {
    let answer = change(app, client, plan).await;
    let url = answer["Checkout"]
        .as_str()
        .unwrap_or_else(|| panic!("leaving Freemium must go through Checkout: {answer}"))
        .to_owned();
    pay_checkout(app, &url, card).await
}

#[tokio::test]
async fn upgrade_from_freemium_through_checkout_starts_a_trial_and_sends_one_email() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Acme Ltd", "owner@acme.test").await;
    let before = overview(&app, &client).await;
    assert_eq!(before["plan"], "freemium");
    assert_eq!(before["trial_ends"], Value::Null);

    let session = upgrade_through_checkout(&app, &client, "standard_monthly", GOOD_CARD).await;
    // The webhook alone (checkout.session.completed) moves the tenant.
    eventually("the webhook adopts the subscription", || async {
        overview(&app, &client).await["plan"] == "standard_monthly"
    })
    .await;
    let after = overview(&app, &client).await;
    assert_eq!(after["effective_plan"], "standard_monthly");
    assert_eq!(after["trial_ends"], trial_end_date());
    assert_eq!(app.account(&client).await.1["plan"], "standard_monthly");

    // The browser's return adopts the same subscription again: no change, no second email.
    let confirm = app
        .call(&client, "confirm_checkout", &[("session_id", &session)])
        .await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let emails = outbox(&app, &client).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let start = &emails[0];
    assert_eq!(start["kind"], "plan_started");
    assert_eq!(start["recipient"], "owner@acme.test");
    assert_eq!(
        start["subject"],
        format!(
            "Your zqsync Standard (monthly) plan has started: free trial until {}",
            trial_end_date()
        )
    );
    let body = start["body"].as_str().unwrap_or_default();
    assert!(body.contains("Hello Acme Ltd"), "{body}");
    assert!(body.contains("15-day free trial"), "{body}");
    assert!(body.contains("$49.00 per month"), "{body}");
    // Without SMTP the email is also written as a file into the data directory.
    let files: Vec<String> = std::fs::read_dir(app.data_dir.join("mail"))
        .expect("mail directory")
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].contains("Subject: Your zqsync Standard (monthly) plan has started"));

    // Stripe holds one trialing subscription with the customer's saved card.
    let tenant = tenant_id(&app, "owner@acme.test").await;
    let state = app
        .ctx()
        .billing
        .as_ref()
        .expect("billing")
        .state(&tenant)
        .await
        .expect("state");
    let customer = state.customer_id.expect("a Stripe customer");
    let subs = stripe(&app, &format!("/v1/subscriptions?customer={customer}")).await;
    let subs = subs["data"].as_array().expect("list");
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["status"], "trialing");
    assert_eq!(subs[0]["metadata"]["tenant_id"], tenant.as_str());
    assert_eq!(
        subs[0]["items"]["data"][0]["price"]["lookup_key"],
        "zqsync_standard_monthly"
    );
    assert_eq!(
        subs[0]["trial_end"].as_i64().unwrap_or_default()
            - subs[0]["trial_start"].as_i64().unwrap_or_default(),
        15 * 86_400
    );

    // Entitlements follow: Standard pairs run, Historical Data needs an annual plan.
    let entitlements = billing::entitlements(&app.ctx().db, &tenant)
        .await
        .expect("entitlements");
    assert_eq!(entitlements.effective, Plan::StandardMonthly);
    assert!(entitlements.check_pair(ModulePair::QuotesEstimates).is_ok());
    assert!(entitlements.check_pair(ModulePair::PurchaseOrders).is_err());
    assert!(entitlements.check_historical_data().is_err());
    app.stop().await;
}

#[tokio::test]
async fn paid_to_paid_and_monthly_annual_changes_need_no_card_and_send_two_emails() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Beta Co", "bo@beta.test").await;
    upgrade_through_checkout(&app, &client, "standard_monthly", GOOD_CARD).await;
    eventually("upgrade", || async {
        overview(&app, &client).await["plan"] == "standard_monthly"
    })
    .await;
    let tenant = tenant_id(&app, "bo@beta.test").await;
    let billing = app.ctx().billing.clone().expect("billing");

    let steps = [
        (
            "standard_monthly",
            "professional_monthly",
            "Professional (monthly)",
            "$99.00 per month",
        ),
        (
            "professional_monthly",
            "professional_annual",
            "Professional (annual)",
            "$990.00 per year",
        ),
        (
            "professional_annual",
            "standard_annual",
            "Standard (annual)",
            "$490.00 per year",
        ),
        (
            "standard_annual",
            "standard_monthly",
            "Standard (monthly)",
            "$49.00 per month",
        ),
    ];
    let mut expected_emails = 1;
    for (from, to, label, price) in steps {
        let old_sub = billing
            .state(&tenant)
            .await
            .expect("state")
            .subscription_id
            .expect("current");
        let answer = change(&app, &client, to).await;
        assert_eq!(
            answer,
            json!("Changed"),
            "{from} → {to} must not ask for a card"
        );
        let now = overview(&app, &client).await;
        assert_eq!(now["plan"], to);
        assert_eq!(now["effective_plan"], to);
        assert_eq!(
            now["trial_ends"],
            trial_end_date(),
            "every change starts a new trial"
        );

        // Stripe: the old subscription is cancelled, the new one trials for 15 days.
        let old = stripe(&app, &format!("/v1/subscriptions/{old_sub}")).await;
        assert_eq!(old["status"], "canceled");
        let state = billing.state(&tenant).await.expect("state");
        let new_sub = state.subscription_id.clone().expect("new current");
        assert_ne!(new_sub, old_sub);
        let new = stripe(&app, &format!("/v1/subscriptions/{new_sub}")).await;
        assert_eq!(new["status"], "trialing");
        assert_eq!(
            new["items"]["data"][0]["price"]["lookup_key"],
            format!("zqsync_{to}")
        );

        // Two emails: the old plan's cancellation, the new plan's start with the trial end.
        expected_emails += 2;
        let emails = outbox(&app, &client).await;
        assert_eq!(emails.len(), expected_emails, "{from} → {to}: {emails:?}");
        let cancel = &emails[expected_emails - 2];
        let start = &emails[expected_emails - 1];
        assert_eq!(cancel["kind"], "plan_cancelled");
        assert_eq!(
            cancel["subject"],
            format!(
                "Your zqsync {} plan has been cancelled",
                Plan::from_key(from).expect("plan").label()
            )
        );
        assert!(
            cancel["body"]
                .as_str()
                .unwrap_or_default()
                .contains("no prorated charge")
        );
        assert_eq!(start["kind"], "plan_started");
        assert_eq!(
            start["subject"],
            format!(
                "Your zqsync {label} plan has started: free trial until {}",
                trial_end_date()
            )
        );
        assert!(start["body"].as_str().unwrap_or_default().contains(price));

        // The old subscription's `customer.subscription.deleted` arrives and changes nothing.
        let deleted_delivered = || async {
            let events = stripe(&app, "/_sandbox/stripe/events").await;
            events["events"].as_array().is_some_and(|list| {
                list.iter().any(|e| {
                    e["type"] == "customer.subscription.deleted"
                        && e["data"]["object"]["id"] == old_sub.as_str()
                })
            })
        };
        eventually("the old subscription's deletion event", deleted_delivered).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let state = billing.state(&tenant).await.expect("state");
        assert_eq!(state.subscription_id.as_deref(), Some(new_sub.as_str()));
        assert_eq!(state.status, "trialing");
        assert_eq!(overview(&app, &client).await["plan"], to);
        assert_eq!(outbox(&app, &client).await.len(), expected_emails);
    }
    let annual = billing::entitlements(&app.ctx().db, &tenant)
        .await
        .expect("entitlements");
    assert!(
        annual.check_historical_data().is_err(),
        "monthly again: no Historical Data"
    );

    // Changing to the plan one is on is refused with a clear message.
    let same = app
        .call(&client, "change_plan", &[("plan", "standard_monthly")])
        .await;
    assert!(same.status().is_client_error() || same.status().is_server_error());
    let body: Value = same.json().await.expect("JSON");
    assert!(error_message(&body, "Invalid").contains("already on the Standard (monthly) plan"));
    app.stop().await;
}

#[tokio::test]
async fn downgrade_to_freemium_cancels_and_sends_the_cancellation_email() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Gamma", "g@gamma.test").await;
    upgrade_through_checkout(&app, &client, "professional_annual", GOOD_CARD).await;
    eventually("upgrade", || async {
        overview(&app, &client).await["plan"] == "professional_annual"
    })
    .await;
    let tenant = tenant_id(&app, "g@gamma.test").await;
    let billing = app.ctx().billing.clone().expect("billing");
    let sub = billing
        .state(&tenant)
        .await
        .expect("state")
        .subscription_id
        .expect("sub");
    let history = billing::entitlements(&app.ctx().db, &tenant)
        .await
        .expect("entitlements");
    assert!(
        history.check_historical_data().is_ok(),
        "annual plans include Historical Data"
    );
    // The upgrade enabled nothing by itself: the new pairs are off until turned on.
    let config = &app.ctx().sync.config;
    let directions = config.directions(&tenant).await.expect("directions");
    assert_eq!(
        history.runnable_pairs(&directions),
        vec![ModulePair::AccountsCustomers, ModulePair::ProductsItems],
        "only the essentials run"
    );
    // The user turns Invoices on; the downgrade then switches it off (its mapping kept), so a
    // later upgrade does not turn it on again unasked.
    app.call_json(&client, "turn_on_pair", &[("pair", "invoices_invoices")])
        .await;
    assert!(
        config
            .directions(&tenant)
            .await
            .expect("directions")
            .get(ModulePair::InvoicesInvoices)
            .is_enabled()
    );

    assert_eq!(change(&app, &client, "freemium").await, json!("Changed"));
    assert_eq!(
        config
            .directions(&tenant)
            .await
            .expect("directions")
            .get(ModulePair::InvoicesInvoices),
        Direction::Disabled,
        "switched off with the downgrade"
    );
    let now = overview(&app, &client).await;
    assert_eq!(now["plan"], "freemium");
    assert_eq!(now["trial_ends"], Value::Null);
    assert_eq!(
        stripe(&app, &format!("/v1/subscriptions/{sub}")).await["status"],
        "canceled"
    );
    let emails = outbox(&app, &client).await;
    assert_eq!(emails.len(), 2, "{emails:?}");
    assert_eq!(emails[1]["kind"], "plan_cancelled");
    assert_eq!(
        emails[1]["subject"],
        "Your zqsync Professional (annual) plan has been cancelled"
    );
    // The user's own choice: no "cancelled" banner once the deletion event has arrived.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(overview(&app, &client).await["notice"], Value::Null);
    assert_eq!(app.account(&client).await.1["billing_notice"], Value::Null);
    let free = billing::entitlements(&app.ctx().db, &tenant)
        .await
        .expect("entitlements");
    assert_eq!(free.effective, Plan::Freemium);
    assert!(free.check_historical_data().is_err());
    assert_eq!(outbox(&app, &client).await.len(), 2, "no further email");

    // Leaving Freemium again asks for a card again.
    let again = change(&app, &client, "standard_monthly").await;
    assert!(again["Checkout"].is_string(), "{again}");
    app.stop().await;
}

fn signed(body: &str, secret: &str, timestamp: i64) -> String {
    format!(
        "t={timestamp},v1={}",
        signature::sign(secret, timestamp, body.as_bytes())
    )
}

async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhooks/stripe", app.url))
        .header("content-type", "application/json")
        // A browser-ish cross-site header must not matter: this route has no same-origin wall.
        .header("origin", "https://stripe.example")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.expect("webhook request").status()
}

async fn deliver_signed(app: &TestApp, event: &Value) -> StatusCode {
    let body = event.to_string();
    let now = chrono::Utc::now().timestamp();
    deliver(app, &body, Some(signed(&body, WEBHOOK_SECRET, now))).await
}

async fn events(app: &TestApp) -> Vec<Value> {
    poke(app).await;
    stripe(app, "/_sandbox/stripe/events").await["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The first stored event of `kind`, waiting for the sandbox's clock ticker to produce it.
async fn wait_for_event(app: &TestApp, kind: &str) -> Value {
    for _ in 0..100 {
        if let Some(event) = events(app).await.into_iter().find(|e| e["type"] == kind) {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {kind} event");
}

async fn seen_events(app: &TestApp) -> i64 {
    let db = &app.ctx().db;
    engine::with_pool!(db, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_events")
            .fetch_one(pool)
            .await
            .expect("count")
    })
}

#[tokio::test]
async fn forged_or_stale_signatures_are_refused_and_change_nothing() {
    let app = TestApp::spawn_without_webhooks().await;
    let client = signed_up(&app, "Delta", "d@delta.test").await;
    let session = upgrade_through_checkout(&app, &client, "standard_monthly", GOOD_CARD).await;
    let confirm = app
        .call(&client, "confirm_checkout", &[("session_id", &session)])
        .await;
    assert_eq!(confirm.status(), StatusCode::OK);
    assert_eq!(overview(&app, &client).await["plan"], "standard_monthly");
    let tenant = tenant_id(&app, "d@delta.test").await;
    let sub = app
        .ctx()
        .billing
        .as_ref()
        .expect("billing")
        .state(&tenant)
        .await
        .expect("state")
        .subscription_id
        .expect("sub");

    // Really cancel it in Stripe, so a genuine deletion event would downgrade the tenant.
    let cancelled = reqwest::Client::new()
        .delete(format!("{}/v1/subscriptions/{sub}", app.stripe_url))
        .bearer_auth(SECRET_KEY)
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancelled.status(), StatusCode::OK);
    let deleted = events(&app)
        .await
        .into_iter()
        .find(|e| e["type"] == "customer.subscription.deleted")
        .expect("a deletion event");
    let body = deleted.to_string();
    let now = chrono::Utc::now().timestamp();
    let before = seen_events(&app).await;

    assert_eq!(
        deliver(&app, &body, None).await,
        StatusCode::BAD_REQUEST,
        "no signature"
    );
    assert_eq!(
        deliver(&app, &body, Some(signed(&body, "whsec_forged", now))).await,
        StatusCode::BAD_REQUEST,
        "wrong secret"
    );
    assert_eq!(
        deliver(&app, &body, Some(signed(&body, WEBHOOK_SECRET, now - 600))).await,
        StatusCode::BAD_REQUEST,
        "ten minutes old"
    );
    let tampered = body.replace(
        "customer.subscription.deleted",
        "customer.subscription.updated",
    );
    assert_eq!(
        deliver(&app, &tampered, Some(signed(&body, WEBHOOK_SECRET, now))).await,
        StatusCode::BAD_REQUEST,
        "signature of another body"
    );
    assert_eq!(
        seen_events(&app).await,
        before,
        "refused events are not recorded"
    );
    assert_eq!(overview(&app, &client).await["plan"], "standard_monthly");
    assert_eq!(overview(&app, &client).await["notice"], Value::Null);

    // The genuine delivery is processed: Stripe cancelled the current subscription.
    assert_eq!(deliver_signed(&app, &deleted).await, StatusCode::OK);
    let after = overview(&app, &client).await;
    assert_eq!(after["plan"], "freemium");
    let notice = after["notice"].as_str().unwrap_or_default();
    assert!(notice.contains("was cancelled"), "{notice}");
    assert!(
        notice.contains("mappings and settings are kept"),
        "{notice}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_event_has_no_second_effect() {
    let app = TestApp::spawn_without_webhooks().await;
    let client = signed_up(&app, "Epsilon", "e@eps.test").await;
    let session = upgrade_through_checkout(&app, &client, "standard_monthly", LATER_DECLINES).await;
    let completed = events(&app)
        .await
        .into_iter()
        .find(|e| {
            e["type"] == "checkout.session.completed"
                && e["data"]["object"]["id"] == session.as_str()
        })
        .expect("checkout.session.completed");
    for _ in 0..3 {
        assert_eq!(deliver_signed(&app, &completed).await, StatusCode::OK);
    }
    assert_eq!(overview(&app, &client).await["plan"], "standard_monthly");
    assert_eq!(
        outbox(&app, &client).await.len(),
        1,
        "one start email for three deliveries"
    );
    assert_eq!(seen_events(&app).await, 1);

    // The trial ends and the card declines: invoice.payment_failed, delivered twice.
    stripe_post(
        &app,
        "/_sandbox/clock/advance",
        &json!({"seconds": 16 * 86_400}),
    )
    .await;
    let failed = wait_for_event(&app, "invoice.payment_failed").await;
    assert_eq!(deliver_signed(&app, &failed).await, StatusCode::OK);
    assert_eq!(deliver_signed(&app, &failed).await, StatusCode::OK);
    let emails = outbox(&app, &client).await;
    let failures = emails
        .iter()
        .filter(|e| e["kind"] == "payment_failed")
        .count();
    assert_eq!(failures, 1, "{emails:?}");
    assert_eq!(seen_events(&app).await, 2);
    app.stop().await;
}

#[tokio::test]
async fn events_out_of_order_end_in_the_right_state() {
    let app = TestApp::spawn_without_webhooks().await;
    let client = signed_up(&app, "Zeta", "z@zeta.test").await;
    let session = upgrade_through_checkout(&app, &client, "standard_monthly", GOOD_CARD).await;
    assert_eq!(
        app.call(&client, "confirm_checkout", &[("session_id", &session)])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        change(&app, &client, "professional_monthly").await,
        json!("Changed")
    );
    let tenant = tenant_id(&app, "z@zeta.test").await;
    let billing = app.ctx().billing.clone().expect("billing");
    let current = billing
        .state(&tenant)
        .await
        .expect("state")
        .subscription_id
        .expect("sub");

    // Everything Stripe said so far, delivered newest first.
    let mut all = events(&app).await;
    all.reverse();
    assert!(
        all.iter()
            .any(|e| e["type"] == "customer.subscription.deleted")
    );
    for event in &all {
        assert_eq!(
            deliver_signed(&app, event).await,
            StatusCode::OK,
            "{}",
            event["type"]
        );
    }
    let state = billing.state(&tenant).await.expect("state");
    assert_eq!(state.plan, Plan::ProfessionalMonthly);
    assert_eq!(state.subscription_id.as_deref(), Some(current.as_str()));
    assert_eq!(state.status, "trialing");
    assert_eq!(overview(&app, &client).await["notice"], Value::Null);

    // A failed charge that was then paid: invoice.paid arrives before invoice.payment_failed.
    let customer = state.customer_id.clone().expect("customer");
    stripe_post(
        &app,
        &format!("/_sandbox/stripe/customers/{customer}/card?declines=true"),
        &json!({}),
    )
    .await;
    stripe_post(
        &app,
        "/_sandbox/clock/advance",
        &json!({"seconds": 16 * 86_400}),
    )
    .await;
    let failed = wait_for_event(&app, "invoice.payment_failed").await;
    let invoice = failed["data"]["object"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    stripe_post(
        &app,
        &format!("/_sandbox/stripe/customers/{customer}/card?declines=false"),
        &json!({}),
    )
    .await;
    let paid = stripe_post(&app, &format!("/v1/invoices/{invoice}/pay"), &json!({})).await;
    assert_eq!(paid.status(), StatusCode::OK);
    let newer: Vec<Value> = events(&app)
        .await
        .into_iter()
        .filter(|e| !all.contains(e))
        .collect();
    let position = |kind: &str| newer.iter().position(|e| e["type"] == kind).expect(kind);
    let (failed_at, paid_at) = (position("invoice.payment_failed"), position("invoice.paid"));
    assert!(failed_at < paid_at);
    assert_eq!(deliver_signed(&app, &newer[paid_at]).await, StatusCode::OK);
    assert_eq!(
        deliver_signed(&app, &newer[failed_at]).await,
        StatusCode::OK
    );
    let state = billing.state(&tenant).await.expect("state");
    assert_eq!(
        state.status, "active",
        "the late failure does not undo the payment"
    );
    assert_eq!(state.effective_plan(), Plan::ProfessionalMonthly);
    assert_eq!(overview(&app, &client).await["notice"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn payment_failure_drops_entitlements_to_freemium_and_keeps_the_plan_settings() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Eta", "h@eta.test").await;
    upgrade_through_checkout(&app, &client, "standard_monthly", LATER_DECLINES).await;
    eventually("upgrade", || async {
        overview(&app, &client).await["plan"] == "standard_monthly"
    })
    .await;
    let tenant = tenant_id(&app, "h@eta.test").await;
    let mut directions = SyncDirections::default();
    directions.set(ModulePair::QuotesEstimates, Direction::Bidirectional);
    let paid = billing::entitlements(&app.ctx().db, &tenant)
        .await
        .expect("entitlements");
    assert!(
        paid.runnable_pairs(&directions)
            .contains(&ModulePair::QuotesEstimates)
    );

    // The trial ends; the card declines; Stripe's webhooks arrive on their own.
    stripe_post(
        &app,
        "/_sandbox/clock/advance",
        &json!({"seconds": 16 * 86_400}),
    )
    .await;
    eventually("the payment failure reaches zqsync", || async {
        poke(&app).await;
        overview(&app, &client).await["notice"].is_string()
    })
    .await;
    let now = overview(&app, &client).await;
    assert_eq!(now["plan"], "standard_monthly", "the chosen plan is kept");
    assert_eq!(now["effective_plan"], "freemium");
    assert_eq!(now["trial_ends"], Value::Null);
    let banner = app.account(&client).await.1["billing_notice"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        banner.contains("Payment for your Standard (monthly) plan failed"),
        "{banner}"
    );
    assert!(
        banner.contains("mappings and settings are kept"),
        "{banner}"
    );

    // Gated pairs keep their settings (the directions are untouched) but no longer run.
    let failing = billing::entitlements(&app.ctx().db, &tenant)
        .await
        .expect("entitlements");
    assert_eq!(failing.effective, Plan::Freemium);
    let runnable = failing.runnable_pairs(&directions);
    assert_eq!(
        runnable,
        vec![ModulePair::AccountsCustomers, ModulePair::ProductsItems]
    );
    assert_eq!(
        directions.get(ModulePair::QuotesEstimates),
        Direction::Bidirectional
    );
    let refused = failing
        .check_pair(ModulePair::QuotesEstimates)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("Upgrade to Standard (monthly)"),
        "{refused}"
    );

    eventually("the payment-failed email", || async {
        outbox(&app, &client)
            .await
            .iter()
            .any(|e| e["kind"] == "payment_failed")
    })
    .await;
    let emails = outbox(&app, &client).await;
    let failed = emails
        .iter()
        .find(|e| e["kind"] == "payment_failed")
        .expect("email");
    assert_eq!(
        failed["subject"],
        "Payment for your zqsync Standard (monthly) plan failed"
    );
    app.stop().await;
}

#[tokio::test]
async fn server_side_entitlement_checks_refuse_with_an_upgrade_link() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Theta", "t@theta.test").await;
    let tenant = tenant_id(&app, "t@theta.test").await;
    let db = &app.ctx().db;
    assert!(
        app::api::billing::require_pair(db, &tenant, ModulePair::AccountsCustomers)
            .await
            .is_ok()
    );
    let refused = app::api::billing::require_pair(db, &tenant, ModulePair::InvoicesInvoices)
        .await
        .expect_err("Freemium has no invoices");
    let message = refused.to_string();
    assert!(
        message.contains("not included in the Freemium plan"),
        "{message}"
    );
    assert!(message.contains("Change Plan (/plan)"), "{message}");
    let backfill = app::api::billing::require_historical_data(db, &tenant)
        .await
        .expect_err("no backfill on Freemium")
        .to_string();
    assert!(
        backfill.contains("only available on annual plans"),
        "{backfill}"
    );

    upgrade_through_checkout(&app, &client, "standard_annual", GOOD_CARD).await;
    eventually("upgrade", || async {
        overview(&app, &client).await["plan"] == "standard_annual"
    })
    .await;
    assert!(
        app::api::billing::require_pair(db, &tenant, ModulePair::InvoicesInvoices)
            .await
            .is_ok()
    );
    assert!(
        app::api::billing::require_historical_data(db, &tenant)
            .await
            .is_ok()
    );
    assert!(
        app::api::billing::require_pair(db, &tenant, ModulePair::PurchaseOrders)
            .await
            .is_err()
    );
    app.stop().await;
}

/// Each creating Stripe call carries an Idempotency-Key: repeating it returns Stripe's first
/// answer (the simulated Stripe replays like the real one) instead of a second customer or a
/// second subscription.
#[tokio::test]
async fn stripe_calls_are_idempotent() {
    let app = TestApp::spawn().await;
    signed_up(&app, "Iota", "i@iota.test").await;
    let tenant = tenant_id(&app, "i@iota.test").await;
    let billing = app.ctx().billing.clone().expect("billing");
    let stripe = billing.stripe();
    let first = stripe
        .create_customer(&tenant, "i@iota.test", "Iota")
        .await
        .expect("customer");
    let again = stripe
        .create_customer(&tenant, "i@iota.test", "Iota")
        .await
        .expect("customer");
    assert_eq!(first, again);
    let customers = self::stripe(&app, "/v1/customers?email=i%40iota.test").await;
    assert_eq!(customers["data"].as_array().map(Vec::len), Some(1));

    // Give the customer a card, as Checkout would.
    stripe_post(
        &app,
        &format!("/_sandbox/stripe/customers/{first}/card?declines=false"),
        &json!({}),
    )
    .await;
    let key = format!("subscribe-{tenant}-test");
    let sub = stripe
        .create_subscription(&tenant, &first, Plan::StandardMonthly, 15, &key)
        .await
        .expect("subscription");
    let replay = stripe
        .create_subscription(&tenant, &first, Plan::StandardMonthly, 15, &key)
        .await
        .expect("replayed");
    assert_eq!(sub.id, replay.id);
    assert_eq!(sub.status, "trialing");
    let cancelled = stripe.cancel_subscription(&sub.id).await.expect("cancel");
    assert_eq!(cancelled.status, "canceled");
    // DELETE is idempotent by nature (Stripe replays keys on POST only): a second cancel says
    // the subscription is gone, which a plan change treats as already done.
    let twice = stripe
        .cancel_subscription(&sub.id)
        .await
        .expect_err("already cancelled");
    assert!(
        matches!(
            twice,
            engine::billing::stripe_api::StripeApiError::Api { status: 404, .. }
        ),
        "{twice}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_trial_reminder_arrives_three_days_before_the_end() {
    let app = TestApp::spawn().await;
    let client = signed_up(&app, "Kappa", "k@kappa.test").await;
    upgrade_through_checkout(&app, &client, "professional_monthly", GOOD_CARD).await;
    eventually("upgrade", || async {
        overview(&app, &client).await["plan"] == "professional_monthly"
    })
    .await;
    let ends = overview(&app, &client).await["trial_ends"].clone();
    stripe_post(
        &app,
        "/_sandbox/clock/advance",
        &json!({"seconds": 12 * 86_400 + 3_600}),
    )
    .await;
    eventually("the trial reminder", || async {
        poke(&app).await;
        outbox(&app, &client)
            .await
            .iter()
            .any(|e| e["kind"] == "trial_ending")
    })
    .await;
    let emails = outbox(&app, &client).await;
    let reminder = emails
        .iter()
        .find(|e| e["kind"] == "trial_ending")
        .expect("reminder");
    assert_eq!(
        reminder["subject"],
        format!(
            "Your zqsync Professional (monthly) trial ends on {}",
            ends.as_str().unwrap_or_default()
        )
    );
    assert!(
        reminder["body"]
            .as_str()
            .unwrap_or_default()
            .contains("$99.00 per month")
    );
    assert_eq!(
        overview(&app, &client).await["effective_plan"],
        "professional_monthly"
    );
    app.stop().await;
}
