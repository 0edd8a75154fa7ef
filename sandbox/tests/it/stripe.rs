//! Stripe over real HTTP: catalog, customers, Checkout with the hosted stand-in page, subscriptions
//! with trials and cancel, signed webhook delivery with retries, Idempotency-Key replay.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Duration;
use common::Harness;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;

type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook endpoint that fails its first `failures` deliveries, then records (signature, body).
async fn webhook_receiver(failures: usize) -> (String, Received) {
    let received: Received = Arc::new(Mutex::new(Vec::new()));
    let remaining = Arc::new(Mutex::new(failures));
    let sink = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            let remaining = remaining.clone();
            async move {
                {
                    let mut left = remaining.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                }
                let signature = headers
                    .get("stripe-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                sink.lock()
                    .unwrap()
                    .push((signature, String::from_utf8_lossy(&body).into_owned()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn signature_valid(header: &str, body: &str, secret: &str) -> bool {
    let parts: Vec<(&str, &str)> = header
        .split(',')
        .filter_map(|p| p.split_once('='))
        .collect();
    let t = parts
        .iter()
        .find(|(k, _)| *k == "t")
        .map(|(_, v)| *v)
        .unwrap_or_default();
    let v1 = parts
        .iter()
        .find(|(k, _)| *k == "v1")
        .map(|(_, v)| *v)
        .unwrap_or_default();
    let mut mac = Hmac::<sha2_011::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let fresh = t
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= 300);
    expected == v1 && fresh
}

async fn wait_for_events(received: &Received, types: &[&str]) -> Vec<Value> {
    for _ in 0..100 {
        let events: Vec<Value> = received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| serde_json::from_str(body).unwrap())
            .collect();
        if types.iter().all(|t| events.iter().any(|e| e["type"] == *t)) {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "events {types:?} never arrived; got {:?}",
        received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn catalog_prices_are_seeded_with_lookup_keys() {
    let h = Harness::start(0).await;
    let (status, prices) = h
        .stripe_get("prices?lookup_keys[]=standard_monthly&lookup_keys[]=professional_yearly")
        .await;
    assert_eq!(status, 200);
    assert_eq!(prices["object"], "list");
    assert_eq!(prices["url"], "/v1/prices");
    let keys: Vec<&str> = prices["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["lookup_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&"standard_monthly") && keys.contains(&"professional_yearly"));
    assert_eq!(prices["data"][0]["recurring"]["interval_count"], 1);
    let (status, body) = common::split(
        h.http
            .get(h.stripe("prices"))
            .bearer_auth("sk_test_wrong")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn checkout_hosted_page_completes_subscription_with_trial_and_signed_webhooks() {
    let (hook, received) = webhook_receiver(1).await;
    let h = Harness::with(|c| {
        c.records_per_module = 0;
        c.stripe_webhook_url = Some(hook);
    })
    .await;
    let (_, prices) = h.stripe_get("prices?lookup_keys[]=standard_monthly").await;
    let price = prices["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, customer) = h
        .stripe_post(
            "customers",
            &[
                ("email", "owner@tenant.example"),
                ("metadata[tenant_id]", "t-1"),
            ],
        )
        .await;
    let customer_id = customer["id"].as_str().unwrap().to_owned();
    assert!(customer_id.starts_with("cus_"));
    let (status, session) = h
        .stripe_post(
            "checkout/sessions",
            &[
                ("mode", "subscription"),
                ("customer", &customer_id),
                ("client_reference_id", "t-1"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("subscription_data[trial_period_days]", "15"),
                ("subscription_data[metadata][tenant_id]", "t-1"),
                (
                    "success_url",
                    "http://app.example/billing/done?session_id={CHECKOUT_SESSION_ID}",
                ),
                ("cancel_url", "http://app.example/billing"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["status"], "open");
    let session_id = session["id"].as_str().unwrap().to_owned();
    assert!(session_id.starts_with("cs_test_"));

    // The browser opens the hosted page and clicks the button.
    let page = h
        .http
        .get(session["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"pay\""));
    let submit = h
        .http
        .post(session["url"].as_str().unwrap())
        .form(&[("card", "4242 4242 4242 4242"), ("decision", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(submit.status(), 303);
    assert_eq!(
        submit.headers()["location"],
        format!("http://app.example/billing/done?session_id={session_id}").as_str()
    );

    let (_, completed) = h
        .stripe_get(&format!("checkout/sessions/{session_id}"))
        .await;
    assert_eq!(completed["status"], "complete");
    let subscription_id = completed["subscription"].as_str().unwrap().to_owned();
    let (_, subscription) = h
        .stripe_get(&format!("subscriptions/{subscription_id}"))
        .await;
    assert_eq!(subscription["status"], "trialing");
    assert_eq!(subscription["metadata"]["tenant_id"], "t-1");
    assert_eq!(
        subscription["trial_end"].as_i64().unwrap() - subscription["trial_start"].as_i64().unwrap(),
        15 * 86_400
    );

    let events = wait_for_events(
        &received,
        &[
            "checkout.session.completed",
            "customer.subscription.created",
        ],
    )
    .await;
    for (signature, body) in received.lock().unwrap().iter() {
        assert!(
            signature_valid(signature, body, "whsec_sandbox"),
            "Stripe-Signature verifies: {signature}"
        );
    }
    let completed_event = events
        .iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .unwrap();
    assert_eq!(
        completed_event["data"]["object"]["client_reference_id"],
        "t-1"
    );
    assert_eq!(completed_event["object"], "event");

    // Time moves to 3 days before the trial ends, then past it.
    h.clock.advance(Duration::days(12) + Duration::minutes(1));
    h.stripe_get(&format!("subscriptions/{subscription_id}"))
        .await;
    wait_for_events(&received, &["customer.subscription.trial_will_end"]).await;
    h.clock.advance(Duration::days(3));
    let (_, active) = h
        .stripe_get(&format!("subscriptions/{subscription_id}"))
        .await;
    assert_eq!(active["status"], "active");
    let events = wait_for_events(
        &received,
        &["invoice.paid", "customer.subscription.updated"],
    )
    .await;
    let paid: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "invoice.paid")
        .collect();
    assert!(
        paid.iter()
            .any(|e| e["data"]["object"]["amount_paid"] == 2900)
    );

    let (status, canceled) = common::split(
        h.http
            .delete(h.stripe(&format!("subscriptions/{subscription_id}")))
            .bearer_auth("sk_test_sandbox")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(
        canceled["cancellation_details"]["reason"],
        "cancellation_requested"
    );
    wait_for_events(&received, &["customer.subscription.deleted"]).await;

    // The receiver refused the very first delivery; the retry must still bring every event over.
    let stored: Value = h
        .http
        .get(format!(
            "{}/_sandbox/stripe/events",
            h.sandbox.urls().stripe_api
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected = stored["events"].as_array().unwrap().len();
    for _ in 0..60 {
        if received.lock().unwrap().len() == expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        received.lock().unwrap().len(),
        expected,
        "every event arrives despite the failed first attempt"
    );
}

#[tokio::test]
async fn subscriptions_created_directly_honour_trials_and_updates() {
    let h = Harness::start(0).await;
    let (_, prices) = h
        .stripe_get("prices?lookup_keys[]=professional_monthly")
        .await;
    let price = prices["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, customer) = h
        .stripe_post("customers", &[("email", "a@b.example")])
        .await;
    let customer = customer["id"].as_str().unwrap().to_owned();
    let (status, subscription) = h
        .stripe_post(
            "subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", &price),
                ("trial_period_days", "15"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{subscription}");
    assert_eq!(subscription["status"], "trialing");
    assert_eq!(
        subscription["billing_cycle_anchor"],
        subscription["trial_end"]
    );
    assert_eq!(
        subscription["items"]["data"][0]["price"]["id"],
        price.as_str()
    );
    let id = subscription["id"].as_str().unwrap().to_owned();
    let (status, updated) = h
        .stripe_post(
            &format!("subscriptions/{id}"),
            &[("proration_behavior", "none"), ("metadata[plan]", "pro")],
        )
        .await;
    assert_eq!(
        (status, updated["metadata"]["plan"].as_str()),
        (200, Some("pro"))
    );
    let (status, bad) = h
        .stripe_post(
            &format!("subscriptions/{id}"),
            &[("proration_behavior", "sometimes")],
        )
        .await;
    assert_eq!(
        (status, bad["error"]["param"].as_str()),
        (400, Some("proration_behavior"))
    );
    let (status, missing) = h.stripe_get("subscriptions/sub_nope").await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
    let (status, _) = h
        .stripe_post(
            "subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", &price),
                ("trial_period_days", "0"),
            ],
        )
        .await;
    assert_eq!(status, 400, "trial_period_days must be at least 1");
}

#[tokio::test]
async fn idempotency_key_replays_and_rejects_changed_parameters() {
    let h = Harness::start(0).await;
    let send = |email: &'static str| {
        h.http
            .post(h.stripe("customers"))
            .bearer_auth("sk_test_sandbox")
            .header("Idempotency-Key", "signup-42")
            .form(&[("email", email)])
            .send()
    };
    let first = send("x@example.com").await.unwrap();
    let first_body: Value = first.json().await.unwrap();
    let second = send("x@example.com").await.unwrap();
    assert_eq!(
        second
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let second_body: Value = second.json().await.unwrap();
    assert_eq!(first_body["id"], second_body["id"]);
    let (_, list) = h.stripe_get("customers?email=x@example.com").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (status, conflict) = common::split(send("y@example.com").await.unwrap()).await;
    assert_eq!(
        (status, conflict["error"]["type"].as_str()),
        (400, Some("idempotency_error"))
    );
}

#[tokio::test]
async fn setup_mode_checkout_saves_a_card_and_declines_are_shown() {
    let h = Harness::start(0).await;
    let (_, customer) = h
        .stripe_post("customers", &[("email", "c@d.example")])
        .await;
    let customer = customer["id"].as_str().unwrap().to_owned();
    let (status, session) = h
        .stripe_post(
            "checkout/sessions",
            &[
                ("mode", "setup"),
                ("customer", &customer),
                ("currency", "usd"),
                ("success_url", "http://app.example/ok"),
                ("cancel_url", "http://app.example/no"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session["payment_status"], "no_payment_required");
    assert!(
        session["setup_intent"]
            .as_str()
            .unwrap()
            .starts_with("seti_")
    );
    let url = session["url"].as_str().unwrap().to_owned();
    let declined = h
        .http
        .post(&url)
        .form(&[("card", "4000 0000 0000 0002"), ("decision", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 402);
    let done = h
        .http
        .post(&url)
        .form(&[("card", "4242424242424242"), ("decision", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let (_, intent) = h
        .stripe_get(&format!(
            "setup_intents/{}",
            session["setup_intent"].as_str().unwrap()
        ))
        .await;
    assert_eq!(intent["status"], "succeeded");
    let (_, saved) = h.stripe_get(&format!("customers/{customer}")).await;
    assert_eq!(
        saved["invoice_settings"]["default_payment_method"],
        intent["payment_method"]
    );
    let (status, _) = h
        .stripe_post(
            "checkout/sessions",
            &[("mode", "setup"), ("success_url", "http://x")],
        )
        .await;
    assert_eq!(status, 400, "setup mode needs a currency");
}

#[tokio::test]
async fn a_declining_card_makes_the_renewal_past_due_until_paid() {
    let (hook, received) = webhook_receiver(0).await;
    let h = Harness::with(|c| {
        c.records_per_module = 0;
        c.stripe_webhook_url = Some(hook);
    })
    .await;
    let (_, prices) = h.stripe_get("prices?lookup_keys[]=standard_yearly").await;
    let price = prices["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, customer) = h
        .stripe_post("customers", &[("email", "late@payer.example")])
        .await;
    let customer = customer["id"].as_str().unwrap().to_owned();
    let (_, subscription) = h
        .stripe_post(
            "subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", &price),
                ("trial_period_days", "15"),
            ],
        )
        .await;
    let id = subscription["id"].as_str().unwrap().to_owned();
    let card = h
        .http
        .post(format!(
            "{}/_sandbox/stripe/customers/{customer}/card?declines=true",
            h.sandbox.urls().stripe_api
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(card.status(), 200);
    h.clock.advance(Duration::days(15) + Duration::minutes(1));
    let (_, late) = h.stripe_get(&format!("subscriptions/{id}")).await;
    assert_eq!(late["status"], "past_due");
    let events = wait_for_events(&received, &["invoice.payment_failed"]).await;
    let failed = events
        .iter()
        .find(|e| e["type"] == "invoice.payment_failed")
        .unwrap();
    assert_eq!(failed["data"]["object"]["status"], "open");
    let invoice = late["latest_invoice"].as_str().unwrap().to_owned();
    let (status, declined) = h.stripe_post(&format!("invoices/{invoice}/pay"), &[]).await;
    assert_eq!(
        (status, declined["error"]["code"].as_str()),
        (402, Some("card_declined"))
    );
    h.http
        .post(format!(
            "{}/_sandbox/stripe/customers/{customer}/card?declines=false",
            h.sandbox.urls().stripe_api
        ))
        .send()
        .await
        .unwrap();
    let (status, paid) = h.stripe_post(&format!("invoices/{invoice}/pay"), &[]).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("paid")));
    assert_eq!(paid["amount_paid"], 29000);
    let (_, recovered) = h.stripe_get(&format!("subscriptions/{id}")).await;
    assert_eq!(recovered["status"], "active");
    let (status, again) = h.stripe_post(&format!("invoices/{invoice}/pay"), &[]).await;
    assert_eq!(
        (status, again["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
    common::assert_shape(
        "nango__pay_invoice",
        &common::fixture("stripe/nango__pay_invoice.json"),
        &paid,
        &[],
    );
}

#[tokio::test]
async fn trials_end_on_their_own_when_time_passes() {
    let (hook, received) = webhook_receiver(0).await;
    let h = Harness::with(|c| {
        c.records_per_module = 0;
        c.stripe_webhook_url = Some(hook);
    })
    .await;
    let (_, prices) = h.stripe_get("prices?lookup_keys[]=standard_monthly").await;
    let price = prices["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, customer) = h
        .stripe_post("customers", &[("email", "idle@tenant.example")])
        .await;
    let customer = customer["id"].as_str().unwrap().to_owned();
    h.stripe_post(
        "subscriptions",
        &[
            ("customer", &customer),
            ("items[0][price]", &price),
            ("trial_period_days", "15"),
        ],
    )
    .await;
    // No Stripe call after moving the clock: the sandbox's own ticker must notice the trial ended.
    h.clock.advance(Duration::days(16));
    let events = wait_for_events(
        &received,
        &[
            "customer.subscription.trial_will_end",
            "invoice.paid",
            "customer.subscription.updated",
        ],
    )
    .await;
    let updated = events
        .iter()
        .find(|e| e["type"] == "customer.subscription.updated")
        .unwrap();
    assert_eq!(updated["data"]["object"]["status"], "active");
    assert_eq!(updated["data"]["previous_attributes"]["status"], "trialing");
}

/// A subscription Checkout Session for the price with `lookup_key` (and a trial when given);
/// returns the hosted page's URL.
async fn checkout_url(h: &Harness, lookup_key: &str, trial_days: Option<&str>) -> String {
    let (_, prices) = h
        .stripe_get(&format!("prices?lookup_keys[]={lookup_key}"))
        .await;
    let price = prices["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, customer) = h
        .stripe_post("customers", &[("email", "owner@tenant.example")])
        .await;
    let customer = customer["id"].as_str().unwrap().to_owned();
    let mut form = vec![
        ("mode", "subscription"),
        ("customer", customer.as_str()),
        ("line_items[0][price]", price.as_str()),
        ("line_items[0][quantity]", "1"),
        (
            "success_url",
            "http://app.example/plan?checkout={CHECKOUT_SESSION_ID}",
        ),
        ("cancel_url", "http://app.example/plan"),
    ];
    if let Some(days) = trial_days {
        form.push(("subscription_data[trial_period_days]", days));
    }
    let (status, session) = h.stripe_post("checkout/sessions", &form).await;
    assert_eq!(status, 200, "{session}");
    session["url"].as_str().unwrap().to_owned()
}

/// GETs (or POSTs the form to) the hosted page; returns (status, HTML) after the sanity check.
async fn hosted(h: &Harness, url: &str, card: Option<&str>) -> (u16, String) {
    let request = match card {
        Some(card) => h
            .http
            .post(url)
            .form(&[("card", card), ("decision", "pay")]),
        None => h.http.get(url),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 303 {
        return (status, String::new());
    }
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.unwrap();
    common::assert_sane_html(&html);
    (status, html)
}

#[tokio::test]
async fn the_checkout_page_shows_the_plan_its_price_and_period_and_when_the_trial_ends() {
    let h = Harness::start(0).await;
    // The harness clock stands at 2026-05-05 09:00 UTC: a 15-day trial ends on May 20.
    let url = checkout_url(&h, "standard_monthly", Some("15")).await;
    let (status, html) = hosted(&h, &url, None).await;
    assert_eq!(status, 200);
    let text = common::page_text(&html);
    for expected in [
        "Stripe Checkout",
        "Simulated Stripe (sandbox)",
        "zqsync Subscribe to Standard",
        "15 days free",
        "Then $29.00 per month starting May 20, 2026",
        "Standard Billed monthly $29.00",
        "Free trial 15 days, ends May 20, 2026 −$29.00",
        "Total due today $0.00",
        "Email owner@tenant.example",
        "Card number",
        "Start trial",
        "Cancel and go back",
        "4242 4242 4242 4242",
        "4000 0000 0000 0341 Saves the card, but declines every later charge",
        "4000 0000 0000 0002 Declined right here",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(html.contains("<title>Subscribe to Standard · Sandbox Checkout</title>"));
    for id in ["card", "pay", "cancel"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "#{id}");
    }
    assert!(html.contains("<strong id=\"trial-end\">May 20, 2026</strong>"));

    // A declined card: the same page with the error and the number that was tried, 402.
    let (status, html) = hosted(&h, &url, Some("4000 0000 0000 0002")).await;
    assert_eq!(status, 402);
    let text = common::page_text(&html);
    assert!(text.contains("Your card was declined."), "{text}");
    assert!(text.contains("Subscribe to Standard"), "{text}");
    assert!(html.contains("value=\"4000 0000 0000 0002\""));
    assert!(html.contains("id=\"error\""));

    // Paid: back to the app; the page now says the session is closed.
    let (status, _) = hosted(&h, &url, Some("4242 4242 4242 4242")).await;
    assert_eq!(status, 303);
    let (status, html) = hosted(&h, &url, None).await;
    assert_eq!(status, 200);
    assert!(common::page_text(&html).contains("This session is no longer open."));
    assert!(!html.contains("id=\"pay\""));
}

#[tokio::test]
async fn the_checkout_page_shows_a_yearly_price_without_a_trial_and_a_card_setup() {
    let h = Harness::start(0).await;
    let url = checkout_url(&h, "professional_yearly", None).await;
    let (status, html) = hosted(&h, &url, None).await;
    assert_eq!(status, 200);
    let text = common::page_text(&html);
    for expected in [
        "Subscribe to Professional",
        "$790.00 per year",
        "Professional Billed yearly $790.00",
        "Total due today $790.00",
        "Subscribe",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(!text.contains("days free"), "{text}");
    assert!(!text.contains("Start trial"), "{text}");

    let (_, customer) = h
        .stripe_post("customers", &[("email", "c@d.example")])
        .await;
    let (_, session) = h
        .stripe_post(
            "checkout/sessions",
            &[
                ("mode", "setup"),
                ("customer", customer["id"].as_str().unwrap()),
                ("currency", "usd"),
                ("success_url", "http://app.example/ok"),
            ],
        )
        .await;
    let (status, html) = hosted(&h, session["url"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
    let text = common::page_text(&html);
    assert!(text.contains("Save a card"), "{text}");
    assert!(text.contains("Nothing is charged now."), "{text}");
    assert!(text.contains("Email c@d.example"), "{text}");

    let missing = format!("{}/checkout/pay/cs_test_nope", h.sandbox.urls().stripe_api);
    let (status, html) = hosted(&h, &missing, None).await;
    assert_eq!(status, 404);
    assert!(common::page_text(&html).contains("Checkout not found"));
}
