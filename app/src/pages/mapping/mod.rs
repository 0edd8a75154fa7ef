//! QuickBooks Mapping, the home page (SPEC §4): per enabled module pair, every QuickBooks field
//! (green marker: standard, red: custom) with the Zoho CRM field or static value that fills
//! it. Edits stay in the browser until Submit, which validates on the server and saves only a
//! valid mapping; errors appear next to their field.

mod off_pair;
mod picker;
mod sticky_bar;
mod table;

use domain::mapping::{Mapping, MappingIssue};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::mapping::{
    MappingPageData, PageNotice, get_mapping_page, reset_default_mapping, save_mapping,
    sync_mappable_fields,
};
use crate::components::get_started::GetStarted;
use crate::components::module_selector::{ModuleSelector, NoModules};
use crate::components::summary::SyncSummary;
use crate::components::unsaved::{confirm, guard_unsaved_changes};
use crate::error::AppError;
use crate::session::drafts::use_draft;
use crate::session::idle::message_with_login_link;

#[component]
pub fn MappingPage() -> impl IntoView {
    let query = use_query_map();
    let pair = move || query.read().get("pair");
    // Bumped after Reset Default Mapping and Sync Mappable Fields: the server's view changed.
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (pair(), version.get()),
        |(pair, _)| get_mapping_page(pair),
    );
    // Messages that outlive a reload of the data (what Sync Mappable Fields found).
    let flash = RwSignal::new(Vec::<PageNotice>::new());

    view! {
        <Title text="QuickBooks Mapping" />
        <div class="page-header">
            <h1>"QuickBooks Mapping"</h1>
            <p class="lead">
                "Choose which Zoho CRM field fills each QuickBooks Online field, per module. Changes apply to the next sync after you Submit."
            </p>
        </div>
        <GetStarted />
        <SyncSummary />
        <Transition fallback=|| view! { <p class="muted">"Loading the mapping…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <MappingEditor data version flash /> }.into_any(),
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
                <a href="/">"Back to QuickBooks Mapping"</a>
                " · "
                <a href="/settings">"Settings"</a>
            </p>
        </section>
    }
}

/// Before both systems are connected there are no fields of theirs to map.
#[component]
fn ConnectFirst() -> impl IntoView {
    view! {
        <section class="card empty-state" id="connect-first">
            <div class="empty-icon" aria-hidden="true">
                "⇄"
            </div>
            <h2>"Connect both systems to map their fields"</h2>
            <p>
                "The mapping pairs your own Zoho CRM fields with your QuickBooks Online fields, custom ones included. Connect "
                <a href="/settings?tab=connections">"Zoho CRM"</a>
                " and "
                <a href="/quickbooks">"QuickBooks Online"</a>
                " first; the mapping then appears here with a sensible default."
            </p>
        </section>
    }
}

/// What a button is doing right now (they are disabled meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Idle,
    Saving,
    SyncingFields,
    ResettingDefault,
    TurningOn,
}

#[component]
fn MappingEditor(
    data: MappingPageData,
    version: RwSignal<u32>,
    flash: RwSignal<Vec<PageNotice>>,
) -> impl IntoView {
    if !data.both_connected {
        return view! { <ConnectFirst /> }.into_any();
    }
    let (Some(pair), Some(catalogue)) = (data.pair.clone(), data.catalogue.clone()) else {
        return view! { <NoModules /> }.into_any();
    };
    let pair_label = data
        .pairs
        .iter()
        .find(|p| p.key == pair)
        .map(|p| p.label.clone())
        .unwrap_or_default();
    let catalogue = StoredValue::new(catalogue);
    let baseline = RwSignal::new(data.mapping.clone());
    let draft = RwSignal::new(data.mapping);
    let is_default = RwSignal::new(data.is_default);
    let dirty = Memo::new(move |_| draft.with(|d| baseline.with(|b| d != b)));
    guard_unsaved_changes(dirty);
    let errors = RwSignal::new(Vec::<MappingIssue>::new());
    let warnings = RwSignal::new(Vec::<MappingIssue>::new());
    let status = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(Busy::Idle);
    // Bumped by Reset: the rows are drawn again from the restored mapping.
    let generation = RwSignal::new(0u32);
    // Unsaved edits outlive a session that ends (kept in the browser, offered back).
    let drafts = use_draft("mapping", &pair, draft, baseline, generation);
    let mut notices = data.notices;
    // Shown once, on the page drawn after the action that left them.
    flash.update_untracked(|carried| notices.extend(std::mem::take(carried)));

    let pair_for_submit = pair.clone();
    let submit = move |_| {
        let pair = pair_for_submit.clone();
        let mapping = draft.get_untracked();
        busy.set(Busy::Saving);
        status.set(None);
        spawn_local(async move {
            match save_mapping(pair, mapping.clone()).await {
                Ok(result) => {
                    errors.set(result.errors);
                    warnings.set(result.warnings);
                    if result.saved {
                        baseline.set(mapping);
                        is_default.set(false);
                        status.set(Some((
                            true,
                            "Mapping saved. The next sync uses it.".to_owned(),
                        )));
                    } else {
                        let count = errors.with_untracked(Vec::len);
                        status.set(Some((
                            false,
                            format!(
                                "Not saved: {count} {} to fix. Nothing was changed.",
                                if count == 1 { "problem" } else { "problems" }
                            ),
                        )));
                    }
                }
                Err(error) => status.set(Some((false, drafts.error_text(&error)))),
            }
            busy.set(Busy::Idle);
        });
    };
    let reset = move |_| {
        draft.set(baseline.get_untracked());
        errors.set(Vec::new());
        warnings.set(Vec::new());
        status.set(None);
        generation.update(|g| *g += 1);
    };
    let pair_for_default = pair.clone();
    let label_for_default = pair_label.clone();
    let reset_default = move |_| {
        if !confirm(&format!(
            "Replace the mapping of {label_for_default} with zqsync's built-in defaults? Your saved mapping of this module is removed."
        )) {
            return;
        }
        let pair = pair_for_default.clone();
        busy.set(Busy::ResettingDefault);
        spawn_local(async move {
            match reset_default_mapping(pair).await {
                Ok(()) => {
                    // The reload draws the defaults; nothing is left unsaved.
                    baseline.set(draft.get_untracked());
                    flash.set(vec![PageNotice::info("The default mapping is restored.")]);
                    version.update(|v| *v += 1);
                }
                Err(error) => {
                    status.set(Some((false, error.to_string())));
                    busy.set(Busy::Idle);
                }
            }
        });
    };
    let pair_for_sync = pair.clone();
    let sync_fields = move |_| {
        if dirty.get_untracked()
            && !confirm(
                "Sync Mappable Fields reloads the page and drops your unsaved changes. Continue?",
            )
        {
            return;
        }
        let pair = pair_for_sync.clone();
        busy.set(Busy::SyncingFields);
        status.set(None);
        spawn_local(async move {
            match sync_mappable_fields(pair).await {
                Ok(result) => {
                    let mut found = vec![PageNotice::info(format!(
                        "Fields synced: {} from Zoho CRM and {} from QuickBooks Online.",
                        result.zoho_fields, result.qbo_fields
                    ))];
                    found.extend(result.notices);
                    baseline.set(draft.get_untracked());
                    flash.set(found);
                    version.update(|v| *v += 1);
                }
                Err(error) => {
                    flash.set(Vec::new());
                    status.set(Some((false, error.to_string())));
                    busy.set(Busy::Idle);
                }
            }
        });
    };
    // General findings: not about one row of the table.
    let general_issues = move || {
        catalogue.with_value(|c| {
            errors.with(|errors| {
                errors
                    .iter()
                    .filter(|i| {
                        i.qbo_field.as_deref().is_none_or(|path| {
                            c.qbo_field(path).is_none() && !draft.with(|d| d.row(path).is_some())
                        })
                    })
                    .map(|i| i.message.clone())
                    .collect::<Vec<_>>()
            })
        })
    };
    let busy_now = move || busy.get() != Busy::Idle;

    // An off pair: review the mapping, then turn it on from here.
    let off_banner = data.off.as_ref().map(|offer| {
        off_pair::off_pair_card(offer, pair.clone(), busy, status, flash, version, dirty)
    });

    let toolbar = view! {
        <div class="toolbar card">
                <ModuleSelector pairs=data.pairs current=pair base="/" />
                <div class="toolbar-status">
                    <Show when=move || dirty.get()>
                        <span class="chip chip-unsaved" role="status">
                            "Unsaved changes"
                        </span>
                    </Show>
                    <Show when=move || is_default.get() && !dirty.get()>
                        <span class="chip">"Default mapping"</span>
                    </Show>
                </div>
                <div class="toolbar-actions">
                    <button
                        type="button"
                        class="button"
                        on:click=sync_fields
                        disabled=busy_now
                    >
                        {move || {
                            if busy.get() == Busy::SyncingFields {
                                "Syncing fields…"
                            } else {
                                "Sync Mappable Fields"
                            }
                        }}
                    </button>
                    <button
                        type="button"
                        class="button"
                        on:click=reset_default
                        disabled=busy_now
                    >
                        "Reset Default Mapping"
                    </button>
                </div>
            </div>
    }
    .into_any();
    let notice_list = view! {
        <div class="notices">
                {notices
                    .into_iter()
                    .map(|n| {
                        let warn = n.level == "warn";
                        view! {
                            <p class="page-notice" class:page-notice-warn=warn role="status">
                                {n.message}
                            </p>
                        }
                    })
                    .collect_view()}
            </div>
    }
    .into_any();
    let status_line = view! {
        {move || {
                status
                    .get()
                    .map(|(ok, message)| {
                        view! {
                            <div
                                class="save-status"
                                class:save-ok=ok
                                class:save-error=!ok
                                role="alert"
                            >
                                <p>{message_with_login_link(message)}</p>
                                <ul>
                                    {general_issues()
                                        .into_iter()
                                        .map(|m| view! { <li>{m}</li> })
                                        .collect_view()}
                                </ul>
                            </div>
                        }
                    })
            }}
    }
    .into_any();
    let table = table::mapping_table(
        &pair_label,
        generation,
        draft,
        baseline,
        errors,
        warnings,
        catalogue,
    );
    let action_bar = sticky_bar::sticky_bar(dirty, busy, status, errors, reset, submit);
    view! {
        <div class="mapping">
            {toolbar} {drafts.offer()} {off_banner} {notice_list} {status_line} {table} {action_bar}
        </div>
    }
    .into_any()
}

/// An id-safe form of a field path (`BillAddr.Line1`, `CustomField[2]`).
fn dom_id(prefix: &str, path: &str) -> String {
    let safe: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{prefix}-{safe}")
}

/// The × that clears a row's mapping (the table's Combine rows and the picker).
#[component]
fn ClearButton(
    label: String,
    path: StoredValue<String>,
    draft: RwSignal<Mapping>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="icon-button"
            aria-label=format!("Clear {label}")
            title="Clear this mapping"
            on:click=move |_| path.with_value(|p| draft.update(|m| m.clear(p)))
        >
            "×"
        </button>
    }
}
