//! The mapping table: a row per QuickBooks field with the Zoho CRM field (the picker), the
//! static value or the combined fields that fill it, and the findings of the last Submit.

use domain::fields::{DataType, FieldCatalogue, FieldSource, QboField, Requirement};
use domain::mapping::{Mapping, MappingIssue, MappingSource};
use leptos::prelude::*;

use super::picker::ZohoPicker;
use super::{ClearButton, dom_id};

/// The table with its legend; its rows are drawn again when `generation` moves (Reset).
pub(super) fn mapping_table(
    pair_label: &str,
    generation: RwSignal<u32>,
    draft: RwSignal<Mapping>,
    baseline: RwSignal<Mapping>,
    errors: RwSignal<Vec<MappingIssue>>,
    warnings: RwSignal<Vec<MappingIssue>>,
    catalogue: StoredValue<FieldCatalogue>,
) -> AnyView {
    view! {
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
