//! The Logs table: a row per log entry with its status, the Module Key, Details, and Retry /
//! Re-create / Unlink; the pager below it.

use leptos::prelude::*;

use super::{Filters, ModuleKey, StatusBadge};
use crate::api::logs::{LogListView, LogRowView, RetryLogRow, RowAction, UnlinkLogRow};
use crate::components::local_time::LocalTime;

#[component]
pub(super) fn LogTable(
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
