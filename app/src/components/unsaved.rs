//! "You have unsaved changes" for pages with forms (QuickBooks Mapping, Filters): leaving the
//! page asks first, both when the browser unloads it (reload, closing the tab, typing another
//! address) and when an in-app link is clicked.
//!
//! One pair of window listeners serves the whole app; pages only say whether they hold unsaved
//! edits. Once the session has ended and the edits are kept as a draft (`crate::session::drafts`),
//! leaving loses nothing, so nothing is asked. The click listener runs in the capture phase, before the router's own click handler,
//! and cancels the navigation (the router skips clicks whose default was prevented).

use std::cell::Cell;

use leptos::prelude::*;

pub const LEAVE_QUESTION: &str =
    "You have unsaved changes on this page. Leave without saving them?";

thread_local! {
    static UNSAVED: Cell<bool> = const { Cell::new(false) };
    static KEPT: Cell<bool> = const { Cell::new(false) };
    static LISTENING: Cell<bool> = const { Cell::new(false) };
}

/// Unsaved edits that leaving would lose: there are some, and they are not kept as a draft.
fn at_risk() -> bool {
    UNSAVED.with(Cell::get) && !KEPT.with(Cell::get)
}

/// The page's unsaved edits are kept as a draft (the session ended): leaving asks nothing.
pub fn set_kept(kept: bool) {
    KEPT.with(|flag| flag.set(kept));
}

/// Asks the user before a page with unsaved edits is left; `true` when they may be dropped.
pub fn confirm_discard() -> bool {
    !at_risk() || confirm(LEAVE_QUESTION)
}

/// A yes/no question in the browser's own dialog (keyboard-friendly, announced by screen readers).
pub fn confirm(question: &str) -> bool {
    window().confirm_with_message(question).unwrap_or(false)
}

/// Keeps the app-wide flag equal to `dirty` while the calling page is mounted.
pub fn guard_unsaved_changes(dirty: Memo<bool>) {
    Effect::new(move |_| {
        install_listeners();
        UNSAVED.with(|flag| flag.set(dirty.get()));
    });
    on_cleanup(|| {
        UNSAVED.with(|flag| flag.set(false));
        KEPT.with(|flag| flag.set(false));
    });
}

fn install_listeners() {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;

    if LISTENING.with(|l| l.replace(true)) {
        return;
    }
    // Browsers show their own wording; preventing the default is what asks.
    // The listeners live as long as the app: their handles are never used to remove them.
    let _ = window_event_listener_untyped("beforeunload", |event| {
        if at_risk() {
            event.prevent_default();
        }
    });
    let on_click = Closure::<dyn Fn(leptos::web_sys::MouseEvent)>::new(
        |event: leptos::web_sys::MouseEvent| {
            if !at_risk() || event.default_prevented() || event.button() != 0 {
                return;
            }
            let Some(anchor) = event
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten())
            else {
                return;
            };
            let href = anchor.get_attribute("href").unwrap_or_default();
            let here = window().location().pathname().unwrap_or_default();
            // Links to the page itself (or to an anchor on it) do not leave it.
            if href.starts_with('#') || href == here {
                return;
            }
            if confirm(LEAVE_QUESTION) {
                UNSAVED.with(|flag| flag.set(false));
            } else {
                event.prevent_default();
                event.stop_propagation();
            }
        },
    );
    let _ = window().add_event_listener_with_callback_and_bool(
        "click",
        on_click.as_ref().unchecked_ref(),
        true,
    );
    on_click.forget();
}
