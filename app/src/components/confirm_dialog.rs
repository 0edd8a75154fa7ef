//! A modal question before a change that matters (a plan change, switching the integration
//! on): the native `<dialog>`, so Escape and the backdrop work and focus stays inside. It says
//! what will happen; nothing happens until the user confirms.

use leptos::prelude::*;

#[component]
#[allow(clippy::needless_pass_by_value)] // the component macro passes `children` by value
pub fn ConfirmDialog(
    /// Open while true; closing (Escape, Cancel) sets it false.
    open: RwSignal<bool>,
    /// The dialog's heading, a question.
    #[prop(into)]
    title: Signal<String>,
    /// The confirm button's label, saying what it does ("Change to Standard").
    #[prop(into)]
    confirm_label: Signal<String>,
    /// Runs on confirm; the dialog closes.
    on_confirm: Callback<()>,
    /// The button is disabled (with `blocked_reason` beside it) while this is true.
    #[prop(optional, into)]
    blocked: Signal<bool>,
    /// Uniquely names the dialog on its page (its id is `{id}`, its heading `{id}-title`).
    id: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let wanted = open.get();
        if let Some(dialog) = dialog.get() {
            if wanted && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !wanted && dialog.open() {
                dialog.close();
            }
        }
    });
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <dialog
            node_ref=dialog
            id=id
            class="details-dialog confirm-dialog"
            aria-labelledby=labelled_by
            on:close=move |_| open.set(false)
        >
            <div class="details-inner">
                <h2 id=title_id>{move || title.get()}</h2>
                {children()}
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=move |_| open.set(false)>
                        "Cancel"
                    </button>
                    <button
                        type="button"
                        class="button button-primary"
                        disabled=move || blocked.get()
                        on:click=move |_| {
                            open.set(false);
                            on_confirm.run(());
                        }
                    >
                        {move || confirm_label.get()}
                    </button>
                </div>
            </div>
        </dialog>
    }
}
