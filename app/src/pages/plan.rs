//! Change Plan (user menu): the plans of `domain::plans::PLAN_TABLE` side by side, the current
//! one marked, what each adds, and buttons that change the plan — through Stripe Checkout when
//! leaving Freemium (a card is needed), directly otherwise.

use domain::plans::{PLAN_TABLE, Plan, PlanRow, TRIAL_DAYS, Tier, format_price};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::billing::{ChangePlan, ChangePlanResult, PlanSummary, confirm_checkout, plan_overview};
use crate::error::AppError;

/// Loads the overview; back from Checkout (`?checkout=cs_…`) it first adopts the new
/// subscription, so the trial shows even before Stripe's webhook arrives.
async fn load(checkout: Option<String>) -> Result<PlanSummary, AppError> {
    if let Some(session_id) = checkout.filter(|id| id.starts_with("cs_")) {
        confirm_checkout(session_id).await?;
    }
    plan_overview().await
}

#[component]
pub fn ChangePlanPage() -> impl IntoView {
    let query = use_query_map();
    let checkout = move || query.read().get("checkout");
    let change = ServerAction::<ChangePlan>::new();
    let overview = Resource::new(checkout, load);

    // After a change: off to Stripe Checkout, or reload so the whole app shows the new plan.
    Effect::new(move |_| {
        if let Some(Ok(result)) = change.value().get() {
            let target = match result {
                ChangePlanResult::Checkout(url) => url,
                ChangePlanResult::Changed => "/plan".to_owned(),
            };
            let _ = window().location().set_href(&target);
        }
    });
    let change_error = move || change.value().get().and_then(Result::err);

    view! {
        <Title text="Change Plan" />
        <div class="page-header">
            <h1>"Change Plan"</h1>
            <p class="lead">
                "Every paid plan starts with a " {TRIAL_DAYS}
                "-day free trial. Changing plans cancels the old subscription without proration; you get an email for each step."
            </p>
        </div>
        <Show when=move || checkout().as_deref() == Some("cancelled")>
            <p class="notice" role="status">
                "Checkout was cancelled, so your plan did not change."
            </p>
        </Show>
        {move || {
            change_error()
                .map(|e| view! { <p class="form-error plan-error" role="alert">{e.to_string()}</p> })
        }}
        <Transition fallback=|| view! { <p class="lead">"Loading plans…"</p> }>
            {move || {
                overview
                    .get()
                    .map(|result| match result {
                        Ok(overview) => view! { <Plans overview change /> }.into_any(),
                        Err(error) => {
                            view! {
                                <p class="form-error" role="alert">{error.to_string()}</p>
                                <p>
                                    <a href="/plan">"Reload Change Plan"</a>
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

#[component]
fn Plans(overview: PlanSummary, change: ServerAction<ChangePlan>) -> impl IntoView {
    let current = Plan::from_key(&overview.plan).unwrap_or_default();
    let trial = overview.trial_ends;
    view! {
        <section class="card plan-status" aria-label="Your plan">
            <div>
                <span class="plan-status-label">"Your plan"</span>
                <strong class="plan-status-name" id="current-plan">{current.label()}</strong>
                {trial
                    .map(|date| {
                        view! {
                            <span class="trial-chip" id="trial-status">
                                "trial, ends " {date}
                            </span>
                        }
                    })}
            </div>
            <p class="hint">
                {if current.is_paid() {
                    format!(
                        "{} per {}, charged when the trial ends.",
                        format_price(current.price_cents()),
                        interval_word(current),
                    )
                } else {
                    "Free: no card needed.".to_owned()
                }}
            </p>
        </section>
        {overview
            .notice
            .map(|text| view! { <div class="banner banner-warn plan-notice" role="alert">{text}</div> })}
        <div class="plan-grid">
            {PLAN_TABLE
                .iter()
                .map(|row| view! { <PlanCard row current change /> })
                .collect_view()}
        </div>
    }
}

fn interval_word(plan: Plan) -> &'static str {
    match plan.interval() {
        Some(domain::plans::BillingInterval::Year) => "year",
        _ => "month",
    }
}

/// The tier just below, whose pairs a card says it adds to.
fn base_of(row: &PlanRow) -> Option<Plan> {
    match row.tier {
        Tier::Freemium => None,
        Tier::Standard => Some(Plan::Freemium),
        Tier::Professional => Some(match row.interval {
            Some(domain::plans::BillingInterval::Year) => Plan::StandardAnnual,
            _ => Plan::StandardMonthly,
        }),
    }
}

#[component]
fn PlanCard(
    row: &'static PlanRow,
    current: Plan,
    change: ServerAction<ChangePlan>,
) -> impl IntoView {
    let plan = row.plan;
    let is_current = plan == current;
    let step = current.change_to(plan);
    let base = base_of(row);
    let adds: Vec<&'static str> = match base {
        Some(base) => plan.adds_over(base).iter().map(|p| p.label()).collect(),
        None => plan.pairs().iter().map(|p| p.label()).collect(),
    };
    let intro = match base {
        Some(base) => format!("Everything in {}, plus:", base.tier_name()),
        None => "Syncs the essentials:".to_owned(),
    };
    let price = if plan.is_paid() {
        format!(
            "{} / {}",
            format_price(plan.price_cents()),
            interval_word(plan)
        )
    } else {
        "Free".to_owned()
    };
    let (label, primary) = if step.is_downgrade {
        ("Downgrade", false)
    } else {
        ("Upgrade", true)
    };
    let how = if step.needs_payment_method {
        format!("Asks for a card (Stripe Checkout), then starts a {TRIAL_DAYS}-day free trial.")
    } else if step.starts_trial {
        format!("Uses your saved card and starts a new {TRIAL_DAYS}-day free trial.")
    } else {
        "Cancels your subscription; nothing more is charged.".to_owned()
    };
    view! {
        <section
            class="card plan-card"
            class:plan-current=is_current
            data-plan=row.key
            aria-label=row.label
        >
            <header class="plan-card-head">
                <h2>{row.label}</h2>
                <Show when=move || is_current>
                    <span class="current-chip">"Current plan"</span>
                </Show>
            </header>
            <p class="plan-price">{price}</p>
            <p class="plan-intro">{intro}</p>
            <ul class="plan-features">
                {adds.into_iter().map(|label| view! { <li>{label}</li> }).collect_view()}
                {row.historical_data.then(|| view! { <li class="plan-extra">"Historical Data"</li> })}
            </ul>
            <div class="plan-action">
                {if is_current {
                    view! {
                        <button type="button" class="button" disabled>
                            "Current plan"
                        </button>
                    }
                        .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="button"
                            class:button-primary=primary
                            data-action=label.to_lowercase()
                            disabled=move || change.pending().get()
                            on:click=move |_| {
                                change.dispatch(ChangePlan {
                                    plan: plan.key().to_owned(),
                                });
                            }
                        >
                            {label}
                        </button>
                        <p class="hint">{how}</p>
                    }
                        .into_any()
                }}
            </div>
        </section>
    }
}

/// `Standard` for both Standard plans.
trait TierName {
    fn tier_name(self) -> &'static str;
}

impl TierName for Plan {
    fn tier_name(self) -> &'static str {
        match self.tier() {
            Tier::Freemium => "Freemium",
            Tier::Standard => "Standard",
            Tier::Professional => "Professional",
        }
    }
}
