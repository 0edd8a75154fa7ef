//! User menu → QuickBooks Online: the guide's three steps — Authenticate, Verify, Activate.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::connections::{
    ConnectionCheck, ConnectionState, MAX_START_DAYS, PreflightView, SetActive,
    activation_preflight, connections,
};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::connection_card::{CallbackNotice, CheckList, StatusBadge};
use crate::components::local_time::LocalTime;

#[component]
pub fn QuickBooksPage() -> impl IntoView {
    let check = ServerAction::<ConnectionCheck>::new();
    let set_active = ServerAction::<SetActive>::new();
    let state = Resource::new(
        move || (check.version().get(), set_active.version().get()),
        |_| connections(),
    );
    // After the switch is used, "… is connected." from the way in is old news: drop it.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if set_active.version().get() > 0 && matches!(set_active.value().get(), Some(Ok(_))) {
            navigate(
                "/quickbooks",
                leptos_router::NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });

    view! {
        <Title text="QuickBooks Online" />
        <div class="page-header">
            <h1>"QuickBooks Online"</h1>
            <p class="lead">"Authenticate, verify and activate the connection to your QuickBooks company."</p>
        </div>
        <CallbackNotice provider="qbo" system="QuickBooks Online" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
            {move || Suspend::new(async move {
                match state.await {
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
                                        // Connected, the next step is Verify: Reconnect is a quiet option.
                                        <a
                                            class=if qbo.state == ConnectionState::Connected {
                                                "button"
                                            } else {
                                                "button button-primary"
                                            }
                                            href="/connect/qbo"
                                            rel="external"
                                        >
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
                                                            "Verified " <LocalTime millis=t />
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
                                        <ActivateSwitch active set_active />
                                    </li>
                                </ol>
                            }
                                .into_any()
                        }
                    }
            })}
        </Transition>
    }
}

/// The Activate switch. Off → on goes through the pre-flight check: what the first run will
/// copy (per pair and direction, how many records, from when), the checks that would fail with
/// where to fix them, and the start the user chooses (from now on, or also the last days).
/// Nothing is written before they confirm. On → off pauses at once.
#[component]
fn ActivateSwitch(active: bool, set_active: ServerAction<SetActive>) -> impl IntoView {
    let open = RwSignal::new(false);
    // 0: only records created or changed from now on.
    let days = RwSignal::new(0u32);
    let preflight = Resource::new(
        move || (open.get(), days.get()),
        |(open, days)| async move {
            if open {
                Some(activation_preflight(days).await)
            } else {
                None
            }
        },
    );
    // The dialog's button follows the answer through an effect, which runs in the browser only:
    // a resource read with `.get()` while the page renders on the server can stall it
    // (leptos#4578); the body below awaits it inside `Suspend`.
    let loaded = RwSignal::new(None::<PreflightView>);
    Effect::new(move |_| loaded.set(preflight.get().flatten().and_then(Result::ok)));
    let checks = Signal::derive(move || loaded.with(|p| p.as_ref().map_or(0, |p| p.checks.len())));
    let blocked =
        Signal::derive(move || loaded.with(|p| p.as_ref().is_none_or(|p| p.blocked.is_some())));
    let confirm_label = Signal::derive(move || match checks.get() {
        0 => "Activate".to_owned(),
        1 => "Activate anyway (1 problem)".to_owned(),
        n => format!("Activate anyway ({n} problems)"),
    });
    let on_confirm = Callback::new(move |()| {
        set_active.dispatch(SetActive {
            active: true,
            days: Some(days.get_untracked()),
        });
    });
    view! {
        {if active {
            view! {
                <ActionForm action=set_active attr:class="switch-form">
                    <input type="hidden" name="active" value="false" />
                    <button
                        type="submit"
                        role="switch"
                        aria-checked="true"
                        aria-label="Integration active"
                        class="switch switch-on"
                    >
                        <span class="switch-knob" aria-hidden="true"></span>
                    </button>
                    <span>"Active"</span>
                </ActionForm>
            }
                .into_any()
        } else {
            view! {
                <div class="switch-form">
                    <button
                        type="button"
                        role="switch"
                        aria-checked="false"
                        aria-label="Integration active"
                        aria-haspopup="dialog"
                        class="switch"
                        on:click=move |_| open.set(true)
                    >
                        <span class="switch-knob" aria-hidden="true"></span>
                    </button>
                    <span>"Inactive"</span>
                </div>
            }
                .into_any()
        }}
        {move || {
            set_active
                .value()
                .get()
                .and_then(Result::err)
                .map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })
        }}
        <ConfirmDialog
            open
            title="Before the first sync"
            confirm_label
            on_confirm
            blocked
            id="preflight-dialog"
        >
            <fieldset class="radio-group preflight-start">
                <legend class="field-title">"What the first sync copies"</legend>
                <label class="check">
                    <input
                        type="radio"
                        name="start"
                        value="now"
                        prop:checked=move || { days.get() == 0 }
                        on:change=move |_| days.set(0)
                    />
                    <span>
                        <strong>"Only records created or changed from now on"</strong>
                        <span class="muted small block">"Nothing already in either system is copied."</span>
                    </span>
                </label>
                <label class="check">
                    <input
                        type="radio"
                        name="start"
                        value="days"
                        prop:checked=move || { days.get() > 0 }
                        on:change=move |_| days.set(1)
                    />
                    <span>
                        <strong>"Also records changed in the last "</strong>
                        <input
                            type="number"
                            class="days-input"
                            min="1"
                            max=MAX_START_DAYS.to_string()
                            aria-label="Days to copy"
                            prop:value=move || days.get().max(1).to_string()
                            on:change=move |ev| {
                                let wanted = event_target_value(&ev).trim().parse::<u32>().unwrap_or(1);
                                days.set(wanted.clamp(1, MAX_START_DAYS));
                            }
                        />
                        <strong>" days"</strong>
                        <span class="muted small block">
                            {format!("Up to {MAX_START_DAYS} days; older records come with Sync Historical Data.")}
                        </span>
                    </span>
                </label>
            </fieldset>
            <Transition fallback=|| view! { <p class="muted">"Counting the records…"</p> }>
                {move || Suspend::new(async move {
                    preflight
                        .await
                        .map(|result| match result {
                            Ok(view) => view! { <PreflightBody view /> }.into_any(),
                            Err(error) => {
                                view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                            }
                        })
                })}
            </Transition>
        </ConfirmDialog>
    }
}

#[component]
fn PreflightBody(view: PreflightView) -> impl IntoView {
    let from_now = view.days == 0;
    view! {
        {view.blocked.map(|b| view! { <p class="form-error" role="alert">{b}</p> })}
        <table class="preflight-table" aria-label="What the first sync copies">
            <thead>
                <tr>
                    <th scope="col">"Module"</th>
                    <th scope="col">"Direction"</th>
                    <th scope="col">"Records"</th>
                    <th scope="col">"Changed since"</th>
                </tr>
            </thead>
            <tbody>
                {if view.rows.is_empty() {
                    view! {
                        <tr>
                            <td colspan="4" class="muted">"No module is switched on: nothing would sync."</td>
                        </tr>
                    }
                        .into_any()
                } else {
                    view.rows
                        .into_iter()
                        .map(|row| {
                            let records = match (row.count, row.problem) {
                                (_, Some(problem)) => format!("not counted: {problem}"),
                                (Some(0), None) if from_now => "none yet".to_owned(),
                                (Some(n), None) => n.to_string(),
                                (None, None) => "—".to_owned(),
                            };
                            let pair = row.pair.clone();
                            view! {
                                <tr data-pair=pair>
                                    <th scope="row">{row.pair}</th>
                                    <td>{row.flow}</td>
                                    <td class="preflight-count">{records}</td>
                                    <td>
                                        {if from_now {
                                            view! { "now" }.into_any()
                                        } else {
                                            view! { <LocalTime millis=row.since /> }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </tbody>
        </table>
        {(!view.checks.is_empty())
            .then(|| {
                view! {
                    <section class="preflight-checks" aria-label="Checks that would fail">
                        <h3>"Fix these first, or their records fail"</h3>
                        <ul>
                            {view
                                .checks
                                .into_iter()
                                .map(|c| {
                                    view! {
                                        <li>
                                            {c.message} " " <a href=c.fix_href>{c.fix_label}</a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </section>
                }
            })}
    }
}
