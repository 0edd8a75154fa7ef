//! Change Plan (user menu): the plans of `domain::plans::PLAN_TABLE` side by side, the current
//! one marked, what each adds, and buttons that change the plan — through Stripe Checkout when
//! leaving Freemium (a card is needed), directly otherwise.

use domain::plans::{PLAN_TABLE, Plan, PlanRow, TRIAL_DAYS, Tier, format_price};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::billing::{
    ChangePlan, ChangePlanResult, PlanSummary, confirm_checkout, plan_overview,
};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::shell::AccountRefresh;
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
    // Back from Checkout the plan changed while the top bar loaded: reload the top bar once
    // the overview (which adopted the subscription) is in. Effects run in the browser only.
    let refresh = use_context::<AccountRefresh>();
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let adopted = checkout().is_some_and(|c| c.starts_with("cs_"))
            && matches!(overview.get(), Some(Ok(_)));
        if adopted && let Some(refresh) = refresh {
            refresh.0.update(|n| *n += 1);
        }
        adopted
    });

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
            // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
            {move || Suspend::new(async move {
                match overview.await {
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
                    }
            })}
        </Transition>
    }
}

#[component]
fn Plans(overview: PlanSummary, change: ServerAction<ChangePlan>) -> impl IntoView {
    let current = Plan::from_key(&overview.plan).unwrap_or_default();
    // The plan a button asked for, and the confirmation dialog that asks about it.
    let chosen = PlanChoice {
        plan: RwSignal::new(None),
        asking: RwSignal::new(false),
    };
    let trial = overview.trial_ends;
    let price = format!(
        "{} per {}",
        format_price(current.price_cents()),
        interval_word(current)
    );
    // The banner above (from the shell) says what went wrong; this says what it means here.
    let status_line = if !current.is_paid() {
        "Free: no card needed.".to_owned()
    } else if overview.effective_plan != overview.plan {
        format!("{price}. Payment overdue: only Freemium modules sync until it is paid.")
    } else if trial.is_some() {
        format!("{price}, charged when the trial ends.")
    } else {
        format!("{price}, charged to your saved card.")
    };
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
            <p class="hint">{status_line}</p>
        </section>
        <div class="plan-grid">
            {[Tier::Freemium, Tier::Standard, Tier::Professional]
                .into_iter()
                .map(|tier| view! { <TierCard tier current chosen /> })
                .collect_view()}
        </div>
        <ConfirmPlanChange current chosen change trial_ends=overview.trial_would_end />
    }
}

/// The plan a button asked for, and whether the confirmation dialog is asking about it.
#[derive(Debug, Clone, Copy)]
struct PlanChoice {
    plan: RwSignal<Option<Plan>>,
    asking: RwSignal<bool>,
}

/// Asks before a plan change: the new plan, its price and billing period, the trial and when
/// it ends, what a downgrade turns off, and that the current subscription is cancelled without
/// proration.
#[component]
fn ConfirmPlanChange(
    current: Plan,
    chosen: PlanChoice,
    change: ServerAction<ChangePlan>,
    trial_ends: String,
) -> impl IntoView {
    let open = chosen.asking;
    let to = move || chosen.plan.get().unwrap_or(current);
    let title = Signal::derive(move || format!("Change to {}?", to().label()));
    let confirm_label = Signal::derive(move || format!("Change to {}", to().label()));
    let on_confirm = Callback::new(move |()| {
        if let Some(plan) = chosen.plan.get_untracked() {
            change.dispatch(ChangePlan {
                plan: plan.key().to_owned(),
            });
        }
    });
    let trial_ends = StoredValue::new(trial_ends);
    view! {
        <ConfirmDialog open title confirm_label on_confirm id="plan-change-dialog">
            {move || {
                let trial_ends = trial_ends.get_value();
                let to = to();
                let step = current.change_to(to);
                let price = if to.is_paid() {
                    format!(
                        "{} per {}, billed {}.",
                        format_price(to.price_cents()),
                        interval_word(to),
                        if interval_word(to) == "year" { "yearly" } else { "monthly" },
                    )
                } else {
                    "Free: nothing is charged.".to_owned()
                };
                let lost: Vec<&str> = current
                    .pairs()
                    .iter()
                    .filter(|p| !to.allows(**p))
                    .map(|p| p.label())
                    .collect();
                let loses_history = current.allows_historical_data() && !to.allows_historical_data();
                view! {
                    <ul class="confirm-facts">
                        <li data-fact="price">{price}</li>
                        {step
                            .starts_trial
                            .then(|| {
                                view! {
                                    <li data-fact="trial">
                                        {format!(
                                            "A {TRIAL_DAYS}-day free trial starts today and ends on {trial_ends}; the first charge is then.",
                                        )}
                                    </li>
                                }
                            })}
                        {step
                            .needs_payment_method
                            .then(|| {
                                view! {
                                    <li>"Next, you give a card on Stripe's secure Checkout page."</li>
                                }
                            })}
                        {step
                            .cancels_subscription
                            .then(|| {
                                view! {
                                    <li data-fact="cancel">
                                        {format!(
                                            "Your {} subscription is cancelled now, without proration: the unused part is not refunded.",
                                            current.label(),
                                        )}
                                    </li>
                                }
                            })}
                        {(!lost.is_empty())
                            .then(|| {
                                view! {
                                    <li data-fact="turned-off">
                                        {format!(
                                            "Turned off: {}. Their mappings and filters are kept; after an upgrade they stay off until you turn them on.",
                                            lost.join(", "),
                                        )}
                                    </li>
                                }
                            })}
                        {loses_history
                            .then(|| {
                                view! {
                                    <li data-fact="history">
                                        "Sync Historical Data is not in this plan; a backfill in progress stops."
                                    </li>
                                }
                            })}
                    </ul>
                }
            }}
        </ConfirmDialog>
    }
}

fn interval_word(plan: Plan) -> &'static str {
    match plan.interval() {
        Some(domain::plans::BillingInterval::Year) => "year",
        _ => "month",
    }
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Freemium => "Freemium",
        Tier::Standard => "Standard",
        Tier::Professional => "Professional",
    }
}

/// One column per tier: what it syncs (over the tier below), and its billing options.
#[component]
fn TierCard(tier: Tier, current: Plan, chosen: PlanChoice) -> impl IntoView {
    let rows: Vec<&'static PlanRow> = PLAN_TABLE.iter().filter(|r| r.tier == tier).collect();
    let first = rows[0].plan;
    let (intro, adds): (String, Vec<&'static str>) = match tier {
        Tier::Freemium => (
            "Syncs the essentials:".to_owned(),
            first.pairs().iter().map(|p| p.label()).collect(),
        ),
        Tier::Standard | Tier::Professional => {
            let below = if tier == Tier::Standard {
                Plan::Freemium
            } else {
                Plan::StandardMonthly
            };
            (
                format!("Everything in {}, plus:", tier_name(below.tier())),
                first.adds_over(below).iter().map(|p| p.label()).collect(),
            )
        }
    };
    let is_current_tier = current.tier() == tier;
    // Whether a change to this tier asks for a card depends only on where the tenant is now.
    let how = if tier == Tier::Freemium {
        if current.is_paid() {
            "Cancels your subscription; nothing more is charged.".to_owned()
        } else {
            String::new()
        }
    } else if current.change_to(first).needs_payment_method {
        format!("Asks for a card (Stripe Checkout), then starts a {TRIAL_DAYS}-day free trial.")
    } else {
        format!("Uses your saved card and starts a new {TRIAL_DAYS}-day free trial. No proration.")
    };
    view! {
        <section
            class="card plan-card"
            class:plan-current=is_current_tier
            aria-label=tier_name(tier)
        >
            <header class="plan-card-head">
                <h2>{tier_name(tier)}</h2>
                <p class="plan-intro">{intro}</p>
            </header>
            <ul class="plan-features">
                {adds.into_iter().map(|label| view! { <li>{label}</li> }).collect_view()}
            </ul>
            <div class="plan-options">
                {rows
                    .into_iter()
                    .map(|row| view! { <PlanOption row current chosen /> })
                    .collect_view()}
            </div>
            <p class="hint plan-how">{how}</p>
        </section>
    }
}

/// One plan (a tier billed monthly or annually): price, extras, and its button.
#[component]
fn PlanOption(row: &'static PlanRow, current: Plan, chosen: PlanChoice) -> impl IntoView {
    let plan = row.plan;
    let is_current = plan == current;
    let step = current.change_to(plan);
    let name = match row.interval {
        None => "Free",
        Some(domain::plans::BillingInterval::Month) => "Monthly",
        Some(domain::plans::BillingInterval::Year) => "Annual",
    };
    let price = if plan.is_paid() {
        format!(
            "{} / {}",
            format_price(plan.price_cents()),
            interval_word(plan)
        )
    } else {
        "$0".to_owned()
    };
    let (label, primary) = if step.is_downgrade {
        ("Downgrade", false)
    } else {
        ("Upgrade", true)
    };
    view! {
        <div class="plan-option" class:plan-option-current=is_current data-plan=row.key>
            <div class="plan-option-text">
                <span class="plan-option-name">{name}</span>
                <span class="plan-price">{price}</span>
                {row
                    .historical_data
                    .then(|| view! { <span class="plan-extra">"+ Historical Data"</span> })}
            </div>
            {if is_current {
                view! { <span class="current-chip">"Current plan"</span> }.into_any()
            } else {
                view! {
                    <button
                        type="button"
                        class="button"
                        class:button-primary=primary
                        aria-label=format!("{label} to {}", row.label)
                        on:click=move |_| {
                            chosen.plan.set(Some(plan));
                            chosen.asking.set(true);
                        }
                    >
                        {label}
                    </button>
                }
                    .into_any()
            }}
        </div>
    }
}
