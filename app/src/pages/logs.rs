//! Logs (SPEC §7): per module, newest first, every record the engine touched with its outcome.
//! The filters live in the URL (`?pair=&status=&q=&page=`), so a view can be shared, reloaded
//! and used before the page is interactive (the filter form is a plain GET form). The Details
//! panel is a `<dialog>` opened by `&details=<id>`: Escape closes it, focus returns to the row.

use domain::log::{FieldChange, LogStatus};
use domain::pairs::ModulePair;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde_json::Value;

use crate::api::logs::{
    LogDetailView, LogListView, LogRowView, RetryLogRow, RowAction, UnlinkLogRow, list_logs,
    log_details,
};
use crate::components::local_time::LocalTime;
use crate::components::summary::{LogChanged, SummaryRefresh, SyncSummary};
use crate::error::AppError;

/// The page's filters, as read from the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filters {
    pair: ModulePair,
    /// A status key, or empty for all.
    status: String,
    search: String,
    /// 0-based.
    page: u32,
}

impl Filters {
    /// `/logs?…` for these filters on `page`, with the Details panel of `details` open.
    fn href(&self, page: u32, details: Option<&str>) -> String {
        let mut query = vec![format!("pair={}", self.pair.key())];
        if !self.status.is_empty() {
            query.push(format!("status={}", encode(&self.status)));
        }
        if !self.search.is_empty() {
            query.push(format!("q={}", encode(&self.search)));
        }
        if page > 0 {
            query.push(format!("page={}", page + 1));
        }
        if let Some(id) = details {
            query.push(format!("details={}", encode(id)));
        }
        format!("/logs?{}", query.join("&"))
    }

    fn export_href(&self) -> String {
        format!(
            "/logs/export.csv?pair={}&status={}&q={}",
            self.pair.key(),
            encode(&self.status),
            encode(&self.search)
        )
    }

    fn is_filtered(&self) -> bool {
        !self.status.is_empty() || !self.search.is_empty()
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn status_class(status: LogStatus) -> &'static str {
    match status {
        LogStatus::Synced => "badge badge-ok",
        LogStatus::Error => "badge badge-error",
        LogStatus::NotSynced => "badge badge-muted",
        LogStatus::NotValid => "badge badge-warn",
    }
}

#[component]
fn StatusBadge(status: LogStatus) -> impl IntoView {
    view! {
        <span class=status_class(status) data-status=status.key()>
            {status.label()}
        </span>
    }
}

#[component]
pub fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let query = query.read();
        let pair = query
            .get("pair")
            .and_then(|p| ModulePair::from_key(&p).ok())
            .unwrap_or(ModulePair::AccountsCustomers);
        let status = query
            .get("status")
            .filter(|s| LogStatus::from_key(s).is_some())
            .unwrap_or_default();
        let page = query
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1)
            .saturating_sub(1);
        Filters {
            pair,
            status,
            search: query.get("q").unwrap_or_default().trim().to_owned(),
            page,
        }
    });
    let details_id = Memo::new(move |_| query.read().get("details").filter(|d| !d.is_empty()));

    let retry = ServerAction::<RetryLogRow>::new();
    let unlink = ServerAction::<UnlinkLogRow>::new();
    let summary_refresh = SummaryRefresh(RwSignal::new(0));
    provide_context(summary_refresh);
    Effect::new(move |_| {
        if retry.version().get() > 0 {
            summary_refresh.0.update(|n| *n += 1);
        }
    });

    // The summary card polls the run status and says when the log has new rows.
    let log_changed = LogChanged(RwSignal::new(0));
    provide_context(log_changed);

    let rows = Resource::new(
        move || {
            (
                filters.get(),
                retry.version().get(),
                unlink.version().get(),
                log_changed.0.get(),
            )
        },
        |(f, _, _, _)| list_logs(f.pair.key().to_owned(), f.status, f.search, f.page),
    );

    // What the last Retry / Unlink did, in words: whichever answered last.
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    Effect::new(move |_| {
        if let Some(result) = retry.value().get() {
            notice.set(Some(result));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = unlink.value().get() {
            notice.set(Some(result.map(|()| {
                "Unlinked. The record's next change creates a new counterpart.".to_owned()
            })));
        }
    });
    let outcome = move || {
        notice.get().map(|result| match result {
            Ok(text) => view! { <div class="banner banner-ok" role="status">{text}</div> }.into_any(),
            Err(error) => {
                view! { <div class="banner banner-error-inline" role="alert">{error.to_string()}</div> }
                    .into_any()
            }
        })
    };

    view! {
        <Title text="Logs" />
        <div class="page-header">
            <h1>"Logs"</h1>
            <p class="lead">
                "Every record zqsync reads or writes, with its outcome, newest first."
            </p>
        </div>
        <SyncSummary />
        <section class="card logs-card" aria-label="Sync log">
            <FilterBar filters />
            {outcome}
            <Transition fallback=|| view! { <p class="muted logs-loading">"Loading the log…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) => {
                            view! { <LogTable list filters=filters.get_untracked() retry unlink /> }
                                .into_any()
                        }
                        Err(error) => {
                            view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
        <DetailsDialog details_id filters retry unlink />
    }
}

#[component]
fn FilterBar(filters: Memo<Filters>) -> impl IntoView {
    // Changing a selector applies it at once (the Search button stays for the text box and for
    // browsers without the app running).
    let submit_on_change = |ev: leptos::ev::Event| {
        let select: leptos::web_sys::HtmlSelectElement = event_target(&ev);
        if let Some(form) = select.form() {
            let _ = form.request_submit();
        }
    };
    view! {
        <Form method="get" action="/logs" noscroll=true attr:class="log-filters" attr:role="search">
            <label class="filter">
                <span>"Module"</span>
                <select
                    name="pair"
                    id="log-pair"
                    prop:value=move || filters.get().pair.key()
                    on:change=submit_on_change
                >
                    {ModulePair::ALL
                        .into_iter()
                        .map(|pair| {
                            view! {
                                <option
                                    value=pair.key()
                                    selected=move || filters.get().pair == pair
                                >
                                    {pair.zoho_module().label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="filter">
                <span>"Status"</span>
                <select
                    name="status"
                    id="log-status"
                    prop:value=move || filters.get().status
                    on:change=submit_on_change
                >
                    <option value="" selected=move || filters.get().status.is_empty()>
                        "All statuses"
                    </option>
                    {LogStatus::ALL
                        .into_iter()
                        .map(|status| {
                            view! {
                                <option
                                    value=status.key()
                                    selected=move || filters.get().status == status.key()
                                >
                                    {status.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="filter filter-search">
                <span>"Search"</span>
                <input
                    type="search"
                    name="q"
                    id="log-search"
                    maxlength="200"
                    placeholder="Zoho or QuickBooks id, name or message"
                    value=move || filters.get().search
                    prop:value=move || filters.get().search
                />
            </label>
            <div class="filter-buttons">
                <button type="submit" class="button">"Search"</button>
                <a
                    class="button"
                    href=move || filters.get().export_href()
                    rel="external"
                    download=""
                >
                    "Export CSV"
                </a>
            </div>
        </Form>
    }
}

#[component]
fn LogTable(
    list: LogListView,
    filters: Filters,
    retry: ServerAction<RetryLogRow>,
    unlink: ServerAction<UnlinkLogRow>,
) -> impl IntoView {
    if list.rows.is_empty() {
        return if filters.is_filtered() {
            view! {
                <div class="logs-empty">
                    <h2>"No entries match"</h2>
                    <p class="muted">
                        "Nothing in " {filters.pair.label()}
                        " has that status or matches that search."
                    </p>
                    <p>
                        <a href=format!("/logs?pair={}", filters.pair.key())>"Clear the filters"</a>
                    </p>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="logs-empty">
                    <div class="empty-icon" aria-hidden="true">"⇄"</div>
                    <h2>{format!("No {} entries yet", filters.pair.label())}</h2>
                    <p class="muted">
                        "Logs appear after the first sync: each record zqsync reads or writes gets a row here, "
                        "with its status and, if it failed, what to do."
                    </p>
                    <p class="muted">
                        "Connect both systems in " <a href="/settings">"Settings"</a> ", switch the integration on under "
                        <a href="/quickbooks">"QuickBooks Online"</a> ", and the first sync starts within minutes."
                    </p>
                </div>
            }
                .into_any()
        };
    }
    let first = u64::from(list.page) * u64::from(list.per_page) + 1;
    let last = first + list.rows.len() as u64 - 1;
    let pages = list.total.div_ceil(u64::from(list.per_page.max(1)));
    let has_previous = list.page > 0;
    let has_next = u64::from(list.page) + 1 < pages;
    let previous_href = filters.href(list.page.saturating_sub(1), None);
    let next_href = filters.href(list.page + 1, None);
    let filters = StoredValue::new(filters);
    view! {
        <div class="table-scroll">
            <table class="log-table">
                <thead>
                    <tr>
                        <th scope="col">"Module Key"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Error Message"</th>
                        <th scope="col">"Last Sync Date"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .rows
                        .into_iter()
                        .map(|row| view! { <LogRow row filters=filters.get_value() retry unlink /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Log pages">
            <span class="muted small" id="log-range">
                {format!("Showing {first}–{last} of {}", list.total)}
            </span>
            <span class="pager-links">
                {if has_previous {
                    view! { <a href=previous_href class="button" rel="prev">"← Newer"</a> }.into_any()
                } else {
                    view! { <span class="button" aria-disabled="true">"← Newer"</span> }.into_any()
                }}
                {if has_next {
                    view! { <a href=next_href class="button" rel="next">"Older →"</a> }.into_any()
                } else {
                    view! { <span class="button" aria-disabled="true">"Older →"</span> }.into_any()
                }}
            </span>
        </nav>
    }
        .into_any()
}

/// The Module Key: a link to the record in Zoho CRM when there is one.
#[component]
fn ModuleKey(zoho_id: Option<String>, zoho_url: Option<String>) -> impl IntoView {
    match (zoho_id, zoho_url) {
        (Some(id), Some(url)) => view! {
            <a
                class="module-key"
                href=url
                target="_blank"
                rel="noopener"
                title="Open the record in Zoho CRM"
            >
                {id}
            </a>
        }
        .into_any(),
        (Some(id), None) => view! { <span class="module-key">{id}</span> }.into_any(),
        (None, _) => view! { <span class="muted">"not in Zoho yet"</span> }.into_any(),
    }
}

#[component]
fn LogRow(
    row: LogRowView,
    filters: Filters,
    retry: ServerAction<RetryLogRow>,
    unlink: ServerAction<UnlinkLogRow>,
) -> impl IntoView {
    let details_href = filters.href(filters.page, Some(&row.id));
    let status = row.status;
    let record = row
        .record_name
        .clone()
        .map(|name| format!("{name} · {}", row.flow.label()))
        .unwrap_or_else(|| row.flow.label().to_owned());
    let id = row.id.clone();
    let details_id = format!("details-{id}");
    let zoho_id = row.zoho_id.clone();
    let zoho_url = row.zoho_url.clone();
    let message = row.message.clone().unwrap_or_default();
    let created_at = row.created_at;
    view! {
        <tr data-log-id=id data-status=status.key()>
            <td>
                <ModuleKey zoho_id zoho_url />
                <div class="muted small log-record">{record}</div>
            </td>
            <td>
                <StatusBadge status />
            </td>
            <td class="log-message">{message}</td>
            <td class="log-time">
                <LocalTime millis=created_at />
            </td>
            <td class="log-actions">
                <a href=details_href data-noscroll="" class="button button-small" id=details_id>
                    "Details"
                </a>
                <RowActions row retry unlink />
            </td>
        </tr>
    }
}

/// Retry on Error rows; Re-create and Unlink where the counterpart was deleted.
#[component]
fn RowActions(
    row: LogRowView,
    retry: ServerAction<RetryLogRow>,
    unlink: ServerAction<UnlinkLogRow>,
) -> impl IntoView {
    let (confirming, set_confirming) = signal(false);
    let id = StoredValue::new(row.id.clone());
    let busy = move || retry.pending().get() || unlink.pending().get();
    if row.queued {
        return view! { <span class="queued-chip">"Queued for the next sync"</span> }.into_any();
    }
    match row.action {
        None => ().into_any(),
        Some(RowAction::Retry) => view! {
            <ActionForm action=retry attr:class="inline-form">
                <input type="hidden" name="id" value=id.get_value() />
                <button
                    type="submit"
                    class="button button-small button-primary"
                    disabled=busy
                >
                    "Retry"
                </button>
            </ActionForm>
        }
        .into_any(),
        Some(RowAction::Recreate) => view! {
            <Show
                when=move || confirming.get()
                fallback=move || {
                    view! {
                        <ActionForm action=retry attr:class="inline-form">
                            <input type="hidden" name="id" value=id.get_value() />
                            <button
                                type="submit"
                                class="button button-small button-primary"
                                disabled=busy
                            >
                                "Re-create"
                            </button>
                        </ActionForm>
                        <button
                            type="button"
                            class="button button-small"
                            on:click=move |_| set_confirming.set(true)
                        >
                            "Unlink"
                        </button>
                    }
                }
            >
                <ActionForm action=unlink attr:class="confirm-inline">
                    <input type="hidden" name="id" value=id.get_value() />
                    <span class="muted small">"Stop pairing this record?"</span>
                    <button
                        type="submit"
                        class="button button-small button-danger"
                        disabled=busy
                    >
                        "Yes, unlink"
                    </button>
                    <button
                        type="button"
                        class="button button-small button-quiet"
                        on:click=move |_| set_confirming.set(false)
                    >
                        "Cancel"
                    </button>
                </ActionForm>
            </Show>
        }
        .into_any(),
    }
}

/// The Details panel: a modal `<dialog>` for the row named by `?details=`.
#[component]
fn DetailsDialog(
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
    use super::*;
    use serde_json::json;

    #[test]
    fn hrefs_keep_the_filters() {
        let filters = Filters {
            pair: ModulePair::ProductsItems,
            status: "error".into(),
            search: "Widget & co".into(),
            page: 0,
        };
        assert_eq!(
            filters.href(0, None),
            "/logs?pair=products_items&status=error&q=Widget%20%26%20co"
        );
        assert_eq!(
            filters.href(2, Some("abc")),
            "/logs?pair=products_items&status=error&q=Widget%20%26%20co&page=3&details=abc"
        );
        assert_eq!(
            filters.export_href(),
            "/logs/export.csv?pair=products_items&status=error&q=Widget%20%26%20co"
        );
    }

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
