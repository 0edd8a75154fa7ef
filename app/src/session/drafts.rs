//! Drafts: unsaved edits that outlive the session (issue 14). When the session ends while the
//! QuickBooks Mapping or Filters page holds unsaved edits, the page keeps them in the browser's
//! `localStorage`; after logging in again the same page offers them back ("You have unsaved
//! changes from before you were logged out: Restore / Discard").
//!
//! - Kept only once the session has ended (and updated while the user keeps editing), never
//!   while it is alive: nothing sits in the browser that need not.
//! - Keyed by tenant and user, page and module pair
//!   (`zqsync.draft.v1.{tenant_id}.{user_id}.{page}.{pair}`): offered only to the person who made
//!   them, on the page they belong to. A draft holds what the user typed into the form (the
//!   mapping or the filter rows), never a token or anything the server sent besides.
//! - Gone when restored, discarded, older than a week, or when the user logs out.
//!
//! A page adds one hook ([`use_draft`]) and places its offer ([`DraftHook::offer`]).

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::components::local_time::local_text;
use crate::components::unsaved;
use crate::error::AppError;
use crate::session::idle::{Phase, SessionWatch, submit_error_text};

const PREFIX: &str = "zqsync.draft.v1.";
/// Drafts older than this are dropped unread.
const MAX_AGE_MILLIS: f64 = 7.0 * 24.0 * 3600.0 * 1000.0;

#[derive(Serialize, Deserialize)]
struct Stored<T> {
    /// When it was kept (`Date.now()`).
    saved_at: f64,
    data: T,
}

fn storage() -> Option<leptos::web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn now_millis() -> f64 {
    leptos::web_sys::js_sys::Date::now()
}

fn keys() -> Vec<String> {
    let Some(storage) = storage() else {
        return Vec::new();
    };
    let count = storage.length().unwrap_or(0);
    (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(PREFIX))
        .collect()
}

fn remove(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

/// Forgets the drafts of `scope` (a user logging out), or every draft when it is unknown.
/// Browser only.
pub fn forget(scope: Option<&str>) {
    let prefix = scope.map_or_else(|| PREFIX.to_owned(), |s| format!("{PREFIX}{s}."));
    for key in keys().into_iter().filter(|k| k.starts_with(&prefix)) {
        remove(&key);
    }
}

/// Whether this browser keeps drafts, after dropping those past their age (the log-in page
/// says they will be offered back). Browser only.
pub fn any_kept() -> bool {
    let mut any = false;
    for key in keys() {
        let saved_at = storage()
            .and_then(|s| s.get_item(&key).ok().flatten())
            .and_then(|text| serde_json::from_str::<Stored<serde_json::Value>>(&text).ok())
            .map(|stored| stored.saved_at);
        match saved_at {
            Some(at) if now_millis() - at < MAX_AGE_MILLIS => any = true,
            _ => remove(&key),
        }
    }
    any
}

/// One page's draft: the offer to restore it, and the Submit error text.
pub struct DraftHook<T: Send + Sync + 'static> {
    watch: Option<SessionWatch>,
    /// A kept draft waiting for Restore or Discard, with when it was kept.
    offer: RwSignal<Option<(T, f64)>>,
    key: RwSignal<Option<String>>,
    draft: RwSignal<T>,
    generation: RwSignal<u32>,
}

impl<T: Send + Sync + 'static> Clone for DraftHook<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for DraftHook<T> {}

/// Keeps `draft` (the page's edits; `baseline` is what is saved) under `page` and `pair`
/// when the session ends, and offers a kept draft back. `generation` is bumped after a
/// restore, so the page draws its rows again from the draft.
pub fn use_draft<T>(
    page: &'static str,
    pair: &str,
    draft: RwSignal<T>,
    baseline: RwSignal<T>,
    generation: RwSignal<u32>,
) -> DraftHook<T>
where
    T: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    let watch = use_context::<SessionWatch>();
    let hook = DraftHook {
        watch,
        offer: RwSignal::new(None),
        key: RwSignal::new(None),
        draft,
        generation,
    };
    let Some(watch) = watch else {
        return hook;
    };
    let pair = pair.to_owned();
    // Once the account is known: is there a draft of this page from before a log-out?
    Effect::new(move |_| {
        let Some(scope) = watch.scope.get() else {
            return;
        };
        let key = format!("{PREFIX}{scope}.{page}.{pair}");
        if hook.key.get_untracked().as_deref() == Some(key.as_str()) {
            return;
        }
        let stored = storage()
            .and_then(|s| s.get_item(&key).ok().flatten())
            .and_then(|text| serde_json::from_str::<Stored<T>>(&text).ok());
        match stored {
            Some(stored)
                if now_millis() - stored.saved_at < MAX_AGE_MILLIS
                    && baseline.with_untracked(|b| *b != stored.data) =>
            {
                hook.offer.set(Some((stored.data, stored.saved_at)));
            }
            Some(_) => remove(&key),
            None => {}
        }
        hook.key.set(Some(key));
    });
    // Kept while the session is over and the page holds unsaved edits.
    let wrote = StoredValue::new(false);
    Effect::new(move |_| {
        let phase = watch.phase.get();
        let dirty = draft.with(|d| baseline.with(|b| d != b));
        if hook.offer.with(Option::is_some) {
            return;
        }
        let Some(key) = hook.key.get() else {
            return;
        };
        if phase == Phase::Ended && dirty {
            let stored = Stored {
                saved_at: now_millis(),
                data: draft.get_untracked(),
            };
            if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&stored))
                && storage.set_item(&key, &text).is_ok()
            {
                wrote.set_value(true);
                watch.kept_draft.set(true);
                // Leaving the page loses nothing now: no "Leave without saving?".
                unsaved::set_kept(true);
            }
        } else {
            if wrote.get_value() {
                remove(&key);
                wrote.set_value(false);
            }
            unsaved::set_kept(false);
        }
    });
    hook
}

impl<T> DraftHook<T>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    /// The text a failed Submit shows: for a session that ended, that the changes are kept
    /// and restored after logging in.
    pub fn error_text(&self, error: &AppError) -> String {
        submit_error_text(self.watch, error)
    }

    /// "You have unsaved changes from before you were logged out: Restore / Discard", while a
    /// kept draft waits for an answer.
    pub fn offer(&self) -> impl IntoView + use<T> {
        let hook = *self;
        let forget = move || {
            if let Some(key) = hook.key.get_untracked() {
                remove(&key);
            }
        };
        let restore = move |_| {
            if let Some((data, _)) = hook.offer.get_untracked() {
                hook.draft.set(data);
                hook.generation.update(|g| *g += 1);
            }
            forget();
            hook.offer.set(None);
        };
        let discard = move |_| {
            forget();
            hook.offer.set(None);
        };
        move || {
            hook.offer.with(|offer| {
                offer.as_ref().map(|(_, saved_at)| {
                    #[allow(clippy::cast_possible_truncation)] // milliseconds since 1970
                    let kept = local_text(*saved_at as i64);
                    view! {
                        <section class="card draft-offer" aria-labelledby="draft-offer-title">
                            <div>
                                <h2 id="draft-offer-title">
                                    "You have unsaved changes from before you were logged out"
                                </h2>
                                <p class="muted small">
                                    {format!(
                                        "Kept in this browser at {kept}. Restore them to review and Submit, or discard them.",
                                    )}
                                </p>
                            </div>
                            <div class="draft-offer-actions">
                                <button type="button" class="button button-primary" on:click=restore>
                                    "Restore"
                                </button>
                                <button type="button" class="button" on:click=discard>
                                    "Discard"
                                </button>
                            </div>
                        </section>
                    }
                })
            })
        }
    }
}
