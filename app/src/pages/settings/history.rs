//! Settings → Sync Historical Data (annual plans): per module a start date and a checkbox;
//! Submit queues a backfill of every record modified since then, in the directions of Sync
//! Direction. Progress bars follow the backfills, refreshed every few seconds while any is
//! queued or running.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::settings::history::{
    BackfillView, HistoryPair, HistoryView, StartBackfill, backfill_progress, flows_label,
    load_history,
};
use crate::components::action_outcome::ActionOutcome;
use crate::components::lock_icon::LockIcon;

/// How often progress is re-read while a backfill is active.
const POLL_EVERY: Duration = Duration::from_secs(3);

#[component]
pub fn HistoryTab() -> impl IntoView {
    let data = Resource::new(|| (), |()| load_history());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading historical data settings…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) if view.locked.is_some() => view! { <HistoryLocked view /> }.into_any(),
                    Ok(view) => view! { <HistoryForm view /> }.into_any(),
                    Err(error) => {
                        view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn HistoryLocked(view: HistoryView) -> impl IntoView {
    view! {
        <section class="card settings-card locked-card" data-locked="true">
            <div class="lock-icon" aria-hidden="true">
                <LockIcon />
            </div>
            <h2>"Sync Historical Data is part of the annual plans"</h2>
            <p>
                "zqsync normally copies only records that are created or changed after you connect. "
                "On an annual plan you can also copy older records: pick a start date per module and zqsync "
                "works through everything modified since then, as often as you like."
            </p>
            <p class="muted">{view.locked.unwrap_or_default()}</p>
            <p>
                <a href="/plan" class="button button-primary">"See annual plans"</a>
            </p>
        </section>
    }
}

#[component]
fn HistoryForm(view: HistoryView) -> impl IntoView {
    let start = ServerAction::<StartBackfill>::new();
    let tick = RwSignal::new(0u32);
    let progress = Resource::new(
        move || (tick.get(), start.version().get()),
        |_| backfill_progress(),
    );
    // While anything is queued or running, read progress again in a while. Effects run in the
    // browser only; before hydration the page shows the state it was rendered with.
    Effect::new(move |_| {
        let active = progress
            .get()
            .and_then(Result::ok)
            .is_some_and(|list| list.iter().any(|b| b.active));
        if active {
            set_timeout(
                move || {
                    let _ = tick.try_update(|n| *n += 1);
                },
                POLL_EVERY,
            );
        }
    });
    let today = view.today.clone();
    view! {
        <section class="card settings-card">
            <header class="settings-card-head">
                <h2>"Sync historical data"</h2>
                <p class="muted">
                    "Copy records modified since a date, not only new changes. Each module goes the way set on Sync Direction; run it again whenever you need to."
                </p>
            </header>
            <ActionForm action=start attr:class="settings-form">
                <table class="settings-table">
                    <thead>
                        <tr>
                            <th scope="col">"Module"</th>
                            <th scope="col">"Direction"</th>
                            <th scope="col">"Sync records modified since"</th>
                            <th scope="col">"Include"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .pairs
                            .into_iter()
                            .map(|line| view! { <HistoryRow line today=today.clone() /> })
                            .collect_view()}
                    </tbody>
                </table>
                <div class="form-actions">
                    <button type="submit" class="button button-primary" disabled=move || start.pending().get()>
                        "Start historical sync"
                    </button>
                    <ActionOutcome action=start ok_text="Queued: the next sync run starts working through it." />
                </div>
            </ActionForm>
        </section>
        <section class="card settings-card" aria-labelledby="backfill-progress-title">
            <h2 id="backfill-progress-title">"Progress"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading progress…"</p> }>
                // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
                {move || Suspend::new(async move {
                    match progress.await {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="muted">"No historical sync has been started yet."</p> }.into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <ul class="backfills">
                                        {list.into_iter().map(|b| view! { <BackfillBar backfill=b /> }).collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(error) => {
                                view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                            }
                        }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn HistoryRow(line: HistoryPair, today: String) -> impl IntoView {
    let key = line.pair.key();
    let label = line.pair.label();
    let unavailable = line.unavailable.is_some();
    view! {
        <tr data-pair=key class:row-locked=unavailable>
            <th scope="row">{label}</th>
            <td>
                {match line.unavailable {
                    Some(reason) => view! { <span class="muted small">{reason}</span> }.into_any(),
                    None => view! { <span>{flows_label(&line.flows)}</span> }.into_any(),
                }}
            </td>
            <td>
                <input
                    type="date"
                    name=format!("since[{key}]")
                    max=today
                    disabled=unavailable
                    aria-label=format!("Start date for {label}")
                />
            </td>
            <td>
                <input
                    type="checkbox"
                    name=format!("include[{key}]")
                    disabled=unavailable
                    aria-label=format!("Include {label}")
                />
            </td>
        </tr>
    }
}

#[component]
fn BackfillBar(backfill: BackfillView) -> impl IntoView {
    let percent = backfill.percent();
    let label = format!("{} · {}", backfill.pair.label(), backfill.flow.label());
    let count = match backfill.estimated_total {
        Some(total) => format!("{} of {total} records", backfill.done),
        None if backfill.active => format!("{} records so far; counting the rest…", backfill.done),
        None => format!("{} records", backfill.done),
    };
    let badge = match backfill.status.as_str() {
        "Done" => "badge badge-ok",
        "Failed" => "badge badge-error",
        _ => "badge badge-info",
    };
    view! {
        <li class="backfill" data-pair=backfill.pair.key() data-status=backfill.status.to_lowercase()>
            <div class="backfill-head">
                <strong>{label.clone()}</strong>
                <span class="muted small">{format!("since {}", backfill.since)}</span>
                <span class=badge>{backfill.status.clone()}</span>
            </div>
            // A native progress bar: its fill needs no inline style (which the
            // Content-Security-Policy refuses); without a total it shows as indeterminate.
            <progress
                class="progress"
                max="100"
                value=percent.map(|p| p.to_string())
                aria-label=format!("Progress of {label}")
            ></progress>
            <p class="small muted">
                {count}
                {percent.map(|p| format!(" · {p}%"))}
            </p>
            {backfill.message.map(|m| view! { <p class="small form-error">{m}</p> })}
        </li>
    }
}
