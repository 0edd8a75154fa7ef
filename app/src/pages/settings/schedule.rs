//! Settings → Schedule: how often zqsync syncs (1–60 minutes), Sync now, the last and next run
//! in the reader's local time, and who wins when a record changed on both sides.

use domain::settings::{ConflictPolicy, SyncInterval};
use leptos::prelude::*;

use crate::api::run_status::{RunStatusView, SyncNow, sync_status};
use crate::api::settings::schedule::{SaveSchedule, ScheduleView, load_schedule, policy_key};
use crate::components::action_outcome::{ActionOutcome, successes};
use crate::components::local_time::LocalTime;
use crate::components::status_ticker::use_status_ticker;

#[component]
pub fn ScheduleTab() -> impl IntoView {
    let save = ServerAction::<SaveSchedule>::new();
    let saved = successes(save);
    let data = Resource::new(move || saved.get(), |_| load_schedule());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the schedule…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => {
                        view! {
                            <div class="schedule-grid">
                                {view! { <SyncStatusCard initial=view.status.clone() /> }.into_any()}
                                {view! { <ScheduleCard view save /> }.into_any()}
                            </div>
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn policy_hint(policy: ConflictPolicy) -> &'static str {
    match policy {
        ConflictPolicy::QboWins => {
            "The QuickBooks version is kept; the Zoho change is logged, not lost unseen."
        }
        ConflictPolicy::ZohoWins => {
            "The Zoho CRM version is kept; the QuickBooks change is logged."
        }
        ConflictPolicy::NewestWins => {
            "Whichever side was changed last is kept; a tie keeps QuickBooks."
        }
    }
}

/// The run status, live: polled every few seconds while a run is going, asked for or due, so a
/// run starting and ending shows without a reload. Sync now answers under the button.
#[component]
fn SyncStatusCard(initial: RunStatusView) -> impl IntoView {
    let sync_now = ServerAction::<SyncNow>::new();
    let busy = RwSignal::new(initial.busy);
    let tick = use_status_ticker(busy.into());
    let status = RwSignal::new(initial);
    let polled = Resource::new(move || tick.get(), |_| sync_status());
    Effect::new(move |_| {
        if let Some(Ok(view)) = polled.get() {
            status.set(view);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(answer)) = sync_now.value().get() {
            status.set(answer.status);
        }
    });
    Effect::new(move |_| busy.set(status.with(|s| s.busy)));
    view! {
        <section class="card settings-card" aria-labelledby="sync-status-title">
            <header class="settings-card-head">
                <h2 id="sync-status-title">"Sync status"</h2>
            </header>
            {move || status.with(|s| view! { <StatusFacts status=s.clone() /> })}
            <ActionForm action=sync_now attr:class="sync-now-form">
                <button
                    type="submit"
                    class="button button-primary"
                    disabled=move || sync_now.pending().get()
                >
                    "Sync now"
                </button>
            </ActionForm>
            // What Sync now did; before it is pressed, why it cannot run yet (if it cannot).
            {move || match sync_now.value().get() {
                Some(Ok(answer)) => Some(
                    view! {
                        <p class="saved" role="status" id="sync-now-answer" data-after-current-run=answer.after_current_run.to_string()>
                            {answer.message}
                        </p>
                    }
                        .into_any(),
                ),
                Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
                None => status.with(|s| s.blocked.clone()).map(|b| view! { <p class="hint" id="sync-blocked">{b}</p> }.into_any()),
            }}
        </section>
    }
}

#[component]
fn StatusFacts(status: RunStatusView) -> impl IntoView {
    let last_run = match (status.last_finished_at, status.running, status.last_started_at) {
        (Some(at), _, _) => view! {
            <LocalTime millis=at />
            {status.last_outcome.map(|o| view! { " " <span class=o.badge_class()>{o.label()}</span> })}
        }
        .into_any(),
        (None, true, Some(at)) => view! {
            <span class="muted">"The first run is going (started " <LocalTime millis=at /> ")"</span>
        }
        .into_any(),
        _ => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    let next_run = match (
        status.requested,
        status.running,
        status.next_run_at,
        status.active,
    ) {
        (true, true, _, _) => view! {
            <span class="badge badge-info" id="sync-requested">"Sync requested"</span>
            <span class="muted small">" — starts as soon as the current run ends."</span>
        }
        .into_any(),
        (true, false, _, _) => view! {
            <span class="badge badge-info" id="sync-requested">"Sync requested"</span>
            <span class="muted small">" — starts as soon as a sync worker is free."</span>
        }
        .into_any(),
        (false, _, Some(at), true) => view! { <LocalTime millis=at /> }.into_any(),
        (false, _, None, true) => view! {
            <span class="muted">"Not scheduled yet; press Sync now to run at once"</span>
        }
        .into_any(),
        (false, _, _, false) => view! {
            <span class="muted">"Not scheduled while the integration is inactive"</span>
        }
        .into_any(),
    };
    view! {
        <dl
            class="details status-list"
            data-running=status.running.to_string()
            data-requested=status.requested.to_string()
            data-busy=status.busy.to_string()
            data-last-started-at=status.last_started_at
        >
            <dt>"Integration"</dt>
            <dd>
                {if status.active {
                    view! { <span class="badge badge-ok">"Active"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-muted">"Inactive"</span> }.into_any()
                }}
                {status.running.then(|| view! { " " <span class="badge badge-info" id="running-now">"Running now"</span> })}
                {status
                    .interrupted
                    .then(|| {
                        view! {
                            " "
                            <span class="badge badge-warn" id="run-interrupted">"Interrupted, resuming"</span>
                        }
                    })}
            </dd>
            <dt>"Last run"</dt>
            <dd id="last-run">{last_run}</dd>
            <dt>"Next run"</dt>
            <dd id="next-run">{next_run}</dd>
        </dl>
        {status.last_message.map(|m| view! { <p class="small muted">{m}</p> })}
    }
}

#[component]
fn ScheduleCard(view: ScheduleView, save: ServerAction<SaveSchedule>) -> impl IntoView {
    let interval = view.interval_minutes;
    let policy = view.conflict_policy;
    view! {
            <section class="card settings-card" aria-labelledby="schedule-title">
                <header class="settings-card-head">
                    <h2 id="schedule-title">"Schedule and conflicts"</h2>
                </header>
                <ActionForm action=save attr:class="settings-form">
                    <label class="field">
                        <span class="field-title">"Sync every"</span>
                        <span class="input-suffix">
                            <input
                                type="number"
                                name="interval"
                                step="1"
                                inputmode="numeric"
                                value=interval.to_string()
                                aria-describedby="interval-hint"
                            />
                            <span>"minutes"</span>
                        </span>
                        <span class="hint" id="interval-hint">
                            {format!(
                                "From {} to {} minutes. Changes are also picked up by Sync now.",
                                SyncInterval::MIN,
                                SyncInterval::MAX,
                            )}
                        </span>
                    </label>
                    <fieldset class="radio-group">
                        <legend class="field-title">"When a record changed in both systems"</legend>
                        {ConflictPolicy::ALL
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <label class="check">
                                        <input
                                            type="radio"
                                            name="conflict_policy"
                                            value=policy_key(p)
                                            checked=p == policy
                                        />
                                        <span>
                                            <strong>{p.label()}</strong>
                                            <span class="muted small block">{policy_hint(p)}</span>
                                        </span>
                                    </label>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                    <div class="form-actions">
                        <button type="submit" class="button button-primary" disabled=move || save.pending().get()>
                            "Save schedule"
                        </button>
                        <ActionOutcome action=save ok_text="Schedule saved." />
                    </div>
                </ActionForm>
            </section>
    }
}
