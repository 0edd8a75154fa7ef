//! Idle logout without surprises (issue 14). A session ends after `ZQSYNC_SESSION_IDLE_SECS`
//! without a request; the page warns before that happens and says so when it has.
//!
//! How the page knows the time left without keeping the session alive: it asks
//! [`session_time_left`], a passive endpoint
//! ([`PASSIVE_ENDPOINTS`](crate::api::session::PASSIVE_ENDPOINTS): the server resolves its
//! session without counting it as activity), and only ever believes the server. The browser
//! keeps a deadline from the last answer; since activity only moves the real deadline later,
//! that estimate is never late, so the page asks again when it says the warning is due and
//! shows the warning only when the server confirms it. Two tabs of one session therefore never
//! lie to each other: a tab the user is working in keeps the session alive, and the idle tab
//! learns so when it asks. While the warning shows, the tab asks every few seconds (another
//! tab may have been used); "Stay signed in" is a real request ([`stay_signed_in`]) and tells
//! the other tabs through `localStorage` to ask at once.
//!
//! The warning comes one minute before the end, or for limits under five minutes at 80 % of
//! the limit ([`warn_before_millis`]).

use leptos::prelude::*;

use crate::api::session::{SessionClock, session_time_left, stay_signed_in};
use crate::error::AppError;

/// The text of a Submit refused because the session ended (the page's message and the sticky
/// bar's outcome); pages show it with a link to log in that comes back.
pub const SESSION_ENDED_SAVE: &str =
    "Your session ended; log in again and your changes are restored.";

/// Where the "activity in another tab" signal travels between tabs of this browser.
const TOUCH_KEY: &str = "zqsync.session.touch";

/// How long before the end the warning shows: a minute, or a fifth of limits under five
/// minutes (at 80 % of a 3-second limit: 0.6 s before the end).
pub fn warn_before_millis(idle_secs: u64) -> i64 {
    let idle = i64::try_from(idle_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    (idle / 5).min(60_000)
}

/// While the warning shows, the tab asks again this often (another tab may have been used).
fn warning_poll_millis(warn_millis: i64) -> i64 {
    (warn_millis / 6).clamp(100, 10_000)
}

/// "10 minutes", "3 seconds": the idle limit in words.
pub fn duration_text(secs: u64) -> String {
    match secs {
        1 => "1 second".to_owned(),
        60 => "1 minute".to_owned(),
        s if s < 60 || (s < 120 && s % 60 != 0) => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// Where the session stands, as this tab knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Active,
    /// The end is near: the warning with "Stay signed in" shows.
    Warning,
    /// The server said the session is over.
    Ended,
}

/// The session watch of the app shell, in context for the pages (drafts, Submit errors).
#[derive(Debug, Clone, Copy)]
pub struct SessionWatch {
    pub phase: RwSignal<Phase>,
    /// When the session ends (browser time, `Date.now()` milliseconds) per the last answer.
    ends_at: RwSignal<f64>,
    idle_secs: RwSignal<u64>,
    /// `tenant_id.user_id` of the logged-in account, once known: drafts are kept under it.
    pub scope: RwSignal<Option<String>>,
    /// A page kept unsaved edits as a draft when the session ended.
    pub kept_draft: RwSignal<bool>,
    /// Bumped to make the watch ask the server now.
    recheck: RwSignal<u32>,
}

impl SessionWatch {
    /// A watch that knows nothing yet; the shell provides it to its pages.
    pub fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Active),
            ends_at: RwSignal::new(0.0),
            idle_secs: RwSignal::new(0),
            scope: RwSignal::new(None),
            kept_draft: RwSignal::new(false),
            recheck: RwSignal::new(0),
        }
    }

    /// A server function answered that the session is over: say so now, not at the next check.
    pub fn ended(&self) {
        self.phase.set(Phase::Ended);
    }

    /// Asks the server for the time left now (after navigation, when the tab comes back).
    pub fn check_now(&self) {
        self.recheck.update(|n| *n = n.wrapping_add(1));
    }
}

/// The text for a Submit that failed with `error`: for a session that ended, the page's
/// words for it (and the watch learns it at once); otherwise the error's own message.
pub fn submit_error_text(watch: Option<SessionWatch>, error: &AppError) -> String {
    if *error == AppError::NotLoggedIn {
        if let Some(watch) = watch {
            watch.ended();
        }
        SESSION_ENDED_SAVE.to_owned()
    } else {
        error.to_string()
    }
}

/// The log-in page for coming back here: `/login?expired=1&next=<this page>`.
pub fn login_again_href() -> String {
    #[cfg(feature = "hydrate")]
    {
        let location = window().location();
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        crate::api::auth::with_next("/login?expired=1", &here)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        "/login?expired=1".to_owned()
    }
}

/// A Submit's message, with "Log in again" after it when it says the session ended.
pub fn message_with_login_link(message: String) -> AnyView {
    if message == SESSION_ENDED_SAVE {
        view! {
            {message}
            " "
            <a href=login_again_href() rel="external" class="login-again">
                "Log in again"
            </a>
        }
        .into_any()
    } else {
        message.into_any()
    }
}

fn now_millis() -> f64 {
    leptos::web_sys::js_sys::Date::now()
}

impl Default for SessionWatch {
    fn default() -> Self {
        Self::new()
    }
}

/// The session watch: the warning before the idle end with "Stay signed in", and the notice
/// after it with "Log in again". The shell provides `watch` to its pages too.
#[component]
pub fn IdleWatch(watch: SessionWatch) -> impl IntoView {
    let SessionWatch {
        phase,
        ends_at,
        idle_secs,
        kept_draft,
        recheck,
        ..
    } = watch;
    // The newest question asked; older answers are dropped.
    let asked = StoredValue::new(0u32);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let staying = RwSignal::new(false);

    let schedule = move |after: i64, run: Box<dyn FnOnce() + 'static>| {
        if let Some(old) = timer.get_value() {
            old.clear();
        }
        let delay = std::time::Duration::from_millis(u64::try_from(after.max(0)).unwrap_or(0));
        timer.set_value(set_timeout_with_handle(run, delay).ok());
    };
    // What an answer means for the phase, and when to ask next.
    let apply = move |answer: Result<SessionClock, AppError>| match answer {
        Ok(clock) => {
            ends_at.set(now_millis() + clock.millis_left as f64);
            idle_secs.set(clock.idle_secs);
            let warn = warn_before_millis(clock.idle_secs);
            if clock.millis_left <= warn {
                phase.set(Phase::Warning);
                let next = warning_poll_millis(warn).min(clock.millis_left + 50);
                schedule(next, Box::new(move || watch.check_now()));
            } else {
                phase.set(Phase::Active);
                schedule(
                    clock.millis_left - warn,
                    Box::new(move || watch.check_now()),
                );
            }
        }
        Err(AppError::NotLoggedIn) => {
            if let Some(old) = timer.get_value() {
                old.clear();
            }
            phase.set(Phase::Ended);
        }
        // The server could not be reached: keep what we show, try again shortly.
        Err(_) => schedule(5_000, Box::new(move || watch.check_now())),
    };
    // Ask the server whenever `recheck` moves (and once at the start).
    Effect::new(move |_| {
        recheck.track();
        let question = asked.get_value().wrapping_add(1);
        asked.set_value(question);
        leptos::task::spawn_local(async move {
            let answer = session_time_left().await;
            // Only the newest question counts (and none once the shell is gone).
            if asked.try_get_value() == Some(question) {
                apply(answer);
            }
        });
    });
    // Another tab said "Stay signed in", or this tab comes back into view: ask now.
    Effect::new(move |_| {
        let storage = window_event_listener(leptos::ev::storage, move |event| {
            if event.key().as_deref() == Some(TOUCH_KEY) {
                watch.check_now();
            }
        });
        let visible = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if !document().hidden() {
                watch.check_now();
            }
        });
        on_cleanup(move || {
            storage.remove();
            visible.remove();
        });
    });
    on_cleanup(move || {
        if let Some(old) = timer.get_value() {
            old.clear();
        }
    });

    // The countdown shown in the warning.
    let now = RwSignal::new(0.0);
    Effect::new(move |_| {
        if phase.get() != Phase::Warning {
            return;
        }
        now.set(now_millis());
        let tick = if idle_secs.get_untracked() < 300 {
            200
        } else {
            1000
        };
        let handle = set_interval_with_handle(
            move || now.set(now_millis()),
            std::time::Duration::from_millis(tick),
        )
        .ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
    let seconds_left = move || ((ends_at.get() - now.get()) / 1000.0).ceil().max(0.0) as u64;

    let stay = move |_| {
        staying.set(true);
        asked.update_value(|n| *n = n.wrapping_add(1));
        leptos::task::spawn_local(async move {
            let answer = stay_signed_in().await;
            if asked.try_get_value().is_none() {
                return;
            }
            if answer.is_ok()
                && let Ok(Some(storage)) = window().local_storage()
            {
                let _ = storage.set_item(TOUCH_KEY, &now_millis().to_string());
            }
            apply(answer);
            staying.set(false);
        });
    };

    view! {
        <Show when=move || phase.get() == Phase::Warning>
            <div
                class="session-notice"
                role="alertdialog"
                aria-labelledby="session-notice-title"
                aria-describedby="session-notice-text"
            >
                <h2 id="session-notice-title">"Still there?"</h2>
                <p id="session-notice-text">
                    {move || match seconds_left() {
                        0 => "Your session is ending now.".to_owned(),
                        1 => "For your security, your session ends in 1 second.".to_owned(),
                        n => format!("For your security, your session ends in {n} seconds."),
                    }}
                    " Unsaved changes are kept in this browser either way."
                </p>
                <div class="session-notice-actions">
                    <button
                        type="button"
                        class="button button-primary"
                        on:click=stay
                        disabled=move || staying.get()
                    >
                        "Stay signed in"
                    </button>
                </div>
            </div>
        </Show>
        <Show when=move || phase.get() == Phase::Ended>
            <div
                class="session-notice session-ended"
                role="alertdialog"
                aria-labelledby="session-ended-title"
                aria-describedby="session-ended-text"
            >
                <h2 id="session-ended-title">"Your session has ended"</h2>
                <p id="session-ended-text">
                    {move || {
                        format!(
                            "You were logged out after {} without activity.",
                            duration_text(idle_secs.get()),
                        )
                    }}
                    {move || {
                        if kept_draft.get() {
                            " Your unsaved changes are kept in this browser: log in again and they are offered back."
                        } else {
                            " Log in again to carry on where you were."
                        }
                    }}
                </p>
                <div class="session-notice-actions">
                    <a class="button button-primary" href=login_again_href rel="external">
                        "Log in again"
                    </a>
                </div>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_comes_a_minute_early_or_at_80_percent_of_short_limits() {
        assert_eq!(warn_before_millis(600), 60_000);
        assert_eq!(warn_before_millis(300), 60_000);
        assert_eq!(warn_before_millis(120), 24_000);
        assert_eq!(warn_before_millis(3), 600);
        assert_eq!(warning_poll_millis(60_000), 10_000);
        assert_eq!(warning_poll_millis(600), 100);
    }

    #[test]
    fn limits_read_as_words() {
        assert_eq!(duration_text(600), "10 minutes");
        assert_eq!(duration_text(60), "1 minute");
        assert_eq!(duration_text(3), "3 seconds");
        assert_eq!(duration_text(90), "90 seconds");
        assert_eq!(duration_text(1), "1 second");
    }
}
