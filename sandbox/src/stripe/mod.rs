//! The Stripe subset billing needs: customers, products, prices, Checkout (with a hosted stand-in page
//! a browser test can complete), setup intents, subscriptions with trials, cancel, invoices, events
//! delivered to the configured webhook with a valid `Stripe-Signature`, and `Idempotency-Key` replay.
//! Object shapes start from recorded Stripe test-mode payloads (`templates/`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::util::{
    bearer, form_value, header, hex, hmac_sha256, json_response, nest_form, parse_form, redirect,
};
use crate::{Shared, lock};

mod page;

const WEBHOOK_ATTEMPTS: u32 = 5;
const TRIAL_WILL_END_NOTICE_DAYS: i64 = 3;

fn template(name: &str) -> Value {
    let text = match name {
        "customer" => include_str!("templates/customer.json"),
        "product" => include_str!("templates/product.json"),
        "price" => include_str!("templates/price.json"),
        "checkout_session" => include_str!("templates/checkout_session.json"),
        "subscription" => include_str!("templates/subscription.json"),
        "invoice" => include_str!("templates/invoice.json"),
        "event" => include_str!("templates/event.json"),
        "setup_intent" => include_str!("templates/setup_intent.json"),
        "payment_method" => include_str!("templates/payment_method.json"),
        _ => "{}",
    };
    serde_json::from_str(text).unwrap_or_else(|_| json!({}))
}

fn error(
    status: StatusCode,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> Response {
    let mut body = json!({"error": {"type": kind, "message": message}});
    if let Some(code) = code {
        body["error"]["code"] = json!(code);
        body["error"]["doc_url"] = json!(format!(
            "https://stripe.com/docs/error-codes/{}",
            code.replace('_', "-")
        ));
    }
    if let Some(param) = param {
        body["error"]["param"] = json!(param);
    }
    json_response(status, &body)
}

fn missing(kind: &str, id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {kind}: '{id}'"),
        Some("id"),
    )
}

fn param_missing(param: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        Some("parameter_missing"),
        &format!("Missing required param: {param}."),
        Some(param),
    )
}

#[derive(Debug)]
pub struct Store {
    rng: StdRng,
    objects: HashMap<String, Value>,
    /// Creation order, for list endpoints (newest first).
    order: Vec<String>,
    idempotency: HashMap<String, (String, StatusCode, Bytes)>,
    events: Vec<Value>,
    undelivered: Vec<Value>,
    session_params: HashMap<String, Value>,
    trial_notices: HashSet<String>,
    /// Customers whose saved card attaches but declines charges (test card 4000 0000 0000 0341).
    declining: HashSet<String>,
}

impl Store {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed ^ 0x0057_571e),
            objects: HashMap::new(),
            order: Vec::new(),
            idempotency: HashMap::new(),
            events: Vec::new(),
            undelivered: Vec::new(),
            session_params: HashMap::new(),
            trial_notices: HashSet::new(),
            declining: HashSet::new(),
        }
    }

    fn id(&mut self, prefix: &str, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let tail: String = (0..len)
            .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
            .collect();
        format!("{prefix}{tail}")
    }

    fn put(&mut self, object: Value) -> Value {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        if !self.objects.contains_key(&id) {
            self.order.push(id.clone());
        }
        self.objects.insert(id, object.clone());
        object
    }

    fn get(&self, id: &str, object: &str) -> Option<Value> {
        self.objects
            .get(id)
            .filter(|o| o["object"] == object)
            .cloned()
    }

    fn emit(&mut self, kind: &str, object: &Value, previous: Option<Value>, now: DateTime<Utc>) {
        let mut event = template("event");
        event["id"] = json!(self.id("evt_1", 24));
        event["type"] = json!(kind);
        event["created"] = json!(now.timestamp());
        event["api_version"] = json!("2026-06-24.dahlia");
        event["pending_webhooks"] = json!(1);
        event["data"] = json!({"object": object});
        if let Some(previous) = previous {
            event["data"]["previous_attributes"] = previous;
        }
        self.events.push(event.clone());
        self.undelivered.push(event);
    }

    pub fn create_product(&mut self, name: &str, metadata: Value, now: DateTime<Utc>) -> Value {
        let mut product = template("product");
        product["id"] = json!(self.id("prod_", 14));
        product["name"] = json!(name);
        product["created"] = json!(now.timestamp());
        product["updated"] = json!(now.timestamp());
        product["metadata"] = metadata;
        self.put(product)
    }

    pub fn create_price(
        &mut self,
        product: &str,
        unit_amount: i64,
        currency: &str,
        interval: Option<&str>,
        lookup_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Value {
        let mut price = template("price");
        price["id"] = json!(self.id("price_1", 24));
        price["product"] = json!(product);
        price["unit_amount"] = json!(unit_amount);
        price["unit_amount_decimal"] = json!(unit_amount.to_string());
        price["currency"] = json!(currency);
        price["created"] = json!(now.timestamp());
        price["lookup_key"] = json!(lookup_key);
        if let Some(interval) = interval {
            price["type"] = json!("recurring");
            price["recurring"] = json!({"interval": interval, "interval_count": 1, "meter": null, "trial_period_days": null, "usage_type": "licensed"});
        }
        self.put(price)
    }

    fn create_customer(&mut self, params: &Value, now: DateTime<Utc>) -> Value {
        let mut customer = template("customer");
        customer["id"] = json!(self.id("cus_", 14));
        customer["created"] = json!(now.timestamp());
        customer["email"] = params.get("email").cloned().unwrap_or(Value::Null);
        customer["name"] = params.get("name").cloned().unwrap_or(Value::Null);
        customer["description"] = params.get("description").cloned().unwrap_or(Value::Null);
        customer["phone"] = params.get("phone").cloned().unwrap_or(Value::Null);
        customer["metadata"] = params.get("metadata").cloned().unwrap_or_else(|| json!({}));
        customer["invoice_prefix"] = json!(self.id("", 8).to_uppercase());
        customer["invoice_settings"]["default_payment_method"] = Value::Null;
        let customer = self.put(customer);
        self.emit("customer.created", &customer, None, now);
        customer
    }

    fn create_payment_method(&mut self, customer: &str, now: DateTime<Utc>) -> Value {
        let mut method = template("payment_method");
        method["id"] = json!(self.id("pm_1", 24));
        method["created"] = json!(now.timestamp());
        method["customer"] = json!(customer);
        if let Some(card) = method.get_mut("card") {
            card["brand"] = json!("visa");
            card["last4"] = json!("4242");
        }
        self.put(method)
    }

    fn create_invoice(
        &mut self,
        customer: &Value,
        subscription: &str,
        price: &Value,
        amount: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Value {
        let mut invoice = template("invoice");
        let id = self.id("in_1", 24);
        invoice["id"] = json!(id);
        invoice["created"] = json!(now.timestamp());
        invoice["customer"] = customer["id"].clone();
        invoice["customer_email"] = customer["email"].clone();
        invoice["customer_name"] = customer["name"].clone();
        invoice["billing_reason"] = json!(reason);
        invoice["description"] = Value::Null;
        for key in [
            "amount_due",
            "amount_paid",
            "subtotal",
            "subtotal_excluding_tax",
            "total",
            "total_excluding_tax",
        ] {
            invoice[key] = json!(amount);
        }
        invoice["amount_remaining"] = json!(0);
        invoice["attempted"] = json!(true);
        invoice["attempt_count"] = json!(u8::from(amount > 0));
        invoice["status"] = json!("paid");
        invoice["number"] = json!(format!(
            "{}-{:04}",
            customer["invoice_prefix"].as_str().unwrap_or("SANDBOX"),
            self.order.len()
        ));
        invoice["period_start"] = json!(now.timestamp());
        invoice["period_end"] = json!(now.timestamp());
        invoice["status_transitions"] = json!({"finalized_at": now.timestamp(), "marked_uncollectible_at": null, "paid_at": now.timestamp(), "voided_at": null});
        invoice["parent"] = json!({"quote_details": null, "subscription_details": {"metadata": {}, "subscription": subscription}, "type": "subscription_details"});
        if let Some(line) = invoice["lines"]["data"].get_mut(0) {
            line["id"] = json!(self.id("il_1", 24));
            line["invoice"] = json!(id);
            line["subscription"] = json!(subscription);
            line["amount"] = json!(amount);
            line["subtotal"] = json!(amount);
            line["description"] = json!(format!(
                "1 × {}",
                price["product"].as_str().unwrap_or_default()
            ));
            line["pricing"]["price_details"] =
                json!({"price": price["id"], "product": price["product"]});
            line["pricing"]["unit_amount_decimal"] = json!(amount.to_string());
        }
        invoice["lines"]["url"] = json!(format!("/v1/invoices/{id}/lines"));
        let declined = amount > 0
            && customer["id"]
                .as_str()
                .is_some_and(|c| self.declining.contains(c));
        if declined {
            invoice["status"] = json!("open");
            invoice["amount_paid"] = json!(0);
            invoice["amount_remaining"] = json!(amount);
            invoice["status_transitions"]["paid_at"] = Value::Null;
            invoice["next_payment_attempt"] = json!((now + Duration::days(3)).timestamp());
        }
        let invoice = self.put(invoice);
        let kind = if declined {
            "invoice.payment_failed"
        } else {
            "invoice.paid"
        };
        self.emit(kind, &invoice, None, now);
        invoice
    }

    /// `POST /v1/invoices/{id}/pay`: charges the customer's card again.
    fn pay_invoice(&mut self, id: &str, now: DateTime<Utc>) -> Result<Value, Response> {
        let mut invoice = self
            .get(id, "invoice")
            .ok_or_else(|| missing("invoice", id))?;
        if invoice["status"] == "paid" {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("invoice_not_open"),
                "Invoice is already paid.",
                None,
            ));
        }
        let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
        invoice["attempt_count"] = json!(invoice["attempt_count"].as_i64().unwrap_or(0) + 1);
        invoice["attempted"] = json!(true);
        if self.declining.contains(&customer) {
            let invoice = self.put(invoice);
            self.emit("invoice.payment_failed", &invoice, None, now);
            let mut declined = error(
                StatusCode::PAYMENT_REQUIRED,
                "card_error",
                Some("card_declined"),
                "Your card was declined.",
                None,
            );
            *declined.status_mut() = StatusCode::PAYMENT_REQUIRED;
            return Err(declined);
        }
        let amount = invoice["amount_due"].clone();
        invoice["status"] = json!("paid");
        invoice["amount_paid"] = amount;
        invoice["amount_remaining"] = json!(0);
        invoice["status_transitions"]["paid_at"] = json!(now.timestamp());
        invoice["next_payment_attempt"] = Value::Null;
        let invoice = self.put(invoice);
        self.emit("invoice.paid", &invoice, None, now);
        let subscription = invoice["parent"]["subscription_details"]["subscription"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(mut subscription) = self.get(&subscription, "subscription")
            && matches!(
                subscription["status"].as_str(),
                Some("past_due" | "incomplete")
            )
        {
            let previous = json!({"status": subscription["status"]});
            subscription["status"] = json!("active");
            let subscription = self.put(subscription);
            self.emit(
                "customer.subscription.updated",
                &subscription,
                Some(previous),
                now,
            );
        }
        Ok(invoice)
    }

    fn create_subscription(
        &mut self,
        params: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Response> {
        let customer_id = params["customer"]
            .as_str()
            .ok_or_else(|| param_missing("customer"))?
            .to_owned();
        let customer = self
            .get(&customer_id, "customer")
            .ok_or_else(|| missing("customer", &customer_id))?;
        let items = params["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return Err(param_missing("items"));
        }
        let trial_days = params["trial_period_days"]
            .as_str()
            .and_then(|d| d.parse::<i64>().ok())
            .or_else(|| params["trial_period_days"].as_i64());
        let trial_end_param = params["trial_end"]
            .as_str()
            .and_then(|d| d.parse::<i64>().ok());
        let id = self.id("sub_1", 24);
        let mut subscription = template("subscription");
        let mut item_rows = Vec::new();
        let mut first_price = Value::Null;
        let trial_end = match (trial_days, trial_end_param) {
            (Some(days), _) if days >= 1 => Some(now.timestamp() + days * 86_400),
            (Some(_), _) => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("parameter_invalid_integer"),
                    "trial_period_days must be at least 1",
                    Some("trial_period_days"),
                ));
            }
            (None, Some(end)) => Some(end),
            (None, None) => None,
        };
        let anchor = trial_end.unwrap_or(now.timestamp());
        for item in &items {
            let price_id = item["price"]
                .as_str()
                .ok_or_else(|| param_missing("items[0][price]"))?
                .to_owned();
            let price = self
                .get(&price_id, "price")
                .ok_or_else(|| missing("price", &price_id))?;
            if price["recurring"].is_null() {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    None,
                    "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
                    Some("items[0][price]"),
                ));
            }
            let mut row = subscription["items"]["data"][0].clone();
            row["id"] = json!(self.id("si_", 14));
            row["created"] = json!(now.timestamp());
            row["current_period_start"] = json!(now.timestamp());
            row["current_period_end"] = json!(period_end(anchor, &price));
            row["price"] = price.clone();
            row["plan"] = plan_from(&price);
            row["quantity"] = json!(
                item["quantity"]
                    .as_str()
                    .and_then(|q| q.parse::<i64>().ok())
                    .unwrap_or(1)
            );
            row["subscription"] = json!(id);
            if first_price.is_null() {
                first_price = price;
            }
            item_rows.push(row);
        }
        subscription["id"] = json!(id);
        subscription["created"] = json!(now.timestamp());
        subscription["start_date"] = json!(now.timestamp());
        subscription["billing_cycle_anchor"] = json!(anchor);
        subscription["billing_mode"]["updated_at"] = json!(now.timestamp());
        subscription["customer"] = json!(customer_id);
        subscription["currency"] = first_price["currency"].clone();
        subscription["items"] = json!({"object": "list", "data": item_rows, "has_more": false, "total_count": items.len(), "url": format!("/v1/subscription_items?subscription={id}")});
        subscription["plan"] = plan_from(&first_price);
        subscription["quantity"] = json!(1);
        subscription["metadata"] = params.get("metadata").cloned().unwrap_or_else(|| json!({}));
        subscription["description"] = params.get("description").cloned().unwrap_or(Value::Null);
        let default_pm = params["default_payment_method"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                customer["invoice_settings"]["default_payment_method"]
                    .as_str()
                    .map(str::to_owned)
            });
        subscription["default_payment_method"] = json!(default_pm);
        if let Some(behavior) =
            params["trial_settings"]["end_behavior"]["missing_payment_method"].as_str()
        {
            subscription["trial_settings"]["end_behavior"]["missing_payment_method"] =
                json!(behavior);
        }
        let (status, amount) = match trial_end {
            Some(end) => {
                subscription["trial_start"] = json!(now.timestamp());
                subscription["trial_end"] = json!(end);
                ("trialing", 0)
            }
            None => ("active", first_price["unit_amount"].as_i64().unwrap_or(0)),
        };
        subscription["status"] = json!(status);
        let invoice = self.create_invoice(
            &customer,
            &id,
            &first_price,
            amount,
            "subscription_create",
            now,
        );
        subscription["latest_invoice"] = invoice["id"].clone();
        if invoice["status"] != "paid" {
            // payment_behavior=allow_incomplete (the default): the first charge failed.
            subscription["status"] = json!("incomplete");
        }
        let subscription = self.put(subscription);
        self.emit("customer.subscription.created", &subscription, None, now);
        Ok(subscription)
    }

    fn update_subscription(
        &mut self,
        id: &str,
        params: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Response> {
        let mut subscription = self
            .get(id, "subscription")
            .ok_or_else(|| missing("subscription", id))?;
        if subscription["status"] == "canceled" {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                "A canceled subscription can only update its cancellation_details and metadata.",
                None,
            ));
        }
        if let Some(behavior) = params["proration_behavior"].as_str()
            && !matches!(behavior, "create_prorations" | "always_invoice" | "none")
        {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("parameter_invalid_string"),
                "Invalid proration_behavior",
                Some("proration_behavior"),
            ));
        }
        let mut previous = json!({});
        if let Some(metadata) = params.get("metadata").and_then(Value::as_object) {
            previous["metadata"] = subscription["metadata"].clone();
            for (key, value) in metadata {
                subscription["metadata"][key] = value.clone();
            }
        }
        for key in ["description", "default_payment_method"] {
            if let Some(value) = params.get(key) {
                previous[key] = subscription[key].clone();
                subscription[key] = value.clone();
            }
        }
        if let Some(flag) = params["cancel_at_period_end"].as_str() {
            previous["cancel_at_period_end"] = subscription["cancel_at_period_end"].clone();
            subscription["cancel_at_period_end"] = json!(flag == "true");
        }
        if let Some(price_id) = params["items"][0]["price"].as_str() {
            let price = self
                .get(price_id, "price")
                .ok_or_else(|| missing("price", price_id))?;
            previous["items"] = subscription["items"].clone();
            subscription["items"]["data"][0]["price"] = price.clone();
            subscription["items"]["data"][0]["plan"] = plan_from(&price);
            subscription["plan"] = plan_from(&price);
        }
        if let Some(end) = params["trial_end"].as_str() {
            previous["trial_end"] = subscription["trial_end"].clone();
            subscription["trial_end"] = if end == "now" {
                json!(now.timestamp())
            } else {
                json!(end.parse::<i64>().unwrap_or(now.timestamp()))
            };
        }
        let subscription = self.put(subscription);
        self.emit(
            "customer.subscription.updated",
            &subscription,
            Some(previous),
            now,
        );
        Ok(subscription)
    }

    fn cancel_subscription(&mut self, id: &str, now: DateTime<Utc>) -> Result<Value, Response> {
        let mut subscription = self
            .get(id, "subscription")
            .ok_or_else(|| missing("subscription", id))?;
        if subscription["status"] == "canceled" {
            return Err(error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("resource_missing"),
                &format!("No such subscription: '{id}'"),
                Some("id"),
            ));
        }
        subscription["status"] = json!("canceled");
        subscription["canceled_at"] = json!(now.timestamp());
        subscription["ended_at"] = json!(now.timestamp());
        subscription["cancellation_details"]["reason"] = json!("cancellation_requested");
        let subscription = self.put(subscription);
        self.emit("customer.subscription.deleted", &subscription, None, now);
        Ok(subscription)
    }

    /// Moves subscriptions along the clock: trial_will_end 3 days ahead, then trialing → active with a paid invoice.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        let trialing: Vec<Value> = self
            .objects
            .values()
            .filter(|o| o["object"] == "subscription" && o["status"] == "trialing")
            .cloned()
            .collect();
        for mut subscription in trialing {
            let id = subscription["id"].as_str().unwrap_or_default().to_owned();
            let Some(trial_end) = subscription["trial_end"].as_i64() else {
                continue;
            };
            if now.timestamp() >= trial_end - TRIAL_WILL_END_NOTICE_DAYS * 86_400
                && self.trial_notices.insert(id.clone())
            {
                self.emit(
                    "customer.subscription.trial_will_end",
                    &subscription,
                    None,
                    now,
                );
            }
            if now.timestamp() < trial_end {
                continue;
            }
            let customer_id = subscription["customer"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let Some(customer) = self.get(&customer_id, "customer") else {
                continue;
            };
            let price = subscription["items"]["data"][0]["price"].clone();
            let has_method = subscription["default_payment_method"].is_string()
                || customer["invoice_settings"]["default_payment_method"].is_string();
            if !has_method
                && subscription["trial_settings"]["end_behavior"]["missing_payment_method"]
                    == "cancel"
            {
                let _ = self.cancel_subscription(&id, now);
                continue;
            }
            let amount = price["unit_amount"].as_i64().unwrap_or(0);
            let invoice =
                self.create_invoice(&customer, &id, &price, amount, "subscription_cycle", now);
            let status = if invoice["status"] == "paid" {
                "active"
            } else {
                "past_due"
            };
            subscription["status"] = json!(status);
            subscription["latest_invoice"] = invoice["id"].clone();
            let subscription = self.put(subscription);
            self.emit(
                "customer.subscription.updated",
                &subscription,
                Some(json!({"status": "trialing"})),
                now,
            );
        }
    }
}

fn plan_from(price: &Value) -> Value {
    json!({
        "id": price["id"], "object": "plan", "active": price["active"], "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"], "billing_scheme": "per_unit", "created": price["created"],
        "currency": price["currency"], "interval": price["recurring"]["interval"], "interval_count": 1, "livemode": false,
        "metadata": price["metadata"], "meter": null, "nickname": price["nickname"], "product": price["product"],
        "tiers_mode": null, "transform_usage": null, "trial_period_days": null, "usage_type": "licensed"
    })
}

fn period_end(anchor: i64, price: &Value) -> i64 {
    match price["recurring"]["interval"].as_str() {
        Some("year") => anchor + 365 * 86_400,
        Some("week") => anchor + 7 * 86_400,
        Some("day") => anchor + 86_400,
        _ => anchor + 30 * 86_400,
    }
}

fn list(
    store: &Store,
    object: &str,
    url: &str,
    params: &Value,
    keep: impl Fn(&Value) -> bool,
) -> Response {
    let limit = params["limit"]
        .as_str()
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let mut rows = store
        .order
        .iter()
        .rev()
        .filter_map(|id| store.objects.get(id))
        .filter(|o| o["object"] == object && keep(o));
    if let Some(after) = params["starting_after"].as_str() {
        rows.by_ref().find(|o| o["id"] == after);
    }
    let mut data: Vec<Value> = rows.take(limit + 1).cloned().collect();
    let has_more = data.len() > limit;
    data.truncate(limit);
    json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": data, "has_more": has_more, "url": url}),
    )
}

// ---------------------------------------------------------------- HTTP

pub fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let api = Router::new()
        .route("/v1/customers", post(create_customer).get(list_customers))
        .route(
            "/v1/customers/{id}",
            get(get_customer)
                .post(update_customer)
                .delete(delete_customer),
        )
        .route("/v1/products", post(create_product).get(list_products))
        .route("/v1/products/{id}", get(get_object))
        .route("/v1/prices", post(create_price).get(list_prices))
        .route("/v1/prices/{id}", get(get_object))
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}", get(get_object))
        .route("/v1/setup_intents", post(create_setup_intent))
        .route("/v1/setup_intents/{id}", get(get_object))
        .route(
            "/v1/subscriptions",
            post(create_subscription).get(list_subscriptions),
        )
        .route(
            "/v1/subscriptions/{id}",
            get(get_object)
                .post(update_subscription)
                .delete(cancel_subscription),
        )
        .route("/v1/invoices/{id}", get(get_object))
        .route("/v1/invoices/{id}/pay", post(pay_invoice))
        .route("/v1/payment_methods/{id}", get(get_object))
        .route("/v1/events", get(list_events))
        .route("/v1/events/{id}", get(get_object))
        .route_layer(middleware::from_fn_with_state(shared.clone(), authenticate));
    Router::new()
        .merge(api)
        .route("/checkout/pay/{id}", get(hosted_page).post(hosted_submit))
        .fallback(unrecognized_url)
        .method_not_allowed_fallback(unrecognized_url)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            tick_and_deliver,
        ))
}

async fn unrecognized_url(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let message = format!(
        "Unrecognized request URL ({method}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        uri.path()
    );
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        None,
        &message,
        None,
    )
}

async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let key = bearer(request.headers(), "Bearer").or_else(|| {
        use base64::Engine;
        let basic = header(request.headers(), "authorization")?.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        Some(
            String::from_utf8(decoded)
                .ok()?
                .trim_end_matches(':')
                .to_owned(),
        )
    });
    if key.as_deref() != Some(shared.config.stripe_secret_key.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided.",
            None,
        );
    }
    let Some(idempotency_key) = header(request.headers(), "idempotency-key")
        .map(str::to_owned)
        .filter(|_| request.method() == Method::POST)
    else {
        return next.run(request).await;
    };
    if idempotency_key.len() > 255 {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "Idempotency-Key must be at most 255 characters long.",
            None,
        );
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return param_missing("body");
    };
    let fingerprint = format!(
        "{} {}?{}",
        parts.uri.path(),
        parts.uri.query().unwrap_or_default(),
        String::from_utf8_lossy(&bytes)
    );
    let replay = lock(&shared.stripe)
        .idempotency
        .get(&idempotency_key)
        .cloned();
    if let Some((seen, status, body)) = replay {
        if seen != fingerprint {
            return error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                None,
                &format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{idempotency_key}' if you meant to execute a different request."
                ),
                None,
            );
        }
        let mut response = json_response(
            status,
            &serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
        );
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return response;
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    // Stripe does not store answers to requests that failed before execution (5xx are retried).
    if !parts.status.is_server_error() {
        lock(&shared.stripe)
            .idempotency
            .insert(idempotency_key, (fingerprint, parts.status, bytes.clone()));
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn tick_and_deliver(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/_sandbox") {
        let now = shared.now();
        lock(&shared.stripe).tick(now);
    }
    let response = next.run(request).await;
    flush_events(&shared);
    response
}

/// Sends stored events to the webhook URL in the background, retrying non-2xx answers.
pub fn flush_events(shared: &Arc<Shared>) {
    let events: Vec<Value> = std::mem::take(&mut lock(&shared.stripe).undelivered);
    let Some(url) = shared.config.stripe_webhook_url.clone() else {
        return;
    };
    for event in events {
        let shared = shared.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let body = event.to_string();
            for attempt in 0..WEBHOOK_ATTEMPTS {
                // Signed with wall-clock time: receivers check it against their own clock (300 s tolerance).
                let timestamp = Utc::now().timestamp();
                let signature = hex(&hmac_sha256(
                    shared.config.stripe_webhook_secret.as_bytes(),
                    format!("{timestamp}.{body}").as_bytes(),
                ));
                let sent = shared
                    .http
                    .post(&url)
                    .header("content-type", "application/json; charset=utf-8")
                    .header("stripe-signature", format!("t={timestamp},v1={signature}"))
                    .body(body.clone())
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200 * 2u64.pow(attempt))).await;
            }
            tracing::warn!(event = %event["id"], "stripe webhook delivery gave up");
        });
    }
}

fn form(raw_query: Option<&str>, body: &Bytes) -> Value {
    let mut pairs = raw_query.map(parse_form).unwrap_or_default();
    pairs.extend(parse_form(&String::from_utf8_lossy(body)));
    nest_form(&pairs)
}

async fn create_customer(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now();
    let customer = lock(&shared.stripe).create_customer(&form(None, &body), now);
    json_response(StatusCode::OK, &customer)
}

async fn list_customers(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = form(q.as_deref(), &Bytes::new());
    let email = params["email"].as_str().map(str::to_owned);
    list(
        &lock(&shared.stripe),
        "customer",
        "/v1/customers",
        &params,
        |c| email.as_ref().is_none_or(|e| c["email"] == e.as_str()),
    )
}

async fn get_customer(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let store = lock(&shared.stripe);
    match store.objects.get(&id).filter(|o| o["object"] == "customer") {
        Some(customer) => json_response(StatusCode::OK, customer),
        None => missing("customer", &id),
    }
}

async fn update_customer(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let params = form(None, &body);
    let mut store = lock(&shared.stripe);
    let Some(mut customer) = store.get(&id, "customer") else {
        return missing("customer", &id);
    };
    let mut previous = json!({});
    for key in ["email", "name", "description", "phone"] {
        if let Some(value) = params.get(key) {
            previous[key] = customer[key].clone();
            customer[key] = value.clone();
        }
    }
    if let Some(metadata) = params.get("metadata").and_then(Value::as_object) {
        previous["metadata"] = customer["metadata"].clone();
        for (key, value) in metadata {
            customer["metadata"][key] = value.clone();
        }
    }
    if let Some(method) = params["invoice_settings"]["default_payment_method"].as_str() {
        customer["invoice_settings"]["default_payment_method"] = json!(method);
    }
    let customer = store.put(customer);
    store.emit("customer.updated", &customer, Some(previous), now);
    json_response(StatusCode::OK, &customer)
}

async fn delete_customer(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = shared.now();
    let mut store = lock(&shared.stripe);
    let Some(customer) = store.get(&id, "customer") else {
        return missing("customer", &id);
    };
    store.objects.remove(&id);
    store.emit("customer.deleted", &customer, None, now);
    json_response(
        StatusCode::OK,
        &json!({"deleted": true, "id": id, "object": "customer"}),
    )
}

async fn create_product(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now();
    let params = form(None, &body);
    let Some(name) = params["name"].as_str() else {
        return param_missing("name");
    };
    let metadata = params.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let mut store = lock(&shared.stripe);
    let mut product = store.create_product(name, metadata, now);
    if let Some(description) = params.get("description") {
        product["description"] = description.clone();
        product = store.put(product);
    }
    json_response(StatusCode::OK, &product)
}

async fn list_products(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = form(q.as_deref(), &Bytes::new());
    list(
        &lock(&shared.stripe),
        "product",
        "/v1/products",
        &params,
        |_| true,
    )
}

async fn create_price(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now();
    let params = form(None, &body);
    let Some(currency) = params["currency"].as_str() else {
        return param_missing("currency");
    };
    let Some(product) = params["product"].as_str() else {
        return param_missing("product");
    };
    let Some(amount) = params["unit_amount"]
        .as_str()
        .and_then(|a| a.parse::<i64>().ok())
    else {
        return param_missing("unit_amount");
    };
    let mut store = lock(&shared.stripe);
    if store.get(product, "product").is_none() {
        return missing("product", product);
    }
    let interval = params["recurring"]["interval"].as_str();
    let mut price = store.create_price(
        product,
        amount,
        currency,
        interval,
        params["lookup_key"].as_str(),
        now,
    );
    if let Some(metadata) = params.get("metadata") {
        price["metadata"] = metadata.clone();
        price = store.put(price);
    }
    json_response(StatusCode::OK, &price)
}

async fn list_prices(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = form(q.as_deref(), &Bytes::new());
    let lookup_keys: Vec<String> = params["lookup_keys"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let product = params["product"].as_str().map(str::to_owned);
    list(&lock(&shared.stripe), "price", "/v1/prices", &params, |p| {
        (lookup_keys.is_empty()
            || p["lookup_key"]
                .as_str()
                .is_some_and(|k| lookup_keys.iter().any(|l| l == k)))
            && product
                .as_ref()
                .is_none_or(|id| p["product"] == id.as_str())
    })
}

async fn get_object(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let kind = request
        .uri()
        .path()
        .split('/')
        .nth(2)
        .unwrap_or_default()
        .to_owned();
    let object = match kind.as_str() {
        "products" => "product",
        "prices" => "price",
        "checkout" => "checkout.session",
        "setup_intents" => "setup_intent",
        "subscriptions" => "subscription",
        "invoices" => "invoice",
        "payment_methods" => "payment_method",
        _ => "event",
    };
    let store = lock(&shared.stripe);
    if object == "event" {
        return match store.events.iter().find(|e| e["id"] == id.as_str()) {
            Some(event) => json_response(StatusCode::OK, event),
            None => missing("event", &id),
        };
    }
    match store.get(&id, object) {
        Some(found) => json_response(StatusCode::OK, &found),
        None => missing(object, &id),
    }
}

async fn list_events(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = form(q.as_deref(), &Bytes::new());
    let store = lock(&shared.stripe);
    let kind = params["type"].as_str();
    let data: Vec<Value> = store
        .events
        .iter()
        .rev()
        .filter(|e| kind.is_none_or(|k| e["type"] == k))
        .take(100)
        .cloned()
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": data, "has_more": false, "url": "/v1/events"}),
    )
}

fn new_setup_intent(store: &mut Store, customer: Option<&str>, now: DateTime<Utc>) -> Value {
    let mut intent = template("setup_intent");
    let id = store.id("seti_1", 24);
    intent["client_secret"] = json!(format!("{id}_secret_{}", store.id("", 24)));
    intent["id"] = json!(id);
    intent["created"] = json!(now.timestamp());
    intent["customer"] = json!(customer);
    intent["status"] = json!("requires_payment_method");
    intent["payment_method"] = Value::Null;
    store.put(intent)
}

async fn create_setup_intent(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now();
    let params = form(None, &body);
    let mut store = lock(&shared.stripe);
    let intent = new_setup_intent(&mut store, params["customer"].as_str(), now);
    json_response(StatusCode::OK, &intent)
}

async fn create_session(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now();
    let params = form(None, &body);
    let Some(mode) = params["mode"].as_str().map(str::to_owned) else {
        return param_missing("mode");
    };
    if !matches!(mode.as_str(), "setup" | "subscription" | "payment") {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_invalid_string"),
            "Invalid mode",
            Some("mode"),
        );
    }
    let Some(success_url) = params["success_url"].as_str().map(str::to_owned) else {
        return param_missing("success_url");
    };
    let mut store = lock(&shared.stripe);
    let customer = params["customer"].as_str().map(str::to_owned);
    if let Some(id) = &customer
        && store.get(id, "customer").is_none()
    {
        return missing("customer", id);
    }
    let mut amount_total = 0;
    let mut currency = params["currency"].as_str().map(str::to_owned);
    if mode == "setup" && currency.is_none() && params["payment_method_types"].is_null() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "You must provide one of `currency` or `payment_method_types` in `setup` mode.",
            Some("currency"),
        );
    }
    if mode != "setup" {
        let Some(items) = params["line_items"]
            .as_array()
            .filter(|a| !a.is_empty())
            .cloned()
        else {
            return param_missing("line_items");
        };
        for item in items {
            let price_id = item["price"].as_str().unwrap_or_default();
            let Some(price) = store.get(price_id, "price") else {
                return missing("price", price_id);
            };
            amount_total += price["unit_amount"].as_i64().unwrap_or(0);
            currency = price["currency"].as_str().map(str::to_owned);
        }
        if params["subscription_data"]["trial_period_days"].is_string() {
            amount_total = 0;
        }
    }
    let mut session = template("checkout_session");
    let id = store.id("cs_test_a1", 56);
    session["id"] = json!(id);
    session["created"] = json!(now.timestamp());
    session["expires_at"] = json!((now + Duration::hours(24)).timestamp());
    session["mode"] = json!(mode);
    session["currency"] = json!(currency);
    session["customer"] = json!(customer);
    session["customer_email"] = params.get("customer_email").cloned().unwrap_or(Value::Null);
    session["client_reference_id"] = params
        .get("client_reference_id")
        .cloned()
        .unwrap_or(Value::Null);
    session["metadata"] = params.get("metadata").cloned().unwrap_or_else(|| json!({}));
    session["success_url"] = json!(success_url);
    session["cancel_url"] = params.get("cancel_url").cloned().unwrap_or(Value::Null);
    session["payment_method_collection"] = params
        .get("payment_method_collection")
        .cloned()
        .unwrap_or_else(|| json!("always"));
    session["url"] = json!(format!("{}/checkout/pay/{id}", shared.urls.stripe_api));
    session["status"] = json!("open");
    session["subscription"] = Value::Null;
    if mode == "setup" {
        let intent = new_setup_intent(&mut store, customer.as_deref(), now);
        session["setup_intent"] = intent["id"].clone();
        session["payment_status"] = json!("no_payment_required");
        session["amount_total"] = Value::Null;
        session["amount_subtotal"] = Value::Null;
    } else {
        session["setup_intent"] = Value::Null;
        session["payment_status"] = json!("unpaid");
        session["amount_total"] = json!(amount_total);
        session["amount_subtotal"] = json!(amount_total);
    }
    store.session_params.insert(id, params);
    let session = store.put(session);
    json_response(StatusCode::OK, &session)
}

async fn create_subscription(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now();
    let result = lock(&shared.stripe).create_subscription(&form(None, &body), now);
    result.map_or_else(|e| e, |s| json_response(StatusCode::OK, &s))
}

async fn list_subscriptions(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = form(q.as_deref(), &Bytes::new());
    let customer = params["customer"].as_str().map(str::to_owned);
    let status = params["status"].as_str().map(str::to_owned);
    list(
        &lock(&shared.stripe),
        "subscription",
        "/v1/subscriptions",
        &params,
        |s| {
            customer
                .as_ref()
                .is_none_or(|c| s["customer"] == c.as_str())
                && match status.as_deref() {
                    Some("all") => true,
                    Some(wanted) => s["status"] == wanted,
                    None => s["status"] != "canceled",
                }
        },
    )
}

async fn update_subscription(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let result = lock(&shared.stripe).update_subscription(&id, &form(None, &body), now);
    result.map_or_else(|e| e, |s| json_response(StatusCode::OK, &s))
}

async fn cancel_subscription(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    let now = shared.now();
    let result = lock(&shared.stripe).cancel_subscription(&id, now);
    result.map_or_else(|e| e, |s| json_response(StatusCode::OK, &s))
}

async fn hosted_page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = shared.now();
    let store = lock(&shared.stripe);
    let Some(session) = store.get(&id, "checkout.session") else {
        return session_missing();
    };
    if session["status"] != "open" {
        return session_closed(&session);
    }
    page::checkout_page(&store, &session, &shared.config.app_name, now, None)
        .respond(StatusCode::OK)
}

fn session_missing() -> Response {
    page::notice_page(
        "Checkout not found",
        "There is no Checkout Session at this address. Start again from the plan page.",
    )
    .respond(StatusCode::NOT_FOUND)
}

fn session_closed(session: &Value) -> Response {
    let detail = if session["status"] == "complete" {
        "This checkout is complete; the payment details were saved. You can close this page."
    } else {
        "This Checkout Session has expired. Start again from the plan page."
    };
    page::notice_page("This session is no longer open.", detail).respond(StatusCode::OK)
}

/// Completes (or abandons) the session the way Stripe's hosted page would, then redirects back.
async fn hosted_submit(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let fields = parse_form(&String::from_utf8_lossy(&body));
    let mut store = lock(&shared.stripe);
    let Some(mut session) = store.get(&id, "checkout.session") else {
        return session_missing();
    };
    if fields.iter().any(|(k, v)| k == "decision" && v == "cancel") {
        return redirect(session["cancel_url"].as_str().unwrap_or("/"));
    }
    if session["status"] != "open" {
        return session_closed(&session);
    }
    let typed = form_value(&fields, "card").unwrap_or_default();
    let card: String = typed.chars().filter(char::is_ascii_digit).collect();
    if card == "4000000000000002" {
        let declined = (
            "Your card was declined. Try another card: the test cards are listed below.",
            typed.as_str(),
        );
        return page::checkout_page(
            &store,
            &session,
            &shared.config.app_name,
            now,
            Some(declined),
        )
        .respond(StatusCode::PAYMENT_REQUIRED);
    }
    let customer_id = match session["customer"].as_str() {
        Some(id) => id.to_owned(),
        None => {
            let email = session["customer_email"]
                .as_str()
                .unwrap_or("customer@example.com")
                .to_owned();
            let customer =
                store.create_customer(&json!({"email": email, "name": "Sandbox Customer"}), now);
            customer["id"].as_str().unwrap_or_default().to_owned()
        }
    };
    let method = store.create_payment_method(&customer_id, now);
    if card == "4000000000000341" {
        // Stripe's test card that attaches fine but declines every charge.
        store.declining.insert(customer_id.clone());
    }
    if let Some(mut customer) = store.get(&customer_id, "customer") {
        customer["invoice_settings"]["default_payment_method"] = method["id"].clone();
        store.put(customer);
    }
    session["customer"] = json!(customer_id);
    session["status"] = json!("complete");
    if let Some(intent_id) = session["setup_intent"].as_str().map(str::to_owned) {
        if let Some(mut intent) = store.get(&intent_id, "setup_intent") {
            intent["status"] = json!("succeeded");
            intent["payment_method"] = method["id"].clone();
            intent["customer"] = json!(customer_id);
            let intent = store.put(intent);
            store.emit("setup_intent.succeeded", &intent, None, now);
        }
    } else {
        session["payment_status"] = json!("paid");
    }
    if session["mode"] == "subscription" {
        let params = store.session_params.get(&id).cloned().unwrap_or_default();
        let items: Vec<Value> = params["line_items"].as_array().cloned().unwrap_or_default();
        let mut request = json!({"customer": customer_id, "items": items, "default_payment_method": method["id"]});
        if let Some(data) = params["subscription_data"].as_object() {
            for (key, value) in data {
                request[key] = value.clone();
            }
        }
        match store.create_subscription(&request, now) {
            Ok(subscription) => session["subscription"] = subscription["id"].clone(),
            Err(response) => return response,
        }
    }
    let session = store.put(session);
    store.emit("checkout.session.completed", &session, None, now);
    let target = session["success_url"]
        .as_str()
        .unwrap_or("/")
        .replace("{CHECKOUT_SESSION_ID}", &id);
    let mut response = redirect(&target);
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

async fn pay_invoice(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = shared.now();
    let result = lock(&shared.stripe).pay_invoice(&id, now);
    result.map_or_else(|e| e, |invoice| json_response(StatusCode::OK, &invoice))
}

/// `POST /_sandbox/stripe/customers/{id}/card?declines=true|false`: make the saved card fail (or work).
pub async fn control_card(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let declines = q
        .as_deref()
        .map(parse_form)
        .and_then(|f| f.into_iter().find(|(k, _)| k == "declines"))
        .is_none_or(|(_, v)| v != "false");
    let mut store = lock(&shared.stripe);
    if store.get(&id, "customer").is_none() {
        return missing("customer", &id);
    }
    if declines {
        store.declining.insert(id.clone());
    } else {
        store.declining.remove(&id);
    }
    json_response(
        StatusCode::OK,
        &json!({"customer": id, "declines": declines}),
    )
}

pub async fn control_events(State(shared): State<Arc<Shared>>) -> Response {
    let store = lock(&shared.stripe);
    json_response(StatusCode::OK, &json!({"events": store.events}))
}
