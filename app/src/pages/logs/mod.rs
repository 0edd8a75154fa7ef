//! Logs (SPEC §7): per module, newest first, every record the engine touched with its outcome.
//! The filters live in the URL (`?pair=&status=&q=&page=`), so a view can be shared, reloaded
//! and used before the page is interactive (the filter form is a plain GET form). The Details
//! panel is a `<dialog>` opened by `&details=<id>`: Escape closes it, focus returns to the row.

mod details;
mod table;

use domain::log::LogStatus;
use domain::pairs::ModulePair;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use details::DetailsDialog;
use table::LogTable;

use crate::api::logs::{RetryLogRow, UnlinkLogRow, list_logs};
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
