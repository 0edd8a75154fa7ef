//! QuickBooks Mapping, the home page (SPEC §4): per enabled module pair, every QuickBooks field
//! (green marker: standard, red: custom) with the Zoho CRM field or static value that fills
//! it. Edits stay in the browser until Submit, which validates on the server and saves only a
//! valid mapping; errors appear next to their field.

use domain::fields::{
    DataType, FieldCatalogue, FieldSource, QboField, Requirement, ZohoField, search,
};
use domain::mapping::{Mapping, MappingIssue, MappingSource};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::mapping::{
    MappingPageData, PageNotice, get_mapping_page, reset_default_mapping, save_mapping,
    sync_mappable_fields, turn_on_pair,
};
use crate::components::get_started::GetStarted;
use crate::components::module_selector::{ModuleSelector, NoModules};
use crate::components::save_outcome::SaveOutcome;
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
    let off_banner = data.off.clone().map(|offer| {
        let pair = pair.clone();
        let turn_on = move |_| {
            let pair = pair.clone();
            busy.set(Busy::TurningOn);
            status.set(None);
            spawn_local(async move {
                match turn_on_pair(pair).await {
                    Ok(message) => {
                        flash.set(vec![PageNotice::info(message)]);
                        version.update(|v| *v += 1);
                    }
                    Err(error) => {
                        status.set(Some((false, error.to_string())));
                        busy.set(Busy::Idle);
                    }
                }
            });
        };
        view! {
            <section class="card turn-on-card" aria-label="This module is off">
                <div>
                    <h2>{format!("{} is off", offer.pair_label)}</h2>
                    <p>
                        "Nothing of this module is synced yet. Review its mapping below (Submit saves it), then turn it on: records created or changed from then on are copied "
                        {format!("({}).", offer.direction)}
                    </p>
                </div>
                <div class="turn-on-actions">
                    <button
                        type="button"
                        class="button button-primary"
                        on:click=turn_on
                        disabled=move || busy_now() || dirty.get()
                    >
                        {move || if busy.get() == Busy::TurningOn { "Turning on…" } else { "Review done: turn on" }}
                    </button>
                    <Show when=move || dirty.get()>
                        <span class="muted small">"Submit or reset your changes first."</span>
                    </Show>
                </div>
            </section>
        }
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
    let table = view! {
        <section class="card mapping-card" aria-label=format!("Mapping of {pair_label}")>
                <div class="legend" aria-hidden="true">
                    <span>
                        <span class="marker marker-standard"></span>
                        "QuickBooks standard field"
                    </span>
                    <span>
                        <span class="marker marker-custom"></span>
                        "QuickBooks custom field"
                    </span>
                </div>
                <table class="mapping-table">
                    <thead>
                        <tr>
                            <th scope="col">"QuickBooks Online field"</th>
                            <th scope="col">"Zoho CRM field or static value"</th>
                            <th scope="col" class="col-static">
                                "Static Field"
                            </th>
                        </tr>
                    </thead>
                    {move || {
                        generation.get();
                        let rows = table_rows(&catalogue.get_value(), &draft.get_untracked());
                        view! {
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|field| {
                                        view! {
                                            <MappingRow
                                                field
                                                draft
                                                baseline
                                                errors
                                                warnings
                                                catalogue
                                            />
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        }
                    }}
                </table>
            </section>
    }
    .into_any();
    let action_bar = view! {
        <div class="action-bar">
                <span class="muted small">
                    {move || {
                        if dirty.get() {
                            "You have unsaved changes."
                        } else {
                            "All changes are saved."
                        }
                    }}
                </span>
                <button
                    type="button"
                    class="button"
                    on:click=reset
                    disabled=move || busy_now() || !dirty.get()
                >
                    "Reset"
                </button>
                <button
                    type="button"
                    class="button button-primary"
                    on:click=submit
                    disabled=busy_now
                >
                    {move || if busy.get() == Busy::Saving { "Saving…" } else { "Submit" }}
                </button>
                <SaveOutcome
                    status
                    invalid=Signal::derive(move || errors.with(Vec::len))
                    invalid_rows=".mapping-table tr.row-invalid"
                />
            </div>
    }
    .into_any();
    view! {
        <div class="mapping">
            {toolbar} {drafts.offer()} {off_banner} {notice_list} {status_line} {table} {action_bar}
        </div>
    }
    .into_any()
}

/// The table's rows: every QuickBooks field of the catalogue, then mapped fields the catalogue
/// no longer lists (so they can be seen and cleared).
fn table_rows(catalogue: &FieldCatalogue, mapping: &Mapping) -> Vec<QboField> {
    let mut rows = catalogue.qbo.clone();
    for row in &mapping.fields {
        if catalogue.qbo_field(&row.qbo_field).is_none()
            && !rows.iter().any(|f| f.path == row.qbo_field)
        {
            rows.push(QboField {
                path: row.qbo_field.clone(),
                label: format!("{} (no longer in QuickBooks)", row.qbo_field),
                data_type: DataType::Other,
                requirement: Requirement::Optional,
                reference: None,
                source: FieldSource::Custom,
                choices: Vec::new(),
                max_length: None,
            });
        }
    }
    rows
}

/// An id-safe form of a field path (`BillAddr.Line1`, `CustomField[2]`).
fn dom_id(prefix: &str, path: &str) -> String {
    let safe: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{prefix}-{safe}")
}

/// Which editor a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    Zoho,
    Static,
    Combine,
}

#[component]
fn MappingRow(
    field: QboField,
    draft: RwSignal<Mapping>,
    baseline: RwSignal<Mapping>,
    errors: RwSignal<Vec<MappingIssue>>,
    warnings: RwSignal<Vec<MappingIssue>>,
    catalogue: StoredValue<FieldCatalogue>,
) -> impl IntoView {
    let path = StoredValue::new(field.path.clone());
    let label = field.label.clone();
    let source = Memo::new(move |_| path.with_value(|p| draft.with(|m| m.get(p).cloned())));
    let changed = Memo::new(move |_| {
        path.with_value(|p| draft.with(|d| baseline.with(|b| d.row(p) != b.row(p))))
    });
    let kind = Memo::new(move |_| match source.get() {
        Some(MappingSource::Static { .. }) => SourceKind::Static,
        Some(MappingSource::Combine { .. }) => SourceKind::Combine,
        Some(MappingSource::Zoho { .. }) | None => SourceKind::Zoho,
    });
    let is_static = move || kind.get() == SourceKind::Static;
    // The Zoho field a Static toggle replaced, restored when it is switched off again.
    let replaced = StoredValue::new(None::<String>);
    let toggle_static = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        path.with_value(|p| {
            draft.update(|m| {
                if on {
                    replaced.set_value(m.row(p).and_then(|r| r.zoho_field().map(str::to_owned)));
                    m.set(
                        p,
                        MappingSource::Static {
                            value: String::new(),
                        },
                    );
                } else {
                    match replaced.get_value() {
                        Some(field) => m.set(p, MappingSource::Zoho { field }),
                        None => m.clear(p),
                    }
                }
            });
        });
    };
    let findings = move |list: RwSignal<Vec<MappingIssue>>| {
        path.with_value(|p| {
            list.with(|issues| {
                issues
                    .iter()
                    .filter(|i| i.qbo_field.as_deref() == Some(p.as_str()))
                    .map(|i| i.message.clone())
                    .collect::<Vec<_>>()
            })
        })
    };
    let has_error = move || !findings(errors).is_empty();
    let custom = field.source == FieldSource::Custom;
    let required = match field.requirement {
        Requirement::Required => Some(("Required", "chip chip-required")),
        Requirement::FromSettings => Some(("From Inventory Settings", "chip")),
        Requirement::Optional => None,
    };
    let static_label = format!("Static value for {label}");
    let static_box_label = format!("Static Field for {label}");
    let error_id = dom_id("issues", &field.path);
    let label_for_picker = label.clone();

    view! {
        <tr class:row-changed=move || changed.get() class:row-invalid=has_error>
            <th scope="row" class="qbo-cell">
                <span
                    class="marker"
                    class:marker-standard=!custom
                    class:marker-custom=custom
                    title=if custom { "QuickBooks custom field" } else { "QuickBooks standard field" }
                ></span>
                <span class="visually-hidden">
                    {if custom { "Custom field: " } else { "Standard field: " }}
                </span>
                <span class="qbo-label">{label}</span>
                <span class="field-meta">
                    {format!("{} · {}", field.path, field.data_type.label())}
                </span>
                {required.map(|(text, class)| view! { <span class=class>{text}</span> })}
                <Show when=move || changed.get()>
                    <span class="changed-dot" title="Changed, not saved yet">
                        <span class="visually-hidden">"(unsaved change)"</span>
                    </span>
                </Show>
            </th>
            <td class="source-cell">
                {move || {
                    // Redrawn when the kind of source changes, not on every keystroke.
                    match kind.get() {
                        SourceKind::Static => {
                            let label = static_label.clone();
                            let value = match source.get_untracked() {
                                Some(MappingSource::Static { value }) => value,
                                _ => String::new(),
                            };
                            view! {
                                <div class="source-line">
                                    <input
                                        type="text"
                                        class="text-input"
                                        aria-label=label
                                        placeholder="Value written to QuickBooks"
                                        prop:value=value
                                        on:input=move |ev| {
                                            let value = event_target_value(&ev);
                                            path.with_value(|p| {
                                                draft.update(|m| m.set(p, MappingSource::Static { value }));
                                            });
                                        }
                                    />
                                </div>
                            }
                                .into_any()
                        }
                        SourceKind::Combine => {
                            let (fields, separator) = match source.get_untracked() {
                                Some(MappingSource::Combine { fields, separator }) => {
                                    (fields, separator)
                                }
                                _ => (Vec::new(), String::new()),
                            };
                            view! {
                                <div class="source-line">
                                    <span class="combined">
                                        {format!("Combined: {}", fields.join(&format!(" {separator} ")))}
                                    </span>
                                    <ClearButton label=label_for_picker.clone() path draft />
                                </div>
                            }
                                .into_any()
                        }
                        SourceKind::Zoho => {
                            view! {
                                <ZohoPicker
                                    qbo_label=label_for_picker.clone()
                                    path
                                    draft
                                    catalogue
                                    source
                                />
                            }
                                .into_any()
                        }
                    }
                }}
                <div id=error_id class="row-issues">
                    {move || {
                        findings(errors)
                            .into_iter()
                            .map(|m| view! { <p class="field-error">{m}</p> })
                            .collect_view()
                    }}
                    {move || {
                        findings(warnings)
                            .into_iter()
                            .map(|m| view! { <p class="field-warning">{m}</p> })
                            .collect_view()
                    }}
                </div>
            </td>
            <td class="col-static">
                <input
                    type="checkbox"
                    aria-label=static_box_label
                    prop:checked=is_static
                    on:change=toggle_static
                />
            </td>
        </tr>
    }
    .into_any()
}

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

/// The Zoho field picker: a combobox whose list narrows, as you type, to fields whose name or
/// label contains the text (`domain::fields::search`); ↑/↓ move, Enter picks, Escape closes.
#[component]
fn ZohoPicker(
    qbo_label: String,
    path: StoredValue<String>,
    draft: RwSignal<Mapping>,
    catalogue: StoredValue<FieldCatalogue>,
    source: Memo<Option<MappingSource>>,
) -> impl IntoView {
    let current = Memo::new(move |_| match source.get() {
        Some(MappingSource::Zoho { field }) => Some(field),
        _ => None,
    });
    let shown = move |name: Option<String>| {
        name.map(|n| {
            catalogue.with_value(|c| c.zoho_field(&n).map_or(n.clone(), |f| f.label.clone()))
        })
        .unwrap_or_default()
    };
    let text = RwSignal::new(shown(current.get_untracked()));
    let open = RwSignal::new(false);
    let typed = RwSignal::new(false);
    let active = RwSignal::new(0usize);
    let results = Memo::new(move |_| {
        let needle = if typed.get() {
            text.get()
        } else {
            String::new()
        };
        catalogue.with_value(|c| {
            search(&c.zoho, &needle)
                .into_iter()
                .map(|f: &ZohoField| (f.api_name.clone(), f.label.clone(), f.data_type.label()))
                .collect::<Vec<_>>()
        })
    });
    // Whatever changes the mapping (X, Reset, Static off) shows in the box unless it is in use.
    Effect::new(move |_| {
        let name = current.get();
        if !open.get_untracked() {
            text.set(shown(name));
        }
    });
    let list_id = path.with_value(|p| dom_id("zoho-list", p));
    let list_id_value = StoredValue::new(list_id.clone());
    let option_id = move |i: usize| format!("{}-{i}", list_id_value.read_value());
    let close = move || {
        open.set(false);
        typed.set(false);
        text.set(shown(current.get_untracked()));
    };
    let choose = move |name: String| {
        path.with_value(|p| draft.update(|m| m.set(p, MappingSource::Zoho { field: name })));
        open.set(false);
        typed.set(false);
        text.set(shown(current.get_untracked()));
    };
    let open_list = move || {
        if !open.get_untracked() {
            let index = current
                .get_untracked()
                .and_then(|name| {
                    results.with_untracked(|r| r.iter().position(|(n, _, _)| *n == name))
                })
                .unwrap_or(0);
            active.set(index);
            open.set(true);
        }
    };
    let scroll_to = move |i: usize| {
        if let Some(el) = document().get_element_by_id(&option_id(i)) {
            el.scroll_into_view_with_bool(false);
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" => {
            ev.prevent_default();
            if open.get_untracked() {
                let last = results.with_untracked(Vec::len).saturating_sub(1);
                active.update(|a| *a = (*a + 1).min(last));
            } else {
                open_list();
            }
            scroll_to(active.get_untracked());
        }
        "ArrowUp" => {
            ev.prevent_default();
            if open.get_untracked() {
                active.update(|a| *a = a.saturating_sub(1));
                scroll_to(active.get_untracked());
            }
        }
        "Enter" if open.get_untracked() => {
            ev.prevent_default();
            let picked = results
                .with_untracked(|r| r.get(active.get_untracked()).map(|(n, _, _)| n.clone()));
            if let Some(name) = picked {
                choose(name);
            }
        }
        "Escape" if open.get_untracked() => {
            ev.prevent_default();
            close();
        }
        _ => {}
    };
    let input_label = format!("Zoho field for {qbo_label}");
    let list_label = format!("Zoho fields for {qbo_label}");
    let list_id_attr = list_id.clone();
    let active_descendant = move || open.get().then(|| option_id(active.get()));

    view! {
        <div class="picker">
            <div class="source-line">
                <input
                    type="text"
                    class="text-input picker-input"
                    role="combobox"
                    autocomplete="off"
                    aria-autocomplete="list"
                    aria-label=input_label
                    aria-controls=list_id_attr
                    aria-expanded=move || open.get().to_string()
                    aria-activedescendant=active_descendant
                    placeholder="Not mapped: type to search Zoho fields"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        typed.set(true);
                        active.set(0);
                        open.set(true);
                    }
                    on:click=move |_| open_list()
                    on:keydown=on_keydown
                    on:blur=move |_| close()
                />
                <Show when=move || current.get().is_some()>
                    <ClearButton label=qbo_label.clone() path draft />
                </Show>
            </div>
            <Show when=move || current.get().is_some() && !open.get()>
                <span class="field-meta">
                    {move || {
                        current
                            .get()
                            .map(|name| {
                                let kind = catalogue
                                    .with_value(|c| c.zoho_field(&name).map(|f| f.data_type.label()))
                                    .unwrap_or("not in Zoho CRM");
                                format!("{name} · {kind}")
                            })
                    }}
                </span>
            </Show>
            <Show when=move || open.get()>
                <ul class="picker-list" role="listbox" id=list_id.clone() aria-label=list_label.clone()>
                    {move || {
                        let items = results.get();
                        if items.is_empty() {
                            return view! {
                                <li class="picker-empty" role="presentation">
                                    "No Zoho field matches. Sync Mappable Fields reads new fields."
                                </li>
                            }
                                .into_any();
                        }
                        items
                            .into_iter()
                            .enumerate()
                            .map(|(i, (name, label, kind))| {
                                let pick = name.clone();
                                view! {
                                    <li
                                        role="option"
                                        id=option_id(i)
                                        class="picker-option"
                                        class:picker-active=move || active.get() == i
                                        aria-selected=move || (active.get() == i).to_string()
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            choose(pick.clone());
                                        }
                                        on:mousemove=move |_| active.set(i)
                                    >
                                        <span class="option-label">{label}</span>
                                        <span class="option-name">{name}</span>
                                        <span class="option-type">{kind}</span>
                                    </li>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }}
                </ul>
            </Show>
        </div>
    }
    .into_any()
}
