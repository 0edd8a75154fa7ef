//! What a Submit did, shown in the sticky action bar beside the button the user pressed:
//! "Saved", or how many problems stop the save with a button that brings the first one into
//! view, or the error itself (a server problem; a session that ended says the edits are kept,
//! with a link to log in that comes back). The message at the top of the page says the same
//! for those who look there.

use leptos::prelude::*;

use crate::session::idle::{SESSION_ENDED_SAVE, message_with_login_link};

/// The outcome of the last Submit: `(saved, message)`, as the pages keep it.
pub type SubmitStatus = RwSignal<Option<(bool, String)>>;

#[component]
pub fn SaveOutcome(
    status: SubmitStatus,
    /// Problems in the form that stopped the save.
    invalid: Signal<usize>,
    /// A CSS selector matching the invalid rows of the form, in page order.
    invalid_rows: &'static str,
) -> impl IntoView {
    let show_first = move |_| scroll_to_first(invalid_rows);
    move || {
        status.get().map(|(saved, message)| {
            let count = invalid.get();
            if saved {
                view! {
                    <span class="bar-outcome bar-ok" role="status" id="bar-outcome">
                        "Saved"
                    </span>
                }
                .into_any()
            } else if message == SESSION_ENDED_SAVE {
                view! {
                    <span class="bar-outcome bar-error" role="status" id="bar-outcome">
                        {message_with_login_link(message)}
                    </span>
                }
                .into_any()
            } else if count > 0 {
                view! {
                    <span class="bar-outcome bar-error" role="status" id="bar-outcome">
                        {format!(
                            "Not saved: {count} {} to fix.",
                            if count == 1 { "problem" } else { "problems" },
                        )}
                        " "
                        <button type="button" class="link-button" on:click=show_first>
                            "Show the first"
                        </button>
                    </span>
                }
                .into_any()
            } else {
                view! {
                    <span class="bar-outcome bar-error" role="status" id="bar-outcome">
                        {message}
                    </span>
                }
                .into_any()
            }
        })
    }
}

/// Scrolls the first element matching `selector` into view (its CSS `scroll-margin` keeps it
/// clear of the sticky header) and puts the keyboard on its first control.
fn scroll_to_first(selector: &str) {
    use leptos::wasm_bindgen::JsCast;
    let Some(row) = document().query_selector(selector).ok().flatten() else {
        return;
    };
    row.scroll_into_view();
    if let Some(control) = row
        .query_selector("input, select, textarea, button")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    {
        let _ = control.focus();
    }
}
