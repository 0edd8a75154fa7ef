//! Settings → Schedule: how often zqsync syncs (1–60 minutes), Sync now, the last and next run
//! in the reader's local time, and who wins when a record changed on both sides.

use domain::settings::{ConflictPolicy, SyncInterval};
use leptos::prelude::*;

use super::settings::{ActionOutcome, successes};
use crate::components::local_time::LocalTime;
use crate::sync_settings::{SaveSchedule, ScheduleView, SyncNow, load_schedule, policy_key};

#[component]
pub fn ScheduleTab() -> impl IntoView {
    let save = ServerAction::<SaveSchedule>::new();
    let sync_now = ServerAction::<SyncNow>::new();
    let saved = successes(save);
    let requested = successes(sync_now);
    let data = Resource::new(move || (saved.get(), requested.get()), |_| load_schedule());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the schedule…"</p> }>
            {move || {
                data.get()
                    .map(|result| match result {
                        Ok(view) => view! { <ScheduleCards view save sync_now /> }.into_any(),
                        Err(error) => {
                            view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                        }
                    })
            }}
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

#[component]
fn ScheduleCards(
    view: ScheduleView,
    save: ServerAction<SaveSchedule>,
    sync_now: ServerAction<SyncNow>,
) -> impl IntoView {
    let interval = view.interval_minutes;
    let policy = view.conflict_policy;
    let blocked = view.blocked.clone();
    let last_run = match (view.last_started_at, view.last_outcome.clone()) {
        (Some(at), outcome) => view! {
            <LocalTime millis=at />
            {outcome.map(|o| {
                let class = match o.as_str() {
                    "Completed" => "badge badge-ok",
                    "Failed" => "badge badge-error",
                    _ => "badge badge-warn",
                };
                view! { " " <span class=class>{o}</span> }
            })}
        }
        .into_any(),
        (None, _) => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    let next_run = match (view.requested, view.next_run_at, view.active) {
        (true, _, _) => view! {
            <span class="badge badge-info" id="sync-requested">"Sync requested"</span>
            <span class="muted small">" — starts as soon as a sync worker is free."</span>
        }
        .into_any(),
        (false, Some(at), true) => view! { <LocalTime millis=at /> }.into_any(),
        (false, None, true) => view! {
            <span class="muted">"Not scheduled yet; press Sync now to run at once"</span>
        }
        .into_any(),
        (false, _, false) => view! {
            <span class="muted">"Not scheduled while the integration is inactive"</span>
        }
        .into_any(),
    };
    view! {
        <div class="schedule-grid">
            <section class="card settings-card" aria-labelledby="sync-status-title">
                <header class="settings-card-head">
                    <h2 id="sync-status-title">"Sync status"</h2>
                </header>
                <dl class="details status-list">
                    <dt>"Integration"</dt>
                    <dd>
                        {if view.active {
                            view! { <span class="badge badge-ok">"Active"</span> }.into_any()
                        } else {
                            view! { <span class="badge badge-muted">"Inactive"</span> }.into_any()
                        }}
                        {view.running.then(|| view! { " " <span class="badge badge-info">"Running now"</span> })}
                    </dd>
                    <dt>"Last run"</dt>
                    <dd id="last-run">{last_run}</dd>
                    <dt>"Next run"</dt>
                    <dd id="next-run">{next_run}</dd>
                </dl>
                {view.last_message.map(|m| view! { <p class="small muted">{m}</p> })}
                <ActionForm action=sync_now attr:class="sync-now-form">
                    <button
                        type="submit"
                        class="button button-primary"
                        disabled=move || sync_now.pending().get()
                    >
                        "Sync now"
                    </button>
                </ActionForm>
                // Why it cannot run yet; once pressed, the refusal (saying the same) replaces it.
                {move || match sync_now.value().get().and_then(Result::err) {
                    Some(e) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
                    None => blocked
                        .clone()
                        .map(|b| view! { <p class="hint" id="sync-blocked">{b}</p> }.into_any()),
                }}
            </section>
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
        </div>
    }
}
