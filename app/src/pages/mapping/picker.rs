//! The Zoho field picker of a mapping row: a combobox that narrows its list as you type.

use domain::fields::{FieldCatalogue, ZohoField, search};
use domain::mapping::{Mapping, MappingSource};
use leptos::prelude::*;

use super::{ClearButton, dom_id};

/// The Zoho field picker: a combobox whose list narrows, as you type, to fields whose name or
/// label contains the text (`domain::fields::search`); ↑/↓ move, Enter picks, Escape closes.
#[component]
pub(super) fn ZohoPicker(
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
