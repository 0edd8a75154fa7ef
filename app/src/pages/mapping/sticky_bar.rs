//! The sticky bar under the mapping table: whether edits are unsaved, Reset, Submit, and what
//! the last Submit answered.

use domain::mapping::MappingIssue;
use leptos::ev::MouseEvent;
use leptos::prelude::*;

use super::Busy;
use crate::components::save_outcome::SaveOutcome;

pub(super) fn sticky_bar(
    dirty: Memo<bool>,
    busy: RwSignal<Busy>,
    status: RwSignal<Option<(bool, String)>>,
    errors: RwSignal<Vec<MappingIssue>>,
    reset: impl Fn(MouseEvent) + Send + Sync + 'static,
    submit: impl Fn(MouseEvent) + Send + Sync + 'static,
) -> AnyView {
    let busy_now = move || busy.get() != Busy::Idle;
    view! {
        <div class="action-bar">
            <span class="muted small">
                {move || {
                    if dirty.get() {
                        "You have unsaved changes."
                    } else {
                        "All changes are saved."
                    }
                }}
            </span>
            <button
                type="button"
                class="button"
                on:click=reset
                disabled=move || busy_now() || !dirty.get()
            >
                "Reset"
            </button>
            <button
                type="button"
                class="button button-primary"
                on:click=submit
                disabled=busy_now
            >
                {move || if busy.get() == Busy::Saving { "Saving…" } else { "Submit" }}
            </button>
            <SaveOutcome
                status
                invalid=Signal::derive(move || errors.with(Vec::len))
                invalid_rows=".mapping-table tr.row-invalid"
            />
        </div>
    }
    .into_any()
}
