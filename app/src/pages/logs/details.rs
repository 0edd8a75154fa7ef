//! The Details panel of a log row: a modal `<dialog>` opened by `&details=<id>`, with the
//! record's fields before and after, what changed, and the row's actions.

use domain::log::FieldChange;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use serde_json::Value;

use super::{Filters, ModuleKey, StatusBadge};
use crate::api::logs::{LogDetailView, RetryLogRow, UnlinkLogRow, log_details};
use crate::components::local_time::LocalTime;

/// The Details panel: a modal `<dialog>` for the row named by `?details=`.
#[component]
pub(super) fn DetailsDialog(
    details_id: Memo<Option<String>>,
    filters: Memo<Filters>,
    retry: ServerAction<RetryLogRow>,
    unlink: ServerAction<UnlinkLogRow>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let details = Resource::new(
        move || {
            (
                details_id.get(),
                retry.version().get(),
                unlink.version().get(),
            )
        },
        |(id, _, _)| async move {
            match id {
                Some(id) => Some(log_details(id).await),
                None => None,
            }
        },
    );
    // Follow the URL: open modally when `details` appears (a server-rendered open dialog is
    // re-opened as modal), close when it goes.
    Effect::new(move |_| {
        let wanted = details_id.get().is_some();
        if let Some(dialog) = dialog.get() {
            if wanted {
                if dialog.open() {
                    dialog.close();
                }
                let _ = dialog.show_modal();
            } else if dialog.open() {
                dialog.close();
            }
        }
    });
    let navigate = use_navigate();
    let close_href = move || {
        let f = filters.get();
        f.href(f.page, None)
    };
    // Escape, the Close button or the backdrop: drop `details` from the URL and give focus
    // back to the row's Details link.
    let on_close = move |_| {
        let Some(element) = dialog.get_untracked() else {
            return;
        };
        if element.open() {
            return; // the close before a modal re-open
        }
        if let Some(id) = details_id.get_untracked() {
            let f = filters.get_untracked();
            navigate(
                &f.href(f.page, None),
                NavigateOptions {
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
            focus_by_id(&format!("details-{id}"));
        }
    };
    view! {
        <dialog
            node_ref=dialog
            class="details-dialog"
            aria-labelledby="details-title"
            // Server-rendered open (so the panel works before the app is interactive); in the
            // browser the effect above opens it as a modal.
            open=details_id.get_untracked().is_some()
            on:close=on_close
            on:click=move |ev| {
                // A click on the backdrop lands on the dialog element itself.
                if let Some(element) = dialog.get_untracked() {
                    let target: leptos::web_sys::HtmlElement = event_target(&ev);
                    let itself: &leptos::web_sys::HtmlElement = &element;
                    if target == *itself {
                        element.close();
                    }
                }
            }
        >
            <div class="details-inner">
                <header class="details-head">
                    <h2 id="details-title">"Log entry details"</h2>
                    <a
                        class="button button-small button-quiet details-close"
                        href=close_href
                        aria-label="Close details"
                        on:click=move |ev| {
                            ev.prevent_default();
                            if let Some(element) = dialog.get_untracked() {
                                element.close();
                            }
                        }
                    >
                        "Close"
                    </a>
                </header>
                <Suspense fallback=|| view! { <p class="muted">"Loading details…"</p> }>
                    {move || Suspend::new(async move {
                        details
                            .await
                            .map(|result| match result {
                                Ok(view) => view! { <DetailsBody view /> }.into_any(),
                                Err(error) => {
                                    view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                                        .into_any()
                                }
                            })
                    })}
                </Suspense>
            </div>
        </dialog>
    }
}

fn focus_by_id(id: &str) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(element) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// A JSON value as one line of text ("—" for nothing).
fn show_value(value: &Value) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::String(s) if s.is_empty() => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A record's fields as (dotted path, value) rows, nested objects flattened, lists kept whole.
fn field_rows(value: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(inner, &path, out);
                }
            }
            other if !prefix.is_empty() => out.push((prefix.to_owned(), show_value(other))),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

#[component]
fn FieldTable(title: &'static str, value: Value, empty: &'static str) -> impl IntoView {
    let rows = field_rows(&value);
    view! {
        <section class="details-section" aria-label=title>
            <h3>{title}</h3>
            {if rows.is_empty() {
                view! { <p class="muted small">{empty}</p> }.into_any()
            } else {
                view! {
                    <table class="field-table">
                        <tbody>
                            {rows
                                .into_iter()
                                .map(|(field, value)| view! { <tr><th scope="row">{field}</th><td>{value}</td></tr> })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn ChangesTable(changes: Vec<FieldChange>) -> impl IntoView {
    view! {
        <section class="details-section" aria-label="Changes">
            <h3>"Changes"</h3>
            <table class="field-table changes-table">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Before"</th>
                        <th scope="col">"After"</th>
                    </tr>
                </thead>
                <tbody>
                    {changes
                        .into_iter()
                        .map(|c| {
                            view! {
                                <tr>
                                    <th scope="row">{c.field}</th>
                                    <td class="value-before">{show_value(&c.before)}</td>
                                    <td class="value-after">{show_value(&c.after)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn DetailsBody(view: LogDetailView) -> impl IntoView {
    let LogDetailView { row, details } = view;
    let source = row.flow.source().label();
    let target = row.flow.target().label();
    let conflict = details.conflict.clone();
    view! {
        <dl class="details details-facts">
            <dt>"Module"</dt>
            <dd>{row.pair.label()}</dd>
            <dt>"Direction"</dt>
            <dd>{row.flow.label()}</dd>
            <dt>"Record"</dt>
            <dd>{row.record_name.clone().unwrap_or_else(|| "—".to_owned())}</dd>
            <dt>"Module Key"</dt>
            <dd>
                <ModuleKey zoho_id=row.zoho_id.clone() zoho_url=row.zoho_url.clone() />
            </dd>
            <dt>"QuickBooks id"</dt>
            <dd data-field="qbo-id">{row.qbo_id.clone().unwrap_or_else(|| "—".to_owned())}</dd>
            <dt>"Status"</dt>
            <dd>
                <StatusBadge status=row.status />
            </dd>
            <dt>"Synced at"</dt>
            <dd>
                <LocalTime millis=row.created_at />
            </dd>
        </dl>
        {row.message.map(|m| view! { <p class="details-message">{m}</p> })}
        {(!details.changes.is_empty()).then(|| view! { <ChangesTable changes=details.changes.clone() /> })}
        {conflict
            .map(|c| {
                view! {
                    <section class="details-section details-conflict" aria-label="Conflict">
                        <h3>"Conflict"</h3>
                        <p class="small">
                            {format!(
                                "Both systems changed this record since the last sync. {} won (policy: {}); the other version is kept below.",
                                c.winner.label(),
                                c.policy.label(),
                            )}
                        </p>
                        <FieldTable title="Losing version" value=c.losing_version empty="No fields were kept." />
                    </section>
                }
            })}
        <div class="details-columns">
            <FieldTable
                title=if source == "Zoho CRM" { "Read from Zoho CRM" } else { "Read from QuickBooks Online" }
                value=details.read
                empty="No fields were read."
            />
            <FieldTable
                title=if target == "Zoho CRM" { "Written to Zoho CRM" } else { "Written to QuickBooks Online" }
                value=details.written
                empty="Nothing was written."
            />
        </div>
        {(!details.left_out.is_empty())
            .then(|| {
                view! {
                    <p class="small details-left-out" data-field="left-out">
                        {format!(
                            "Not written (left as {} had them): {}.",
                            target,
                            details.left_out.join(", "),
                        )}
                    </p>
                }
            })}
        {(!details.notes.is_empty())
            .then(|| {
                view! {
                    <section class="details-section" aria-label="Notes">
                        <h3>"Notes"</h3>
                        <ul>{details.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    </section>
                }
            })}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_flatten_for_the_details_panel() {
        let rows = field_rows(
            &json!({"DisplayName": "Zylker", "BillAddr": {"City": "Bayshore"}, "Notes": null, "Line": [1]}),
        );
        assert_eq!(
            rows,
            vec![
                ("BillAddr.City".to_owned(), "Bayshore".to_owned()),
                ("DisplayName".to_owned(), "Zylker".to_owned()),
                ("Line".to_owned(), "[1]".to_owned()),
                ("Notes".to_owned(), "—".to_owned()),
            ]
        );
        assert!(field_rows(&json!(null)).is_empty());
    }
}
