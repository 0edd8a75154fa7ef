//! The padlock beside what the plan does not include.

use leptos::prelude::*;

/// A padlock, drawn rather than an emoji so it looks the same on every system.
#[component]
pub fn LockIcon() -> impl IntoView {
    view! {
        <svg class="icon-lock" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
            <rect x="3" y="7" width="10" height="7.5" rx="1.5" fill="currentColor" />
            <path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.6" />
        </svg>
    }
}
