//! Filters (SPEC §5): per module pair and direction, rows of field · condition · value that a
//! record must meet to sync (all of them, or any one). A record that does not is logged Not
//! Valid and not written. Edits stay in the browser until Submit.

use domain::fields::{DataType, FieldCatalogue};
use domain::filters::{Combinator, Condition, FilterRow, PairFilters};
use domain::pairs::Flow;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::filters::{
    FilterRowIssue, FiltersPageData, get_filters, remove_all_filters, save_filters,
};
use crate::components::module_selector::{ModuleSelector, NoModules};
use crate::components::save_outcome::SaveOutcome;
use crate::components::unsaved::{confirm, guard_unsaved_changes};
use crate::error::AppError;
use crate::session::drafts::use_draft;

#[component]
pub fn FiltersPage() -> impl IntoView {
    let query = use_query_map();
    let pair = move || query.read().get("pair");
    let data = Resource::new(pair, get_filters);

    view! {
        <Title text="Filters" />
        <div class="page-header">
            <h1>"Filters"</h1>
            <p class="lead">
                "Decide which records sync, per module and direction. A record that does not pass is listed as Not Valid in the logs and is not written."
            </p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading filters…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <FiltersEditor data /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LoadError(error: AppError) -> impl IntoView {
    view! {
        <section class="card">
            <p class="form-error" role="alert">{error.to_string()}</p>
            <p>
                <a href="/filters">"Back to Filters"</a>
                " · "
                <a href="/settings">"Settings"</a>
            </p>
        </section>
    }
}

/// A field a row may test: name (Zoho API name or QBO path), label and type.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    name: String,
    label: String,
    data_type: DataType,
}

fn choices(catalogue: &FieldCatalogue, flow: Flow) -> Vec<Choice> {
    match flow {
        Flow::ZohoToQbo => catalogue
            .zoho
            .iter()
            .map(|f| Choice {
                name: f.api_name.clone(),
                label: f.label.clone(),
                data_type: f.data_type,
            })
            .collect(),
        Flow::QboToZoho => catalogue
            .qbo
            .iter()
            .map(|f| Choice {
                name: f.path.clone(),
                label: f.label.clone(),
                data_type: f.data_type,
            })
            .collect(),
    }
}

fn flow_from_key(key: &str) -> Option<Flow> {
    Flow::ALL.into_iter().find(|f| f.key() == key)
}

/// The conditions a field's type allows (all of them for a field the catalogue lacks).
fn conditions_for(choices: &[Choice], field: &str) -> Vec<Condition> {
    choices.iter().find(|c| c.name == field).map_or_else(
        || Condition::ALL.to_vec(),
        |c| Condition::for_type(c.data_type),
    )
}

/// The condition's storage key (its serde name), for `<option value>`.
fn condition_key(condition: Condition) -> &'static str {
    match condition {
        Condition::Equals => "equals",
        Condition::NotEquals => "not_equals",
        Condition::Contains => "contains",
        Condition::DoesNotContain => "does_not_contain",
        Condition::StartsWith => "starts_with",
        Condition::EndsWith => "ends_with",
        Condition::IsEmpty => "is_empty",
        Condition::IsNotEmpty => "is_not_empty",
        Condition::GreaterThan => "greater_than",
        Condition::LessThan => "less_than",
        Condition::Before => "before",
        Condition::After => "after",
    }
}

fn condition_from_key(key: &str) -> Option<Condition> {
    Condition::ALL
        .into_iter()
        .find(|c| condition_key(*c) == key)
}

#[component]
fn FiltersEditor(data: FiltersPageData) -> impl IntoView {
    let (Some(pair), Some(catalogue)) = (data.pair.clone(), data.catalogue.clone()) else {
        return view! { <NoModules /> }.into_any();
    };
    let flows: Vec<Flow> = data.flows.iter().filter_map(|k| flow_from_key(k)).collect();
    let flow = RwSignal::new(flows.first().copied().unwrap_or(Flow::ZohoToQbo));
    let catalogue = StoredValue::new(catalogue);
    let baseline = RwSignal::new(data.filters.clone());
    let draft = RwSignal::new(data.filters);
    let dirty = Memo::new(move |_| draft.with(|d| baseline.with(|b| d != b)));
    guard_unsaved_changes(dirty);
    let errors = RwSignal::new(Vec::<FilterRowIssue>::new());
    let status = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    // Bumped by Reset and direction changes: rows are drawn again from the draft.
    let generation = RwSignal::new(0u32);
    // Unsaved edits outlive a session that ends (kept in the browser, offered back).
    let drafts = use_draft("filters", &pair, draft, baseline, generation);
    let field_choices = Memo::new(move |_| catalogue.with_value(|c| choices(c, flow.get())));

    let add_row = move |_| {
        let first = field_choices.with_untracked(|c| c.first().cloned());
        let Some(first) = first else { return };
        let condition = Condition::for_type(first.data_type)
            .first()
            .copied()
            .unwrap_or(Condition::Equals);
        let current = flow.get_untracked();
        draft.update(|d| {
            d.get_mut(current)
                .rows
                .push(FilterRow::new(&first.name, condition, ""));
        });
        generation.update(|g| *g += 1);
        // Focus the new row's field so the keyboard carries on there.
        let index = draft.with_untracked(|d| d.get(current).rows.len()) - 1;
        request_animation_frame(move || {
            if let Some(el) = document().get_element_by_id(&format!("filter-field-{index}"))
                && let Ok(el) =
                    leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::HtmlElement>(el)
            {
                let _ = el.focus();
            }
        });
    };
    let pair_for_submit = pair.clone();
    let submit = move |_| {
        let pair = pair_for_submit.clone();
        let filters = draft.get_untracked();
        busy.set(true);
        status.set(None);
        spawn_local(async move {
            match save_filters(pair, filters.clone()).await {
                Ok(result) if result.saved => {
                    baseline.set(filters);
                    errors.set(Vec::new());
                    status.set(Some((
                        true,
                        "Filters saved. The next sync applies them.".to_owned(),
                    )));
                }
                Ok(result) => {
                    let current = flow.get_untracked();
                    let elsewhere: Vec<&str> = Flow::ALL
                        .into_iter()
                        .filter(|f| *f != current)
                        .filter(|f| {
                            result
                                .errors
                                .iter()
                                .any(|e| flow_from_key(&e.flow) == Some(*f))
                        })
                        .map(Flow::label)
                        .collect();
                    let mut message = format!(
                        "Not saved: {} to fix. Nothing was changed.",
                        plural(result.errors.len(), "row", "rows")
                    );
                    for label in elsewhere {
                        message.push_str(&format!(" Some are under {label}."));
                    }
                    errors.set(result.errors);
                    status.set(Some((false, message)));
                }
                Err(error) => status.set(Some((false, drafts.error_text(&error)))),
            }
            busy.set(false);
        });
    };
    let reset = move |_| {
        draft.set(baseline.get_untracked());
        errors.set(Vec::new());
        status.set(None);
        generation.update(|g| *g += 1);
    };
    let pair_for_remove = pair.clone();
    let remove_all = move |_| {
        if !confirm(
            "Remove all filters of this module, in both directions? Every new or changed record will sync again.",
        ) {
            return;
        }
        let pair = pair_for_remove.clone();
        busy.set(true);
        spawn_local(async move {
            match remove_all_filters(pair).await {
                Ok(()) => {
                    baseline.set(PairFilters::default());
                    draft.set(PairFilters::default());
                    errors.set(Vec::new());
                    status.set(Some((true, "All filters removed.".to_owned())));
                    generation.update(|g| *g += 1);
                }
                Err(error) => status.set(Some((false, error.to_string()))),
            }
            busy.set(false);
        });
    };
    let set_combinator = move |combinator: Combinator| {
        let current = flow.get_untracked();
        draft.update(|d| d.get_mut(current).combinator = combinator);
    };
    let combinator = move || draft.with(|d| d.get(flow.get()).combinator);
    let row_count = move || draft.with(|d| d.get(flow.get()).rows.len());
    let has_any = move || draft.with(|d| !d.zoho_to_qbo.is_empty() || !d.qbo_to_zoho.is_empty());

    let toolbar = view! {
        <div class="toolbar card">
                <ModuleSelector pairs=data.pairs current=pair base="/filters" />
                <fieldset class="segmented" aria-label="Direction">
                    <legend class="visually-hidden">"Direction"</legend>
                    {flows
                        .iter()
                        .map(|f| {
                            let f = *f;
                            view! {
                                <label class="segment" class:segment-active=move || flow.get() == f>
                                    <input
                                        type="radio"
                                        name="flow"
                                        value=f.key()
                                        prop:checked=move || flow.get() == f
                                        on:change=move |_| {
                                            flow.set(f);
                                            generation.update(|g| *g += 1);
                                        }
                                    />
                                    {f.label()}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <div class="toolbar-status">
                    <Show when=move || dirty.get()>
                        <span class="chip chip-unsaved" role="status">
                            "Unsaved changes"
                        </span>
                    </Show>
                </div>
            </div>
    }
    .into_any();
    let status_line = view! {
        {move || {
                status
                    .get()
                    .map(|(ok, message)| {
                        view! {
                            <div class="save-status" class:save-ok=ok class:save-error=!ok role="alert">
                                <p>{crate::session::idle::message_with_login_link(message)}</p>
                            </div>
                        }
                    })
            }}
    }
    .into_any();
    let rows_card = view! {
        <section class="card filter-card" aria-label="Filter rows">
                <div class="filter-head">
                    <h2>{move || format!("Records syncing {}", flow.get().label())}</h2>
                    <fieldset class="segmented segmented-small">
                        <legend class="visually-hidden">"Combine rows"</legend>
                        <label class="segment" class:segment-active=move || combinator() == Combinator::And>
                            <input
                                type="radio"
                                name="combinator"
                                value="and"
                                prop:checked=move || combinator() == Combinator::And
                                on:change=move |_| set_combinator(Combinator::And)
                            />
                            "Match all rows (AND)"
                        </label>
                        <label class="segment" class:segment-active=move || combinator() == Combinator::Or>
                            <input
                                type="radio"
                                name="combinator"
                                value="or"
                                prop:checked=move || combinator() == Combinator::Or
                                on:change=move |_| set_combinator(Combinator::Or)
                            />
                            "Match any row (OR)"
                        </label>
                    </fieldset>
                </div>
                {move || {
                    generation.get();
                    let count = draft.with_untracked(|d| d.get(flow.get_untracked()).rows.len());
                    if count == 0 {
                        return view! {
                            <p class="filter-empty muted">
                                "No filters: every new or changed record syncs in this direction."
                            </p>
                        }
                            .into_any();
                    }
                    let current = flow.get_untracked();
                    view! {
                        <ol class="filter-rows">
                            {(0..count)
                                .map(|index| {
                                    view! {
                                        <FilterRowEditor
                                            index
                                            flow=current
                                            draft
                                            errors
                                            field_choices
                                            generation
                                        />
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                        .into_any()
                }}
                <button
                    type="button"
                    class="button add-row"
                    on:click=add_row
                    aria-label="Add a filter row"
                >
                    "+ Add row"
                </button>
                <p class="hint">
                    {move || {
                        let rows = row_count();
                        if rows > 1 {
                            match combinator() {
                                Combinator::And => "A record syncs when it meets every row.",
                                Combinator::Or => "A record syncs when it meets at least one row.",
                            }
                        } else {
                            ""
                        }
                    }}
                </p>
            </section>
    }
    .into_any();
    let action_bar = view! {
        <div class="action-bar">
                <button
                    type="button"
                    class="button button-quiet danger-text"
                    on:click=remove_all
                    disabled=move || busy.get() || !has_any() && !baseline.with(|b| !b.zoho_to_qbo.is_empty() || !b.qbo_to_zoho.is_empty())
                >
                    "Remove All Filters"
                </button>
                <span class="spacer"></span>
                <button
                    type="button"
                    class="button"
                    on:click=reset
                    disabled=move || busy.get() || !dirty.get()
                >
                    "Reset"
                </button>
                <button
                    type="button"
                    class="button button-primary"
                    on:click=submit
                    disabled=move || busy.get()
                >
                    {move || if busy.get() { "Saving…" } else { "Submit" }}
                </button>
                <SaveOutcome
                    status
                    invalid=Signal::derive(move || errors.with(Vec::len))
                    invalid_rows=".filter-rows .row-invalid"
                />
            </div>
    }
    .into_any();
    view! {
        <div class="filters">{toolbar} {drafts.offer()} {status_line} {rows_card} {action_bar}</div>
    }
    .into_any()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[component]
fn FilterRowEditor(
    index: usize,
    flow: Flow,
    draft: RwSignal<PairFilters>,
    errors: RwSignal<Vec<FilterRowIssue>>,
    field_choices: Memo<Vec<Choice>>,
    generation: RwSignal<u32>,
) -> impl IntoView {
    let row = Memo::new(move |_| draft.with(|d| d.get(flow).rows.get(index).cloned()));
    let number = index + 1;
    let edit = move |change: &dyn Fn(&mut FilterRow)| {
        draft.update(|d| {
            if let Some(row) = d.get_mut(flow).rows.get_mut(index) {
                change(row);
            }
        });
    };
    let conditions = Memo::new(move |_| {
        let field = row.with(|r| r.as_ref().map(|r| r.field.clone()).unwrap_or_default());
        field_choices.with(|c| conditions_for(c, &field))
    });
    let on_field = move |ev: leptos::ev::Event| {
        let field = event_target_value(&ev);
        let allowed = field_choices.with_untracked(|c| conditions_for(c, &field));
        edit(&|r| {
            r.field.clone_from(&field);
            if !allowed.contains(&r.condition) {
                r.condition = allowed.first().copied().unwrap_or(Condition::Equals);
            }
        });
    };
    let on_condition = move |ev: leptos::ev::Event| {
        if let Some(condition) = condition_from_key(&event_target_value(&ev)) {
            edit(&|r| r.condition = condition);
        }
    };
    let needs_value = move || row.with(|r| r.as_ref().is_none_or(|r| r.condition.needs_value()));
    let value_kind = move || {
        let field = row.with(|r| r.as_ref().map(|r| r.field.clone()).unwrap_or_default());
        let data_type =
            field_choices.with(|c| c.iter().find(|c| c.name == field).map(|c| c.data_type));
        match data_type.map(DataType::family) {
            Some(domain::fields::TypeFamily::Date) => "YYYY-MM-DD",
            Some(domain::fields::TypeFamily::Number) => "a number",
            _ => "value",
        }
    };
    let row_errors = move || {
        errors.with(|all| {
            all.iter()
                .filter(|e| e.row == index && flow_from_key(&e.flow) == Some(flow))
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
        })
    };
    let remove = move |_| {
        draft.update(|d| {
            let rows = &mut d.get_mut(flow).rows;
            if index < rows.len() {
                rows.remove(index);
            }
        });
        // Errors name rows by position, which just moved.
        errors.set(Vec::new());
        generation.update(|g| *g += 1);
    };
    let selected_field = row.get_untracked().map(|r| r.field).unwrap_or_default();

    view! {
        <li class="filter-row" class:row-invalid=move || !row_errors().is_empty()>
            <div class="filter-controls">
                <span class="row-number" aria-hidden="true">{number}</span>
                <select
                    id=format!("filter-field-{index}")
                    class="select"
                    aria-label=format!("Field of row {number}")
                    on:change=on_field
                >
                    {move || {
                        let selected = selected_field.clone();
                        let mut list = field_choices.get();
                        if !selected.is_empty() && !list.iter().any(|c| c.name == selected) {
                            list.insert(
                                0,
                                Choice {
                                    name: selected.clone(),
                                    label: format!("{selected} (not found)"),
                                    data_type: DataType::Other,
                                },
                            );
                        }
                        list.into_iter()
                            .map(|c| {
                                let is_selected = c.name == selected;
                                view! {
                                    <option value=c.name selected=is_selected>
                                        {format!("{} · {}", c.label, c.data_type.label())}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
                <select
                    class="select"
                    aria-label=format!("Condition of row {number}")
                    on:change=on_condition
                    prop:value=move || row.with(|r| r.as_ref().map(|r| condition_key(r.condition)).unwrap_or_default())
                >
                    {move || {
                        let current = row.with_untracked(|r| r.as_ref().map(|r| r.condition));
                        conditions
                            .get()
                            .into_iter()
                            .map(|c| {
                                view! {
                                    <option value=condition_key(c) selected=Some(c) == current>
                                        {c.label()}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
                <Show when=needs_value fallback=|| view! { <span class="no-value muted small">"no value needed"</span> }>
                    <input
                        type="text"
                        class="text-input"
                        aria-label=format!("Value of row {number}")
                        placeholder=value_kind
                        prop:value=move || {
                            row.with_untracked(|r| r.as_ref().map(|r| r.value.clone()).unwrap_or_default())
                        }
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            edit(&|r| r.value.clone_from(&value));
                        }
                    />
                </Show>
                <button
                    type="button"
                    class="icon-button"
                    aria-label=format!("Remove row {number}")
                    title="Remove this row"
                    on:click=remove
                >
                    "×"
                </button>
            </div>
            {move || {
                row_errors()
                    .into_iter()
                    .map(|m| view! { <p class="field-error">{m}</p> })
                    .collect_view()
            }}
        </li>
    }
    .into_any()
}
