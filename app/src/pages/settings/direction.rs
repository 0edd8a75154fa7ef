//! Settings → Sync Direction: per module pair, which way records flow; the QBO entity Sales
//! Orders become; the warning when an essential pair is off; pairs outside the plan locked with
//! an upgrade link.

use domain::pairs::{Direction, ModulePair, SalesOrderTarget, SyncDirections};
use leptos::prelude::*;

use crate::api::settings::directions::{
    DirectionsView, PairEntitlement, SaveSyncDirections, load_directions, sales_orders_key,
};
use crate::components::action_outcome::{ActionOutcome, successes};
use crate::components::lock_icon::LockIcon;

#[component]
pub fn DirectionTab() -> impl IntoView {
    let save = ServerAction::<SaveSyncDirections>::new();
    let saved = successes(save);
    let data = Resource::new(move || saved.get(), |_| load_directions());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading sync directions…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <DirectionForm view save /> }.into_any(),
                    Err(error) => {
                        view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn DirectionForm(view: DirectionsView, save: ServerAction<SaveSyncDirections>) -> impl IntoView {
    // The choices as the user edits them, so the essentials warning appears before saving.
    let editing = RwSignal::new(view.directions.clone());
    let warnings = move || editing.with(SyncDirections::warnings);
    let plan = view.plan.clone();
    let sales_orders = view.directions.sales_orders;
    view! {
        <section class="card settings-card">
            <header class="settings-card-head">
                <h2>"Sync direction"</h2>
                <p class="muted">
                    "Choose, per module, which way new and changed records are copied. A disabled module's mapping and filters are hidden until you enable it again."
                </p>
            </header>
            <ActionForm action=save attr:class="settings-form">
                <table class="settings-table">
                    <thead>
                        <tr>
                            <th scope="col">"Zoho CRM ↔ QuickBooks Online"</th>
                            <th scope="col">"Direction"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .pairs
                            .into_iter()
                            .map(|entitlement| {
                                let direction = view.directions.get(entitlement.pair);
                                view! {
                                    <PairRow
                                        entitlement
                                        direction
                                        sales_orders
                                        plan=plan.clone()
                                        editing
                                    />
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                {move || {
                    warnings()
                        .into_iter()
                        .map(|w| view! { <p class="notice warning-essential" role="alert">{w}</p> })
                        .collect_view()
                }}
                {move || {
                    editing
                        .with(SyncDirections::conflicts)
                        .into_iter()
                        .map(|c| view! { <p class="form-error direction-conflict" role="alert">{c}</p> })
                        .collect_view()
                }}
                <div class="form-actions">
                    <button type="submit" class="button button-primary" disabled=move || save.pending().get()>
                        "Save directions"
                    </button>
                    <ActionOutcome action=save ok_text="Sync directions saved." />
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PairRow(
    entitlement: PairEntitlement,
    direction: Direction,
    sales_orders: SalesOrderTarget,
    plan: String,
    editing: RwSignal<SyncDirections>,
) -> impl IntoView {
    let pair = entitlement.pair;
    let label = pair.label();
    let control = if entitlement.locked {
        let included = entitlement
            .locked_until
            .unwrap_or_else(|| "a paid plan".to_owned());
        view! {
            <div class="locked" data-locked="true">
                <span class="badge badge-lock">
                    <LockIcon />
                    "Locked"
                </span>
                <span class="muted small">
                    {format!("Not in your {plan} plan; included in {included} and up.")}
                </span>
                <a href="/plan" class="button button-small" aria-label=format!("Upgrade to sync {label}")>
                    "Upgrade"
                </a>
            </div>
        }
            .into_any()
    } else {
        view! {
            <div class="direction-controls">
                <select
                    name=format!("directions[{}]", pair.key())
                    aria-label=format!("Direction for {label}")
                    on:change=move |ev| {
                        if let Some(chosen) = Direction::from_key(&event_target_value(&ev)) {
                            editing.update(|d| d.set(pair, chosen));
                        }
                    }
                >
                    {Direction::ALL
                        .into_iter()
                        .map(|d| {
                            view! {
                                <option value=d.key() selected=d == direction>
                                    {d.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                {(pair == ModulePair::SalesOrders)
                    .then(|| {
                        view! {
                            <label class="inline-label">
                                "become"
                                <select
                                    name="sales_orders"
                                    aria-label="QuickBooks entity for Sales Orders"
                                    on:change=move |ev| {
                                        let target = match event_target_value(&ev).as_str() {
                                            "estimate" => SalesOrderTarget::Estimate,
                                            _ => SalesOrderTarget::Invoice,
                                        };
                                        editing.update(|d| d.sales_orders = target);
                                    }
                                >
                                    {[(SalesOrderTarget::Invoice, "Invoices"), (SalesOrderTarget::Estimate, "Estimates")]
                                        .into_iter()
                                        .map(|(target, text)| {
                                            view! {
                                                <option value=sales_orders_key(target) selected=target == sales_orders>
                                                    {text}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                        }
                    })}
                {(direction == Direction::Disabled)
                    .then(|| {
                        view! {
                            <a class="small review-link" href=format!("/?pair={}", pair.key())>
                                "Review mapping and turn on"
                            </a>
                        }
                    })}
            </div>
        }
            .into_any()
    };
    view! {
        <tr data-pair=pair.key() class:row-locked=entitlement.locked>
            <th scope="row">
                <span class="pair-label">{label}</span>
                {pair.is_essential().then(|| view! { <span class="badge badge-essential">"Essential"</span> })}
            </th>
            <td>{control}</td>
        </tr>
    }
}
