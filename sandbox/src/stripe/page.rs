//! The hosted Checkout stand-in (`/checkout/pay/{session}`): what is being bought (the product,
//! its price and billing period, the trial and the day it ends), a card number field (`#card`),
//! the Pay button (`#pay`) and Cancel (`#cancel`), and the test cards that behave differently.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::Store;
use crate::pages::{Page, money};
use crate::util::html_escape;

const BRAND: &str = "Stripe Checkout";
const MARKER: &str = "Simulated Stripe (sandbox)";

/// Stripe's test cards, as the page lists them.
const TEST_CARDS: [(&str, &str); 3] = [
    (
        "4242 4242 4242 4242",
        "Succeeds: saves the card, and later charges go through.",
    ),
    (
        "4000 0000 0000 0341",
        "Saves the card, but declines every later charge: the first invoice after the trial fails.",
    ),
    ("4000 0000 0000 0002", "Declined right here, on this page."),
];

const CSS: &str = r#"
main{max-width:980px}
.checkout{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:20px;align-items:start}
.checkout .card+.card{margin-top:0}
.merchant{font-weight:650;margin:0 0 18px;color:var(--muted)}
.summary .what{margin:0;color:var(--muted);font-size:1.05rem;font-weight:600}
.summary .price{font-size:2.1rem;font-weight:700;line-height:1.15;margin:4px 0}
.summary .price small{font-size:.95rem;font-weight:500;color:var(--muted)}
.summary .then{margin:0 0 18px;color:var(--muted)}
.lines{margin:0;border-top:1px solid var(--border)}
.lines div{display:flex;justify-content:space-between;gap:16px;padding:10px 0;border-bottom:1px solid var(--border)}
.lines dt{margin:0}.lines dd{margin:0;white-space:nowrap;text-align:right}
.lines dt small{display:block;color:var(--muted);font-size:.84rem}
.lines .total{font-weight:650;border-bottom:0}
.pay h2{margin-bottom:14px}
.pay .email{display:flex;gap:8px;margin:0 0 14px;font-size:.92rem}
.pay .email strong{min-width:0;overflow-wrap:anywhere}
.pay label{display:grid;gap:6px;font-weight:550;font-size:.92rem}
.pay input{font:inherit;font-weight:400;padding:10px 12px;border:1px solid var(--border-strong);
border-radius:8px;background:var(--surface);color:var(--text);width:100%;letter-spacing:.04em}
.pay input:focus{border-color:var(--accent);outline:none;box-shadow:0 0 0 3px var(--accent-soft)}
.hint{display:block;margin-top:6px;font-weight:400;color:var(--muted);font-size:.82rem}
.pay .button{width:100%;margin-top:14px;padding:11px 16px}
.pay .button-primary{font-size:1.02rem}
.cards{margin:18px 0 0;padding:12px 14px;border-radius:8px;background:var(--surface-muted);
border:1px solid var(--border);font-size:.86rem}
.cards h3{font-size:.86rem;margin:0 0 6px}
.cards table{border-collapse:collapse;width:100%}
.cards td{padding:4px 0;vertical-align:top}
.cards td:first-child{white-space:nowrap;padding-right:12px;font-family:ui-monospace,"SFMono-Regular",Menlo,monospace}
.notice{max-width:560px;margin:0 auto;text-align:center;padding:40px 28px}
.notice p{color:var(--muted)}
@media (max-width:760px){.checkout{grid-template-columns:1fr}}
"#;

/// `2900` cents of `usd` → `$29.00`; other currencies are written with their code.
fn amount(cents: i64, currency: &str) -> String {
    #[allow(clippy::cast_precision_loss)]
    let value = money(cents as f64 / 100.0);
    match currency.to_ascii_lowercase().as_str() {
        "usd" => format!("${value}"),
        "eur" => format!("€{value}"),
        "gbp" => format!("£{value}"),
        other => format!("{value} {}", other.to_uppercase()),
    }
}

/// `("per month", "Billed monthly")` for a recurring price, `None` for a one-time one.
fn period(price: &Value) -> Option<(String, String)> {
    let interval = price["recurring"]["interval"].as_str()?;
    let count = price["recurring"]["interval_count"].as_i64().unwrap_or(1);
    Some(if count == 1 {
        let adverb = match interval {
            "day" => "daily".to_owned(),
            other => format!("{other}ly"),
        };
        (format!("per {interval}"), format!("Billed {adverb}"))
    } else {
        (
            format!("every {count} {interval}s"),
            format!("Billed every {count} {interval}s"),
        )
    })
}

/// What the session buys, read from its line item and its product.
struct Purchase {
    product: String,
    unit_amount: i64,
    currency: String,
    period: Option<(String, String)>,
    trial_days: Option<i64>,
}

fn purchase(store: &Store, session: &Value, params: &Value) -> Option<Purchase> {
    let price_id = params["line_items"][0]["price"].as_str()?;
    let price = store.get(price_id, "price")?;
    let product = price["product"]
        .as_str()
        .and_then(|id| store.get(id, "product"))
        .and_then(|p| p["name"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "Subscription".to_owned());
    let trial = &params["subscription_data"]["trial_period_days"];
    let trial_days = trial
        .as_str()
        .and_then(|d| d.parse::<i64>().ok())
        .or_else(|| trial.as_i64())
        .filter(|d| *d >= 1);
    Some(Purchase {
        product,
        unit_amount: price["unit_amount"].as_i64().unwrap_or(0),
        currency: price["currency"]
            .as_str()
            .or_else(|| session["currency"].as_str())
            .unwrap_or("usd")
            .to_owned(),
        period: period(&price),
        trial_days,
    })
}

/// The open session's page; `error` (a declined card) is shown above the form, with the card
/// number that was tried.
pub fn checkout_page(
    store: &Store,
    session: &Value,
    app: &str,
    now: DateTime<Utc>,
    error: Option<(&str, &str)>,
) -> Page<'static> {
    let id = session["id"].as_str().unwrap_or_default();
    let params = store.session_params.get(id).cloned().unwrap_or_default();
    let mode = session["mode"].as_str().unwrap_or_default();
    let email = session["customer"]
        .as_str()
        .and_then(|c| store.get(c, "customer"))
        .and_then(|c| c["email"].as_str().map(str::to_owned))
        .or_else(|| session["customer_email"].as_str().map(str::to_owned));
    let bought = (mode != "setup")
        .then(|| purchase(store, session, &params))
        .flatten();

    let (heading, summary, button) = match &bought {
        Some(p) => {
            let price = amount(p.unit_amount, &p.currency);
            let (per, billed) = p
                .period
                .clone()
                .unwrap_or_else(|| (String::new(), "One-time payment".to_owned()));
            let heading = if p.period.is_some() {
                format!("Subscribe to {}", p.product)
            } else {
                format!("Pay {app}")
            };
            let (big, then, due_today, button) = match p.trial_days {
                Some(days) => {
                    let ends = (now + Duration::days(days))
                        .format("%B %-d, %Y")
                        .to_string();
                    (
                        format!("{days} days free"),
                        format!(
                            "<p class=\"then\" id=\"checkout-then\">Then {price} {per} starting \
                             <strong id=\"trial-end\">{ends}</strong>. Cancel before then and you \
                             pay nothing.</p>"
                        ),
                        amount(0, &p.currency),
                        "Start trial",
                    )
                }
                None => (
                    format!("{price} <small>{per}</small>"),
                    String::new(),
                    price.clone(),
                    if p.period.is_some() {
                        "Subscribe"
                    } else {
                        "Pay"
                    },
                ),
            };
            let trial_line = p
                .trial_days
                .map(|days| {
                    format!(
                        "<div><dt>Free trial<small>{days} days, ends {}</small></dt><dd>−{price}</dd></div>\n",
                        (now + Duration::days(days)).format("%b %-d, %Y")
                    )
                })
                .unwrap_or_default();
            let summary = format!(
                "<h1 class=\"what\">{heading}</h1>\n<p class=\"price\" id=\"checkout-price\">{big}</p>\n{then}\n\
                 <dl class=\"lines\">\n\
                 <div id=\"checkout-product\"><dt>{product}<small id=\"checkout-period\">{billed}</small></dt><dd>{price}</dd></div>\n\
                 {trial_line}\
                 <div class=\"total\"><dt>Total due today</dt><dd id=\"checkout-due\">{due_today}</dd></div>\n</dl>",
                heading = html_escape(&heading),
                product = html_escape(&p.product),
                billed = html_escape(&billed),
            );
            (heading, summary, button)
        }
        None => (
            "Save a card".to_owned(),
            format!(
                "<h1 class=\"what\">Save a card</h1>\n<p class=\"price\">{}</p>\n\
                 <p class=\"then\">{} keeps the card for future payments. Nothing is charged now.</p>",
                amount(0, session["currency"].as_str().unwrap_or("usd")),
                html_escape(app)
            ),
            "Save card",
        ),
    };

    let alert = error
        .map(|(message, _)| {
            format!(
                "<p class=\"alert\" id=\"error\" role=\"alert\">{}</p>\n",
                html_escape(message)
            )
        })
        .unwrap_or_default();
    let card = error.map_or(TEST_CARDS[0].0, |(_, card)| card);
    let email_line = email
        .map(|e| {
            format!(
                "<p class=\"email\"><span class=\"muted\">Email</span> <strong>{}</strong></p>\n",
                html_escape(&e)
            )
        })
        .unwrap_or_default();
    let cards: String = TEST_CARDS
        .iter()
        .map(|(number, what)| format!("<tr><td>{number}</td><td>{}</td></tr>", html_escape(what)))
        .collect();
    let main = format!(
        "<div class=\"checkout\">\n<section class=\"card summary\" aria-label=\"Order summary\">\n\
         <p class=\"merchant\">{app}</p>\n{summary}\n</section>\n\
         <section class=\"card pay\" aria-labelledby=\"pay-heading\">\n<h2 id=\"pay-heading\">Pay with card</h2>\n\
         {alert}{email_line}<form method=\"post\" action=\"/checkout/pay/{id}\">\n\
         <label for=\"card\">Card number</label>\n\
         <input id=\"card\" name=\"card\" inputmode=\"numeric\" autocomplete=\"cc-number\" value=\"{card}\">\n\
         <span class=\"hint\">Any number works except the test cards below; expiry date and CVC are not asked here.</span>\n\
         <button type=\"submit\" class=\"button button-primary\" id=\"pay\" name=\"decision\" value=\"pay\">{button}</button>\n\
         <button type=\"submit\" class=\"button\" id=\"cancel\" name=\"decision\" value=\"cancel\">Cancel and go back</button>\n\
         </form>\n<div class=\"cards\" id=\"test-cards\"><h3>Test cards</h3><table>{cards}</table></div>\n\
         </section>\n</div>",
        app = html_escape(app),
        id = html_escape(id),
        card = html_escape(card),
    );
    Page {
        title: format!("{heading} · Sandbox Checkout"),
        brand: BRAND,
        context: None,
        marker: MARKER,
        css: CSS,
        main,
    }
}

/// A session that cannot be paid any more, or none at all.
pub fn notice_page(heading: &str, detail: &str) -> Page<'static> {
    Page {
        title: format!("{heading} · Sandbox Checkout"),
        brand: BRAND,
        context: None,
        marker: MARKER,
        css: CSS,
        main: format!(
            "<section class=\"card notice\">\n<h1 id=\"status\">{}</h1>\n<p>{}</p>\n</section>",
            html_escape(heading),
            html_escape(detail)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_and_periods_read_as_on_stripe() {
        assert_eq!(amount(2900, "usd"), "$29.00");
        assert_eq!(amount(790_000, "USD"), "$7,900.00");
        assert_eq!(amount(500, "chf"), "5.00 CHF");
        let monthly = json!({"recurring": {"interval": "month", "interval_count": 1}});
        assert_eq!(
            period(&monthly),
            Some(("per month".to_owned(), "Billed monthly".to_owned()))
        );
        let yearly = json!({"recurring": {"interval": "year", "interval_count": 1}});
        assert_eq!(
            period(&yearly),
            Some(("per year".to_owned(), "Billed yearly".to_owned()))
        );
        assert_eq!(period(&json!({"recurring": null})), None);
    }
}
