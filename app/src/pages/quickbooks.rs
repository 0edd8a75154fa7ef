//! User menu → QuickBooks Online: the guide's three steps — Authenticate, Verify, Activate.

use leptos::prelude::*;
use leptos_meta::Title;

use super::connection_card::{CallbackNotice, CheckList, StatusBadge};
use crate::connections::{ConnectionCheck, ConnectionState, SetActive, connections, format_time};

#[component]
pub fn QuickBooksPage() -> impl IntoView {
    let check = ServerAction::<ConnectionCheck>::new();
    let set_active = ServerAction::<SetActive>::new();
    let state = Resource::new(
        move || (check.version().get(), set_active.version().get()),
        |_| connections(),
    );

    view! {
        <Title text="QuickBooks Online" />
        <div class="page-header">
            <h1>"QuickBooks Online"</h1>
            <p class="lead">"Authenticate, verify and activate the connection to your QuickBooks company."</p>
        </div>
        <CallbackNotice provider="qbo" system="QuickBooks Online" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                state
                    .get()
                    .map(|result| match result {
                        Err(error) => {
                            view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                        }
                        Ok(all) => {
                            let qbo = all.qbo;
                            let connected = qbo.state == ConnectionState::Connected;
                            let verified_at = qbo.verified_at;
                            let active = all.active;
                            view! {
                                <ol class="steps-cards">
                                    <li class="card step">
                                        <div class="step-head">
                                            <span class="step-number">"1"</span>
                                            <h2>"Authenticate"</h2>
                                            <StatusBadge state=qbo.state />
                                        </div>
                                        <p class="muted">
                                            "Sign in to Intuit and choose the company zqsync may read and write."
                                        </p>
                                        {qbo
                                            .details
                                            .iter()
                                            .map(|(k, v)| view! { <p class="small">{format!("{k}: {v}")}</p> })
                                            .collect_view()}
                                        <a class="button button-primary" href="/connect/qbo" rel="external">
                                            {match qbo.state {
                                                ConnectionState::NotConnected => "Connect to QuickBooks",
                                                _ => "Reconnect to QuickBooks",
                                            }}
                                        </a>
                                    </li>
                                    <li class="card step">
                                        <div class="step-head">
                                            <span class="step-number">"2"</span>
                                            <h2>"Verify"</h2>
                                            {verified_at
                                                .map(|t| {
                                                    view! {
                                                        <span class="badge badge-ok">
                                                            {format!("Verified {}", format_time(t))}
                                                        </span>
                                                    }
                                                })}
                                        </div>
                                        <p class="muted">
                                            "zqsync reads your company's details with the stored sign-in to prove the connection works."
                                        </p>
                                        <ActionForm action=check>
                                            <input type="hidden" name="provider" value="qbo" />
                                            <button
                                                type="submit"
                                                class="button"
                                                disabled=move || !connected || check.pending().get()
                                            >
                                                {move || if check.pending().get() { "Verifying…" } else { "Verify" }}
                                            </button>
                                        </ActionForm>
                                        {move || {
                                            check
                                                .value()
                                                .get()
                                                .map(|result| match result {
                                                    Ok(check) => view! { <CheckList check /> }.into_any(),
                                                    Err(error) => {
                                                        view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                                                            .into_any()
                                                    }
                                                })
                                        }}
                                    </li>
                                    <li class="card step">
                                        <div class="step-head">
                                            <span class="step-number">"3"</span>
                                            <h2>"Activate"</h2>
                                            <span class=if active { "badge badge-ok" } else { "badge badge-muted" }>
                                                {if active { "Active" } else { "Inactive" }}
                                            </span>
                                        </div>
                                        <p class="muted">
                                            {if active {
                                                "zqsync syncs on schedule. Switch off to pause all syncing at once."
                                            } else {
                                                "Nothing syncs while the integration is inactive."
                                            }}
                                        </p>
                                        <ActionForm action=set_active attr:class="switch-form">
                                            <input type="hidden" name="active" value=(!active).to_string() />
                                            <button
                                                type="submit"
                                                role="switch"
                                                aria-checked=active.to_string()
                                                aria-label="Integration active"
                                                class=if active { "switch switch-on" } else { "switch" }
                                            >
                                                <span class="switch-knob" aria-hidden="true"></span>
                                            </button>
                                            <span>{if active { "Active" } else { "Inactive" }}</span>
                                        </ActionForm>
                                        {move || {
                                            set_active
                                                .value()
                                                .get()
                                                .and_then(Result::err)
                                                .map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })
                                        }}
                                    </li>
                                </ol>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}
