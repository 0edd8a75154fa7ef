//! The module pair selector of the Mapping and Filters pages, and their empty state when no
//! pair is switched on.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::mapping::PairOption;
use crate::components::unsaved::confirm_discard;

/// The module selector of the Mapping and Filters pages: a GET form before hydration, an in-app
/// navigation (asking first about unsaved edits) after.
#[component]
pub fn ModuleSelector(
    pairs: Vec<PairOption>,
    current: String,
    /// The page's path, `/` or `/filters`.
    base: &'static str,
) -> impl IntoView {
    let navigate = use_navigate();
    let selected = current.clone();
    let on_change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if value == current {
            return;
        }
        if confirm_discard() {
            navigate(&format!("{base}?pair={value}"), Default::default());
        } else {
            let select = event_target::<leptos::web_sys::HtmlSelectElement>(&ev);
            select.set_value(&current);
        }
    };
    view! {
        <form method="get" action=base class="module-select">
            <label for="module-pair">"Module"</label>
            <select id="module-pair" name="pair" on:change=on_change>
                {pairs
                    .into_iter()
                    .map(|p| {
                        let is_current = p.key == selected;
                        let text = if p.on {
                            format!("{} ({})", p.label, p.direction)
                        } else {
                            format!("{} (off: review and turn on)", p.label)
                        };
                        view! {
                            <option value=p.key selected=is_current>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button prehydration-only">
                "Show"
            </button>
        </form>
    }
}

/// The empty state when no module pair is switched on (or none is in the plan).
#[component]
pub fn NoModules() -> impl IntoView {
    view! {
        <section class="card empty-state">
            <div class="empty-icon" aria-hidden="true">
                "⇄"
            </div>
            <h2>"No modules to map"</h2>
            <p>
                "Every module is switched off. Choose a sync direction for at least one module in Settings → Sync Direction; its fields then appear here with a sensible default mapping."
            </p>
            <p>
                <a href="/settings">"Go to Settings"</a>
            </p>
        </section>
    }
}
