//! The home summary card (SPEC §7, beyond the guide): the last run and its outcome, the next
//! run, and records synced and failed per hour over the last 24 hours as a small bar chart,
//! drawn here as SVG (no chart library). Shown on the QuickBooks Mapping page header and at the
//! top of Logs.

use leptos::prelude::*;

use crate::api::logs::{HourBar, SyncSummaryView, home_summary};
use crate::components::local_time::LocalTime;
use crate::components::status_ticker::use_status_ticker;

/// Bumped by a page after something that changes the summary (a Retry requests a run).
#[derive(Debug, Clone, Copy)]
pub struct SummaryRefresh(pub RwSignal<u32>);

/// Bumped by the summary when what it polled says the log has new rows: while a run goes on,
/// and once when it ends. A page showing the log (Logs) reloads its rows on it.
#[derive(Debug, Clone, Copy)]
pub struct LogChanged(pub RwSignal<u32>);

#[component]
pub fn SyncSummary() -> impl IntoView {
    let refresh = use_context::<SummaryRefresh>();
    let log_changed = use_context::<LogChanged>();
    let busy = RwSignal::new(false);
    let tick = use_status_ticker(busy.into());
    let summary = Resource::new(
        move || (refresh.map(|r| r.0.get()), tick.get()),
        |_| home_summary(),
    );
    // The pace follows the status; the log reloads while a run writes rows and when it ends.
    let last_seen = StoredValue::new(None::<(bool, Option<i64>)>);
    Effect::new(move |_| {
        let Some(Ok(view)) = summary.get() else {
            return;
        };
        busy.set(view.status.busy);
        let now = (view.status.running, view.status.last_finished_at);
        let before = last_seen.get_value();
        last_seen.set_value(Some(now));
        if let (Some(log_changed), Some(before)) = (log_changed, before)
            && (now.0 || before != now)
        {
            log_changed.0.update(|n| *n = n.wrapping_add(1));
        }
    });
    view! {
        <section class="card sync-summary" aria-label="Sync summary">
            <Transition fallback=|| view! { <p class="muted small">"Loading the sync summary…"</p> }>
                // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
                {move || Suspend::new(async move {
                    match summary.await {
                            Ok(view) => view! { <SummaryBody view /> }.into_any(),
                            Err(error) => {
                                view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                                    .into_any()
                            }
                        }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SummaryBody(view: SyncSummaryView) -> impl IntoView {
    let status = view.status;
    let synced: u64 = view.hours.iter().map(|h| h.synced).sum();
    let failed: u64 = view.hours.iter().map(|h| h.failed).sum();
    // The last run that ended; a first run still going has no outcome to show yet.
    let last = status.last_finished_at;
    let outcome = status.last_outcome.map(|o| (o.badge_class(), o.label()));
    let next = if !status.active {
        view! {
            <span class="fact-value">"Paused"</span>
            <span class="fact-note">
                "The integration is off. " <a href="/quickbooks">"Activate it"</a>
                " to sync."
            </span>
        }
        .into_any()
    } else if status.running {
        view! {
            <span class="fact-value">"Running now"</span>
            {status
                .requested
                .then(|| view! { <span class="fact-note">"Another run follows it (Sync now)."</span> })}
        }
        .into_any()
    } else if status.interrupted {
        view! {
            <span class="fact-value">"Interrupted, resuming"</span>
            <span class="fact-note">"The last run stopped before it ended; it picks up where it left off."</span>
        }
        .into_any()
    } else if status.requested {
        view! {
            <span class="fact-value">"Starting shortly"</span>
            <span class="fact-note">"A sync was requested."</span>
        }
        .into_any()
    } else if let Some(at) = status.next_run_at {
        view! {
            <span class="fact-value">
                <LocalTime millis=at />
            </span>
        }
        .into_any()
    } else {
        view! { <span class="fact-value">"Within a few minutes"</span> }.into_any()
    };
    view! {
        <div
            class="summary-facts"
            data-running=status.running.to_string()
            data-requested=status.requested.to_string()
            data-busy=status.busy.to_string()
            data-last-started-at=status.last_started_at
        >
            <div class="fact" data-fact="last-run">
                <span class="fact-label">"Last run"</span>
                {match last {
                    Some(at) => {
                        view! {
                            <span class="fact-value">
                                <LocalTime millis=at />
                                {outcome.map(|(class, label)| view! { " " <span class=class>{label}</span> })}
                            </span>
                        }
                            .into_any()
                    }
                    None if status.running => {
                        view! { <span class="fact-value">"The first run is going"</span> }.into_any()
                    }
                    None => view! { <span class="fact-value">"Not yet"</span> }.into_any(),
                }}
                {status.last_message.map(|m| view! { <span class="fact-note">{m}</span> })}
            </div>
            <div class="fact" data-fact="next-run">
                <span class="fact-label">"Next run"</span>
                {next}
            </div>
            <div class="fact" data-fact="last-24h">
                <span class="fact-label">"Last 24 hours"</span>
                <span class="fact-value">
                    <span class="count-synced">{format!("{synced} synced")}</span>
                    " · "
                    <span class="count-failed">{format!("{failed} failed")}</span>
                </span>
            </div>
        </div>
        <HourlyChart hours=view.hours synced failed />
    }
}

const CHART_WIDTH: u32 = 480;
const CHART_HEIGHT: u32 = 72;
const SLOT: u32 = CHART_WIDTH / 24;
const BAR: u32 = 12;

/// The height in chart units of `count` when `max` fills the chart (at least 2 units for a
/// non-zero count, so a single failure among hundreds is still visible).
fn bar_height(count: u64, max: u64) -> u32 {
    if count == 0 || max == 0 {
        return 0;
    }
    let scaled = count.saturating_mul(u64::from(CHART_HEIGHT)) / max;
    u32::try_from(scaled)
        .unwrap_or(CHART_HEIGHT)
        .clamp(2, CHART_HEIGHT)
}

fn hours_ago(index: usize, len: usize) -> String {
    match len.saturating_sub(index + 1) {
        0 => "this hour".to_owned(),
        1 => "1 hour ago".to_owned(),
        n => format!("{n} hours ago"),
    }
}

/// 24 stacked bars, oldest on the left: synced (green) with failed (red) on top.
#[component]
fn HourlyChart(hours: Vec<HourBar>, synced: u64, failed: u64) -> impl IntoView {
    let max = hours.iter().map(|h| h.synced + h.failed).max().unwrap_or(0);
    let len = hours.len();
    let label = format!(
        "Records per hour over the last 24 hours: {synced} synced and {failed} failed in total."
    );
    let bars = hours
        .into_iter()
        .enumerate()
        .map(|(i, hour)| {
            let x = u32::try_from(i).unwrap_or(0) * SLOT + (SLOT - BAR) / 2;
            let ok = bar_height(hour.synced, max);
            let bad = bar_height(hour.failed, max).min(CHART_HEIGHT - ok);
            let tip = format!(
                "{}: {} synced, {} failed",
                hours_ago(i, len),
                hour.synced,
                hour.failed
            );
            view! {
                <g class="chart-hour" data-synced=hour.synced data-failed=hour.failed>
                    <title>{tip}</title>
                    <rect class="chart-slot" x=x y=0 width=BAR height=CHART_HEIGHT rx=2 />
                    <rect class="chart-synced" x=x y=CHART_HEIGHT - ok width=BAR height=ok rx=2 />
                    <rect class="chart-failed" x=x y=CHART_HEIGHT - ok - bad width=BAR height=bad rx=2 />
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="hourly-chart">
            <svg
                viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=label
            >
                {bars}
            </svg>
            <figcaption>
                <span class="chart-axis">"24 h ago"</span>
                <span class="chart-legend">
                    <span class="legend-synced">"Synced"</span>
                    <span class="legend-failed">"Failed"</span>
                </span>
                <span class="chart-axis">"now"</span>
            </figcaption>
            {(max == 0).then(|| view! { <p class="chart-empty muted small">"No records synced in the last 24 hours."</p> })}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_busiest_hour_and_stay_visible() {
        assert_eq!(bar_height(0, 10), 0);
        assert_eq!(bar_height(10, 10), CHART_HEIGHT);
        assert_eq!(bar_height(5, 10), CHART_HEIGHT / 2);
        assert_eq!(bar_height(1, 1000), 2, "one failure among many still shows");
        assert_eq!(bar_height(3, 0), 0);
    }

    #[test]
    fn hours_are_named_from_now() {
        assert_eq!(hours_ago(23, 24), "this hour");
        assert_eq!(hours_ago(22, 24), "1 hour ago");
        assert_eq!(hours_ago(0, 24), "23 hours ago");
    }
}
