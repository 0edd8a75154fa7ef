//! A connection's card: status, details, the connection check, and connect / reconnect /
//! disconnect. Used by Settings → Connections and the QuickBooks Online page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::local_time::LocalTime;

use crate::api::connections::{
    CheckView, ConnectionCheck, ConnectionState, ConnectionView, Disconnect,
    connect_failure_message,
};

#[component]
pub fn StatusBadge(state: ConnectionState) -> impl IntoView {
    let (class, label) = match state {
        ConnectionState::Connected => ("badge badge-ok", "Connected"),
        ConnectionState::NeedsReconnect => ("badge badge-error", "Needs reconnect"),
        ConnectionState::NotConnected => ("badge badge-muted", "Not connected"),
    };
    view! { <span class=class>{label}</span> }
}

/// What the provider callback of the system managed on this page reported in the query
/// string: `?connected={provider}` or `?error={code}`. Both are codes, shown as our own words;
/// no text from the URL reaches the page.
#[component]
pub fn CallbackNotice(
    /// `zoho` or `qbo`: the system whose callbacks land on this page.
    provider: &'static str,
    /// Its name: "Zoho CRM", "QuickBooks Online".
    system: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    move || {
        let query = query.read();
        if let Some(code) = query.get("error") {
            Some(
                view! {
                    <div class="banner banner-error-inline" role="alert">
                        {connect_failure_message(&code, system)}
                    </div>
                }
                .into_any(),
            )
        } else {
            (query.get("connected").as_deref() == Some(provider)).then(|| {
                view! {
                    <div class="banner banner-ok" role="status">
                        {format!("{system} is connected.")}
                    </div>
                }
                .into_any()
            })
        }
    }
}

#[component]
pub fn CheckList(check: CheckView) -> impl IntoView {
    let all_ok = check.lines.iter().all(|l| l.ok);
    view! {
        <div class="checklist" data-provider=check.provider>
            <p class=if all_ok { "check-title check-title-ok" } else { "check-title check-title-warn" }>
                {if all_ok { "✓ " } else { "! " }}
                {check.title}
            </p>
            <ul>
                {check
                    .lines
                    .into_iter()
                    .map(|line| {
                        view! {
                            <li class=if line.ok { "check-ok" } else { "check-bad" }>
                                <span class="check-mark" aria-hidden="true">
                                    {if line.ok { "✓" } else { "✕" }}
                                </span>
                                <span class="check-text">
                                    <span class="check-label">{line.label}</span>
                                    " "
                                    <span class="check-detail">{line.detail}</span>
                                </span>
                                {line.fix.map(|fix| view! { <span class="check-fix">{fix}</span> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

#[component]
pub fn ConnectionCard(
    view: ConnectionView,
    disconnect: ServerAction<Disconnect>,
    check: ServerAction<ConnectionCheck>,
) -> impl IntoView {
    let connect_href = format!("/connect/{}", view.provider);
    let provider = view.provider.clone();
    let name = view.name.clone();
    let state = view.state;
    let (confirming, set_confirming) = signal(false);
    let my_check = {
        let provider = provider.clone();
        move || {
            check
                .value()
                .get()
                .filter(|r| r.as_ref().map_or(true, |c| c.provider == provider))
        }
    };
    let checking = {
        let provider = provider.clone();
        move || {
            check.pending().get()
                && check
                    .input()
                    .get()
                    .is_some_and(|input| input.provider == provider)
        }
    };
    let times = view.connected_at.map(|connected| {
        view! {
            "Connected " <LocalTime millis=connected /> " · last verified "
            {match view.verified_at {
                Some(verified) => view! { <LocalTime millis=verified /> }.into_any(),
                None => view! { "never" }.into_any(),
            }}
        }
    });

    view! {
        <section class="card connection-card" data-provider=provider.clone()>
            <header class="connection-head">
                <h2>{name.clone()}</h2>
                <StatusBadge state />
            </header>
            {(!view.details.is_empty())
                .then(|| {
                    view! {
                        <dl class="details">
                            {view
                                .details
                                .into_iter()
                                .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                                .collect_view()}
                        </dl>
                    }
                })}
            {view.reason.map(|reason| view! { <p class="connection-reason">{reason}</p> })}
            {times.map(|t| view! { <p class="muted small connection-times">{t}</p> })}
            <div class="actions">
                {match state {
                    ConnectionState::NotConnected => {
                        view! {
                            <a class="button button-primary" href=connect_href rel="external">
                                {format!("Connect {name}")}
                            </a>
                        }
                            .into_any()
                    }
                    ConnectionState::NeedsReconnect => {
                        view! {
                            <a class="button button-primary" href=connect_href rel="external">
                                {format!("Reconnect {name}")}
                            </a>
                        }
                            .into_any()
                    }
                    ConnectionState::Connected => {
                        let provider = provider.clone();
                        let label_checking = checking.clone();
                        view! {
                            <ActionForm action=check>
                                <input type="hidden" name="provider" value=provider />
                                <button type="submit" class="button" disabled=checking>
                                    {move || {
                                        if label_checking() { "Checking…" } else { "Run connection check" }
                                    }}
                                </button>
                            </ActionForm>
                            <a class="button" href=connect_href rel="external">
                                "Reconnect"
                            </a>
                        }
                            .into_any()
                    }
                }}
                {(state != ConnectionState::NotConnected)
                    .then(|| {
                        // Copy, so the Show's children can run again and again.
                        let provider = StoredValue::new(provider.clone());
                        view! {
                            <Show
                                when=move || confirming.get()
                                fallback=move || {
                                    view! {
                                        <button
                                            type="button"
                                            class="button button-quiet"
                                            on:click=move |_| set_confirming.set(true)
                                        >
                                            "Disconnect"
                                        </button>
                                    }
                                }
                            >
                                <ActionForm action=disconnect attr:class="confirm-inline">
                                    <input type="hidden" name="provider" value=provider.get_value() />
                                    <span class="muted small">"Stop syncing and forget the sign-in?"</span>
                                    <button type="submit" class="button button-danger">
                                        "Yes, disconnect"
                                    </button>
                                    <button
                                        type="button"
                                        class="button button-quiet"
                                        on:click=move |_| set_confirming.set(false)
                                    >
                                        "Cancel"
                                    </button>
                                </ActionForm>
                            </Show>
                        }
                    })}
            </div>
            {move || {
                my_check()
                    .map(|result| match result {
                        Ok(check) => view! { <CheckList check /> }.into_any(),
                        Err(error) => {
                            view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                        }
                    })
            }}
        </section>
    }
}
