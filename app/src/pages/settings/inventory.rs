//! Settings → Inventory Settings: the three ledger accounts QuickBooks needs to create an
//! inventory item from a Zoho product, picked from the company's own accounts, and which QBO
//! item types flow to Zoho (Inventory always; Service and Non-inventory when ticked).

use domain::settings::AccountRef;
use leptos::prelude::*;

use crate::api::settings::inventory::{
    AccountOption, InventoryView, SaveInventorySettings, load_inventory,
};
use crate::components::action_outcome::{ActionOutcome, successes};

#[component]
pub fn InventoryTab() -> impl IntoView {
    let save = ServerAction::<SaveInventorySettings>::new();
    let saved = successes(save);
    let data = Resource::new(move || saved.get(), |_| load_inventory());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading inventory settings…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <InventoryForm view save /> }.into_any(),
                    Err(error) => {
                        view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn InventoryForm(view: InventoryView, save: ServerAction<SaveInventorySettings>) -> impl IntoView {
    let missing = view.inventory.missing();
    let pickers = [
        (
            "income_account",
            "Income account",
            "Where sales of the item are recorded.",
            view.income,
            view.inventory.income_account.clone(),
        ),
        (
            "expense_account",
            "Expense account (cost of goods sold)",
            "Where the item's cost is recorded when it is sold.",
            view.expense,
            view.inventory.expense_account.clone(),
        ),
        (
            "asset_account",
            "Inventory asset account",
            "Where the value of the items in stock is tracked.",
            view.asset,
            view.inventory.asset_account.clone(),
        ),
    ];
    let problem = view.accounts_problem;
    let item_types = view.item_types;
    view! {
        <ActionForm action=save attr:class="settings-form">
            <section class="card settings-card">
                <header class="settings-card-head">
                    <h2>"Accounts for new inventory items"</h2>
                    <p class="muted">
                        "Zoho CRM products become QuickBooks inventory items, and QuickBooks needs three accounts for each. Zoho does not store them, so zqsync uses these. Only needed when products flow from Zoho to QuickBooks."
                    </p>
                </header>
                {problem
                    .clone()
                    .map(|p| {
                        view! {
                            <p class="notice" role="alert" id="accounts-problem">
                                {p}
                                " "
                                <a href="/settings?tab=connections">"Open Connections"</a>
                            </p>
                        }
                    })}
                {problem.is_none().then(|| view! { <input type="hidden" name="with_accounts" value="on" /> })}
                <div class="account-pickers">
                    {pickers
                        .into_iter()
                        .map(|(name, title, hint, options, current)| {
                            if problem.is_some() {
                                view! { <AccountSaved title current /> }.into_any()
                            } else {
                                view! { <AccountPicker name title hint options current /> }.into_any()
                            }
                        })
                        .collect_view()}
                </div>
                {(!missing.is_empty() && problem.is_none())
                    .then(|| {
                        view! {
                            <p class="hint">
                                {format!(
                                    "Still to choose: {}. Without all three, products from Zoho cannot be created in QuickBooks.",
                                    missing.join(", "),
                                )}
                            </p>
                        }
                    })}
            </section>
            <section class="card settings-card">
                <header class="settings-card-head">
                    <h2>"Items copied from QuickBooks to Zoho"</h2>
                    <p class="muted">
                        "Which QuickBooks item types become Zoho CRM products when items flow from QuickBooks to Zoho."
                    </p>
                </header>
                <div class="checks">
                    <label class="check">
                        <input type="checkbox" checked=true disabled=true />
                        <span>
                            <strong>"Inventory"</strong>
                            <span class="muted small">" — always"</span>
                        </span>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="service" checked=item_types.service />
                        <span>
                            <strong>"Service"</strong>
                            <span class="muted small">" — work you sell, e.g. installation or hours"</span>
                        </span>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="non_inventory" checked=item_types.non_inventory />
                        <span>
                            <strong>"Non-inventory"</strong>
                            <span class="muted small">" — goods you sell but do not track stock of"</span>
                        </span>
                    </label>
                </div>
            </section>
            <div class="form-actions">
                <button type="submit" class="button button-primary" disabled=move || save.pending().get()>
                    "Save inventory settings"
                </button>
                <ActionOutcome action=save ok_text="Inventory settings saved." />
            </div>
        </ActionForm>
    }
}

#[component]
fn AccountPicker(
    name: &'static str,
    title: &'static str,
    hint: &'static str,
    options: Vec<AccountOption>,
    current: Option<AccountRef>,
) -> impl IntoView {
    let current_id = current.as_ref().map(|a| a.id.clone());
    // A saved account QuickBooks no longer lists stays visible, so nothing changes unseen.
    let vanished = current.filter(|a| !options.iter().any(|o| o.id == a.id));
    view! {
        <label class="field">
            <span class="field-title">{title}</span>
            <select name=name>
                <option value="" selected=current_id.is_none()>
                    "Choose an account…"
                </option>
                {options
                    .into_iter()
                    .map(|o| {
                        let selected = current_id.as_deref() == Some(o.id.as_str());
                        view! {
                            <option value=o.id selected=selected>
                                {o.name}
                            </option>
                        }
                    })
                    .collect_view()}
                {vanished
                    .map(|a| {
                        view! {
                            <option value=a.id selected=true>
                                {format!("{} (no longer in QuickBooks)", a.name)}
                            </option>
                        }
                    })}
            </select>
            <span class="hint">{hint}</span>
        </label>
    }
}

/// The saved choice, read-only, while QuickBooks cannot list its accounts.
#[component]
fn AccountSaved(title: &'static str, current: Option<AccountRef>) -> impl IntoView {
    view! {
        <div class="field">
            <span class="field-title">{title}</span>
            <span class="field-value">
                {current.map_or_else(|| "Not chosen".to_owned(), |a| a.name)}
            </span>
        </div>
    }
}
